// EventLog: the append-only event log on RocksDB (DESIGN.md, Storage).
//
// Durability. With Sync::kYes (the default) an Append that returns success has
// been written to RocksDB's write-ahead log and fsynced: it survives kill -9
// and power loss. Appends from all threads go to one writer thread, which
// takes everything queued (up to max_batch_bytes / max_batch_events), checks
// it, and writes it as one RocksDB WriteBatch (group commit). A second
// thread, the syncer, fsyncs the write-ahead log once for every round
// written since its last sync, and only then publishes the new end and
// answers those rounds' callers; meanwhile the writer goes on with the next
// round. Reads stop at the published end, so they never see an event that
// is not on disk yet.
// If a write or sync fails, the log stops accepting appends until it is
// reopened: a write that may or may not be on disk is reported as an
// IoError, never as success, and nothing after it is accepted.
//
// Atomicity. The events of one Append (or of all requests of one
// AppendBatch) are written together or not at all.
//
// Idempotency. An event id seen before with the same content (core/canonical.h)
// is the same event: it is not written again and its original position is
// returned. The same id with other content is a Conflict. A batch that repeats
// an id within itself is InvalidArgument.
//
// Threading. Every method is thread-safe. Reads see every append that has
// returned success; they never see part of a batch.
//
// Modes. One process opens a store read-write (RocksDB's lock). Any number of
// processes may open it read-only at the same time, as RocksDB secondary
// instances; a read-only log sees new appends after CatchUp().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/event.h"
#include "core/note.h"
#include "core/personal.h"
#include "core/rules.h"
#include "core/sha256.h"
#include "core/status.h"
#include "core/stream_map.h"
#include "core/time.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Env;
class WriteBatch;
}  // namespace rocksdb

namespace custodian {

// What the appender expects the stream to look like before its events land.
class ExpectedVersion {
 public:
  enum class Kind { kAny, kNoStream, kExactly };

  static ExpectedVersion Any() { return ExpectedVersion(Kind::kAny, 0); }
  // The stream must not exist yet.
  static ExpectedVersion NoStream() { return ExpectedVersion(Kind::kNoStream, 0); }
  // The stream's last event must have version `v`.
  static ExpectedVersion Exactly(StreamVersion v) { return ExpectedVersion(Kind::kExactly, v.value()); }

  Kind kind() const { return kind_; }
  StreamVersion version() const { return StreamVersion(version_); }
  std::string ToString() const;  // "any", "no stream", "version 7"

 private:
  ExpectedVersion(Kind k, uint64_t v) : kind_(k), version_(v) {}
  Kind kind_;
  uint64_t version_;
};

// Events for one stream; every event's `stream` must equal `stream`.
struct AppendRequest {
  std::string stream;
  ExpectedVersion expected = ExpectedVersion::Any();
  std::vector<Event> events;
};

struct AppendResult {
  // One entry per event of the request, in order. For an event that was
  // already in the log, its original position and version.
  std::vector<Position> positions;
  std::vector<StreamVersion> versions;
  size_t written = 0;  // events newly written; the rest were already present
};

// Whether `path` (absolute, with no links) names one of the files the key
// directory of `master_key_file` holds (the master key and its rotation's
// siblings, the blind index's key, the erasure list, the retired keys), which
// no command may write over.
bool IsKeyDirectoryFile(const std::string& master_key_file, const std::string& path);
// Whether `path` is a Custodian key file (any store's master or blind-index
// key, current or retired): its first line is the key files' header.
bool IsCustodianKeyFile(const std::string& path);
// Whether `dir` holds a Custodian store (its marker file, as the store wrote it).
bool IsCustodianStore(const std::string& dir);

enum class Sync { kYes, kNo };
enum class CreateIfMissing { kYes, kNo };
enum class Direction { kForward, kBackward };

struct EventLogOptions {
  enum class Mode { kReadWrite, kReadOnly };
  Mode mode = Mode::kReadWrite;
  CreateIfMissing create = CreateIfMissing::kNo;
  Sync sync = Sync::kYes;                 // kNo only for benchmarks and tests
  Clock* clock = nullptr;                 // recorded_at source; SystemClock() when null
  rocksdb::Env* env = nullptr;            // for fault injection; RocksDB's default when null
  size_t max_batch_bytes = 4 << 20;       // one group commit takes at most this much
  size_t max_batch_events = 20'000;       // ... and at most this many events
  // The ids of this many events are held in memory before they are written
  // to the ids family as one table file (storage/id_index.h).
  size_t id_spill_at = 1 << 18;
  // The blind index's entries (people found by e-mail, phone, name) held in
  // memory before they are written to the keys family as one table file
  // (storage/key_vault.h, IndexWritten).
  size_t blind_spill_at = 1 << 15;

  // When a new store is created: the origin line of its checkpoints and the
  // name of its Ed25519 checkpoint key, e.g. "crm.example.com/audit".
  std::string origin = "custodian.local/log";
  // Sign a checkpoint this often while the log grows, and once more on
  // closing if events came after the last one (0: only on demand). A
  // read-write Open with an interval fails (FailedPrecondition) when the
  // store cannot sign (SignCheckpoint says when).
  std::chrono::milliseconds checkpoint_interval{0};

  // The master key file, kept outside the store; beside it the blind
  // index's key and the list of erasures (storage/key_vault.h). Empty: no
  // personal data can be sealed or opened; everything else works. A store
  // opened read-write where there is no such file gets one made, unless the
  // store already names a master key (then it is missing, not new).
  std::string master_key_file;

  // The append rules (core/rules.h: CheckRules), checked by the writer for
  // each new event in log order; a write with an event that breaks one is
  // refused whole (RuleViolation). Storage knows nothing of what they
  // mean; the command line and the server always set CheckRules. Null: none.
  std::function<Status(const Event&, RuleState&)> rules;

  // Past one machine (cluster/, docs/scale-out.md): this store is one node's
  // copy of a log of record kept elsewhere. Appends are refused
  // (Unavailable) unless a replicator is set (SetReplicator: this node is
  // the partition writer); the rounds of the log of record come in through
  // ApplyRound.
  bool replica = false;
};

// The Merkle tree over the first `size` events (DESIGN.md, Tamper evidence).
struct TreeHead {
  uint64_t size = 0;
  Hash256 root{};
};

// What Verify found. `ok` is false at the first disagreement, which
// `problem` names with its evidence (position, expected and found hash), or
// when RocksDB could not read what is stored: then `error` holds why
// (IoError, Corruption) and `problem` its message. Either way the counts
// say how far verification got.
struct VerifyReport {
  bool ok = true;
  std::string problem;
  Status error;                      // a storage error stopped verification
  uint64_t events = 0;               // events checked (that agreed)
  uint64_t streams = 0;              // distinct streams of those events
  uint64_t checkpoints = 0;          // stored checkpoints checked
  uint64_t map_notes = 0;            // stored stream map notes checked (rebuilt and compared)
  bool read_all = false;             // every event was read and hashed, so `head` is known
  TreeHead head;                     // the recomputed tree, once read_all
};

// Called now and then during long work with (done, total).
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

struct StreamInfo {
  std::string stream;
  uint64_t event_count = 0;
  StreamVersion last_version;  // meaningful when event_count > 0
  Position first_position, last_position;
  Timestamp first_recorded_at, last_recorded_at;
  Timestamp first_occurred_at, last_occurred_at;
};

struct LogStats {
  uint64_t event_count = 0;   // == next position to be assigned
  uint64_t stream_count = 0;
  Timestamp first_recorded_at, last_recorded_at;  // meaningful when event_count > 0
  uint64_t disk_bytes = 0;    // everything under the store's directory
};

class EventLog;
class ForwardPool;
class IdIndex;
class KeyVault;

// The append rules (EventLogOptions::rules) applied to events one after
// another from the state committed when the dry run began, writing nothing:
// for an importer that checks a whole file, as the writer would apply it,
// before its first write. Check either accepts an event, and later events
// see its effect, or refuses it and changes nothing. Events must come in the
// order they would be written, with the position the writer would give them
// (messages name it). Meaningful while nothing else writes: the caller holds
// the store read-write. Not thread-safe; must not outlive its log.
class RuleDryRun {
 public:
  // `checked_before(id)`: whether an event with this id was accepted earlier
  // in this run (for the rules that ask whether a corrected event exists);
  // the caller usually knows already. Null: the dry run keeps the ids itself.
  // `find_checked(id)`: that event, with the position it was checked at (for
  // rule 'fix', which reads the event a fix names), or nullopt when it was
  // not accepted in this run; the run keeps no events itself, so without it
  // a fix of an event accepted earlier in the run is checked only at the
  // write.
  using FindChecked = std::function<Result<std::optional<Event>>(const EventId&)>;
  RuleDryRun(const EventLog& log, std::function<bool(const EventId&)> checked_before,
             FindChecked find_checked = nullptr);
  ~RuleDryRun();
  RuleDryRun(const RuleDryRun&) = delete;
  RuleDryRun& operator=(const RuleDryRun&) = delete;

  // Ok, or what the writer would refuse the event with (RuleViolation,
  // InvalidArgument) or a storage error.
  Status Check(const Event& e);

 private:
  class State;
  std::unique_ptr<State> state_;
};

// A cursor over the log that first catches up over stored events and then
// follows new appends, with no gap and no duplicate at the switch: it reads
// only stored events, in position order, and waits for the log's end to move.
// A slow subscriber never blocks writers. Must be destroyed before its log.
// Not thread-safe, except Cancel().
class Subscription {
 public:
  ~Subscription();

  // Returns the next events in log order (at most `max_events`), waiting up to
  // `timeout` for one to arrive. Empty on timeout or after Cancel().
  Result<std::vector<Event>> Next(std::chrono::milliseconds timeout, size_t max_events = 512);

  // The position the next delivered event will have at least.
  Position cursor() const { return cursor_; }

  // Wakes a waiting Next(); later calls return empty at once. Thread-safe.
  void Cancel();

 private:
  friend class EventLog;
  Subscription(EventLog* log, Position from, std::optional<std::string> stream);

  EventLog* log_;
  Position cursor_;
  std::optional<std::string> stream_;
  std::optional<StreamVersion> stream_next_;  // next version to read, once located
  std::atomic<bool> cancelled_{false};
};

class EventLog {
 public:
  // Opens the store in `dir`, creating it when options.create is kYes and the
  // directory is missing or empty. A directory that is not a Custodian store,
  // or one written by a newer format, is refused (Unsupported) and left
  // untouched. A store that another process holds read-write is refused with
  // Unavailable (it may open later).
  static Result<std::unique_ptr<EventLog>> Open(const std::string& dir, const EventLogOptions& options);
  // Whether another process holds the store in `dir` read-write right now
  // (RocksDB's lock on its LOCK file), without trying to take it: for a
  // caller that waits for the writer to finish. Not this process's own logs.
  static bool HeldByAnotherProcess(const std::string& dir);

  // Finishes every queued append, then closes the store.
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Appends `events` to `stream` atomically when the stream is as `expected`.
  // Errors: InvalidArgument (an event fails ValidateEvent, names another
  // stream, or an id repeats in the batch; nothing written), Conflict (stale
  // expected version, naming the current one; or an id already used with
  // other content), FailedPrecondition (read-only, or stopped after a failed
  // write), IoError (the write failed: the log stops).
  Result<AppendResult> Append(std::string stream, std::vector<Event> events,
                              ExpectedVersion expected = ExpectedVersion::Any());

  // Appends several requests, possibly to different streams, as one atomic
  // batch: all succeed or none is written. Results are in request order.
  Result<std::vector<AppendResult>> AppendBatch(std::vector<AppendRequest> requests);
  // On a follower of a cluster, how long an append forwarded to the writer
  // waits for one: kWait (forward_timeout: a writer may be taking over) or
  // kBrief (about a second: a record of a read, which the caller spools
  // when no writer answers, rather than keep the reader waiting).
  enum class ForwardWait { kWait, kBrief };
  Result<std::vector<AppendResult>> AppendBatch(std::vector<AppendRequest> requests, ForwardWait wait);

  // As AppendBatch, but returns at once: the future holds the result once
  // the batch is on disk (or refused). Batches one thread submits are
  // written in submission order, so an importer can check the next batch
  // while the log writes this one.
  std::future<Result<std::vector<AppendResult>>> AppendBatchAsync(std::vector<AppendRequest> requests);

  // As AppendBatch, but returns at once and hands the outcome to `done`:
  // at once on this thread when the appends are refused before they are
  // queued, else later on the log's own thread once they are durable (or
  // failed). `done` must be short and must not append and wait: it holds
  // up the completion of other writes. For servers, whose threads must not
  // wait for a group commit. On a follower of a cluster, `done` is called
  // on a forwarding thread once the writer answered (SetForwarder).
  void AppendBatchThen(std::vector<AppendRequest> requests,
                       std::function<void(Result<std::vector<AppendResult>>)> done);

  // Up to `limit` events of `stream`, starting at version `from` and going
  // forwards or backwards. Empty when the stream does not exist or `from` is
  // past its end.
  Result<std::vector<Event>> ReadStream(std::string_view stream, StreamVersion from, Direction direction,
                                        size_t limit) const;

  // Up to `limit` events from position `from` on, in log order.
  Result<std::vector<Event>> ReadAll(Position from, size_t limit) const;

  // Calls `visit` for every event from `from` to the end as of the call, in
  // order, until it returns false. Reads without filling the block cache.
  Status ScanAll(Position from, const std::function<bool(const Event&)>& visit) const;

  // NotFound when the stream has no events.
  Result<StreamInfo> GetStreamInfo(std::string_view stream) const;

  // Whether an event with this id is in the log.
  Result<bool> Contains(const EventId& id) const;
  // Where the event with this id is, if it is in the log.
  Result<std::optional<Position>> PositionOf(const EventId& id) const;
  // The event with this id as stored (personal part sealed); nullopt when
  // the log does not hold it.
  Result<std::optional<Event>> FindCommitted(const EventId& id) const;
  // The same for many ids at once (one batched lookup), in the order given.
  Result<std::vector<std::optional<Position>>> PositionsOf(std::span<const EventId> ids) const;

  // What the append rules (EventLogOptions::rules) would say of `events`,
  // in order, against the state committed so far; writes nothing. For a
  // caller that holds the store read-only and keeps events to append later.
  Status CheckRules(std::span<const Event> events) const;

  Result<LogStats> Stats() const;

  // The position the next appended event will get: the number of events.
  Position end() const { return Position(end_.load(std::memory_order_acquire)); }

  // Events from `from` on, of all streams or only `stream`.
  std::unique_ptr<Subscription> Subscribe(Position from, std::optional<std::string> stream = std::nullopt);

  // Read-only logs: picks up what the writer process has committed since.
  // A no-op for a read-write log.
  Status CatchUp();

  // --- Tamper evidence (DESIGN.md; docs/event-format.md, "merkle") ---
  //
  // The writer extends the Merkle tree in the same WriteBatch as the events,
  // storing every complete subtree hash, so each call below reads O(log n)
  // nodes. Leaf i is LeafHash of the event at position i (core/canonical.h).

  // The tree over every event committed so far.
  Result<TreeHead> Head() const;
  // The root of the first `size` events; InvalidArgument past the end.
  Result<Hash256> RootAt(uint64_t size) const;
  // Proof that the event at `position` is leaf `position` of the tree of
  // `tree_size` events (RFC 9162 2.1.3).
  Result<std::vector<Hash256>> InclusionProof(Position position, uint64_t tree_size) const;
  // Proof that the tree of `from` events is a prefix of the tree of `to`.
  Result<std::vector<Hash256>> ConsistencyProof(uint64_t from, uint64_t to) const;

  // --- Personal data (DESIGN.md, Personal data and erasure; core/personal.h) ---
  //
  // An appended event's personal_plain is sealed under its subject's key
  // before it is written; the record holds only the sealed part.

  // What a read of an event's personal part gives.
  struct PersonalView {
    enum class State {
      kNone,         // the event has no personal part
      kOpen,         // opened: `json` holds it
      kErased,       // its subject was erased: `erased_position`, `erased_reason`
      kUnavailable,  // no master key: `why`
    };
    State state = State::kNone;
    std::string json;
    std::optional<uint64_t> erased_position;
    std::string erased_reason;
    std::string why;
  };
  // Opens `e`'s personal part. An error only for a part that does not open
  // (altered, or moved from another event) or a storage failure. A read-only
  // log sees erasures the writer made once it has caught up (CatchUp), and
  // treats the erasures listed beside the master key as made even where the
  // store has not made them yet (a restored backup: the next read-write open
  // makes them).
  Result<PersonalView> OpenPersonal(const Event& e) const;
  // The personal part as a reader sees it, a JSON object: the opened fields;
  // {"erased":{"position":P,"reason":"..."}} after erasure;
  // {"sealed_for":"<subject>","unavailable":"<why>"} without the master key.
  // Empty when the event has none. Errors as OpenPersonal.
  Result<std::string> PersonalJson(const Event& e) const;
  // `e` with PersonalJson in its personal_plain, for printing (EventToJson).
  Status ShowPersonal(Event& e) const;
  // Ok when personal data can be sealed and opened; otherwise says why (no
  // master key, a wrong one).
  Status PersonalStatus() const;
  // The subjects whose email, phone or name normalises as `value` does.
  Result<std::vector<std::string>> FindSubjects(BlindKind kind, std::string_view value) const;
  // Destroys `subject`'s data key and blind-index entries (recording the
  // erasure beside the master key first), then removes every copy from the
  // store's files: all families flushed (the write-ahead logs that held the
  // key become obsolete and are deleted), the keys family compacted to its
  // last level. `position` is that of the subject.erased event that
  // records it. Read-write only.
  Status DestroySubjectKey(const std::string& subject, uint64_t position, const std::string& reason);
  // Re-wraps every data key under a new master key: (1) the new key written
  // to master.key.new; (2) one synced batch wraps every key under both keys;
  // (3) master.key becomes master.key.old and master.key.new master.key;
  // (4) one batch keeps only the new wrappings, the old key file is deleted,
  // the old wrappings purged. Cut short anywhere, every key opens with the
  // old key (before 2) or with either (after 2), and running it again
  // finishes it. `pause(step)` is called after steps 1-3 (tests kill there).
  // Returns how many keys it re-wrapped.
  Result<size_t> RotateMasterKey(const std::function<void(std::string_view step)>& pause = nullptr);

  // Erasures the last read-write open made again: listed beside the master
  // key (a backup taken before them was restored) or committed by the log
  // but not finished (a crash between the event and the key's destruction).
  size_t erasures_reapplied() const { return erasures_reapplied_; }
  // Data keys this open found wrapped with a master key a rotation retired
  // (a backup made before it) and re-wrapped under the one in force.
  size_t keys_rewrapped() const;
  // Whether the store holds anyone's sealed data or erasure (a data key or
  // an erased marker in the keys family), whether or not its master key was
  // given. IoError when the family cannot be read.
  Result<bool> HoldsPersonalData() const;

  // The rule state records whose names start with `prefix` ("holds/",
  // "erased/"; core/rules.h), as committed: (name without the prefix, value).
  Result<std::vector<std::pair<std::string, std::string>>> RuleRecords(std::string_view prefix) const;
  // One rule state record ("token/tok-1", "staff/staff-7"), as committed; nothing when absent.
  Result<std::optional<std::string>> RuleRecord(std::string_view name) const;

  // --- Backup (storage/event_log_backup.cc) ---
  //
  // Writes a consistent copy of the store to `dir`, which must not exist:
  // RocksDB's checkpoint of every family (table files hard-linked when on the
  // same file system, the write-ahead log copied) and the store's own files
  // (the marker, the checkpoint key, the secrets file, the access spool),
  // owner-only. The master key and the key directory are not copied: a backup
  // alone opens no personal data. Returns the number of events it holds.
  Result<uint64_t> CopyTo(const std::string& dir) const;

  // The checkpoint key's public half: the published log.vkey (or, in a
  // store without one, log.key's public half); null for a store that has none.
  const note::VerifierKey* verifier() const { return verifier_.get(); }
  // Signs the current head as a C2SP checkpoint, stores it and returns the
  // signed note. FailedPrecondition, with nothing written, when read-only,
  // without a signing key (log.key), with a key file others may read, or
  // with a key that is not the private half of the published log.vkey (its
  // checkpoints would never verify); the message names the file and the fix.
  Result<std::string> SignCheckpoint();
  // Ok when SignCheckpoint can sign; else why not, as it would say.
  Status CanSign() const;
  // Whether the store in `dir` could sign checkpoints, by the rules above;
  // reads only its key files. NotFound when it has no log.key.
  static Status CheckSigningKey(const std::string& dir);
  // Every stored checkpoint note, by tree size, oldest first.
  Result<std::vector<std::string>> Checkpoints() const;
  // The newest stored checkpoint note; nullopt when none.
  Result<std::optional<std::string>> LatestCheckpoint() const;
  // Keeps witnesses' cosignature lines ("— <name> <base64>\n", checked by
  // the caller) with the stored checkpoint of `size`, after its own
  // signature and any lines kept before; a line it holds already is not
  // added twice. Returns how many were added. NotFound when no checkpoint of
  // that size is stored; FailedPrecondition when the note already holds
  // kMaxCosignedNoteBytes (lines past that are not kept).
  static constexpr size_t kMaxCosignedNoteBytes = 16 << 10;
  Result<size_t> AddCosignatures(uint64_t size, const std::vector<std::string>& lines);

  // --- A witness (docs/scale-out.md; C2SP tlog-cosignature) ---
  //
  // This store cosigns a checkpoint (a signed note of any origin: the
  // cluster's writer signs its own) when its own tree at that size has the
  // checkpoint's root, and still has the root of the last checkpoint of the
  // same origin it cosigned, which must not be larger: the log only grew. Returns the
  // cosignature line, by the cosigner name "<the store's key name>/witness"
  // with the store's checkpoint key, at `now`. Unavailable when the store
  // does not hold that size yet; FailedPrecondition, naming both roots, when
  // the checkpoint is not of this log or older than the last one cosigned.
  Result<std::string> Cosign(std::string_view signed_checkpoint, Timestamp now);
  // This store's cosigner: its name and public key, "<name>+<key id>+<base64(0x04 ‖ key)>".
  Result<std::string> CosignerKey() const;

  // --- The stream map (storage/event_log_map.cc, core/stream_map.h) ---
  //
  // Each checkpoint SignCheckpoint signs comes with a signed map note of the
  // same size: the stream map's root bound to the log's size and root, so a
  // bundle can prove it holds every event of its stream. Checkpoints signed
  // before the map existed have none.
  // The signed map note of the checkpoint of `size`; nothing when none.
  Result<std::optional<std::string>> MapNote(uint64_t size) const;
  // Every stored map note, by tree size, oldest first.
  Result<std::vector<std::string>> MapNotes() const;
  // The proof of `stream`'s summary (or absence) under the map note of `size`.
  // NotFound when no map note of that size is stored.
  Result<streammap::Proof> StreamMapProof(std::string_view stream, uint64_t size) const;

  // Recomputes every leaf from the stored records and checks them against
  // the stored tree, every stored checkpoint's root and signature, and the
  // streams and ids indexes against the events. Reads without filling the
  // cache. Always a report: a found disagreement, or a storage error that
  // stopped it (VerifyReport::error), is a report with ok == false.
  [[nodiscard]] VerifyReport Verify(const ProgressFn& progress = nullptr) const;

  // --- Projection state (replay/projection.h drives these) ---
  //
  // Each projection owns the keys under its name in the `projections` family
  // and a checkpoint: the position it has folded up to. A commit writes state
  // changes and the new checkpoint in one WriteBatch, so after a crash the two
  // always agree and no event is folded twice or lost (exactly once). Commits
  // are not synced: projections can be rebuilt from the log.

  // A change to one key: a value to put, or nullopt to delete.
  using ProjectionChanges = std::vector<std::pair<std::string, std::optional<std::string>>>;

  Result<std::optional<std::string>> ProjectionGet(std::string_view projection, std::string_view key) const;
  // Calls `visit(key, value)` for the projection's keys starting with
  // `prefix`, in key order, until it returns false.
  Status ProjectionScan(std::string_view projection, std::string_view prefix,
                        const std::function<bool(std::string_view, std::string_view)>& visit) const;
  // The position the projection has folded up to (0 when never run).
  Result<Position> ProjectionCheckpoint(std::string_view projection) const;
  // The version of the encoding the projection's stored state is in, as its
  // last commit said (replay/projection.h: Projection::state_version): 1 for
  // state committed before versions were kept, and when never run.
  Result<uint32_t> ProjectionStateVersion(std::string_view projection) const;
  // Writes `changes`, the new checkpoint and the state's encoding version in
  // one WriteBatch.
  Status ProjectionCommit(std::string_view projection, const ProjectionChanges& changes, Position checkpoint,
                          uint32_t state_version);
  // Deletes the projection's state and checkpoint, for a rebuild.
  Status ProjectionDrop(std::string_view projection);

  // --- Past one machine (cluster/; storage/replicated_round.h) ---
  //
  // Publishes one round (its encoding) to the log of record as the message
  // after sequence `after`, and returns the sequence it got there, once the
  // log of record has made it durable. An Unavailable error says the round
  // is certainly not there: it is refused whole and nothing is written. Any
  // other error says it may be: the log then stops accepting appends (as
  // after a failed write) until it is reopened and has caught up.
  using Replicator = std::function<Result<uint64_t>(std::string_view round, uint64_t after)>;
  // Makes this replica the writer: each round is published through
  // `publish`, from the writer thread, one at a time, before it is written
  // here, marked with the writer's fencing `epoch` (cluster/lease.h; 0
  // without a lease). Null: a follower again. Only for a replica log, and
  // only once it has applied everything the log of record holds. A writer
  // whose epoch is older than one the store has applied publishes nothing.
  void SetReplicator(Replicator publish, uint64_t epoch = 0);
  // Applies round `sequence` of the log of record (storage/replicated_round.h),
  // running every check a local append gets from the same state, so that the
  // round takes exactly the positions, versions and tree the writer gave it.
  // A sequence applied before is Ok and changes nothing. Corruption when the
  // bytes are not a round; FailedPrecondition, and the log stops, when the
  // round does not come out as the writer said (this node and the log of
  // record disagree: nothing more is applied until an operator looks).
  Status ApplyRound(std::string_view round, uint64_t sequence);
  // Message `sequence` of the log of record is no round of this cluster (its
  // tag does not verify under the cluster key: cluster/cluster_key.h): only
  // its sequence is recorded, as for a round of an older epoch, so every node
  // passes over it alike. It must be the next sequence (FailedPrecondition
  // otherwise); one applied before is Ok and changes nothing.
  Status PassOverMessage(uint64_t sequence);
  // A follower hands appends to the writer through `forward`, which returns
  // once the writer has them: in the caller's thread for AppendBatch, on a
  // pool of up to kForwardThreads threads for AppendBatchThen (a server's
  // I/O thread does not wait for the writer). Null: a follower refuses
  // appends (Unavailable). Returns once the forwards running with the
  // previous forwarder have finished; a queued forward takes the forwarder
  // of when it starts (none: refused at once; a writer now: written here).
  using Forwarder =
      std::function<Result<std::vector<AppendResult>>(std::vector<AppendRequest>& requests, ForwardWait wait)>;
  void SetForwarder(Forwarder forward);
  static constexpr size_t kForwardThreads = 16;
  // The data keys, shared by the nodes of a cluster (docs/scale-out.md,
  // "Personal data on every node"). Records are wrapped under the master
  // key, which every node holds (the same key directory); the log of record
  // never holds a key, since it can never forget one.
  struct KeyShare {
    // The writer shares the keys made since its last round before it
    // publishes the round sealed with them: a round never reaches the log
    // of record before its keys are durable in the share. An error refuses
    // the round (Unavailable).
    std::function<Status(const std::vector<std::pair<std::string, std::string>>& subject_records)> put;
    // A node that applies an event sealed with a key it lacks fetches the
    // key's record (nullopt: none, e.g. the subject was erased since).
    std::function<Result<std::optional<std::string>>(const std::string& subject)> get;
    // Each node that applies a subject's erasure removes its key from the
    // share (the writer first; the others again, harmlessly).
    std::function<Status(const std::string& subject)> erase;
  };
  void SetKeyShare(std::shared_ptr<const KeyShare> share);
  // Each data key record the store holds, by subject: a store that seeds a
  // cluster shares them (KeyShare::put).
  Status ExportKeyRecords(const std::function<Status(const std::string& subject, const std::string& record)>& fn) const;
  // Whether `record` is a data key record of `subject` that this store's
  // master key opens (the key share passes over anything else).
  bool OpensKeyRecord(const std::string& subject, std::string_view record) const;
  // Why the last key fetched from the share could not be used here (empty
  // when none failed): typically another master key than the writer's.
  std::string key_share_problem() const;
  // Waits until the log holds position `position` (end() > position) or
  // `timeout` passes; whether it does.
  bool AwaitPosition(uint64_t position, std::chrono::milliseconds timeout);
  // A store that was one machine's becomes the first node of a cluster: its
  // events, in order, as rounds (storage/replicated_round.h) of at most
  // `max_bytes` (one event more when a single one is bigger), each event
  // keeping its recorded_at. `publish(round, after)` returns the sequence
  // the round got; MarkApplied(last sequence) then ties the store to the
  // stream. Only for a replica store that holds no sequence yet.
  Status ExportRounds(size_t max_bytes, const Replicator& publish) const;
  // Records that the store holds the log of record up to `sequence`
  // (after ExportRounds). FailedPrecondition when it already holds one.
  Status MarkApplied(uint64_t sequence);
  // The log of record's sequence of the last round this store holds (0: none).
  uint64_t applied_sequence() const { return applied_sequence_.load(std::memory_order_acquire); }

  const std::string& dir() const { return dir_; }
  bool read_only() const { return options_.mode == EventLogOptions::Mode::kReadOnly; }
  bool replica() const { return options_.replica; }

 private:
  struct PendingWrite;
  struct RoundState;
  struct WrittenRound;
  friend class Subscription;
  friend class RuleDryRun;
  // The committed rule state of `key` (nullopt: absent).
  Result<std::optional<std::string>> CommittedRule(std::string_view key) const;
  // For the writer's rules: the event with this id as written to RocksDB,
  // including a round whose sync has not finished (not readable yet, but
  // staged before this round, which fails with it). nullopt: not written.
  Result<std::optional<Event>> FindWritten(const EventId& id) const;

  EventLog(std::string dir, const EventLogOptions& options);
  Status OpenDb();
  Status LoadTail();
  // The blind index's entries that are not in the keys family yet, rebuilt
  // from the sealed events after its watermark (KeyVault::SetBlindTail).
  Status LoadBlindTail() const;
  Result<std::vector<AppendResult>> Submit(std::vector<AppendRequest> requests, ForwardWait wait = ForwardWait::kWait);
  std::future<Result<std::vector<AppendResult>>> SubmitAsync(std::vector<AppendRequest> requests);
  // Validates and queues `op` for the writer; returns the outcome instead
  // when nothing was queued (bad input, a closed or failed log, no events).
  std::optional<Result<std::vector<AppendResult>>> Enqueue(std::vector<AppendRequest> requests,
                                                           std::unique_ptr<PendingWrite> op);
  // Hands each op its outcome: Submit's waiters with one wake-up, the rest
  // through their promises.
  void Complete(std::vector<std::unique_ptr<PendingWrite>>& ops, std::vector<Result<std::vector<AppendResult>>>& outcomes);
  Status LookUpIds(std::vector<std::unique_ptr<PendingWrite>>& ops);
  void WriterLoop();
  // `publish`: the writer's replicator for this round (null: none).
  void ProcessRound(std::vector<std::unique_ptr<PendingWrite>>& round, const Replicator* publish, uint64_t epoch);
  // The log stops accepting appends, for `why`.
  void Stop(const std::string& why);
  // Hands a written round to the syncer, or completes it now without sync.
  void FinishRound(std::vector<std::unique_ptr<PendingWrite>>& ops,
                   std::vector<Result<std::vector<AppendResult>>>& outcomes, uint64_t end);
  void DestroyErasedKeys(const RoundState& round, const std::vector<size_t>& erasures_of,
                         std::vector<Result<std::vector<AppendResult>>>& outcomes);
  void SyncerLoop();
  void SyncRounds(std::vector<WrittenRound>& rounds);
  Status StageWrite(PendingWrite& op, RoundState& round, std::vector<AppendResult>* results);
  Result<uint64_t> LoadStreamNext(const std::string& stream);
  Status ReadPositions(const std::vector<uint64_t>& positions, std::vector<Event>* out) const;
  void PublishEnd(uint64_t end);
  void MaybeSignCheckpoint();
  // Brings the stream map from where it stands up to tree size `size`,
  // staging the new nodes and summaries in `batch`; returns its root there.
  // Called with sign_mu_ held.
  Result<Hash256> CatchUpStreamMap(uint64_t size, rocksdb::WriteBatch& batch);
  static std::string MapNoteKey(uint64_t size);
  Status LoadOrCreateKeys(bool creating);
  // Loads the key vault (options_.master_key_file), or notes in vault_problem_ why not;
  // re-applies the erasures listed beside the master key. Errors only for
  // storage failures.
  Status OpenVault();
  Result<Hash256> ReadNode(uint8_t level, uint64_t index) const;
  std::optional<std::string> FindStreamIndexProblem() const;
  std::optional<std::string> FindIdIndexProblem(uint64_t indexed_to) const;
  // Waits until end() > `past` or the timeout passes or `cancelled` is set.
  void WaitForEnd(uint64_t past, std::chrono::milliseconds timeout, const std::atomic<bool>& cancelled);

  const std::string dir_;
  const EventLogOptions options_;
  Clock* clock_;
  std::string secondary_dir_;  // read-only mode's scratch directory
  std::mutex catch_up_mu_;     // read-only mode: one CatchUp at a time

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* events_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* ids_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* merkle_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* projections_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* keys_cf_ = nullptr;  // null on a read-only open of a store that has none
  std::unique_ptr<KeyVault> vault_;
  size_t erasures_reapplied_ = 0;
  Status vault_problem_;  // why vault_ is null
  std::unique_ptr<note::SigningKey> signer_;
  std::mutex sign_mu_;  // one SignCheckpoint at a time (the stream map moves with it)
  Status signer_problem_;  // why signer_ is null, in a read-write log
  std::unique_ptr<note::VerifierKey> verifier_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;

  // Published end of the log; waiters block on end_cv_.
  std::atomic<uint64_t> end_{0};
  std::mutex end_mu_;
  std::condition_variable end_cv_;

  // The queue between appenders and the writer thread.
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::vector<std::unique_ptr<PendingWrite>> queue_;
  bool stopping_ = false;
  // Where Submit's callers wait for the writer (PendingWrite::waiter).
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::atomic<bool> failed_{false};  // a write failed: refuse appends until reopened
  // Past one machine: the writer's publisher (guarded by queue_mu_), and the
  // last sequence of the log of record written here.
  std::shared_ptr<const Replicator> replicator_;
  uint64_t replicator_epoch_ = 0;
  std::shared_ptr<const Forwarder> forwarder_;
  mutable std::mutex key_share_mu_;
  std::shared_ptr<const KeyShare> key_share_;  // guarded by key_share_mu_
  std::string key_share_problem_;             // guarded by key_share_mu_
  std::atomic<uint64_t> applied_sequence_{0};
  std::string failure_;              // why, guarded by queue_mu_

  // Rounds the writer has written but not synced (Sync::kYes), oldest first.
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::vector<WrittenRound> unsynced_;
  bool syncing_ = false;  // a SyncRounds is running, in the syncer or the writer
  bool syncer_stopping_ = false;
  // Only for the thread running SyncRounds.
  uint64_t synced_end_ = 0;
  std::string sync_failure_;  // once a sync failed, nothing written later is reported on disk
  std::unique_ptr<std::thread> syncer_;

  // The ids family, written behind the log (storage/id_index.h).
  std::unique_ptr<IdIndex> id_index_;

  // Writer thread only.
  struct WriterState;
  std::unique_ptr<WriterState> writer_state_;
  std::unique_ptr<std::thread> writer_;
  // A follower's forwarded appends (AppendBatchThen), off the caller's
  // thread; made when the store is a replica (storage/forward_pool.h).
  std::unique_ptr<ForwardPool> forward_pool_;
};

}  // namespace custodian
