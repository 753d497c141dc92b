// Shared between event_log.cc and event_log_write.cc; not part of the API.
#pragma once

#include <rocksdb/db.h>

#include <boost/unordered/unordered_flat_map.hpp>

#include <functional>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/sha256.h"
#include "core/status.h"
#include "storage/event_log.h"
#include "storage/id_index.h"
#include "storage/merkle_tree.h"

namespace custodian {

// "RocksDB: <what>" with our Status code chosen from RocksDB's.
Status FromRocks(const rocksdb::Status& s, const std::string& context);

// One caller's Append or AppendBatch, queued for the writer thread.
struct EventLog::PendingWrite {
  std::vector<AppendRequest> requests;
  std::vector<std::string> contents;     // CanonicalContent, one per event, in request order
  std::vector<std::string> records;      // EncodeRecord, log fields still zero
  // Per event, the keys-family keys of its blind-index entries (events with a
  // personal part; empty when none has one).
  std::vector<std::vector<std::string>> blind;
  // The tags of the data keys its personal parts were sealed with (KeyVault::Seal):
  // a write sealed with a key the vault has since dropped is refused.
  std::vector<uint64_t> key_tags;
  // What the log held for each event's id: looked up by the caller, brought
  // up to date by the writer (IdIndex::Refresh).
  std::vector<std::optional<IdIndex::Entry>> stored;
  uint64_t ids_generation = 0;
  bool looked_up = false;  // by the caller; else the writer looks them up
  size_t bytes = 0;
  size_t events = 0;
  // Set by the writer when an event of this write repeats one staged earlier in
  // the same round: its fate is that round's.
  bool depends_on_round = false;
  // On a follower: how long a forward waits for a writer (EventLog::ForwardWait).
  EventLog::ForwardWait forward_wait = EventLog::ForwardWait::kWait;
  // How the writer hands the outcome back: to a Submit waiting on the log's
  // completion condition (`waiter`, guarded by done_mu_), to a callback
  // (`then`, AppendBatchThen), else the promise.
  struct Waiter {
    std::optional<Result<std::vector<AppendResult>>> outcome;  // set when finished
    bool finished = false;
  };
  Waiter* waiter = nullptr;
  std::function<void(Result<std::vector<AppendResult>>)> then;
  std::promise<Result<std::vector<AppendResult>>> done;

  // A round of the log of record (EventLog::ApplyRound): its writes are
  // queued together, the first carrying the round's facts, and make one
  // round of their own with the writer's recorded_at and positions.
  struct Pinned {
    uint64_t epoch = 0;
    uint64_t sequence = 0;
    uint64_t first_position = 0;
    uint64_t end_position = 0;
    Timestamp recorded_at;
    Hash256 root{};
    size_t writes = 0;  // how many ops of the queue, this one first, are the round
    bool passed_over = false;  // no round of this cluster (PassOverMessage): void
  };
  std::shared_ptr<const Pinned> pinned;  // on the round's first op only
};

// The meta key of the last sequence of the log of record written here.
inline constexpr char kMetaAppliedSequenceKey[] = "cluster/sequence";
// ... and of the newest writer's epoch seen in it.
inline constexpr char kMetaEpochKey[] = "cluster/epoch";

// Hashes std::string and std::string_view alike, so that maps keyed by
// std::string are searched with a view and nothing is copied.
struct StreamNameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// Next version of each stream. The writer's maps of one round are keyed by
// views of the requests' stream names, which outlive the round.
using StreamNextMap = boost::unordered_flat_map<std::string, uint64_t, StreamNameHash, std::equal_to<>>;
using StreamNextViews = boost::unordered_flat_map<std::string_view, uint64_t, StreamNameHash>;

// A round written to RocksDB, waiting for the syncer: its callers, their
// outcomes, and the log's end once it is on disk.
struct EventLog::WrittenRound {
  std::vector<std::unique_ptr<PendingWrite>> ops;
  std::vector<Result<std::vector<AppendResult>>> outcomes;
  uint64_t end = 0;
  uint64_t sequence = 0;  // of the log of record, readable with the end (replica logs)
};

struct EventLog::WriterState {
  // The end of what the writer has written: ahead of end() by the rounds
  // the syncer has not synced yet.
  uint64_t written_end = 0;
  // Next version of each stream seen so far (0 = no events). Filled lazily.
  StreamNextMap stream_next;
  Timestamp last_recorded_at;
  uint64_t stream_count = 0;
  MerkleFrontier frontier;  // the tree over every committed event
  // Rule state read or written so far (nullopt: known to be absent).
  std::unordered_map<std::string, std::optional<std::string>> rule_cache;
  uint64_t applied_sequence = 0;  // of the log of record (replica logs)
  uint64_t epoch = 0;             // the newest writer's epoch in it
  std::chrono::steady_clock::time_point last_checkpoint_time;
  uint64_t last_checkpoint_size = 0;
};

}  // namespace custodian
