#include "core/record.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "core/time.h"

// Golden records (tests/golden/README.md): version-1 records written by
// EncodeRecord and never edited. Each must keep decoding to the values below,
// and EncodeRecord must reproduce them byte for byte: an event without a
// recorded_by is still written as version 1.
//
// To regenerate them (only ever into a new directory, to compare):
//   CUSTODIAN_GOLDEN_OUT=/tmp/golden ./build/tests/core_tests "[generate-golden]"

namespace custodian {
namespace {

constexpr char kMinimalFile[] = "record-v1-minimal.bin";
constexpr char kFullFile[] = "record-v1-full.bin";
constexpr char kFullV2File[] = "record-v2-full.bin";

EventId Id(const char* text) {
  Result<EventId> id = EventId::Parse(text);
  REQUIRE(id.ok());
  return *id;
}

// Every optional field empty, data "{}", no personal data, at position 0.
Event MinimalGoldenEvent() {
  Event e;
  e.id = Id("00000000-0000-4000-8000-000000000001");
  e.stream = "customer-1";
  e.type = "customer.registered";
  e.schema = 1;
  e.actor = "system";
  e.occurred_at = Timestamp(1767225600000000);  // 2026-01-01T00:00:00Z
  e.data = "{}";
  e.position = Position(0);
  e.version = StreamVersion(0);
  e.recorded_at = Timestamp(1767225600000001);  // 2026-01-01T00:00:00.000001Z
  return e;
}

// Every field set: non-ASCII UTF-8 in data, an occurred_at before 1970,
// position and version above 2^32 with distinct bytes (a byte-order mistake
// shows), and a sealed personal section holding arbitrary bytes.
Event FullGoldenEvent() {
  Event e;
  e.id = Id("7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44");
  e.stream = "customer-42";
  e.type = "interaction.logged";
  e.schema = 3;
  e.actor = "system:crm-sync";
  e.occurred_at = Timestamp(-14182939500000);  // 1969-07-20T20:17:40.500000Z
  e.source = "crm";
  e.correlation_id = "corr-2026-03-01/7";
  e.causation_id = "0b8e2c1d-5f3a-4e6b-8c9d-1a2b3c4d5e6f";
  e.data =
      "{\"channel\":\"call\",\"direction\":\"outbound\","
      "\"summary\":\"Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln \xe2\x80\x94 \xe6\x9d\xb1\xe4\xba\xac \xe2\x9c\x93 "
      "\xf0\x9f\x9a\x80\",\"amount\":1234.5}";
  e.personal.scheme = PersonalSection::Scheme::kAes256Gcm;
  e.personal.subject = "customer-42";
  e.personal.nonce = std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b", 12);
  e.personal.ciphertext = std::string("\x00\xff\x10\x80sealed\x01\x02", 12);
  e.position = Position(0x00000123456789ABULL);         // 1250999896491
  e.version = StreamVersion(0x0000000100000002ULL);     // 4294967298
  e.recorded_at = Timestamp(1772360100123456);          // 2026-03-01T10:15:00.123456Z
  return e;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  INFO(path);
  REQUIRE(in.good());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string Golden(const char* name) { return ReadFile(std::string(CUSTODIAN_GOLDEN_DIR) + "/" + name); }

TEST_CASE("Regenerates the golden record files into $CUSTODIAN_GOLDEN_OUT", "[.][generate-golden]") {
  const char* dir = std::getenv("CUSTODIAN_GOLDEN_OUT");
  INFO("set CUSTODIAN_GOLDEN_OUT to a directory; never overwrite tests/golden");
  REQUIRE(dir != nullptr);
  Event v2 = FullGoldenEvent();
  v2.recorded_by = "tok-0123456789abcdef";
  for (const auto& [name, event] : {std::pair{kMinimalFile, MinimalGoldenEvent()},
                                    std::pair{kFullFile, FullGoldenEvent()}, std::pair{kFullV2File, v2}}) {
    std::ofstream out(std::string(dir) + "/" + name, std::ios::binary | std::ios::trunc);
    std::string bytes = EncodeRecord(event);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
  }
}

TEST_CASE("The minimal golden version-1 record decodes to its values", "[record][golden]") {
  Event e;
  e.stream = "overwritten";
  e.source = "overwritten";
  REQUIRE(DecodeRecord(Golden(kMinimalFile), &e).ok());
  CHECK(e.id.ToString() == "00000000-0000-4000-8000-000000000001");
  CHECK(e.stream == "customer-1");
  CHECK(e.type == "customer.registered");
  CHECK(e.schema == 1);
  CHECK(e.actor == "system");
  CHECK(FormatRfc3339(e.occurred_at) == "2026-01-01T00:00:00Z");
  CHECK(e.source == "");
  CHECK(e.correlation_id == "");
  CHECK(e.causation_id == "");
  CHECK(e.data == "{}");
  CHECK(e.personal.scheme == PersonalSection::Scheme::kNone);
  CHECK(e.personal.subject == "");
  CHECK(e.personal.nonce == "");
  CHECK(e.personal.ciphertext == "");
  CHECK(e.position.value() == 0);
  CHECK(e.version.value() == 0);
  CHECK(FormatRfc3339(e.recorded_at) == "2026-01-01T00:00:00.000001Z");
  CHECK(e == MinimalGoldenEvent());
}

TEST_CASE("The full golden version-1 record decodes to its values", "[record][golden]") {
  Event e;
  REQUIRE(DecodeRecord(Golden(kFullFile), &e).ok());
  CHECK(e.id.ToString() == "7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44");
  CHECK(e.stream == "customer-42");
  CHECK(e.type == "interaction.logged");
  CHECK(e.schema == 3);
  CHECK(e.actor == "system:crm-sync");
  CHECK(e.occurred_at.value() == -14182939500000);
  CHECK(FormatRfc3339(e.occurred_at) == "1969-07-20T20:17:40.500000Z");
  CHECK(e.source == "crm");
  CHECK(e.correlation_id == "corr-2026-03-01/7");
  CHECK(e.causation_id == "0b8e2c1d-5f3a-4e6b-8c9d-1a2b3c4d5e6f");
  CHECK(e.data ==
        "{\"channel\":\"call\",\"direction\":\"outbound\",\"summary\":\"Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln "
        "\xe2\x80\x94 \xe6\x9d\xb1\xe4\xba\xac \xe2\x9c\x93 \xf0\x9f\x9a\x80\",\"amount\":1234.5}");
  CHECK(e.personal.scheme == PersonalSection::Scheme::kAes256Gcm);
  CHECK(e.personal.subject == "customer-42");
  CHECK(e.personal.nonce == std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b", 12));
  CHECK(e.personal.ciphertext == std::string("\x00\xff\x10\x80sealed\x01\x02", 12));
  CHECK(e.position.value() == 1250999896491ULL);
  CHECK(e.version.value() == 4294967298ULL);
  CHECK(e.recorded_at.value() == 1772360100123456);
  CHECK(FormatRfc3339(e.recorded_at) == "2026-03-01T10:15:00.123456Z");
  CHECK(e == FullGoldenEvent());
}

TEST_CASE("EncodeRecord reproduces the golden version-1 records byte for byte", "[record][golden]") {
  STATIC_REQUIRE(kRecordVersion == 2);  // version 2 only for an event with a recorded_by
  CHECK(EncodeRecord(MinimalGoldenEvent()) == Golden(kMinimalFile));
  CHECK(EncodeRecord(FullGoldenEvent()) == Golden(kFullFile));
}

TEST_CASE("A record starts with the little-endian flag, the class version and the position",
          "[record][golden]") {
  // docs/event-format.md, "Record": 01 | u32 LE version | u64 LE position | ...
  const std::string full = Golden(kFullFile);
  REQUIRE(full.size() > 13);
  CHECK(full.substr(0, 13) == std::string("\x01\x01\x00\x00\x00\xab\x89\x67\x45\x23\x01\x00\x00", 13));
  // The minimal record: 138 bytes of fixed fields plus its strings.
  const std::string minimal = Golden(kMinimalFile);
  CHECK(minimal.size() == 138 + std::string("customer-1customer.registeredsystem{}").size());
}

TEST_CASE("Encoding then decoding gives back the same event", "[record]") {
  Event e = FullGoldenEvent();
  e.data = std::string(100000, 'x');
  e.data.front() = '{';
  e.position = Position(UINT64_MAX);
  e.version = StreamVersion(UINT64_MAX - 1);
  e.occurred_at = Timestamp(INT64_MIN);
  e.recorded_at = Timestamp(INT64_MAX);
  e.schema = UINT32_MAX;
  Event back;
  REQUIRE(DecodeRecord(EncodeRecord(e), &back).ok());
  CHECK(back == e);
}

// docs/event-format.md, "Record version 2": version 1's fields, then
// recorded_by, the token that appended the event over the API.
TEST_CASE("An event with a recorded_by is written as version 2 and reads back", "[record]") {
  // tests/golden/record-v2-full.bin was made from record-v1-full.bin by hand
  // (class version 2, then recorded_by as cereal writes a string), not by EncodeRecord.
  Event e = FullGoldenEvent();
  e.recorded_by = "tok-0123456789abcdef";
  const std::string bytes = Golden(kFullV2File);
  CHECK(EncodeRecord(e) == bytes);
  CHECK(bytes.substr(1, 4) == std::string("\x02\x00\x00\x00", 4));
  const std::string v1 = Golden(kFullFile);
  CHECK(bytes.substr(5, v1.size() - 5) == v1.substr(5));
  Event back;
  REQUIRE(DecodeRecord(bytes, &back).ok());
  CHECK(back == e);
  Position p;
  StreamVersion v;
  std::string_view stream;
  REQUIRE(PeekRecordStream(bytes, &p, &v, &stream));
  CHECK(stream == e.stream);
  CHECK(p == e.position);
  // Decoding into an event that held one clears it for a version-1 record.
  REQUIRE(DecodeRecord(v1, &back).ok());
  CHECK(back.recorded_by.empty());
  CHECK(back == FullGoldenEvent());
}

TEST_CASE("A version-2 record without its recorded_by, or with an empty one, is corruption", "[record][corruption]") {
  std::string bytes = Golden(kFullFile);
  bytes[1] = 2;  // a version-1 body labelled version 2: recorded_by is missing
  Event e;
  CHECK(DecodeRecord(bytes, &e).code() == StatusCode::kCorruption);
  bytes += std::string(8, '\0');  // present, but empty: never written
  Status s = DecodeRecord(bytes, &e);
  CHECK(s.code() == StatusCode::kCorruption);
  CHECK_THAT(s.message(), Catch::Contains("empty recorded_by"));
}

TEST_CASE("Every truncation of a record is reported as corruption", "[record][corruption]") {
  const std::string full = Golden(kFullFile);
  for (size_t n = 0; n < full.size(); ++n) {
    INFO("first " << n << " of " << full.size() << " bytes");
    Event e;
    Status s = DecodeRecord(std::string_view(full).substr(0, n), &e);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK_THAT(s.message(), Catch::Contains("record of " + std::to_string(n) + " bytes does not decode"));
  }
}

TEST_CASE("A record with trailing bytes is reported as corruption", "[record][corruption]") {
  for (const char* name : {kMinimalFile, kFullFile}) {
    std::string bytes = Golden(name) + '\0';
    Event e;
    Status s = DecodeRecord(bytes, &e);
    INFO(name << ": " << s.ToString());
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK_THAT(s.message(), Catch::Contains("has trailing bytes"));
  }
}

TEST_CASE("A record written with a newer class version is reported as unsupported", "[record][corruption]") {
  // Byte 0 is cereal's endianness flag; bytes 1-4 the class version, little-endian.
  std::string bytes = Golden(kFullFile);
  REQUIRE(bytes.substr(1, 4) == std::string("\x01\x00\x00\x00", 4));
  for (uint32_t version : {3u, 256u, UINT32_MAX}) {
    INFO(version);
    for (int i = 0; i < 4; ++i) bytes[1 + i] = static_cast<char>(version >> (8 * i));
    Event e;
    Status s = DecodeRecord(bytes, &e);
    CHECK(s.code() == StatusCode::kUnsupported);
    CHECK_THAT(s.message(), Catch::Contains("newer format"));
  }
}

TEST_CASE("A record naming an unknown personal-data scheme is reported as corruption", "[record][corruption]") {
  const Event minimal = MinimalGoldenEvent();
  std::string bytes = Golden(kMinimalFile);
  // The scheme byte follows data, which is the last field before it: find it
  // as the byte after the 8-byte length and the 2 bytes of "{}".
  const size_t scheme_at = bytes.find(std::string("\x02\0\0\0\0\0\0\0{}", 10)) + 10;
  REQUIRE(scheme_at < bytes.size());
  REQUIRE(bytes[scheme_at] == 0);
  bytes[scheme_at] = 2;
  Event e;
  Status s = DecodeRecord(bytes, &e);
  CHECK(s.code() == StatusCode::kCorruption);
  CHECK_THAT(s.message(), Catch::Contains("unknown personal scheme"));
  bytes[scheme_at] = 1;
  CHECK(DecodeRecord(bytes, &e).ok());
  CHECK(e.personal.scheme == PersonalSection::Scheme::kAes256Gcm);
  CHECK(e.stream == minimal.stream);
}

TEST_CASE("A string length beyond the end of the record is reported as corruption", "[record][corruption]") {
  // The stream's length follows flag (1), version (4), position, version,
  // recorded_at (24) and id (16): at byte 45.
  constexpr size_t kStreamLengthAt = 45;
  std::string bytes = Golden(kMinimalFile);
  REQUIRE(bytes.substr(kStreamLengthAt, 8) == std::string("\x0a\0\0\0\0\0\0\0", 8));  // "customer-1"
  for (uint64_t length : {uint64_t{1000}, uint64_t{1} << 32, uint64_t{1} << 40, UINT64_MAX}) {
    INFO(length);
    for (int i = 0; i < 8; ++i) bytes[kStreamLengthAt + i] = static_cast<char>(length >> (8 * i));
    Event e;
    Status s = DecodeRecord(bytes, &e);
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK_THAT(s.message(), Catch::Contains("a string length of " + std::to_string(length) +
                                            " bytes runs past the record's end"));
  }
}

TEST_CASE("An empty record is reported as corruption", "[record][corruption]") {
  Event e;
  Status s = DecodeRecord("", &e);
  CHECK(s.code() == StatusCode::kCorruption);
  CHECK_THAT(s.message(), Catch::Contains("record of 0 bytes"));
}

TEST_CASE("Setting the log fields of an encoded record equals encoding them in the first place", "[record]") {
  Event e;
  e.id = *EventId::Parse("7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44");
  e.stream = "customer-42";
  e.type = "note.added";
  e.actor = "staff-7";
  e.occurred_at = Timestamp(1772360100000000);
  e.data = R"({"text":"x"})";
  std::string early = EncodeRecord(e);
  e.position = Position(0x0102030405060708ULL);
  e.version = StreamVersion(77);
  e.recorded_at = Timestamp(-5);
  SetRecordLogFields(&early, e.position, e.version, e.recorded_at);
  CHECK(early == EncodeRecord(e));
  Event back;
  REQUIRE(DecodeRecord(early, &back).ok());
  CHECK(back == e);
}

}  // namespace
}  // namespace custodian
