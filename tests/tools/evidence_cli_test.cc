// End-to-end tests of the tamper evidence commands of `custodian` (DESIGN.md,
// Tamper evidence): init's keys, key show, checkpoint, prove, verify [--against],
// bundle and verify-bundle. The real binary on a real store in a temporary
// directory; proofs are checked with core/merkle.h, signatures with core/note.h.
// Tampering goes through RocksDB directly, behind the log's back.
#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/sst_file_reader.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base64.h"
#include "core/bundle.h"
#include "core/canonical.h"
#include "core/json.h"
#include "core/merkle.h"
#include "core/note.h"
#include "core/time.h"
#include "storage/keys.h"
#include "tests/bundle_edit.h"
#include "tests/raw_store.h"
#include "tests/test_util.h"
#include "tests/tools/cli_runner.h"

namespace custodian {
namespace {

namespace json = boost::json;
using testing::CliResult;
using testing::RunCli;
using testing::Slurp;
using testing::TempDir;
using testing::WriteFile;

// The one JSON object `text` holds.
json::object ParseObject(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  INFO(text);
  REQUIRE(!ec);
  REQUIRE(v.is_object());
  return v.as_object();
}

std::string Str(const json::object& o, const char* key) {
  INFO(key);
  REQUIRE(o.contains(key));
  REQUIRE(o.at(key).is_string());
  return std::string(o.at(key).as_string());
}

uint64_t Num(const json::object& o, const char* key) {
  INFO(key);
  REQUIRE(o.contains(key));
  REQUIRE(o.at(key).is_number());
  return o.at(key).to_number<uint64_t>();
}

std::string Unbase64(const std::string& text) {
  Result<std::string> bytes = Base64Decode(text);
  INFO(text);
  REQUIRE(bytes.ok());
  return *bytes;
}

merkle::Proof ProofOf(const json::object& o) {
  REQUIRE(o.contains("proof"));
  REQUIRE(o.at("proof").is_array());
  merkle::Proof proof;
  for (const json::value& h : o.at("proof").as_array()) {
    REQUIRE(h.is_string());
    proof.push_back(Unbase64(std::string(h.as_string())));
  }
  return proof;
}

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

constexpr char kOrigin[] = "crm.example.com/audit";

// Event i of the test log: even ones belong to customer-42 (version i/2) and
// occurred on 2026-02-(10+i); odd ones to customer-7.
std::string StreamOf(int i) { return i % 2 == 0 ? "customer-42" : "customer-7"; }

std::string EventLine(int i, const std::string& stream) {
  char id[40];
  std::snprintf(id, sizeof id, "7f0c1a9e-2b8d-4c1e-9a57-%012d", i);
  char day[32];
  std::snprintf(day, sizeof day, "2026-02-%02dT09:00:00Z", 10 + i % 18);
  return R"({"id":")" + std::string(id) + R"(","stream":")" + stream +
         R"(","type":"interaction.logged","actor":"system:crm-sync","occurred_at":")" + day +
         R"(","data":{"channel":"visit","direction":"outbound","summary":"visit )" + std::to_string(i) + R"("}})";
}

// A store made with init --origin, holding `events` events imported in one go.
struct Store {
  TempDir tmp;
  std::string dir;
  int next = 0;

  explicit Store(int events = 12, const std::string& name = "store") : dir(tmp.Sub(name)) {
    CliResult init = Cli({"init", "--origin", kOrigin});
    INFO(init.err);
    REQUIRE(init.exit_code == 0);
    Add(events);
  }
  std::string reader;  // --as, once JoinReader ran
  CliResult Cli(std::vector<std::string> args) {
    if (!reader.empty()) args.insert(args.begin(), {"--as", reader});
    return RunCli(tmp, dir, std::move(args));
  }
  // staff-900 joins, and reads from now on (bundles record who exported them).
  void JoinReader() {
    CliResult r = Cli({"append", R"({"id":"0d6f4f1e-8c2b-4e7a-9f3d-2a1b0c9d8e70","stream":"staff-900","type":"staff.joined","actor":"system:hr-sync","occurred_at":"2026-01-05T08:00:00Z","data":{"role":"compliance_officer"}})"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    reader = "staff-900";
  }
  // Appends `n` more events, with fresh ids.
  void Add(int n, int id_base = 0) {
    std::string lines;
    for (int i = next; i < next + n; ++i) lines += EventLine(id_base + i, StreamOf(i)) + "\n";
    next += n;
    WriteFile(tmp.Sub("import.jsonl"), lines);
    CliResult r = Cli({"import", tmp.Sub("import.jsonl")});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  std::string VerifierKey() {
    CliResult r = Cli({"key", "show"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return FirstLine(r.out);
  }
  // Signs a checkpoint and returns the signed note.
  std::string Checkpoint() {
    CliResult r = Cli({"checkpoint"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  }
  // The event at `position` with its log fields, as read-all prints it
  // (read from the store, recording no read).
  Event Read(uint64_t position) {
    const std::string all = testing::StoreLines(dir);
    size_t at = 0;
    for (uint64_t i = 0; i < position && at != std::string::npos; ++i) {
      at = all.find('\n', at);
      if (at != std::string::npos) ++at;
    }
    REQUIRE(at != std::string::npos);
    REQUIRE(at < all.size());
    const std::string line = all.substr(at, all.find('\n', at) - at);
    Result<Event> e = ParseEventJson(line);
    INFO(line);
    REQUIRE(e.ok());
    json::object o = ParseObject(line);
    e->position = Position(Num(o, "position"));
    e->version = StreamVersion(Num(o, "version"));
    Result<Timestamp> recorded = ParseRfc3339(Str(o, "recorded_at"));
    REQUIRE(recorded.ok());
    e->recorded_at = *recorded;
    REQUIRE(e->position.value() == position);
    return *e;
  }
};

note::VerifierKey ParseKey(const std::string& text) {
  Result<note::VerifierKey> key = note::VerifierKey::Parse(text);
  INFO(text);
  REQUIRE(key.ok());
  return *key;
}

using testing::RawStore;

// --- Keys ---

TEST_CASE("init --origin writes a signing key only its owner can read and a verifier key named by the origin",
          "[cli][evidence]") {
  Store store(0);
  struct stat st {};
  REQUIRE(::stat((store.dir + "/log.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(Slurp(store.dir + "/log.key").starts_with(std::string("PRIVATE+KEY+") + kOrigin + "+"));

  const std::string vkey = store.VerifierKey();
  CHECK(vkey == FirstLine(Slurp(store.dir + "/log.vkey")));
  const note::VerifierKey key = ParseKey(vkey);
  CHECK(key.name() == kOrigin);
  CHECK(key.public_key().size() == 32);

  CliResult j = store.Cli({"key", "show", "--json"});
  REQUIRE(j.exit_code == 0);
  json::object o = ParseObject(j.out);
  CHECK(Str(o, "verifier_key") == vkey);
  CHECK(Str(o, "origin") == kOrigin);
}

TEST_CASE("Two stores made with the same origin get different keys", "[cli][evidence]") {
  Store a(0, "a"), b(0, "b");
  CHECK(a.VerifierKey() != b.VerifierKey());
  CHECK(ParseKey(a.VerifierKey()).name() == ParseKey(b.VerifierKey()).name());
}

TEST_CASE("checkpoint refuses a log.key that does not match log.vkey, names both files and stores nothing",
          "[cli][evidence]") {
  Store store;
  Store other(0, "other");  // same origin, another key
  std::filesystem::copy_file(other.dir + "/log.key", store.dir + "/log.key",
                             std::filesystem::copy_options::overwrite_existing);
  REQUIRE(Slurp(store.dir + "/log.key") == Slurp(other.dir + "/log.key"));
  const std::string events = testing::StoreLines(store.dir);

  CliResult r = store.Cli({"checkpoint"});
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err, Catch::Contains("the checkpoint signing key " + store.dir + "/log.key"));
  CHECK_THAT(r.err, Catch::Contains("does not match the published verifier key " + store.dir + "/log.vkey (" +
                                    store.VerifierKey() + ")"));
  CHECK(r.out.empty());
  CHECK(store.Cli({"checkpoint", "--list"}).out.empty());
  CliResult periodic = store.Cli({"--checkpoint-every", "60", "append", EventLine(100, "customer-42")});
  CHECK(periodic.exit_code == 1);
  CHECK_THAT(periodic.err, Catch::Contains("does not match the published verifier key"));
  CHECK(testing::StoreLines(store.dir) == events);
  CliResult v = store.Cli({"verify"});  // nothing was signed that would fail it
  INFO(v.err);
  CHECK(v.exit_code == 0);
}

TEST_CASE("checkpoint refuses a signing key that others can read and says how to fix it", "[cli][evidence]") {
  Store store;
  const std::string key = store.dir + "/log.key";
  for (mode_t mode : {0644, 0640, 0604}) {
    REQUIRE(::chmod(key.c_str(), mode) == 0);
    CliResult r = store.Cli({"checkpoint"});
    INFO("mode " << std::oct << mode << ": " << r.err);
    CHECK(r.exit_code == 4);
    CHECK_THAT(r.err, Catch::Contains("the checkpoint signing key " + key + " can be read by others"));
    CHECK_THAT(r.err, Catch::Contains("chmod 600 " + key));
  }
  CHECK(store.Cli({"checkpoint", "--list"}).out.empty());
  REQUIRE(::chmod(key.c_str(), 0400) == 0);  // owner read-only is fine
  CliResult r = store.Cli({"checkpoint"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(ParseKey(store.VerifierKey()).Open(r.out).ok());
}

// --- Checkpoints and proofs ---

TEST_CASE("checkpoint --json prints the size and root it signed, and the note opens with the published key",
          "[cli][evidence]") {
  Store store;
  CliResult r = store.Cli({"checkpoint", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json::object o = ParseObject(r.out);
  CHECK(Num(o, "size") == 12);
  CHECK(Str(o, "origin") == kOrigin);
  const std::string root = Unbase64(Str(o, "root"));
  CHECK(root.size() == 32);

  const note::VerifierKey key = ParseKey(store.VerifierKey());
  Result<std::string> body = key.Open(Str(o, "checkpoint"));
  INFO(body.status().ToString());
  REQUIRE(body.ok());
  Result<note::Checkpoint> c = note::ParseCheckpoint(*body);
  REQUIRE(c.ok());
  CHECK(c->origin == kOrigin);
  CHECK(c->size == 12);
  CHECK(merkle::ToBytes(c->root) == root);

  // The stored list holds it, and verify recomputes the same root from the events.
  CliResult list = store.Cli({"checkpoint", "--list"});
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.find(Str(o, "checkpoint")) != std::string::npos);
  CliResult v = store.Cli({"verify", "--json"});
  REQUIRE(v.exit_code == 0);
  CHECK(Unbase64(Str(ParseObject(v.out), "root")) == root);
}

TEST_CASE("prove inclusion prints a proof that verifies for the leaf hash of the event read back",
          "[cli][evidence]") {
  Store store;
  const std::string full_root = Unbase64(Str(ParseObject(store.Cli({"checkpoint", "--json"}).out), "root"));
  struct Case {
    uint64_t position;
    std::optional<uint64_t> size;
  };
  for (Case c : {Case{0, std::nullopt}, Case{5, std::nullopt}, Case{11, std::nullopt}, Case{5, 7}, Case{6, 7}}) {
    std::vector<std::string> args = {"prove", "inclusion", "--position", std::to_string(c.position)};
    if (c.size) args.insert(args.end(), {"--size", std::to_string(*c.size)});
    CliResult r = store.Cli(args);
    INFO("position " << c.position << " size " << c.size.value_or(0) << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    json::object o = ParseObject(r.out);
    const uint64_t size = c.size.value_or(12);
    CHECK(Num(o, "position") == c.position);
    CHECK(Num(o, "tree_size") == size);
    const Event e = store.Read(c.position);
    const std::string leaf = merkle::ToBytes(LeafHash(e));
    CHECK(Unbase64(Str(o, "leaf_hash")) == leaf);
    const std::string root = Unbase64(Str(o, "root"));
    if (size == 12) CHECK(root == full_root);
    const merkle::Proof proof = ProofOf(o);
    Status s = merkle::VerifyInclusion(c.position, size, leaf, proof, root);
    INFO(s.ToString());
    CHECK(s.ok());
    // The same proof does not vouch for another event.
    const std::string other = merkle::ToBytes(LeafHash(store.Read((c.position + 1) % size)));
    CHECK_FALSE(merkle::VerifyInclusion(c.position, size, other, proof, root).ok());
  }
}

TEST_CASE("prove inclusion refuses a position outside the tree", "[cli][evidence]") {
  Store store;
  CliResult r = store.Cli({"prove", "inclusion", "--position", "7", "--size", "7"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("position 7 is not in a tree of 7 events") != std::string::npos);
}

TEST_CASE("prove consistency prints a proof that verifies between the two roots", "[cli][evidence]") {
  Store store;
  for (auto [from, to] : {std::pair<uint64_t, uint64_t>{5, 12}, {3, 8}, {8, 8}, {1, 12}}) {
    CliResult r = store.Cli({"prove", "consistency", "--from", std::to_string(from), "--to", std::to_string(to)});
    INFO(from << " -> " << to << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    json::object o = ParseObject(r.out);
    CHECK(Num(o, "from") == from);
    CHECK(Num(o, "to") == to);
    const std::string root_from = Unbase64(Str(o, "root_from")), root_to = Unbase64(Str(o, "root_to"));
    // The roots are those inclusion proofs give for the same sizes.
    CHECK(root_from ==
          Unbase64(Str(ParseObject(store.Cli({"prove", "inclusion", "--position", "0", "--size", std::to_string(from)}).out),
                       "root")));
    CHECK(root_to ==
          Unbase64(Str(ParseObject(store.Cli({"prove", "inclusion", "--position", "0", "--size", std::to_string(to)}).out),
                       "root")));
    const merkle::Proof proof = ProofOf(o);
    Status s = merkle::VerifyConsistency(from, to, proof, root_from, root_to);
    INFO(s.ToString());
    CHECK(s.ok());
    if (from != to) CHECK_FALSE(merkle::VerifyConsistency(from, to, proof, root_to, root_from).ok());
  }
}

TEST_CASE("prove accepts --json and prints the same JSON document as without it", "[cli][evidence]") {
  Store store;
  for (const std::vector<std::string>& args : {std::vector<std::string>{"prove", "inclusion", "--position", "5"},
                                               {"prove", "consistency", "--from", "3", "--to", "8"}}) {
    CliResult plain = store.Cli(args);
    std::vector<std::string> with_json = args;
    with_json.push_back("--json");
    CliResult json = store.Cli(with_json);
    INFO(plain.err << json.err);
    REQUIRE(plain.exit_code == 0);
    REQUIRE(json.exit_code == 0);
    CHECK(json.out == plain.out);
    CHECK(ParseObject(json.out).contains("proof"));
  }
}

// --- verify ---

TEST_CASE("verify exits 0 on an intact store and 5 naming the position once a record is changed in RocksDB",
          "[cli][evidence]") {
  Store store;
  store.Checkpoint();
  CliResult ok = store.Cli({"verify"});
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("verified 12 events in 2 streams") != std::string::npos);
  json::object report = ParseObject(store.Cli({"verify", "--json"}).out);
  CHECK(report.at("ok").as_bool());
  CHECK(Num(report, "events") == 12);
  CHECK(Num(report, "checkpoints_checked") == 1);
  CHECK(Num(report, "map_notes_checked") == 1);
  CHECK(report.at("problem").is_null());

  const Event original = store.Read(4);
  {
    RawStore raw(store.dir);
    std::string record = raw.Get(keys::kEventsFamily, keys::EventKey(Position(4)));
    const size_t at = record.find("visit 4");
    REQUIRE(at != std::string::npos);
    record[at + 6] = '5';  // "visit 4" -> "visit 5"
    raw.Put(keys::kEventsFamily, keys::EventKey(Position(4)), record);
  }
  CliResult bad = store.Cli({"verify"});
  CHECK(bad.exit_code == 5);
  CHECK(bad.err.find("VERIFICATION FAILED: event at position 4:") != std::string::npos);
  CHECK(bad.err.find(HexOf(LeafHash(original))) != std::string::npos);  // the stored leaf, as evidence

  CliResult bad_json = store.Cli({"verify", "--json"});
  CHECK(bad_json.exit_code == 5);
  json::object o = ParseObject(bad_json.out);
  CHECK_FALSE(o.at("ok").as_bool());
  CHECK(Str(o, "problem").find("event at position 4:") != std::string::npos);
  CHECK(o.at("error").is_null());  // a disagreement, not a storage error
  // The counts are of what was checked before position 4; the whole tree was not recomputed.
  CHECK(Num(o, "events") == 4);
  CHECK(Num(o, "streams") == 2);
  CHECK(Num(o, "checkpoints_checked") == 0);  // the one at 12 was not reached
  CHECK(o.at("size").is_null());
  CHECK(o.at("root").is_null());
}

// Reads the events table `file` key by key, as verify would, until RocksDB
// finds a damaged block: how many keys it read.
size_t ReadableKeys(const std::string& file) {
  rocksdb::Options options;
  rocksdb::SstFileReader reader(options);
  REQUIRE(reader.Open(file).ok());
  std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
  size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  REQUIRE_FALSE(it->status().ok());
  CHECK(it->status().IsCorruption());
  return n;
}

TEST_CASE("verify --json prints one document with the counts so far and exits 4 when a table file is damaged",
          "[cli][evidence][damage]") {
  Store store;       // 12 events
  store.Checkpoint();  // at 12; opening again put the 12 events in a table file
  store.Add(60);
  store.Checkpoint();  // at 72; the 60 events went to a second table file
  std::vector<testing::TableFile> tables;
  for (const testing::TableFile& f : testing::LiveTableFiles(store.dir)) {
    if (f.family == "events") tables.push_back(f);
  }
  REQUIRE(tables.size() == 2);
  const testing::TableFile& newer = tables[0].smallest_seqno > tables[1].smallest_seqno ? tables[0] : tables[1];
  const std::string path = store.dir + "/" + newer.name;
  REQUIRE(newer.size > 3 * 4096);  // several data blocks: damage the second
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 + 1000);
    f.write(std::string(64, '\x5a').data(), 64);
    REQUIRE(f.good());
  }
  const size_t readable = ReadableKeys(path);
  REQUIRE(readable > 0);
  REQUIRE(readable < 60);

  CliResult r = store.Cli({"verify", "--json"});
  INFO(r.err);
  CHECK(r.exit_code == 4);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
  json::object o = ParseObject(r.out);
  CHECK_FALSE(o.at("ok").as_bool());
  CHECK_THAT(Str(o, "error"), Catch::Contains("Corruption"));
  CHECK_THAT(Str(o, "error"), Catch::Contains(newer.name));
  CHECK(Str(o, "problem") == Str(o, "error"));
  CHECK(Num(o, "events") == 12 + readable);  // every event RocksDB could still read was checked
  CHECK(Num(o, "streams") == 2);
  CHECK(Num(o, "checkpoints_checked") == 1);  // the one at 12; the one at 72 was not reached
  CHECK(o.at("size").is_null());

  CliResult text = store.Cli({"verify"});
  CHECK(text.exit_code == 4);
  CHECK_THAT(text.err, Catch::Contains("verification stopped after " + std::to_string(12 + readable) + " events"));
}

TEST_CASE("verify --json prints one document and exits 4 when the store cannot be opened", "[cli][evidence][damage]") {
  Store store;
  store.Checkpoint();  // the events are in table files now
  for (const testing::TableFile& f : testing::LiveTableFiles(store.dir)) {
    if (f.family == "merkle") REQUIRE(std::filesystem::remove(store.dir + "/" + f.name));
  }
  CliResult r = store.Cli({"verify", "--json"});
  CHECK(r.exit_code == 4);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
  json::object o = ParseObject(r.out);
  CHECK_FALSE(o.at("ok").as_bool());
  CHECK_THAT(Str(o, "error"), Catch::Contains("is damaged: its table file"));
  CHECK(Num(o, "events") == 0);  // nothing could be checked
  CHECK(o.at("size").is_null());
  CHECK(o.at("root").is_null());
}

TEST_CASE("verify --against accepts a kept checkpoint that the log has since grown from", "[cli][evidence]") {
  Store store;
  WriteFile(store.tmp.Sub("kept"), store.Checkpoint());
  store.Add(7);
  CliResult r = store.Cli({"verify", "--against", store.tmp.Sub("kept")});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("verified 19 events") != std::string::npos);
  CHECK(r.out.find("extends the kept checkpoint of size 12") != std::string::npos);

  // With the key given explicitly, as a file, too.
  WriteFile(store.tmp.Sub("vkey"), store.VerifierKey() + "\n");
  CliResult with_key = store.Cli({"verify", "--against", store.tmp.Sub("kept"), "--key", store.tmp.Sub("vkey")});
  CHECK(with_key.exit_code == 0);
  json::object o = ParseObject(store.Cli({"verify", "--json", "--against", store.tmp.Sub("kept")}).out);
  CHECK(o.at("ok").as_bool());
  CHECK(Str(o, "against").find("size 12") != std::string::npos);
}

TEST_CASE("verify --against refuses a kept checkpoint whose text was edited, because its signature fails",
          "[cli][evidence]") {
  Store store;
  std::string note = store.Checkpoint();
  const size_t at = note.find("\n12\n");
  REQUIRE(at != std::string::npos);
  note.replace(at, 4, "\n11\n");
  WriteFile(store.tmp.Sub("kept"), note);
  CliResult r = store.Cli({"verify", "--against", store.tmp.Sub("kept")});
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("VERIFICATION FAILED: the kept checkpoint") != std::string::npos);
  CHECK(r.err.find("is not valid") != std::string::npos);
  CHECK(r.err.find("signature") != std::string::npos);
}

TEST_CASE("verify --against a checkpoint of another store with the same origin fails: wrong key, or not a prefix",
          "[cli][evidence]") {
  Store store;
  Store other(0, "other");  // same origin, its own key and its own events
  other.Add(6, 500);
  WriteFile(store.tmp.Sub("foreign"), other.Checkpoint());

  // Checked with this store's key: the signature is not by it.
  CliResult r = store.Cli({"verify", "--against", store.tmp.Sub("foreign")});
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("is not valid") != std::string::npos);

  // Checked with the other store's key: signed, but this log does not extend it.
  CliResult k = store.Cli({"verify", "--against", store.tmp.Sub("foreign"), "--key", other.VerifierKey()});
  CHECK(k.exit_code == 5);
  CHECK(k.err.find("is not an extension of the kept checkpoint of size 6") != std::string::npos);
}

TEST_CASE("verify --against detects a rollback that also removed the stored checkpoints", "[cli][evidence]") {
  Store store;
  const std::string note = store.Checkpoint();
  WriteFile(store.tmp.Sub("kept"), note);
  std::vector<Event> removed;
  for (uint64_t p = 9; p < 12; ++p) removed.push_back(store.Read(p));
  {
    RawStore raw(store.dir);
    for (const Event& e : removed) {
      raw.Delete(keys::kEventsFamily, keys::EventKey(e.position));
      raw.Delete(keys::kStreamsFamily, keys::StreamKey(e.stream, e.version));
      raw.Delete(keys::kIdsFamily, keys::IdKey(e.id));
    }
    raw.Put(keys::kMetaFamily, keys::kMetaIdsIndexedToKey, keys::EncodeU64(9));
    REQUIRE(raw.TruncateTree(9) > 0);
    raw.Delete(keys::kMetaFamily, keys::CheckpointKey(12));
    raw.Delete(keys::kMetaFamily, "mapnote/" + keys::EncodeU64(12));  // and the stream map note beside it
  }
  CliResult alone = store.Cli({"verify"});
  INFO(alone.err);
  CHECK(alone.exit_code == 0);  // the store alone cannot tell
  CHECK(alone.out.find("verified 9 events") != std::string::npos);

  CliResult r = store.Cli({"verify", "--against", store.tmp.Sub("kept")});
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("the kept checkpoint covers 12 events but the log now holds 9") != std::string::npos);
  CHECK(r.err.find("rolled back") != std::string::npos);
}

// --- Evidence bundles ---

struct BundleFixture {
  Store store;
  std::string file = store.tmp.Sub("customer-42.json");
  std::string vkey = store.VerifierKey();

  BundleFixture() {
    store.JoinReader();
    CliResult r = store.Cli({"bundle", "--stream", "customer-42", "--out", file});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    REQUIRE(r.out.find("6 events") != std::string::npos);
  }
  CliResult Check(const std::string& path, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"verify-bundle", path};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCli(store.tmp, store.tmp.Sub("no-store-here"), args);
  }
  std::string Edited(const std::string& from, const std::string& to) {
    std::string text = Slurp(file);
    const size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    REQUIRE(text.find(from, at + 1) == std::string::npos);
    text.replace(at, from.size(), to);
    const std::string path = store.tmp.Sub("edited.json");
    WriteFile(path, text);
    return path;
  }
};

TEST_CASE("A bundle of a stream verifies offline with the published key", "[cli][evidence]") {
  BundleFixture f;
  CliResult r = f.Check(f.file, {"--key", f.vkey});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("bundle verified: 6 events of customer-42 (versions 0 to 5, occurred 2026-02-10T09:00:00Z to "
                   "2026-02-20T09:00:00Z)") != std::string::npos);
  CHECK(r.out.find("checked with the key inside the bundle") == std::string::npos);

  CliResult j = f.Check(f.file, {"--key", f.store.dir + "/log.vkey", "--json"});
  REQUIRE(j.exit_code == 0);
  json::object o = ParseObject(j.out);
  CHECK(o.at("ok").as_bool());
  CHECK(Str(o, "stream") == "customer-42");
  CHECK(Num(o, "events") == 6);
  CHECK(Num(o, "first_version") == 0);
  CHECK(Num(o, "last_version") == 5);
  CHECK(Str(o, "from") == "2026-02-10T09:00:00Z");
  CHECK(Str(o, "to") == "2026-02-20T09:00:00Z");
  CHECK(o.at("unchecked").as_array().empty());
  CHECK(Num(o, "tree_size") == 13);  // bundle signed a checkpoint of the whole log: 12 events and staff-900 joining
  CHECK(Str(o, "verifier_key") == f.vkey);
  CHECK_FALSE(o.at("key_from_bundle").as_bool());
}

TEST_CASE("verify-bundle exits 5 for a bundle that proves no completeness unless --inclusion-only accepts it",
          "[cli][evidence]") {
  BundleFixture f;
  // An insider's downgrade (or a bundle made before 2026-12-05): format 2, no completeness part.
  const std::string v2 = f.store.tmp.Sub("v2.json");
  WriteFile(v2, testing::AsFormat2Bundle(Slurp(f.file)));
  CliResult refused = f.Check(v2, {"--key", f.vkey});
  INFO(refused.out << refused.err);
  CHECK(refused.exit_code == 5);
  CHECK(refused.err.find("NOT PROVEN COMPLETE: a custodian-evidence/2 bundle proves that its events are in the log, "
                         "not that customer-42 has no others; pass --inclusion-only") != std::string::npos);
  CliResult accepted = f.Check(v2, {"--key", f.vkey, "--inclusion-only"});
  CHECK(accepted.exit_code == 0);
  CHECK(accepted.out.find("note: completeness not proven") != std::string::npos);
  CHECK(refused.out.find("bundle verified") == std::string::npos);
  CliResult refused_json = f.Check(v2, {"--key", f.vkey, "--json"});
  CHECK(refused_json.exit_code == 5);
  json::object rj = ParseObject(refused_json.out);
  CHECK_FALSE(rj.at("ok").as_bool());
  CHECK(Str(rj, "problem").find("NOT PROVEN COMPLETE") == 0);
  // A complete bundle needs no flag.
  CHECK(f.Check(f.file, {"--key", f.vkey}).exit_code == 0);
}

TEST_CASE("verify-bundle needs no store: it works after the store is deleted", "[cli][evidence]") {
  BundleFixture f;
  std::filesystem::remove_all(f.store.dir);
  REQUIRE_FALSE(std::filesystem::exists(f.store.dir));
  CliResult with_key = f.Check(f.file, {"--key", f.vkey});
  INFO(with_key.err);
  CHECK(with_key.exit_code == 0);
  CliResult without = RunCli(f.store.tmp, "", {"verify-bundle", f.file});
  CHECK(without.exit_code == 0);
  CHECK(without.out.find("checked with the key inside the bundle") != std::string::npos);
}

TEST_CASE("verify-bundle names the event whose data was edited inside the bundle", "[cli][evidence]") {
  BundleFixture f;
  const std::string edited = f.Edited(R"("visit 4")", R"("visit 40")");  // position 4, version 2
  CliResult r = f.Check(edited, {"--key", f.vkey});
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("BUNDLE VERIFICATION FAILED: event at position 4 (7f0c1a9e-2b8d-4c1e-9a57-000000000004)") !=
        std::string::npos);
  CHECK(r.err.find("is not in the signed log") != std::string::npos);
  json::object o = ParseObject(f.Check(edited, {"--key", f.vkey, "--json"}).out);
  CHECK_FALSE(o.at("ok").as_bool());
  CHECK(Str(o, "problem").find("event at position 4") != std::string::npos);
}

TEST_CASE("verify-bundle detects an event removed from the middle of the bundle", "[cli][evidence]") {
  BundleFixture f;
  std::string text = Slurp(f.file);
  // Each event is one line: drop the one of version 2 (position 4).
  const size_t at = text.find("{\"event\":{\"id\":\"7f0c1a9e-2b8d-4c1e-9a57-000000000004\"");
  REQUIRE(at != std::string::npos);
  const size_t end = text.find('\n', at);
  REQUIRE(text.compare(end - 3, 3, "]},") == 0);  // not the last event
  text.erase(at, end + 1 - at);
  const std::string path = f.store.tmp.Sub("shortened.json");
  WriteFile(path, text);
  CliResult r = f.Check(path, {"--key", f.vkey});
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("event at position 6") != std::string::npos);
  CHECK(r.err.find("is version 3 after version 1") != std::string::npos);
  CHECK(r.err.find("missing from the bundle") != std::string::npos);
}

TEST_CASE("verify-bundle detects the first event removed from a bundle of the whole stream", "[cli][evidence]") {
  BundleFixture f;
  std::string text = Slurp(f.file);
  const size_t at = text.find("{\"event\":");
  REQUIRE(at != std::string::npos);
  const size_t end = text.find('\n', at);
  text.erase(at, end + 1 - at);
  const std::string path = f.store.tmp.Sub("headless.json");
  WriteFile(path, text);
  CliResult r = f.Check(path, {"--key", f.vkey});
  CHECK(r.exit_code == 5);
  CHECK_THAT(r.err, Catch::Contains("the bundle starts at version 1 but does not account for the stream's earlier "
                                    "events (it gives no running_before_sha256): events are missing from the start"));

  // A format 1 bundle claimed the whole stream with a null "from", and still must start at version 0.
  const size_t format = text.find(kBundleFormat);
  REQUIRE(format != std::string::npos);
  text.replace(format, std::strlen(kBundleFormat), kBundleFormatV1);
  const size_t from = text.find("\"from\":\"2026-02-10T09:00:00Z\"");
  REQUIRE(from != std::string::npos);
  text.replace(from, std::strlen("\"from\":\"2026-02-10T09:00:00Z\""), "\"from\":null");
  WriteFile(path, text);
  CliResult v1 = f.Check(path, {"--key", f.vkey});
  CHECK(v1.exit_code == 5);
  CHECK_THAT(v1.err, Catch::Contains("starts at version 1: events are missing from the start"));
}

TEST_CASE("verify-bundle refuses a bundle whose summary, from or to was edited and names the field",
          "[cli][evidence]") {
  BundleFixture f;
  struct Edit {
    std::string field, from, to;
  };
  const std::vector<Edit> edits = {
      {"from", R"("from":"2026-02-10T09:00:00Z")", R"("from":"2026-01-01T00:00:00Z")"},  // claims an empty January
      {"from", R"("from":"2026-02-10T09:00:00Z")", R"("from":null)"},
      {"to", R"("to":"2026-02-20T09:00:00Z")", R"("to":"2026-12-31T00:00:00Z")"},
      {"to", R"("to":"2026-02-20T09:00:00Z")", R"("to":"2026-02-20T09:00:01Z")"},
      {"summary", "Evidence bundle for customer-42: 6 events", "Evidence bundle for customer-42: 60 events"},
      {"summary", "which occurred between 2026-02-10T09:00:00Z", "which occurred between 2025-02-10T09:00:00Z"},
      {"summary", "not the one inside the file.", "not the one inside the file. Nothing was left out."},
  };
  for (const Edit& e : edits) {
    INFO(e.to);
    const std::string edited = f.Edited(e.from, e.to);
    CliResult r = f.Check(edited, {"--key", f.vkey});
    CHECK(r.exit_code == 5);
    CHECK_THAT(r.err, Catch::Contains("BUNDLE VERIFICATION FAILED: the bundle's \"" + e.field + "\""));
    json::object o = ParseObject(f.Check(edited, {"--key", f.vkey, "--json"}).out);
    CHECK_FALSE(o.at("ok").as_bool());
    CHECK_THAT(Str(o, "problem"), Catch::Contains("the bundle's \"" + e.field + "\""));
  }
  // The same instant written otherwise is the same statement.
  CHECK(f.Check(f.Edited(R"("to":"2026-02-20T09:00:00Z")", R"("to":"2026-02-20T10:00:00+01:00")"), {"--key", f.vkey})
            .exit_code == 0);
}

TEST_CASE(
    "verify-bundle still verifies a format 1 bundle, as inclusion only, and says its summary, from and to were not "
    "checked",
    "[cli][evidence]") {
  BundleFixture f;
  const std::string v1 =
      f.Edited(std::string("\"format\":\"") + kBundleFormat, std::string("\"format\":\"") + kBundleFormatV1);
  CliResult r = f.Check(v1, {"--key", f.vkey, "--inclusion-only"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("its [\"summary\",\"from\",\"to\"] are not checked"));
  CHECK(f.Check(v1, {"--key", f.vkey}).exit_code == 5);  // it proves no completeness
  json::object o = ParseObject(f.Check(v1, {"--key", f.vkey, "--json", "--inclusion-only"}).out);
  CHECK(json::serialize(o.at("unchecked")) == R"(["summary","from","to"])");
}

TEST_CASE("bundle checks the file it wrote and removes it when it does not verify", "[cli][evidence]") {
  Store store;
  store.JoinReader();
  {
    RawStore raw(store.dir);
    std::string record = raw.Get(keys::kEventsFamily, keys::EventKey(Position(4)));
    const size_t at = record.find("visit 4");
    REQUIRE(at != std::string::npos);
    record[at + 6] = '5';  // changed behind the log's back: the stored tree still has the old leaf
    raw.Put(keys::kEventsFamily, keys::EventKey(Position(4)), record);
  }
  const std::string file = store.tmp.Sub("customer-42.json");
  CliResult r = store.Cli({"bundle", "--stream", "customer-42", "--out", file});
  CHECK(r.exit_code == 5);
  CHECK_THAT(r.err, Catch::Contains("the bundle of customer-42 does not verify as written, so it was removed"));
  CHECK_THAT(r.err, Catch::Contains("event at position 4"));
  CHECK(r.out.empty());
  CHECK_FALSE(std::filesystem::exists(file));
  CHECK_FALSE(std::filesystem::exists(file + ".tmp"));

  // Another stream's events are intact: its bundle is written and verifies.
  CliResult other = store.Cli({"bundle", "--stream", "customer-7", "--out", file});
  INFO(other.err);
  CHECK(other.exit_code == 0);
  CHECK(RunCli(store.tmp, "", {"verify-bundle", file, "--key", store.VerifierKey()}).exit_code == 0);
}

TEST_CASE("verify-bundle refuses a bundle checked with another key, even one with the same name",
          "[cli][evidence]") {
  BundleFixture f;
  Store other(0, "other");
  const std::string other_key = other.VerifierKey();
  REQUIRE(ParseKey(other_key).name() == ParseKey(f.vkey).name());
  CliResult r = f.Check(f.file, {"--key", other_key});
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("BUNDLE VERIFICATION FAILED: the checkpoint") != std::string::npos);
}

TEST_CASE("verify-bundle without --key refuses a bundle whose own key was swapped for another", "[cli][evidence]") {
  BundleFixture f;
  Store other(0, "other");
  const std::string edited =
      f.Edited("\"verifier_key\":\"" + f.vkey + "\"", "\"verifier_key\":\"" + other.VerifierKey() + "\"");
  CliResult r = f.Check(edited);
  CHECK(r.exit_code == 5);  // the checkpoint is not signed by the swapped-in key
  CHECK(r.err.find("BUNDLE VERIFICATION FAILED: the checkpoint") != std::string::npos);
  CliResult with_key = f.Check(edited, {"--key", f.vkey});
  CHECK(with_key.exit_code == 0);  // the published key still vouches for the unchanged events
}

TEST_CASE("bundle --from and --to keep only the events that occurred in the window", "[cli][evidence]") {
  Store store;
  store.JoinReader();
  const std::string file = store.tmp.Sub("window.json");
  // customer-42's events occurred on Feb 10, 12, 14, 16, 18 and 20: the window holds 14 and 16.
  CliResult r = store.Cli({"bundle", "--stream", "customer-42", "--from", "2026-02-13T00:00:00Z", "--to",
                           "2026-02-17T00:00:00Z", "--out", file, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(Num(ParseObject(r.out), "events") == 2);
  const std::string text = Slurp(file);
  CHECK(text.find("\"visit 4\"") != std::string::npos);
  CHECK(text.find("\"visit 6\"") != std::string::npos);
  CHECK(text.find("\"visit 2\"") == std::string::npos);
  CHECK(text.find("\"visit 8\"") == std::string::npos);

  CliResult v = RunCli(store.tmp, "", {"verify-bundle", file, "--key", store.VerifierKey(), "--json"});
  REQUIRE(v.exit_code == 0);
  json::object o = ParseObject(v.out);
  CHECK(Num(o, "events") == 2);
  CHECK(Num(o, "first_version") == 2);
  CHECK(Num(o, "last_version") == 3);
  CHECK(Str(o, "from") == "2026-02-14T09:00:00Z");  // when its events occurred, not the window asked for
  CHECK(Str(o, "to") == "2026-02-16T09:00:00Z");

  CliResult empty = store.Cli({"bundle", "--stream", "customer-42", "--from", "2026-03-01T00:00:00Z", "--out", file});
  CHECK(empty.exit_code == 6);
  CHECK(empty.err.find("no events in that time window") != std::string::npos);
}

}  // namespace
}  // namespace custodian

namespace custodian {
namespace {

TEST_CASE("dispute writes one folder whose evidence verifies with only the published key, the store deleted",
          "[cli][evidence][dispute]") {
  Store store;
  store.JoinReader();
  const std::string vkey = store.VerifierKey();
  const std::string out = store.tmp.Sub("case-118");
  CliResult r = store.Cli({"dispute", "--customer", "42", "--at", "2026-02-15T00:00:00Z", "--out", out});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("wrote " + out + "/ for customer-42 at 2026-02-15T00:00:00Z") != std::string::npos);
  CHECK(r.out.find("complete: the signed stream map shows customer-42 has 6 events") != std::string::npos);
  for (const char* name : {"README.md", "customer-as-known.json", "customer-as-happened.json", "responsibilities.json",
                           "timeline.txt", "timeline.jsonl", "custody.jsonl", "evidence.json", "verifier.vkey"}) {
    INFO(name);
    CHECK(std::filesystem::exists(std::filesystem::path(out) / name));
  }
  // A second one into the same folder is refused, and changes nothing there.
  CliResult again = store.Cli({"dispute", "--customer", "customer-42", "--at", "2026-02-15T00:00:00Z", "--out", out});
  CHECK(again.exit_code == 2);
  CHECK(again.err.find("is not an empty folder") != std::string::npos);

  std::filesystem::remove_all(store.dir);
  CliResult check = RunCli(store.tmp, store.tmp.Sub("no-store-here"),
                           {"verify-bundle", out + "/evidence.json", "--key", vkey, "--json"});
  INFO(check.err);
  CHECK(check.exit_code == 0);
  CHECK(check.out.find("\"complete\":true") != std::string::npos);
  CHECK(check.out.find("\"stream_events\":6") != std::string::npos);
}

// An auditor's offline check of witnesses' cosignatures (docs/scale-out.md).
TEST_CASE("verify-cosignatures says which witnesses cosigned a checkpoint and exits 5 when fewer than required",
          "[cli][cosignature]") {
  testing::TempDir tmp;
  Result<note::SigningKey> log_key = note::SigningKey::Generate("example.com/log");
  Result<note::SigningKey> w1 = note::SigningKey::Generate("node-1");
  Result<note::SigningKey> w2 = note::SigningKey::Generate("node-2");
  REQUIRE(log_key.ok());
  REQUIRE(w1.ok());
  REQUIRE(w2.ok());
  const std::string body = note::CheckpointBody({"example.com/log", 12, Sha256("twelve")});
  Result<std::string> signed_note = log_key->Sign(body);
  Result<std::string> line = w1->Cosign("node-1/witness", body, 1765000000);
  REQUIRE(signed_note.ok());
  REQUIRE(line.ok());
  const std::string file = tmp.Sub("checkpoint.note");
  testing::WriteFile(file, *signed_note + *line);
  auto key_of = [](const note::SigningKey& k, const std::string& name) {
    char id[9];
    std::snprintf(id, sizeof id, "%08x", note::CosignerKeyId(name, k.verifier().public_key()));
    return name + "+" + id + "+" + Base64Encode(std::string(1, '\x04') + k.verifier().public_key());
  };
  const std::string k1 = key_of(*w1, "node-1/witness"), k2 = key_of(*w2, "node-2/witness");

  testing::CliResult one = testing::RunCli(tmp, "", {"verify-cosignatures", file, "--witness", k1, "--witness", k2});
  INFO(one.out << one.err);
  CHECK(one.exit_code == 0);
  CHECK(one.out.find("cosigned by node-1/witness at 2025-12-06T05:46:40Z") != std::string::npos);
  CHECK(one.out.find("not cosigned by node-2/witness") != std::string::npos);
  testing::CliResult two =
      testing::RunCli(tmp, "", {"verify-cosignatures", file, "--witness", k1, "--witness", k2, "--require", "2", "--json"});
  CHECK(two.exit_code == 5);
  CHECK(two.out.find("\"ok\":false,\"cosigned\":1,\"required\":2") != std::string::npos);
  // An altered checkpoint: its cosignature no longer counts.
  std::string altered = *signed_note + *line;
  altered.replace(altered.find("\n12\n"), 4, "\n13\n");
  testing::WriteFile(tmp.Sub("altered.note"), altered);
  testing::CliResult bad = testing::RunCli(tmp, "", {"verify-cosignatures", tmp.Sub("altered.note"), "--witness", k1});
  CHECK(bad.exit_code == 5);
  CHECK(bad.out.find("does not match the checkpoint") != std::string::npos);
  // A witness key that is not one: a usage error naming it.
  testing::CliResult usage = testing::RunCli(tmp, "", {"verify-cosignatures", file, "--witness", "node-1"});
  CHECK(usage.exit_code == 1);
  CHECK(usage.err.find("node-1") != std::string::npos);
}

}  // namespace
}  // namespace custodian
