#include "core/stream_map.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "core/note.h"

namespace custodian {
namespace {

using streammap::Change;
using streammap::MemoryNodes;
using streammap::Proof;
using streammap::Summary;

// A summary as the store would keep it after `n` events at positions base, base+1, ...
Summary SummaryOf(uint64_t n, uint64_t base) {
  Summary s;
  for (uint64_t i = 0; i < n; ++i) streammap::Add(s, base + i, Sha256("leaf " + std::to_string(base + i)));
  return s;
}

Hash256 RootOf(MemoryNodes& nodes, const Hash256& root, const std::map<std::string, Summary>& streams) {
  std::vector<Change> changes;
  for (const auto& [name, s] : streams) changes.push_back({streammap::KeyOf(name), s});
  Result<Hash256> r = streammap::Update(nodes, root, changes);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

TEST_CASE("stream map: every stream proves its summary, and streams not in it prove their absence", "[stream_map]") {
  std::map<std::string, Summary> streams;
  for (int i = 0; i < 200; ++i) streams["customer-" + std::to_string(i)] = SummaryOf(1 + i % 7, 10 * i);
  MemoryNodes nodes;
  const Hash256 root = RootOf(nodes, streammap::kEmpty, streams);
  for (const auto& [name, s] : streams) {
    Result<Proof> p = streammap::Prove(nodes, root, name);
    REQUIRE(p.ok());
    CHECK(p->end == Proof::End::kStream);
    CHECK(p->summary == s);
    CHECK(p->siblings.size() < 32);  // paths part where the keys do, not at 256
    Result<Hash256> back = streammap::RootFromProof(name, *p);
    REQUIRE(back.ok());
    CHECK(*back == root);
    // The same proof with a count one lower does not reach the root.
    Proof fewer = *p;
    fewer.summary.count -= 1;
    CHECK(*streammap::RootFromProof(name, fewer) != root);
    // Nor does it prove the summary of another stream.
    CHECK(*streammap::RootFromProof(name + "x", *p) != root);
  }
  int empty = 0, other = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string absent = "customer-absent-" + std::to_string(i);
    Result<Proof> p = streammap::Prove(nodes, root, absent);
    REQUIRE(p.ok());
    REQUIRE(p->end != Proof::End::kStream);
    (p->end == Proof::End::kEmpty ? empty : other)++;
    Result<Hash256> back = streammap::RootFromProof(absent, *p);
    REQUIRE(back.ok());
    CHECK(*back == root);
  }
  // Both kinds of absence occur with this many streams.
  CHECK(empty > 0);
  CHECK(other > 0);
}

TEST_CASE("stream map: the root depends on the streams only, not on how the updates were grouped", "[stream_map]") {
  std::map<std::string, Summary> first, second, all;
  for (int i = 0; i < 50; ++i) first["s-" + std::to_string(i)] = SummaryOf(2, i);
  for (int i = 25; i < 90; ++i) second["s-" + std::to_string(i)] = SummaryOf(3, 100 + i);
  all = first;
  for (const auto& [k, v] : second) all[k] = v;

  MemoryNodes a, b;
  const Hash256 old_root = RootOf(a, streammap::kEmpty, first);
  const Hash256 stepwise = RootOf(a, old_root, second);
  const Hash256 at_once = RootOf(b, streammap::kEmpty, all);
  CHECK(stepwise == at_once);
  CHECK(stepwise != old_root);
  // The old root still proves the old summaries: nodes are never replaced.
  Result<Proof> p = streammap::Prove(a, old_root, "s-30");
  REQUIRE(p.ok());
  CHECK(p->summary == first["s-30"]);
  Result<Proof> absent = streammap::Prove(a, old_root, "s-80");
  REQUIRE(absent.ok());
  CHECK(absent->end != Proof::End::kStream);
}

TEST_CASE("stream map: the empty map proves every stream absent with no steps", "[stream_map]") {
  MemoryNodes nodes;
  Result<Proof> p = streammap::Prove(nodes, streammap::kEmpty, "customer-1");
  REQUIRE(p.ok());
  CHECK(p->end == Proof::End::kEmpty);
  CHECK(p->siblings.empty());
  CHECK(*streammap::RootFromProof("customer-1", *p) == streammap::kEmpty);
  // One stream: its leaf is the root.
  const Hash256 root = RootOf(nodes, streammap::kEmpty, {{"customer-1", SummaryOf(1, 0)}});
  CHECK(root == streammap::LeafHash(streammap::KeyOf("customer-1"), SummaryOf(1, 0)));
  Result<Proof> other = streammap::Prove(nodes, root, "customer-2");
  REQUIRE(other.ok());
  CHECK(other->end == Proof::End::kOther);
  CHECK(other->other_key == streammap::KeyOf("customer-1"));
}

TEST_CASE("stream map: malformed proofs are refused, not believed", "[stream_map]") {
  std::map<std::string, Summary> streams;
  for (int i = 0; i < 20; ++i) streams["c-" + std::to_string(i)] = SummaryOf(1, i);
  MemoryNodes nodes;
  const Hash256 root = RootOf(nodes, streammap::kEmpty, streams);
  // A stream's own leaf passed off as "another stream" to deny it exists.
  Result<Proof> p = streammap::Prove(nodes, root, "c-3");
  REQUIRE(p.ok());
  Proof denial = *p;
  denial.end = Proof::End::kOther;
  denial.other_key = streammap::KeyOf("c-3");
  Result<Hash256> r = streammap::RootFromProof("c-3", denial);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("this stream's key"));
  // Another stream's leaf that is not on the path.
  Result<Proof> absent = streammap::Prove(nodes, root, "missing");
  REQUIRE(absent.ok());
  Proof off_path = *absent;
  off_path.end = Proof::End::kOther;
  Hash256 key = streammap::KeyOf("missing");
  key[0] ^= 0x80;  // leaves at the first step
  off_path.other_key = key;
  if (!off_path.siblings.empty()) {
    Result<Hash256> bad = streammap::RootFromProof("missing", off_path);
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.status().message(), Catch::Contains("path"));
  }
  Proof too_long;
  too_long.siblings.resize(257);
  CHECK_FALSE(streammap::RootFromProof("x", too_long).ok());
  // The same stream twice in one update.
  std::vector<Change> twice{{streammap::KeyOf("a"), SummaryOf(1, 0)}, {streammap::KeyOf("a"), SummaryOf(2, 0)}};
  CHECK(streammap::Update(nodes, root, twice).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("stream map: a node that does not hash to its key is corruption", "[stream_map]") {
  class Corrupt final : public streammap::NodeStore {
   public:
    MemoryNodes inner;
    Result<std::optional<std::string>> Get(const Hash256& h) override {
      Result<std::optional<std::string>> v = inner.Get(h);
      if (v.ok() && *v) (**v)[40] ^= 1;
      return v;
    }
    void Put(const Hash256& h, std::string p) override { inner.Put(h, std::move(p)); }
  } nodes;
  std::vector<Change> changes{{streammap::KeyOf("a"), SummaryOf(1, 0)}, {streammap::KeyOf("b"), SummaryOf(1, 1)}};
  Result<Hash256> root = streammap::Update(nodes, streammap::kEmpty, changes);
  REQUIRE(root.ok());
  Result<Proof> p = streammap::Prove(nodes, *root, "a");
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == StatusCode::kCorruption);
}

TEST_CASE("stream map: the running hash depends on every leaf and their order", "[stream_map]") {
  const Hash256 a = Sha256("a"), b = Sha256("b");
  Summary ab, ba, aa;
  streammap::Add(ab, 1, a);
  streammap::Add(ab, 2, b);
  streammap::Add(ba, 1, b);
  streammap::Add(ba, 2, a);
  streammap::Add(aa, 1, a);
  streammap::Add(aa, 2, a);
  CHECK(ab.count == 2);
  CHECK(ab.last_position == 2);
  CHECK(ab.running != ba.running);
  CHECK(ab.running != aa.running);
  CHECK(ab.running == streammap::NextRunning(streammap::NextRunning(streammap::kEmpty, a), b));
}

TEST_CASE("stream map notes read back, and a checkpoint is not a map note", "[stream_map]") {
  streammap::MapNote n{"crm.example.com/audit", 12345, Sha256("log"), Sha256("map")};
  const std::string body = streammap::MapNoteBody(n);
  CHECK(body.starts_with("custodian-stream-map/1\ncrm.example.com/audit\n12345\n"));
  Result<streammap::MapNote> back = streammap::ParseMapNote(body);
  REQUIRE(back.ok());
  CHECK(back->origin == n.origin);
  CHECK(back->size == n.size);
  CHECK(back->log_root == n.log_root);
  CHECK(back->map_root == n.map_root);

  CHECK_FALSE(streammap::ParseMapNote(note::CheckpointBody({"crm.example.com/audit", 7, Sha256("x")})).ok());
  CHECK_FALSE(note::ParseCheckpoint(body).ok());
  const std::string roots = body.substr(body.find("12345\n") + 6);  // the two root lines
  CHECK(streammap::ParseMapNote("custodian-stream-map/1\no\n7\n" + roots).ok());
  for (const std::string& bad : {body.substr(0, body.size() - 1), "custodian-stream-map/1\no\n-1\n" + roots,
                                 "custodian-stream-map/1\no\n99999999999999999999999\n" + roots,
                                 "custodian-stream-map/1\no\n012\n" + roots, "custodian-stream-map/1\n\n7\n" + roots,
                                 "custodian-stream-map/1\no\n7\nAA==\n" + roots.substr(roots.find('\n') + 1)}) {
    INFO(bad);
    CHECK_FALSE(streammap::ParseMapNote(bad).ok());
  }
}

}  // namespace
}  // namespace custodian
