#include "storage/keys.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

// Pins the key and value encodings of docs/event-format.md ("Column
// families") with literal bytes. These are on disk: a change here is a new
// store format, not an edit.

namespace custodian {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

TEST_CASE("The column families, marker file and meta keys have their documented names", "[keys]") {
  CHECK(std::string(keys::kEventsFamily) == "events");
  CHECK(std::string(keys::kStreamsFamily) == "streams");
  CHECK(std::string(keys::kIdsFamily) == "ids");
  CHECK(std::string(keys::kMetaFamily) == "meta");
  CHECK(std::string(keys::kMarkerFile) == "CUSTODIAN");
  CHECK(std::string(keys::kMetaFormatKey) == "format");
  CHECK(std::string(keys::kMetaStreamCountKey) == "stream_count");
  CHECK(keys::kStoreFormat == 2);
}

TEST_CASE("An unsigned integer is written as 8 bytes, most significant first", "[keys]") {
  CHECK(keys::EncodeU64(0) == Bytes({0, 0, 0, 0, 0, 0, 0, 0}));
  CHECK(keys::EncodeU64(1) == Bytes({0, 0, 0, 0, 0, 0, 0, 1}));
  CHECK(keys::EncodeU64(0x0102030405060708ULL) == Bytes({1, 2, 3, 4, 5, 6, 7, 8}));
  CHECK(keys::EncodeU64(UINT64_MAX) == Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  uint64_t v = 0;
  REQUIRE(keys::DecodeU64(Bytes({1, 2, 3, 4, 5, 6, 7, 8}), &v));
  CHECK(v == 0x0102030405060708ULL);
  REQUIRE(keys::DecodeU64(Bytes({0x80, 0, 0, 0, 0, 0, 0, 0xff}), &v));
  CHECK(v == 0x80000000000000ffULL);
  CHECK_FALSE(keys::DecodeU64(Bytes({1, 2, 3, 4, 5, 6, 7}), &v));
  CHECK_FALSE(keys::DecodeU64(Bytes({1, 2, 3, 4, 5, 6, 7, 8, 9}), &v));
  CHECK(v == 0x80000000000000ffULL);  // untouched by a failed decode
}

TEST_CASE("An event key is the position as 8 big-endian bytes and parses back", "[keys]") {
  CHECK(keys::EventKey(Position(0)) == Bytes({0, 0, 0, 0, 0, 0, 0, 0}));
  CHECK(keys::EventKey(Position(41)) == Bytes({0, 0, 0, 0, 0, 0, 0, 0x29}));
  CHECK(keys::EventKey(Position(0x00000123456789abULL)) == Bytes({0, 0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab}));
  Position p;
  REQUIRE(keys::ParseEventKey(Bytes({0, 0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab}), &p));
  CHECK(p == Position(0x00000123456789abULL));
  CHECK_FALSE(keys::ParseEventKey(Bytes({0, 0, 0, 0}), &p));
  CHECK_FALSE(keys::ParseEventKey("", &p));
}

TEST_CASE("Event keys sort in position order", "[keys]") {
  std::vector<uint64_t> positions = {0, 1, 255, 256, 65535, 65536, 1ULL << 32, UINT64_MAX - 1, UINT64_MAX};
  for (size_t i = 1; i < positions.size(); ++i) {
    INFO(positions[i - 1] << " < " << positions[i]);
    CHECK(keys::EventKey(Position(positions[i - 1])) < keys::EventKey(Position(positions[i])));
  }
}

TEST_CASE("A stream key is the name, 0x00 and the version as 8 big-endian bytes", "[keys]") {
  CHECK(keys::StreamKey("customer-42", StreamVersion(2)) ==
        std::string("customer-42") + Bytes({0, 0, 0, 0, 0, 0, 0, 0, 2}));
  CHECK(keys::StreamKey("alerts", StreamVersion(0x0100000000000001ULL)) ==
        std::string("alerts") + Bytes({0, 1, 0, 0, 0, 0, 0, 0, 1}));
  CHECK(keys::StreamPrefix("customer-42") == std::string("customer-42") + Bytes({0}));
  CHECK(keys::StreamKey("customer-42", StreamVersion(9)).starts_with(keys::StreamPrefix("customer-42")));
}

TEST_CASE("A stream key parses back to its name and version", "[keys]") {
  std::string_view stream;
  StreamVersion v;
  const std::string key = keys::StreamKey("customer-42", StreamVersion(4294967298ULL));
  REQUIRE(keys::ParseStreamKey(key, &stream, &v));
  CHECK(stream == "customer-42");
  CHECK(v == StreamVersion(4294967298ULL));
  // Too short, or no 0x00 before the version.
  CHECK_FALSE(keys::ParseStreamKey(Bytes({0, 0, 0, 0, 0, 0, 0, 0, 1}), &stream, &v));
  CHECK_FALSE(keys::ParseStreamKey(std::string("customer-42x") + Bytes({0, 0, 0, 0, 0, 0, 0, 1}), &stream, &v));
}

TEST_CASE("Stream keys group each stream and sort its versions in order", "[keys]") {
  // The 0x00 after the name keeps customer-4's keys apart from customer-42's.
  std::vector<std::string> keys_in_order = {
      keys::StreamKey("customer-4", StreamVersion(0)),
      keys::StreamKey("customer-4", StreamVersion(1)),
      keys::StreamKey("customer-4", StreamVersion(256)),
      keys::StreamKey("customer-4", StreamVersion(UINT64_MAX)),
      keys::StreamKey("customer-42", StreamVersion(0)),
  };
  CHECK(std::is_sorted(keys_in_order.begin(), keys_in_order.end()));
  CHECK_FALSE(keys::StreamKey("customer-42", StreamVersion(0)).starts_with(keys::StreamPrefix("customer-4")));
}

TEST_CASE("An id key is the 16 bytes of the id and its value the position", "[keys]") {
  const EventId id = *EventId::Parse("7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44");
  CHECK(keys::IdKey(id) == Bytes({0x7f, 0x0c, 0x1a, 0x9e, 0x2b, 0x8d, 0x4c, 0x1e, 0x9a, 0x57, 0x3d, 0x2f, 0x6b,
                                  0x1c, 0x0e, 0x44}));
  const std::string value = keys::IdValue(Position(0x0102030405060708ULL));
  CHECK(value == Bytes({1, 2, 3, 4, 5, 6, 7, 8}));

  Position p;
  REQUIRE(keys::ParseIdValue(value, &p));
  CHECK(p == Position(0x0102030405060708ULL));
  CHECK_FALSE(keys::ParseIdValue(value.substr(0, 7), &p));
  CHECK_FALSE(keys::ParseIdValue(value + 'x', &p));
}

TEST_CASE("An id value of a store written before 2026-11-23 (position and a 32-byte content hash) still reads",
          "[keys]") {
  const std::string legacy = Bytes({0, 0, 0, 0, 0, 0, 0x01, 0x2c}) + std::string(32, '\xa0');
  REQUIRE(legacy.size() == keys::kLegacyIdValueSize);
  Position p;
  REQUIRE(keys::ParseIdValue(legacy, &p));
  CHECK(p == Position(300));
  CHECK_FALSE(keys::ParseIdValue(legacy.substr(0, 39), &p));
  CHECK_FALSE(keys::ParseIdValue(legacy + 'x', &p));
}

TEST_CASE("A Merkle segment is keyed by the tree size after it and starts with the size before it", "[keys]") {
  CHECK(keys::MerkleSegmentKey(0x29) == Bytes({0, 0, 0, 0, 0, 0, 0, 0x29}));
  uint64_t to = 0;
  REQUIRE(keys::ParseMerkleSegmentKey(keys::MerkleSegmentKey(12345), &to));
  CHECK(to == 12345);
  CHECK_FALSE(keys::ParseMerkleSegmentKey(Bytes({0, 0, 0, 7}), &to));
  // Leaves 6 and 7 complete (0,6); then (0,7), (1,3), (2,1), (3,0): five hashes.
  const std::string hashes(5 * 32, 'h');
  const std::string value = keys::MerkleSegmentValue(6, hashes);
  CHECK(value.substr(0, 8) == Bytes({0, 0, 0, 0, 0, 0, 0, 6}));
  uint64_t from = 0;
  std::string_view parsed;
  REQUIRE(keys::ParseMerkleSegmentValue(value, 8, &from, &parsed));
  CHECK(from == 6);
  CHECK(parsed == hashes);
  CHECK_FALSE(keys::ParseMerkleSegmentValue(value, 9, &from, &parsed));  // leaf 8 would add one more
  CHECK_FALSE(keys::ParseMerkleSegmentValue(value.substr(0, value.size() - 1), 8, &from, &parsed));
  CHECK_FALSE(keys::ParseMerkleSegmentValue(keys::MerkleSegmentValue(8, ""), 8, &from, &parsed));  // empty range
}

TEST_CASE("Merkle slots follow the order in which appending leaves completes the nodes", "[keys]") {
  // The nodes leaf n completes: (0, n), then (l, n >> l) while the index stays odd.
  std::vector<std::pair<uint8_t, uint64_t>> completed;
  for (uint64_t n = 0; n < 64; ++n) {
    completed.emplace_back(0, n);
    for (uint8_t l = 1; l < 64 && ((n + 1) & ((uint64_t{1} << l) - 1)) == 0; ++l) completed.emplace_back(l, n >> l);
  }
  CHECK(completed.size() == 127);  // 64 leaves and 63 interior nodes
  for (uint64_t n = 0; n <= 64; ++n) {
    uint64_t before = 0;
    for (const auto& [l, i] : completed) before += keys::MerkleLastLeaf(l, i) < n ? 1 : 0;
    INFO("n = " << n);
    CHECK(keys::MerkleNodesBefore(n) == before);
  }
  // From any segment start, each node's slot is its place in that order.
  for (uint64_t from : {0, 1, 5, 8, 13}) {
    uint64_t slot = 0;
    for (const auto& [l, i] : completed) {
      if (keys::MerkleLastLeaf(l, i) < from) continue;
      INFO("from " << from << ", node (" << int(l) << ", " << i << ")");
      CHECK(keys::MerkleSlot(l, i, from) == slot++);
    }
  }
  CHECK(keys::MerkleLastLeaf(1, 3) == 7);
  CHECK(keys::MerkleLastLeaf(0, 41) == 41);
}

TEST_CASE("A projection's checkpoint is its position as 8 bytes, and 4 more bytes when its state version is not 1",
          "[keys]") {
  CHECK(keys::ProjectionCheckpointKey("customer") == "projection/customer");
  CHECK(keys::ProjectionCheckpointValue(0x0102, 1) == Bytes({0, 0, 0, 0, 0, 0, 1, 2}));
  CHECK(keys::ProjectionCheckpointValue(0x0102, 2) == Bytes({0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 2}));
  uint64_t at = 0;
  uint32_t version = 0;
  REQUIRE(keys::ParseProjectionCheckpointValue(Bytes({0, 0, 0, 0, 0, 0, 1, 2}), &at, &version));
  CHECK(at == 0x0102);
  CHECK(version == 1);  // every store before versions were kept
  REQUIRE(keys::ParseProjectionCheckpointValue(Bytes({0, 0, 0, 0, 0, 0, 0, 9, 1, 0, 0, 3}), &at, &version));
  CHECK(at == 9);
  CHECK(version == 0x01000003);
  // One encoding per state: version 1 in 12 bytes, and other sizes, are not a checkpoint.
  CHECK_FALSE(keys::ParseProjectionCheckpointValue(Bytes({0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1}), &at, &version));
  CHECK_FALSE(keys::ParseProjectionCheckpointValue(Bytes({0, 0, 0, 0, 0, 0, 0, 9, 0}), &at, &version));
  CHECK_FALSE(keys::ParseProjectionCheckpointValue(Bytes({0, 0, 0, 0, 0, 0, 9}), &at, &version));
}

}  // namespace
}  // namespace custodian
