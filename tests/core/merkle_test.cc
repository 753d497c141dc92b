#include "core/merkle.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "core/base64.h"

namespace custodian::merkle {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

json::object Load(const fs::path& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return json::parse(text).as_object();
}

std::string Bytes(const json::value& v) {
  Result<std::string> r = Base64Decode(std::string(v.as_string()));
  REQUIRE(r.ok());
  return *r;
}

Proof ProofOf(const json::value& v) {
  Proof p;
  if (v.is_null()) return p;  // some vectors write an empty proof as null
  for (const auto& h : v.as_array()) p.push_back(Bytes(h));
  return p;
}

std::vector<fs::path> Vectors(const std::string& kind) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(CUSTODIAN_SHARED_DIR) / "testdata/merkle" / kind)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

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

// The root of leaves [begin, end) by the recursive definition of RFC 9162 2.1.1.
Hash256 ReferenceRoot(const std::vector<std::string>& leaves, size_t begin, size_t end) {
  if (end - begin == 0) return EmptyRoot();
  if (end - begin == 1) return HashLeaf(leaves[begin]);
  size_t k = SplitPoint(end - begin);
  return HashChildren(ReferenceRoot(leaves, begin, begin + k), ReferenceRoot(leaves, begin + k, end));
}

TEST_CASE("inclusion proofs agree with every transparency-dev vector", "[merkle]") {
  const auto files = Vectors("inclusion");
  REQUIRE(files.size() > 50);
  int accepted = 0, refused = 0;
  for (const auto& path : files) {
    json::object v = Load(path);
    INFO(path.string() << ": " << v["desc"].as_string().c_str());
    Status s = VerifyInclusion(v["leafIdx"].to_number<uint64_t>(), v["treeSize"].to_number<uint64_t>(),
                               Bytes(v["leafHash"]), ProofOf(v["proof"]), Bytes(v["root"]));
    CHECK(s.ok() != v["wantErr"].as_bool());
    (s.ok() ? accepted : refused)++;
  }
  CHECK(accepted > 0);
  CHECK(refused > 0);
}

TEST_CASE("consistency proofs agree with every transparency-dev vector", "[merkle]") {
  const auto files = Vectors("consistency");
  REQUIRE(files.size() > 50);
  int accepted = 0, refused = 0;
  for (const auto& path : files) {
    json::object v = Load(path);
    INFO(path.string() << ": " << v["desc"].as_string().c_str());
    Status s = VerifyConsistency(v["size1"].to_number<uint64_t>(), v["size2"].to_number<uint64_t>(),
                                 ProofOf(v["proof"]), Bytes(v["root1"]), Bytes(v["root2"]));
    CHECK(s.ok() != v["wantErr"].as_bool());
    (s.ok() ? accepted : refused)++;
  }
  CHECK(accepted > 0);
  CHECK(refused > 0);
}

TEST_CASE("the reference tree's root matches the vectors' root of size 8", "[merkle]") {
  const auto leaves = ReferenceLeaves();
  json::object v = Load(fs::path(CUSTODIAN_SHARED_DIR) / "testdata/merkle/inclusion/1/happy-path.json");
  CHECK(ToBytes(ReferenceRoot(leaves, 0, 8)) == Bytes(v["root"]));
  CHECK(ToBytes(HashLeaf(leaves[0])) == Bytes(v["leafHash"]));
}

TEST_CASE("the empty tree's root is SHA-256 of nothing", "[merkle]") {
  CHECK(HexOf(EmptyRoot()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("SplitPoint is the largest power of two strictly below n", "[merkle]") {
  CHECK(SplitPoint(2) == 1);
  CHECK(SplitPoint(3) == 2);
  CHECK(SplitPoint(4) == 2);
  CHECK(SplitPoint(5) == 4);
  CHECK(SplitPoint(8) == 4);
  CHECK(SplitPoint(9) == 8);
  CHECK(SplitPoint(uint64_t{1} << 40) == uint64_t{1} << 39);
}

TEST_CASE("a root mismatch names the computed and expected roots", "[merkle]") {
  const auto leaves = ReferenceLeaves();
  const Hash256 leaf = HashLeaf(leaves[2]);
  Proof proof = {ToBytes(HashLeaf(leaves[3])), ToBytes(ReferenceRoot(leaves, 0, 2))};
  Hash256 root4 = ReferenceRoot(leaves, 0, 4);
  CHECK(VerifyInclusion(2, 4, ToBytes(leaf), proof, ToBytes(root4)).ok());
  Hash256 wrong = root4;
  wrong[0] ^= 1;
  Status s = VerifyInclusion(2, 4, ToBytes(leaf), proof, ToBytes(wrong));
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains(HexOf(root4)));
  CHECK_THAT(s.message(), Catch::Contains(HexOf(wrong)));
}

}  // namespace
}  // namespace custodian::merkle
