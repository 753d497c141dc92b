// Projections: folds over the log (DESIGN.md, Projections and replay).
//
// A projection is a fold, state + events -> state, where the state is a set
// of key/value pairs in the projection's own encoding. The ProjectionEngine
// runs each projection from its checkpoint and commits the changed keys
// together with the new checkpoint in one WriteBatch (exactly once across
// crashes: storage/event_log.h, "Projection state"). The same Apply code folds
// an in-memory MemoryState for as-of replays, so a replay can never disagree
// with the stored projection.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "storage/event_log.h"

namespace custodian {

// What a projection reads and writes while it folds. Reads see the writes
// made earlier in the same fold.
class StateView {
 public:
  virtual ~StateView() = default;
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  virtual void Put(std::string key, std::string value) = 0;
  virtual void Delete(std::string key) = 0;
};

// The record a projection stores at `key` in `state` (a StateView, or a
// StateReader), decoded with `decode(text, key)`; a default Record when the
// key holds none.
template <typename Record, typename State, typename Decode>
Result<Record> LoadRecord(State& state, const std::string& key, Decode decode) {
  Result<std::optional<std::string>> stored = state.Get(key);
  if (!stored.ok()) return stored.status();
  if (!*stored) return Record{};
  return decode(**stored, key);
}

// State held in memory: for replays and tests.
class MemoryState final : public StateView {
 public:
  Result<std::optional<std::string>> Get(std::string_view key) override;
  void Put(std::string key, std::string value) override { kv_[std::move(key)] = std::move(value); }
  void Delete(std::string key) override { kv_.erase(key); }
  const std::map<std::string, std::string, std::less<>>& contents() const { return kv_; }

 private:
  std::map<std::string, std::string, std::less<>> kv_;
};

class Projection {
 public:
  virtual ~Projection() = default;
  virtual std::string_view name() const = 0;
  // Folds `events`, which are in log order, into `state`. The same events on
  // the same state always give the same result. A projection may cache
  // decoded state between calls, as long as Forget() drops it.
  virtual Status Apply(std::span<const Event> events, StateView& state) const = 0;

  // Drops any cached state: the stored state is the truth again. The engine
  // calls it when a commit fails and before a rebuild.
  virtual void Forget() const {}

  // The version of the state's encoding, stored with every commit. A
  // projection raises it when state written by the code before could be
  // misread (a field it now needs would read as absent); the engine then
  // rebuilds it from position 0 at its next catch-up rather than fold on
  // that state.
  virtual uint32_t state_version() const { return 1; }
};

// SHA-256 (hex) of a projection's state, key by key in order: two builds of
// a projection agree exactly when their digests do.
std::string StateDigest(const std::map<std::string, std::string, std::less<>>& kv);

class ProjectionEngine {
 public:
  // Commits every `chunk_events` events (larger chunks: fewer state writes).
  explicit ProjectionEngine(EventLog& log, size_t chunk_events = kDefaultChunkEvents);
  ~ProjectionEngine();  // stops the background thread
  ProjectionEngine(const ProjectionEngine&) = delete;
  ProjectionEngine& operator=(const ProjectionEngine&) = delete;

  void Add(std::unique_ptr<Projection> projection);
  const Projection* Find(std::string_view name) const;
  const EventLog& log() const { return log_; }
  std::vector<std::string> Names() const;

  // Folds every projection from its checkpoint to the log's end, committing
  // every chunk. Projections at the same checkpoint share one scan: each
  // event is decoded once and each chunk applied to every one of them.
  // Calls `progress(done, total)` after each chunk. A projection whose
  // stored state is in another version of its encoding
  // (Projection::state_version) is rebuilt from position 0 first.
  Status CatchUp(const ProgressFn& progress = nullptr);

  // Drops the projection's state and folds it again from position 0.
  Status Rebuild(std::string_view name, const ProgressFn& progress = nullptr);

  // Follows the log in a background thread, folding new events as they come.
  void Start();
  void Stop();

  // Makes a catch-up in progress (from any thread) return after the chunk it
  // is folding is committed, and every later one return at once: what was
  // committed stays, and the next engine goes on from there. For a server
  // that must shut down while its follower works through a backlog.
  void Interrupt() { interrupted_.store(true); }

  // Waits until every projection has folded every event before `position`
  // (read your own writes). DeadlineExceeded-like FailedPrecondition on timeout.
  Status WaitFor(Position position, std::chrono::milliseconds timeout);

  // The digest of a projection's stored state (StateDigest).
  Result<std::string> Digest(std::string_view name) const;

  static constexpr size_t kDefaultChunkEvents = 65536;
  static constexpr size_t kChunkEvents = kDefaultChunkEvents;  // for replays that fold in the engine's steps
  size_t chunk_events() const { return chunk_events_; }

 private:
  Status CatchUpOne(const Projection& p, const ProgressFn& progress);
  Result<uint64_t> StartOf(const Projection& p);
  Status CatchUpGroup(const std::vector<const Projection*>& group, uint64_t from, const ProgressFn& progress);
  Position MinCheckpoint() const;

  EventLog& log_;
  const size_t chunk_events_;
  std::vector<std::unique_ptr<Projection>> projections_;
  std::mutex mu_;  // serializes folding; guards checkpoints_
  std::condition_variable folded_;
  std::map<std::string, uint64_t, std::less<>> checkpoints_;
  std::unique_ptr<std::thread> thread_;
  std::unique_ptr<Subscription> waiter_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> interrupted_{false};
};

}  // namespace custodian
