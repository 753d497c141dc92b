#include "core/canonical.h"

#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "core/time.h"

// Pins the worked example of docs/event-format.md ("Canonical bytes"). If one
// of these values changes, every leaf hash of every store changed: that needs
// a new kCanonicalFormat, not an edit here.

namespace custodian {
namespace {

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kHex[static_cast<unsigned char>(c) >> 4]);
    out.push_back(kHex[static_cast<unsigned char>(c) & 0xf]);
  }
  return out;
}

// The event of the worked example.
Event ExampleEvent() {
  Event e;
  e.id = *EventId::Parse("7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44");
  e.stream = "customer-42";
  e.type = "interaction.logged";
  e.schema = 1;
  e.actor = "staff-7";
  e.occurred_at = *ParseRfc3339("2026-03-01T10:15:00Z");
  e.source = "crm";
  e.data = R"({"channel":"call","direction":"outbound"})";
  e.position = Position(41);
  e.version = StreamVersion(2);
  e.recorded_at = *ParseRfc3339("2026-03-01T10:15:02.5Z");
  return e;
}

// The annotated hex of docs/event-format.md, field by field.
const char* const kExampleCanonicalHex[] = {
    "01",                                                                // canonical format 1
    "0000000000000029",                                                  // position 41
    "0000000000000002",                                                  // version 2
    "00064bf3be52d6a0",                                                  // recorded_at
    "7f0c1a9e2b8d4c1e9a573d2f6b1c0e44",                                  // id
    "0000000b" "637573746f6d65722d3432",                                 // stream
    "00000012" "696e746572616374696f6e2e6c6f67676564",                   // type
    "00000001",                                                          // schema 1
    "00000007" "73746166662d37",                                         // actor
    "00064bf3be2cb100",                                                  // occurred_at
    "00000003" "63726d",                                                 // source
    "00000000",                                                          // correlation_id
    "00000000",                                                          // causation_id
    "0980a4fd356c9ae1aaad06d06fc63c8779744b5529ed0f4c6273df3bcf15c394",  // SHA-256(data)
    "dd46c3eebb1884ff3b5258c0a2fc9398e560a29e0780d4b53869b6254aa46a96",  // PersonalHash
};
constexpr size_t kLogFieldsHexChars = 2 * (1 + 8 + 8 + 8);
constexpr char kExampleDataHash[] = "0980a4fd356c9ae1aaad06d06fc63c8779744b5529ed0f4c6273df3bcf15c394";
constexpr char kEmptyPersonalHash[] = "dd46c3eebb1884ff3b5258c0a2fc9398e560a29e0780d4b53869b6254aa46a96";
constexpr char kExampleContentHash[] = "0ab990fd7844009833b1885a3bebf3e413ab0f296616a29a14463ab16eaa9ee8";
constexpr char kExampleLeafHash[] = "c146be23025fabf78245037ad806a345a3ab39632275cd4bd7d698a540cd4f09";

std::string ExampleHex() {
  std::string hex;
  for (const char* part : kExampleCanonicalHex) hex += part;
  return hex;
}

TEST_CASE("The worked example's canonical bytes are exactly those of docs/event-format.md", "[canonical]") {
  const std::string bytes = CanonicalBytes(ExampleEvent());
  CHECK(bytes.size() == 180);
  CHECK(Hex(bytes) == ExampleHex());
}

TEST_CASE("The worked example's canonical content is the canonical bytes without the log fields",
          "[canonical]") {
  const std::string content = CanonicalContent(ExampleEvent());
  CHECK(content.size() == 155);
  CHECK(Hex(content) == ExampleHex().substr(kLogFieldsHexChars));
}

TEST_CASE("The worked example's hashes are those of docs/event-format.md", "[canonical]") {
  const Event e = ExampleEvent();
  CHECK(HexOf(Sha256(e.data)) == kExampleDataHash);
  CHECK(HexOf(PersonalHash(e.personal)) == kEmptyPersonalHash);
  CHECK(HexOf(ContentHash(e)) == kExampleContentHash);
  CHECK(HexOf(LeafHash(e)) == kExampleLeafHash);
}

TEST_CASE("The content hash is SHA-256 of the format byte and the content, the leaf hash of 0x00 and the bytes",
          "[canonical]") {
  const Event e = ExampleEvent();
  CHECK(ContentHash(e) == Sha256(std::string(1, '\x01') + CanonicalContent(e)));
  CHECK(LeafHash(e) == Sha256(std::string(1, '\0') + CanonicalBytes(e)));
  CHECK(kCanonicalFormat == 1);
}

TEST_CASE("The personal hash covers the scheme, subject, nonce and ciphertext with length prefixes",
          "[canonical]") {
  PersonalSection p;
  CHECK(PersonalHash(p) == Sha256(std::string(13, '\0')));
  p.scheme = PersonalSection::Scheme::kAes256Gcm;
  p.subject = "customer-42";
  p.nonce = "nn";
  p.ciphertext = "ccc";
  CHECK(PersonalHash(p) == Sha256(std::string("\x01" "\0\0\0\x0b" "customer-42" "\0\0\0\x02" "nn"
                                              "\0\0\0\x03" "ccc", 1 + 4 + 11 + 4 + 2 + 4 + 3)));
}

TEST_CASE("Log-assigned fields change the leaf hash but not the content hash", "[canonical]") {
  const Event e = ExampleEvent();
  const Hash256 content = ContentHash(e);
  const Hash256 leaf = LeafHash(e);
  for (const std::function<void(Event&)>& change : std::vector<std::function<void(Event&)>>{
           [](Event& x) { x.position = Position(42); }, [](Event& x) { x.version = StreamVersion(3); },
           [](Event& x) { x.recorded_at = Timestamp(x.recorded_at.value() + 1); },
           [](Event& x) { x.recorded_by = "tok-0123456789abcdef"; }}) {
    Event changed = e;
    change(changed);
    CHECK(ContentHash(changed) == content);
    CHECK(CanonicalContent(changed) == CanonicalContent(e));
    CHECK(LeafHash(changed) != leaf);
  }
}

// docs/event-format.md, "Canonical bytes": an event the API appended carries
// the token's id in canonical format 2, between recorded_at and the content.
// The leaf hash was computed apart from this code (Python's hashlib, from the
// documented grammar), and web/tests/verify.test.mjs checks the same value.
TEST_CASE("An event with a recorded_by has canonical format 2 and its documented leaf hash", "[canonical]") {
  Event e = ExampleEvent();
  e.recorded_by = "tok-0123456789abcdef";
  const std::string bytes = CanonicalBytes(e);
  const std::string v1 = ExampleHex();
  CHECK(Hex(bytes) == "02" + v1.substr(2, kLogFieldsHexChars - 2) + "00000014" + Hex("tok-0123456789abcdef") +
                          v1.substr(kLogFieldsHexChars));
  CHECK(HexOf(LeafHash(e)) == "349e7998a0e60d4c0878a5a02e0ce50bb3c82fe8e5476a84e8c7dbdb968ca0f3");
  CHECK(LeafHash(e) == Sha256(std::string(1, '\0') + bytes));
  CHECK(LeafHashOfContent(e.position, e.version, e.recorded_at, e.recorded_by, CanonicalContent(e)) == LeafHash(e));
  // Who handed it in is not what it is: the same event from another token is a retry.
  CHECK(HexOf(ContentHash(e)) == kExampleContentHash);
  Event other = e;
  other.recorded_by = "tok-fedcba9876543210";
  CHECK(LeafHash(other) != LeafHash(e));
}

TEST_CASE("Every producer field changes the content hash", "[canonical]") {
  const Event e = ExampleEvent();
  const Hash256 content = ContentHash(e);
  const std::vector<std::pair<const char*, std::function<void(Event&)>>> changes = {
      {"id", [](Event& x) { x.id = *EventId::Parse("7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e45"); }},
      {"stream", [](Event& x) { x.stream = "customer-43"; }},
      {"type", [](Event& x) { x.type = "interaction.logges"; }},
      {"schema", [](Event& x) { x.schema = 2; }},
      {"actor", [](Event& x) { x.actor = "staff-8"; }},
      {"occurred_at", [](Event& x) { x.occurred_at = Timestamp(x.occurred_at.value() + 1); }},
      {"source", [](Event& x) { x.source = "crn"; }},
      {"correlation_id", [](Event& x) { x.correlation_id = "c"; }},
      {"causation_id", [](Event& x) { x.causation_id = "c"; }},
      {"data", [](Event& x) { x.data = R"({"channel":"call","direction":"inbound"})"; }},
      {"personal.scheme", [](Event& x) { x.personal.scheme = PersonalSection::Scheme::kAes256Gcm; }},
      {"personal.subject", [](Event& x) { x.personal.subject = "customer-42"; }},
      {"personal.nonce", [](Event& x) { x.personal.nonce = "n"; }},
      {"personal.ciphertext", [](Event& x) { x.personal.ciphertext = "c"; }},
  };
  for (const auto& [name, change] : changes) {
    INFO(name);
    Event changed = e;
    change(changed);
    CHECK(ContentHash(changed) != content);
    CHECK(LeafHash(changed) != LeafHash(e));
  }
}

TEST_CASE("Length prefixes keep moved boundaries between strings apart", "[canonical]") {
  Event a = ExampleEvent();
  Event b = ExampleEvent();
  a.correlation_id = "ab";
  a.causation_id = "c";
  b.correlation_id = "a";
  b.causation_id = "bc";
  CHECK(CanonicalContent(a) != CanonicalContent(b));
  CHECK(ContentHash(a) != ContentHash(b));
}

TEST_CASE("A time before 1970 is written as a two's-complement big-endian integer", "[canonical]") {
  Event e = ExampleEvent();
  e.occurred_at = Timestamp(-1);
  e.recorded_at = Timestamp(-14182939500000);  // 1969-07-20T20:17:40.5Z
  const std::string hex = Hex(CanonicalBytes(e));
  CHECK(hex.substr(2 * 17, 16) == "fffff319c6ede220");  // recorded_at
  CHECK(hex.substr(2 * 93, 16) == "ffffffffffffffff");  // occurred_at
}

}  // namespace
}  // namespace custodian
