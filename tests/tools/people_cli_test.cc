// The people behind the customers, end to end (service/personal.h,
// tools/cli_people.cc; docs/events.md, "Personal data"): find through the
// blind index and its recorded read, erase under the rules 'privacy',
// 'erased' and 'hold', legal holds, the subject-access export, backup and
// restore re-applying erasures, and the master key's rotation. The real
// binary on a real store in a temporary directory; the store's files are
// read directly to check that nothing personal is in them.
#include <sys/stat.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <filesystem>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "core/base64.h"
#include "core/merkle.h"
#include "storage/keys.h"
#include "tests/raw_store.h"
#include "tests/test_util.h"
#include "tests/tools/cli_runner.h"

namespace custodian {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using testing::CliResult;
using testing::RawStore;
using testing::RunCli;
using testing::Slurp;
using testing::TempDir;
using testing::WriteFile;

// The person the tests are about, and what must never be in a file of the store.
constexpr char kAnaSubject[] = "customer-1/contact-c-1";
constexpr char kAnaKey[] = "k/customer-1/contact-c-1";
constexpr char kBoKey[] = "k/customer-1/contact-c-2";
const std::vector<std::string> kAnaPlaintext = {"Ana Lima", "Ana.Lima@acme.example", "ana.lima@acme.example",
                                                "+351 912 000 111", "Ana prefers mornings"};

// staff-1 is the data protection officer, staff-2 an account executive.
// customer-1 (an organization) has two contacts: c-1, Ana Lima, who was
// called once, and c-2, whose name is markup; customer-2 has Rui Lima.
constexpr char kEvents[] =
    R"({"id":"5e0c0000-0000-4000-8000-000000000001","stream":"staff-1","type":"staff.joined","actor":"system:hr-sync","occurred_at":"2026-01-05T08:00:00Z","data":{"role":"data_protection_officer","team":"legal"}}
{"id":"5e0c0000-0000-4000-8000-000000000002","stream":"staff-2","type":"staff.joined","actor":"system:hr-sync","occurred_at":"2026-01-05T08:00:00Z","data":{"role":"account_executive","team":"north"}}
{"id":"5e0c0000-0000-4000-8000-000000000003","stream":"customer-1","type":"customer.registered","actor":"staff-2","occurred_at":"2026-01-10T09:00:00Z","data":{"name":"Acme Lda","country":"PT"}}
{"id":"5e0c0000-0000-4000-8000-000000000004","stream":"customer-1","type":"contact.added","actor":"staff-2","occurred_at":"2026-01-10T09:05:00Z","data":{"contact_id":"c-1","role":"buyer"},"personal":{"name":"Ana Lima","email":"Ana.Lima@acme.example","phone":"+351 912 000 111"}}
{"id":"5e0c0000-0000-4000-8000-000000000005","stream":"customer-1","type":"interaction.logged","actor":"staff-2","occurred_at":"2026-01-12T10:00:00Z","data":{"contact_id":"c-1","channel":"call","direction":"outbound","summary":"pricing"},"personal":{"notes":"Ana prefers mornings"}}
{"id":"5e0c0000-0000-4000-8000-000000000006","stream":"customer-1","type":"contact.added","actor":"staff-2","occurred_at":"2026-01-10T09:06:00Z","data":{"contact_id":"c-2","role":"engineer"},"personal":{"name":"<b>Bo</b> O'Neil","email":"bo@acme.example"}}
{"id":"5e0c0000-0000-4000-8000-000000000007","stream":"customer-2","type":"customer.registered","actor":"staff-2","occurred_at":"2026-01-11T09:00:00Z","data":{"name":"Beta SA","country":"PT"}}
{"id":"5e0c0000-0000-4000-8000-000000000008","stream":"customer-2","type":"contact.added","actor":"staff-2","occurred_at":"2026-01-11T09:05:00Z","data":{"contact_id":"c-7","role":"director"},"personal":{"name":"Rui Lima","email":"rui@beta.example","phone":"+351 913 555 222"}}
)";
// Log positions of the events above.
constexpr uint64_t kAnaAdded = 3, kAnaCalled = 4, kBoAdded = 5;

// --- reading output ---

json::value Parse(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  INFO(text);
  REQUIRE(!ec);
  return v;
}

json::object Object(const std::string& text) {
  json::value v = Parse(text);
  REQUIRE(v.is_object());
  return v.as_object();
}

std::vector<json::object> Lines(const std::string& text) {
  std::vector<json::object> out;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    if (end > at) out.push_back(Object(text.substr(at, end - at)));
    at = end + 1;
  }
  return out;
}

const json::value& At(const json::object& o, const char* key) {
  INFO(key << " in " << json::serialize(o));
  REQUIRE(o.contains(key));
  return o.at(key);
}
std::string Str(const json::object& o, const char* key) {
  const json::value& v = At(o, key);
  INFO(key << " in " << json::serialize(o));
  REQUIRE(v.is_string());
  return std::string(v.as_string());
}
uint64_t Num(const json::object& o, const char* key) {
  const json::value& v = At(o, key);
  INFO(key << " in " << json::serialize(o));
  REQUIRE(v.is_number());
  return v.to_number<uint64_t>();
}
const json::object& Obj(const json::object& o, const char* key) {
  const json::value& v = At(o, key);
  INFO(key << " in " << json::serialize(o));
  REQUIRE(v.is_object());
  return v.as_object();
}
const json::array& Arr(const json::object& o, const char* key) {
  const json::value& v = At(o, key);
  INFO(key << " in " << json::serialize(o));
  REQUIRE(v.is_array());
  return v.as_array();
}
std::vector<std::string> Strings(const json::object& o, const char* key) {
  std::vector<std::string> out;
  for (const json::value& v : Arr(o, key)) {
    REQUIRE(v.is_string());
    out.emplace_back(v.as_string());
  }
  return out;
}

std::string Unbase64(const std::string& text) {
  Result<std::string> bytes = Base64Decode(text);
  INFO(text);
  REQUIRE(bytes.ok());
  return *bytes;
}

// --- the store ---

// Every regular file under `dir` whose bytes contain `needle`.
std::vector<std::string> FilesHolding(const std::string& dir, const std::string& needle) {
  std::vector<std::string> out;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    if (Slurp(e.path().string()).find(needle) != std::string::npos) out.push_back(e.path().string());
  }
  return out;
}

// A store holding kEvents, its master key in the default place (<store>.keys).
struct People {
  TempDir tmp;
  std::string dir = tmp.Sub("store");
  std::string master_key = tmp.Sub("store.keys/master.key");

  People() {
    CliResult init = RunCli(tmp, dir, {"init"});
    INFO(init.err);
    REQUIRE(init.exit_code == 0);
    WriteFile(tmp.Sub("events.jsonl"), kEvents);
    CliResult import = RunCli(tmp, dir, {"import", tmp.Sub("events.jsonl")});
    INFO(import.err);
    REQUIRE(import.exit_code == 0);
  }
  // `custodian --data <store> [--as who] args...`
  CliResult As(const std::string& who, std::vector<std::string> args) {
    if (!who.empty()) args.insert(args.begin(), {"--as", who});
    return RunCli(tmp, dir, std::move(args));
  }
  CliResult Ok(const std::string& who, std::vector<std::string> args) {
    CliResult r = As(who, args);
    INFO(args.front() << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  }
  // How many events the log holds, and one stream's version (stats, which records nothing).
  uint64_t Events() { return Num(Object(Ok("", {"stats", "--json"}).out), "events"); }
  uint64_t Version(const std::string& stream) {
    return Num(Object(Ok("", {"stats", "--stream", stream, "--json"}).out), "version");
  }
  // The events of a stream, personal parts opened for staff-2 (read --as records the read).
  std::vector<json::object> ReadOpened(const std::string& stream) {
    return Lines(Ok("staff-2", {"read", stream, "--json"}).out);
  }
  // The events of a stream as they are stored, read from the store itself, recording nothing.
  std::vector<json::object> ReadSealed(const std::string& stream) { return Lines(testing::StoreLines(dir, stream)); }
  // The subjects `find` gives for one of --email, --phone, --name.
  std::vector<std::string> Find(const char* by, const std::string& value) {
    json::object r = Object(Ok("staff-2", {"find", by, value, "--json"}).out);
    std::vector<std::string> subjects;
    for (const json::value& p : Arr(r, "people")) subjects.push_back(Str(p.as_object(), "subject"));
    return subjects;
  }
  // Erases Ana as the data protection officer; returns the position of subject.erased.
  uint64_t EraseAna(const std::string& reason = "she asked on 3 March") {
    json::object r = Object(Ok("staff-1", {"erase", "--subject", "customer-1/c-1", "--reason", reason, "--json"}).out);
    CHECK_FALSE(At(r, "already_erased").as_bool());
    return Num(r, "position");
  }
  // The wrapped data key of a subject, as the keys family holds it.
  std::string KeyRecord(const std::string& key) {
    RawStore raw(dir);
    return raw.Get(keys::kKeysFamily, key);
  }
  std::vector<std::string> KeysFamily() {
    RawStore raw(dir);
    return raw.Keys(keys::kKeysFamily);
  }
};

// The personal part of the event at `position` among `events`.
json::object PersonalAt(const std::vector<json::object>& events, uint64_t position) {
  for (const json::object& e : events) {
    if (Num(e, "position") == position) return Obj(e, "personal");
  }
  FAIL("no event at position " << position);
  return {};
}

void CheckErased(const json::object& personal, uint64_t position, const std::string& reason) {
  INFO(json::serialize(personal));
  REQUIRE(personal.size() == 1);
  const json::object& erased = Obj(personal, "erased");
  CHECK(Num(erased, "position") == position);
  CHECK(Str(erased, "reason") == reason);
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// --- find ---

TEST_CASE("find matches an e-mail in any case, a phone however it is written and any word of a name",
          "[cli][people]") {
  People p;
  CliResult email = p.Ok("staff-2", {"find", "--email", "ana.lima@ACME.example"});
  CHECK_THAT(email.out, Catch::Contains(kAnaSubject));
  CHECK_THAT(email.out, Catch::Contains("buyer"));
  CHECK_THAT(email.out, Catch::Contains("Ana Lima <Ana.Lima@acme.example>  +351 912 000 111"));
  CHECK_THAT(email.out, !Catch::Contains("Rui"));

  CHECK(p.Find("--email", "  ANA.LIMA@acme.EXAMPLE ") == std::vector<std::string>{kAnaSubject});
  CHECK(p.Find("--phone", "+351-912-000-111") == std::vector<std::string>{kAnaSubject});
  CHECK(p.Find("--phone", "+351 (912) 000 111") == std::vector<std::string>{kAnaSubject});
  CHECK(p.Find("--phone", "+351 913 555 222") == std::vector<std::string>{"customer-2/contact-c-7"});
  CHECK(p.Find("--name", "ANA") == std::vector<std::string>{kAnaSubject});
  CHECK(p.Find("--name", "lima ana") == std::vector<std::string>{kAnaSubject});  // every word must match
  CHECK(p.Find("--name", "rui ana").empty());
  std::vector<std::string> limas = p.Find("--name", "lima");
  std::sort(limas.begin(), limas.end());
  CHECK(limas == std::vector<std::string>{kAnaSubject, "customer-2/contact-c-7"});
  // Nearly right is not a match.
  CHECK(p.Find("--email", "ana.lima@acme.example.org").empty());
  CHECK(p.Find("--phone", "+351 912 000 112").empty());
  CHECK(p.Find("--name", "lim").empty());
  CliResult nobody = p.Ok("staff-2", {"find", "--email", "nobody@acme.example"});
  CHECK_THAT(nobody.out, Catch::Contains("nobody with that email"));
}

TEST_CASE("find --json gives each person with their customer, role and opened fields", "[cli][people]") {
  People p;
  json::object r = Object(p.Ok("staff-2", {"find", "--name", "lima", "--json"}).out);
  CHECK(Str(r, "by") == "name");
  CHECK(Str(r, "value") == "lima");
  const json::array& people = Arr(r, "people");
  REQUIRE(people.size() == 2);
  std::optional<json::object> ana;
  for (const json::value& v : people) {
    if (Str(v.as_object(), "subject") == kAnaSubject) ana = v.as_object();
  }
  REQUIRE(ana);
  CHECK(Str(*ana, "customer") == "customer-1");
  CHECK(Str(*ana, "contact_id") == "c-1");
  CHECK(Str(*ana, "role") == "buyer");
  const json::object& fields = Obj(*ana, "personal");
  CHECK(fields.size() == 3);
  CHECK(Str(fields, "name") == "Ana Lima");
  CHECK(Str(fields, "email") == "Ana.Lima@acme.example");
  CHECK(Str(fields, "phone") == "+351 912 000 111");
}

TEST_CASE("find records the read on the reader's access stream with the customers it showed, and a search that "
          "finds nobody records nothing",
          "[cli][people]") {
  People p;
  CHECK(p.ReadSealed("access-staff-2").empty());
  p.Ok("staff-2", {"find", "--name", "lima"});
  std::vector<json::object> reads = p.ReadSealed("access-staff-2");
  REQUIRE(reads.size() == 1);
  CHECK(Str(reads[0], "type") == "data.viewed");
  CHECK(Str(reads[0], "actor") == "staff-2");
  const json::object& d = Obj(reads[0], "data");
  CHECK(Str(d, "view") == "find");
  CHECK(Strings(d, "customers") == std::vector<std::string>{"customer-1", "customer-2"});
  CHECK(Num(d, "count") == 2);

  const uint64_t before = p.Events();
  p.Ok("staff-2", {"find", "--email", "nobody@acme.example"});
  CHECK(p.Events() == before);

  // The same read, as `access` lists it for the customer.
  std::vector<json::object> access = Lines(p.Ok("staff-1", {"access", "--customer", "1", "--json"}).out);
  size_t finds = 0;
  for (const json::object& a : access) {
    if (Str(a, "staff") == "staff-2" && a.contains("view") && Str(a, "view") == "find") ++finds;
  }
  CHECK(finds == 1);
}

TEST_CASE("find without --as is a usage error, and it takes exactly one of --email, --phone and --name",
          "[cli][people]") {
  People p;
  const uint64_t before = p.Events();
  CliResult anonymous = p.As("", {"find", "--email", "ana.lima@acme.example"});
  CHECK(anonymous.exit_code == 1);
  CHECK_THAT(anonymous.err, Catch::Contains("--as"));
  CHECK_THAT(anonymous.out, !Catch::Contains("Ana"));
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"find"}, std::vector<std::string>{"find", "--email", "a@b.example", "--name", "ana"},
        std::vector<std::string>{"find", "--phone", "1", "--name", "ana", "--email", "a@b.example"}}) {
    CliResult r = p.As("staff-2", args);
    INFO(args.size());
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("give one of --email, --phone or --name"));
    CHECK(r.out.empty());
  }
  CHECK(p.Events() == before);
}

// --- erase ---

TEST_CASE("erase is refused while a legal hold is in force, naming the hold, and appends nothing, and once it is "
          "released the erasure goes through",
          "[cli][people]") {
  People p;
  p.Ok("staff-1", {"hold", "add", "--subject", "customer-1/c-1", "--reason", "pending dispute", "--id", "hold-1"});
  const uint64_t events = p.Events(), version = p.Version("customer-1");
  CliResult refused = p.As("staff-1", {"erase", "--subject", "customer-1/c-1", "--reason", "asked"});
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Catch::Contains("rule 'hold'"));
  CHECK_THAT(refused.err, Catch::Contains("under legal hold hold-1 (pending dispute)"));
  CHECK(p.Events() == events);
  CHECK(p.Version("customer-1") == version);
  CHECK(p.Find("--email", "ana.lima@acme.example") == std::vector<std::string>{kAnaSubject});  // the key is kept

  p.Ok("staff-1", {"hold", "remove", "--subject", "customer-1/c-1", "--id", "hold-1"});
  CliResult erased = p.Ok("staff-1", {"erase", "--subject", "customer-1/c-1", "--reason", "asked"});
  CHECK_THAT(erased.out, Catch::Contains("erased customer-1/contact-c-1 at position"));
  CHECK_THAT(erased.out, Catch::Contains("2 events keep their personal part sealed"));
  CHECK(p.Find("--email", "ana.lima@acme.example").empty());
}

TEST_CASE("erase is refused for a role without the duty and for an actor who is not staff, and appends nothing",
          "[cli][people]") {
  People p;
  const uint64_t events = p.Events(), version = p.Version("customer-1");
  CliResult role = p.As("staff-2", {"erase", "--subject", "customer-1/c-1", "--reason", "asked"});
  CHECK(role.exit_code == 2);
  CHECK_THAT(role.err, Catch::Contains("rule 'privacy'"));
  CHECK_THAT(role.err, Catch::Contains("staff-2's role is account_executive"));
  CHECK_THAT(role.err, Catch::Contains("admin, compliance_officer, data_protection_officer or legal_counsel"));

  // --as takes only staff; a system actor is refused by the rule when the event comes another way.
  CliResult system = p.As("system:crm-sync", {"erase", "--subject", "customer-1/c-1", "--reason", "asked"});
  CHECK(system.exit_code == 1);
  CHECK_THAT(system.err, Catch::Contains("not a staff id"));
  for (const char* actor : {"system:crm-sync", "staff-2"}) {
    INFO(actor);
    const std::string event =
        std::string(R"({"id":"5e0c0000-0000-4000-8000-0000000000e1","stream":"customer-1",)") +
        R"("type":"subject.erased","actor":")" + actor + R"(","occurred_at":"2026-02-01T00:00:00Z",)" +
        R"("data":{"subject":"contact-c-1","details":"x"}})";
    CliResult appended = p.As("", {"append", event});
    CHECK(appended.exit_code == 2);
    CHECK_THAT(appended.err, Catch::Contains("rule 'privacy'"));
  }
  CHECK(p.Events() == events);
  CHECK(p.Version("customer-1") == version);
  CHECK(p.Find("--email", "ana.lima@acme.example") == std::vector<std::string>{kAnaSubject});
}

TEST_CASE("a second erase says the subject was erased already, with the first position and reason, and appends "
          "nothing",
          "[cli][people]") {
  People p;
  const uint64_t at = p.EraseAna("she asked on 3 March");
  const uint64_t events = p.Events();
  CliResult again = p.Ok("staff-1", {"erase", "--subject", "customer-1/contact-c-1", "--reason", "asked again"});
  CHECK_THAT(again.out, Catch::Contains("customer-1/contact-c-1 was erased already, at position " +
                                        std::to_string(at) + ": she asked on 3 March"));
  json::object j = Object(p.Ok("staff-1", {"erase", "--subject", "customer-1/c-1", "--reason", "x", "--json"}).out);
  CHECK(At(j, "already_erased").as_bool());
  CHECK(Num(j, "position") == at);
  CHECK(Str(j, "reason") == "she asked on 3 March");
  CHECK(p.Events() == events);
}

TEST_CASE("importing the same file again finds every event already there, personal parts included, before and after "
          "an erasure, and a changed personal part is a conflict",
          "[cli][people]") {
  People p;
  const uint64_t events = p.Events();
  auto import_json = [&]() {
    CliResult r = p.As("", {"import", p.tmp.Sub("events.jsonl"), "--json"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return Object(r.out);
  };
  json::object again = import_json();
  CHECK(Num(again, "written") == 0);
  CHECK(Num(again, "already_present") == Num(again, "events"));
  p.EraseAna();
  json::object after = import_json();  // Ana's parts no longer open: the rest of each event still matches
  CHECK(Num(after, "written") == 0);
  CHECK(Num(after, "already_present") == Num(after, "events"));
  CHECK(p.Events() == events + 1);  // only the erasure

  // The same id with another name for Bo is another event: refused.
  std::string changed = kEvents;
  const size_t at = changed.find("O'Neil");
  REQUIRE(at != std::string::npos);
  changed.replace(at, 6, "O'Nail");
  WriteFile(p.tmp.Sub("changed.jsonl"), changed);
  CliResult conflict = p.As("", {"import", p.tmp.Sub("changed.jsonl")});
  CHECK(conflict.exit_code == 3);
  CHECK_THAT(conflict.err, Catch::Contains("with other content"));
  CHECK(p.Events() == events + 1);
}

TEST_CASE("after erasure timeline and read --as show the personal parts as erased with position and reason, and "
          "nobody finds the person",
          "[cli][people]") {
  People p;
  CHECK_THAT(p.Ok("staff-2", {"customer", "timeline", "1"}).out, Catch::Contains("Ana Lima"));  // before
  const uint64_t at = p.EraseAna("she asked on 3 March");

  CliResult timeline = p.Ok("staff-2", {"customer", "timeline", "1"});
  const std::string erased_line =
      R"(personal: {"erased":{"position":)" + std::to_string(at) + R"(,"reason":"she asked on 3 March"}})";
  size_t count = 0;
  for (size_t i = timeline.out.find(erased_line); i != std::string::npos; i = timeline.out.find(erased_line, i + 1)) {
    ++count;
  }
  CHECK(count == 2);  // contact.added and interaction.logged
  CHECK_THAT(timeline.out, Catch::Contains("<b>Bo</b> O'Neil"));  // the other contact still opens
  for (const std::string& s : kAnaPlaintext) CHECK_THAT(timeline.out, !Catch::Contains(s));

  std::vector<json::object> events = p.ReadOpened("customer-1");
  CheckErased(PersonalAt(events, kAnaAdded), at, "she asked on 3 March");
  CheckErased(PersonalAt(events, kAnaCalled), at, "she asked on 3 March");
  CHECK(Str(PersonalAt(events, kBoAdded), "name") == "<b>Bo</b> O'Neil");

  CHECK(p.Find("--email", "ana.lima@acme.example").empty());
  CHECK(p.Find("--phone", "+351 912 000 111").empty());
  CHECK(p.Find("--name", "ana").empty());
  CHECK(p.Find("--name", "lima") == std::vector<std::string>{"customer-2/contact-c-7"});
  CHECK(p.Ok("", {"verify"}).exit_code == 0);
}

TEST_CASE("erasure changes no leaf: an inclusion proof and a bundle made before it still verify", "[cli][people]") {
  People p;
  const std::string vkey = p.tmp.Sub("store/log.vkey");
  json::object proof_before = Object(p.Ok("", {"prove", "inclusion", "--position", std::to_string(kAnaAdded)}).out);
  const uint64_t size = Num(proof_before, "tree_size");
  const std::string bundle_before = p.tmp.Sub("before.json");
  p.Ok("staff-1", {"bundle", "--stream", "customer-1", "--out", bundle_before});

  p.EraseAna();
  CliResult verify = p.Ok("", {"verify"});
  CHECK_THAT(verify.out, Catch::Contains("verified"));

  // The proof made before: same leaf and root now, and it verifies.
  json::object proof_after = Object(
      p.Ok("", {"prove", "inclusion", "--position", std::to_string(kAnaAdded), "--size", std::to_string(size)}).out);
  CHECK(Str(proof_after, "leaf_hash") == Str(proof_before, "leaf_hash"));
  CHECK(Str(proof_after, "root") == Str(proof_before, "root"));
  merkle::Proof proof;
  for (const json::value& h : Arr(proof_before, "proof")) proof.push_back(Unbase64(std::string(h.as_string())));
  Status included = merkle::VerifyInclusion(kAnaAdded, size, Unbase64(Str(proof_before, "leaf_hash")), proof,
                                            Unbase64(Str(proof_after, "root")));
  INFO(included.ToString());
  CHECK(included.ok());
  // ... and the tree of that size is a prefix of today's.
  CliResult consistent = p.Ok("", {"prove", "consistency", "--from", std::to_string(size), "--to",
                                   std::to_string(p.Events())});
  json::object grown = Object(consistent.out);
  CHECK(Unbase64(Str(grown, "root_from")) == Unbase64(Str(proof_before, "root")));
  merkle::Proof consistency;
  for (const json::value& h : Arr(grown, "proof")) consistency.push_back(Unbase64(std::string(h.as_string())));
  Status prefix = merkle::VerifyConsistency(size, p.Events(), consistency, Unbase64(Str(proof_before, "root")),
                                            Unbase64(Str(grown, "root_to")));
  INFO(prefix.ToString());
  CHECK(prefix.ok());

  // The bundle made before verifies; one made after carries the same sealed bytes' hashes.
  CliResult old_bundle = RunCli(p.tmp, "", {"verify-bundle", bundle_before, "--key", vkey});
  INFO(old_bundle.err);
  CHECK(old_bundle.exit_code == 0);
  const std::string bundle_after = p.tmp.Sub("after.json");
  p.Ok("staff-1", {"bundle", "--stream", "customer-1", "--out", bundle_after});
  CliResult new_bundle = RunCli(p.tmp, "", {"verify-bundle", bundle_after, "--key", vkey});
  INFO(new_bundle.err);
  CHECK(new_bundle.exit_code == 0);
  auto sealed_hashes = [](const std::string& file) {
    std::map<uint64_t, std::string> out;
    const json::object bundle = Object(Slurp(file));
    for (const json::value& item : Arr(bundle, "events")) {
      const json::object& o = item.as_object();
      if (o.contains("personal_sha256")) out[Num(Obj(o, "event"), "position")] = Str(o, "personal_sha256");
    }
    return out;
  };
  const std::map<uint64_t, std::string> before = sealed_hashes(bundle_before), after = sealed_hashes(bundle_after);
  REQUIRE(before.size() == 4);  // customer.registered and the three with a personal part
  for (const auto& [position, hash] : before) {
    INFO(position);
    REQUIRE(after.count(position) == 1);
    CHECK(after.at(position) == hash);
  }
  CHECK(before.at(kAnaAdded) != before.at(2));  // hers hash her sealed bytes, not an empty part
  CHECK(before.at(kAnaCalled) != before.at(2));
  CHECK(after.size() == 5);  // and subject.erased
}

TEST_CASE("after erasure no file of the store holds the person's wrapped key, and none ever held their data in "
          "plain text",
          "[cli][people]") {
  People p;
  const std::string ana_record = p.KeyRecord(kAnaKey), bo_record = p.KeyRecord(kBoKey);
  // The record: a version byte, then per wrapping a 16-hex fingerprint and the 60-byte wrapped key.
  REQUIRE(ana_record.size() == 1 + 16 + 60);
  const std::string ana_wrapped = ana_record.substr(ana_record.size() - 60);
  const std::string bo_wrapped = bo_record.substr(bo_record.size() - 60);
  CHECK_FALSE(FilesHolding(p.dir, ana_wrapped).empty());  // the scan sees it while it is there
  for (const std::string& s : kAnaPlaintext) {
    INFO(s);
    CHECK(FilesHolding(p.dir, s).empty());
  }
  std::vector<std::string> keys = p.KeysFamily();
  auto ana_entries = [&] {
    size_t n = 0;
    for (const std::string& k : keys) {
      if (k.starts_with("b/") && k.ends_with(kAnaSubject)) ++n;
      if (k.starts_with(std::string("s/") + kAnaSubject + '\0')) ++n;
    }
    return n;
  };
  CHECK(ana_entries() > 0);  // her blind-index entries

  const uint64_t at = p.EraseAna();
  for (const std::string& s : kAnaPlaintext) {
    INFO(s);
    CHECK(FilesHolding(p.dir, s).empty());
  }
  CHECK(FilesHolding(p.dir, ana_wrapped).empty());
  CHECK_FALSE(FilesHolding(p.dir, bo_wrapped).empty());  // the purge took only hers
  keys = p.KeysFamily();
  CHECK_FALSE(Contains(keys, kAnaKey));
  CHECK(Contains(keys, kBoKey));
  CHECK(Contains(keys, std::string("e/") + kAnaSubject));
  CHECK(ana_entries() == 0);
  // The store still serves and verifies after being opened behind its back.
  CheckErased(PersonalAt(p.ReadOpened("customer-1"), kAnaAdded), at, "she asked on 3 March");
}

TEST_CASE("erase, hold add and export-subject refuse a subject the log does not know (6: not found), and append nothing",
          "[cli][people]") {
  People p;
  const uint64_t events = p.Events();
  CliResult typo = p.As("staff-1", {"erase", "--subject", "customer-1/c-11", "--reason", "asked"});
  CHECK(typo.exit_code == 6);
  CHECK_THAT(typo.err, Catch::Contains("customer-1 has no contact c-11"));
  CliResult company = p.As("staff-1", {"erase", "--subject", "customer-1", "--reason", "asked"});
  CHECK(company.exit_code == 6);
  CHECK_THAT(company.err, Catch::Contains("customer-1 is an organization, not a person"));
  CliResult unknown = p.As("staff-1", {"hold", "add", "--subject", "customer-77/c-1", "--reason", "dispute"});
  CHECK(unknown.exit_code == 6);
  CHECK_THAT(unknown.err, Catch::Contains("customer-77 has no contact c-1"));
  CliResult exported = p.As("staff-1", {"export-subject", "customer-1/c-11", "--out", p.tmp.Sub("x.json")});
  CHECK(exported.exit_code == 6);
  CHECK_THAT(exported.err, Catch::Contains("customer-1 has no contact c-11"));
  CHECK_FALSE(fs::exists(p.tmp.Sub("x.json")));
  CHECK(p.Events() == events);
  CHECK(p.ReadSealed("customer-77").empty());
  // The contact meant is untouched, and can still be erased.
  CHECK(p.Find("--email", "ana.lima@acme.example") == std::vector<std::string>{kAnaSubject});
  p.EraseAna();
}

// --- holds ---

TEST_CASE("hold add, list and remove, with --json, and hold ids made from the time when --id is not given",
          "[cli][people]") {
  People p;
  CHECK(p.As("", {"hold", "list"}).exit_code == 1);  // a read: who reads must be named
  CHECK_THAT(p.Ok("staff-2", {"hold", "list"}).out, Catch::Contains("no legal hold in force"));
  json::object placed = Object(
      p.Ok("staff-1", {"hold", "add", "--subject", "customer-1/c-1", "--reason", "dispute", "--id", "hold-1", "--json"})
          .out);
  CHECK(Str(placed, "hold_id") == "hold-1");
  CHECK(Str(placed, "subject") == kAnaSubject);
  CHECK(At(placed, "in_force").as_bool());
  CHECK(Num(placed, "position") == p.Events() - 1);

  // Two holds without --id, at once: each gets its own id.
  std::set<std::string> made;
  for (int i = 0; i < 2; ++i) {
    json::object r = Object(p.Ok("staff-1", {"hold", "add", "--subject", "customer-1/c-1", "--reason",
                                             "audit " + std::to_string(i), "--json"})
                                .out);
    const std::string id = Str(r, "hold_id");
    CHECK(std::regex_match(id, std::regex(R"(hold-\d{8}-\d{6}(-\d+)?)")));
    made.insert(id);
  }
  CHECK(made.size() == 2);
  p.Ok("staff-1", {"hold", "add", "--subject", "customer-1/contact-c-2", "--reason", "tax audit", "--id", "hold-9"});

  auto list = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"hold", "list"});
    args.push_back("--json");
    std::map<std::string, std::pair<std::string, std::string>> out;  // id -> (subject, reason)
    const json::object listed = Object(p.Ok("staff-2", args).out);
    for (const json::value& h : Arr(listed, "holds")) {
      const json::object& o = h.as_object();
      out[Str(o, "hold_id")] = {Str(o, "subject"), Str(o, "reason")};
    }
    return out;
  };
  auto all = list({});
  CHECK(all.size() == 4);
  CHECK(all.at("hold-1") == std::pair<std::string, std::string>{kAnaSubject, "dispute"});
  CHECK(all.at("hold-9") == std::pair<std::string, std::string>{"customer-1/contact-c-2", "tax audit"});
  CHECK(list({"--subject", "customer-1/c-1"}).size() == 3);
  CHECK(list({"--subject", "customer-1/c-2"}).size() == 1);
  CHECK(list({"--subject", "customer-2/c-7"}).empty());
  CliResult text = p.Ok("staff-2", {"hold", "list", "--subject", "customer-1/c-2"});
  CHECK_THAT(text.out, Catch::Contains("hold-9"));
  // Each listing that showed holds is recorded as a read of their customers.
  CHECK_THAT(testing::StoreLines(p.dir, "access-staff-2"), Catch::Contains(R"("view":"legal_holds")"));
  CHECK_THAT(text.out, Catch::Contains("tax audit"));
  CHECK_THAT(text.out, !Catch::Contains("hold-1"));

  json::object released =
      Object(p.Ok("staff-1", {"hold", "remove", "--subject", "customer-1/c-1", "--id", "hold-1", "--json"}).out);
  CHECK(Str(released, "hold_id") == "hold-1");
  CHECK_FALSE(At(released, "in_force").as_bool());
  all = list({});
  CHECK(all.size() == 3);
  CHECK(all.count("hold-1") == 0);

  const uint64_t events = p.Events();
  for (const char* id : {"hold-1", "hold-never"}) {
    INFO(id);
    CliResult r = p.As("staff-1", {"hold", "remove", "--subject", "customer-1/c-1", "--id", id});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("rule 'hold'"));
    CHECK_THAT(r.err, Catch::Contains(std::string("hold ") + id + " is not in force on contact-c-1 of customer-1"));
  }
  CliResult twice = p.As("staff-1", {"hold", "add", "--subject", "customer-1/c-2", "--reason", "x", "--id", "hold-9"});
  CHECK(twice.exit_code == 2);
  CHECK_THAT(twice.err, Catch::Contains("hold hold-9 is already in force"));
  CliResult role = p.As("staff-2", {"hold", "add", "--subject", "customer-1/c-2", "--reason", "x", "--id", "hold-10"});
  CHECK(role.exit_code == 2);
  CHECK_THAT(role.err, Catch::Contains("rule 'privacy'"));
  CHECK(p.Events() == events);
  // Under the holds left, Ana's erasure is still refused.
  CHECK(p.As("staff-1", {"erase", "--subject", "customer-1/c-1", "--reason", "asked"}).exit_code == 2);
}

// --- subject-access export ---

TEST_CASE("export-subject json lists the person's fields, every event naming them and the reads of their customer, "
          "and is recorded as an export",
          "[cli][people]") {
  People p;
  p.Ok("staff-1", {"hold", "add", "--subject", "customer-1/c-1", "--reason", "dispute", "--id", "hold-1"});
  p.Ok("staff-2", {"find", "--email", "ana.lima@acme.example"});
  const std::string file = p.tmp.Sub("ana.json");
  CliResult r = p.Ok("staff-1", {"export-subject", "customer-1/c-1", "--out", file, "--format", "json"});
  CHECK_THAT(r.out, Catch::Contains("3 events about customer-1/contact-c-1"));

  struct stat st;
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  json::object x = Object(Slurp(file));
  CHECK(Str(x, "format") == "custodian-subject-access/1");
  CHECK(Str(x, "generated_by") == "staff-1");
  const json::object& person = Obj(x, "person");
  CHECK(Str(person, "subject") == kAnaSubject);
  CHECK(Str(person, "role") == "buyer");
  const json::object& fields = Obj(person, "personal");
  CHECK(Str(fields, "name") == "Ana Lima");
  CHECK(Str(fields, "email") == "Ana.Lima@acme.example");
  CHECK(Str(fields, "phone") == "+351 912 000 111");
  REQUIRE(Arr(x, "holds").size() == 1);
  CHECK(Str(Arr(x, "holds")[0].as_object(), "hold_id") == "hold-1");

  std::vector<std::string> types;
  for (const json::value& e : Arr(x, "events")) types.emplace_back(Str(e.as_object(), "type"));
  CHECK(types == std::vector<std::string>{"contact.added", "interaction.logged", "subject.hold_placed"});
  const json::object& call = Arr(x, "events")[1].as_object();
  CHECK(Str(Obj(call, "personal"), "notes") == "Ana prefers mornings");
  CHECK(Str(Obj(call, "data"), "contact_id") == "c-1");
  CHECK(Slurp(file).find("O'Neil") == std::string::npos);  // the other contact is not hers

  bool find_listed = false;
  for (const json::value& a : Arr(x, "accesses")) {
    const json::object& o = a.as_object();
    CHECK(Str(o, "customer") == "customer-1");
    if (Str(o, "staff") == "staff-2" && Str(o, "type") == "data.viewed" && Str(o, "view") == "find") find_listed = true;
  }
  CHECK(find_listed);

  std::vector<json::object> exports = p.ReadSealed("access-staff-1");
  REQUIRE_FALSE(exports.empty());
  const json::object& last = exports.back();
  CHECK(Str(last, "type") == "data.exported");
  CHECK(Str(Obj(last, "data"), "scope") == "subject_access");
  CHECK(Str(Obj(last, "data"), "format") == "json");
  CHECK(Strings(Obj(last, "data"), "customers") == std::vector<std::string>{"customer-1"});
  CHECK(Num(Obj(last, "data"), "records") == 3);
}

TEST_CASE(
    "export-subject opens only the person's own parts, takes the fixes of what names them, and refuses, recording "
    "nothing, where their data cannot be opened",
    "[cli][people]") {
  People p;
  // customer-3 is a person, Eva, with a contact of hers, Tomas; Ana's role is
  // corrected and her call retracted.
  WriteFile(
      p.tmp.Sub("more.jsonl"),
      R"({"id":"5e0c0000-0000-4000-8000-000000000011","stream":"customer-3","type":"customer.registered","actor":"staff-2","occurred_at":"2026-01-13T09:00:00Z","data":{"kind":"individual","country":"PT"},"personal":{"name":"Eva Sousa","email":"eva@sousa.example"}}
{"id":"5e0c0000-0000-4000-8000-000000000012","stream":"customer-3","type":"contact.added","actor":"staff-2","occurred_at":"2026-01-13T09:05:00Z","data":{"contact_id":"c-9","role":"spouse"},"personal":{"name":"Tomas Sousa","email":"tomas@sousa.example"}}
{"id":"5e0c0000-0000-4000-8000-000000000013","stream":"customer-1","type":"event.corrected","actor":"staff-2","occurred_at":"2026-01-14T09:00:00Z","data":{"event_id":"5e0c0000-0000-4000-8000-000000000004","reason":"promoted","corrected":{"role":"head of procurement"}}}
{"id":"5e0c0000-0000-4000-8000-000000000014","stream":"customer-1","type":"event.retracted","actor":"staff-2","occurred_at":"2026-01-14T09:01:00Z","data":{"event_id":"5e0c0000-0000-4000-8000-000000000005","reason":"logged on the wrong customer"}}
{"id":"5e0c0000-0000-4000-8000-000000000015","stream":"customer-1","type":"contact.added","actor":"staff-2","occurred_at":"2026-01-14T10:00:00Z","data":{"contact_id":"c-5","role":"intern"},"personal":{"name":"Caio Reis"}}
{"id":"5e0c0000-0000-4000-8000-000000000016","stream":"customer-1","type":"event.retracted","actor":"staff-2","occurred_at":"2026-01-14T10:01:00Z","data":{"event_id":"5e0c0000-0000-4000-8000-000000000015","reason":"added to the wrong customer"}}
)");
  p.Ok("", {"import", p.tmp.Sub("more.jsonl")});

  const std::string eva = p.tmp.Sub("eva.json");
  p.Ok("staff-1", {"export-subject", "customer-3", "--out", eva});
  json::object x = Object(Slurp(eva));
  CHECK(Str(Obj(Obj(x, "person"), "personal"), "name") == "Eva Sousa");
  const json::array& events = Arr(x, "events");
  REQUIRE(events.size() == 2);
  const json::object& tomas = events[1].as_object();
  CHECK(Str(tomas, "type") == "contact.added");
  CHECK(Str(Obj(tomas, "personal"), "sealed_for") == "customer-3/contact-c-9");
  for (const char* his : {"Tomas Sousa", "tomas@sousa.example"}) {
    INFO(his);
    CHECK(Slurp(eva).find(his) == std::string::npos);
  }

  const std::string ana = p.tmp.Sub("ana.json");
  p.Ok("staff-1", {"export-subject", "customer-1/c-1", "--out", ana});
  json::object a = Object(Slurp(ana));
  CHECK(Str(Obj(a, "person"), "role") == "head of procurement");
  std::vector<std::string> types;
  for (const json::value& e : Arr(a, "events")) types.emplace_back(Str(e.as_object(), "type"));
  CHECK(types == std::vector<std::string>{"contact.added", "interaction.logged", "event.corrected", "event.retracted"});

  // A contact whose only contact.added was retracted is still held: their export has it, opened, and the retraction.
  const std::string caio = p.tmp.Sub("caio.json");
  p.Ok("staff-1", {"export-subject", "customer-1/c-5", "--out", caio});
  json::object c = Object(Slurp(caio));
  std::vector<std::string> his;
  for (const json::value& e : Arr(c, "events")) his.emplace_back(Str(e.as_object(), "type"));
  CHECK(his == std::vector<std::string>{"contact.added", "event.retracted"});
  CHECK(Str(Obj(Arr(c, "events")[0].as_object(), "personal"), "name") == "Caio Reis");

  // Without the master key (its directory moved away), nothing of hers opens.
  const size_t exports = p.ReadSealed("access-staff-1").size();
  fs::rename(p.tmp.Sub("store.keys"), p.tmp.Sub("keys.away"));
  const std::string sealed = p.tmp.Sub("sealed.json");
  CliResult refused = p.As("staff-1", {"export-subject", "customer-1/c-1", "--out", sealed});
  INFO(refused.err);
  CHECK(refused.exit_code == 4);
  CHECK_THAT(refused.err, Catch::Contains("cannot be opened here") && Catch::Contains("an export would hold none"));
  CHECK_FALSE(fs::exists(sealed));
  fs::rename(p.tmp.Sub("keys.away"), p.tmp.Sub("store.keys"));
  CHECK(p.ReadSealed("access-staff-1").size() == exports);
}

TEST_CASE("export-subject html is one page with the name, markup in values escaped and no script", "[cli][people]") {
  People p;
  const std::string ana = p.tmp.Sub("ana.html"), bo = p.tmp.Sub("bo.html");
  p.Ok("staff-1", {"export-subject", "customer-1/c-1", "--out", ana, "--format", "html"});
  p.Ok("staff-1", {"export-subject", "customer-1/c-2", "--out", bo, "--format", "html"});
  const std::string a = Slurp(ana), b = Slurp(bo);
  CHECK_THAT(a, Catch::StartsWith("<!DOCTYPE html>"));
  CHECK_THAT(a, Catch::Contains("Everything held about Ana Lima"));
  CHECK_THAT(a, Catch::Contains("Ana.Lima@acme.example"));
  CHECK_THAT(b, Catch::Contains("&lt;b&gt;Bo&lt;/b&gt; O&#39;Neil"));
  CHECK_THAT(b, !Catch::Contains("<b>Bo"));
  for (const std::string& page : {a, b}) {
    CHECK_THAT(page, !Catch::Contains("<script", Catch::CaseSensitive::No));
    CHECK_THAT(page, !Catch::Contains("src=", Catch::CaseSensitive::No));
  }
  struct stat st;
  REQUIRE(::stat(bo.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::vector<json::object> exports = p.ReadSealed("access-staff-1");
  REQUIRE(exports.size() == 2);
  CHECK(Str(Obj(exports.back(), "data"), "format") == "html");
}

TEST_CASE("after erasure the export says erased with position and reason and holds no plain text", "[cli][people]") {
  People p;
  const uint64_t at = p.EraseAna("she asked on 3 March");
  const std::string file = p.tmp.Sub("ana.json"), page = p.tmp.Sub("ana.html");
  p.Ok("staff-1", {"export-subject", "customer-1/c-1", "--out", file});
  p.Ok("staff-1", {"export-subject", "customer-1/c-1", "--out", page, "--format", "html"});
  json::object x = Object(Slurp(file));
  CheckErased(Obj(Obj(x, "person"), "personal"), at, "she asked on 3 March");
  std::vector<std::string> types;
  for (const json::value& e : Arr(x, "events")) {
    const json::object& o = e.as_object();
    types.emplace_back(Str(o, "type"));
    if (o.contains("personal")) CheckErased(Obj(o, "personal"), at, "she asked on 3 March");
  }
  CHECK(types == std::vector<std::string>{"contact.added", "interaction.logged", "subject.erased"});
  CHECK_THAT(Slurp(page), Catch::Contains("Erased at position " + std::to_string(at) + ": she asked on 3 March."));
  for (const std::string& s : kAnaPlaintext) {
    INFO(s);
    CHECK(Slurp(file).find(s) == std::string::npos);
    CHECK(Slurp(page).find(s) == std::string::npos);
  }
}

// --- backup and restore ---

TEST_CASE("a backup made before an erasure restores with the person still erased", "[cli][people]") {
  People p;
  const std::string backup = p.tmp.Sub("backup"), restored = p.tmp.Sub("restored");
  const std::string ana_record = p.KeyRecord(kAnaKey);
  const std::string ana_wrapped = ana_record.substr(ana_record.size() - 60);
  CliResult made = p.Ok("", {"backup", "--to", backup});
  CHECK_THAT(made.out, Catch::Contains("backed up 8 events"));
  REQUIRE_FALSE(FilesHolding(backup, ana_wrapped).empty());  // the backup still holds her key
  const uint64_t at = p.EraseAna("she asked on 3 March");

  CliResult r = RunCli(p.tmp, "", {"--master-key", p.master_key, "restore", "--from", backup, "--to", restored});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("restored 8 events"));
  CHECK_THAT(r.out, Catch::Contains("erasures made after the backup, made again: 1"));
  // Its key is not where a store looks by default: said, with what to give.
  CHECK_THAT(r.out, Catch::Contains("its master key is " + p.master_key + ": give --master-key " + p.master_key +
                                    " with --data " + restored));

  auto in_restored = [&](const std::string& who, std::vector<std::string> args) {
    args.insert(args.begin(), {"--master-key", p.master_key});
    if (!who.empty()) args.insert(args.begin(), {"--as", who});
    CliResult c = RunCli(p.tmp, restored, args);
    INFO(c.err);
    REQUIRE(c.exit_code == 0);
    return c;
  };
  CHECK_THAT(in_restored("staff-2", {"find", "--email", "ana.lima@acme.example"}).out,
             Catch::Contains("nobody with that email"));
  CHECK_THAT(in_restored("staff-2", {"find", "--name", "ana"}).out, Catch::Contains("nobody with that name"));
  CliResult timeline = in_restored("staff-2", {"customer", "timeline", "1"});
  // Its position is the live store's, which this one does not hold: said with the reason.
  CHECK_THAT(timeline.out, Catch::Contains(R"(personal: {"erased":{"position":)" + std::to_string(at) +
                                           R"x(,"reason":"she asked on 3 March (erased after the backup this store was )x"
                                           R"x(restored from; the position is in the store it was erased in)"}})x"));
  CHECK_THAT(timeline.out, Catch::Contains("<b>Bo</b> O'Neil"));
  // Made again without being listed twice.
  std::ifstream list(p.tmp.Sub("store.keys/erased.jsonl"));
  size_t lines = 0;
  for (std::string line; std::getline(list, line);) ++lines;
  CHECK(lines == 1);
  for (const std::string& s : kAnaPlaintext) CHECK_THAT(timeline.out, !Catch::Contains(s));
  CHECK_THAT(in_restored("", {"verify"}).out, Catch::Contains("verified"));
  CHECK(FilesHolding(restored, ana_wrapped).empty());
}

TEST_CASE("a backup made before a rotation of the master key and an erasure restores with the key in force: its keys "
          "re-wrapped, the person still erased, the others readable. Without a key that opens it, restore refuses",
          "[cli][people]") {
  People p;
  const std::string backup = p.tmp.Sub("backup");
  p.Ok("", {"backup", "--to", backup});
  const uint64_t at = p.EraseAna("she asked on 3 March");
  CliResult rotated = p.Ok("", {"keys", "rotate-master"});
  const fs::path retired = fs::path(p.master_key).parent_path() / "retired";
  CHECK_THAT(rotated.out, Catch::Contains("kept in " + retired.string()));
  REQUIRE(fs::is_directory(retired));
  CHECK((fs::status(retired).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  REQUIRE(std::distance(fs::directory_iterator(retired), fs::directory_iterator()) == 1);
  const fs::path old_key = fs::directory_iterator(retired)->path();
  CHECK((fs::status(old_key).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);

  // Without a master key, or with one that does not open the backup: refused, nothing left in the target.
  const std::string refused = p.tmp.Sub("refused");
  CliResult no_key = RunCli(p.tmp, "", {"restore", "--from", backup, "--to", refused});
  CHECK(no_key.exit_code == 4);  // as every failure of the master key
  CHECK_THAT(no_key.err, Catch::Contains("erasures made since the backup could not be made again") &&
                             Catch::Contains("--master-key") && Catch::Contains("--without-master-key"));
  CHECK_FALSE(fs::exists(refused));  // nothing left behind, not even the directory
  for (const fs::directory_entry& e : fs::directory_iterator(p.tmp.path())) {
    CHECK_THAT(e.path().filename().string(), !Catch::Contains(".restoring-"));
  }

  const std::string restored = p.tmp.Sub("restored");
  CliResult r = RunCli(p.tmp, "", {"--master-key", p.master_key, "restore", "--from", backup, "--to", restored, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json::object result = Object(r.out);
  CHECK(Num(result, "erasures_reapplied") == 1);
  CHECK(Num(result, "keys_rewrapped") >= 2);  // Ana's and Bo's at least
  CHECK(Str(result, "personal_data") == "available");
  CliResult timeline = RunCli(p.tmp, restored, {"--as", "staff-2", "--master-key", p.master_key, "customer", "timeline", "1"});
  INFO(timeline.err);
  CHECK_THAT(timeline.out, Catch::Contains(R"(personal: {"erased":{"position":)" + std::to_string(at)));
  CHECK_THAT(timeline.out, Catch::Contains("<b>Bo</b> O'Neil"));  // opened with the key in force
  for (const std::string& s : kAnaPlaintext) CHECK_THAT(timeline.out, !Catch::Contains(s));
  // The restored store's keys are wrapped under the key in force alone: the retired key no longer opens it.
  const std::string only_old = p.tmp.Sub("only-old");
  fs::create_directories(only_old);
  fs::permissions(only_old, fs::perms::owner_all, fs::perm_options::replace);
  fs::copy_file(old_key, only_old + "/master.key");
  fs::copy_file(fs::path(p.master_key).parent_path() / "blind.key", only_old + "/blind.key");
  CliResult with_old = RunCli(p.tmp, restored, {"--as", "staff-2", "--master-key", only_old + "/master.key", "customer",
                                                "timeline", "1"});
  CHECK_THAT(with_old.out, !Catch::Contains("<b>Bo</b> O'Neil"));
  CHECK_THAT(with_old.out + with_old.err, Catch::Contains("not this store's"));

  // Once the retired key is deleted, the backup's people are sealed for good: restore refuses, or, asked to, restores
  // the rest.
  fs::remove(old_key);
  CliResult gone = RunCli(p.tmp, "", {"--master-key", p.master_key, "restore", "--from", backup, "--to", refused});
  CHECK(gone.exit_code == 4);
  CHECK_THAT(gone.err, Catch::Contains("not this store's"));
  CliResult anyway = RunCli(p.tmp, "", {"--master-key", p.master_key, "restore", "--from", backup, "--to", refused,
                                        "--without-master-key"});
  INFO(anyway.err);
  CHECK(anyway.exit_code == 0);
  CHECK_THAT(anyway.out, Catch::Contains("personal data stays sealed"));
}

TEST_CASE("a backup that holds nobody's personal data restores without a master key", "[cli][people]") {
  TempDir tmp;
  const std::string data = tmp.Sub("store"), backup = tmp.Sub("backup"), restored = tmp.Sub("restored");
  REQUIRE(RunCli(tmp, data, {"init"}).exit_code == 0);
  REQUIRE(RunCli(tmp, data, {"append", R"({"id":"0d7f5f0e-7c38-5a43-9a77-6c2b8e0e3f12","stream":"staff-1",)"
                                       R"("type":"staff.joined","actor":"system:hr","occurred_at":"2026-11-02T09:00:00Z",)"
                                       R"("data":{"role":"admin"}})"})
              .exit_code == 0);
  REQUIRE(RunCli(tmp, data, {"backup", "--to", backup}).exit_code == 0);
  CliResult r = RunCli(tmp, "", {"restore", "--from", backup, "--to", restored});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("restored 1 event to"));
  CHECK(RunCli(tmp, restored, {"verify"}).exit_code == 0);
}

TEST_CASE("backup refuses an existing directory, restore refuses a non-empty target and a directory that is not a "
          "backup, and a backup and a restored store are owner-only",
          "[cli][people]") {
  People p;
  const std::string backup = p.tmp.Sub("backup");
  fs::create_directory(backup);
  CliResult exists = p.As("", {"backup", "--to", backup});
  CHECK(exists.exit_code == 3);
  CHECK_THAT(exists.err, Catch::Contains(backup + " exists"));
  CHECK(fs::is_empty(backup));
  fs::remove(backup);
  p.Ok("", {"backup", "--to", backup});
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(backup)) {
    INFO(e.path());
    CHECK((fs::status(e.path()).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  }
  CHECK((fs::status(backup).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);

  const std::string busy = p.tmp.Sub("busy");
  fs::create_directory(busy);
  WriteFile(busy + "/keep.txt", "mine");
  CliResult full = RunCli(p.tmp, "", {"--master-key", p.master_key, "restore", "--from", backup, "--to", busy});
  CHECK(full.exit_code == 3);
  CHECK_THAT(full.err, Catch::Contains(busy + " exists and is not empty"));
  CHECK(Slurp(busy + "/keep.txt") == "mine");
  CHECK(std::distance(fs::directory_iterator(busy), fs::directory_iterator()) == 1);

  const std::string fresh = p.tmp.Sub("fresh");
  CliResult not_backup = RunCli(p.tmp, "", {"--master-key", p.master_key, "restore", "--from", p.dir, "--to", fresh});
  CHECK(not_backup.exit_code == 2);
  CHECK_THAT(not_backup.err, Catch::Contains(p.dir + " is not a backup made by `custodian backup`"));
  CHECK_FALSE(fs::exists(fresh));

  CliResult ok = RunCli(p.tmp, "", {"--master-key", p.master_key, "restore", "--from", backup, "--to", fresh});
  INFO(ok.err);
  REQUIRE(ok.exit_code == 0);
  CHECK_THAT(ok.out, Catch::Contains("erasures made after the backup, made again: 0"));
  CHECK(RunCli(p.tmp, fresh, {"verify"}).exit_code == 0);
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(fresh)) {
    INFO(e.path());
    CHECK((fs::status(e.path()).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  }
  // Nobody was erased: she is found in the restored store.
  CliResult found = RunCli(p.tmp, fresh, {"--as", "staff-2", "--master-key", p.master_key, "find", "--name", "ana"});
  CHECK_THAT(found.out, Catch::Contains("Ana Lima"));

  // A symbolic link planted in a backup would pull its target into the store: refused, nothing restored.
  WriteFile(p.tmp.Sub("secret.txt"), "not the store's");
  fs::create_symlink(p.tmp.Sub("secret.txt"), backup + "/store/planted");
  const std::string linked = p.tmp.Sub("linked");
  CliResult planted = RunCli(p.tmp, "", {"--master-key", p.master_key, "restore", "--from", backup, "--to", linked});
  CHECK(planted.exit_code == 2);
  CHECK_THAT(planted.err, Catch::Contains("planted is not a regular file or directory"));
  CHECK_FALSE(fs::exists(linked));
}

// --- where commands write ---

TEST_CASE("an --out file refuses a link, a device, a folder, the store and its key files, recording nothing, and writes an "
          "owner-only file never through a link planted at its temporary name",
          "[cli][people]") {
  People p;
  const std::string victim = p.tmp.Sub("victim.txt");
  WriteFile(victim, "untouched");
  fs::permissions(victim, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read,
                  fs::perm_options::replace);
  const std::string link = p.tmp.Sub("link.json");
  fs::create_symlink(victim, link);
  const std::string folder = p.tmp.Sub("folder");
  fs::create_directory(folder);
  const std::string master = Slurp(p.master_key);
  const uint64_t events = p.Events();
  const struct Case {
    std::string out, says;
  } cases[] = {{link, "is a symbolic link"},
               {"/dev/null", "is not a regular file"},
               {folder, "is a folder"},
               {p.dir + "/CURRENT", "is inside the store"},
               {p.dir + "/new.json", "is inside the store"},
               {p.master_key, "is one of the store's key files"},
               {p.tmp.Sub("store.keys/erased.jsonl"), "is one of the store's key files"}};
  for (const Case& c : cases) {
    INFO(c.out);
    CliResult r = p.As("staff-1", {"export-subject", "customer-1/c-1", "--out", c.out});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("--out " + c.out + ": " + c.says));
    CliResult report = p.As("staff-1", {"bundle", "--stream", "customer-1", "--out", c.out});
    CHECK(report.exit_code == 1);
    CHECK_THAT(report.err, Catch::Contains(c.says));
  }
  // Nor another store's files: its key (the demo's, a colleague's) or anything inside it.
  const std::string other = p.tmp.Sub("other");
  REQUIRE(RunCli(p.tmp, other, {"init"}).exit_code == 0);
  const std::string other_key = Slurp(other + ".keys/master.key");
  for (const auto& [out, says] : {std::pair<std::string, std::string>{other + ".keys/master.key", "is a Custodian key file"},
                                  {other + ".keys/blind.key", "is a Custodian key file"},
                                  {other + "/x.json", "is inside the Custodian store " + other}}) {
    INFO(out);
    CliResult r = p.As("staff-1", {"export-subject", "customer-1/c-1", "--out", out});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains(says));
  }
  CHECK(Slurp(other + ".keys/master.key") == other_key);
  CHECK_FALSE(fs::exists(other + "/x.json"));
  CHECK(p.Events() == events);  // nothing was read, so nothing recorded
  CHECK(Slurp(victim) == "untouched");
  CHECK(Slurp(p.master_key) == master);
  CHECK(fs::is_character_file("/dev/null"));
  CHECK(fs::is_empty(folder));

  // An existing file of another mode is replaced by an owner-only one, and
  // a link planted where the file is first written leads nowhere.
  const std::string out = p.tmp.Sub("ana.json");
  WriteFile(out, "old");
  fs::permissions(out, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read, fs::perm_options::replace);
  fs::create_symlink(victim, out + ".tmp");
  p.Ok("staff-1", {"export-subject", "customer-1/c-1", "--out", out});
  CHECK_THAT(Slurp(out), Catch::Contains("Ana Lima"));
  CHECK((fs::status(out).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
  const std::string bundle = p.tmp.Sub("evidence.json");
  fs::create_symlink(victim, bundle + ".unverified.tmp");
  p.Ok("staff-1", {"bundle", "--stream", "customer-1", "--out", bundle});
  CHECK((fs::status(bundle).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(Slurp(victim) == "untouched");
  // What only looks like a store (a folder named as the marker file) is no store.
  fs::create_directories(p.tmp.Sub("lookalike/CUSTODIAN"));
  p.Ok("staff-1", {"export-subject", "customer-1/c-1", "--out", p.tmp.Sub("lookalike/ana.json")});

  // A dispute folder reached through a link is refused too.
  const std::string folder_link = p.tmp.Sub("folder-link");
  fs::create_symlink(folder, folder_link);
  CliResult dispute = p.As("staff-1", {"dispute", "--customer", "customer-1", "--at", "2026-03-01T00:00:00Z", "--out", folder_link});
  CHECK(dispute.exit_code == 1);
  CHECK_THAT(dispute.err, Catch::Contains("is a symbolic link"));
  CHECK(fs::is_empty(folder));
}

TEST_CASE("a backup inside its own store is refused before anything is copied, and a restore refuses a backup whose "
          "store is not the one its backup.json records",
          "[cli][people]") {
  People p;
  CliResult inside = p.As("", {"backup", "--to", p.dir + "/backup"});
  CHECK(inside.exit_code == 2);
  CHECK_THAT(inside.err, Catch::Contains("is inside the store"));
  CHECK_FALSE(fs::exists(p.dir + "/backup"));
  CHECK(p.As("", {"verify"}).exit_code == 0);

  const std::string backup = p.tmp.Sub("backup");
  p.Ok("", {"backup", "--to", backup});
  std::string manifest = Slurp(backup + "/backup.json");
  const json::object recorded = Object(manifest);
  const std::string events = std::to_string(Num(recorded, "events"));
  manifest.replace(manifest.find("\"events\":" + events), 9 + events.size(), "\"events\":1");
  WriteFile(backup + "/backup.json", manifest);
  const std::string restored = p.tmp.Sub("restored");
  CliResult r = RunCli(p.tmp, "", {"--master-key", p.master_key, "restore", "--from", backup, "--to", restored});
  CHECK(r.exit_code == 5);  // verification failed
  CHECK_THAT(r.err, Catch::Contains("holds " + events + " events") && Catch::Contains("records 1 events") &&
                        Catch::Contains("altered or damaged; nothing was restored"));
  CHECK_FALSE(fs::exists(restored));
  // A manifest that is not one says so (it is there, just not a manifest).
  WriteFile(backup + "/backup.json", "not json");
  CliResult garbled = RunCli(p.tmp, "", {"--master-key", p.master_key, "restore", "--from", backup, "--to", restored});
  CHECK(garbled.exit_code == 2);
  CHECK_THAT(garbled.err, Catch::Contains(backup + "/backup.json is not a manifest of format"));
  CHECK_FALSE(fs::exists(restored));
}

TEST_CASE("input that never ends is refused with its limit, not read until memory runs out", "[cli][people]") {
  People p;
  CliResult append = RunCli(p.tmp, p.dir, {"append"}, std::string((16 << 20) + 1, ' '));
  CHECK(append.exit_code == 2);
  CHECK_THAT(append.err, Catch::Contains("standard input holds more than 16 MiB"));
  CliResult against = p.As("", {"verify", "--against", "/dev/zero"});
  CHECK(against.exit_code != 0);
  CHECK_THAT(against.err + against.out, Catch::Contains("/dev/zero holds more than 64 KiB"));
  CliResult bundle = p.As("", {"verify-bundle", "/dev/zero"});
  CHECK(bundle.exit_code != 0);
  CHECK_THAT(bundle.err + bundle.out, Catch::Contains("/dev/zero holds more than 256 MiB"));
}

// --- the master key ---

TEST_CASE("keys rotate-master changes the master key file, every personal part still opens and the old key no "
          "longer does",
          "[cli][people]") {
  People p;
  const std::string old_key = Slurp(p.master_key);
  REQUIRE_FALSE(old_key.empty());
  CliResult r = p.Ok("", {"keys", "rotate-master"});
  CHECK_THAT(r.out, Catch::Contains("re-wrapped 3 data keys"));  // Ana, Bo and Rui
  const std::string new_key = Slurp(p.master_key);
  CHECK(new_key != old_key);
  CHECK_FALSE(fs::exists(p.master_key + ".old"));
  CHECK_FALSE(fs::exists(p.master_key + ".new"));

  CliResult timeline = p.Ok("staff-2", {"customer", "timeline", "1"});
  CHECK_THAT(timeline.out, Catch::Contains("Ana Lima"));
  CHECK_THAT(timeline.out, Catch::Contains("Ana prefers mornings"));
  CHECK_THAT(timeline.out, Catch::Contains("<b>Bo</b> O'Neil"));
  CHECK(Str(PersonalAt(p.ReadOpened("customer-2"), 7), "name") == "Rui Lima");
  CHECK(p.Find("--email", "ana.lima@acme.example") == std::vector<std::string>{kAnaSubject});

  // The old key, kept by someone: it opens nothing.
  const std::string kept = p.tmp.Sub("old.key");
  WriteFile(kept, old_key);
  fs::permissions(kept, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  CliResult old = p.As("staff-2", {"--master-key", kept, "customer", "timeline", "1"});
  CHECK(old.exit_code == 0);
  CHECK_THAT(old.err, Catch::Contains("personal fields are shown sealed"));
  CHECK_THAT(old.out, !Catch::Contains("Ana Lima"));
  // Erasure still works under the new key.
  p.EraseAna();
  CHECK(p.Find("--name", "ana").empty());
}

}  // namespace
}  // namespace custodian
