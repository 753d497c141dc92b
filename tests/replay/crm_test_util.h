// A log with a fixed clock and catalogue-valid CRM events, shared by the
// portfolio, accountability and silent projection tests. Staff are joined
// (actor system:hr-sync) before they act, as the writer's rules require.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "core/time.h"
#include "replay/projection.h"
#include "replay/state_reader.h"
#include "storage/event_log.h"
#include "tests/test_util.h"

namespace custodian::testing {

inline Timestamp T(const char* text) { return *ParseRfc3339(text); }

inline Event Ev(const std::string& stream, const std::string& type, const std::string& actor, const char* occurred,
                const std::string& data) {
  Event e;
  e.id = RandomId();
  e.stream = stream;
  e.type = type;
  e.actor = actor;
  e.occurred_at = T(occurred);
  e.source = "crm";
  e.data = data;
  return e;
}

// A log whose clock the test moves, so recorded_at is known exactly. When
// `engine` is set, every append is folded at once: the incremental build.
struct CrmFixture {
  TempDir tmp;
  FixedClock clock{T("2025-01-01T00:00:00Z")};
  std::unique_ptr<EventLog> log;
  std::unique_ptr<ProjectionEngine> engine;

  CrmFixture() {
    EventLogOptions options;
    options.create = CreateIfMissing::kYes;
    options.clock = &clock;
    Result<std::unique_ptr<EventLog>> r = EventLog::Open(tmp.path(), options);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    log = std::move(*r);
  }
  ~CrmFixture() { engine.reset(); }

  void FoldEachAppend(std::unique_ptr<Projection> projection) {
    engine = std::make_unique<ProjectionEngine>(*log);
    engine->Add(std::move(projection));
  }

  // Appends at the clock's time `recorded` (the event's own time when null).
  Position Add(Event e, const char* recorded = nullptr) {
    clock.Set(recorded ? T(recorded) : e.occurred_at);
    const std::string stream = e.stream;
    Result<AppendResult> r = log->Append(stream, {std::move(e)});
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    if (engine) REQUIRE(engine->CatchUp().ok());
    return r->positions[0];
  }
  Position Add(const std::string& stream, const std::string& type, const std::string& actor, const char* occurred,
               const std::string& data, const char* recorded = nullptr) {
    return Add(Ev(stream, type, actor, occurred, data), recorded);
  }

  // staff.joined on staff-<id>, by HR.
  void Join(const std::string& staff, const std::string& team, const char* at) {
    Add(staff, "staff.joined", "system:hr-sync", at, R"({"role":"account_executive","team":")" + team + R"("})");
  }

  // Everything the log knows now, replayed in memory through `projection`.
  MemoryState ReplayAll(const Projection& projection) {
    Result<MemoryState> m = ReplayLogAsOf(*log, projection, T("9999-01-01T00:00:00Z"));
    INFO(m.status().ToString());
    REQUIRE(m.ok());
    return std::move(*m);
  }
  MemoryState ReplayAsOf(const Projection& projection, const char* t) {
    Result<MemoryState> m = ReplayLogAsOf(*log, projection, T(t));
    INFO(m.status().ToString());
    REQUIRE(m.ok());
    return std::move(*m);
  }

  // The incremental build (FoldEachAppend), a rebuild from position 0 and a
  // replay in memory must agree to the byte.
  void CheckRebuildEqualsIncremental(const Projection& projection) {
    REQUIRE(engine);
    Result<std::string> incremental = engine->Digest(projection.name());
    REQUIRE(incremental.ok());
    REQUIRE(engine->Rebuild(projection.name()).ok());
    Result<std::string> rebuilt = engine->Digest(projection.name());
    REQUIRE(rebuilt.ok());
    CHECK(*rebuilt == *incremental);
    CHECK(StateDigest(ReplayAll(projection).contents()) == *rebuilt);
    // And the state is not trivially empty.
    CHECK(*rebuilt != StateDigest({}));
  }
};

}  // namespace custodian::testing
