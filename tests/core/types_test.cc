#include "core/types.h"

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <type_traits>

namespace custodian {
namespace {

constexpr char kExampleId[] = "7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44";

TEST_CASE("An EventId parses the 8-4-4-4-12 form into its 16 bytes in order", "[types]") {
  Result<EventId> id = EventId::Parse(kExampleId);
  REQUIRE(id.ok());
  const std::array<uint8_t, 16> expected = {0x7f, 0x0c, 0x1a, 0x9e, 0x2b, 0x8d, 0x4c, 0x1e,
                                            0x9a, 0x57, 0x3d, 0x2f, 0x6b, 0x1c, 0x0e, 0x44};
  CHECK(id->bytes() == expected);
  CHECK(id->AsBytes() == std::string_view("\x7f\x0c\x1a\x9e\x2b\x8d\x4c\x1e\x9a\x57\x3d\x2f\x6b\x1c\x0e\x44", 16));
  CHECK_FALSE(id->IsNil());
}

TEST_CASE("An EventId prints in lower case and parses back to the same id", "[types]") {
  Result<EventId> id = EventId::Parse(kExampleId);
  REQUIRE(id.ok());
  CHECK(id->ToString() == kExampleId);
  Result<EventId> again = EventId::Parse(id->ToString());
  REQUIRE(again.ok());
  CHECK(*again == *id);
}

TEST_CASE("An EventId in upper case parses to the same id and prints in lower case", "[types]") {
  Result<EventId> upper = EventId::Parse("7F0C1A9E-2B8D-4C1E-9A57-3D2F6B1C0E44");
  REQUIRE(upper.ok());
  CHECK(upper->ToString() == kExampleId);
  CHECK(*upper == *EventId::Parse(kExampleId));
}

TEST_CASE("An EventId of all 0xff bytes round trips", "[types]") {
  Result<EventId> id = EventId::Parse("ffffffff-ffff-ffff-ffff-ffffffffffff");
  REQUIRE(id.ok());
  for (uint8_t b : id->bytes()) CHECK(b == 0xff);
  CHECK(id->ToString() == "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

TEST_CASE("The nil UUID is rejected and the message says it is nil", "[types]") {
  Result<EventId> id = EventId::Parse("00000000-0000-0000-0000-000000000000");
  REQUIRE_FALSE(id.ok());
  CHECK(id.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(id.status().message(), Catch::Contains("nil UUID"));
  CHECK(EventId().IsNil());
}

TEST_CASE("Each malformed EventId is rejected with a message naming the problem", "[types]") {
  struct Case {
    const char* text;
    const char* problem;
  };
  const Case cases[] = {
      {"", "length 0, not 36"},
      {"7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e4", "length 35, not 36"},
      {"7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e444", "length 37, not 36"},
      {"7f0c1a9e2b8d4c1e9a573d2f6b1c0e44", "length 32, not 36"},
      {"{7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e}", "non-hex character near offset 0"},
      {"7f0c1a9e_2b8d-4c1e-9a57-3d2f6b1c0e44", "no dash at offset 8"},
      {"7f0c1a9e-2b8d_4c1e-9a57-3d2f6b1c0e44", "no dash at offset 13"},
      {"7f0c1a9e-2b8d-4c1e_9a57-3d2f6b1c0e44", "no dash at offset 18"},
      {"7f0c1a9e-2b8d-4c1e-9a57_3d2f6b1c0e44", "no dash at offset 23"},
      {"7f0c1a9-e2b8d-4c1e-9a57-3d2f6b1c0e44", "non-hex character near offset 6"},
      {"7f0c1a9g-2b8d-4c1e-9a57-3d2f6b1c0e44", "non-hex character near offset 6"},
      {"7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e4z", "non-hex character near offset 34"},
      {" 7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e4", "non-hex character near offset 0"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    Result<EventId> id = EventId::Parse(c.text);
    REQUIRE_FALSE(id.ok());
    CHECK(id.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(id.status().message(), Catch::Contains(c.problem));
    CHECK_THAT(id.status().message(), Catch::Contains("is not a UUID"));
    CHECK_THAT(id.status().message(), Catch::Contains("8-4-4-4-12"));
  }
}

TEST_CASE("A very long EventId text is cut in the message", "[types]") {
  std::string text(1000, 'a');
  Result<EventId> id = EventId::Parse(text);
  REQUIRE_FALSE(id.ok());
  CHECK_THAT(id.status().message(), Catch::Contains("length 1000"));
  CHECK(id.status().message().find(std::string(65, 'a')) == std::string::npos);
}

TEST_CASE("EventIds order by their bytes and hash by their first bytes", "[types]") {
  EventId a = *EventId::Parse("00000000-0000-0000-0000-000000000001");
  EventId b = *EventId::Parse("00000000-0000-0000-0000-000000000002");
  EventId c = *EventId::Parse("01000000-0000-0000-0000-000000000000");
  CHECK(a < b);
  CHECK(b < c);
  CHECK(a != b);
  CHECK(EventIdHash()(a) == EventIdHash()(b));  // the hash uses the first 8 bytes only
  CHECK(EventIdHash()(a) != EventIdHash()(c));
}

TEST_CASE("Named types compare by value and do not mix with each other", "[types]") {
  CHECK(Position(3) < Position(4));
  CHECK(Position(7) == Position(7));
  CHECK(Position(7).value() == 7u);
  CHECK(Timestamp(-5).value() == -5);
  CHECK(Position().value() == 0u);
  STATIC_REQUIRE_FALSE(std::is_convertible_v<Position, StreamVersion>);
  STATIC_REQUIRE_FALSE(std::is_convertible_v<uint64_t, Position>);
  STATIC_REQUIRE_FALSE(std::is_convertible_v<Position, uint64_t>);
  STATIC_REQUIRE_FALSE(std::is_constructible_v<StreamVersion, Position>);
}

}  // namespace
}  // namespace custodian
