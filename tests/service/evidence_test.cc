#include "service/evidence.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "core/base64.h"
#include "core/bundle.h"
#include "core/canonical.h"
#include "core/merkle.h"
#include "core/note.h"
#include "core/time.h"
#include "service/store.h"
#include "storage/event_log.h"
#include "tests/bundle_edit.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using testing::RandomId;
using testing::TempDir;

constexpr char kOrigin[] = "crm.example.com/audit";
constexpr char kReader[] = "staff-900";

json::object ParseObject(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  INFO(text);
  REQUIRE(!ec);
  REQUIRE(v.is_object());
  return v.as_object();
}

std::string B64(const Hash256& h) { return Base64Encode(merkle::ToBytes(h)); }

merkle::Proof Bytes(const std::vector<Hash256>& hashes) {
  merkle::Proof proof;
  for (const Hash256& h : hashes) proof.push_back(merkle::ToBytes(h));
  return proof;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A store made as `custodian init --origin` makes one, open read-write:
// staff-900 (a compliance officer) joined, then `events` interactions, the
// even ones on customer-42 (occurring on 2026-02-10, 12, 14, ...), the odd
// ones on customer-7.
struct Store {
  TempDir tmp;
  std::string dir;
  std::unique_ptr<EventLog> log;
  int next = 0;

  explicit Store(int events = 12) : dir(tmp.Sub("store")) {
    Result<std::unique_ptr<EventLog>> r =
        OpenStore(StoreOptions{dir}, EventLogOptions::Mode::kReadWrite, CreateIfMissing::kYes, kOrigin);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    log = std::move(*r);
    Append("staff-900", "staff.joined", "system:hr-sync", R"({"role":"compliance_officer"})",
           "2026-01-05T08:00:00Z");
    Add(events);
  }
  void Append(const std::string& stream, const std::string& type, const std::string& actor, const std::string& data,
              const std::string& occurred_at) {
    Event e;
    e.id = RandomId();
    e.stream = stream;
    e.type = type;
    e.actor = actor;
    e.occurred_at = *ParseRfc3339(occurred_at);
    e.data = data;
    Result<AppendResult> r = log->Append(stream, {e}, ExpectedVersion::Any());
    INFO(r.status().ToString());
    REQUIRE(r.ok());
  }
  void Add(int n) {
    for (int i = next; i < next + n; ++i) {
      char day[32];
      std::snprintf(day, sizeof day, "2026-02-%02dT09:00:00Z", 10 + i % 18);
      Append(i % 2 == 0 ? "customer-42" : "customer-7", "interaction.logged", "system:crm-sync",
             R"({"channel":"visit","direction":"outbound","summary":"visit )" + std::to_string(i) + R"("})", day);
    }
    next += n;
  }
  Caller Reader() const { return Caller{kReader, "api", dir}; }
  std::vector<Event> Stream(const std::string& stream) const {
    Result<std::vector<Event>> r = log->ReadStream(stream, StreamVersion(0), Direction::kForward, 1000);
    REQUIRE(r.ok());
    return *r;
  }
  Event At(uint64_t position) const {
    Result<std::vector<Event>> r = log->ReadAll(Position(position), 1);
    REQUIRE(r.ok());
    REQUIRE(r->size() == 1);
    return r->front();
  }
};

// --- The published key and checkpoints ---

TEST_CASE("VerifierKey gives the key that opens the checkpoints SignCheckpoint signs, for the size and root it reports",
          "[service][evidence]") {
  Store s;
  Result<PublishedKey> key = VerifierKey(*s.log);
  INFO(key.status().ToString());
  REQUIRE(key.ok());
  CHECK(key->origin == kOrigin);
  Result<note::VerifierKey> parsed = note::VerifierKey::Parse(key->verifier_key);
  REQUIRE(parsed.ok());
  CHECK(parsed->key_id() == key->key_id);
  const json::object key_json = ParseObject(PublishedKeyToJson(*key));
  CHECK(key_json.at("verifier_key").as_string() == key->verifier_key);
  char key_id[16];
  std::snprintf(key_id, sizeof key_id, "%08x", key->key_id);
  CHECK(key_json.at("key_id").as_string() == key_id);

  Result<SignedCheckpoint> c = SignCheckpoint(*s.log);
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  CHECK(c->size == 13);  // staff-900's arrival and 12 interactions
  Result<TreeHead> head = s.log->Head();
  REQUIRE(head.ok());
  CHECK(c->root == head->root);
  Result<std::string> body = parsed->Open(c->note);
  REQUIRE(body.ok());
  Result<note::Checkpoint> opened = note::ParseCheckpoint(*body);
  REQUIRE(opened.ok());
  CHECK(opened->size == 13);
  CHECK(opened->root == head->root);
  const json::object c_json = ParseObject(SignedCheckpointToJson(*c));
  CHECK(c_json.at("size").to_number<uint64_t>() == 13);
  CHECK(c_json.at("root").as_string() == B64(head->root));
  CHECK(c_json.at("checkpoint").as_string() == c->note);
  CHECK(c_json.at("origin").as_string() == kOrigin);

  s.Add(2);
  Result<SignedCheckpoint> later = SignCheckpoint(*s.log);
  REQUIRE(later.ok());
  CHECK(later->size == 15);
  Result<std::vector<std::string>> notes = ListCheckpoints(*s.log);
  REQUIRE(notes.ok());
  CHECK(*notes == std::vector<std::string>{c->note, later->note});
  const std::string lines = CheckpointsToJsonLines(*notes);
  CHECK(lines == json::serialize(json::object{{"checkpoint", c->note}}) +
                     "\n" + json::serialize(json::object{{"checkpoint", later->note}}) + "\n");
  CHECK(CheckpointsToJsonLines({}).empty());
}

TEST_CASE("VerifierKey of a store without a checkpoint key is NotFound and names the store", "[service][evidence]") {
  Store s(0);
  s.log.reset();
  fs::remove(s.dir + "/log.key");
  fs::remove(s.dir + "/log.vkey");
  Result<std::unique_ptr<EventLog>> log = OpenStore(StoreOptions{s.dir}, EventLogOptions::Mode::kReadOnly);
  INFO(log.status().ToString());
  REQUIRE(log.ok());
  Result<PublishedKey> key = VerifierKey(**log);
  REQUIRE_FALSE(key.ok());
  CHECK(key.status().code() == StatusCode::kNotFound);
  CHECK_THAT(key.status().message(), Catch::Contains(s.dir));
}

// --- Proofs ---

TEST_CASE("ProveInclusion gives a proof that verifies for the event at the position and for no other",
          "[service][evidence]") {
  Store s;
  Result<TreeHead> head = s.log->Head();
  REQUIRE(head.ok());
  struct Case {
    uint64_t position;
    std::optional<uint64_t> size;
  };
  for (Case c : {Case{0, std::nullopt}, Case{6, std::nullopt}, Case{12, std::nullopt}, Case{5, 7}, Case{6, 7}}) {
    INFO("position " << c.position << " size " << c.size.value_or(0));
    Result<InclusionProof> p = ProveInclusion(*s.log, c.position, c.size);
    INFO(p.status().ToString());
    REQUIRE(p.ok());
    const uint64_t size = c.size.value_or(13);
    CHECK(p->position == c.position);
    CHECK(p->tree_size == size);
    CHECK(p->leaf_hash == LeafHash(s.At(c.position)));
    if (size == 13) CHECK(p->root == head->root);
    const std::string leaf = merkle::ToBytes(p->leaf_hash), root = merkle::ToBytes(p->root);
    CHECK(merkle::VerifyInclusion(c.position, size, leaf, Bytes(p->proof), root).ok());
    const std::string other = merkle::ToBytes(LeafHash(s.At((c.position + 1) % size)));
    CHECK_FALSE(merkle::VerifyInclusion(c.position, size, other, Bytes(p->proof), root).ok());

    const json::object o = ParseObject(InclusionProofToJson(*p));
    CHECK(o.at("position").to_number<uint64_t>() == c.position);
    CHECK(o.at("tree_size").to_number<uint64_t>() == size);
    CHECK(o.at("leaf_hash").as_string() == B64(p->leaf_hash));
    CHECK(o.at("root").as_string() == B64(p->root));
    REQUIRE(o.at("proof").as_array().size() == p->proof.size());
    for (size_t i = 0; i < p->proof.size(); ++i) CHECK(o.at("proof").as_array()[i].as_string() == B64(p->proof[i]));
  }
}

TEST_CASE("ProveInclusion refuses a position outside the tree and a tree larger than the log", "[service][evidence]") {
  Store s;
  Result<InclusionProof> outside = ProveInclusion(*s.log, 7, 7);
  REQUIRE_FALSE(outside.ok());
  CHECK(outside.status().code() == StatusCode::kInvalidArgument);
  CHECK(outside.status().message() == "position 7 is not in a tree of 7 events");
  Result<InclusionProof> past_end = ProveInclusion(*s.log, 13, std::nullopt);
  REQUIRE_FALSE(past_end.ok());
  CHECK(past_end.status().message() == "position 13 is not in a tree of 13 events");
  Result<InclusionProof> too_large = ProveInclusion(*s.log, 2, 20);
  REQUIRE_FALSE(too_large.ok());
  CHECK(too_large.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(too_large.status().message(), Catch::Contains("beyond the log's 13 events"));
}

TEST_CASE("ProveConsistency gives a proof that verifies between the roots of the two sizes", "[service][evidence]") {
  Store s;
  for (auto [from, to] : {std::pair<uint64_t, std::optional<uint64_t>>{5, std::nullopt}, {3, 8}, {8, 8}, {1, 13}}) {
    INFO(from << " -> " << to.value_or(0));
    Result<ConsistencyProof> p = ProveConsistency(*s.log, from, to);
    INFO(p.status().ToString());
    REQUIRE(p.ok());
    CHECK(p->from == from);
    CHECK(p->to == to.value_or(13));
    CHECK(p->root_from == *s.log->RootAt(from));
    CHECK(p->root_to == *s.log->RootAt(p->to));
    const std::string r1 = merkle::ToBytes(p->root_from), r2 = merkle::ToBytes(p->root_to);
    CHECK(merkle::VerifyConsistency(from, p->to, Bytes(p->proof), r1, r2).ok());
    if (from != p->to) CHECK_FALSE(merkle::VerifyConsistency(from, p->to, Bytes(p->proof), r2, r1).ok());
    const json::object o = ParseObject(ConsistencyProofToJson(*p));
    CHECK(o.at("from").to_number<uint64_t>() == from);
    CHECK(o.at("to").to_number<uint64_t>() == p->to);
    CHECK(o.at("root_from").as_string() == B64(p->root_from));
    CHECK(o.at("root_to").as_string() == B64(p->root_to));
    CHECK(o.at("proof").as_array().size() == p->proof.size());
  }
  Result<ConsistencyProof> beyond = ProveConsistency(*s.log, 3, 14);
  REQUIRE_FALSE(beyond.ok());
  CHECK(beyond.status().code() == StatusCode::kInvalidArgument);
}

// --- Verification ---

TEST_CASE("VerifyStore of an intact store reports what it checked, and its JSON says the same",
          "[service][evidence]") {
  Store s;
  REQUIRE(SignCheckpoint(*s.log).ok());
  const VerifyResult v = VerifyStore(*s.log, std::nullopt);
  INFO(v.report.problem << v.error.ToString());
  CHECK(v.ok());
  CHECK(v.report.events == 13);
  CHECK(v.report.streams == 3);
  CHECK(v.report.checkpoints == 1);
  REQUIRE(v.report.read_all);
  CHECK(v.report.head.size == 13);
  CHECK(v.report.head.root == s.log->Head()->root);
  CHECK(v.against.empty());
  const json::object o = ParseObject(VerifyResultToJson(v));
  CHECK(o.at("ok").as_bool());
  CHECK(o.at("events").to_number<uint64_t>() == 13);
  CHECK(o.at("streams").to_number<uint64_t>() == 3);
  CHECK(o.at("checkpoints_checked").to_number<uint64_t>() == 1);
  CHECK(o.at("map_notes_checked").to_number<uint64_t>() == 1);
  CHECK(o.at("size").to_number<uint64_t>() == 13);
  CHECK(o.at("root").as_string() == B64(v.report.head.root));
  CHECK(o.at("problem").is_null());
  CHECK(o.at("error").is_null());
  CHECK(o.at("against").is_null());
  CHECK(o.at("seconds").is_number());
}

TEST_CASE("VerifyStore against a kept checkpoint proves the log grew from it", "[service][evidence]") {
  Store s(6);
  Result<SignedCheckpoint> kept = SignCheckpoint(*s.log);
  REQUIRE(kept.ok());
  s.Add(6);
  for (const std::optional<note::VerifierKey>& key :
       {std::optional<note::VerifierKey>(), std::optional<note::VerifierKey>(*s.log->verifier())}) {
    const VerifyResult v = VerifyStore(*s.log, KeptCheckpoint{kept->note, "kept.note", key});
    INFO(v.report.problem << v.error.ToString());
    CHECK(v.ok());
    CHECK(v.against == "the log extends the kept checkpoint of size 7 (root " + B64(kept->root) +
                           ") with a verified consistency proof");
    CHECK(ParseObject(VerifyResultToJson(v)).at("against").as_string() == v.against);
  }
}

TEST_CASE("VerifyStore against a checkpoint of another log fails: wrong key, not a prefix, or larger than the log",
          "[service][evidence]") {
  Store s;
  Store other(20);  // the same origin and staff, other events
  Result<SignedCheckpoint> foreign = SignCheckpoint(*other.log);
  REQUIRE(foreign.ok());

  // Checked with this store's key: the signature is not its own.
  VerifyResult v = VerifyStore(*s.log, KeptCheckpoint{foreign->note, "foreign.note", std::nullopt});
  CHECK_FALSE(v.ok());
  CHECK(v.error.ok());  // a disagreement, not an error
  CHECK_THAT(v.report.problem, Catch::StartsWith("the kept checkpoint foreign.note is not valid: "));
  const json::object o = ParseObject(VerifyResultToJson(v));
  CHECK_FALSE(o.at("ok").as_bool());
  CHECK(o.at("problem").as_string() == v.report.problem);
  CHECK(o.at("error").is_null());
  CHECK(o.at("size").to_number<uint64_t>() == 13);  // the store itself was read to its end

  // With the other store's key it opens, but covers more events than this log holds.
  v = VerifyStore(*s.log, KeptCheckpoint{foreign->note, "foreign.note", *other.log->verifier()});
  CHECK_FALSE(v.ok());
  CHECK(v.report.problem ==
        "the kept checkpoint covers 21 events but the log now holds 13: events were removed (the log was rolled back)");

  // A smaller checkpoint of the other log: same size range, other history.
  Store small(4);
  Result<SignedCheckpoint> prefix = SignCheckpoint(*small.log);
  REQUIRE(prefix.ok());
  v = VerifyStore(*s.log, KeptCheckpoint{prefix->note, "small.note", *small.log->verifier()});
  CHECK_FALSE(v.ok());
  CHECK_THAT(v.report.problem, Catch::StartsWith("the log is not an extension of the kept checkpoint of size 5"));
  CHECK_THAT(v.report.problem, Catch::EndsWith("history before that checkpoint was rewritten"));
}

TEST_CASE("A verification that could not start says why in the same JSON document", "[service][evidence]") {
  const VerifyResult v = VerifyResult::NotRun(Status::IoError("the store at /x cannot be opened"));
  CHECK_FALSE(v.ok());
  const json::object o = ParseObject(VerifyResultToJson(v));
  CHECK_FALSE(o.at("ok").as_bool());
  CHECK(o.at("events").to_number<uint64_t>() == 0);
  CHECK(o.at("size").is_null());
  CHECK(o.at("root").is_null());
  CHECK(o.at("problem").as_string() == "the store at /x cannot be opened");
  CHECK(o.at("error").as_string() == "the store at /x cannot be opened");
  CHECK_THAT(VerifyResultToJson(v), Catch::EndsWith(R"(,"seconds":0.000})"));  // a decimal, to the millisecond
}

// --- Bundles ---

TEST_CASE("MakeBundle records the export for the caller, and the file it writes verifies offline",
          "[service][evidence]") {
  Store s;
  BundleRequest request;
  request.stream = "customer-42";
  Result<EvidenceBundle> b = MakeBundle(*s.log, s.Reader(), request);
  INFO(b.status().ToString());
  REQUIRE(b.ok());
  CHECK(b->bundle.events == 6);
  CHECK(b->verifier_key == s.log->verifier()->ToString());

  // The export was recorded on access-staff-900, through the caller's interface.
  const std::vector<Event> accesses = s.Stream("access-staff-900");
  REQUIRE(accesses.size() == 1);
  CHECK(accesses[0].type == "data.exported");
  const json::object d = ParseObject(accesses[0].data);
  CHECK(d.at("format").as_string() == "bundle");
  CHECK(d.at("interface").as_string() == "api");
  CHECK(d.at("records").to_number<uint64_t>() == 6);
  REQUIRE(d.at("customers").as_array().size() == 1);
  CHECK(d.at("customers").as_array()[0].as_string() == "customer-42");

  const std::string file = s.tmp.Sub("case.json");
  Result<WrittenBundle> w = WriteBundleFile(*b, file);
  INFO(w.status().ToString());
  REQUIRE(w.ok());
  CHECK(w->verified);
  CHECK(w->events == 6);
  CHECK(w->summary == b->bundle.summary);
  CHECK(Slurp(file) == b->bundle.json);
  CHECK_FALSE(fs::exists(file + ".tmp"));
  const json::object wj = ParseObject(WrittenBundleToJson(*w));
  CHECK(wj.at("file").as_string() == file);
  CHECK(wj.at("events").to_number<uint64_t>() == 6);
  CHECK(wj.at("summary").as_string() == w->summary);

  Result<BundleVerdict> verdict = VerifyBundleFile(file, *s.log->verifier());
  REQUIRE(verdict.ok());
  INFO(verdict->problem);
  CHECK(verdict->ok);
  CHECK(verdict->stream == "customer-42");
  CHECK(verdict->events == 6);
  CHECK(verdict->first_version == 0);
  CHECK(verdict->last_version == 5);
  CHECK_FALSE(verdict->key_from_bundle);
  const json::object vj = ParseObject(BundleVerdictToJson(*verdict));
  CHECK(vj.at("ok").as_bool());
  CHECK(vj.at("events").to_number<uint64_t>() == 6);
  CHECK(vj.at("from").as_string() == "2026-02-10T09:00:00Z");
  CHECK(vj.at("to").as_string() == "2026-02-20T09:00:00Z");
  CHECK(vj.at("verifier_key").as_string() == b->verifier_key);
  CHECK(vj.at("unchecked").as_array().empty());
  CHECK(vj.at("problem").is_null());

  // An event edited inside the file no longer verifies, with or without the key.
  std::string text = Slurp(file);
  const size_t at = text.find("visit 4");
  REQUIRE(at != std::string::npos);
  text.replace(at, 7, "visit 9");
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
  for (const std::optional<note::VerifierKey>& key :
       {std::optional<note::VerifierKey>(), std::optional<note::VerifierKey>(*s.log->verifier())}) {
    Result<BundleVerdict> edited = VerifyBundleFile(file, key);
    REQUIRE(edited.ok());
    CHECK_FALSE(edited->ok);
    CHECK_FALSE(edited->problem.empty());
    CHECK(ParseObject(BundleVerdictToJson(*edited)).at("problem").as_string() == edited->problem);
  }
}

TEST_CASE("A bundle that does not verify with the store's key is not written and leaves no file",
          "[service][evidence]") {
  Store s;
  Store other(0);
  Result<EvidenceBundle> b = MakeBundle(*s.log, s.Reader(), BundleRequest{"customer-7", {}, {}});
  REQUIRE(b.ok());
  b->verifier_key = other.log->verifier()->ToString();  // as if the store's key had been swapped
  const std::string file = s.tmp.Sub("case.json");
  Result<WrittenBundle> w = WriteBundleFile(*b, file);
  REQUIRE(w.ok());
  CHECK_FALSE(w->verified);
  CHECK_FALSE(w->problem.empty());
  CHECK_FALSE(fs::exists(file));
  CHECK_FALSE(fs::exists(file + ".tmp"));
}

TEST_CASE("MakeBundle returns nothing and records nothing when no event matches or the read cannot be recorded",
          "[service][evidence]") {
  Store s;
  BundleRequest request{"customer-42", *ParseRfc3339("2026-03-01T00:00:00Z"), std::nullopt};
  Result<EvidenceBundle> none = MakeBundle(*s.log, s.Reader(), request);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == StatusCode::kNotFound);
  CHECK_THAT(none.status().message(), Catch::Contains("no events in that time window"));
  CHECK(s.Stream("access-staff-900").empty());

  // A reader who has left may not read: the log's rules refuse the record, so no bundle.
  s.Append("staff-900", "staff.departed", "system:hr-sync", R"({"reason":"resignation"})", "2026-02-28T00:00:00Z");
  Result<EvidenceBundle> refused = MakeBundle(*s.log, s.Reader(), BundleRequest{"customer-42", {}, {}});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kRuleViolation);
  CHECK_THAT(refused.status().message(), Catch::Contains("staff-900"));
  CHECK(s.Stream("access-staff-900").empty());
}

// --- Completeness (the stream map, core/stream_map.h) ---

std::string Rewrite(const std::string& text, const std::function<void(json::object&)>& edit) {
  json::value v = json::parse(text);
  edit(v.as_object());
  return json::serialize(v);
}

BundleVerdict VerifyText(const Store& s, const std::string& text) {
  return VerifyBundle(text, s.log->verifier()->ToString());
}

std::string Problem(const Store& s, const std::string& text) {
  const BundleVerdict v = VerifyText(s, text);
  INFO(v.completeness);
  CHECK_FALSE(v.ok);
  return v.problem;
}

TEST_CASE("A bundle proves it holds every event of its stream, and names an event dropped, added, moved or swapped",
          "[service][evidence][stream_map]") {
  Store s;
  Result<EvidenceBundle> b = MakeBundle(*s.log, s.Reader(), BundleRequest{"customer-42", {}, {}});
  REQUIRE(b.ok());
  const std::string text = b->bundle.json;
  CHECK(ParseObject(text).at("format").as_string() == "custodian-evidence/3");
  CHECK_THAT(b->bundle.summary, Catch::Contains("shows that customer-42 has 6 events at that size, so none is left out"));
  const BundleVerdict v = VerifyText(s, text);
  INFO(v.problem);
  REQUIRE(v.ok);
  CHECK(v.complete);
  CHECK(v.stream_events == 6);
  CHECK(v.withheld == 0);
  CHECK_THAT(v.completeness, Catch::StartsWith("complete: the signed stream map shows customer-42 has 6 events"));
  const json::object vj = ParseObject(BundleVerdictToJson(v));
  CHECK(vj.at("complete").as_bool());
  CHECK(vj.at("stream_events").to_number<uint64_t>() == 6);
  CHECK(vj.at("withheld").to_number<uint64_t>() == 0);

  auto events = [](json::object& o) -> json::array& { return o.at("events").as_array(); };
  // The newest event dropped (the awkward e-mail): only the map can tell.
  CHECK_THAT(Problem(s, Rewrite(text, [&](json::object& o) { events(o).pop_back(); })),
             Catch::Contains("incomplete: the signed stream map says customer-42 has 6 events") &&
                 Catch::Contains("1 event(s) after version 4 are missing"));
  // One from the middle, and the first.
  CHECK_THAT(Problem(s, Rewrite(text, [&](json::object& o) { events(o).erase(events(o).begin() + 2); })),
             Catch::Contains("events of the stream are missing from the bundle"));
  CHECK_THAT(Problem(s, Rewrite(text, [&](json::object& o) { events(o).erase(events(o).begin()); })),
             Catch::Contains("starts at version 1 but does not account for the stream's earlier events"));
  // An event added: another stream's, or one repeated.
  Result<EvidenceBundle> other = MakeBundle(*s.log, s.Reader(), BundleRequest{"customer-7", {}, {}});
  REQUIRE(other.ok());
  const json::value foreign = ParseObject(other->bundle.json).at("events").as_array().at(0);
  CHECK_THAT(Problem(s, Rewrite(text, [&](json::object& o) { events(o).push_back(foreign); })),
             Catch::Contains("belongs to customer-7, not customer-42"));
  CHECK_THAT(Problem(s, Rewrite(text, [&](json::object& o) { events(o).push_back(events(o).back()); })),
             Catch::Contains("is version 5 after version 5"));
  // Two events swapped in order.
  CHECK_THAT(Problem(s, Rewrite(text, [&](json::object& o) { std::swap(events(o)[1], events(o)[2]); })),
             Catch::Contains("is version 2 after version 0"));
  // An event's contents swapped for others.
  CHECK_THAT(Problem(s, Rewrite(text,
                                [&](json::object& o) {
                                  events(o)[3].as_object()["event"].as_object()["data"].as_object()["summary"] =
                                      "visit 99";
                                })),
             Catch::Contains("is not in the signed log as shown"));
  // The last event dropped and the map's leaf edited to match: the proof no longer reaches the signed map root.
  CHECK_THAT(Problem(s, Rewrite(text,
                                [&](json::object& o) {
                                  events(o).pop_back();
                                  o["completeness"].as_object()["leaf"].as_object()["events"] = 5;
                                })),
             Catch::Contains("leads to root") && Catch::Contains("not the signed map root"));
  // The map note of a later checkpoint.
  s.Add(1);
  REQUIRE(s.log->SignCheckpoint().ok());
  Result<std::vector<std::string>> notes = s.log->MapNotes();
  REQUIRE(notes.ok());
  CHECK_THAT(Problem(s, Rewrite(text, [&](json::object& o) { o["completeness"].as_object()["map_note"] = notes->back(); })),
             Catch::Contains("not the bundle's checkpoint"));
}

TEST_CASE("A bundle of a time window accounts for the stream's other events by their hashes",
          "[service][evidence][stream_map]") {
  Store s;
  BundleRequest window{"customer-42", *ParseRfc3339("2026-02-12T00:00:00Z"), *ParseRfc3339("2026-02-16T23:00:00Z")};
  Result<EvidenceBundle> b = MakeBundle(*s.log, s.Reader(), window);
  REQUIRE(b.ok());
  CHECK(b->bundle.events == 3);  // versions 1 to 3; 0, 4 and 5 fall outside
  const BundleVerdict v = VerifyText(s, b->bundle.json);
  INFO(v.problem);
  REQUIRE(v.ok);
  CHECK(v.complete);
  CHECK(v.first_version == 1);
  CHECK(v.stream_events == 6);
  CHECK(v.withheld == 3);
  CHECK_THAT(v.completeness, Catch::EndsWith("(3 by their hashes only)"));
  CHECK_THAT(b->bundle.summary, Catch::Contains("(3 outside these versions are accounted for by their hashes only)"));

  auto completeness = [](json::object& o) -> json::object& { return o.at("completeness").as_object(); };
  const std::string text = b->bundle.json;
  // A later event's hash left out, or changed, or the hash before the window changed.
  CHECK_THAT(Problem(s, Rewrite(text, [&](json::object& o) { completeness(o)["later_leaf_hashes"].as_array().pop_back(); })),
             Catch::Contains("incomplete"));
  const std::string other_hash = B64(LeafHash(s.Stream("customer-7")[0]));
  CHECK_THAT(Problem(s, Rewrite(text,
                                [&](json::object& o) { completeness(o)["later_leaf_hashes"].as_array()[1] = other_hash; })),
             Catch::Contains("do not hash to the stream's signed running hash"));
  CHECK_THAT(Problem(s, Rewrite(text, [&](json::object& o) { completeness(o)["running_before_sha256"] = other_hash; })),
             Catch::Contains("do not hash to the stream's signed running hash"));
}

TEST_CASE("A stream with no events gets a bundle that proves its absence", "[service][evidence][stream_map]") {
  Store s;
  Result<EvidenceBundle> b = MakeBundle(*s.log, s.Reader(), BundleRequest{"customer-999", {}, {}});
  INFO(b.status().ToString());
  REQUIRE(b.ok());
  CHECK(b->bundle.events == 0);
  CHECK_THAT(b->bundle.summary, Catch::StartsWith("Evidence that customer-999 has no events in the log"));
  const BundleVerdict v = VerifyText(s, b->bundle.json);
  INFO(v.problem);
  REQUIRE(v.ok);
  CHECK(v.complete);
  CHECK(v.stream_events == 0);
  CHECK_THAT(v.completeness, Catch::Contains("proves that customer-999 has no events"));
  // The same proof does not deny a stream that has events.
  const std::string denial = Rewrite(b->bundle.json, [](json::object& o) { o["stream"] = "customer-42"; });
  CHECK_FALSE(VerifyText(s, denial).ok);
  // Nor can a bundle of a stream with events be emptied into a proof of absence.
  Result<EvidenceBundle> full = MakeBundle(*s.log, s.Reader(), BundleRequest{"customer-42", {}, {}});
  REQUIRE(full.ok());
  CHECK_THAT(Problem(s, Rewrite(full->bundle.json,
                                [](json::object& o) {
                                  o["events"].as_array().clear();
                                  o["from"] = nullptr;
                                  o["to"] = nullptr;
                                })),
             Catch::Contains("the bundle holds no events, but the signed stream map says customer-42 has 6 events"));
}

TEST_CASE("A bundle's stream must be a name the log takes: a look-alike cannot pass for a stream with events",
          "[service][evidence][stream_map]") {
  Store s;
  Result<EvidenceBundle> b = MakeBundle(*s.log, s.Reader(), BundleRequest{"customer-999", {}, {}});
  REQUIRE(b.ok());
  for (const char* lookalike : {"customer-42\u200b", "customer-42\x1b[K", "Customer-42", ""}) {
    INFO(lookalike);
    CHECK_THAT(Problem(s, Rewrite(b->bundle.json, [&](json::object& o) { o["stream"] = lookalike; })),
               Catch::Contains("is not a stream name"));
  }
}

TEST_CASE("A bundle shows a personal part exactly where the log holds one, sealed for the person its data names",
          "[service][evidence]") {
  Store s;
  Event e;
  e.id = RandomId();
  e.stream = "customer-42";
  e.type = "contact.added";
  e.actor = "system:crm-sync";
  e.occurred_at = *ParseRfc3339("2026-02-01T09:00:00Z");
  e.data = R"({"contact_id":"c-1","role":"buyer"})";
  e.personal_plain = R"({"name":"Ana Lima"})";
  Result<AppendResult> appended = s.log->Append("customer-42", {e}, ExpectedVersion::Any());
  INFO(appended.status().ToString());
  REQUIRE(appended.ok());
  Result<EvidenceBundle> b = MakeBundle(*s.log, s.Reader(), BundleRequest{"customer-42", {}, {}});
  REQUIRE(b.ok());
  auto personal_of = [](json::object& o, size_t i) -> json::value& {
    return o["events"].as_array()[i].as_object()["event"].as_object()["personal"];
  };
  // The contact is the stream's last event (version 6); the visits before it have no personal part.
  const size_t last = 6;
  {
    const json::object o = ParseObject(b->bundle.json);
    REQUIRE(o.at("events").as_array().size() == last + 1);
    REQUIRE(o.at("events").as_array()[last].as_object().at("event").as_object().at("type") == "contact.added");
  }
  const std::string sealed = Rewrite(b->bundle.json, [&](json::object& o) {
    personal_of(o, last) = json::object{{"sealed_for", "customer-42/contact-c-1"}};
  });
  const BundleVerdict v = VerifyText(s, sealed);
  INFO(v.problem);
  REQUIRE(v.ok);
  CHECK(v.personal_shown == 0);
  const BundleVerdict opened = VerifyText(s, Rewrite(b->bundle.json, [&](json::object& o) {
                                            personal_of(o, last) = json::object{{"name", "X"}};
                                          }));
  REQUIRE(opened.ok);
  CHECK(opened.personal_shown == 1);  // the text shown is the maker's word: said, not proven
  // Text beside a right "sealed_for" is text shown opened too; a reason why it is not opened is not.
  const BundleVerdict beside = VerifyText(
      s, Rewrite(b->bundle.json, [&](json::object& o) {
        personal_of(o, last) = json::object{{"sealed_for", "customer-42/contact-c-1"}, {"name", "Forged Name"}};
      }));
  REQUIRE(beside.ok);
  CHECK(beside.personal_shown == 1);
  const BundleVerdict unavailable = VerifyText(
      s, Rewrite(b->bundle.json, [&](json::object& o) {
        personal_of(o, last) = json::object{{"sealed_for", "customer-42/contact-c-1"}, {"unavailable", "no key here"}};
      }));
  REQUIRE(unavailable.ok);
  CHECK(unavailable.personal_shown == 0);

  CHECK_THAT(Problem(s, Rewrite(b->bundle.json,
                                [&](json::object& o) {
                                  o["events"].as_array()[last].as_object()["event"].as_object().erase("personal");
                                })),
             Catch::Contains("has a sealed personal part in the log that the bundle does not show"));
  CHECK_THAT(Problem(s, Rewrite(b->bundle.json, [&](json::object& o) { personal_of(o, last) = nullptr; })),
             Catch::Contains("has a sealed personal part in the log that the bundle does not show"));
  CHECK_THAT(Problem(s, Rewrite(b->bundle.json,
                                [&](json::object& o) {
                                  personal_of(o, 0) = json::object{{"notes", "invented"}};
                                })),
             Catch::Contains("shows a personal part, but the log holds none for it"));
  CHECK_THAT(Problem(s, Rewrite(b->bundle.json,
                                [&](json::object& o) {
                                  personal_of(o, last) = json::object{{"sealed_for", "customer-42/contact-c-2"}};
                                })),
             Catch::Contains("its personal part is shown as sealed for") &&
                 Catch::Contains("but the event's data makes it customer-42/contact-c-1's"));
}

TEST_CASE("A format 2 bundle, made before the stream map, still verifies as inclusion only and says so",
          "[service][evidence][stream_map]") {
  Store s;
  Result<EvidenceBundle> b = MakeBundle(*s.log, s.Reader(), BundleRequest{"customer-42", {}, {}});
  REQUIRE(b.ok());
  const std::string v2 = testing::AsFormat2Bundle(b->bundle.json);
  const BundleVerdict v = VerifyText(s, v2);
  INFO(v.problem);
  REQUIRE(v.ok);
  CHECK_FALSE(v.complete);
  CHECK_THAT(v.completeness, Catch::StartsWith("not proven: a custodian-evidence/2 bundle proves that its events are "
                                               "in the log"));
  const json::object vj = ParseObject(BundleVerdictToJson(v));
  CHECK_FALSE(vj.at("complete").as_bool());
  CHECK(vj.at("stream_events").is_null());
  // A format 3 bundle without its completeness part does not pass as one.
  const std::string stripped = Rewrite(b->bundle.json, [](json::object& o) { o.erase("completeness"); });
  CHECK_THAT(Problem(s, stripped), Catch::Contains("no \"completeness\" object"));
}

TEST_CASE("A bundle whose event position or version is not a whole number is refused, naming the event",
          "[service][evidence]") {
  Store s;
  Result<EvidenceBundle> b = MakeBundle(*s.log, s.Reader(), BundleRequest{"customer-42", {}, {}});
  REQUIRE(b.ok());
  // Each of these used to stop the verifier (an exception from Boost.JSON) instead of failing the bundle.
  for (const json::value& bad : {json::value(-1), json::value(1.5), json::value(1e300), json::value("3")}) {
    for (const char* field : {"position", "version"}) {
      INFO(field << " = " << json::serialize(bad));
      const std::string text = Rewrite(b->bundle.json, [&](json::object& o) {
        o.at("events").as_array()[1].as_object().at("event").as_object()[field] = bad;
      });
      CHECK_THAT(Problem(s, text), Catch::Contains("event #2 lacks its position or version"));
    }
  }
}

TEST_CASE("VerifyBundleFile of a file that cannot be read is InvalidArgument naming it", "[service][evidence]") {
  TempDir tmp;
  Result<BundleVerdict> v = VerifyBundleFile(tmp.Sub("missing.json"), std::nullopt);
  REQUIRE_FALSE(v.ok());
  CHECK(v.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(v.status().message(), Catch::Contains("missing.json"));
}

}  // namespace
}  // namespace custodian
