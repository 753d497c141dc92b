#include "replay/customer.h"

#include <catch2/catch.hpp>

#include "core/time.h"
#include "replay/projection.h"
#include "storage/event_log.h"
#include "tests/replay/crm_test_util.h"

namespace custodian {
namespace {

using testing::Ev;
using testing::T;

// The shared CRM fixture, with the time an event is recorded given first.
struct Fixture : testing::CrmFixture {
  Position Add(const char* recorded, Event e) { return CrmFixture::Add(std::move(e), recorded); }
};

// The history of customer-1, recorded a day after each thing happened.
void AddHistory(Fixture& f) {
  const std::string c = "customer-1";
  f.Add("2025-01-02T00:00:00Z", Ev(c, "customer.registered", "staff-1", "2025-01-01T09:00:00Z",
                                   R"({"name":"Acme GmbH","segment":"mid-market","country":"DE"})"));
  f.Add("2025-01-02T00:00:01Z", Ev(c, "customer.owner_assigned", "staff-9", "2025-01-01T10:00:00Z",
                                   R"({"owner":"staff-1","reason":"initial"})"));
  f.Add("2025-01-06T00:00:00Z", Ev(c, "deal.opened", "staff-1", "2025-01-05T10:00:00Z",
                                   R"({"deal_id":"d1","title":"Fleet","value":1000,"currency":"EUR","stage":"qualification"})"));
  f.Add("2025-01-06T00:00:01Z", Ev(c, "deal.opened", "staff-1", "2025-01-05T11:00:00Z",
                                   R"({"deal_id":"d2","title":"Spares","value":50,"currency":"EUR","stage":"proposal"})"));
  f.Add("2025-01-08T00:00:00Z", Ev(c, "request.opened", "staff-1", "2025-01-07T08:00:00Z",
                                   R"({"request_id":"r1","title":"Price list","priority":"high"})"));
  f.Add("2025-01-08T00:00:01Z", Ev(c, "request.responded", "staff-1", "2025-01-07T09:30:00Z",
                                   R"({"request_id":"r1","channel":"email"})"));
  f.Add("2025-01-08T00:00:02Z", Ev(c, "commitment.made", "staff-1", "2025-01-07T10:00:00Z",
                                   R"({"commitment_id":"c1","promise":"Demo","due_at":"2025-01-20T00:00:00Z"})"));
  f.Add("2025-01-08T00:00:03Z", Ev(c, "commitment.made", "staff-1", "2025-01-07T10:01:00Z",
                                   R"({"commitment_id":"c2","promise":"Quote","due_at":"2025-01-10T00:00:00Z"})"));
  f.Add("2025-01-16T00:00:00Z", Ev(c, "commitment.fulfilled", "staff-1", "2025-01-15T00:00:00Z",
                                   R"({"commitment_id":"c1"})"));
  f.Add("2025-01-16T00:00:01Z", Ev(c, "commitment.fulfilled", "staff-1", "2025-01-15T00:00:00Z",
                                   R"({"commitment_id":"c2"})"));
  f.Add("2025-02-02T00:00:00Z", Ev(c, "deal.won", "staff-1", "2025-02-01T00:00:00Z", R"({"deal_id":"d1","value":900,"currency":"EUR"})"));
  f.Add("2025-02-02T00:00:01Z", Ev(c, "order.placed", "staff-1", "2025-02-01T01:00:00Z",
                                   R"({"order_id":"o1","value":900,"currency":"EUR","deal_id":"d1"})"));
  f.Add("2025-03-02T00:00:00Z", Ev(c, "interaction.logged", "staff-1", "2025-03-01T00:00:00Z",
                                   R"({"channel":"call","direction":"outbound"})"));
  f.Add("2025-06-02T00:00:00Z", Ev(c, "customer.owner_assigned", "staff-9", "2025-06-01T00:00:00Z",
                                   R"({"owner":"staff-2","previous_owner":"staff-1","reason":"handover","handover_id":"h1"})"));
}

TEST_CASE("the customer fold gives the hand-checked picture of a customer", "[replay]") {
  Fixture f;
  AddHistory(f);
  Result<Replay> r = ReplayCustomer(*f.log, "customer-1", std::nullopt, AsOf::kKnowledge);
  REQUIRE(r.ok());
  const CustomerState& s = r->state;
  CHECK(s.name == "Acme GmbH");
  CHECK(s.country == "DE");
  CHECK(s.owner == "staff-2");
  REQUIRE(s.custody.size() == 2);
  CHECK(s.custody[0].owner == "staff-1");
  CHECK(s.custody[0].reason == "initial");
  CHECK(s.custody[0].to == T("2025-06-01T00:00:00Z"));
  CHECK(s.custody[1].owner == "staff-2");
  CHECK(s.custody[1].handover_id == "h1");
  CHECK_FALSE(s.custody[1].to.has_value());
  REQUIRE(s.open_deals.size() == 1);
  CHECK(s.open_deals.count("d2") == 1);
  CHECK(s.deals_won == 1);
  REQUIRE(s.open_requests.size() == 1);
  CHECK(s.open_requests.at("r1").priority == "high");
  CHECK(s.open_requests.at("r1").first_response_at == T("2025-01-07T09:30:00Z"));
  CHECK(s.open_commitments.empty());
  CHECK(s.commitments_kept == 1);  // c1 due the 20th, kept the 15th
  CHECK(s.commitments_late == 1);  // c2 due the 10th, kept the 15th
  CHECK(s.orders == 1);
  CHECK(s.order_value.at("EUR").ToString() == "900");
  REQUIRE(s.last_contact.has_value());
  CHECK(s.last_contact->channel == "call");
  CHECK(s.last_contact->by == "staff-1");
  CHECK(s.events == 14);
}

TEST_CASE("as of knowledge time includes the event recorded at that instant and none after", "[replay]") {
  Fixture f;
  AddHistory(f);
  // The won deal was recorded at exactly 2025-02-02T00:00:00Z.
  Result<Replay> at = ReplayCustomer(*f.log, "customer-1", T("2025-02-02T00:00:00Z"), AsOf::kKnowledge);
  REQUIRE(at.ok());
  CHECK(at->state.deals_won == 1);
  CHECK(at->state.orders == 0);  // recorded one second later
  Result<Replay> before = ReplayCustomer(*f.log, "customer-1", T("2025-02-01T23:59:59Z"), AsOf::kKnowledge);
  REQUIRE(before.ok());
  CHECK(before->state.deals_won == 0);
  CHECK(before->state.open_deals.size() == 2);

  Result<Replay> first = ReplayCustomer(*f.log, "customer-1", T("2025-01-01T00:00:00Z"), AsOf::kKnowledge);
  REQUIRE(first.ok());
  CHECK(first->events.empty());
  CHECK(first->state.events == 0);
  CHECK(first->state.owner.empty());

  Result<Replay> after = ReplayCustomer(*f.log, "customer-1", T("2030-01-01T00:00:00Z"), AsOf::kKnowledge);
  REQUIRE(after.ok());
  Result<Replay> now = ReplayCustomer(*f.log, "customer-1", std::nullopt, AsOf::kKnowledge);
  CHECK(CustomerToJson(after->state) == CustomerToJson(now->state));
}

TEST_CASE("as of business time folds what had happened and names what was not yet known", "[replay]") {
  Fixture f;
  AddHistory(f);
  // A call that happened in February but was only entered in May: a late entry.
  f.Add("2025-05-10T00:00:00Z", Ev("customer-1", "interaction.logged", "staff-1", "2025-02-10T00:00:00Z",
                                   R"({"channel":"visit","direction":"outbound"})"));
  Result<Replay> business = ReplayCustomer(*f.log, "customer-1", T("2025-02-15T00:00:00Z"), AsOf::kBusiness);
  REQUIRE(business.ok());
  REQUIRE(business->state.last_contact.has_value());
  CHECK(business->state.last_contact->channel == "visit");
  REQUIRE(business->late.size() == 1);
  CHECK(business->late[0].occurred_at == T("2025-02-10T00:00:00Z"));
  // By knowledge at the same instant, the visit was unknown.
  Result<Replay> knowledge = ReplayCustomer(*f.log, "customer-1", T("2025-02-15T00:00:00Z"), AsOf::kKnowledge);
  REQUIRE(knowledge.ok());
  CHECK_FALSE(knowledge->state.last_contact.has_value());
  // The business view with an earlier cut-off knows nothing of it yet either.
  Result<Replay> early = ReplayCustomer(*f.log, "customer-1", T("2025-02-09T00:00:00Z"), AsOf::kBusiness);
  REQUIRE(early.ok());
  CHECK_FALSE(early->state.last_contact.has_value());
}

TEST_CASE("who owned the customer at T comes from the custody chain, boundaries included", "[replay]") {
  Fixture f;
  AddHistory(f);
  Result<Replay> r = ReplayCustomer(*f.log, "customer-1", std::nullopt, AsOf::kKnowledge);
  REQUIRE(r.ok());
  CHECK_FALSE(OwnerAt(r->state, T("2025-01-01T09:59:59Z")).has_value());
  CHECK(OwnerAt(r->state, T("2025-01-01T10:00:00Z"))->owner == "staff-1");
  CHECK(OwnerAt(r->state, T("2025-05-31T23:59:59Z"))->owner == "staff-1");
  CHECK(OwnerAt(r->state, T("2025-06-01T00:00:00Z"))->owner == "staff-2");
  CHECK(OwnerAt(r->state, T("2030-01-01T00:00:00Z"))->reason == "handover");
}

TEST_CASE("who was responsible for a request at T: its opener, then each assignee, until resolved", "[replay]") {
  Fixture f;
  AddHistory(f);  // r1 opened by staff-1 on 2025-01-07T08:00
  const std::string c = "customer-1";
  f.Add("2025-01-09T00:00:00Z", Ev(c, "request.assigned", "staff-9", "2025-01-08T12:00:00Z",
                                   R"({"request_id":"r1","assignee":"staff-2"})"));
  f.Add("2025-01-11T00:00:00Z", Ev(c, "request.resolved", "staff-2", "2025-01-10T12:00:00Z", R"({"request_id":"r1"})"));
  Result<Replay> r = ReplayCustomer(*f.log, c, std::nullopt, AsOf::kKnowledge);
  REQUIRE(r.ok());
  CHECK_FALSE(ResponsibleAt(r->state, "r1", T("2025-01-07T07:59:59Z")).has_value());
  CHECK(ResponsibleAt(r->state, "r1", T("2025-01-07T08:00:00Z")) == "staff-1");
  CHECK(ResponsibleAt(r->state, "r1", T("2025-01-08T11:59:59Z")) == "staff-1");
  CHECK(ResponsibleAt(r->state, "r1", T("2025-01-08T12:00:00Z")) == "staff-2");
  CHECK_FALSE(ResponsibleAt(r->state, "r1", T("2025-01-10T12:00:00Z")).has_value());
  CHECK_FALSE(ResponsibleAt(r->state, "r9", T("2025-01-09T00:00:00Z")).has_value());
}

TEST_CASE("the stored projection equals the replay of the same events", "[replay]") {
  Fixture f;
  AddHistory(f);
  ProjectionEngine engine(*f.log);
  engine.Add(MakeCustomerProjection(engine.log()));
  REQUIRE(engine.CatchUp().ok());
  Result<CustomerState> stored = LoadCustomer(*f.log, "customer-1");
  REQUIRE(stored.ok());
  Result<Replay> replayed = ReplayCustomer(*f.log, "customer-1", std::nullopt, AsOf::kKnowledge);
  REQUIRE(replayed.ok());
  CHECK(CustomerToJson(*stored) == CustomerToJson(replayed->state));
  CHECK(LoadCustomer(*f.log, "customer-2").status().code() == StatusCode::kNotFound);
}

TEST_CASE("the stored state survives a JSON round trip unchanged", "[replay]") {
  Fixture f;
  AddHistory(f);
  Result<Replay> r = ReplayCustomer(*f.log, "customer-1", std::nullopt, AsOf::kKnowledge);
  REQUIRE(r.ok());
  const std::string json = CustomerToJson(r->state);
  Result<CustomerState> back = CustomerFromJson(json);
  REQUIRE(back.ok());
  CHECK(CustomerToJson(*back) == json);
}

TEST_CASE("Order values and deal values are summed exactly, never as binary floating point", "[replay]") {
  Fixture f;
  const std::string c = "customer-1";
  f.Add("2025-01-02T00:00:00Z", Ev(c, "customer.registered", "system:crm", "2025-01-01T09:00:00Z", R"({"name":"Acme"})"));
  // 0.1 + 0.2 is 0.30000000000000004 in doubles.
  f.Add("2025-01-02T00:00:01Z",
        Ev(c, "order.placed", "system:crm", "2025-01-01T10:00:00Z", R"({"order_id":"o1","value":0.1,"currency":"EUR"})"));
  f.Add("2025-01-02T00:00:02Z",
        Ev(c, "order.placed", "system:crm", "2025-01-01T10:01:00Z", R"({"order_id":"o2","value":0.2,"currency":"EUR"})"));
  // Three of the largest amounts: far past a double's 2^53 exact integers.
  for (int i = 0; i < 3; ++i) {
    f.Add("2025-01-02T00:00:03Z", Ev(c, "order.placed", "system:crm", "2025-01-01T10:02:00Z",
                                     R"({"order_id":"b)" + std::to_string(i) +
                                         R"(","value":99999999999999.9999,"currency":"USD"})"));
  }
  f.Add("2025-01-02T00:00:04Z", Ev(c, "deal.opened", "system:crm", "2025-01-01T11:00:00Z",
                                   R"({"deal_id":"d1","title":"Fleet","value":1250.50,"currency":"EUR","stage":"s"})"));
  ProjectionEngine engine(*f.log);
  engine.Add(MakeCustomerProjection(engine.log()));
  REQUIRE(engine.CatchUp().ok());
  Result<CustomerState> s = LoadCustomer(*f.log, c);
  REQUIRE(s.ok());
  CHECK(s->order_value.at("EUR").ToString() == "0.3");
  CHECK(s->order_value.at("USD").ToString() == "299999999999999.9997");
  CHECK(s->open_deals.at("d1").value.ToString() == "1250.5");
  const std::string json = CustomerToJson(*s);
  CHECK_THAT(json, Catch::Contains(R"("order_value":{"EUR":"0.3","USD":"299999999999999.9997"})"));
  CHECK_THAT(json, Catch::Contains(R"("value":"1250.5")"));
  Result<CustomerState> back = CustomerFromJson(json);
  REQUIRE(back.ok());
  CHECK(CustomerToJson(*back) == json);
}

TEST_CASE("An amount a store holds from before amounts were exact is left out of sums and named", "[replay]") {
  // Such an event cannot be appended any more; the fold still meets it in old stores.
  CustomerState s;
  Event e = Ev("customer-1", "order.placed", "system:crm", "2025-01-01T10:00:00Z",
               R"({"order_id":"o1","value":1e308,"currency":"EUR"})");
  e.position = Position(41);
  REQUIRE(ApplyToCustomer(s, e).ok());
  e.data = R"({"order_id":"o2","value":1.7e308,"currency":"EUR"})";
  e.position = Position(42);
  REQUIRE(ApplyToCustomer(s, e).ok());
  e.data = R"({"order_id":"o3","value":12.5,"currency":"EUR"})";
  e.position = Position(43);
  REQUIRE(ApplyToCustomer(s, e).ok());
  CHECK(s.orders == 3);
  CHECK(s.order_value.at("EUR").ToString() == "12.5");
  CHECK(s.inexact_amounts == std::vector<uint64_t>{41, 42});
  Result<CustomerState> back = CustomerFromJson(CustomerToJson(s));
  REQUIRE(back.ok());
  CHECK(back->inexact_amounts == s.inexact_amounts);
}

// An event of customer-1 at `position`, as the fold meets it after it was appended.
Event At(uint64_t position, const std::string& type, const char* occurred, const std::string& data,
         const std::string& personal = "") {
  Event e = Ev("customer-1", type, "staff-1", occurred, data);
  e.position = Position(position);
  e.personal_plain = personal;
  return e;
}

TEST_CASE("A contact keeps the positions of the events carrying its personal part and its last conversation, "
          "not the fields",
          "[replay]") {
  CustomerState s;
  const std::string name = R"({"name":"Petra Hartmann","email":"p.hartmann@example.com"})";
  REQUIRE(ApplyToCustomer(s, At(3, "contact.added", "2025-01-01T09:00:00Z", R"({"contact_id":"con-1","role":"buyer"})", name)).ok());
  REQUIRE(ApplyToCustomer(s, At(4, "contact.added", "2025-01-01T09:01:00Z", R"({"contact_id":"con-2","role":"cfo"})")).ok());
  // An update without a personal part changes the role only.
  REQUIRE(ApplyToCustomer(s, At(5, "contact.updated", "2025-01-02T09:00:00Z", R"({"contact_id":"con-1","role":"head of purchasing"})")).ok());
  REQUIRE(ApplyToCustomer(s, At(6, "contact.updated", "2025-01-03T09:00:00Z", R"({"contact_id":"con-1"})",
                                R"({"phone":"+49 40 5550 1234"})")).ok());
  REQUIRE(ApplyToCustomer(s, At(7, "customer.updated", "2025-01-03T10:00:00Z", R"({"contact_id":"con-1","segment":"smb"})",
                                R"({"email":"petra@example.com"})")).ok());
  // Conversations: the latest by business time counts, whatever the order they were recorded in.
  REQUIRE(ApplyToCustomer(s, At(8, "interaction.logged", "2025-02-01T10:00:00Z",
                                R"({"channel":"call","direction":"outbound","contact_id":"con-1"})",
                                R"({"notes":"call after 3pm"})")).ok());
  REQUIRE(ApplyToCustomer(s, At(9, "interaction.logged", "2025-01-15T10:00:00Z",
                                R"({"channel":"visit","direction":"outbound","contact_id":"con-1"})")).ok());
  // One with nobody named, and one with a contact the customer does not have.
  REQUIRE(ApplyToCustomer(s, At(10, "interaction.logged", "2025-03-01T10:00:00Z", R"({"channel":"email","direction":"inbound"})")).ok());
  REQUIRE(ApplyToCustomer(s, At(11, "interaction.logged", "2025-03-02T10:00:00Z",
                                R"({"channel":"chat","direction":"inbound","contact_id":"con-9"})")).ok());
  REQUIRE(s.contacts.size() == 2);
  const CustomerState::Contact& c1 = s.contacts.at("con-1");
  CHECK(c1.role == "head of purchasing");
  CHECK(c1.personal_positions == std::vector<uint64_t>{3, 6, 7});
  REQUIRE(c1.last_conversation.has_value());
  CHECK(c1.last_conversation->position == 8);
  CHECK(c1.last_conversation->at == T("2025-02-01T10:00:00Z"));
  CHECK(c1.last_conversation->channel == "call");
  CHECK(c1.last_conversation->by == "staff-1");
  CHECK(s.contacts.at("con-2").personal_positions.empty());
  CHECK_FALSE(s.contacts.at("con-2").last_conversation.has_value());
  CHECK(s.last_contact->channel == "chat");

  // The stored encoding keeps the positions, round trips, and holds none of the fields.
  const std::string json = CustomerToJson(s);
  CHECK_THAT(json, Catch::Contains(R"("personal_positions":[3,6,7],"last_conversation":{"position":8,)"));
  for (const char* plain : {"Petra", "Hartmann", "example.com", "5550", "3pm"}) {
    INFO(plain);
    CHECK(json.find(plain) == std::string::npos);
  }
  Result<CustomerState> back = CustomerFromJson(json);
  REQUIRE(back.ok());
  CHECK(CustomerToJson(*back) == json);
  CHECK(back->contacts.at("con-1").personal_positions == c1.personal_positions);

  // A removed contact takes its positions with it; added again, it starts afresh.
  REQUIRE(ApplyToCustomer(s, At(12, "contact.removed", "2025-04-01T10:00:00Z", R"({"contact_id":"con-1"})")).ok());
  REQUIRE(ApplyToCustomer(s, At(13, "contact.added", "2025-04-02T10:00:00Z", R"({"contact_id":"con-1"})", name)).ok());
  CHECK(s.contacts.at("con-1").personal_positions == std::vector<uint64_t>{13});
  CHECK_FALSE(s.contacts.at("con-1").last_conversation.has_value());
}

TEST_CASE("Customer state stored in encoding version 1 is refused by LoadCustomer and rebuilt by the engine, never "
          "misread",
          "[replay]") {
  Fixture f;
  AddHistory(f);
  const std::string c = "customer-1";
  f.Add("2025-03-03T00:00:00Z", Ev(c, "contact.added", "staff-1", "2025-03-02T00:00:00Z", R"({"contact_id":"con-1"})"));
  const Position talk = f.Add("2025-03-04T00:00:00Z", Ev(c, "interaction.logged", "staff-1", "2025-03-03T00:00:00Z",
                                                         R"({"channel":"call","direction":"outbound","contact_id":"con-1"})"));
  ProjectionEngine engine(*f.log);
  engine.Add(MakeCustomerProjection(engine.log()));
  REQUIRE(engine.CatchUp().ok());
  CHECK(*f.log->ProjectionStateVersion(kCustomerProjection) == kCustomerStateVersion);
  Result<CustomerState> current = LoadCustomer(*f.log, c);
  REQUIRE(current.ok());
  REQUIRE(current->contacts.at("con-1").last_conversation.has_value());
  CHECK(current->contacts.at("con-1").last_conversation->position == talk.value());
  const std::string good = CustomerToJson(*current);

  // What a program of version 1 stored: the contact without its conversation.
  CustomerState old = *current;
  old.contacts.at("con-1").last_conversation.reset();
  const Position at = *f.log->ProjectionCheckpoint(kCustomerProjection);
  REQUIRE(f.log->ProjectionCommit(kCustomerProjection, {{c, CustomerToJson(old)}}, at, 1).ok());
  CHECK(*f.log->ProjectionStateVersion(kCustomerProjection) == 1);
  Result<CustomerState> refused = LoadCustomer(*f.log, c);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(refused.status().message(), Catch::Contains("in version 1 of the encoding, and this program reads version " + std::to_string(kCustomerStateVersion) + ""));

  // The next catch-up folds it again from position 0, though nothing new was appended.
  REQUIRE(engine.CatchUp().ok());
  CHECK(*f.log->ProjectionStateVersion(kCustomerProjection) == kCustomerStateVersion);
  CHECK(f.log->ProjectionCheckpoint(kCustomerProjection)->value() == f.log->end().value());
  Result<CustomerState> rebuilt = LoadCustomer(*f.log, c);
  REQUIRE(rebuilt.ok());
  CHECK(CustomerToJson(*rebuilt) == good);
}

TEST_CASE("Stored customer state that does not decode names the customer and position, and a rebuild heals it",
          "[replay]") {
  Fixture f;
  AddHistory(f);
  ProjectionEngine engine(*f.log);
  engine.Add(MakeCustomerProjection(engine.log()));
  REQUIRE(engine.CatchUp().ok());
  const Position at = *f.log->ProjectionCheckpoint(kCustomerProjection);
  const std::string good = **f.log->ProjectionGet(kCustomerProjection, "customer-1");
  // What a fold that once wrote Infinity left behind, and other damage.
  for (const std::string& bad :
       {std::string(R"({"id":"customer-1","order_value":{"EUR":Infinity}})"), std::string(R"({"id":"customer-1","order_value":{"EUR":1.5}})"),
        std::string(R"({"id":"customer-1","custody":[7]})"), std::string(R"({"id":"customer-1","open_deals":{"d":{}}})"),
        std::string("not json"), std::string(R"({"id":"customer-1","events":-1})")}) {
    INFO(bad);
    REQUIRE(f.log->ProjectionCommit(kCustomerProjection, {{"customer-1", bad}}, at, kCustomerStateVersion).ok());
    Result<CustomerState> s = LoadCustomer(*f.log, "customer-1");
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == StatusCode::kCorruption);
    CHECK_THAT(s.status().message(), Catch::StartsWith("customer-1 (customer projection, at position " +
                                                       std::to_string(at.value()) + "): the stored customer state"));
    CHECK_THAT(s.status().message(), Catch::EndsWith("`custodian rebuild customer` folds it again from the log"));
  }
  REQUIRE(engine.Rebuild(kCustomerProjection).ok());
  Result<CustomerState> healed = LoadCustomer(*f.log, "customer-1");
  REQUIRE(healed.ok());
  CHECK(CustomerToJson(*healed) == good);
}

}  // namespace
}  // namespace custodian
