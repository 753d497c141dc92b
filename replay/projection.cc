#include "replay/projection.h"

#include "core/sha256.h"

namespace custodian {
namespace {

// The stored state seen through one fold: writes are kept here until the
// engine commits them with the checkpoint.
class BufferedState final : public StateView {
 public:
  BufferedState(const EventLog& log, std::string_view projection) : log_(log), projection_(projection) {}

  Result<std::optional<std::string>> Get(std::string_view key) override {
    if (auto it = changes_.find(key); it != changes_.end()) return it->second;
    return log_.ProjectionGet(projection_, key);
  }
  void Put(std::string key, std::string value) override { changes_[std::move(key)] = std::move(value); }
  void Delete(std::string key) override { changes_[std::move(key)] = std::nullopt; }

  EventLog::ProjectionChanges TakeChanges() {
    EventLog::ProjectionChanges out(std::make_move_iterator(changes_.begin()), std::make_move_iterator(changes_.end()));
    changes_.clear();
    return out;
  }

 private:
  const EventLog& log_;
  std::string projection_;
  std::map<std::string, std::optional<std::string>, std::less<>> changes_;
};

}  // namespace

Result<std::optional<std::string>> MemoryState::Get(std::string_view key) {
  if (auto it = kv_.find(key); it != kv_.end()) return std::optional<std::string>(it->second);
  return std::optional<std::string>();
}

std::string StateDigest(const std::map<std::string, std::string, std::less<>>& kv) {
  Sha256Hasher h;
  for (const auto& [k, v] : kv) {
    const std::string sizes = std::to_string(k.size()) + ":" + std::to_string(v.size()) + ":";
    h.Update(sizes);
    h.Update(k);
    h.Update(v);
  }
  return HexOf(h.Finish());
}

ProjectionEngine::ProjectionEngine(EventLog& log, size_t chunk_events)
    : log_(log), chunk_events_(std::max<size_t>(1, chunk_events)) {}

ProjectionEngine::~ProjectionEngine() { Stop(); }

void ProjectionEngine::Add(std::unique_ptr<Projection> projection) {
  std::lock_guard lk(mu_);
  projections_.push_back(std::move(projection));
}

const Projection* ProjectionEngine::Find(std::string_view name) const {
  for (const auto& p : projections_) {
    if (p->name() == name) return p.get();
  }
  return nullptr;
}

std::vector<std::string> ProjectionEngine::Names() const {
  std::vector<std::string> names;
  for (const auto& p : projections_) names.emplace_back(p->name());
  return names;
}

// Where a projection's fold starts: its checkpoint, or 0 once state in
// another encoding is dropped (it is never folded on nor read).
Result<uint64_t> ProjectionEngine::StartOf(const Projection& p) {
  Result<Position> checkpoint = log_.ProjectionCheckpoint(p.name());
  if (!checkpoint.ok()) return checkpoint.status();
  {
    // Another engine folded (or rebuilt) it since this one did: what the
    // projection cached describes a state that is no longer the stored one.
    std::lock_guard lk(mu_);
    auto known = checkpoints_.find(p.name());
    if (known != checkpoints_.end() && known->second != checkpoint->value()) p.Forget();
  }
  Result<uint32_t> version = log_.ProjectionStateVersion(p.name());
  if (!version.ok()) return version.status();
  if (checkpoint->value() > 0 && *version != p.state_version()) {
    p.Forget();
    CUSTODIAN_RETURN_IF_ERROR(log_.ProjectionDrop(p.name()));
    return uint64_t{0};
  }
  return checkpoint->value();
}

// Folds `group` (projections whose checkpoints are all `from`) in one scan:
// each event is read and decoded once for all of them, and every chunk is
// applied to and committed for each projection in turn.
Status ProjectionEngine::CatchUpGroup(const std::vector<const Projection*>& group, uint64_t from,
                                      const ProgressFn& progress) {
  const uint64_t end = log_.end().value();
  uint64_t next = from;
  std::vector<BufferedState> states;
  states.reserve(group.size());
  for (const Projection* p : group) states.emplace_back(log_, p->name());
  std::vector<Event> chunk;
  chunk.reserve(std::min<size_t>(chunk_events_, 65536));
  auto commit = [&]() -> Status {
    const uint64_t chunk_end = chunk.back().position.value() + 1;
    for (size_t i = 0; i < group.size(); ++i) {
      const Projection& p = *group[i];
      Status applied = p.Apply(chunk, states[i]);
      if (!applied.ok()) {
        p.Forget();
        return applied.WithContext("projection " + std::string(p.name()));
      }
      Status committed =
          log_.ProjectionCommit(p.name(), states[i].TakeChanges(), Position(chunk_end), p.state_version());
      if (!committed.ok()) {
        p.Forget();  // its cache is ahead of the stored state
        return committed;
      }
      {
        std::lock_guard lk(mu_);
        checkpoints_[std::string(p.name())] = chunk_end;
      }
    }
    chunk.clear();
    next = chunk_end;
    folded_.notify_all();
    if (progress) progress(next, end);
    return Status::Ok();
  };
  Status scan_status = Status::Ok();
  if (interrupted_.load()) return Status::Ok();
  Status s = log_.ScanAll(Position(next), [&](const Event& e) {
    if (e.position.value() >= end) return false;
    chunk.push_back(e);
    if (chunk.size() == chunk_events_) {
      scan_status = commit();
      if (!scan_status.ok() || interrupted_.load()) return false;
    }
    return true;
  });
  CUSTODIAN_RETURN_IF_ERROR(s);
  CUSTODIAN_RETURN_IF_ERROR(scan_status);
  if (!chunk.empty()) CUSTODIAN_RETURN_IF_ERROR(commit());
  std::lock_guard lk(mu_);
  for (const Projection* p : group) {
    uint64_t& known = checkpoints_[std::string(p->name())];
    known = std::max<uint64_t>(next, known);
  }
  return Status::Ok();
}

Status ProjectionEngine::CatchUpOne(const Projection& p, const ProgressFn& progress) {
  Result<uint64_t> from = StartOf(p);
  if (!from.ok()) return from.status();
  return CatchUpGroup({&p}, *from, progress);
}

Status ProjectionEngine::CatchUp(const ProgressFn& progress) {
  // Projections at the same checkpoint (all of them, but after a rebuild or
  // a new projection) share one scan of the log.
  std::map<uint64_t, std::vector<const Projection*>> groups;
  for (const auto& p : projections_) {
    Result<uint64_t> from = StartOf(*p);
    if (!from.ok()) return from.status();
    groups[*from].push_back(p.get());
  }
  for (const auto& [from, group] : groups) {
    if (interrupted_.load()) break;
    CUSTODIAN_RETURN_IF_ERROR(CatchUpGroup(group, from, progress));
  }
  return Status::Ok();
}

Status ProjectionEngine::Rebuild(std::string_view name, const ProgressFn& progress) {
  const Projection* p = Find(name);
  if (p == nullptr) return Status::InvalidArgument("no projection named " + std::string(name));
  p->Forget();
  CUSTODIAN_RETURN_IF_ERROR(log_.ProjectionDrop(name));
  {
    std::lock_guard lk(mu_);
    checkpoints_[std::string(name)] = 0;
  }
  return CatchUpOne(*p, progress);
}

Position ProjectionEngine::MinCheckpoint() const {
  uint64_t min = UINT64_MAX;
  for (const auto& p : projections_) {
    auto it = checkpoints_.find(p->name());
    min = std::min<uint64_t>(min, it == checkpoints_.end() ? 0 : it->second);
  }
  return Position(projections_.empty() ? 0 : min);
}

void ProjectionEngine::Start() {
  if (thread_) return;
  stop_.store(false);
  waiter_ = log_.Subscribe(log_.end());
  thread_ = std::make_unique<std::thread>([this] {
    while (!stop_.load()) {
      (void)CatchUp();
      // Wait for new events; the subscription only serves as a wake-up.
      Result<std::vector<Event>> next = waiter_->Next(std::chrono::milliseconds(200), 4096);
      if (!next.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
}

void ProjectionEngine::Stop() {
  if (!thread_) return;
  stop_.store(true);
  waiter_->Cancel();
  thread_->join();
  thread_.reset();
  waiter_.reset();
}

Status ProjectionEngine::WaitFor(Position position, std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  if (!folded_.wait_for(lk, timeout, [&] { return MinCheckpoint() >= position; })) {
    return Status::FailedPrecondition("projections have not reached position " + std::to_string(position.value()) +
                                      " within " + std::to_string(timeout.count()) + " ms");
  }
  return Status::Ok();
}

Result<std::string> ProjectionEngine::Digest(std::string_view name) const {
  std::map<std::string, std::string, std::less<>> kv;
  CUSTODIAN_RETURN_IF_ERROR(log_.ProjectionScan(name, "", [&](std::string_view k, std::string_view v) {
    kv.emplace(std::string(k), std::string(v));
    return true;
  }));
  return StateDigest(kv);
}

}  // namespace custodian
