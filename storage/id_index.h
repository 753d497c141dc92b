// The `ids` family, written behind the log (docs/event-format.md, "ids").
//
// Every event id maps to its position, so that an append can be retried
// (same id, same content: the original position) and an id never names two
// events; the writer compares a retry's content with the event stored there.
// Ids are random: written in each group commit they were a memtable of random
// keys, which a flush must sort, and which took a fifth of an import's time
// on two cores. So the writer does not put them in
// its WriteBatch. The ids of the events from indexed_to() on are held here,
// in memory; when there are `spill_at` of them, a background thread writes
// them sorted into one table file that RocksDB ingests into the family, and
// then moves the watermark `meta["ids_indexed_to"]` past them.
//
// Nothing is lost in a crash: the events hold their ids, and Load rebuilds
// the in-memory part from the events at the watermark and after. Closing a
// read-write log writes the in-memory part to the family, so the next open
// has nothing to rebuild.
//
// Thread-safe: one writer thread calls Add; any thread may Find.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/sha256.h"
#include "core/status.h"
#include "core/types.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
struct ReadOptions;
}  // namespace rocksdb

namespace custodian {

class IdIndex {
 public:
  struct Entry {
    Position position;
  };
  using Visit = std::function<void(const EventId&, const Entry&)>;
  // Calls `visit` for every event from position `from` to the log's end.
  using ScanFn = std::function<Status(uint64_t from, const Visit& visit)>;

  // `dir` is the store's directory (table files are made there before
  // RocksDB takes them in). A read-only index loads on its first lookup.
  IdIndex(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* ids, rocksdb::ColumnFamilyHandle* meta, std::string dir,
          size_t spill_at, bool read_only, ScanFn scan);
  // Stops the background thread; call Close first to keep what is in memory.
  ~IdIndex();
  IdIndex(const IdIndex&) = delete;
  IdIndex& operator=(const IdIndex&) = delete;

  // Reads the watermark and rebuilds the in-memory part from the events; a
  // read-write index then starts its background thread.
  Status Load();
  // Read-only: forget the in-memory part (the log moved on); the next
  // lookup loads it again.
  void Invalidate();

  // For each id, its entry when the log holds it. `generation`, when given,
  // receives the state of the in-memory part that was looked at.
  Status Find(std::span<const EventId> ids, std::vector<std::optional<Entry>>* found,
              uint64_t* generation = nullptr);
  // Brings an earlier Find of the same ids up to date with what was added
  // since: the writer thread checks only memory, unless a spill finished
  // since `generation` (then it looks everything up again).
  Status Refresh(std::span<const EventId> ids, uint64_t generation, std::vector<std::optional<Entry>>* found);
  Result<std::optional<Entry>> Find(const EventId& id);

  // The writer thread, once a round is written (perhaps not yet synced: a
  // spill syncs the write-ahead log before it writes): its ids, and the log's
  // new end. Waits for the background thread only when it is a whole spill
  // behind. An error means an earlier spill failed: the log must stop.
  Status Add(const std::vector<std::pair<EventId, Entry>>& ids, uint64_t end);

  // Writes what is held in memory to the family (closing a read-write log).
  Status Close();

  // What the family holds: every event below this position, in meta.
  static Result<uint64_t> ReadWatermark(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta,
                                        const rocksdb::ReadOptions& ro);

 private:
  // Open addressing: one allocation per map instead of one per id, and a
  // miss (nearly every lookup of an import) touches one cache line.
  using Map = boost::unordered_flat_map<EventId, Entry, EventIdHash>;
  Status EnsureLoaded();
  Status LoadLocked();
  void SpillLoop();
  // Puts `entries` in the family and moves the watermark to `to`.
  Status Write(const Map& entries, uint64_t to, bool ingest);

  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const ids_;
  rocksdb::ColumnFamilyHandle* const meta_;
  const std::string dir_;
  const size_t spill_at_;
  const bool read_only_;
  const ScanFn scan_;

  std::shared_mutex mu_;
  std::condition_variable_any cv_;
  bool loaded_ = false;
  Map recent_;          // events from spilling_to_ (or the watermark) on
  Map spilling_;        // being written by the background thread
  uint64_t spilling_to_ = 0;
  uint64_t recent_to_ = 0;
  uint64_t generation_ = 0;  // finished spills
  bool stopping_ = false;
  Status failure_;      // a failed spill
  std::thread spiller_;
};

}  // namespace custodian
