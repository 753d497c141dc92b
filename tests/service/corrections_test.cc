// Corrections and retractions take effect (issue 17): in the stored customer
// projection and in every replay, from the fix on; as of a knowledge time
// before the fix the original stands.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "replay/alerts.h"
#include "replay/customer.h"
#include "service/customer.h"
#include "service/staff.h"
#include "service/store.h"
#include "tests/service/customer_store.h"

namespace custodian {
namespace {

using testing::CustomerStore;

std::string IdAt(const CustomerStore& s, Position p) {
  Result<std::vector<Event>> e = s.log->ReadAll(p, 1);
  REQUIRE(e.ok());
  REQUIRE(e->size() == 1);
  return e->front().id.ToString();
}

// An event.retracted by staff-7 on `stream`, now, naming `target` (data: event_id, then `rest`).
Event Retraction(const CustomerStore& s, const std::string& stream, const std::string& target, const std::string& rest) {
  Event e;
  e.id = testing::RandomId();
  e.stream = stream;
  e.type = "event.retracted";
  e.actor = "staff-7";
  e.occurred_at = s.now;
  e.data = R"({"event_id":")" + target + R"(",)" + rest + "}";
  return e;
}

std::string Sum(const CustomerState& c, const std::string& currency) {
  auto it = c.order_value.find(currency);
  return it == c.order_value.end() ? "" : it->second.ToString();
}

// customer-42 of CustomerStore, then: deal d-1 opened (day -35) and won (day -30); req-1
// answered by staff-8 (day -25); order o-2 (day -24). Then the fixes, each recorded when it
// occurred: the win retracted (day -10), the answer retracted (day -9), order o-1's value
// corrected (day -8), order o-2 retracted (day -7), the handover to staff-8 retracted (day -6).
struct Corrected : CustomerStore {
  Position won, answered, order2;
  Corrected() {
    REQUIRE(CatchUpProjections(*log).ok());  // the stored state holds the originals before the fixes come
    Add("customer-42", "deal.opened", "staff-8", 35,
        R"({"deal_id":"d-1","title":"Fleet","value":5000,"currency":"EUR","stage":"proposal"})");
    won = Add("customer-42", "deal.won", "staff-8", 30, R"({"deal_id":"d-1"})");
    answered = Add("customer-42", "request.responded", "staff-8", 25, R"({"request_id":"req-1","summary":"quoted"})");
    order2 = Add("customer-42", "order.placed", "staff-8", 24, R"({"order_id":"o-2","value":99.90,"currency":"EUR"})");
    clock.Set(now);
    REQUIRE(CatchUpProjections(*log).ok());
    Fix("event.retracted", won, 10, R"("reason":"the customer withdrew before signing")");
    Fix("event.retracted", answered, 9, R"("reason":"the answer went to another customer")");
    Fix("event.corrected", order, 8, R"("reason":"2% discount left out","corrected":{"value":1176.49})");
    Fix("event.retracted", order2, 7, R"("reason":"entered twice")");
    Fix("event.retracted", handover, 6, R"("reason":"the handover was called off")");
    clock.Set(now);
  }
  void Fix(const std::string& type, Position target, int days_ago, const std::string& rest) {
    Add("customer-42", type, "staff-7", days_ago, R"({"event_id":")" + IdAt(*this, target) + R"(",)" + rest + "}");
  }
  CustomerState AsKnown(int days_ago) {
    Result<Replay> r = ReplayCustomer(*log, "customer-42", DaysAgo(days_ago), AsOf::kKnowledge);
    REQUIRE(r.ok());
    return r->state;
  }
};

TEST_CASE("a retracted deal.won is not won as of any time after the retraction, and before it it is",
          "[corrections]") {
  Corrected s;
  const CustomerState before = s.AsKnown(11), after = s.AsKnown(0);
  CHECK(before.deals_won == 1);
  CHECK(before.open_deals.count("d-1") == 0);
  CHECK(after.deals_won == 0);
  CHECK(after.open_deals.count("d-1") == 1);  // open again: only its win was withdrawn
  CHECK(after.retractions == 5);  // with the fixture's retracted note
  CHECK(after.corrections == 1);
}

TEST_CASE("a retracted request.responded leaves the request unanswered", "[corrections]") {
  Corrected s;
  const CustomerState before = s.AsKnown(10), after = s.AsKnown(0);
  REQUIRE(before.open_requests.count("req-1") == 1);
  CHECK(before.open_requests.at("req-1").first_response_at == s.DaysAgo(25));
  REQUIRE(after.open_requests.count("req-1") == 1);
  CHECK_FALSE(after.open_requests.at("req-1").first_response_at.has_value());
}

TEST_CASE("a corrected order.placed counts with its corrected value to the cent, and a retracted one not at all",
          "[corrections]") {
  Corrected s;
  const CustomerState before = s.AsKnown(9), corrected = s.AsKnown(8), after = s.AsKnown(0);
  CHECK(before.orders == 2);
  CHECK(Sum(before, "EUR") == "1300.4");
  CHECK(corrected.orders == 2);
  CHECK(Sum(corrected, "EUR") == "1276.39");
  CHECK(after.orders == 1);  // o-2 retracted
  CHECK(Sum(after, "EUR") == "1176.49");
}

TEST_CASE("a retracted customer.owner_assigned changes the chain of custody", "[corrections]") {
  Corrected s;
  const CustomerState before = s.AsKnown(7), after = s.AsKnown(0);
  CHECK(before.owner == "staff-8");
  CHECK(before.custody.size() == 2);
  CHECK(after.owner == "staff-7");
  REQUIRE(after.custody.size() == 1);
  CHECK(after.custody[0].owner == "staff-7");
  CHECK_FALSE(after.custody[0].to.has_value());
  CHECK(OwnerAt(after, s.DaysAgo(20))->owner == "staff-7");
}

TEST_CASE("the stored projection, folded before and after the fixes, agrees with the replay, and the timeline "
          "keeps the originals beside their fixes",
          "[corrections]") {
  Corrected s;
  REQUIRE(CatchUpProjections(*s.log).ok());
  Result<CustomerState> stored = LoadCustomer(*s.log, "customer-42");
  REQUIRE(stored.ok());
  Result<Replay> replay = ReplayCustomer(*s.log, "customer-42", std::nullopt, AsOf::kKnowledge);
  REQUIRE(replay.ok());
  CHECK(CustomerToJson(*stored) == CustomerToJson(replay->state));
  CHECK(stored->deals_won == 0);
  CHECK(stored->owner == "staff-7");

  Result<CustomerView> shown = ShowCustomer(*s.log, s.As("staff-7"), "customer-42", std::nullopt, s.now);
  REQUIRE(shown.ok());
  CHECK(shown->state.deals_won == 0);
  Result<CustomerTimelineResult> t = CustomerTimeline(*s.log, s.As("staff-7"), "customer-42");
  REQUIRE(t.ok());
  size_t fixed = 0;
  for (const TimelineEntry& entry : t->entries) {
    if (entry.event.position == s.won || entry.event.position == s.order) {
      ++fixed;
      REQUIRE(entry.fixes.size() == 1);
      // In words: what the fix sets, numbers as written, and why.
      CHECK(entry.fixes[0].summary == (entry.event.position == s.won
                                           ? "the customer withdrew before signing"
                                           : "value 1176.49 (2% discount left out)"));
    }
    if (entry.event.type == "event.corrected") {
      CHECK_THAT(entry.summary, Catch::StartsWith("corrects ") && Catch::EndsWith(": value 1176.49 (2% discount left out)"));
    }
  }
  CHECK(fixed == 2);  // both originals are still shown, each with its fix
}

TEST_CASE("the portfolio and silent-customer views follow the fixes too, as of any time", "[corrections]") {
  Corrected s;
  REQUIRE(CatchUpProjections(*s.log).ok());
  auto owns = [&](const std::string& staff, std::optional<AsOfTime> at) {
    Result<PortfolioView> p = StaffPortfolio(*s.log, s.As("staff-7"), staff, at);
    REQUIRE(p.ok());
    for (const PortfolioEntry& e : p->portfolio.customers) {
      if (e.customer == "customer-42") return e.owned;
    }
    return false;
  };
  // The handover to staff-8 was retracted on day -6: before, staff-8 owned it; now staff-7 does.
  const AsOfTime before{s.DaysAgo(7), AsOf::kKnowledge};
  CHECK(owns("staff-8", before));
  CHECK_FALSE(owns("staff-7", before));
  CHECK(owns("staff-7", std::nullopt));
  CHECK_FALSE(owns("staff-8", std::nullopt));

  // Wins without contact: the retracted win and the retracted order are gone; the corrected order stays.
  auto wins = [&](std::optional<AsOfTime> at) {
    Result<SilentView> v = SilentCustomers(*s.log, s.As("staff-7"), 60, at, s.now);
    REQUIRE(v.ok());
    std::vector<std::string> ids;
    for (const UncontactedWin& w : v->report.wins) ids.push_back(w.id);
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  CHECK(wins(AsOfTime{s.DaysAgo(11), AsOf::kKnowledge}) == std::vector<std::string>{"d-1", "o-1", "o-2"});
  CHECK(wins(std::nullopt) == std::vector<std::string>{"o-1"});
}

TEST_CASE("a view as of a business time folds a fix from what had happened by then, not from all recorded before it",
          "[corrections]") {
  CustomerStore s;  // customer-42 handed to staff-8 on day -40; order o-1 placed on day -45
  s.Add("customer-42", "deal.opened", "staff-8", 32,
        R"({"deal_id":"d-2","title":"Renewal","value":800,"currency":"EUR","stage":"proposal"})");
  // A fix that happened on day -36 (the order was entered twice), recorded only now,
  // after the deal: folding "the stream up to the fix" would take the deal in.
  s.Add("customer-42", "event.retracted", "staff-7", 36,
        R"({"event_id":")" + IdAt(s, s.order) + R"(","reason":"entered twice"})", "", /*recorded_days_ago=*/0);
  s.clock.Set(s.now);
  REQUIRE(CatchUpProjections(*s.log).ok());
  auto open_deals = [&](std::optional<AsOfTime> at) -> uint64_t {
    Result<PortfolioView> p = StaffPortfolio(*s.log, s.As("staff-7"), "staff-8", at);
    REQUIRE(p.ok());
    for (const PortfolioEntry& e : p->portfolio.customers) {
      if (e.customer == "customer-42") return e.open_deals;
    }
    FAIL("customer-42 is not in staff-8's portfolio");
    return 0;
  };
  CHECK(open_deals(std::nullopt) == 1);
  CHECK(open_deals(AsOfTime{s.DaysAgo(30), AsOf::kBusiness}) == 1);
  CHECK(open_deals(AsOfTime{s.DaysAgo(35), AsOf::kBusiness}) == 0);  // the deal was opened on day -32
}

TEST_CASE("an erasure, a legal hold or a fix is never itself corrected or retracted, and the refusal says why",
          "[corrections]") {
  CustomerStore s;
  const std::string retraction = IdAt(s, s.retraction);
  Event e = Retraction(s, "customer-42", retraction, R"("reason":"undo the undo")");
  Result<AppendResult> r = s.log->Append("customer-42", {e}, ExpectedVersion::Any());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kRuleViolation);
  CHECK_THAT(r.status().message(), Catch::Contains("rule 'fix'") && Catch::Contains("is a event.retracted") &&
                                       Catch::Contains("fix the original event instead"));
  e.type = "event.corrected";
  e.data = R"({"event_id":")" + retraction + R"(","reason":"x","corrected":{"reason":"y"}})";
  r = s.log->Append("customer-42", {e}, ExpectedVersion::Any());
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("cannot be corrected"));
  // The unfixable types and why.
  CHECK_THAT(UnfixableReason("subject.erased"), Catch::Contains("destroyed the person's key"));
  CHECK_THAT(UnfixableReason("subject.hold_placed"), Catch::Contains("subject.hold_released"));
  CHECK(UnfixableReason("deal.won") == nullptr);
  // A fix goes on the stream of the event it fixes: not on another customer's.
  e.type = "event.retracted";
  e.stream = "customer-43";
  e.data = R"({"event_id":")" + IdAt(s, s.order) + R"(","reason":"wrong stream"})";
  r = s.log->Append("customer-43", {e}, ExpectedVersion::Any());
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("rule 'fix'") && Catch::Contains("is on customer-42, not customer-43"));
  e.stream = "customer-42";
  // A person a correction names is checked as if recorded so: the handover's new owner corrected to someone
  // who never joined would otherwise pass the assignment rule by.
  e.type = "event.corrected";
  e.data = R"({"event_id":")" + IdAt(s, s.handover) + R"(","reason":"typo","corrected":{"owner":"staff-99"}})";
  r = s.log->Append("customer-42", {e}, ExpectedVersion::Any());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kRuleViolation);
  CHECK_THAT(r.status().message(), Catch::Contains("rule 'assignment'") &&
                                       Catch::Contains("owner staff-99 has never joined"));
  // To someone who left, neither; to someone who may have it, the correction goes in.
  e.data = R"({"event_id":")" + IdAt(s, s.handover) + R"(","reason":"typo","corrected":{"owner":"staff-9"}})";
  CHECK_THAT(s.log->Append("customer-42", {e}, ExpectedVersion::Any()).status().message(),
             Catch::Contains("owner staff-9 left on"));
  s.Add("staff-10", "staff.joined", "system:hr-sync", 0, R"({"role":"account_executive","team":"north"})");
  e.data = R"({"event_id":")" + IdAt(s, s.handover) + R"(","reason":"typo","corrected":{"owner":"staff-10"}})";
  Result<AppendResult> fixed = s.log->Append("customer-42", {e}, ExpectedVersion::Any());
  INFO(fixed.status().ToString());
  CHECK(fixed.ok());
  e.id = testing::RandomId();
  // A fix of an ordinary event still goes in.
  e.type = "event.retracted";
  e.data = R"({"event_id":")" + IdAt(s, s.order) + R"(","reason":"entered twice"})";
  CHECK(s.log->Append("customer-42", {e}, ExpectedVersion::Any()).ok());
}

}  // namespace
}  // namespace custodian

namespace custodian {
namespace {

TEST_CASE("a reader's record of a read is never corrected or retracted, not even by the reader", "[corrections]") {
  CustomerStore s;
  REQUIRE(RecordRead(*s.log, s.As("staff-7"), Access{"staff-7", false, "customer_profile", {"customer-42"}, 1}).ok());
  Result<std::vector<Event>> reads = s.log->ReadStream("access-staff-7", StreamVersion(0), Direction::kForward, 1);
  REQUIRE(reads.ok());
  REQUIRE(reads->size() == 1);
  Event e = Retraction(s, "access-staff-7", reads->front().id.ToString(), R"("reason":"I never read it")");
  Result<AppendResult> r = s.log->Append("access-staff-7", {e}, ExpectedVersion::Any());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kRuleViolation);
  CHECK_THAT(r.status().message(), Catch::Contains("rule 'fix'") && Catch::Contains("is a data.viewed") &&
                                       Catch::Contains("the audit's evidence"));
  CHECK_THAT(UnfixableReason("data.exported"), Catch::Contains("the audit's evidence"));
  CHECK_THAT(UnfixableReason("alerts.configured"), Catch::Contains("new alerts.configured"));
}

TEST_CASE("who serves a customer, for the alert rules, follows a retracted handover", "[corrections]") {
  CustomerStore s;
  // staff-10 of another team is handed customer-77 by staff-7: they serve it as its owner.
  s.Add("staff-10", "staff.joined", "system:hr-sync", 99, R"({"role":"account_executive","team":"south"})");
  s.Add("customer-77", "customer.registered", "staff-7", 50, R"({"name":"Beta SA"})");
  s.Add("customer-77", "customer.owner_assigned", "staff-7", 50,
        R"({"owner":"staff-7","previous_owner":null,"reason":"initial"})");
  const Position handover = s.Add("customer-77", "customer.owner_assigned", "staff-7", 20,
                                   R"({"owner":"staff-10","previous_owner":"staff-7","reason":"handover","handover_id":"ho-77"})");
  REQUIRE(CatchUpProjections(*s.log).ok());
  auto serves = [&] {
    Result<ServiceScope> scope = ReaderScope(*s.log, "staff-10");
    REQUIRE(scope.ok());
    Result<bool> r = scope->Serves("customer-77", s.now);
    REQUIRE(r.ok());
    return *r;
  };
  CHECK(serves());
  // The handover is called off: the customer is staff-7's again, and staff-10 serves it no more.
  s.Add("customer-77", "event.retracted", "staff-7", 5,
        R"({"event_id":")" + IdAt(s, handover) + R"(","reason":"the handover was called off"})");
  REQUIRE(CatchUpProjections(*s.log).ok());
  CHECK_FALSE(serves());
  // staff-7, the owner again (and of the same team as before), serves it.
  Result<ServiceScope> seven = ReaderScope(*s.log, "staff-7");
  REQUIRE(seven.ok());
  Result<bool> owner_serves = seven->Serves("customer-77", s.now);
  REQUIRE(owner_serves.ok());
  CHECK(*owner_serves);
}

TEST_CASE("a correction is refused when the corrected event would not be one the log takes, naming the field",
          "[corrections]") {
  CustomerStore s;
  const std::string order = IdAt(s, s.order);  // order.placed o-1: 1200.50 EUR
  auto correct = [&](const std::string& corrected) {
    Event e = Retraction(s, "customer-42", order, R"("reason":"typo","corrected":)" + corrected);
    e.type = "event.corrected";
    return s.log->Append("customer-42", {e}, ExpectedVersion::Any());
  };
  const uint64_t size = s.log->Head()->size;
  struct Refused {
    const char* corrected;
    std::vector<const char*> says;
  };
  const std::vector<Refused> refused = {
      {R"({"value":"a lot"})", {"order.placed", "field 'data.value'", "named as in the event it corrects"}},
      {R"({"value":1.17649e3})", {"field 'data.value'", "plain decimal"}},  // as written, not as a double
      {R"({"currency":"euro"})", {"field 'data.currency'"}},
      {R"({"order_id":"o-9"})", {"field 'data.corrected.order_id'", "retract it and record the right one"}},
  };
  for (const Refused& r : refused) {
    INFO(r.corrected);
    Result<AppendResult> result = correct(r.corrected);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kRuleViolation);
    CHECK_THAT(result.status().message(), Catch::Contains("rule 'fix'"));
    for (const char* says : r.says) CHECK_THAT(result.status().message(), Catch::Contains(says));
  }
  CHECK(s.log->Head()->size == size);  // nothing went in
  // Numbers are checked as written: two decimals are an amount.
  REQUIRE(correct(R"({"value":1176.49,"currency":"EUR"})").ok());
  REQUIRE(CatchUpProjections(*s.log).ok());
  Result<Replay> now = ReplayCustomer(*s.log, "customer-42", s.now, AsOf::kKnowledge);
  REQUIRE(now.ok());
  CHECK(Sum(now->state, "EUR") == "1176.49");
}

}  // namespace
}  // namespace custodian
