#include "replay/people.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "replay/access.h"
#include "replay/accountability.h"
#include "replay/alerts.h"
#include "replay/customer.h"
#include "replay/portfolio.h"
#include "replay/projection.h"
#include "replay/silent.h"
#include "storage/keys.h"
#include "tests/raw_store.h"
#include "tests/replay/crm_test_util.h"

namespace custodian {
namespace {

using testing::Ev;
using testing::RawStore;
using testing::T;
using testing::TempDir;

// What the log holds about con-1 of customer-1, and what must never be found
// in a projection's stored state.
constexpr const char* kPlaintext[] = {"Petra",     "Hartmann",  "p.hartmann@hartmann-logistik.de", "petra@example.org",
                                      "5550 1234", "school run"};

// A log with a master key (kept outside the store, as in production) and
// every projection the command line folds.
struct PeopleFixture {
  TempDir store, keys;
  testing::FixedClock clock{T("2026-01-01T00:00:00Z")};
  std::unique_ptr<EventLog> log;
  std::unique_ptr<ProjectionEngine> engine;
  Position added, updated, talked;

  PeopleFixture() { Open(keys.Sub("master.key")); }
  ~PeopleFixture() { Close(); }

  void Open(const std::string& master_key_file) {
    EventLogOptions options;
    options.create = CreateIfMissing::kYes;
    options.clock = &clock;
    options.master_key_file = master_key_file;
    Result<std::unique_ptr<EventLog>> r = EventLog::Open(store.path(), options);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    log = std::move(*r);
    engine = std::make_unique<ProjectionEngine>(*log);
    engine->Add(MakeCustomerProjection(*log));
    engine->Add(MakePortfolioProjection(log.get()));
    engine->Add(MakeAccountabilityProjection(log.get()));
    engine->Add(MakeSilentProjection(log.get()));
    engine->Add(MakeAccessProjection());
    engine->Add(MakeAlertsProjection());
  }
  void Close() {
    engine.reset();
    log.reset();
  }

  Position Add(const std::string& type, const char* occurred, const std::string& data,
               const std::string& personal = "") {
    Event e = Ev("customer-1", type, "staff-1", occurred, data);
    e.personal_plain = personal;
    clock.Set(e.occurred_at);
    Result<AppendResult> r = log->Append("customer-1", {std::move(e)});
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return r->positions[0];
  }

  // customer-1 with two contacts: con-1, whose personal data comes in two
  // parts and who was last spoken to with personal notes; con-2 with none.
  void AddPeople() {
    Add("customer.registered", "2025-01-01T09:00:00Z", R"({"name":"Acme GmbH"})");
    added = Add("contact.added", "2025-01-02T09:00:00Z",
                R"({"contact_id":"con-1","role":"head of fleet operations","key_contact":true})",
                R"({"name":"Petra Hartmann","email":"p.hartmann@hartmann-logistik.de","phone":"+49 40 5550 1234"})");
    Add("contact.added", "2025-01-02T09:05:00Z", R"({"contact_id":"con-2","role":"controller"})");
    updated = Add("contact.updated", "2025-02-01T09:00:00Z", R"({"contact_id":"con-1","role":"managing director"})",
                  R"({"email":"petra@example.org"})");
    talked = Add("interaction.logged", "2025-03-01T15:30:00Z",
                 R"({"channel":"call","direction":"outbound","contact_id":"con-1"})",
                 R"({"notes":"asked us to call after 3pm, kids' school run"})");
    Add("interaction.logged", "2025-03-02T10:00:00Z", R"({"channel":"email","direction":"inbound"})");
    REQUIRE(engine->CatchUp().ok());
  }

  CustomerState::Contact Stored(const std::string& contact) {
    Result<CustomerState> s = LoadCustomer(*log, "customer-1");
    INFO(s.status().ToString());
    REQUIRE(s.ok());
    REQUIRE(s->contacts.count(contact) == 1);
    return s->contacts.at(contact);
  }
};

TEST_CASE("The stored projections hold no plaintext of a contact, only positions, which open merged at read time",
          "[replay][people]") {
  PeopleFixture f;
  f.AddPeople();
  const CustomerState::Contact con1 = f.Stored("con-1");
  CHECK(con1.personal_positions == std::vector<uint64_t>{f.added.value(), f.updated.value()});
  REQUIRE(con1.last_conversation.has_value());
  CHECK(con1.last_conversation->position == f.talked.value());

  Result<ContactView> v = OpenContact(*f.log, "con-1", con1);
  REQUIRE(v.ok());
  REQUIRE(v->personal.state == OpenedPersonal::State::kOpen);
  CHECK(v->personal.Field("name") == "Petra Hartmann");
  CHECK(v->personal.Field("email") == "petra@example.org");  // the update's, over the first
  CHECK(v->personal.Field("phone") == "+49 40 5550 1234");   // kept from the first
  CHECK(v->contact.role == "managing director");
  REQUIRE(v->last_notes.state == OpenedPersonal::State::kOpen);
  CHECK(v->last_notes.Field("notes") == "asked us to call after 3pm, kids' school run");
  CHECK_THAT(ContactViewToJson(*v),
             Catch::Contains(
                 R"("personal":{"name":"Petra Hartmann","email":"petra@example.org","phone":"+49 40 5550 1234"})"));
  CHECK_THAT(ContactViewToJson(*v), Catch::Contains(R"("notes":"asked us to call after 3pm, kids' school run"})"));

  Result<std::vector<ContactView>> all = OpenContacts(*f.log, *LoadCustomer(*f.log, "customer-1"));
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].contact_id == "con-1");  // the key contact first
  CHECK((*all)[1].personal.state == OpenedPersonal::State::kNone);
  CHECK(OpenedPersonalToJson((*all)[1].personal) == "null");

  // Read the stored state bytes behind the log's back: every projection's
  // keys and values, and none holds what the events' personal parts say.
  f.Close();
  RawStore raw(f.store.path());
  size_t states = 0;
  bool customer_seen = false;
  for (const std::string& key : raw.Keys(keys::kProjectionsFamily)) {
    const std::string value = raw.Get(keys::kProjectionsFamily, key);
    ++states;
    if (key == keys::ProjectionKey(kCustomerProjection, "customer-1")) {
      customer_seen = true;
      CHECK_THAT(value, Catch::Contains(R"("personal_positions":[)" + std::to_string(f.added.value()) + "," +
                                        std::to_string(f.updated.value()) + "]"));
    }
    for (const char* plain : kPlaintext) {
      INFO(key << " holds " << plain);
      CHECK(key.find(plain) == std::string::npos);
      CHECK(value.find(plain) == std::string::npos);
    }
  }
  CHECK(customer_seen);
  CHECK(states > 3);  // the other projections wrote state too, and it was looked at
}

TEST_CASE("After erasure a contact and the notes of the last conversation open as erased, with position and reason",
          "[replay][people]") {
  PeopleFixture f;
  f.AddPeople();
  const Position erased =
      f.Add("subject.erased", "2026-04-15T12:00:00Z",
            R"({"subject":"contact-con-1","reason":"data_subject_request","details":"her request of 3 March"})");
  // The log destroyed the key as it committed the event; destroying it again changes nothing.
  REQUIRE(f.log->DestroySubjectKey("customer-1/contact-con-1", erased.value(), "her request of 3 March").ok());
  REQUIRE(f.engine->CatchUp().ok());

  Result<ContactView> v = OpenContact(*f.log, "con-1", f.Stored("con-1"));
  REQUIRE(v.ok());
  REQUIRE(v->personal.state == OpenedPersonal::State::kErased);
  CHECK(v->personal.erased_position == erased.value());
  CHECK(v->personal.erased_reason == "her request of 3 March");
  CHECK(v->personal.fields.empty());
  REQUIRE(v->last_notes.state == OpenedPersonal::State::kErased);
  CHECK(v->last_notes.erased_position == erased.value());
  const std::string json = ContactViewToJson(*v);
  CHECK_THAT(json, Catch::Contains(R"("personal":{"erased":{"position":)" + std::to_string(erased.value()) +
                                   R"(,"reason":"her request of 3 March"}})"));
  for (const char* plain : kPlaintext) {
    INFO(plain);
    CHECK(json.find(plain) == std::string::npos);
  }
  // The other contact is not touched by it.
  Result<ContactView> other = OpenContact(*f.log, "con-2", f.Stored("con-2"));
  REQUIRE(other.ok());
  CHECK(other->personal.state == OpenedPersonal::State::kNone);
}

TEST_CASE("Without the master key a contact's personal fields are unavailable and say why", "[replay][people]") {
  PeopleFixture f;
  f.AddPeople();
  f.Close();
  f.Open("");
  Result<ContactView> v = OpenContact(*f.log, "con-1", f.Stored("con-1"));
  REQUIRE(v.ok());
  REQUIRE(v->personal.state == OpenedPersonal::State::kUnavailable);
  CHECK_THAT(v->personal.why, Catch::Contains("without a master key"));
  CHECK(v->last_notes.state == OpenedPersonal::State::kUnavailable);
  CHECK_THAT(ContactViewToJson(*v), Catch::Contains(R"("personal":{"unavailable":")"));
  CHECK(ContactViewToJson(*v).find("Petra") == std::string::npos);
}

TEST_CASE("A position past the log's end is NotFound, and one without a personal part is skipped", "[replay][people]") {
  PeopleFixture f;
  f.AddPeople();
  const uint64_t past[] = {f.log->end().value() + 5};
  CHECK(OpenPersonalAt(*f.log, past).status().code() == StatusCode::kNotFound);
  const uint64_t plain[] = {0, f.added.value()};  // customer.registered has no personal part
  Result<OpenedPersonal> p = OpenPersonalAt(*f.log, plain);
  REQUIRE(p.ok());
  CHECK(p->state == OpenedPersonal::State::kOpen);
  CHECK(p->Field("name") == "Petra Hartmann");
}

}  // namespace
}  // namespace custodian
