// Reading a projection's state whether it is stored in the log or was just
// replayed into memory, and replaying the whole log as of a knowledge time.
//
// The CRM queries (portfolio.h, accountability.h, silent.h) take a
// StateReader, so the live answer and the as-of answer come from the same
// fold and the same query code (DESIGN.md, Projections and replay).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/types.h"
#include "replay/projection.h"
#include "storage/event_log.h"

namespace custodian {

// Read-only access to one projection's keys. Cheap to copy; it refers to the
// log or the MemoryState it was made from, which must outlive it. Safe to use
// from several threads when the underlying log or MemoryState is.
class StateReader {
 public:
  using Visit = std::function<bool(std::string_view key, std::string_view value)>;

  // The state `projection` has committed to `log` (as of its checkpoint).
  static StateReader Stored(const EventLog& log, std::string_view projection);
  // A state folded in memory, e.g. by ReplayLogAsOf.
  static StateReader Memory(const MemoryState& state);

  Result<std::optional<std::string>> Get(std::string_view key) const;
  // Calls `visit` for each key starting with `prefix`, in key order, until it
  // returns false.
  Status Scan(std::string_view prefix, const Visit& visit) const;

 private:
  StateReader() = default;
  const EventLog* log_ = nullptr;
  std::string projection_;
  const MemoryState* memory_ = nullptr;
};

// A time a view is asked about (rather than now), and which clock it is on:
// a knowledge time, what the log had recorded by then, or a business time,
// what had happened by then (occurred_at) as the log knows it now. Views
// that measure against a time (silent days, overdue promises) measure
// against `at`.
enum class AsOf {
  kKnowledge,  // what we knew at T: events recorded at or before T
  kBusiness,   // what had happened by T: events that occurred at or before T
};
struct AsOfTime {
  Timestamp at;
  AsOf by = AsOf::kKnowledge;
  bool business() const { return by == AsOf::kBusiness; }
};
// "recorded by 2026-03-01T00:00:00Z" or "happened by 2026-03-01T00:00:00Z".
std::string AsOfText(const AsOfTime& as_of);

// Folds the events the time selects (knowledge: recorded at or before `at`;
// business: every event recorded so far that occurred at or before `at`, in
// log order) through `projection` into a new MemoryState, as ReplayLogAsOf.
Result<MemoryState> ReplayLog(const EventLog& log, const Projection& projection, const AsOfTime& as_of);

// Folds every event recorded at or before `t` through `projection` into a new
// MemoryState, in chunks of ProjectionEngine::kChunkEvents as the engine does.
//
// Cost: a projection that folds the whole log (portfolio, accountability,
// silent) has no per-stream shortcut, so this reads the log from position 0
// up to the last event recorded at or before `t` (recorded_at never decreases
// along the log, so the scan stops at the first event recorded later): the
// work of a rebuild of that prefix, seconds at about a million events.
Result<MemoryState> ReplayLogAsOf(const EventLog& log, const Projection& projection, Timestamp t);

}  // namespace custodian
