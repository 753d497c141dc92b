#include "replay/state_reader.h"

#include "core/time.h"

#include <vector>

namespace custodian {

StateReader StateReader::Stored(const EventLog& log, std::string_view projection) {
  StateReader r;
  r.log_ = &log;
  r.projection_ = std::string(projection);
  return r;
}

StateReader StateReader::Memory(const MemoryState& state) {
  StateReader r;
  r.memory_ = &state;
  return r;
}

Result<std::optional<std::string>> StateReader::Get(std::string_view key) const {
  if (log_ != nullptr) return log_->ProjectionGet(projection_, key);
  if (auto it = memory_->contents().find(key); it != memory_->contents().end()) {
    return std::optional<std::string>(it->second);
  }
  return std::optional<std::string>();
}

Status StateReader::Scan(std::string_view prefix, const Visit& visit) const {
  if (log_ != nullptr) return log_->ProjectionScan(projection_, prefix, visit);
  const auto& kv = memory_->contents();
  for (auto it = kv.lower_bound(prefix); it != kv.end() && it->first.starts_with(prefix); ++it) {
    if (!visit(it->first, it->second)) break;
  }
  return Status::Ok();
}

Result<MemoryState> ReplayLog(const EventLog& log, const Projection& projection, const AsOfTime& as_of) {
  MemoryState state;
  std::vector<Event> chunk;
  chunk.reserve(ProjectionEngine::kChunkEvents);
  Status fold_status = Status::Ok();
  const uint64_t end = log.end().value();
  const bool business = as_of.business();
  Status scan = log.ScanAll(Position(0), [&](const Event& e) {
    if (e.position.value() >= end) return false;
    if (business) {
      if (e.occurred_at > as_of.at) return true;  // happened later: left out, the scan goes on
    } else if (e.recorded_at > as_of.at) {
      return false;  // recorded_at never decreases along the log
    }
    chunk.push_back(e);
    if (chunk.size() == ProjectionEngine::kChunkEvents) {
      fold_status = projection.Apply(chunk, state);
      chunk.clear();
      if (!fold_status.ok()) return false;
    }
    return true;
  });
  CUSTODIAN_RETURN_IF_ERROR(scan);
  CUSTODIAN_RETURN_IF_ERROR(fold_status);
  if (!chunk.empty()) CUSTODIAN_RETURN_IF_ERROR(projection.Apply(chunk, state));
  return state;
}

Result<MemoryState> ReplayLogAsOf(const EventLog& log, const Projection& projection, Timestamp t) {
  return ReplayLog(log, projection, AsOfTime{t, AsOf::kKnowledge});
}

std::string AsOfText(const AsOfTime& as_of) {
  return (as_of.business() ? "happened by " : "recorded by ") + FormatRfc3339(as_of.at);
}

}  // namespace custodian
