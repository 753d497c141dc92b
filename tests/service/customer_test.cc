#include "service/customer.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "replay/people.h"
#include "service/store.h"
#include "tests/service/customer_store.h"

namespace custodian {
namespace {

namespace json = boost::json;
using testing::CustomerStore;
using testing::Text;

TEST_CASE("customer show reads the caught-up projection, opens the contacts and records the read", "[customer]") {
  CustomerStore s;
  REQUIRE(CatchUpProjections(*s.log).ok());
  Result<CustomerView> v = ShowCustomer(*s.log, s.As("staff-7"), "customer-42", std::nullopt, s.now);
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  CHECK(v->state.name == "Acme Lda");
  CHECK(v->state.owner == "staff-8");
  CHECK(v->state.orders == 1);
  CHECK(v->at == s.now);
  CHECK(!v->as_of);
  REQUIRE(v->people.size() == 1);
  CHECK(v->people[0].contact_id == "c-1");
  CHECK(v->people[0].personal.Field("name") == "Ana Lima");
  // The contact was last spoken to never; the customer neither: no days to count.
  CHECK(!v->DaysSinceLastContact());

  const std::vector<json::object> reads = s.Reads("staff-7");
  REQUIRE(reads.size() == 1);
  CHECK(Text(reads[0], "view") == "customer_profile");
  CHECK(reads[0].at("customers").as_array() == json::array{"customer-42"});

  // The API's JSON is what `customer show --json` always printed: the
  // customer's fields and its people, opened.
  const std::string body = CustomerViewToJson(*v);
  CHECK(body == CustomerWithPeopleToJson(v->state, v->people));
  json::object o = json::parse(body).as_object();
  CHECK(Text(o, "owner") == "staff-8");
  CHECK(o.at("people").as_array().at(0).as_object().at("personal").as_object().at("name") == "Ana Lima");
  CHECK(o.at("contacts").as_object().at("c-1").as_object().contains("personal_positions"));
}

TEST_CASE("customer show replays the stream when the stored projection lags behind the log", "[customer]") {
  CustomerStore s;
  REQUIRE(CatchUpProjections(*s.log).ok());
  // A late order recorded after the projection folded: the stored state lacks it.
  s.Add("customer-42", "order.placed", "staff-8", 30, R"({"order_id":"o-2","value":10,"currency":"EUR"})", "", 0);
  Result<CustomerView> v = ShowCustomer(*s.log, s.As("staff-7"), "customer-42", std::nullopt, s.now);
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  CHECK(v->state.orders == 2);
}

TEST_CASE("customer show of an unknown customer is NotFound naming it and records nothing", "[customer]") {
  CustomerStore s;
  REQUIRE(CatchUpProjections(*s.log).ok());
  for (bool caught_up : {true, false}) {
    INFO(caught_up);
    if (!caught_up) s.Add("customer-42", "note.added", "staff-7", 1, R"({"text":"projection lags now"})");
    Result<CustomerView> v = ShowCustomer(*s.log, s.As("staff-7"), "customer-999", std::nullopt, s.now);
    CHECK(v.status().code() == StatusCode::kNotFound);
    CHECK_THAT(v.status().message(), Catch::Contains("customer-999 has no events"));
  }
  CHECK(s.Reads("staff-7").empty());
}

TEST_CASE("customer show as of a business time folds what had happened and points out the late entries", "[customer]") {
  CustomerStore s;
  const AsOfTime at{s.DaysAgo(30), AsOf::kBusiness};
  Result<CustomerView> v = ShowCustomer(*s.log, s.As("staff-7"), "customer-42", at, s.now);
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  CHECK(v->at == s.DaysAgo(30));
  CHECK(v->state.owner == "staff-8");
  CHECK(v->state.orders == 1);
  CHECK(v->events_folded == 9);
  REQUIRE(v->late.size() == 1);
  CHECK(v->late[0].position == s.order.value());
  CHECK(v->late[0].type == "order.placed");
  // The order also occurred by then but was recorded only later: "not known then".
  REQUIRE(v->not_known_then.size() == 1);
  CHECK(v->not_known_then[0].position == s.order.value());
  CHECK(v->people.at(0).personal.Field("email") == "ana@example.com");

  json::object o = json::parse(CustomerViewToJson(*v)).as_object();
  CHECK(Text(o, "by") == "business");
  CHECK(Text(o, "as_of") == FormatRfc3339(s.DaysAgo(30)));
  CHECK(o.at("events_folded").to_number<uint64_t>() == 9);
  CHECK(o.at("late_positions").as_array() == json::array{s.order.value()});
  CHECK(o.at("not_known_then_positions").as_array() == json::array{s.order.value()});
  CHECK(Text(o.at("customer").as_object(), "owner") == "staff-8");

  const std::vector<json::object> reads = s.Reads("staff-7");
  REQUIRE(reads.size() == 1);
  CHECK(Text(reads[0], "view") == "customer_as_of_business");
  CHECK(reads[0].at("count").to_number<uint64_t>() == 9);
}

TEST_CASE("customer show as of a knowledge time leaves out what was recorded later", "[customer]") {
  CustomerStore s;
  Result<CustomerView> then =
      ShowCustomer(*s.log, s.As("staff-7"), "customer-42", AsOfTime{s.DaysAgo(55), AsOf::kKnowledge}, s.now);
  REQUIRE(then.ok());
  CHECK(then->state.owner == "staff-7");
  CHECK(then->state.orders == 0);
  CHECK(then->not_known_then.empty());
  Result<CustomerView> later =
      ShowCustomer(*s.log, s.As("staff-7"), "customer-42", AsOfTime{s.DaysAgo(30), AsOf::kKnowledge}, s.now);
  REQUIRE(later.ok());
  CHECK(later->state.owner == "staff-8");
  CHECK(later->state.orders == 0);  // it occurred by then but was recorded ten days later
  for (const json::object& read : s.Reads("staff-7")) CHECK(Text(read, "view") == "customer_as_of");
  // Before anything was recorded: an empty picture, not an error.
  Result<CustomerView> before =
      ShowCustomer(*s.log, s.As("staff-7"), "customer-42", AsOfTime{s.DaysAgo(95), AsOf::kKnowledge}, s.now);
  REQUIRE(before.ok());
  CHECK(before->events_folded == 0);
  CHECK(Text(json::parse(CustomerViewToJson(*before)).as_object(), "by") == "knowledge");
}

TEST_CASE("a reader who has left is refused by every customer query and shown nothing", "[customer]") {
  CustomerStore s;
  REQUIRE(CatchUpProjections(*s.log).ok());
  const uint64_t end = s.log->end().value();
  Result<CustomerView> show = ShowCustomer(*s.log, s.As("staff-9"), "customer-42", std::nullopt, s.now);
  CHECK(show.status().code() == StatusCode::kRuleViolation);
  CHECK_THAT(show.status().message(), Catch::Contains("staff-9"));
  CHECK(
      ShowCustomer(*s.log, s.As("staff-9"), "customer-42", AsOfTime{s.now, AsOf::kKnowledge}, s.now).status().code() ==
      StatusCode::kRuleViolation);
  CHECK(CustomerTimeline(*s.log, s.As("staff-9"), "customer-42").status().code() == StatusCode::kRuleViolation);
  CHECK(CustomerCustody(*s.log, s.As("staff-9"), "customer-42", {}).status().code() == StatusCode::kRuleViolation);
  CHECK(s.log->end().value() == end);
}

TEST_CASE("a caller who may not see personal data reads the customer and its timeline with every person sealed",
          "[customer]") {
  CustomerStore s;
  REQUIRE(CatchUpProjections(*s.log).ok());
  Caller auditor = s.As("staff-7");
  auditor.personal = PersonalData::kSealed;
  Result<CustomerView> v = ShowCustomer(*s.log, auditor, "customer-42", std::nullopt, s.now);
  REQUIRE(v.ok());
  REQUIRE(v->people.size() == 1);
  CHECK(v->people[0].personal.state == OpenedPersonal::State::kUnavailable);
  CHECK(v->people[0].personal.why == kPersonalSealedForRole);
  const std::string body = CustomerViewToJson(*v);
  CHECK(body.find("Ana Lima") == std::string::npos);
  Result<CustomerTimelineResult> t = CustomerTimeline(*s.log, auditor, "customer-42");
  REQUIRE(t.ok());
  CHECK(CustomerTimelineToJson(*t).find("Ana Lima") == std::string::npos);
  // The same reads opened for a caller who may.
  Result<CustomerView> opened = ShowCustomer(*s.log, s.As("staff-7"), "customer-42", std::nullopt, s.now);
  REQUIRE(opened.ok());
  CHECK(CustomerViewToJson(*opened).find("Ana Lima") != std::string::npos);
  // Both reads were recorded all the same.
  CHECK(s.Reads("staff-7").size() == 3);
}

TEST_CASE("the timeline gives every event in words, opened, with a retraction beside the note it retracts",
          "[customer]") {
  CustomerStore s;
  Result<CustomerTimelineResult> t = CustomerTimeline(*s.log, s.As("staff-7"), "customer-42");
  INFO(t.status().ToString());
  REQUIRE(t.ok());
  CHECK(t->customer == "customer-42");
  REQUIRE(t->entries.size() == 9);
  CHECK(t->personal_unavailable.empty());
  const TimelineEntry* note = nullptr;
  const TimelineEntry* order = nullptr;
  for (const TimelineEntry& e : t->entries) {
    if (e.event.position == s.note) note = &e;
    if (e.event.position == s.order) order = &e;
    if (e.event.position == s.contact_added) {
      CHECK(e.summary == "contact c-1 added (buyer)");
      CHECK_THAT(e.event.personal_plain, Catch::Contains("Ana Lima"));
    }
    if (e.event.position != s.note) CHECK(e.fixes.empty());
  }
  REQUIRE(note != nullptr);
  CHECK(note->summary == "note: wrong customer, sorry");
  CHECK(!note->late);
  REQUIRE(note->fixes.size() == 1);
  CHECK(note->fixes[0].retracted);
  CHECK(note->fixes[0].actor == "staff-7");
  CHECK(note->fixes[0].position == s.retraction.value());
  CHECK_THAT(note->fixes[0].data, Catch::Contains("logged on the wrong customer"));
  REQUIRE(order != nullptr);
  CHECK(order->late);
  CHECK(order->summary == "order o-1: 1200.50 EUR");  // the amount as written

  const std::vector<json::object> reads = s.Reads("staff-7");
  REQUIRE(reads.size() == 1);
  CHECK(Text(reads[0], "view") == "timeline");
  CHECK(reads[0].at("count").to_number<uint64_t>() == 9);

  // JSON Lines: one event a line, with the log's fields and the opened part.
  const std::string lines = CustomerTimelineToJson(*t);
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 9);
  CHECK(lines.back() == '\n');
  json::object first = json::parse(lines.substr(0, lines.find('\n'))).as_object();
  CHECK(Text(first, "type") == "customer.registered");
  CHECK(first.contains("position"));
  CHECK_THAT(lines, Catch::Contains("Ana Lima"));
  // Each line ends with what the timeline says of the event: in words, late
  // or not, and its fixes (the retraction beside the note).
  bool saw_note = false, saw_order = false;
  for (size_t start = 0; start < lines.size();) {
    const size_t end = lines.find('\n', start);
    const json::object line = json::parse(lines.substr(start, end - start)).as_object();
    start = end + 1;
    REQUIRE(line.contains("timeline"));
    const json::object& about = line.at("timeline").as_object();
    const uint64_t position = line.at("position").to_number<uint64_t>();
    if (position == s.note.value()) {
      saw_note = true;
      CHECK(Text(about, "summary") == "note: wrong customer, sorry");
      REQUIRE(about.at("fixes").as_array().size() == 1);
      const json::object& fix = about.at("fixes").as_array()[0].as_object();
      CHECK(Text(fix, "kind") == "retracted");
      CHECK(Text(fix, "actor") == "staff-7");
      CHECK(fix.at("position").to_number<uint64_t>() == s.retraction.value());
      CHECK(Text(fix, "summary") == note->fixes[0].summary);
    } else {
      CHECK(about.at("fixes").as_array().empty());
    }
    if (position == s.order.value()) {
      saw_order = true;
      CHECK(about.at("late").as_bool());
      CHECK(Text(about, "summary") == "order o-1: 1200.50 EUR");
    }
    CHECK_FALSE(about.contains("backfill"));
  }
  CHECK(saw_note);
  CHECK(saw_order);

  CHECK(CustomerTimeline(*s.log, s.As("staff-7"), "customer-999").status().code() == StatusCode::kNotFound);
  CHECK(s.Reads("staff-7").size() == 1);
}

TEST_CASE("a run of events loaded together long after they occurred is one backfill, said once, not each late",
          "[customer]") {
  CustomerStore s;
  // customer-43 migrated from an old CRM ten days ago: five events of half a year before, recorded together.
  std::vector<Position> migrated;
  migrated.push_back(s.Add("customer-43", "customer.registered", "staff-7", 200, R"({"name":"Beta SA"})", "", 10));
  for (int day : {190, 180, 170, 160}) {
    migrated.push_back(s.Add("customer-43", "note.added", "staff-7", day, R"({"text":"from the old CRM"})", "", 10));
  }
  // Then one event as it happened, and one entered late on its own.
  s.Add("customer-43", "note.added", "staff-7", 5, R"({"text":"live"})");
  const Position late = s.Add("customer-43", "note.added", "staff-7", 30, R"({"text":"forgot this one"})", "", 0);
  s.clock.Set(s.now);
  Result<CustomerTimelineResult> t = CustomerTimeline(*s.log, s.As("staff-7"), "customer-43");
  REQUIRE(t.ok());
  REQUIRE(t->entries.size() == 7);
  REQUIRE(t->backfills.size() == 1);
  const Backfill& b = t->backfills[0];
  CHECK(b.first == 0);
  CHECK(b.count == 5);
  CHECK(b.occurred_from == s.DaysAgo(200));
  CHECK(b.occurred_to == s.DaysAgo(160));
  CHECK(b.recorded_from == s.DaysAgo(10));
  for (size_t i = 0; i < 5; ++i) CHECK_FALSE(t->entries[i].late);
  CHECK_FALSE(t->entries[5].late);
  CHECK(t->entries[6].event.position == late);
  CHECK(t->entries[6].late);  // alone, it stays a late entry
  // In JSON the note stands on the backfill's first event only.
  {
    const std::string lines = CustomerTimelineToJson(*t);
    std::vector<json::object> parsed;
    for (size_t start = 0; start < lines.size();) {
      const size_t end = lines.find('\n', start);
      parsed.push_back(json::parse(lines.substr(start, end - start)).as_object());
      start = end + 1;
    }
    REQUIRE(parsed.size() == 7);
    CHECK(Text(parsed[0].at("timeline").as_object(), "backfill") == BackfillNote(b));
    for (size_t i = 1; i < 7; ++i) CHECK_FALSE(parsed[i].at("timeline").as_object().contains("backfill"));
    CHECK(parsed[6].at("timeline").as_object().at("late").as_bool());
  }
  CHECK(BackfillNote(b) == "-- loaded in one backfill at " + FormatRfc3339(s.DaysAgo(10)).substr(0, 16) +
                               "Z: the next 5 events (occurred " + FormatRfc3339(s.DaysAgo(200)).substr(0, 10) +
                               " to " + FormatRfc3339(s.DaysAgo(160)).substr(0, 10) +
                               ") were recorded then, not as they happened --");
  // Two late events recorded together are too few to be a backfill: each stays late.
  s.Add("customer-44", "customer.registered", "staff-7", 100, R"({"name":"Gamma"})", "", 1);
  s.Add("customer-44", "note.added", "staff-7", 90, R"({"text":"x"})", "", 1);
  s.clock.Set(s.now);
  Result<CustomerTimelineResult> two = CustomerTimeline(*s.log, s.As("staff-7"), "customer-44");
  REQUIRE(two.ok());
  CHECK(two->backfills.empty());
  CHECK(two->entries[0].late);
  CHECK(two->entries[1].late);
}

TEST_CASE("without the master key the timeline shows personal parts sealed and says why", "[customer]") {
  CustomerStore s;
  s.Open(s.tmp.Sub("elsewhere/master.key"));
  Result<CustomerTimelineResult> t = CustomerTimeline(*s.log, s.As("staff-7"), "customer-42");
  INFO(t.status().ToString());
  REQUIRE(t.ok());
  CHECK_THAT(t->personal_unavailable, Catch::Contains("master key"));
  CHECK_THAT(CustomerTimelineToJson(*t), !Catch::Contains("Ana Lima"));
  for (const TimelineEntry& e : t->entries) CHECK(e.event.personal_plain.empty());
}

TEST_CASE("custody gives the chain, the owner at a time and who had a request then", "[customer]") {
  CustomerStore s;
  Result<CustodyAnswer> chain = CustomerCustody(*s.log, s.As("staff-7"), "customer-42", {});
  INFO(chain.status().ToString());
  REQUIRE(chain.ok());
  REQUIRE(chain->chain.size() == 2);
  CHECK(chain->chain[0].owner == "staff-7");
  CHECK(chain->chain[0].to == s.DaysAgo(40));
  CHECK(chain->chain[1].owner == "staff-8");
  CHECK(chain->chain[1].reason == "handover");
  CHECK(chain->chain[1].position == s.handover.value());
  CHECK(!chain->chain[1].to);
  const std::string lines = CustodyAnswerToJson(*chain);
  REQUIRE(std::count(lines.begin(), lines.end(), '\n') == 2);
  json::object second = json::parse(lines.substr(lines.find('\n') + 1)).as_object();
  CHECK(Text(second, "customer") == "customer-42");
  CHECK(Text(second, "owner") == "staff-8");
  CHECK(Text(second, "previous_owner") == "staff-7");
  CHECK(second.at("to").is_null());
  CHECK(second.at("position").to_number<uint64_t>() == s.handover.value());

  Result<CustodyAnswer> then = CustomerCustody(*s.log, s.As("staff-7"), "customer-42", {s.DaysAgo(55), ""});
  REQUIRE(then.ok());
  REQUIRE(then->owner);
  CHECK(then->owner->owner == "staff-7");
  CHECK(then->chain.empty());
  json::object o = json::parse(CustodyAnswerToJson(*then)).as_object();
  CHECK(Text(o, "owner") == "staff-7");
  CHECK(Text(o, "reason") == "initial");
  CHECK(Text(o, "since") == FormatRfc3339(s.DaysAgo(90)));

  Result<CustodyAnswer> nobody = CustomerCustody(*s.log, s.As("staff-7"), "customer-42", {s.DaysAgo(95), ""});
  REQUIRE(nobody.ok());
  CHECK(!nobody->owner);
  CHECK(json::parse(CustodyAnswerToJson(*nobody)).as_object().at("owner").is_null());

  // Before its assignment the request was with whoever opened it; then with the assignee.
  Result<CustodyAnswer> opened = CustomerCustody(*s.log, s.As("staff-7"), "customer-42", {s.DaysAgo(65), "req-1"});
  REQUIRE(opened.ok());
  CHECK(opened->responsible == "staff-7");
  Result<CustodyAnswer> assigned = CustomerCustody(*s.log, s.As("staff-7"), "customer-42", {s.DaysAgo(55), "req-1"});
  REQUIRE(assigned.ok());
  CHECK(assigned->responsible == "staff-8");
  CHECK(Text(json::parse(CustodyAnswerToJson(*assigned)).as_object(), "responsible") == "staff-8");
  Result<CustodyAnswer> before = CustomerCustody(*s.log, s.As("staff-7"), "customer-42", {s.DaysAgo(75), "req-1"});
  REQUIRE(before.ok());
  CHECK(!before->responsible);
  CHECK(json::parse(CustodyAnswerToJson(*before)).as_object().at("responsible").is_null());

  const std::vector<json::object> reads = s.Reads("staff-7");
  REQUIRE(reads.size() == 6);
  CHECK(Text(reads[0], "view") == "custody");
  CHECK(reads[0].at("count").to_number<uint64_t>() == 2);
}

TEST_CASE("custody of a request the customer never had is NotFound, and a request needs a time", "[customer]") {
  CustomerStore s;
  Result<CustodyAnswer> none = CustomerCustody(*s.log, s.As("staff-7"), "customer-42", {s.now, "req-404"});
  CHECK(none.status().code() == StatusCode::kNotFound);
  CHECK_THAT(none.status().message(), Catch::Contains("customer-42 has no request req-404"));
  Result<CustodyAnswer> untimed = CustomerCustody(*s.log, s.As("staff-7"), "customer-42", {std::nullopt, "req-1"});
  CHECK(untimed.status().code() == StatusCode::kInvalidArgument);
  CHECK(CustomerCustody(*s.log, s.As("staff-7"), "customer-999", {}).status().code() == StatusCode::kNotFound);
  // Only the read that found the customer was recorded.
  CHECK(s.Reads("staff-7").size() == 1);
}

}  // namespace
}  // namespace custodian
