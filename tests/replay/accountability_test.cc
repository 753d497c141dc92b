#include "replay/accountability.h"

#include <fmt/core.h>

#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "tests/replay/crm_test_util.h"

namespace custodian {
namespace {

using testing::CrmFixture;
using testing::T;

constexpr int64_t kHour = int64_t{3600} * kMicrosPerSecond;
constexpr char kNow[] = "2025-09-01T00:00:00Z";

// customer-1 (owner staff-1): ten requests, opened on 1..10 January at 08:00,
// assigned to staff-1 ten minutes later and answered after 1..10 hours; the
// first three are resolved a day after opening.
// customer-2 (owner staff-2): r11 assigned to staff-2 and r12 never assigned,
// both unanswered.
// customer-3 (owner staff-3, team north until 2025-06-01, then south): one
// request in May, one in July, each answered after 2 hours.
// Promises of staff-1 on customer-1 around the boundaries: m1 kept exactly at
// its due time, m2 one second late, m3 due exactly at kNow and open, m4 due
// one second before kNow and open, m5 cancelled.
void AddHistory(CrmFixture& f) {
  f.Join("staff-1", "north", "2024-12-01T08:00:00Z");
  f.Join("staff-2", "south", "2024-12-01T08:00:00Z");
  f.Join("staff-3", "north", "2024-12-01T08:00:00Z");
  f.Join("staff-9", "management", "2024-12-01T08:00:00Z");
  for (auto [c, owner] : {std::pair{"customer-1", "staff-1"}, {"customer-2", "staff-2"}, {"customer-3", "staff-3"}}) {
    f.Add(c, "customer.registered", "staff-9", "2024-12-02T09:00:00Z", R"({"name":"Org"})");
    f.Add(c, "customer.owner_assigned", "staff-9", "2024-12-02T10:00:00Z",
          std::string(R"({"owner":")") + owner + R"(","reason":"initial"})");
  }
  for (int k = 1; k <= 10; ++k) {
    const std::string id = fmt::format("r{}", k);
    const std::string opened = fmt::format("2025-01-{:02}T08:00:00Z", k);
    const std::string assigned = fmt::format("2025-01-{:02}T08:10:00Z", k);
    const std::string answered = fmt::format("2025-01-{:02}T{:02}:00:00Z", k, 8 + k);
    f.Add("customer-1", "request.opened", "staff-9", opened.c_str(), R"({"request_id":")" + id + R"(","title":"Q"})");
    f.Add("customer-1", "request.assigned", "staff-9", assigned.c_str(),
          R"({"request_id":")" + id + R"(","assignee":"staff-1"})");
    f.Add("customer-1", "request.responded", "staff-1", answered.c_str(), R"({"request_id":")" + id + R"("})");
    if (k <= 3) {
      const std::string resolved = fmt::format("2025-01-{:02}T08:00:00Z", k + 1);
      f.Add("customer-1", "request.resolved", "staff-1", resolved.c_str(), R"({"request_id":")" + id + R"("})");
    }
  }
  f.Add("customer-2", "request.opened", "staff-9", "2025-02-01T08:00:00Z", R"({"request_id":"r11","title":"Q"})");
  f.Add("customer-2", "request.assigned", "staff-9", "2025-02-01T09:00:00Z",
        R"({"request_id":"r11","assignee":"staff-2"})");
  f.Add("customer-2", "request.opened", "staff-9", "2025-02-02T08:00:00Z", R"({"request_id":"r12","title":"Q"})");

  f.Add("staff-3", "staff.role_changed", "system:hr-sync", "2025-06-01T00:00:00Z",
        R"({"team":"south","previous_team":"north"})");
  f.Add("customer-3", "request.opened", "staff-9", "2025-05-01T08:00:00Z", R"({"request_id":"r31","title":"Q"})");
  f.Add("customer-3", "request.responded", "staff-3", "2025-05-01T10:00:00Z", R"({"request_id":"r31"})");
  f.Add("customer-3", "request.opened", "staff-9", "2025-07-01T08:00:00Z", R"({"request_id":"r32","title":"Q"})");
  f.Add("customer-3", "request.responded", "staff-3", "2025-07-01T10:00:00Z", R"({"request_id":"r32"})");

  auto promise = [&](const char* id, const char* due) {
    f.Add("customer-1", "commitment.made", "staff-1", "2025-02-01T00:00:00Z",
          std::string(R"({"commitment_id":")") + id + R"(","promise":"P","due_at":")" + due + R"("})");
  };
  promise("m1", "2025-03-01T00:00:00Z");
  promise("m2", "2025-03-01T00:00:00Z");
  promise("m3", kNow);
  promise("m4", "2025-08-31T23:59:59Z");
  promise("m5", "2025-04-01T00:00:00Z");
  f.Add("customer-1", "commitment.fulfilled", "staff-1", "2025-03-01T00:00:00Z", R"({"commitment_id":"m1"})");
  f.Add("customer-1", "commitment.fulfilled", "staff-1", "2025-03-01T00:00:01Z", R"({"commitment_id":"m2"})");
  f.Add("customer-1", "commitment.cancelled", "staff-1", "2025-03-02T00:00:00Z",
        R"({"commitment_id":"m5","reason":"customer postponed"})");
}

AccountabilityReport Report(const MemoryState& state, const AccountabilityFilter& filter = {}) {
  Result<AccountabilityReport> r = BuildAccountabilityReport(StateReader::Memory(state), filter, T(kNow));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

const AccountabilitySummary& Of(const std::vector<AccountabilitySummary>& rows, const std::string& who) {
  for (const auto& s : rows) {
    if (s.who == who) return s;
  }
  FAIL("no summary for " << who);
  return rows.front();
}

TEST_CASE("percentiles interpolate linearly between ranks", "[replay][accountability]") {
  CHECK_FALSE(Percentile({}, 0.5).has_value());
  CHECK(Percentile({7}, 0.9) == 7);
  CHECK(Percentile({4, 1, 3, 2}, 0.5) == 3);  // 2.5 rounds to 3
  CHECK(Percentile({10, 40, 20, 30}, 0.5) == 25);
  CHECK(Percentile({10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 0.9) == 91);
  CHECK(Percentile({10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 1.0) == 100);
}

TEST_CASE("first-response median and 90th percentile per member of staff on a known set", "[replay][accountability]") {
  CrmFixture f;
  AddHistory(f);
  AccountabilityReport r = Report(f.ReplayAll(*MakeAccountabilityProjection()));
  const AccountabilitySummary& s1 = Of(r.by_staff, "staff-1");
  CHECK(s1.requests == 10);
  CHECK(s1.answered == 10);
  CHECK(s1.unanswered == 0);
  CHECK(s1.median_first_response == 11 * kHour / 2);  // 5.5 hours
  CHECK(s1.p90_first_response == 91 * kHour / 10);    // 9.1 hours

  const AccountabilitySummary& s2 = Of(r.by_staff, "staff-2");
  CHECK(s2.requests == 2);
  CHECK(s2.answered == 0);
  CHECK(s2.unanswered == 2);  // r11 assigned to them, r12 unassigned on their customer
  CHECK_FALSE(s2.median_first_response.has_value());
}

TEST_CASE("each request says when it was opened, assigned, answered and resolved and how long each took",
          "[replay][accountability]") {
  CrmFixture f;
  AddHistory(f);
  AccountabilityFilter only_staff_1;
  only_staff_1.staff = "staff-1";
  AccountabilityReport r = Report(f.ReplayAll(*MakeAccountabilityProjection()), only_staff_1);
  REQUIRE(r.requests.size() == 10);
  const RequestAccount& r3 = r.requests[2];
  CHECK(r3.request_id == "r3");
  CHECK(r3.customer == "customer-1");
  CHECK(r3.opened_at == T("2025-01-03T08:00:00Z"));
  CHECK(r3.assignee == "staff-1");
  CHECK(r3.TimeToAssign() == 10 * 60 * kMicrosPerSecond);
  CHECK(r3.TimeToFirstResponse() == 3 * kHour);
  CHECK(r3.TimeToResolve() == 24 * kHour);
  CHECK(r3.responded_by == "staff-1");
  CHECK_FALSE(r.requests[3].resolved_at.has_value());
  CHECK(RequestAccountToJson(r3).find(R"("responsible":"staff-1")") != std::string::npos);
  // Durations are whole seconds, not doubles (which Boost.JSON writes as 6E2).
  const std::string json = RequestAccountToJson(r3);
  CHECK(json.find(R"("seconds_to_assign":600,)") != std::string::npos);
  CHECK(json.find(R"("seconds_to_first_response":10800,)") != std::string::npos);
  CHECK(json.find(R"("seconds_to_resolve":86400,)") != std::string::npos);
}

TEST_CASE("a summary's response times are whole seconds, rounded", "[replay][accountability]") {
  CrmFixture f;
  AddHistory(f);
  AccountabilityReport r = Report(f.ReplayAll(*MakeAccountabilityProjection()));
  // 5.5 hours and 9.1 hours (the test above).
  const std::string json = SummaryToJson("staff", Of(r.by_staff, "staff-1"));
  CHECK(json.find(R"("median_first_response_seconds":19800,)") != std::string::npos);
  CHECK(json.find(R"("p90_first_response_seconds":32760,)") != std::string::npos);
  // Unanswered: no time at all.
  CHECK(SummaryToJson("staff", Of(r.by_staff, "staff-2")).find(R"("median_first_response_seconds":null)") !=
        std::string::npos);
}

TEST_CASE("a commitment kept exactly at its due time is on time, one second later is late, overdue starts after now",
          "[replay][accountability]") {
  CrmFixture f;
  AddHistory(f);
  AccountabilityReport r = Report(f.ReplayAll(*MakeAccountabilityProjection()));
  std::map<std::string, CommitmentOutcome> outcome;
  for (const auto& c : r.commitments) outcome[c.commitment_id] = c.outcome;
  CHECK(outcome.at("m1") == CommitmentOutcome::kKeptOnTime);
  CHECK(outcome.at("m2") == CommitmentOutcome::kKeptLate);
  CHECK(outcome.at("m3") == CommitmentOutcome::kPending);  // due exactly now
  CHECK(outcome.at("m4") == CommitmentOutcome::kOverdue);  // due a second ago
  CHECK(outcome.at("m5") == CommitmentOutcome::kCancelled);
  const AccountabilitySummary& s1 = Of(r.by_staff, "staff-1");
  CHECK(s1.commitments == 5);
  CHECK(s1.kept_on_time == 1);
  CHECK(s1.kept_late == 1);
  CHECK(s1.overdue == 1);
  CHECK(s1.pending == 1);
  CHECK(s1.cancelled == 1);
}

TEST_CASE("items count for the team their member of staff was in at the time", "[replay][accountability]") {
  CrmFixture f;
  AddHistory(f);
  MemoryState state = f.ReplayAll(*MakeAccountabilityProjection());
  AccountabilityReport r = Report(state);
  const AccountabilitySummary& north = Of(r.by_team, "north");
  CHECK(north.requests == 11);  // staff-1's ten and staff-3's May request
  CHECK(north.commitments == 5);
  const AccountabilitySummary& south = Of(r.by_team, "south");
  CHECK(south.requests == 3);  // staff-2's two and staff-3's July request
  CHECK(south.unanswered == 2);
  CHECK(south.median_first_response == 2 * kHour);

  AccountabilityFilter team;
  team.team = "south";
  AccountabilityReport only_south = Report(state, team);
  CHECK(only_south.requests.size() == 3);
  CHECK(only_south.commitments.empty());
  CHECK(Of(only_south.by_staff, "staff-3").requests == 1);
}

TEST_CASE("the period keeps requests opened and commitments due from --from up to, not including, --to", "[replay][accountability]") {
  CrmFixture f;
  AddHistory(f);
  AccountabilityFilter period;
  period.from = T("2025-01-05T08:00:00Z");  // r5 opened exactly then: in
  period.to = T("2025-01-08T08:00:00Z");    // r8 opened exactly then: out
  AccountabilityReport r = Report(f.ReplayAll(*MakeAccountabilityProjection()), period);
  REQUIRE(r.requests.size() == 3);
  CHECK(r.requests.front().request_id == "r5");
  CHECK(r.requests.back().request_id == "r7");
  CHECK(r.commitments.empty());
  CHECK(Of(r.by_staff, "staff-1").median_first_response == 6 * kHour);
}

// customer-4 (owner staff-4), each item opened or made live (recorded when it
// occurred):
//   q1 answered "an hour later" but entered three days later: entered late;
//   q2 answered an hour later, entered twelve hours later (a nightly sync): not;
//   q3 opened and answered in 2024 but both loaded together in 2025: not;
//   p1 due 1 March, its fulfilment dated 28 February but entered 10 March:
//      kept on time as claimed, entered late;
//   p2 fulfilled dated years before it was made (2020), entered at once: late;
//   p3 cancelled on time, entered on time: not.
void AddLateEntries(CrmFixture& f) {
  f.Join("staff-4", "west", "2024-12-01T08:00:00Z");
  f.Add("customer-4", "customer.registered", "staff-4", "2024-12-02T09:00:00Z", R"({"name":"Org"})");
  f.Add("customer-4", "customer.owner_assigned", "staff-4", "2024-12-02T10:00:00Z",
        R"({"owner":"staff-4","reason":"initial"})");
  f.Add("customer-4", "request.opened", "staff-4", "2025-01-10T08:00:00Z", R"({"request_id":"q1","title":"Q"})");
  f.Add("customer-4", "request.responded", "staff-4", "2025-01-10T09:00:00Z", R"({"request_id":"q1"})",
        "2025-01-13T08:00:00Z");
  f.Add("customer-4", "request.opened", "staff-4", "2025-01-20T08:00:00Z", R"({"request_id":"q2","title":"Q"})");
  f.Add("customer-4", "request.responded", "staff-4", "2025-01-20T09:00:00Z", R"({"request_id":"q2"})",
        "2025-01-20T20:00:00Z");
  f.Add("customer-4", "request.opened", "staff-4", "2024-12-20T08:00:00Z", R"({"request_id":"q3","title":"Q"})",
        "2025-01-25T08:00:00Z");
  f.Add("customer-4", "request.responded", "staff-4", "2024-12-20T09:00:00Z", R"({"request_id":"q3"})",
        "2025-01-25T08:00:01Z");
  auto promise = [&](const char* id, const char* made, const char* due) {
    f.Add("customer-4", "commitment.made", "staff-4", made,
          std::string(R"({"commitment_id":")") + id + R"(","promise":"P","due_at":")" + due + R"("})");
  };
  promise("p1", "2025-02-01T00:00:00Z", "2025-03-01T00:00:00Z");
  f.Add("customer-4", "commitment.fulfilled", "staff-4", "2025-02-28T00:00:00Z", R"({"commitment_id":"p1"})",
        "2025-03-10T00:00:00Z");
  promise("p2", "2025-02-02T00:00:00Z", "2025-03-02T00:00:00Z");
  f.Add("customer-4", "commitment.fulfilled", "staff-4", "2020-01-01T00:00:00Z", R"({"commitment_id":"p2"})",
        "2025-02-02T00:00:01Z");
  promise("p3", "2025-02-03T00:00:00Z", "2025-03-03T00:00:00Z");
  f.Add("customer-4", "commitment.cancelled", "staff-4", "2025-02-04T00:00:00Z",
        R"({"commitment_id":"p3","reason":"customer postponed"})");
}

TEST_CASE("a first response or a promise's end entered more than a day later than it claims is marked entered late",
          "[replay][accountability]") {
  CrmFixture f;
  f.FoldEachAppend(MakeAccountabilityProjection());
  AddLateEntries(f);
  f.CheckRebuildEqualsIncremental(*MakeAccountabilityProjection());
  AccountabilityReport r = Report(f.ReplayAll(*MakeAccountabilityProjection()));
  std::map<std::string, RequestAccount> requests;
  for (const auto& a : r.requests) requests[a.request_id] = a;
  std::map<std::string, CommitmentAccount> commitments;
  for (const auto& c : r.commitments) commitments[c.commitment_id] = c;

  // The claimed times stay; how late each was entered is shown beside them.
  CHECK(requests.at("q1").TimeToFirstResponse() == kHour);
  CHECK(requests.at("q1").response_entered_late == 71 * kHour);  // 72 hours recorded, 1 claimed
  CHECK_FALSE(requests.at("q2").response_entered_late.has_value());
  CHECK_FALSE(requests.at("q3").response_entered_late.has_value());
  CHECK(commitments.at("p1").outcome == CommitmentOutcome::kKeptOnTime);
  CHECK(commitments.at("p1").closed_entered_late == 10 * 24 * kHour);  // 37 days recorded, 27 claimed
  CHECK(commitments.at("p2").closed_entered_late.has_value());
  CHECK_FALSE(commitments.at("p3").closed_entered_late.has_value());

  const AccountabilitySummary& s4 = Of(r.by_staff, "staff-4");
  CHECK(s4.entered_late == 3);
  CHECK(Of(r.by_team, "west").entered_late == 3);
  CHECK(SummaryToJson("staff", s4).find(R"("entered_late":3)") != std::string::npos);
  CHECK(RequestAccountToJson(requests.at("q1")).find(R"("response_entered_late_seconds":255600)") !=
        std::string::npos);
  CHECK(RequestAccountToJson(requests.at("q2")).find(R"("response_entered_late_seconds":null)") != std::string::npos);
  CHECK(CommitmentAccountToJson(commitments.at("p1")).find(R"("closed_entered_late_seconds":864000)") !=
        std::string::npos);

  // The known set, all entered as it occurred, has none.
  CrmFixture g;
  AddHistory(g);
  AccountabilityReport known = Report(g.ReplayAll(*MakeAccountabilityProjection()));
  for (const auto& s : known.by_staff) CHECK(s.entered_late == 0);
}

// customer-5 (owner staff-5), each promise made live (recorded when made):
//   m1 due 1 March; on 10 March its due date is corrected to 1 April, and it is
//      fulfilled on 20 March: judged against 1 March, kept late;
//   m2 due 1 March; on 20 February (before it passed) its due date is moved to
//      1 April, and on 15 April to 1 May, fulfilled 20 April: the first move
//      was a new date agreed in time, the second moved 1 April after it passed;
//   m3 due 1 March, fulfilled on 25 February; on 10 March its due date is
//      corrected to a later date: kept on time either way, still marked;
//   m4 due 1 March; on 2 March (within a day) moved to 1 April: not marked;
//   m5 a 2024 promise loaded in 2025 together with its correction: not marked;
//   m6 due 1 March, its due date corrected earlier on 10 March: not marked;
//   m8 due 1 March, retracted on 5 March, then its due date corrected on
//      10 March: not listed (a retracted promise), and no mark on anything.
// staff-5 moves from team east to north on 15 March: m1 counts for east.
std::string Id(CrmFixture& f, Position p) {
  Result<std::vector<Event>> e = f.log->ReadAll(p, 1);
  REQUIRE(e.ok());
  REQUIRE(e->size() == 1);
  return e->front().id.ToString();
}
void AddDueMoves(CrmFixture& f) {
  f.Join("staff-5", "east", "2024-12-01T08:00:00Z");
  f.Add("customer-5", "customer.registered", "staff-5", "2024-12-02T09:00:00Z", R"({"name":"Org"})");
  f.Add("customer-5", "customer.owner_assigned", "staff-5", "2024-12-02T10:00:00Z",
        R"({"owner":"staff-5","reason":"initial"})");
  auto promise = [&](const char* id, const char* made, const char* due, const char* recorded = nullptr) {
    return f.Add("customer-5", "commitment.made", "staff-5", made,
                 std::string(R"({"commitment_id":")") + id + R"(","promise":"P","due_at":")" + due + R"("})", recorded);
  };
  auto move = [&](Position made, const char* at, const char* due) {
    f.Add("customer-5", "event.corrected", "staff-5", at,
          R"({"event_id":")" + Id(f, made) + R"(","reason":"new date","corrected":{"due_at":")" + due + R"("}})");
  };
  auto fulfil = [&](const char* id, const char* at) {
    f.Add("customer-5", "commitment.fulfilled", "staff-5", at, std::string(R"({"commitment_id":")") + id + R"("})");
  };
  const Position m1 = promise("m1", "2025-02-01T00:00:00Z", "2025-03-01T00:00:00Z");
  const Position m2 = promise("m2", "2025-02-01T00:00:01Z", "2025-03-01T00:00:00Z");
  const Position m3 = promise("m3", "2025-02-01T00:00:02Z", "2025-03-01T00:00:00Z");
  const Position m4 = promise("m4", "2025-02-01T00:00:03Z", "2025-03-01T00:00:00Z");
  const Position m6 = promise("m6", "2025-02-01T00:00:04Z", "2025-03-01T00:00:00Z");
  move(m2, "2025-02-20T00:00:00Z", "2025-04-01T00:00:00Z");
  fulfil("m3", "2025-02-25T00:00:00Z");
  move(m4, "2025-03-02T00:00:00Z", "2025-04-01T00:00:00Z");
  move(m1, "2025-03-10T00:00:00Z", "2025-04-01T00:00:00Z");
  move(m3, "2025-03-10T00:00:01Z", "2025-04-01T00:00:00Z");
  move(m6, "2025-03-10T00:00:02Z", "2025-02-15T00:00:00Z");
  const Position m8 = promise("m8", "2025-02-01T00:00:05Z", "2025-03-01T00:00:00Z");
  f.Add("customer-5", "event.retracted", "staff-5", "2025-03-05T00:00:00Z",
        R"({"event_id":")" + Id(f, m8) + R"(","reason":"entered twice"})");
  move(m8, "2025-03-11T00:00:00Z", "2025-04-01T00:00:00Z");
  f.Add("staff-5", "staff.role_changed", "system:hr-sync", "2025-03-15T00:00:00Z", R"({"team":"north"})");
  fulfil("m1", "2025-03-20T00:00:00Z");
  move(m2, "2025-04-15T00:00:00Z", "2025-05-01T00:00:00Z");
  fulfil("m2", "2025-04-20T00:00:00Z");
  const Position m5 = promise("m5", "2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z", "2025-05-01T00:00:00Z");
  f.Add("customer-5", "event.corrected", "staff-5", "2024-08-01T00:00:00Z",
        R"({"event_id":")" + Id(f, m5) + R"(","reason":"new date","corrected":{"due_at":"2024-09-01T00:00:00Z"}})",
        "2025-05-01T00:00:01Z");
}

TEST_CASE(
    "a promise's due date moved later by a correction after it had passed is judged against the date that "
    "passed, and shown",
    "[replay][accountability]") {
  CrmFixture f;
  f.FoldEachAppend(MakeAccountabilityProjection(f.log.get()));
  AddDueMoves(f);
  f.CheckRebuildEqualsIncremental(*MakeAccountabilityProjection(f.log.get()));
  AccountabilityReport r = Report(f.ReplayAll(*MakeAccountabilityProjection(f.log.get())));
  std::map<std::string, CommitmentAccount> c;
  for (const auto& a : r.commitments) c[a.commitment_id] = a;
  REQUIRE(c.size() == 6);
  CHECK_FALSE(c.contains("m8"));

  CHECK(c.at("m1").due_at == T("2025-04-01T00:00:00Z"));  // the date as corrected is shown
  CHECK(c.at("m1").due_moved_from == T("2025-03-01T00:00:00Z"));
  CHECK(c.at("m1").due_moved_at == T("2025-03-10T00:00:00Z"));
  CHECK(c.at("m1").outcome == CommitmentOutcome::kKeptLate);
  CHECK(c.at("m2").due_moved_from == T("2025-04-01T00:00:00Z"));
  CHECK(c.at("m2").outcome == CommitmentOutcome::kKeptLate);
  CHECK(c.at("m3").due_moved_from == T("2025-03-01T00:00:00Z"));
  CHECK(c.at("m3").outcome == CommitmentOutcome::kKeptOnTime);
  for (const char* unmarked : {"m4", "m5", "m6"}) {
    INFO(unmarked);
    CHECK_FALSE(c.at(unmarked).due_moved_from.has_value());
  }
  CHECK(c.at("m4").outcome == CommitmentOutcome::kOverdue);  // due 1 April, open at kNow
  CHECK(c.at("m6").due_at == T("2025-02-15T00:00:00Z"));

  const AccountabilitySummary& s5 = Of(r.by_staff, "staff-5");
  CHECK(s5.due_moved == 3);
  CHECK(s5.kept_late == 2);
  CHECK(s5.overdue == 3);  // m4, m5 and m6, still open
  // Each counts for the team of the date it is judged against: m1 and m3 (1 March) for east, m2 (1 April) north.
  CHECK(Of(r.by_team, "east").due_moved == 2);
  CHECK(Of(r.by_team, "north").due_moved == 1);
  // In the order of the dates they are judged against.
  std::vector<std::string> order;
  for (const auto& a : r.commitments) {
    if (a.customer == "customer-5") order.push_back(a.commitment_id);
  }
  CHECK(order == std::vector<std::string>{"m5", "m6", "m1", "m3", "m2", "m4"});
  CHECK(SummaryToJson("staff", s5).find(R"("due_moved":3)") != std::string::npos);
  CHECK(CommitmentAccountToJson(c.at("m1"))
            .find(R"("due_moved_from":"2025-03-01T00:00:00Z","due_moved_at":"2025-03-10T00:00:00Z")") !=
        std::string::npos);
  CHECK(CommitmentAccountToJson(c.at("m4")).find(R"("due_moved_from":null,"due_moved_at":null)") != std::string::npos);
  // The period takes the promise at the date it is judged against.
  AccountabilityFilter march;
  march.from = T("2025-03-01T00:00:00Z");
  march.to = T("2025-03-02T00:00:00Z");
  AccountabilityReport in_march = Report(f.ReplayAll(*MakeAccountabilityProjection(f.log.get())), march);
  std::set<std::string> ids;
  for (const auto& a : in_march.commitments) ids.insert(a.commitment_id);
  CHECK(ids == std::set<std::string>{"m1", "m3"});
}

TEST_CASE(
    "the customer view judges a promise whose due date was moved after it passed against the date that passed, as "
    "accountability does",
    "[replay][accountability]") {
  CrmFixture f;
  f.FoldEachAppend(MakeCustomerProjection(*f.log));
  AddDueMoves(f);
  // m9, still open: due 10 May, moved on 20 May to 1 September.
  const Position m9 = f.Add("customer-5", "commitment.made", "staff-5", "2025-05-02T00:00:00Z",
                            R"({"commitment_id":"m9","promise":"P","due_at":"2025-05-10T00:00:00Z"})");
  f.Add("customer-5", "event.corrected", "staff-5", "2025-05-20T00:00:00Z",
        R"({"event_id":")" + Id(f, m9) + R"(","reason":"new date","corrected":{"due_at":"2025-09-01T00:00:00Z"}})");
  // m10, due 25 May, moved on 5 June, then fulfilled before the new date: folded after the fix, one event
  // at a time.
  const Position m10 = f.Add("customer-5", "commitment.made", "staff-5", "2025-05-21T00:00:00Z",
                             R"({"commitment_id":"m10","promise":"P","due_at":"2025-05-25T00:00:00Z"})");
  f.Add("customer-5", "event.corrected", "staff-5", "2025-06-05T00:00:00Z",
        R"({"event_id":")" + Id(f, m10) + R"(","reason":"new date","corrected":{"due_at":"2025-09-01T00:00:00Z"}})");
  f.Add("customer-5", "commitment.fulfilled", "staff-5", "2025-06-10T00:00:00Z", R"({"commitment_id":"m10"})");
  // m11, due 15 June, moved on 25 June by a correction that claims to have occurred before the promise was made.
  const Position m11 = f.Add("customer-5", "commitment.made", "staff-5", "2025-06-12T00:00:00Z",
                             R"({"commitment_id":"m11","promise":"P","due_at":"2025-06-15T00:00:00Z"})");
  f.Add("customer-5", "event.corrected", "staff-5", "2025-06-11T00:00:00Z",
        R"({"event_id":")" + Id(f, m11) + R"(","reason":"new date","corrected":{"due_at":"2025-09-01T00:00:00Z"}})",
        "2025-06-25T00:00:00Z");
  f.CheckRebuildEqualsIncremental(*MakeCustomerProjection(*f.log));

  Result<CustomerState> stored = LoadCustomer(*f.log, "customer-5");
  REQUIRE(stored.ok());
  Result<Replay> replayed = ReplayCustomer(*f.log, "customer-5", std::nullopt, AsOf::kKnowledge);
  REQUIRE(replayed.ok());
  for (const CustomerState* s : {&*stored, &replayed->state}) {
    // m1, m2 and m10 were kept after the dates that passed; m3 before; as corrected, all four were on time.
    CHECK(s->commitments_kept == 1);
    CHECK(s->commitments_late == 3);
    REQUIRE(s->open_commitments.contains("m9"));
    const CustomerState::Commitment& m = s->open_commitments.at("m9");
    CHECK(m.due_at == T("2025-09-01T00:00:00Z"));
    CHECK(m.due_moved_from == T("2025-05-10T00:00:00Z"));
    CHECK(m.due_moved_at == T("2025-05-20T00:00:00Z"));
    CHECK(m.JudgedDue() == T("2025-05-10T00:00:00Z"));
    for (const char* unmarked : {"m4", "m5", "m6"}) {
      INFO(unmarked);
      REQUIRE(s->open_commitments.contains(unmarked));
      CHECK_FALSE(s->open_commitments.at(unmarked).due_moved_from.has_value());
    }
  }
  // In business time the correction of m11 comes before its making; it is still its move.
  Result<Replay> business = ReplayCustomer(*f.log, "customer-5", T("2025-12-31T00:00:00Z"), AsOf::kBusiness);
  REQUIRE(business.ok());
  for (const CustomerState* s : {&*stored, &business->state}) {
    REQUIRE(s->open_commitments.contains("m11"));
    CHECK(s->open_commitments.at("m11").due_moved_from == T("2025-06-15T00:00:00Z"));
  }
  // As of 15 March (business time): m1's move had happened, its fulfilment not.
  Result<Replay> march = ReplayCustomer(*f.log, "customer-5", T("2025-03-15T00:00:00Z"), AsOf::kBusiness);
  REQUIRE(march.ok());
  REQUIRE(march->state.open_commitments.contains("m1"));
  CHECK(march->state.open_commitments.at("m1").due_moved_from == T("2025-03-01T00:00:00Z"));
  CHECK(march->state.commitments_kept == 1);  // m3
  CHECK(march->state.commitments_late == 0);
}

TEST_CASE(
    "in a log from before fixes were checked, a promise made again and retracted leaves the first making's moved "
    "due date to judge it by, and a retracted correction moves nothing, in both views",
    "[replay][accountability]") {
  CrmFixture f;
  f.FoldEachAppend(MakeCustomerProjection(*f.log));
  f.Join("staff-5", "east", "2024-12-01T08:00:00Z");
  f.Add("customer-5", "customer.registered", "staff-5", "2024-12-02T09:00:00Z", R"({"name":"Org"})");
  const std::string made = R"({"commitment_id":"m1","promise":"P","due_at":"2025-03-01T00:00:00Z"})";
  const Position first = f.Add("customer-5", "commitment.made", "staff-5", "2025-02-01T00:00:00Z", made);
  f.Add("customer-5", "event.corrected", "staff-5", "2025-03-10T00:00:00Z",
        R"({"event_id":")" + Id(f, first) + R"(","reason":"new date","corrected":{"due_at":"2025-04-01T00:00:00Z"}})");
  const Position again = f.Add("customer-5", "commitment.made", "staff-5", "2025-03-11T00:00:00Z", made);
  f.Add("customer-5", "event.retracted", "staff-5", "2025-03-12T00:00:00Z",
        R"({"event_id":")" + Id(f, again) + R"(","reason":"entered twice"})");
  f.Add("customer-5", "commitment.fulfilled", "staff-5", "2025-03-20T00:00:00Z", R"({"commitment_id":"m1"})");
  // m2, due 1 April, moved on 10 April by a correction retracted the next day: due 1 April, unmarked.
  const Position m2 = f.Add("customer-5", "commitment.made", "staff-5", "2025-03-21T00:00:00Z",
                            R"({"commitment_id":"m2","promise":"P","due_at":"2025-04-01T00:00:00Z"})");
  const Position moved =
      f.Add("customer-5", "event.corrected", "staff-5", "2025-04-10T00:00:00Z",
            R"({"event_id":")" + Id(f, m2) + R"(","reason":"new date","corrected":{"due_at":"2025-05-01T00:00:00Z"}})");
  f.Add("customer-5", "event.retracted", "staff-5", "2025-04-11T00:00:00Z",
        R"({"event_id":")" + Id(f, moved) + R"(","reason":"not agreed"})");
  f.Add("customer-5", "commitment.fulfilled", "staff-5", "2025-04-20T00:00:00Z", R"({"commitment_id":"m2"})");
  Result<CustomerState> s = LoadCustomer(*f.log, "customer-5");
  REQUIRE(s.ok());
  CHECK(s->commitments_late == 2);
  CHECK(s->commitments_kept == 0);
  AccountabilityReport r = Report(f.ReplayAll(*MakeAccountabilityProjection(f.log.get())));
  REQUIRE(r.commitments.size() == 2);
  CHECK(r.commitments[0].due_moved_from == T("2025-03-01T00:00:00Z"));
  CHECK(r.commitments[0].outcome == CommitmentOutcome::kKeptLate);
  CHECK(r.commitments[1].due_at == T("2025-04-01T00:00:00Z"));
  CHECK_FALSE(r.commitments[1].due_moved_from.has_value());
  CHECK(r.commitments[1].outcome == CommitmentOutcome::kKeptLate);
}

TEST_CASE("a rebuild of the accountability projection equals the incremental build", "[replay][accountability]") {
  CrmFixture f;
  f.FoldEachAppend(MakeAccountabilityProjection());
  AddHistory(f);
  f.CheckRebuildEqualsIncremental(*MakeAccountabilityProjection());
  Result<AccountabilityReport> stored =
      BuildAccountabilityReport(StateReader::Stored(*f.log, kAccountabilityProjection), {}, T(kNow));
  REQUIRE(stored.ok());
  CHECK(Of(stored->by_staff, "staff-1").p90_first_response == 91 * kHour / 10);
}

}  // namespace
}  // namespace custodian
