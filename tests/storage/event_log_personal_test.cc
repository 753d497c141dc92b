// EventLog and personal data (storage/event_log.h, "Personal data";
// storage/event_log_personal.cc): an erasure the log committed whose key was
// not destroyed, or was put back, is finished by the next read-write open.
// The store is changed behind the log's back with raw RocksDB, as a crash
// between the commit and the key's destruction would leave it.
#include "storage/event_log.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/rules.h"
#include "core/time.h"
#include "storage/keys.h"
#include "tests/raw_store.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

namespace fs = std::filesystem;
using testing::RandomId;
using testing::RawStore;
using testing::TempDir;

constexpr char kSubject[] = "customer-1/contact-c-1";
constexpr char kKeyRecord[] = "k/customer-1/contact-c-1";
constexpr char kErasedMarker[] = "e/customer-1/contact-c-1";

Event Ev(const std::string& stream, const std::string& type, const std::string& actor, const std::string& data,
         const std::string& personal = "") {
  Event e;
  e.id = RandomId();
  e.stream = stream;
  e.type = type;
  e.actor = actor;
  e.occurred_at = *ParseRfc3339("2026-01-10T00:00:00Z");
  e.data = data;
  e.personal_plain = personal;
  return e;
}

// Every regular file under `dir` whose bytes contain `needle`.
size_t FilesHolding(const std::string& dir, const std::string& needle) {
  size_t n = 0;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) ++n;
  }
  return n;
}

// A store with rules and a master key, holding one contact with personal
// data (the event at `added`), erased at `erased_at`; the key record as it
// was before the erasure is in `record`.
struct ErasedContact {
  TempDir tmp;
  std::string dir = tmp.Sub("store");
  std::string master_key = tmp.Sub("keys/master.key");
  Event added;
  uint64_t erased_at = 0;
  std::string record;

  std::unique_ptr<EventLog> Open(EventLogOptions::Mode mode = EventLogOptions::Mode::kReadWrite) {
    EventLogOptions options;
    options.mode = mode;
    options.create = CreateIfMissing::kYes;
    options.rules = CheckRules;
    options.master_key_file = master_key;
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(dir, options);
    INFO(log.status().ToString());
    REQUIRE(log.ok());
    return std::move(*log);
  }

  ErasedContact() {
    {
      auto log = Open();
      REQUIRE(log->Append("staff-1", {Ev("staff-1", "staff.joined", "system:hr", R"({"role":"legal_counsel"})")},
                          ExpectedVersion::Any())
                  .ok());
      Event contact = Ev("customer-1", "contact.added", "staff-1", R"({"contact_id":"c-1"})",
                         R"({"name":"Ana Lima","email":"ana@acme.example"})");
      REQUIRE(log->Append("customer-1", {Ev("customer-1", "customer.registered", "staff-1", R"({"name":"Acme"})"),
                                         contact},
                          ExpectedVersion::Any())
                  .ok());
      Result<std::vector<Event>> events = log->ReadStream("customer-1", StreamVersion(1), Direction::kForward, 1);
      REQUIRE(events.ok());
      REQUIRE(events->size() == 1);
      added = events->front();
      Result<EventLog::PersonalView> open = log->OpenPersonal(added);
      REQUIRE(open.ok());
      REQUIRE(open->state == EventLog::PersonalView::State::kOpen);
    }
    record = RawStore(dir).Get(keys::kKeysFamily, kKeyRecord);
    REQUIRE(FilesHolding(dir, record) > 0);
    auto log = Open();
    Result<AppendResult> r = log->Append(
        "customer-1",
        {Ev("customer-1", "subject.erased", "staff-1", R"({"subject":"contact-c-1","details":"she asked"})")},
        ExpectedVersion::Any());
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    erased_at = r->positions.front().value();
    CheckErased(*log);
  }

  void CheckErased(const EventLog& log) {
    Result<EventLog::PersonalView> view = log.OpenPersonal(added);
    INFO(view.status().ToString());
    REQUIRE(view.ok());
    CHECK(view->state == EventLog::PersonalView::State::kErased);
    CHECK(view->erased_position == erased_at);
    CHECK(view->erased_reason == "she asked");
  }
  std::vector<std::string> Keys() { return RawStore(dir).Keys(keys::kKeysFamily); }
  bool HasKey() {
    std::vector<std::string> keys = Keys();
    return std::find(keys.begin(), keys.end(), kKeyRecord) != keys.end();
  }
};

TEST_CASE("an erasure commits with the key destroyed and gone from every file of the store", "[personal]") {
  ErasedContact c;
  CHECK_FALSE(c.HasKey());
  CHECK(FilesHolding(c.dir, c.record) == 0);
  const std::vector<std::string> keys = c.Keys();
  CHECK(std::find(keys.begin(), keys.end(), kErasedMarker) != keys.end());
  auto log = c.Open();
  CHECK(log->erasures_reapplied() == 0);
  c.CheckErased(*log);
  Result<std::vector<std::string>> found = log->FindSubjects(BlindKind::kName, "lima");
  REQUIRE(found.ok());
  CHECK(found->empty());
}

TEST_CASE("an erasure the log committed whose key was not destroyed is finished by the next read-write open, from "
          "the rules' erased records",
          "[personal]") {
  ErasedContact c;
  // As a crash between the commit and the destruction leaves the store: the
  // key there, no marker, and the erasure not yet listed beside the master key.
  {
    RawStore raw(c.dir);
    raw.Put(keys::kKeysFamily, kKeyRecord, c.record);
    raw.Delete(keys::kKeysFamily, kErasedMarker);
  }
  fs::remove(c.tmp.Sub("keys/erased.jsonl"));
  REQUIRE(c.HasKey());

  {
    // Read-only, nothing is finished (nothing can be written), but the
    // person is erased for this reader all the same: the parts open as
    // erased and the blind index finds nobody, though the key is there.
    auto reader = c.Open(EventLogOptions::Mode::kReadOnly);
    CHECK(reader->erasures_reapplied() == 0);
    c.CheckErased(*reader);
    Result<std::vector<std::string>> found = reader->FindSubjects(BlindKind::kName, "lima");
    REQUIRE(found.ok());
    CHECK(found->empty());
  }
  REQUIRE(c.HasKey());

  {
    auto log = c.Open();
    CHECK(log->erasures_reapplied() == 1);
    c.CheckErased(*log);  // position and reason from the rules' record
  }
  CHECK_FALSE(c.HasKey());
  CHECK(FilesHolding(c.dir, c.record) == 0);
  CHECK(FilesHolding(c.tmp.Sub("keys"), kSubject) == 1);  // listed again beside the master key
  {
    auto log = c.Open();
    CHECK(log->erasures_reapplied() == 0);  // done once
    c.CheckErased(*log);
  }
}

TEST_CASE("a destroyed key put back in the store is destroyed again by the next read-write open", "[personal]") {
  ErasedContact c;
  {
    RawStore raw(c.dir);
    raw.Put(keys::kKeysFamily, kKeyRecord, c.record);
  }
  REQUIRE(c.HasKey());
  REQUIRE(FilesHolding(c.dir, c.record) > 0);
  {
    auto log = c.Open();
    CHECK(log->erasures_reapplied() == 1);
    c.CheckErased(*log);
  }
  CHECK_FALSE(c.HasKey());
  CHECK(FilesHolding(c.dir, c.record) == 0);
}

TEST_CASE("a destroyed key put back is destroyed again even when the list of erasures beside the master key is lost",
          "[personal]") {
  ErasedContact c;
  {
    RawStore raw(c.dir);
    raw.Put(keys::kKeysFamily, kKeyRecord, c.record);
  }
  fs::remove(c.tmp.Sub("keys/erased.jsonl"));
  {
    auto log = c.Open();
    CHECK(log->erasures_reapplied() == 1);
    c.CheckErased(*log);
  }
  CHECK_FALSE(c.HasKey());
  CHECK(FilesHolding(c.dir, c.record) == 0);
}

// The writer leaves out blind-index entries it knows it wrote (a contact
// re-added with the same e-mail). What it knows must be what it wrote: not
// an append it refused, not another person's entry, not an erased one.
TEST_CASE("the blind index leaves out only entries really written: not a refused append's, not another person's",
          "[personal]") {
  TempDir tmp;
  const std::string dir = tmp.Sub("store");
  EventLogOptions options;
  options.create = CreateIfMissing::kYes;
  options.rules = CheckRules;
  options.master_key_file = tmp.Sub("keys/master.key");
  const std::string ana = R"({"name":"Ana Lima","email":"ana@acme.example"})";
  const auto added = [&](const char* contact) {
    return Ev("customer-1", "contact.added", "staff-1", std::string(R"({"contact_id":")") + contact + "\"}", ana);
  };
  {
    Result<std::unique_ptr<EventLog>> opened = EventLog::Open(dir, options);
    REQUIRE(opened.ok());
    EventLog& log = **opened;
    REQUIRE(log.Append("staff-1", {Ev("staff-1", "staff.joined", "system:hr", R"({"role":"legal_counsel"})")},
                       ExpectedVersion::Any())
                .ok());
    REQUIRE(log.Append("customer-1", {Ev("customer-1", "customer.registered", "staff-1", R"({"name":"Acme"})")},
                       ExpectedVersion::Any())
                .ok());
    // Refused (the stream is at version 0, not 5): sealed, but not written.
    REQUIRE_FALSE(log.Append("customer-1", {added("c-1")}, ExpectedVersion::Exactly(StreamVersion(5))).ok());
    Result<std::vector<std::string>> found = log.FindSubjects(BlindKind::kEmail, "ana@acme.example");
    REQUIRE(found.ok());
    CHECK(found->empty());
    // The same part accepted: found, though it was sealed before.
    REQUIRE(log.Append("customer-1", {added("c-1")}, ExpectedVersion::Any()).ok());
    REQUIRE(log.Append("customer-1", {added("c-1")}, ExpectedVersion::Any()).ok());  // re-added
    // Another person with the same e-mail and name has entries of their own.
    REQUIRE(log.Append("customer-1", {added("c-2")}, ExpectedVersion::Any()).ok());
    found = log.FindSubjects(BlindKind::kEmail, "ana@acme.example");
    REQUIRE(found.ok());
    CHECK(*found == std::vector<std::string>{"customer-1/contact-c-1", "customer-1/contact-c-2"});
    // The first erased; the second, re-added after, still found.
    REQUIRE(log.Append("customer-1",
                       {Ev("customer-1", "subject.erased", "staff-1", R"({"subject":"contact-c-1","details":"asked"})")},
                       ExpectedVersion::Any())
                .ok());
    REQUIRE(log.Append("customer-1", {added("c-2")}, ExpectedVersion::Any()).ok());
    found = log.FindSubjects(BlindKind::kName, "Lima");
    REQUIRE(found.ok());
    CHECK(*found == std::vector<std::string>{"customer-1/contact-c-2"});
  }
  // On disk: the entries of c-2 alone (its e-mail and the two words of its
  // name), each once; no by-subject copies (erasure scans "b/").
  size_t blind = 0, of_c2 = 0, reverse = 0;
  for (const std::string& key : RawStore(dir).Keys(keys::kKeysFamily)) {
    blind += key.starts_with("b/");
    of_c2 += key.starts_with("b/") && key.ends_with("customer-1/contact-c-2");
    reverse += key.starts_with("s/");
  }
  CHECK(blind == 3);
  CHECK(of_c2 == 3);
  CHECK(reverse == 0);
}

}  // namespace
}  // namespace custodian
