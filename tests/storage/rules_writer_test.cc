// The append rules as the writer applies them: in log order within a batch,
// leaving no trace when a write is refused, and kept across reopens.
#include "storage/event_log.h"

#include <catch2/catch.hpp>

#include "core/rules.h"
#include "core/time.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

using testing::FixedClock;
using testing::RandomId;
using testing::TempDir;

Event Ev(const std::string& stream, const std::string& type, const std::string& actor, const std::string& data) {
  Event e;
  e.id = RandomId();
  e.stream = stream;
  e.type = type;
  e.actor = actor;
  e.occurred_at = *ParseRfc3339("2026-01-10T00:00:00Z");
  e.data = data;
  return e;
}

Event Joined(const std::string& staff) {
  return Ev(staff, "staff.joined", "system:hr-sync", R"({"role":"account_executive"})");
}

std::unique_ptr<EventLog> OpenWithRules(const std::string& dir, Clock* clock) {
  EventLogOptions options;
  options.create = CreateIfMissing::kYes;
  options.clock = clock;
  options.rules = CheckRules;
  Result<std::unique_ptr<EventLog>> r = EventLog::Open(dir, options);
  REQUIRE(r.ok());
  return std::move(*r);
}

TEST_CASE("rules see the earlier events of the same batch", "[rules]") {
  TempDir tmp;
  FixedClock clock(*ParseRfc3339("2026-02-01T00:00:00Z"));
  auto log = OpenWithRules(tmp.path(), &clock);
  std::vector<AppendRequest> batch;
  batch.push_back({"staff-7", ExpectedVersion::Any(), {Joined("staff-7")}});
  batch.push_back({"customer-1", ExpectedVersion::Any(),
                   {Ev("customer-1", "request.opened", "staff-7", R"({"request_id":"r1","title":"q"})"),
                    Ev("customer-1", "request.responded", "staff-7", R"({"request_id":"r1"})")}});
  Result<std::vector<AppendResult>> r = log->AppendBatch(std::move(batch));
  INFO(r.status().ToString());
  CHECK(r.ok());
  CHECK(log->end().value() == 3);
}

TEST_CASE("a write refused by a rule writes nothing and leaves no rule state behind", "[rules]") {
  TempDir tmp;
  FixedClock clock(*ParseRfc3339("2026-02-01T00:00:00Z"));
  auto log = OpenWithRules(tmp.path(), &clock);
  // staff-7 joins, but the same batch breaks a rule: all of it is refused.
  std::vector<AppendRequest> batch;
  batch.push_back({"staff-7", ExpectedVersion::Any(), {Joined("staff-7")}});
  batch.push_back({"customer-1", ExpectedVersion::Any(),
                   {Ev("customer-1", "deal.won", "staff-7", R"({"deal_id":"nope"})")}});
  Result<std::vector<AppendResult>> r = log->AppendBatch(std::move(batch));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kRuleViolation);
  CHECK(log->end().value() == 0);
  // The joining was not kept, so staff-7 still cannot act.
  Result<AppendResult> act = log->Append("customer-1", {Ev("customer-1", "note.added", "staff-7", R"({"text":"x"})")});
  REQUIRE_FALSE(act.ok());
  CHECK_THAT(act.status().message(), Catch::Contains("staff-7 has never joined"));
}

TEST_CASE("rule state survives a reopen, and a departure made earlier can't be raced past", "[rules]") {
  TempDir tmp;
  FixedClock clock(*ParseRfc3339("2026-02-01T00:00:00Z"));
  {
    auto log = OpenWithRules(tmp.path(), &clock);
    REQUIRE(log->Append("staff-7", {Joined("staff-7")}).ok());
    REQUIRE(log->Append("staff-8", {Joined("staff-8")}).ok());
    REQUIRE(log->Append("staff-8", {Ev("staff-8", "staff.departed", "system:hr-sync", R"({})")}).ok());
  }
  auto log = OpenWithRules(tmp.path(), &clock);
  CHECK(log->Append("customer-1", {Ev("customer-1", "note.added", "staff-7", R"({"text":"x"})")}).ok());
  Result<AppendResult> gone = log->Append("customer-1", {Ev("customer-1", "note.added", "staff-8", R"({"text":"x"})")});
  REQUIRE_FALSE(gone.ok());
  CHECK_THAT(gone.status().message(), Catch::Contains("staff-8 left"));
  Result<AppendResult> assign = log->Append(
      "customer-1", {Ev("customer-1", "customer.owner_assigned", "staff-7", R"({"owner":"staff-8","reason":"initial"})")});
  REQUIRE_FALSE(assign.ok());
  CHECK_THAT(assign.status().message(), Catch::Contains("rule 'assignment'"));
}

TEST_CASE("CheckRules judges events against the committed state, from a read-only open too, and writes nothing",
          "[rules]") {
  TempDir tmp;
  FixedClock clock(*ParseRfc3339("2026-02-01T00:00:00Z"));
  auto log = OpenWithRules(tmp.path(), &clock);
  const Event joined = Joined("staff-7");
  REQUIRE(log->Append("staff-7", {joined}).ok());
  REQUIRE(log->Append("staff-8", {Joined("staff-8")}).ok());
  REQUIRE(log->Append("staff-8", {Ev("staff-8", "staff.departed", "system:hr-sync", R"({})")}).ok());
  CHECK(*log->Contains(joined.id));
  CHECK_FALSE(*log->Contains(RandomId()));

  EventLogOptions ro;
  ro.mode = EventLogOptions::Mode::kReadOnly;
  ro.rules = CheckRules;
  Result<std::unique_ptr<EventLog>> reader = EventLog::Open(tmp.path(), ro);
  REQUIRE(reader.ok());
  for (EventLog* l : {log.get(), reader->get()}) {
    const Event by_7 = Ev("customer-1", "note.added", "staff-7", R"({"text":"x"})");
    CHECK(l->CheckRules(std::vector<Event>{by_7}).ok());
    Status gone = l->CheckRules(std::vector<Event>{Ev("customer-1", "note.added", "staff-8", R"({"text":"x"})")});
    CHECK(gone.code() == StatusCode::kRuleViolation);
    CHECK_THAT(gone.message(), Catch::Contains("staff-8 left"));
    // Earlier events of the same call count: staff-9 joins, then acts.
    CHECK(l->CheckRules(std::vector<Event>{Joined("staff-9"), Ev("customer-1", "note.added", "staff-9", R"({"text":"x"})")})
              .ok());
    CHECK_FALSE(l->CheckRules(std::vector<Event>{Ev("customer-1", "note.added", "staff-9", R"({"text":"x"})")}).ok());
  }
  CHECK(log->end().value() == 3);  // nothing was written
}

TEST_CASE("appenders racing a departure: after it is acknowledged, nothing by the leaver is accepted", "[rules]") {
  TempDir tmp;
  FixedClock clock(*ParseRfc3339("2026-02-01T00:00:00Z"));
  auto log = OpenWithRules(tmp.path(), &clock);
  REQUIRE(log->Append("staff-7", {Joined("staff-7")}).ok());
  std::atomic<bool> departed{false};
  std::atomic<int> accepted_after{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        const bool was_departed = departed.load();
        Result<AppendResult> r =
            log->Append("customer-1", {Ev("customer-1", "note.added", "staff-7", R"({"text":"x"})")});
        if (r.ok() && was_departed) ++accepted_after;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(log->Append("staff-7", {Ev("staff-7", "staff.departed", "system:hr-sync", R"({})")}).ok());
  departed.store(true);
  for (auto& th : threads) th.join();
  CHECK(accepted_after.load() == 0);
  // And in the log, no note by staff-7 comes after the departure's position.
  Result<std::vector<Event>> all = log->ReadAll(Position(0), 100000);
  REQUIRE(all.ok());
  bool after = false;
  for (const Event& e : *all) {
    if (e.type == "staff.departed") after = true;
    if (after) CHECK(e.actor != "staff-7");
  }
}

}  // namespace
}  // namespace custodian
