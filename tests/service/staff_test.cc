#include "service/staff.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/json.h"
#include "core/time.h"
#include "service/import.h"
#include "service/store.h"
#include "storage/event_log.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

using testing::RandomId;
using testing::TempDir;

Timestamp At(const char* rfc3339) {
  Result<Timestamp> t = ParseRfc3339(rfc3339);
  REQUIRE(t.ok());
  return *t;
}

std::optional<AsOfTime> Known(Timestamp t) { return AsOfTime{t, AsOf::kKnowledge}; }
std::optional<AsOfTime> Happened(Timestamp t) { return AsOfTime{t, AsOf::kBusiness}; }

// The sample company (docs/examples/sample-events.jsonl), opened as the
// command line opens it, with its projections caught up. staff-12 left on
// 2026-03-31 after a handover of their customers to staff-7, but request
// req-9001 of customer-1001 stayed assigned to them. staff-3 is the north
// team's sales manager (serves the team's customers); added here: staff-50,
// an account executive of team south who serves none of them, and staff-60,
// an auditor (company-wide).
struct SampleStore {
  TempDir tmp;
  StoreOptions options;
  std::unique_ptr<EventLog> log;
  // The wall clock the views are asked with: after everything in the sample.
  const Timestamp now = At("2026-04-10T12:00:00Z");

  SampleStore() {
    options.data_dir = tmp.Sub("store");
    Result<std::unique_ptr<EventLog>> opened =
        OpenStore(options, EventLogOptions::Mode::kReadWrite, CreateIfMissing::kYes, "test/custodian");
    INFO(opened.status().ToString());
    REQUIRE(opened.ok());
    log = std::move(*opened);
    Result<ImportReport> imported =
        ImportJsonLines(*log, std::string(CUSTODIAN_SOURCE_DIR) + "/docs/examples/sample-events.jsonl", {});
    INFO(imported.status().ToString());
    REQUIRE(imported.ok());
    Add("staff-50", "staff.joined", "system:hr-sync", R"({"role":"account_executive","team":"south"})");
    Add("staff-60", "staff.joined", "system:hr-sync", R"({"role":"auditor"})");
    CatchUp();
  }
  void Add(const std::string& stream, const std::string& type, const std::string& actor, const std::string& data,
           const char* occurred_at = "2026-04-01T08:00:00Z") {
    Event e;
    e.id = RandomId();
    e.stream = stream;
    e.type = type;
    e.actor = actor;
    e.occurred_at = At(occurred_at);
    e.data = data;
    Result<AppendResult> r = log->Append(stream, {e}, ExpectedVersion::Any());
    INFO(r.status().ToString());
    REQUIRE(r.ok());
  }
  void CatchUp() {
    Status s = CatchUpProjections(*log);
    INFO(s.ToString());
    REQUIRE(s.ok());
  }
  Caller As(const std::string& staff) const { return Caller{staff, "api", options.data_dir}; }
  // The reads recorded on access-<staff>, oldest first.
  std::vector<Event> Reads(const std::string& staff) const {
    Result<std::vector<Event>> r = log->ReadStream("access-" + staff, StreamVersion(0), Direction::kForward, 1000);
    REQUIRE(r.ok());
    return *r;
  }
};

// What a recorded read says: its view, its customers and its count.
struct RecordedRead {
  std::string view;
  std::vector<std::string> customers;
  std::string count;
  std::string interface;
};
RecordedRead ReadOf(const Event& e) {
  REQUIRE(e.type == "data.viewed");
  RecordedRead r;
  std::optional<std::string_view> view = JsonMemberText(e.data, "view");
  std::optional<std::string_view> customers = JsonMemberText(e.data, "customers");
  std::optional<std::string_view> count = JsonMemberText(e.data, "count");
  std::optional<std::string_view> interface = JsonMemberText(e.data, "interface");
  REQUIRE(view);
  REQUIRE(customers);
  REQUIRE(count);
  REQUIRE(interface);
  r.view = std::string(*view);
  for (std::string_view c : JsonArrayItems(*customers)) r.customers.emplace_back(c);
  r.count = std::string(*count);
  r.interface = std::string(*interface);
  return r;
}

// --- portfolio ---

TEST_CASE("a portfolio lists what a member of staff owns and holds and records the read for the caller",
          "[service][staff]") {
  SampleStore s;
  Result<PortfolioView> v = StaffPortfolio(*s.log, s.As("staff-3"), "staff-7", std::nullopt);
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  CHECK(v->portfolio.staff == "staff-7");
  CHECK(v->portfolio.role == "account_executive");
  CHECK(v->owned() == 4);  // two of their own, two handed over from staff-12
  CHECK(v->others() == 0);
  CHECK(!v->as_of);
  CHECK(!v->behind);  // a writable store's projections are up to date

  const std::vector<Event> reads = s.Reads("staff-3");
  REQUIRE(reads.size() == 1);
  const RecordedRead read = ReadOf(reads.back());
  CHECK(read.view == R"("portfolio")");
  CHECK(read.customers == std::vector<std::string>{R"("customer-1001")", R"("customer-1002")", R"("customer-1003")",
                                                   R"("customer-1004")"});
  CHECK(read.count == "4");
  CHECK(read.interface == R"("api")");

  // The leaver owns nothing now but still holds request req-9001.
  Result<PortfolioView> leaver = StaffPortfolio(*s.log, s.As("staff-3"), "staff-12", std::nullopt);
  REQUIRE(leaver.ok());
  CHECK(leaver->owned() == 0);
  CHECK(leaver->others() == 1);
  CHECK(leaver->portfolio.departed_at == At("2026-03-31T00:00:00Z"));
  REQUIRE(leaver->portfolio.customers.size() == 1);
  CHECK(leaver->portfolio.customers[0].owner == "staff-7");
  CHECK(PortfolioViewToJson(*leaver) == PortfolioEntryToJson("staff-12", leaver->portfolio.customers[0]) + "\n");
  CHECK(s.Reads("staff-3").size() == 2);
}

TEST_CASE("a portfolio as of a time replays what was recorded by then and is not found before anything was",
          "[service][staff]") {
  SampleStore s;
  const Timestamp later(SystemClock().Now().value() + int64_t{3600} * kMicrosPerSecond);
  Result<PortfolioView> now = StaffPortfolio(*s.log, s.As("staff-3"), "staff-7", std::nullopt);
  Result<PortfolioView> replayed = StaffPortfolio(*s.log, s.As("staff-3"), "staff-7", Known(later));
  REQUIRE(now.ok());
  REQUIRE(replayed.ok());
  CHECK(replayed->as_of->at == later);
  CHECK(PortfolioViewToJson(*replayed) == PortfolioViewToJson(*now));
  CHECK(ReadOf(s.Reads("staff-3").back()).view == R"("portfolio_as_of")");

  // Everything was recorded today: in 2020 nobody was known, and nothing is read.
  const size_t reads = s.Reads("staff-3").size();
  Result<PortfolioView> before = StaffPortfolio(*s.log, s.As("staff-3"), "staff-7", Known(At("2020-01-01T00:00:00Z")));
  REQUIRE(!before.ok());
  CHECK(before.status().code() == StatusCode::kNotFound);
  CHECK(before.status().message() == "staff-7 owns nothing and has no events recorded by 2020-01-01T00:00:00Z");
  Result<PortfolioView> nobody = StaffPortfolio(*s.log, s.As("staff-3"), "staff-404", std::nullopt);
  REQUIRE(!nobody.ok());
  CHECK(nobody.status().code() == StatusCode::kNotFound);
  CHECK(nobody.status().message() == "staff-404 owns nothing and has no events");
  CHECK(s.Reads("staff-3").size() == reads);
}

TEST_CASE("a view of a store another process holds is replayed in full and says how far the stored projection lags",
          "[service][staff]") {
  SampleStore s;
  // Appended by the holder without folding: the stored projections lag behind.
  s.Add("customer-1005", "customer.registered", "staff-7", R"({"name":"Kessler Kühltransporte"})");
  s.Add("customer-1005", "customer.owner_assigned", "staff-3", R"({"owner":"staff-7","reason":"initial"})");
  Result<std::unique_ptr<EventLog>> reader = OpenStore(s.options, EventLogOptions::Mode::kReadOnly);
  INFO(reader.status().ToString());
  REQUIRE(reader.ok());
  Result<PortfolioView> v = StaffPortfolio(**reader, s.As("staff-3"), "staff-7", std::nullopt);
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  CHECK(v->owned() == 5);  // customer-1005 too: the replay folds the whole log
  REQUIRE(v->behind);
  CHECK(v->behind->projection == "portfolio");
  CHECK(v->behind->events == (*reader)->end().value());
  CHECK(v->behind->folded == v->behind->events - 2);
  // As of a time the view is a replay anyway: no lag to tell.
  const Timestamp later(SystemClock().Now().value() + int64_t{3600} * kMicrosPerSecond);
  Result<PortfolioView> as_of = StaffPortfolio(**reader, s.As("staff-3"), "staff-7", Known(later));
  INFO(as_of.status().ToString());
  REQUIRE(as_of.ok());
  CHECK(!as_of->behind);
}

// --- accountability ---

TEST_CASE("accountability of a member of staff lists their items, judges overdue against now and records the read",
          "[service][staff]") {
  SampleStore s;
  AccountabilityFilter filter;
  filter.staff = "staff-7";
  Result<AccountabilityView> v = Accountability(*s.log, s.As("staff-3"), filter, s.now);
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  CHECK(v->detail);
  CHECK(v->report.now == s.now);
  REQUIRE(v->report.requests.size() == 2);
  CHECK(v->report.requests[0].request_id == "req-9002");
  CHECK(v->report.requests[1].request_id == "req-9003");
  REQUIRE(v->report.commitments.size() == 1);
  CHECK(v->report.commitments[0].outcome == CommitmentOutcome::kOverdue);  // com-3002 was due 2025-07-01
  REQUIRE(v->report.by_staff.size() == 1);
  CHECK(v->report.by_staff[0].overdue == 1);
  const RecordedRead read = ReadOf(s.Reads("staff-3").back());
  CHECK(read.view == R"("accountability")");
  CHECK(read.customers == std::vector<std::string>{R"("customer-1002")", R"("customer-1004")"});
  CHECK(read.count == "3");
  const std::string json = AccountabilityViewToJson(*v);
  CHECK(json.find(R"({"kind":"request","customer":"customer-1002","request_id":"req-9002")") == 0);
  CHECK(json.find(R"({"kind":"staff","staff":"staff-7")") != std::string::npos);

  // Before it fell due, the same promise is pending.
  Result<AccountabilityView> earlier = Accountability(*s.log, s.As("staff-3"), filter, At("2025-06-01T00:00:00Z"));
  REQUIRE(earlier.ok());
  CHECK(earlier->report.by_staff[0].overdue == 0);
  CHECK(earlier->report.by_staff[0].pending == 1);
}

TEST_CASE("company-wide accountability gives summaries only and records no read", "[service][staff]") {
  SampleStore s;
  const Position end = s.log->end();
  Result<AccountabilityView> v = Accountability(*s.log, Caller{}, AccountabilityFilter{}, s.now);
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  CHECK(!v->detail);
  CHECK(!v->report.by_staff.empty());
  const std::string json = AccountabilityViewToJson(*v);
  CHECK(json.find(R"("kind":"request")") == std::string::npos);
  CHECK(json.find(R"({"kind":"staff","staff":"staff-12")") != std::string::npos);
  CHECK(s.log->end() == end);
}

TEST_CASE("accountability refuses a period that ends before it starts", "[service][staff]") {
  SampleStore s;
  AccountabilityFilter filter;
  filter.from = At("2026-02-01T00:00:00Z");
  filter.to = At("2026-01-01T00:00:00Z");
  Result<AccountabilityView> v = Accountability(*s.log, s.As("staff-3"), filter, s.now);
  REQUIRE(!v.ok());
  CHECK(v.status().code() == StatusCode::kInvalidArgument);
  CHECK(v.status().message() == "the period ends at 2026-01-01T00:00:00Z, not after it starts at 2026-02-01T00:00:00Z");
}

// --- silent customers ---

TEST_CASE("silent customers are those quiet for longer than the window, cut to what the reader serves",
          "[service][staff]") {
  SampleStore s;
  Result<SilentView> v = SilentCustomers(*s.log, s.As("staff-3"), 60, std::nullopt, s.now);
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  CHECK(v->report.now == s.now);
  CHECK(v->report.days == 60);
  // customer-1001 was called on 2026-03-03, 38 days before; the others not since 2025.
  std::vector<std::string> silent;
  for (const SilentCustomer& c : v->report.silent) silent.push_back(c.customer);
  CHECK(silent == std::vector<std::string>{"customer-1002", "customer-1003", "customer-1004"});
  CHECK(v->report.wins.empty());  // the won deal had a meeting 41 days before
  CHECK(v->scope.left_out == 0);
  CHECK(v->scope.reader.staff() == "staff-3");
  CHECK(!v->scope.reader.company_wide());
  const RecordedRead read = ReadOf(s.Reads("staff-3").back());
  CHECK(read.view == R"("silent")");
  CHECK(read.customers.size() == 3);
  CHECK(read.count == "3");
  CHECK(SilentViewToJson(*v) == SilentCustomerToJson(v->report.silent[0]) + "\n" +
                                    SilentCustomerToJson(v->report.silent[1]) + "\n" +
                                    SilentCustomerToJson(v->report.silent[2]) + "\n");

  // A 30-day window finds the won deal and the order with no contact before them.
  Result<SilentView> month = SilentCustomers(*s.log, s.As("staff-60"), 30, std::nullopt, s.now);
  REQUIRE(month.ok());
  CHECK(month->report.wins.size() == 2);
  CHECK(month->scope.reader.company_wide());
  CHECK(month->scope.left_out == 0);

  // Someone of another team serves none of them: all left out, none read.
  Result<SilentView> outsider = SilentCustomers(*s.log, s.As("staff-50"), 30, std::nullopt, s.now);
  REQUIRE(outsider.ok());
  CHECK(outsider->report.silent.empty());
  CHECK(outsider->report.wins.empty());
  CHECK(outsider->scope.left_out == month->report.silent.size() + 2);
  CHECK(outsider->scope.reader.team() == "south");
  CHECK(ReadOf(s.Reads("staff-50").back()).customers.empty());
  CHECK(SilentViewToJson(*outsider).empty());
}

TEST_CASE("silent customers as of a time measure silence to that time and refuse a negative window",
          "[service][staff]") {
  SampleStore s;
  const Timestamp later(SystemClock().Now().value() + int64_t{3600} * kMicrosPerSecond);
  Result<SilentView> v = SilentCustomers(*s.log, s.As("staff-3"), 60, Known(later), s.now);
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  CHECK(v->as_of->at == later);
  CHECK(v->report.now == later);
  CHECK(!v->behind);
  Result<SilentView> negative = SilentCustomers(*s.log, s.As("staff-3"), -1, std::nullopt, s.now);
  REQUIRE(!negative.ok());
  CHECK(negative.status().code() == StatusCode::kInvalidArgument);
}

// --- departures and orphans ---

TEST_CASE("a departure stays open until nothing is left with the leaver", "[service][staff]") {
  SampleStore s;
  // staff-8 announces a departure while still owning a customer.
  s.Add("staff-8", "staff.joined", "system:hr-sync", R"({"role":"account_executive","team":"north"})");
  s.Add("customer-1005", "customer.registered", "staff-8", R"({"name":"Kessler"})");
  s.Add("customer-1005", "customer.owner_assigned", "staff-3", R"({"owner":"staff-8","reason":"initial"})");
  s.Add("staff-8", "staff.departure_announced", "system:hr-sync",
        R"({"effective_at":"2026-05-31T00:00:00Z","reason":"resignation"})");
  s.CatchUp();
  Result<DepartureList> l = Departures(*s.log, CompletedDepartures::kLeaveOut);
  INFO(l.status().ToString());
  REQUIRE(l.ok());
  REQUIRE(l->departures.size() == 2);
  const Departure& d12 = l->departures[0];
  CHECK(d12.staff == "staff-12");
  CHECK(d12.state == DepartureState::kIncomplete);
  CHECK(d12.customers == 0);
  CHECK(d12.requests == 1);
  CHECK(d12.successor == "staff-7");
  const Departure& d8 = l->departures[1];
  CHECK(d8.staff == "staff-8");
  CHECK(d8.state == DepartureState::kOpen);
  CHECK(d8.customers == 1);
  CHECK(DepartureStateText(d8.state) == "open: work still with the leaver");
  CHECK(DepartureListToJson(*l) ==
        std::string(R"({"staff":"staff-12","announced_at":"2026-02-16T08:00:00Z","effective_at":"2026-03-31T00:00:00Z",)"
                    R"("departed_at":"2026-03-31T00:00:00Z","successor":"staff-7","customers":0,"requests":1,)"
                    R"("commitments":0,"complete":false})"
                    "\n"
                    R"({"staff":"staff-8","announced_at":"2026-04-01T08:00:00Z","effective_at":"2026-05-31T00:00:00Z",)"
                    R"("departed_at":null,"successor":null,"customers":1,"requests":0,"commitments":0,"complete":false})"
                    "\n"));

  // req-9001 reassigned and staff-8's customer handed over.
  s.Add("customer-1001", "request.assigned", "staff-3",
        R"({"request_id":"req-9001","assignee":"staff-7","previous_assignee":"staff-12"})");
  s.Add("customer-1005", "customer.owner_assigned", "staff-3",
        R"({"owner":"staff-7","previous_owner":"staff-8","reason":"departure"})");
  s.CatchUp();
  Result<DepartureList> after = Departures(*s.log, CompletedDepartures::kLeaveOut);
  REQUIRE(after.ok());
  REQUIRE(after->departures.size() == 1);
  CHECK(after->departures[0].staff == "staff-8");
  CHECK(after->departures[0].state == DepartureState::kNothingLeft);
  Result<DepartureList> all = Departures(*s.log, CompletedDepartures::kInclude);
  REQUIRE(all.ok());
  REQUIRE(all->departures.size() == 2);
  CHECK(all->departures[0].complete());
  CHECK(DepartureListToJson(*all).find(R"("complete":true)") != std::string::npos);
}

TEST_CASE("orphans are what leavers still hold, cut to what the reader serves, and the read is recorded",
          "[service][staff]") {
  SampleStore s;
  Result<OrphanList> l = Orphans(*s.log, s.As("staff-3"), s.now);
  INFO(l.status().ToString());
  REQUIRE(l.ok());
  REQUIRE(l->orphans.size() == 1);
  CHECK(l->orphans[0].held_by == "staff-12");
  CHECK(l->orphans[0].entry.customer == "customer-1001");
  CHECK(!l->orphans[0].entry.owned);
  CHECK(l->scope.left_out == 0);
  CHECK(OrphanListToJson(*l) ==
        std::string(R"({"customer":"customer-1001","held_by":"staff-12","departed_at":"2026-03-31T00:00:00Z",)"
                    R"("owned":false,"requests":1,"commitments":0})"
                    "\n"));
  const RecordedRead read = ReadOf(s.Reads("staff-3").back());
  CHECK(read.view == R"("orphans")");
  CHECK(read.customers == std::vector<std::string>{R"("customer-1001")"});
  CHECK(read.count == "1");

  Result<OrphanList> outsider = Orphans(*s.log, s.As("staff-50"), s.now);
  REQUIRE(outsider.ok());
  CHECK(outsider->orphans.empty());
  CHECK(outsider->scope.left_out == 1);
  CHECK(OrphanListToJson(*outsider).empty());
}

// --- as of a time ---

TEST_CASE("departures and orphans as of a business time before staff-12 left show them leaving, not gone",
          "[service][staff]") {
  SampleStore s;
  // staff-12 announced on 2026-02-16 and departed on 2026-03-31.
  Result<DepartureList> before = Departures(*s.log, CompletedDepartures::kInclude, Happened(At("2026-03-01T00:00:00Z")));
  INFO(before.status().ToString());
  REQUIRE(before.ok());
  REQUIRE(before->departures.size() == 1);
  CHECK(before->departures[0].staff == "staff-12");
  CHECK(!before->departures[0].departed_at);
  CHECK(before->departures[0].state == DepartureState::kOpen);
  CHECK(before->as_of->business());
  // Before the announcement, no departure at all.
  Result<DepartureList> earlier =
      Departures(*s.log, CompletedDepartures::kInclude, Happened(At("2026-02-01T00:00:00Z")));
  REQUIRE(earlier.ok());
  CHECK(earlier->departures.empty());
  // And now, departed.
  Result<DepartureList> now = Departures(*s.log, CompletedDepartures::kInclude);
  REQUIRE(now.ok());
  REQUIRE(now->departures.size() == 1);
  CHECK(now->departures[0].departed_at == At("2026-03-31T00:00:00Z"));

  // Nobody had left by 2026-03-01, so nothing was orphaned then; the read is
  // recorded under the as-of view even when it lists nothing.
  Result<OrphanList> orphans = Orphans(*s.log, s.As("staff-3"), s.now, Happened(At("2026-03-01T00:00:00Z")));
  REQUIRE(orphans.ok());
  CHECK(orphans->orphans.empty());
  CHECK(ReadOf(s.Reads("staff-3").back()).view == R"("orphans_as_of_business")");
  Result<OrphanList> after = Orphans(*s.log, s.As("staff-3"), s.now, Happened(At("2026-04-05T00:00:00Z")));
  REQUIRE(after.ok());
  REQUIRE(after->orphans.size() == 1);
  CHECK(after->orphans[0].held_by == "staff-12");
}

TEST_CASE("accountability as of a time judges overdue at that time, by what had happened or was recorded by then",
          "[service][staff]") {
  SampleStore s;
  AccountabilityFilter filter;
  filter.staff = "staff-7";
  // com-3002 fell due on 2025-07-01: pending as things stood on 2025-06-15.
  Result<AccountabilityView> then = Accountability(*s.log, s.As("staff-3"), filter, s.now, Happened(At("2025-06-15T00:00:00Z")));
  INFO(then.status().ToString());
  REQUIRE(then.ok());
  CHECK(then->report.now == At("2025-06-15T00:00:00Z"));
  REQUIRE(then->report.by_staff.size() == 1);
  CHECK(then->report.by_staff[0].overdue == 0);
  CHECK(then->report.by_staff[0].pending == 1);
  REQUIRE(then->report.requests.size() == 1);  // req-9003 was opened on 2025-07-15
  CHECK(then->report.requests[0].request_id == "req-9002");
  CHECK(ReadOf(s.Reads("staff-3").back()).view == R"("accountability_as_of_business")");

  // Knowledge time: the sample was recorded when this test imported it, so
  // as of an hour from now everything is known (and overdue at that time),
  // and as of 2025 nothing was.
  const Timestamp later(SystemClock().Now().value() + int64_t{3600} * kMicrosPerSecond);
  Result<AccountabilityView> known = Accountability(*s.log, s.As("staff-3"), filter, s.now, Known(later));
  REQUIRE(known.ok());
  CHECK(known->report.now == later);
  CHECK(known->report.requests.size() == 2);
  CHECK(known->report.by_staff[0].overdue == 1);
  CHECK(ReadOf(s.Reads("staff-3").back()).view == R"("accountability_as_of")");
  Result<AccountabilityView> unknown =
      Accountability(*s.log, s.As("staff-3"), filter, s.now, Known(At("2025-06-15T00:00:00Z")));
  REQUIRE(unknown.ok());
  CHECK(unknown->report.by_staff.empty());
}

TEST_CASE("a portfolio and silent customers as of a business time", "[service][staff]") {
  SampleStore s;
  // staff-12 held customers until their handover to staff-7 in March 2026.
  Result<PortfolioView> before = StaffPortfolio(*s.log, s.As("staff-3"), "staff-12", Happened(At("2026-03-01T00:00:00Z")));
  INFO(before.status().ToString());
  REQUIRE(before.ok());
  Result<PortfolioView> now = StaffPortfolio(*s.log, s.As("staff-3"), "staff-12", std::nullopt);
  REQUIRE(now.ok());
  CHECK(before->owned() > now->owned());
  CHECK(ReadOf(s.Reads("staff-3").back()).view == R"("portfolio")");
  // Silence is measured to the as-of time.
  Result<SilentView> v = SilentCustomers(*s.log, s.As("staff-3"), 60, Happened(At("2026-03-01T00:00:00Z")), s.now);
  REQUIRE(v.ok());
  CHECK(v->report.now == At("2026-03-01T00:00:00Z"));
  CHECK(ReadOf(s.Reads("staff-3").back()).view == R"("silent_as_of_business")");
  // Before anything happened, nobody owned anything.
  Result<PortfolioView> nothing = StaffPortfolio(*s.log, s.As("staff-3"), "staff-12", Happened(At("2020-01-01T00:00:00Z")));
  CHECK(nothing.status().code() == StatusCode::kNotFound);
  CHECK_THAT(nothing.status().message(), Catch::Contains("happened by 2020-01-01T00:00:00Z"));
}

TEST_CASE("a read that cannot be recorded returns no data", "[service][staff]") {
  SampleStore s;
  // staff-12 has left: the log's rules refuse to record a read of theirs.
  const Position end = s.log->end();
  Result<OrphanList> l = Orphans(*s.log, s.As("staff-12"), s.now);
  REQUIRE(!l.ok());
  CHECK(l.status().code() == StatusCode::kRuleViolation);
  Result<PortfolioView> p = StaffPortfolio(*s.log, s.As("staff-12"), "staff-7", std::nullopt);
  CHECK(p.status().code() == StatusCode::kRuleViolation);
  Result<SilentView> v = SilentCustomers(*s.log, s.As("staff-12"), 60, std::nullopt, s.now);
  CHECK(v.status().code() == StatusCode::kRuleViolation);
  // Not a member of staff at all.
  Result<OrphanList> nobody = Orphans(*s.log, s.As("nobody"), s.now);
  CHECK(!nobody.ok());
  CHECK(s.log->end() == end);
}

}  // namespace
}  // namespace custodian
