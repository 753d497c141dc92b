#include "service/personal.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/rules.h"
#include "core/time.h"
#include "storage/event_log.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

using testing::RandomId;
using testing::TempDir;

// A store with the log's rules and a master key: staff-1 is a compliance
// officer; customer-1 an organization with contact c-1; customer-3 a person.
struct Store {
  TempDir tmp;
  std::unique_ptr<EventLog> log;
  const Timestamp now = *ParseRfc3339("2026-03-01T10:00:00Z");

  Store() {
    EventLogOptions options;
    options.create = CreateIfMissing::kYes;
    options.rules = CheckRules;
    options.master_key_file = tmp.Sub("keys/master.key");
    Result<std::unique_ptr<EventLog>> r = EventLog::Open(tmp.Sub("store"), options);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    log = std::move(*r);
    Add("staff-1", "staff.joined", "system:hr", R"({"role":"compliance_officer"})");
    Add("customer-1", "customer.registered", "staff-1", R"({"name":"Acme Lda"})");
    Add("customer-1", "contact.added", "staff-1", R"({"contact_id":"c-1"})", R"({"name":"Ana Lima"})");
    Add("customer-3", "customer.registered", "staff-1", R"({"kind":"individual"})",
        R"({"name":"Eva Sousa","email":"eva@example.com"})");
  }
  void Add(const std::string& stream, const std::string& type, const std::string& actor, const std::string& data,
           const std::string& personal = "") {
    Event e;
    e.id = RandomId();
    e.stream = stream;
    e.type = type;
    e.actor = actor;
    e.occurred_at = *ParseRfc3339("2026-01-10T00:00:00Z");
    e.data = data;
    e.personal_plain = personal;
    Result<AppendResult> r = log->Append(stream, {e}, ExpectedVersion::Any());
    INFO(r.status().ToString());
    REQUIRE(r.ok());
  }
  SubjectRef Subject(const std::string& text) {
    Result<SubjectRef> s = ParseSubjectArg(text);
    REQUIRE(s.ok());
    return *s;
  }
};

TEST_CASE("holds placed on one subject in the same second without an id each get their own", "[personal]") {
  Store s;
  const SubjectRef ana = s.Subject("customer-1/c-1");
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    Result<std::pair<Hold, uint64_t>> placed = PlaceHold(*s.log, {ana, "staff-1", "", "audit", s.now});
    INFO(placed.status().ToString());
    REQUIRE(placed.ok());
    ids.push_back(placed->first.hold_id);
  }
  CHECK(ids == std::vector<std::string>{"hold-20260301-100000", "hold-20260301-100000-2", "hold-20260301-100000-3"});
  // The same time on another subject starts again.
  Result<std::pair<Hold, uint64_t>> eva = PlaceHold(*s.log, {s.Subject("customer-3"), "staff-1", "", "audit", s.now});
  REQUIRE(eva.ok());
  CHECK(eva->first.hold_id == "hold-20260301-100000");
  Result<std::vector<Hold>> holds = ListHolds(*s.log, ana);
  REQUIRE(holds.ok());
  CHECK(holds->size() == 3);
}

TEST_CASE("a customer who is a person is looked up, held and erased as a subject, an organization is not",
          "[personal]") {
  Store s;
  const SubjectRef eva = s.Subject("customer-3");
  Result<Person> person = LookUpPerson(*s.log, eva);
  INFO(person.status().ToString());
  REQUIRE(person.ok());
  CHECK(person->state == Person::State::kOpen);
  CHECK(person->Field("name") == "Eva Sousa");
  CHECK(person->contact_id.empty());

  const uint64_t end = s.log->end().value();
  Result<Person> company = LookUpPerson(*s.log, s.Subject("customer-1"));
  CHECK(company.status().code() == StatusCode::kNotFound);
  CHECK_THAT(company.status().message(), Catch::Contains("customer-1 is an organization, not a person"));
  Result<ErasureResult> refused = EraseSubject(*s.log, {s.Subject("customer-1"), "staff-1", "", "asked", "", s.now});
  CHECK(refused.status().code() == StatusCode::kNotFound);
  Result<ErasureResult> nobody = EraseSubject(*s.log, {s.Subject("customer-9"), "staff-1", "", "asked", "", s.now});
  CHECK(nobody.status().code() == StatusCode::kNotFound);
  CHECK_THAT(nobody.status().message(), Catch::Contains("customer-9 is not registered"));
  CHECK(PlaceHold(*s.log, {s.Subject("customer-1/c-2"), "staff-1", "h", "x", s.now}).status().code() ==
        StatusCode::kNotFound);
  CHECK(s.log->end().value() == end);

  Result<ErasureResult> erased = EraseSubject(*s.log, {eva, "staff-1", "", "she asked", "", s.now});
  INFO(erased.status().ToString());
  REQUIRE(erased.ok());
  CHECK(erased->position == end);
  CHECK(erased->events_sealed == 1);
  person = LookUpPerson(*s.log, eva);
  REQUIRE(person.ok());
  CHECK(person->state == Person::State::kErased);
  CHECK(person->erased_position == end);
  CHECK(person->erased_reason == "she asked");
  Result<FindResult> found = FindPeople(*s.log, BlindKind::kEmail, "eva@example.com");
  REQUIRE(found.ok());
  CHECK(found->people.empty());
}

}  // namespace
}  // namespace custodian
