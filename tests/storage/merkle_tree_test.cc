#include "storage/merkle_tree.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include "core/base64.h"

namespace custodian {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// The RFC 6962 reference tree's eight leaves (transparency-dev/merkle testonly).
std::vector<std::string> ReferenceLeaves() {
  return {std::string(),
          std::string(1, '\x00'),
          std::string(1, '\x10'),
          std::string("\x20\x21", 2),
          std::string("\x30\x31", 2),
          std::string("\x40\x41\x42\x43", 4),
          std::string("\x50\x51\x52\x53\x54\x55\x56\x57", 8),
          std::string("\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f", 16)};
}

// An in-memory node store filled the way the writer fills the merkle family.
struct NodeStore {
  std::map<std::pair<uint8_t, uint64_t>, Hash256> nodes;
  MerkleFrontier frontier;

  void Add(const Hash256& leaf) {
    frontier.Append(leaf, [&](uint8_t level, uint64_t index, const Hash256& h) {
      REQUIRE(nodes.emplace(std::make_pair(level, index), h).second);  // each node written once
    });
  }
  NodeReader Reader() const {
    return [this](uint8_t level, uint64_t index) -> Result<Hash256> {
      auto it = nodes.find({level, index});
      if (it == nodes.end()) return Status::NotFound("no node");
      return it->second;
    };
  }
};

json::object Load(const fs::path& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return json::parse(text).as_object();
}

std::vector<std::string> Base64List(const json::value& v) {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  for (const auto& h : v.as_array()) out.push_back(*Base64Decode(std::string(h.as_string())));
  return out;
}

std::vector<std::string> AsBytes(const std::vector<Hash256>& proof) {
  std::vector<std::string> out;
  for (const auto& h : proof) out.push_back(merkle::ToBytes(h));
  return out;
}

TEST_CASE("generated proofs equal the transparency-dev happy-path proofs byte for byte", "[merkle]") {
  NodeStore store;
  for (const auto& leaf : ReferenceLeaves()) store.Add(merkle::HashLeaf(leaf));
  MerkleProver prover(store.Reader());
  int inclusion = 0, consistency = 0;
  const fs::path base = fs::path(CUSTODIAN_SHARED_DIR) / "testdata/merkle";
  for (const auto& e : fs::recursive_directory_iterator(base)) {
    if (e.path().filename() != "happy-path.json") continue;
    json::object v = Load(e.path());
    INFO(e.path().string());
    if (e.path().string().find("/inclusion/") != std::string::npos) {
      const uint64_t index = v["leafIdx"].to_number<uint64_t>(), size = v["treeSize"].to_number<uint64_t>();
      Result<std::vector<Hash256>> proof = prover.InclusionProof(index, size);
      REQUIRE(proof.ok());
      CHECK(AsBytes(*proof) == Base64List(v["proof"]));
      CHECK(merkle::ToBytes(*prover.RootAt(size)) == *Base64Decode(std::string(v["root"].as_string())));
      ++inclusion;
    } else {
      const uint64_t size1 = v["size1"].to_number<uint64_t>(), size2 = v["size2"].to_number<uint64_t>();
      Result<std::vector<Hash256>> proof = prover.ConsistencyProof(size1, size2);
      REQUIRE(proof.ok());
      CHECK(AsBytes(*proof) == Base64List(v["proof"]));
      ++consistency;
    }
  }
  CHECK(inclusion >= 4);
  CHECK(consistency >= 4);
}

TEST_CASE("every proof of every tree up to 70 leaves verifies, and the frontier root equals RootAt", "[merkle]") {
  NodeStore store;
  std::vector<Hash256> leaves;
  for (uint64_t n = 0; n < 70; ++n) {
    leaves.push_back(merkle::HashLeaf("leaf " + std::to_string(n)));
    store.Add(leaves.back());
  }
  MerkleProver prover(store.Reader());
  CHECK(*prover.RootAt(70) == store.frontier.Root());
  for (uint64_t size = 1; size <= 70; ++size) {
    const Hash256 root = *prover.RootAt(size);
    Result<MerkleFrontier> loaded = MerkleFrontier::Load(size, store.Reader());
    REQUIRE(loaded.ok());
    CHECK(loaded->Root() == root);
    for (uint64_t i = 0; i < size; ++i) {
      Result<std::vector<Hash256>> p = prover.InclusionProof(i, size);
      REQUIRE(p.ok());
      CHECK(merkle::VerifyInclusion(i, size, merkle::ToBytes(leaves[i]), AsBytes(*p), merkle::ToBytes(root)).ok());
    }
    for (uint64_t from = 1; from <= size; ++from) {
      Result<std::vector<Hash256>> p = prover.ConsistencyProof(from, size);
      REQUIRE(p.ok());
      CHECK(merkle::VerifyConsistency(from, size, AsBytes(*p), merkle::ToBytes(*prover.RootAt(from)),
                                      merkle::ToBytes(root))
                .ok());
    }
  }
}

TEST_CASE("a frontier loaded from a store with a missing node says which node", "[merkle]") {
  NodeStore store;
  for (int n = 0; n < 6; ++n) store.Add(merkle::HashLeaf(std::to_string(n)));
  store.nodes.erase({2, 0});
  Result<MerkleFrontier> f = MerkleFrontier::Load(6, store.Reader());
  REQUIRE_FALSE(f.ok());
  CHECK_THAT(f.status().message(), Catch::Contains("level 2, index 0"));
}

}  // namespace
}  // namespace custodian
