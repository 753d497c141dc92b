// Personal data sealed per subject (storage/event_log.h, "Personal data";
// docs/events.md, "Personal data"; docs/event-format.md, "keys"), against a
// real store and real keys: sealing and opening, a missing or wrong master
// key, altered and moved sealed parts, plaintext in the files, erasure and
// what it leaves behind, the blind index, master key rotation (also killed
// half-way, by rotation_child.cc), legal holds, and a restored backup.
#include "storage/event_log.h"
// The header under test comes first, to prove it is self-contained.

#include <rocksdb/db.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base64.h"
#include "core/canonical.h"
#include "core/merkle.h"
#include "core/personal.h"
#include "core/record.h"
#include "core/rules.h"
#include "storage/keys.h"
#include "tests/raw_store.h"
#include "tests/storage/event_log_test_util.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

using testing::FilesHolding;
using testing::FixedClock;
using testing::kTestNow;
using testing::MakeEvent;
using testing::RawStore;
using testing::ReadEverything;
using testing::TempDir;

// --- People and their events ---

constexpr char kCustomer[] = "customer-1001";

struct Contact {
  std::string id;        // data.contact_id
  std::string personal;  // the personal part, compact JSON
  std::string subject() const { return std::string(kCustomer) + "/contact-" + id; }
};

const Contact kPetra{
    "con-2001", R"({"name":"Petra Hartmann","email":"p.hartmann@hartmann-logistik.de","phone":"+49 40 5550 1234"})"};
const Contact kJonas{"con-2002",
                     R"({"name":"Jonas Hartmann","email":"jonas@hartmann-logistik.de","phone":"+49 40 5550 7777"})"};

Event ContactAdded(const Contact& c) {
  Event e =
      MakeEvent(kCustomer, "contact.added", R"({"contact_id":")" + c.id + R"(","role":"head of fleet operations"})");
  e.personal_plain = c.personal;
  return e;
}

// A note about the contact, with a personal remark.
Event NoteAbout(const Contact& c, const std::string& remark) {
  Event e = MakeEvent(kCustomer, "note.added", R"({"text":"renewal call","contact_id":")" + c.id + R"("})");
  e.personal_plain = json::serialize(json::object{{"notes", remark}});
  return e;
}

// subject.erased of the contact, with `extra` fields in its data (e.g. ,"details":"...").
Event ErasureOf(const Contact& c, const std::string& extra = "") {
  return MakeEvent(kCustomer, "subject.erased",
                   R"({"subject":"contact-)" + c.id + R"(","reason":"data_subject_request")" + extra + "}");
}

Event Hold(const std::string& type, const Contact& c, const std::string& hold_id) {
  return MakeEvent(kCustomer, type,
                   R"({"subject":"contact-)" + c.id + R"(","hold_id":")" + hold_id +
                       R"(","reason":"dispute over the 2025 fleet contract"})");
}

// --- Results ---

template <typename T>
T Must(Result<T> r) {
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return std::move(*r);
}

Position AppendOne(EventLog& log, Event e) {
  const std::string stream = e.stream;
  AppendResult r = Must(log.Append(stream, {std::move(e)}));
  REQUIRE(r.written == 1);
  return r.positions.front();
}

Event At(const EventLog& log, Position p) {
  std::vector<Event> e = Must(log.ReadAll(p, 1));
  REQUIRE(e.size() == 1);
  return e.front();
}

std::string Str(const json::value& v) {
  INFO(json::serialize(v));
  REQUIRE(v.is_string());
  return std::string(v.as_string());
}
uint64_t Num(const json::value& v) {
  INFO(json::serialize(v));
  REQUIRE(v.is_number());
  return v.to_number<uint64_t>();
}

json::object PersonalObject(const EventLog& log, const Event& e) {
  const std::string text = Must(log.PersonalJson(e));
  INFO(text);
  json::value v = json::parse(text);
  REQUIRE(v.is_object());
  return v.as_object();
}

// Every event of the log with a personal part opens to what was appended
// (`plain`: event id -> personal part), and there are no others, but for
// the parts of `erased_subject`, which read as erased.
void CheckEveryPartOpens(const EventLog& log, const std::map<std::string, std::string>& plain,
                         const std::string& erased_subject = "") {
  INFO(log.PersonalStatus().ToString());
  REQUIRE(log.PersonalStatus().ok());
  size_t opened = 0;
  for (const Event& e : ReadEverything(log)) {
    if (e.personal.empty()) continue;
    INFO("event " << e.id.ToString() << " at position " << e.position.value());
    EventLog::PersonalView view = Must(log.OpenPersonal(e));
    if (e.personal.subject == erased_subject) {
      CHECK(view.state == EventLog::PersonalView::State::kErased);
      continue;
    }
    CHECK(view.state == EventLog::PersonalView::State::kOpen);
    REQUIRE(plain.count(e.id.ToString()) == 1);
    CHECK(view.json == plain.at(e.id.ToString()));
    ++opened;
  }
  CHECK(opened == plain.size());
}

merkle::Proof ProofBytes(const std::vector<Hash256>& proof) {
  merkle::Proof out;
  for (const Hash256& h : proof) out.push_back(merkle::ToBytes(h));
  return out;
}

// --- Stores and files ---

// Whether the log checks the append rules (core/rules.h), as the command line does.
enum class Rules { kNone, kChecked };

// A store in <tmp>/store whose master key is <tmp>/keys/master.key, on a fixed clock.
struct Store {
  TempDir tmp;
  FixedClock clock{kTestNow};
  std::string dir = tmp.Sub("store");
  std::string key_dir = tmp.Sub("keys");
  std::string master = key_dir + "/master.key";

  std::unique_ptr<EventLog> Open(const std::string& master_key_file, Rules rules = Rules::kNone) {
    EventLogOptions options;
    options.master_key_file = master_key_file;
    if (rules == Rules::kChecked) options.rules = CheckRules;
    return testing::OpenTestLog(dir, &clock, options);
  }
  std::unique_ptr<EventLog> Open(Rules rules = Rules::kNone) { return Open(master, rules); }
};

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The 32-byte key in a key file: a header line, then base64 (storage/key_vault.cc).
std::string KeyIn(const fs::path& key_file) {
  const std::string text = ReadBytes(key_file);
  const size_t nl = text.find('\n');
  REQUIRE(nl != std::string::npos);
  std::string key = Must(Base64Decode(text.substr(nl + 1, text.find('\n', nl + 1) - nl - 1)));
  REQUIRE(key.size() == kMasterKeyBytes);
  return key;
}

void WriteOwnerOnly(const fs::path& path, const std::string& bytes) {
  testing::WriteFile(path.string(), bytes);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
}

// A key directory <tmp>/<name> holding only the key file `key_file` (as
// master.key) and the store's blind.key: what that master key alone opens.
// Returns its master.key.
std::string KeyDirWithOnly(const TempDir& tmp, const std::string& name, const fs::path& key_file,
                           const fs::path& blind_file) {
  const fs::path dir = tmp.Sub(name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  WriteOwnerOnly(dir / "master.key", ReadBytes(key_file));
  WriteOwnerOnly(dir / "blind.key", ReadBytes(blind_file));
  return (dir / "master.key").string();
}

// The keys family of the (closed) store in `dir`, key -> value, read by a
// read-only RocksDB instance, which leaves every file as it was.
std::map<std::string, std::string> KeysFamily(const std::string& dir) {
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names);
  INFO(s.ToString());
  REQUIRE(s.ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir, families, &handles, &raw);
  INFO(s.ToString());
  REQUIRE(s.ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] != keys::kKeysFamily) continue;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) out[it->key().ToString()] = it->value().ToString();
    REQUIRE(it->status().ok());
  }
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  (void)db->Close();
  return out;
}

// The wrapped data key of `subject` (docs/event-format.md, "keys": version,
// then one fingerprint and wrapped key per master key); exactly one wrapping.
std::string WrappedKeyOf(const std::map<std::string, std::string>& keys_family, const std::string& subject) {
  auto it = keys_family.find("k/" + subject);
  INFO("no key record for " << subject);
  REQUIRE(it != keys_family.end());
  REQUIRE(it->second.size() == 1 + 16 + 60);
  return it->second.substr(1 + 16);
}

// Every entry of the keys family that names `subject`.
std::vector<std::string> EntriesNaming(const std::map<std::string, std::string>& keys_family,
                                       const std::string& subject) {
  std::vector<std::string> out;
  for (const auto& [key, value] : keys_family) {
    if (key.find(subject) != std::string::npos) out.push_back(key.substr(0, 2));
  }
  return out;
}

// Rewrites the record at `p` of the closed store in `dir` with `change`
// applied to it, behind the log's back.
template <typename Change>
void RewriteRecord(const std::string& dir, Position p, Change change) {
  RawStore raw(dir);
  const std::string key = keys::EventKey(p);
  Event e;
  Status s = DecodeRecord(raw.Get(keys::kEventsFamily, key), &e);
  INFO(s.ToString());
  REQUIRE(s.ok());
  change(e);
  raw.Put(keys::kEventsFamily, key, EncodeRecord(e));
}

// --- Sealing ---

TEST_CASE("A personal part is sealed on append, stored without its plaintext and opened again after reopening",
          "[personal]") {
  Store store;
  Position petra, note;
  Event sent = ContactAdded(kPetra);
  {
    std::unique_ptr<EventLog> log = store.Open();
    petra = AppendOne(*log, sent);
    note = AppendOne(*log, MakeEvent(kCustomer));  // no personal part
  }
  std::unique_ptr<EventLog> log = store.Open();
  const Event e = At(*log, petra);
  CHECK(e.data == R"({"contact_id":"con-2001","role":"head of fleet operations"})");
  CHECK(e.personal_plain.empty());
  CHECK(e.personal.scheme == PersonalSection::Scheme::kAes256Gcm);
  CHECK(e.personal.subject == kPetra.subject());
  CHECK(e.personal.nonce.size() == kSealNonceBytes);
  CHECK(e.personal.ciphertext.size() == kPetra.personal.size() + 16);  // the text and its GCM tag

  EventLog::PersonalView view = Must(log->OpenPersonal(e));
  CHECK(view.state == EventLog::PersonalView::State::kOpen);
  CHECK(view.json == kPetra.personal);
  json::object fields = PersonalObject(*log, e);
  CHECK(fields.size() == 3);
  CHECK(Str(fields["name"]) == "Petra Hartmann");
  CHECK(Str(fields["email"]) == "p.hartmann@hartmann-logistik.de");
  CHECK(Str(fields["phone"]) == "+49 40 5550 1234");

  // An event without a personal part has nothing to open.
  const Event plain = At(*log, note);
  CHECK(Must(log->OpenPersonal(plain)).state == EventLog::PersonalView::State::kNone);
  CHECK(Must(log->PersonalJson(plain)).empty());

  // The producer's retry seals to the same bytes: the same event, not a conflict.
  AppendResult retry = Must(log->Append(kCustomer, {sent}));
  CHECK(retry.written == 0);
  CHECK(retry.positions == std::vector<Position>{petra});

  log.reset();
  RawStore raw(store.dir);
  const std::string record = raw.Get(keys::kEventsFamily, keys::EventKey(petra));
  for (const char* plaintext : {"Petra", "Hartmann", "p.hartmann@hartmann-logistik.de", "5550 1234", "\"name\""}) {
    INFO(plaintext);
    CHECK(record.find(plaintext) == std::string::npos);
  }
  CHECK(record.find(e.personal.ciphertext) != std::string::npos);
  CHECK(record.find("head of fleet operations") != std::string::npos);  // the data is stored as given
}

// --- Without the master key ---

TEST_CASE(
    "Without its master key a store serves every event, shows personal parts sealed and says why, and refuses "
    "new personal data",
    "[personal]") {
  Store store;
  TempDir other;
  const std::string other_master = other.Sub("keys") + "/master.key";
  std::vector<Event> before;
  {
    std::unique_ptr<EventLog> log = store.Open();
    AppendOne(*log, ContactAdded(kPetra));
    AppendOne(*log, MakeEvent(kCustomer));
    AppendOne(*log, NoteAbout(kPetra, "prefers calls after lunch"));
    before = ReadEverything(*log);
  }
  {
    // Another store, with its own master key.
    EventLogOptions options;
    options.master_key_file = other_master;
    REQUIRE(testing::OpenTestLog(other.Sub("store"), &store.clock, options)->PersonalStatus().ok());
  }
  REQUIRE(fs::exists(other_master));

  std::string master_key_file;
  SECTION("opened without a master key") { master_key_file = ""; }
  SECTION("opened with a master key file that is not there") {
    master_key_file = store.tmp.Sub("elsewhere/master.key");
  }
  SECTION("opened with another store's master key") { master_key_file = other_master; }

  const std::string key_files_before = ReadBytes(store.master) + ReadBytes(store.key_dir + "/blind.key");
  {
    std::unique_ptr<EventLog> log = store.Open(master_key_file);
    const Status why = log->PersonalStatus();
    INFO(why.ToString());
    CHECK(why.code() == StatusCode::kFailedPrecondition);
    CHECK(!why.message().empty());

    // Every event, with its data and its sealed part as stored.
    const std::vector<Event> all = ReadEverything(*log);
    REQUIRE(all.size() == before.size());
    for (size_t i = 0; i < all.size(); ++i) CHECK(testing::SameContent(all[i], before[i]));

    for (const Event& e : all) {
      if (e.personal.empty()) {
        CHECK(Must(log->PersonalJson(e)).empty());
        continue;
      }
      EventLog::PersonalView view = Must(log->OpenPersonal(e));
      CHECK(view.state == EventLog::PersonalView::State::kUnavailable);
      CHECK(view.json.empty());
      json::object shown = PersonalObject(*log, e);
      CHECK(shown.size() == 2);
      CHECK(Str(shown["sealed_for"]) == kPetra.subject());
      CHECK(Str(shown["unavailable"]) == why.message());
    }
    CHECK(log->FindSubjects(BlindKind::kEmail, "p.hartmann@hartmann-logistik.de").status().code() ==
          StatusCode::kFailedPrecondition);

    // New personal data is refused, with the reason, and nothing is written.
    Result<AppendResult> refused = log->Append(kCustomer, {ContactAdded(kJonas)});
    INFO(refused.status().ToString());
    CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(refused.status().message(), Catch::Contains("cannot be sealed"));
    Result<AppendResult> erasure = log->Append(kCustomer, {ErasureOf(kPetra)});
    CHECK(erasure.status().code() == StatusCode::kFailedPrecondition);
    CHECK(log->end() == Position(before.size()));
    CHECK(log->DestroySubjectKey(kPetra.subject(), 0, "test").code() == StatusCode::kFailedPrecondition);
    CHECK(log->RotateMasterKey().status().code() == StatusCode::kFailedPrecondition);

    // Everything that is not personal still works.
    AppendOne(*log, MakeEvent(kCustomer));
    VerifyReport report = log->Verify();
    INFO(report.problem);
    CHECK(report.ok);
  }
  // No new key was made where none was, and the store's own keys are untouched.
  if (!master_key_file.empty()) CHECK(fs::exists(master_key_file) == (master_key_file == other_master));
  CHECK(ReadBytes(store.master) + ReadBytes(store.key_dir + "/blind.key") == key_files_before);

  // With its own key again, every part opens.
  std::unique_ptr<EventLog> log = store.Open();
  std::map<std::string, std::string> plain{{before[0].id.ToString(), kPetra.personal},
                                           {before[2].id.ToString(), R"({"notes":"prefers calls after lunch"})"}};
  CheckEveryPartOpens(*log, plain);
}

// --- Altered and moved sealed parts ---

TEST_CASE("A sealed part altered in the stored record does not open, and Verify names the event",
          "[personal][tamper]") {
  Store store;
  Position petra, jonas;
  {
    std::unique_ptr<EventLog> log = store.Open();
    petra = AppendOne(*log, ContactAdded(kPetra));
    jonas = AppendOne(*log, ContactAdded(kJonas));
  }
  SECTION("a byte of the ciphertext") {
    RewriteRecord(store.dir, petra, [](Event& e) { e.personal.ciphertext[3] ^= 0x01; });
  }
  SECTION("a byte of the tag") {
    RewriteRecord(store.dir, petra, [](Event& e) { e.personal.ciphertext.back() ^= 0x80; });
  }
  SECTION("a byte of the nonce") {
    RewriteRecord(store.dir, petra, [](Event& e) { e.personal.nonce[0] ^= 0x01; });
  }

  std::unique_ptr<EventLog> log = store.Open();
  const Event e = At(*log, petra);
  Result<EventLog::PersonalView> view = log->OpenPersonal(e);
  INFO(view.status().ToString());
  CHECK(view.status().code() == StatusCode::kCorruption);
  CHECK_THAT(view.status().message(), Catch::Contains(e.id.ToString()));
  CHECK(log->PersonalJson(e).status().code() == StatusCode::kCorruption);

  // The leaf hash commits to the sealed bytes.
  VerifyReport report = log->Verify();
  INFO(report.problem);
  CHECK_FALSE(report.ok);
  CHECK_THAT(report.problem, Catch::Contains("position " + std::to_string(petra.value())));
  CHECK(report.events == petra.value());

  // The other subject's part is untouched.
  CHECK(Must(log->PersonalJson(At(*log, jonas))) == kJonas.personal);
}

TEST_CASE("A sealed part copied into another event of the same subject does not open there", "[personal][tamper]") {
  Store store;
  Position added, note;
  {
    std::unique_ptr<EventLog> log = store.Open();
    added = AppendOne(*log, ContactAdded(kPetra));
    note = AppendOne(*log, NoteAbout(kPetra, "prefers calls after lunch"));
  }
  PersonalSection moved;
  {
    RawStore raw(store.dir);
    Event a;
    REQUIRE(DecodeRecord(raw.Get(keys::kEventsFamily, keys::EventKey(added)), &a).ok());
    moved = a.personal;
  }
  RewriteRecord(store.dir, note, [&](Event& e) {
    REQUIRE(e.personal.subject == moved.subject);
    e.personal = moved;
  });

  std::unique_ptr<EventLog> log = store.Open();
  const Event b = At(*log, note);
  REQUIRE(b.personal == moved);  // the bytes are exactly the other event's
  Result<EventLog::PersonalView> view = log->OpenPersonal(b);
  INFO(view.status().ToString());
  CHECK(view.status().code() == StatusCode::kCorruption);
  CHECK_THAT(view.status().message(), Catch::Contains("another event"));
  // Where it belongs it still opens.
  CHECK(Must(log->PersonalJson(At(*log, added))) == kPetra.personal);
  VerifyReport report = log->Verify();
  CHECK_FALSE(report.ok);
  CHECK(report.events == note.value());
}

// --- Plaintext in the files ---

TEST_CASE("No file of the store holds the plaintext of a personal part, in any form the log uses", "[personal]") {
  Store store;
  const Contact quirinus{
      "con-7001",
      R"({"name":"Quirinus Zabelberg","email":"Q.Zabelberg@Wolkenstein-Fahrzeuge.example","phone":"+49 30 9182 7364"})"};
  const std::vector<std::string> plaintexts = {"Quirinus",
                                               "Zabelberg",
                                               "zabelberg",
                                               "quirinus",  // as given, and as the blind index normalises names
                                               "Q.Zabelberg@Wolkenstein-Fahrzeuge.example",
                                               "q.zabelberg@wolkenstein-fahrzeuge.example",
                                               "Wolkenstein",
                                               "9182 7364",
                                               "+493091827364",
                                               "4930918",
                                               "hazelnut allergy",
                                               "Hazelnut"};
  const std::string marker = "fleet-marker-4711";  // in data: the scan must find it
  auto check_files = [&](const char* when) {
    INFO(when);
    CHECK(!FilesHolding(store.dir, marker).empty());
    for (const std::string& p : plaintexts) {
      INFO(p);
      CHECK(FilesHolding(store.dir, p).empty());
    }
  };
  {
    std::unique_ptr<EventLog> log = store.Open();
    Event added = MakeEvent(kCustomer, "contact.added", R"({"contact_id":"con-7001","role":")" + marker + R"("})");
    added.personal_plain = quirinus.personal;
    AppendOne(*log, added);
    AppendOne(*log, NoteAbout(quirinus, "Hazelnut allergy: no hazelnut allergy risks at the meeting"));
    Event call = MakeEvent(kCustomer, "interaction.logged",
                           R"({"channel":"call","direction":"outbound","contact_id":"con-7001"})");
    call.personal_plain = R"({"notes":"Zabelberg mentioned his hazelnut allergy"})";
    AppendOne(*log, call);
    Event updated = MakeEvent(kCustomer, "contact.updated", R"({"contact_id":"con-7001","role":"fleet director"})");
    updated.personal_plain = R"({"mobile":"+49 171 9182 7364","title":"Dr. Quirinus Zabelberg"})";
    AppendOne(*log, updated);
    REQUIRE(log->FindSubjects(BlindKind::kName, "zabelberg")->size() == 1);
    check_files("the store open, its write-ahead log holding the events");
  }
  check_files("the store closed");
  {
    std::unique_ptr<EventLog> log = store.Open();  // recovery writes the memtables to table files
    CHECK(log->FindSubjects(BlindKind::kEmail, "q.zabelberg@wolkenstein-fahrzeuge.example")->size() == 1);
  }
  check_files("the store reopened and closed");
  // The key directory is beside the store, not in it.
  CHECK_FALSE(fs::path(store.master).string().starts_with(store.dir + "/"));
}

// --- Erasure and the blind index ---

// A store with Petra and Jonas, their key records read before anything is erased.
struct TwoPeople : Store {
  Position petra, petra_note, jonas;
  std::map<std::string, std::string> jonas_plain;  // event id -> personal part
  std::string petra_wrapped, petra_data_key, jonas_wrapped;

  TwoPeople() {
    {
      std::unique_ptr<EventLog> log = Open();
      Event a = ContactAdded(kPetra), n = NoteAbout(kPetra, "prefers calls after lunch"), j = ContactAdded(kJonas);
      jonas_plain[j.id.ToString()] = kJonas.personal;
      petra = AppendOne(*log, a);
      petra_note = AppendOne(*log, n);
      jonas = AppendOne(*log, j);
      AppendOne(*log, MakeEvent(kCustomer));
    }
    const std::map<std::string, std::string> keys_family = KeysFamily(dir);
    petra_wrapped = WrappedKeyOf(keys_family, kPetra.subject());
    jonas_wrapped = WrappedKeyOf(keys_family, kJonas.subject());
    petra_data_key = Must(UnwrapKey(KeyIn(master), kPetra.subject(), petra_wrapped));
    REQUIRE(petra_data_key.size() == kDataKeyBytes);
  }
};

// Checks that Petra's key and plaintext are in no file of the store, and that Jonas's key still is.
void CheckPetraGoneFromFiles(const TwoPeople& s, const char* when) {
  INFO(when);
  CHECK(FilesHolding(s.dir, s.petra_wrapped).empty());
  CHECK(FilesHolding(s.dir, s.petra_data_key).empty());
  CHECK(FilesHolding(s.dir, "Petra").empty());
  CHECK(FilesHolding(s.dir, "p.hartmann@").empty());
  CHECK(!FilesHolding(s.dir, s.jonas_wrapped).empty());  // the scan does see key records
}

TEST_CASE(
    "Erasing a subject destroys its key in every file and its blind-index entries, while the log still verifies "
    "and other subjects still open",
    "[personal][erasure]") {
  TwoPeople s;
  // Before: the scan finds the key record in the files.
  REQUIRE(!FilesHolding(s.dir, s.petra_wrapped).empty());

  const std::string details = "the person's request of 3 March";
  Position erased;
  TreeHead head_before;
  std::vector<Hash256> inclusion_before, consistency_before;
  Hash256 leaf_before;
  {
    std::unique_ptr<EventLog> log = s.Open();
    head_before = Must(log->Head());
    inclusion_before = Must(log->InclusionProof(s.petra, head_before.size));
    consistency_before = Must(log->ConsistencyProof(2, head_before.size));
    leaf_before = LeafHash(At(*log, s.petra));

    erased = AppendOne(*log, ErasureOf(kPetra, R"(,"details":")" + details + "\""));
    // The log destroyed the key as it committed the event; destroying it again changes nothing.
    Status again = log->DestroySubjectKey(kPetra.subject(), erased.value(), details);
    INFO(again.ToString());
    CHECK(again.ok());

    for (Position p : {s.petra, s.petra_note}) {
      const Event e = At(*log, p);
      EventLog::PersonalView view = Must(log->OpenPersonal(e));
      CHECK(view.state == EventLog::PersonalView::State::kErased);
      CHECK(view.erased_position == erased.value());
      CHECK(view.erased_reason == details);
      CHECK(view.json.empty());
      json::object shown = PersonalObject(*log, e);
      REQUIRE(shown.size() == 1);
      REQUIRE(shown["erased"].is_object());
      CHECK(Num(shown["erased"].as_object()["position"]) == erased.value());
      CHECK(Str(shown["erased"].as_object()["reason"]) == details);
    }
    CheckEveryPartOpens(*log, s.jonas_plain, kPetra.subject());

    // The log is unchanged where it matters: the leaf, every root, the proofs taken before.
    VerifyReport report = log->Verify();
    INFO(report.problem);
    CHECK(report.ok);
    CHECK(LeafHash(At(*log, s.petra)) == leaf_before);
    const Hash256 root_then = Must(log->RootAt(head_before.size));
    CHECK(root_then == head_before.root);
    CHECK(merkle::VerifyInclusion(s.petra.value(), head_before.size, merkle::ToBytes(LeafHash(At(*log, s.petra))),
                                  ProofBytes(inclusion_before), merkle::ToBytes(root_then))
              .ok());
    CHECK(merkle::VerifyConsistency(2, head_before.size, ProofBytes(consistency_before),
                                    merkle::ToBytes(Must(log->RootAt(2))), merkle::ToBytes(root_then))
              .ok());
    const TreeHead head_now = Must(log->Head());
    CHECK(head_now.size == head_before.size + 1);
    CHECK(merkle::VerifyConsistency(head_before.size, head_now.size,
                                    ProofBytes(Must(log->ConsistencyProof(head_before.size, head_now.size))),
                                    merkle::ToBytes(head_before.root), merkle::ToBytes(head_now.root))
              .ok());

    CheckPetraGoneFromFiles(s, "right after the erasure, the store open");
  }
  CheckPetraGoneFromFiles(s, "the store closed");

  // The keys family: Petra's key and index entries gone, her erasure marker there; Jonas's untouched.
  const std::map<std::string, std::string> keys_family = KeysFamily(s.dir);
  CHECK(EntriesNaming(keys_family, kPetra.subject()) == std::vector<std::string>{"e/"});
  json::object marker = json::parse(keys_family.at("e/" + kPetra.subject())).as_object();
  CHECK(marker.size() == 2);
  CHECK(Num(marker["position"]) == erased.value());
  CHECK(Str(marker["reason"]) == details);
  const std::vector<std::string> jonas_entries = EntriesNaming(keys_family, kJonas.subject());
  CHECK(std::count(jonas_entries.begin(), jonas_entries.end(), "k/") == 1);
  CHECK(std::count(jonas_entries.begin(), jonas_entries.end(), "b/") >= 3);  // email, phone, each word of the name

  // Reopened: still erased, nothing left to redo, and nothing personal about her is kept again.
  std::unique_ptr<EventLog> log = s.Open();
  CHECK(log->erasures_reapplied() == 0);
  CHECK(Must(log->OpenPersonal(At(*log, s.petra))).state == EventLog::PersonalView::State::kErased);
  CheckEveryPartOpens(*log, s.jonas_plain, kPetra.subject());
  Result<AppendResult> again = log->Append(kCustomer, {NoteAbout(kPetra, "called again")});
  INFO(again.status().ToString());
  CHECK(again.status().code() == StatusCode::kRuleViolation);
  CHECK_THAT(again.status().message(), Catch::Contains(kPetra.subject()));
  CHECK(log->end() == Position(erased.value() + 1));
  AppendOne(*log, NoteAbout(kJonas, "called again"));  // others' personal data is still taken
}

TEST_CASE("The blind index finds a subject by normalised email, phone and name until the subject is erased",
          "[personal][erasure]") {
  TwoPeople s;
  std::unique_ptr<EventLog> log = s.Open();
  auto find = [&](BlindKind kind, const std::string& value) { return Must(log->FindSubjects(kind, value)); };
  using Subjects = std::vector<std::string>;
  const Subjects petra{kPetra.subject()}, none;

  CHECK(find(BlindKind::kEmail, "p.hartmann@hartmann-logistik.de") == petra);
  CHECK(find(BlindKind::kEmail, "  P.Hartmann@HARTMANN-Logistik.DE ") == petra);
  CHECK(find(BlindKind::kEmail, "p.hartmann@hartmann-logistik.com") == none);
  CHECK(find(BlindKind::kPhone, "+49 40 5550 1234") == petra);
  CHECK(find(BlindKind::kPhone, "+49 (40) 5550-1234") == petra);
  CHECK(find(BlindKind::kPhone, "+49 40 5550 1235") == none);
  CHECK(find(BlindKind::kName, "PETRA") == petra);
  CHECK(find(BlindKind::kName, "Petra  Hartmann") == petra);
  Subjects both = find(BlindKind::kName, "hartmann");
  std::sort(both.begin(), both.end());
  CHECK(both == Subjects{kPetra.subject(), kJonas.subject()});
  CHECK(find(BlindKind::kName, "Jonas Hartmann") == Subjects{kJonas.subject()});
  CHECK(log->FindSubjects(BlindKind::kPhone, "12").status().code() == StatusCode::kInvalidArgument);

  AppendOne(*log, ErasureOf(kPetra));
  auto after_erasure = [&](const char* when) {
    INFO(when);
    CHECK(find(BlindKind::kEmail, "p.hartmann@hartmann-logistik.de") == none);
    CHECK(find(BlindKind::kPhone, "+49 40 5550 1234") == none);
    CHECK(find(BlindKind::kName, "Petra") == none);
    CHECK(find(BlindKind::kName, "Hartmann") == Subjects{kJonas.subject()});
    CHECK(find(BlindKind::kEmail, "jonas@hartmann-logistik.de") == Subjects{kJonas.subject()});
  };
  after_erasure("right after the erasure");
  log.reset();
  log = s.Open();
  after_erasure("after reopening");
}

TEST_CASE("An erasure deletes the subject's blind-index entries, and the by-subject copies older stores hold",
          "[personal][erasure]") {
  TwoPeople s;
  using Kinds = std::vector<std::string>;
  const std::string petra = kPetra.subject(), jonas = kJonas.subject();
  std::map<std::string, std::string> keys_family = KeysFamily(s.dir);
  // Written now: the key and one "b/" entry per token, nothing by subject.
  Kinds kinds = EntriesNaming(keys_family, petra);
  CHECK(std::count(kinds.begin(), kinds.end(), "b/") >= 4);  // e-mail, phone, two words of her name
  CHECK(std::count(kinds.begin(), kinds.end(), "s/") == 0);
  // A store written before 2026-12-05 also holds "s/" subject 00 token.
  std::string legacy_token;
  for (const auto& [key, value] : keys_family) {
    if (key.starts_with("b/") && key.ends_with(petra)) legacy_token = key.substr(2, 32);
  }
  REQUIRE(legacy_token.size() == 32);
  {
    RawStore raw(s.dir);
    raw.Put(keys::kKeysFamily, "s/" + petra + '\0' + legacy_token, "");
  }
  {
    std::unique_ptr<EventLog> log = s.Open();
    AppendOne(*log, ErasureOf(kPetra));
  }
  keys_family = KeysFamily(s.dir);
  CHECK(EntriesNaming(keys_family, petra) == Kinds{"e/"});  // only the marker that says she was erased
  kinds = EntriesNaming(keys_family, jonas);
  CHECK(std::count(kinds.begin(), kinds.end(), "b/") >= 3);  // his are kept (including "hartmann", which both have)
  CHECK(std::count(kinds.begin(), kinds.end(), "k/") == 1);
}

TEST_CASE("A read-only log that opened a subject's part shows it erased once it catches up with the erasure",
          "[personal][erasure]") {
  TwoPeople s;
  std::unique_ptr<EventLog> writer = s.Open();
  EventLogOptions options;
  options.mode = EventLogOptions::Mode::kReadOnly;
  options.master_key_file = s.master;
  std::unique_ptr<EventLog> reader = Must(EventLog::Open(s.dir, options));
  CHECK(Must(reader->PersonalJson(At(*reader, s.petra))) == kPetra.personal);  // her key is now in its memory

  const Position erased = AppendOne(*writer, ErasureOf(kPetra));
  REQUIRE(reader->CatchUp().ok());
  REQUIRE(reader->end() == Position(erased.value() + 1));
  for (Position p : {s.petra, s.petra_note}) {
    EventLog::PersonalView view = Must(reader->OpenPersonal(At(*reader, p)));
    CHECK(view.state == EventLog::PersonalView::State::kErased);
    CHECK(view.erased_position == erased.value());
  }
  CHECK(Must(reader->FindSubjects(BlindKind::kName, "Petra")).empty());
  CheckEveryPartOpens(*reader, s.jonas_plain, kPetra.subject());
}

// --- Rotation ---

constexpr const char* kRotationSteps[] = {"new key written", "keys wrapped under both", "new key in force"};

// A store with three subjects (two customers), closed; `plain` holds each personal part appended.
struct ThreeSubjects : Store {
  std::map<std::string, std::string> plain;
  ThreeSubjects() {
    std::unique_ptr<EventLog> log = Open();
    const Contact other{"con-3001", R"({"name":"Ines Vogel","email":"ines.vogel@example.org"})"};
    std::vector<Event> events = {ContactAdded(kPetra), ContactAdded(kJonas), NoteAbout(kPetra, "prefers mornings")};
    Event vogel = MakeEvent("customer-1002", "contact.added", R"({"contact_id":"con-3001"})");
    vogel.personal_plain = other.personal;
    events.push_back(vogel);
    for (Event& e : events) {
      plain[e.id.ToString()] = e.personal_plain;
      AppendOne(*log, e);
    }
  }
  std::string blind() const { return key_dir + "/blind.key"; }
};

TEST_CASE("Rotating the master key re-wraps every key under a new one, after which the old key opens nothing",
          "[personal][rotation]") {
  ThreeSubjects s;
  const std::string old_key = KeyIn(s.master);
  const std::string old_only = KeyDirWithOnly(s.tmp, "old-key", s.master, s.blind());
  const std::string old_wrapped = WrappedKeyOf(KeysFamily(s.dir), kPetra.subject());
  {
    std::unique_ptr<EventLog> log = s.Open();
    std::vector<std::string> steps;
    const size_t rotated = Must(log->RotateMasterKey([&](std::string_view step) { steps.emplace_back(step); }));
    CHECK(rotated == 3);
    CHECK(steps == std::vector<std::string>(std::begin(kRotationSteps), std::end(kRotationSteps)));
    CheckEveryPartOpens(*log, s.plain);  // the open log goes on with the new key
  }
  CHECK(KeyIn(s.master) != old_key);
  CHECK_FALSE(fs::exists(s.master + ".new"));
  CHECK_FALSE(fs::exists(s.master + ".old"));
  CHECK(FilesHolding(s.dir, old_wrapped).empty());  // the old wrappings are purged from the files

  {
    std::unique_ptr<EventLog> log = s.Open();
    CheckEveryPartOpens(*log, s.plain);
    AppendOne(*log, ContactAdded({"con-2003", R"({"name":"Lena Brandt"})"}));  // a new subject, under the new key
  }
  const std::string new_only = KeyDirWithOnly(s.tmp, "new-key", s.master, s.blind());
  {
    std::unique_ptr<EventLog> log = s.Open(new_only);
    std::map<std::string, std::string> plain = s.plain;
    const std::vector<Event> all = ReadEverything(*log);
    plain[all.back().id.ToString()] = R"({"name":"Lena Brandt"})";
    CheckEveryPartOpens(*log, plain);
  }
  std::unique_ptr<EventLog> log = s.Open(old_only);
  INFO(log->PersonalStatus().ToString());
  CHECK(log->PersonalStatus().code() == StatusCode::kFailedPrecondition);
}

// Runs rotation_child on the store, which rotates its master key and kills
// itself with SIGKILL at `step`.
void RotateAndDieAt(const Store& s, const std::string& step) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::execl(CUSTODIAN_ROTATION_CHILD, CUSTODIAN_ROTATION_CHILD, s.dir.c_str(), s.master.c_str(), step.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  INFO("rotation_child ended with status " << status << " instead of being killed at \"" << step << "\"");
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
}

TEST_CASE(
    "A rotation killed at any step leaves every key opening with the key the design promises, and running it "
    "again finishes it",
    "[personal][rotation][crash]") {
  for (const char* step : kRotationSteps) {
    DYNAMIC_SECTION("killed after: " << step) {
      ThreeSubjects s;
      const std::string old_file = s.tmp.Sub("old-master.key");
      fs::copy_file(s.master, old_file);
      const std::string old_key = KeyIn(old_file);

      RotateAndDieAt(s, step);

      // What the key directory holds (storage/key_vault.cc, RotateMaster).
      const bool renamed = std::string_view(step) == "new key in force";
      const std::string new_file = renamed ? s.master : s.master + ".new";
      REQUIRE(fs::exists(new_file));
      CHECK(fs::exists(s.master + ".old") == renamed);
      CHECK(fs::exists(s.master + ".new") == !renamed);
      if (renamed) CHECK(KeyIn(s.master + ".old") == old_key);
      if (!renamed) CHECK(KeyIn(s.master) == old_key);
      const std::string new_key = KeyIn(new_file);
      REQUIRE(new_key != old_key);

      // Cut short anywhere, every key opens with the old key before step 2, with either after it.
      const std::string old_only = KeyDirWithOnly(s.tmp, "old-key", old_file, s.blind());
      const std::string new_only = KeyDirWithOnly(s.tmp, "new-key", new_file, s.blind());
      {
        INFO("with the old key alone");
        CheckEveryPartOpens(*s.Open(old_only), s.plain);
      }
      if (std::string_view(step) != "new key written") {
        INFO("with the new key alone");
        CheckEveryPartOpens(*s.Open(new_only), s.plain);
      }
      {
        INFO("with the key directory as the crash left it");
        CheckEveryPartOpens(*s.Open(), s.plain);
      }

      // Running it again finishes it, with the key the first run made.
      {
        std::unique_ptr<EventLog> log = s.Open();
        CHECK(Must(log->RotateMasterKey()) == 3);
        CheckEveryPartOpens(*log, s.plain);
      }
      CHECK(KeyIn(s.master) == new_key);
      CHECK_FALSE(fs::exists(s.master + ".new"));
      CHECK_FALSE(fs::exists(s.master + ".old"));
      CheckEveryPartOpens(*s.Open(), s.plain);
      CheckEveryPartOpens(*s.Open(KeyDirWithOnly(s.tmp, "new-key", s.master, s.blind())), s.plain);
      std::unique_ptr<EventLog> log = s.Open(old_only);
      CHECK(log->PersonalStatus().code() == StatusCode::kFailedPrecondition);
    }
  }
}

// --- Legal holds ---

TEST_CASE("A legal hold refuses the subject's erasure, naming the hold, until every hold on it is released",
          "[personal][erasure][rules]") {
  Store store;
  std::unique_ptr<EventLog> log = store.Open(Rules::kChecked);
  Event joined = MakeEvent("staff-7", "staff.joined", R"({"role":"data_protection_officer"})");
  joined.actor = "system:hr-sync";
  AppendOne(*log, joined);
  const Position petra = AppendOne(*log, ContactAdded(kPetra));
  AppendOne(*log, Hold("subject.hold_placed", kPetra, "hold-2026-017"));
  AppendOne(*log, Hold("subject.hold_placed", kPetra, "hold-2026-018"));

  auto refused_erasure = [&](const std::string& hold_id) {
    const Position end = log->end();
    Result<AppendResult> r = log->Append(kCustomer, {ErasureOf(kPetra)});
    INFO(r.status().ToString());
    CHECK(r.status().code() == StatusCode::kRuleViolation);
    CHECK_THAT(r.status().message(), Catch::Contains("rule 'hold'") && Catch::Contains(hold_id));
    CHECK(log->end() == end);
    // The key is kept: her data still opens and is found.
    CHECK(Must(log->PersonalJson(At(*log, petra))) == kPetra.personal);
    CHECK(Must(log->FindSubjects(BlindKind::kEmail, "p.hartmann@hartmann-logistik.de")).size() == 1);
  };
  refused_erasure("hold-2026-017");
  AppendOne(*log, Hold("subject.hold_released", kPetra, "hold-2026-017"));
  refused_erasure("hold-2026-018");
  // A hold on another subject does not cover her.
  AppendOne(*log, Hold("subject.hold_released", kPetra, "hold-2026-018"));
  AppendOne(*log, ContactAdded(kJonas));
  AppendOne(*log, Hold("subject.hold_placed", kJonas, "hold-2026-019"));

  const Position erased = AppendOne(*log, ErasureOf(kPetra));
  CHECK(Must(log->OpenPersonal(At(*log, petra))).erased_position == erased.value());
  // Erased once only.
  Result<AppendResult> twice = log->Append(kCustomer, {ErasureOf(kPetra)});
  CHECK(twice.status().code() == StatusCode::kRuleViolation);
  CHECK_THAT(twice.status().message(), Catch::Contains("erased already"));
}

// --- A restored backup ---

TEST_CASE("A copy of the store taken before an erasure and put back is erased again when it is opened",
          "[personal][erasure]") {
  TwoPeople s;
  const std::string copy = s.tmp.Sub("copy");
  fs::copy(s.dir, copy, fs::copy_options::recursive);
  REQUIRE(!FilesHolding(copy, s.petra_wrapped).empty());

  Position erased;
  {
    std::unique_ptr<EventLog> log = s.Open();
    erased = AppendOne(*log, ErasureOf(kPetra));
  }
  fs::remove_all(s.dir);
  fs::rename(copy, s.dir);
  REQUIRE(!FilesHolding(s.dir, s.petra_wrapped).empty());  // the old store, with her key

  {
    std::unique_ptr<EventLog> log = s.Open();
    CHECK(log->erasures_reapplied() == 1);
    CHECK(log->end() == erased);                  // the erasure's event is not in the old copy ...
    for (Position p : {s.petra, s.petra_note}) {  // ... but the erasure holds
      json::object shown = PersonalObject(*log, At(*log, p));
      REQUIRE(shown.contains("erased"));
      CHECK(Num(shown["erased"].as_object()["position"]) == erased.value());
      // A position this store does not hold (the next append takes it): said with the reason.
      CHECK(Str(shown["erased"].as_object()["reason"]) ==
            "data_subject_request (erased after the backup this store was restored from; the position is in the store "
            "it was erased in)");
    }
    CheckEveryPartOpens(*log, s.jonas_plain, kPetra.subject());
    CHECK(Must(log->FindSubjects(BlindKind::kEmail, "p.hartmann@hartmann-logistik.de")).empty());
    Result<AppendResult> again = log->Append(kCustomer, {NoteAbout(kPetra, "called again")});
    INFO(again.status().ToString());
    CHECK(again.status().code() == StatusCode::kRuleViolation);
    VerifyReport report = log->Verify();
    INFO(report.problem);
    CHECK(report.ok);
    CheckPetraGoneFromFiles(s, "the copy reopened");
  }
  std::unique_ptr<EventLog> log = s.Open();
  CHECK(log->erasures_reapplied() == 0);  // done once, for good
  CHECK(Must(log->OpenPersonal(At(*log, s.petra))).state == EventLog::PersonalView::State::kErased);
}
TEST_CASE("A copy of the store taken before an erasure, put back and opened read-only, shows the subject erased",
          "[personal][erasure]") {
  TwoPeople s;
  const std::string copy = s.tmp.Sub("copy");
  fs::copy(s.dir, copy, fs::copy_options::recursive);
  Position erased;
  {
    std::unique_ptr<EventLog> log = s.Open();
    erased = AppendOne(*log, ErasureOf(kPetra));
  }
  fs::remove_all(s.dir);
  fs::rename(copy, s.dir);

  // A read-only open cannot destroy her key, which the copy still holds, but shows her erased all the same.
  EventLogOptions options;
  options.mode = EventLogOptions::Mode::kReadOnly;
  options.master_key_file = s.master;
  std::unique_ptr<EventLog> reader = Must(EventLog::Open(s.dir, options));
  CHECK(reader->end() == erased);
  for (Position p : {s.petra, s.petra_note}) {
    json::object shown = PersonalObject(*reader, At(*reader, p));
    REQUIRE(shown.contains("erased"));
    CHECK(Num(shown["erased"].as_object()["position"]) == erased.value());
    CHECK(Str(shown["erased"].as_object()["reason"]) == "data_subject_request");
  }
  CHECK(Must(reader->FindSubjects(BlindKind::kEmail, "p.hartmann@hartmann-logistik.de")).empty());
  CHECK(Must(reader->FindSubjects(BlindKind::kName, "Hartmann")) == std::vector<std::string>{kJonas.subject()});
  CheckEveryPartOpens(*reader, s.jonas_plain, kPetra.subject());
  reader.reset();
  CHECK(!FilesHolding(s.dir, s.petra_wrapped).empty());  // left as it was

  // The next read-write open makes the erasure.
  std::unique_ptr<EventLog> log = s.Open();
  CHECK(log->erasures_reapplied() == 1);
  CheckPetraGoneFromFiles(s, "the copy opened read-write");
}

}  // namespace
}  // namespace custodian
