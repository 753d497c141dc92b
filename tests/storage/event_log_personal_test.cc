// EventLog and personal data (storage/event_log.h, "Personal data";
// storage/event_log_personal.cc): an erasure the log committed whose key was
// not destroyed, or was put back, is finished by the next read-write open.
// The store is changed behind the log's back with raw RocksDB, as a crash
// between the commit and the key's destruction would leave it.
#include "storage/event_log.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
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

// A member of legal staff (who may erase) and the customer the tests' contacts belong to.
void AddStaffAndCustomer(EventLog& log) {
  REQUIRE(log.Append("staff-1", {Ev("staff-1", "staff.joined", "system:hr", R"({"role":"legal_counsel"})")},
                     ExpectedVersion::Any())
              .ok());
  REQUIRE(log.Append("customer-1", {Ev("customer-1", "customer.registered", "staff-1", R"({"name":"Acme"})")},
                     ExpectedVersion::Any())
              .ok());
}

// A new store's options: the log's rules, and a master key under `tmp`.
EventLogOptions WithRulesAndKey(TempDir& tmp) {
  EventLogOptions options;
  options.create = CreateIfMissing::kYes;
  options.rules = CheckRules;
  options.master_key_file = tmp.Sub("keys/master.key");
  return options;
}

// The store at `dir` opened with `options` in `mode`, which must succeed.
std::unique_ptr<EventLog> OpenIn(const std::string& dir, EventLogOptions options,
                                 EventLogOptions::Mode mode = EventLogOptions::Mode::kReadWrite) {
  options.mode = mode;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(dir, options);
  INFO(log.status().ToString());
  REQUIRE(log.ok());
  return std::move(*log);
}

TEST_CASE("an erasure list or a key directory other accounts could write is refused before any line of it erases "
          "anyone",
          "[personal]") {
  TempDir tmp;
  const std::string dir = tmp.Sub("store");
  EventLogOptions options = WithRulesAndKey(tmp);
  Event contact = Ev("customer-1", "contact.added", "staff-1", R"({"contact_id":"c-1"})",
                     R"({"name":"Ana Lima","email":"ana@acme.example"})");
  {
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(dir, options);
    REQUIRE(log.ok());
    AddStaffAndCustomer(**log);
    REQUIRE((*log)->Append("customer-1", {contact}, ExpectedVersion::Any()).ok());
  }
  // Someone else plants a line that would erase Ana at the next open.
  const std::string list = tmp.Sub("keys/erased.jsonl");
  {
    std::ofstream out(list, std::ios::app);
    out << R"({"subject":"customer-1/contact-c-1","position":1,"reason":"planted"})" << "\n";
  }
  fs::permissions(list, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write |
                            fs::perms::group_read | fs::perms::others_read);
  // The store opens, both ways, serving what is not personal and saying why
  // the people are sealed; the list erases nobody.
  const auto sealed_because = [&](const std::string& why) {
    for (const auto mode : {EventLogOptions::Mode::kReadWrite, EventLogOptions::Mode::kReadOnly}) {
      options.mode = mode;
      INFO(static_cast<int>(mode));
      Result<std::unique_ptr<EventLog>> opened = EventLog::Open(dir, options);
      INFO(opened.status().ToString());
      REQUIRE(opened.ok());
      const Status problem = (*opened)->PersonalStatus();
      CHECK(problem.code() == StatusCode::kFailedPrecondition);
      CHECK_THAT(problem.message(), Catch::Contains(why));
    }
    const std::vector<std::string> kept = RawStore(dir).Keys(keys::kKeysFamily);
    CHECK(std::find(kept.begin(), kept.end(), kKeyRecord) != kept.end());
  };
  sealed_because("the erasure list " + list + " can be read by other accounts (mode 0666); make it owner-only with "
                 "chmod 600 " + list + "; then check that each of its lines is an erasure you made");
  // A link, even to an owner-only file, or a pipe, is not the list custodian writes.
  fs::rename(list, tmp.Sub("elsewhere.jsonl"));
  fs::permissions(tmp.Sub("elsewhere.jsonl"), fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  fs::create_symlink(tmp.Sub("elsewhere.jsonl"), list);
  sealed_because("the erasure list " + list + " is not a regular file");
  fs::remove(list);
  REQUIRE(::mkfifo(list.c_str(), 0600) == 0);
  sealed_because("the erasure list " + list + " is not a regular file");
  fs::remove(list);
  // A key directory others may write in (group or all): they could replace the key.
  for (const fs::perms loose : {fs::perms::all, fs::perms::owner_all | fs::perms::group_all}) {
    fs::permissions(tmp.Sub("keys"), loose, fs::perm_options::replace);
    sealed_because("other accounts may write in the key directory " + tmp.Sub("keys"));
  }
  fs::permissions(tmp.Sub("keys"), fs::perms::owner_all);
  options.mode = EventLogOptions::Mode::kReadWrite;
  Result<std::unique_ptr<EventLog>> reopened = EventLog::Open(dir, options);
  INFO(reopened.status().ToString());
  REQUIRE(reopened.ok());
  CHECK((*reopened)->PersonalStatus().ok());
  CHECK((*reopened)->erasures_reapplied() == 0);
}

TEST_CASE("a master key made in a directory that exists leaves the directory's mode alone, and is never written "
          "through a link planted where a temporary file could be",
          "[personal]") {
  TempDir tmp;
  const fs::path keys = tmp.Sub("shared");
  fs::create_directories(keys);
  fs::permissions(keys, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec, fs::perm_options::replace);
  const fs::path victim = tmp.Sub("victim.txt");
  { std::ofstream(victim) << "untouched"; }
  fs::permissions(victim, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                              fs::perms::others_read, fs::perm_options::replace);
  fs::create_symlink(victim, keys / "master.key.tmp");
  EventLogOptions options;
  options.create = CreateIfMissing::kYes;
  options.master_key_file = (keys / "master.key").string();
  {
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(tmp.Sub("store"), options);
    INFO(log.status().ToString());
    REQUIRE(log.ok());
  }
  CHECK((fs::status(keys).permissions() & fs::perms::all) ==
        (fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
         fs::perms::others_exec));
  std::ifstream in(victim);
  std::string text;
  std::getline(in, text);
  CHECK(text == "untouched");
  CHECK(fs::is_regular_file(fs::symlink_status(keys / "master.key")));
  CHECK((fs::status(keys / "master.key").permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(fs::read_symlink(keys / "master.key.tmp") == victim);  // a name it never used
  for (const fs::directory_entry& e : fs::directory_iterator(keys)) {
    INFO(e.path());
    CHECK((e.path().filename().string().find(".tmp-") == std::string::npos));  // nothing left behind
  }
}

// The writer leaves out blind-index entries it knows it wrote (a contact
// re-added with the same e-mail). What it knows must be what it wrote: not
// an append it refused, not another person's entry, not an erased one.
TEST_CASE("the blind index leaves out only entries really written: not a refused append's, not another person's",
          "[personal]") {
  TempDir tmp;
  const std::string dir = tmp.Sub("store");
  EventLogOptions options = WithRulesAndKey(tmp);
  const std::string ana = R"({"name":"Ana Lima","email":"ana@acme.example"})";
  const auto added = [&](const char* contact) {
    return Ev("customer-1", "contact.added", "staff-1", std::string(R"({"contact_id":")") + contact + "\"}", ana);
  };
  {
    Result<std::unique_ptr<EventLog>> opened = EventLog::Open(dir, options);
    REQUIRE(opened.ok());
    EventLog& log = **opened;
    AddStaffAndCustomer(log);
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


TEST_CASE("a blind index written under the older normalisation (A-Z only) is written again at a read-write open, "
          "so a name is found in any case",
          "[personal]") {
  TempDir tmp;
  const std::string dir = tmp.Sub("store");
  const EventLogOptions options = WithRulesAndKey(tmp);
  const auto open = [&](EventLogOptions::Mode mode) { return OpenIn(dir, options, mode); };
  const auto find = [](EventLog& log, const char* name) {
    Result<std::vector<std::string>> found = log.FindSubjects(BlindKind::kName, name);
    INFO(found.status().ToString());
    REQUIRE(found.ok());
    return *found;
  };
  const std::vector<std::string> etienne{"customer-1/contact-c-1"};
  {
    std::unique_ptr<EventLog> log = open(EventLogOptions::Mode::kReadWrite);
    AddStaffAndCustomer(*log);
    REQUIRE(log->Append("customer-1",
                        {Ev("customer-1", "contact.added", "staff-1", R"({"contact_id":"c-1"})",
                            R"({"name":"Étienne Öztürk"})")},
                        ExpectedVersion::Any())
                .ok());
    CHECK(find(*log, "étienne") == etienne);
    CHECK(find(*log, "ÖZTÜRK") == etienne);
  }
  // As a store written before: no version, and an entry of the old form
  // (which the search no longer asks for) where the index was.
  const std::string old_entry = "b/" + std::string(32, 'x') + "customer-1/contact-c-9";
  {
    RawStore raw(dir);
    REQUIRE(raw.Get(keys::kKeysFamily, "a/blind-version") == "2");
    raw.Delete(keys::kKeysFamily, "a/blind-version");
    raw.Put(keys::kKeysFamily, old_entry, "");
  }
  {
    std::unique_ptr<EventLog> log = open(EventLogOptions::Mode::kReadWrite);
    CHECK(find(*log, "étienne") == etienne);
  }
  RawStore raw(dir);
  CHECK(raw.Get(keys::kKeysFamily, "a/blind-version") == "2");
  const std::vector<std::string> held = raw.Keys(keys::kKeysFamily);
  CHECK(std::find(held.begin(), held.end(), old_entry) == held.end());
  CHECK(std::count_if(held.begin(), held.end(), [](const std::string& k) { return k.starts_with("b/"); }) == 2);
}

// The blind index behind the log (KeyVault::IndexWritten): the entries wait
// in memory and reach the keys family in spills, with the watermark.
TEST_CASE("the blind index is written behind the log: found before and after a spill, rebuilt after a crash, and an "
          "erasure removes entries from memory and from the family",
          "[personal]") {
  TempDir tmp;
  const std::string dir = tmp.Sub("store");
  EventLogOptions options = WithRulesAndKey(tmp);
  options.blind_spill_at = 1500;  // a spill of >= 1024 entries is a table file RocksDB ingests
  const auto open = [&](EventLogOptions::Mode mode = EventLogOptions::Mode::kReadWrite) {
    return OpenIn(dir, options, mode);
  };
  // Contact n: e-mail "person-n@acme.example" and name "Given<n> Family<n>",
  // three entries.
  const auto contact = [](int n) {
    return Ev("customer-1", "contact.added", "staff-1", R"({"contact_id":"c-)" + std::to_string(n) + R"("})",
              R"({"name":"Given)" + std::to_string(n) + " Family" + std::to_string(n) + R"(","email":"person-)" +
                  std::to_string(n) + R"(@acme.example"})");
  };
  const auto subject = [](int n) { return "customer-1/contact-c-" + std::to_string(n); };
  const auto find = [](EventLog& log, int n) {
    Result<std::vector<std::string>> found =
        log.FindSubjects(BlindKind::kEmail, "person-" + std::to_string(n) + "@acme.example");
    INFO(found.status().ToString());
    REQUIRE(found.ok());
    return *found;
  };
  constexpr int kContacts = 700;  // 2,100 entries: one spill at 1,500, the rest held until closing
  uint64_t end = 0;
  {
    std::unique_ptr<EventLog> log = open();
    AddStaffAndCustomer(*log);
    for (int n = 0; n < kContacts; n += 100) {
      std::vector<Event> batch;
      for (int i = n; i < n + 100; ++i) batch.push_back(contact(i));
      REQUIRE(log->Append("customer-1", std::move(batch), ExpectedVersion::Any()).ok());
    }
    // Found from the family (the first contacts, spilled) and from memory (the last).
    CHECK(find(*log, 0) == std::vector<std::string>{subject(0)});
    CHECK(find(*log, kContacts - 1) == std::vector<std::string>{subject(kContacts - 1)});
    // Erased: one whose entries were spilled, one whose entries are in memory.
    for (int n : {1, kContacts - 2}) {
      REQUIRE(log->Append("customer-1",
                          {Ev("customer-1", "subject.erased", "staff-1",
                              R"({"subject":"contact-c-)" + std::to_string(n) + R"(","details":"asked"})")},
                          ExpectedVersion::Any())
                  .ok());
      CHECK(find(*log, n).empty());
    }
    end = log->end().value();
  }
  // Closed: every entry is in the family but the erased ones', and the
  // watermark is the log's end.
  {
    RawStore raw(dir);
    size_t blind = 0, erased = 0;
    for (const std::string& key : raw.Keys(keys::kKeysFamily)) {
      blind += key.starts_with("b/");
      erased += key.starts_with("b/") && (key.ends_with(subject(1)) || key.ends_with(subject(kContacts - 2)));
    }
    CHECK(blind == 3 * (kContacts - 2));
    CHECK(erased == 0);
    CHECK(raw.Get(keys::kKeysFamily, "a/blind-indexed-to") == keys::EncodeU64(end));
    // A crash before any spill leaves the family without the entries and the
    // watermark where it was: as here.
    for (const std::string& key : raw.Keys(keys::kKeysFamily)) {
      if (key.starts_with("b/") || key.starts_with("a/")) raw.Delete(keys::kKeysFamily, key);
    }
  }
  // Read-only: rebuilt in memory from the sealed events for the search, nothing written.
  {
    std::unique_ptr<EventLog> log = open(EventLogOptions::Mode::kReadOnly);
    CHECK(find(*log, 0) == std::vector<std::string>{subject(0)});
    CHECK(find(*log, kContacts - 1) == std::vector<std::string>{subject(kContacts - 1)});
    CHECK(find(*log, 1).empty());
    CHECK(find(*log, kContacts - 2).empty());
  }
  {
    const std::vector<std::string> held = RawStore(dir).Keys(keys::kKeysFamily);
    CHECK(std::none_of(held.begin(), held.end(), [](const std::string& k) { return k.starts_with("b/"); }));
  }
  // Read-write: rebuilt when it opens, and written when it closes.
  {
    std::unique_ptr<EventLog> log = open();
    CHECK(find(*log, 0) == std::vector<std::string>{subject(0)});
    CHECK(find(*log, 1).empty());
    CHECK(find(*log, 350) == std::vector<std::string>{subject(350)});
  }
  RawStore raw(dir);
  size_t blind = 0;
  for (const std::string& key : raw.Keys(keys::kKeysFamily)) blind += key.starts_with("b/");
  CHECK(blind == 3 * (kContacts - 2));
  CHECK(raw.Get(keys::kKeysFamily, "a/blind-indexed-to") == keys::EncodeU64(end));
}


// Searches while spills move entries from memory to the family: whatever
// was written before a search began is found by it.
TEST_CASE("the blind index finds every person written before the search, while spills move the entries",
          "[personal]") {
  TempDir tmp;
  EventLogOptions options = WithRulesAndKey(tmp);
  options.blind_spill_at = 1100;  // a table file every ~370 contacts
  Result<std::unique_ptr<EventLog>> opened = EventLog::Open(tmp.Sub("store"), options);
  REQUIRE(opened.ok());
  EventLog& log = **opened;
  AddStaffAndCustomer(log);
  constexpr int kContacts = 4000, kPerAppend = 50;
  std::atomic<int> written{0};
  std::atomic<bool> done{false};
  std::atomic<int> searches{0}, missed{0};
  std::thread reader([&] {
    uint64_t n = 0;
    while (!done.load()) {
      const int upto = written.load();
      if (upto == 0) continue;
      // The newest contact (its entries in memory, or being spilled) and an older one.
      for (int k : {upto - 1, static_cast<int>(n++ % upto)}) {
        Result<std::vector<std::string>> found =
            log.FindSubjects(BlindKind::kEmail, "person-" + std::to_string(k) + "@acme.example");
        ++searches;
        if (!found.ok() || *found != std::vector<std::string>{"customer-1/contact-c-" + std::to_string(k)}) ++missed;
      }
    }
  });
  for (int n = 0; n < kContacts; n += kPerAppend) {
    std::vector<Event> batch;
    for (int i = n; i < n + kPerAppend; ++i) {
      batch.push_back(Ev("customer-1", "contact.added", "staff-1", R"({"contact_id":"c-)" + std::to_string(i) + R"("})",
                         R"({"name":"Given)" + std::to_string(i) + R"(","email":"person-)" + std::to_string(i) +
                             R"(@acme.example"})"));
    }
    REQUIRE(log.Append("customer-1", std::move(batch), ExpectedVersion::Any()).ok());
    written.store(n + kPerAppend);
  }
  done.store(true);
  reader.join();
  INFO(searches.load() << " searches");
  CHECK(searches.load() > 0);
  CHECK(missed.load() == 0);
}

}  // namespace
}  // namespace custodian
