#include "core/validation.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/personal.h"
#include "core/time.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

using testing::MakeEvent;

// MakeEvent's occurred_at: 2026-03-01T10:15:00Z.
const Timestamp kNow(1772360100LL * kMicrosPerSecond);

// Checks that `s` is InvalidArgument and that its message names `field`.
void CheckFieldError(const Status& s, const std::string& field, const std::string& detail = "") {
  INFO(s.ToString());
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::StartsWith("field '" + field + "'"));
  if (!detail.empty()) CHECK_THAT(s.message(), Catch::Contains(detail));
}

TEST_CASE("A well-formed event passes validation", "[validation]") {
  Event e = MakeEvent("customer-42");
  CHECK(ValidateEvent(e, kNow).ok());
}

TEST_CASE("A nil event id is rejected and the message names the field", "[validation]") {
  Event e = MakeEvent("customer-42");
  e.id = EventId();
  CheckFieldError(ValidateEvent(e, kNow), "id", "nil UUID");
}

TEST_CASE("Well-formed stream names are accepted, including the reserved alerts and system", "[validation]") {
  for (const char* stream : {"customer-42", "staff-7", "access-staff-7", "customer-ABC.def_1-2", "my_category-x",
                             "c1-0", "alerts", "system"}) {
    INFO(stream);
    CHECK(ValidateStreamName(stream).ok());
  }
  // Whole events: MakeEvent picks a catalogue type that belongs on the stream.
  for (const char* stream : {"customer-42", "staff-7", "access-staff-7", "customer-ABC.def_1-2", "alerts", "system"}) {
    INFO(stream);
    CHECK(ValidateEvent(MakeEvent(stream), kNow).ok());
  }
  // A well-formed name of a category no catalogue type belongs on passes the
  // grammar but not the catalogue.
  Status s = ValidateEvent(MakeEvent("my_category-x"), kNow);
  CHECK(s.message() == "type 'note.added' belongs on a customer-<id> stream, not my_category-x");
  CHECK(ValidateStreamName(std::string(kMaxStreamBytes - 2, 'a') + "-1").ok());
}

TEST_CASE("Each malformed stream name is rejected and the message names the field and the problem",
          "[validation]") {
  struct Case {
    std::string stream;
    const char* problem;
  };
  const Case cases[] = {
      {"", "it is empty"},
      {"customer42", "no '-' between category and id"},
      {"Alerts", "no '-' between category and id"},
      {"-42", "the category must be lower-case letters"},
      {"Customer-42", "the category must be lower-case letters"},
      {"1customer-42", "the category must be lower-case letters"},
      {"cust omer-42", "the category must be lower-case letters"},
      {"customer-", "the id must be letters, digits"},
      {"customer--42", "the id must be letters, digits"},
      {"customer-.42", "the id must be letters, digits"},
      {"customer-4 2", "the id must be letters, digits"},
      {"customer-42/x", "the id must be letters, digits"},
      {"customer-\xc3\xa9", "the id must be letters, digits"},
      {std::string(kMaxStreamBytes - 1, 'a') + "-1", "201 bytes, at most 200"},
  };
  for (const Case& c : cases) {
    INFO(c.stream);
    CheckFieldError(ValidateStreamName(c.stream), "stream", c.problem);
    CHECK_THAT(ValidateStreamName(c.stream).message(), Catch::Contains("expected <category>-<id>"));
    Event e = MakeEvent("customer-1");
    e.stream = c.stream;
    CheckFieldError(ValidateEvent(e, kNow), "stream", c.problem);
  }
}

TEST_CASE("A stream name with a control character is shown without it in the message", "[validation]") {
  Status s = ValidateStreamName("customer-4\n2");
  CheckFieldError(s, "stream");
  CHECK(s.message().find('\n') == std::string::npos);
  CHECK_THAT(s.message(), Catch::Contains("\"customer-4\\n2\""));  // shown as \n, as core/text.h shows it
}

TEST_CASE("Well-formed event types are accepted", "[validation]") {
  for (const char* type : {"interaction.logged", "deal.stage_changed", "customer.owner_assigned", "a.b.c",
                           "v2.x1"}) {
    INFO(type);
    CHECK(ValidateEventType(type).ok());
  }
}

TEST_CASE("Each malformed event type is rejected and the message names the field and the problem",
          "[validation]") {
  struct Case {
    std::string type;
    const char* problem;
  };
  const Case cases[] = {
      {"", "it is empty"},
      {"interaction", "no '.' between noun and verb"},
      {"Interaction.logged", "each part must be lower-case letters"},
      {"interaction.Logged", "each part must be lower-case letters"},
      {"interaction..logged", "each part must be lower-case letters"},
      {".logged", "each part must be lower-case letters"},
      {"interaction.", "each part must be lower-case letters"},
      {"interaction.logged-x", "each part must be lower-case letters"},
      {"1interaction.logged", "each part must be lower-case letters"},
      {"interaction logged", "each part must be lower-case letters"},
      {std::string(60, 'a') + "." + std::string(40, 'b'), "101 bytes, at most 100"},
  };
  for (const Case& c : cases) {
    INFO(c.type);
    CheckFieldError(ValidateEventType(c.type), "type", c.problem);
    CHECK_THAT(ValidateEventType(c.type).message(), Catch::Contains("expected <noun>.<verb>"));
    Event e = MakeEvent("customer-1");
    e.type = c.type;
    CheckFieldError(ValidateEvent(e, kNow), "type", c.problem);
  }
  CHECK(ValidateEventType(std::string(59, 'a') + "." + std::string(40, 'b')).ok());
}

TEST_CASE("Well-formed actors are accepted", "[validation]") {
  for (const char* actor : {"staff-7", "staff-A.b_c-9", "system", "system:crm-sync", "system:x"}) {
    INFO(actor);
    CHECK(ValidateActor(actor).ok());
  }
}

TEST_CASE("A missing actor is rejected and the message says it is missing", "[validation]") {
  CheckFieldError(ValidateActor(""), "actor", "is missing");
  Event e = MakeEvent("customer-1");
  e.actor.clear();
  CheckFieldError(ValidateEvent(e, kNow), "actor", "is missing");
}

TEST_CASE("Each malformed actor is rejected and the message names the field", "[validation]") {
  for (const std::string& actor :
       {std::string("staff-"), std::string("staff"), std::string("staff-.7"), std::string("customer-7"),
        std::string("System"), std::string("system:"), std::string("system:-x"), std::string("systemx"),
        std::string("system-crm"), std::string("staff-7 "), std::string("staff-" + std::string(195, '7'))}) {
    INFO(actor);
    CheckFieldError(ValidateActor(actor), "actor", "is not an actor");
    Event e = MakeEvent("customer-1");
    e.actor = actor;
    CheckFieldError(ValidateEvent(e, kNow), "actor", "expected staff-<id>");
  }
  CHECK(ValidateActor("staff-" + std::string(194, '7')).ok());  // exactly 200 bytes
}

TEST_CASE("Schema 0 is rejected and the message names the field", "[validation]") {
  Event e = MakeEvent("customer-1");
  e.schema = 0;
  CheckFieldError(ValidateEvent(e, kNow), "schema", "must be 1 or more, got 0");
  e.schema = 1;
  CHECK(ValidateEvent(e, kNow).ok());
  // Schemas above 1 pass the envelope; the catalogue (v1) knows only schema 1.
  e.schema = UINT32_MAX;
  CHECK(ValidateEvent(e, kNow).message() ==
        "type 'note.added' has no schema 4294967295 in the event catalogue (v1); known schemas: 1");
}

TEST_CASE("occurred_at up to 5 minutes after now is accepted and later is rejected", "[validation]") {
  constexpr int64_t kMinute = 60 * kMicrosPerSecond;
  Event e = MakeEvent("customer-1");
  e.occurred_at = Timestamp(kNow.value() + 4 * kMinute);
  CHECK(ValidateEvent(e, kNow).ok());
  e.occurred_at = Timestamp(kNow.value() + 5 * kMinute);
  CHECK(ValidateEvent(e, kNow).ok());
  e.occurred_at = Timestamp(kNow.value() + 5 * kMinute + 1);
  CheckFieldError(ValidateEvent(e, kNow), "occurred_at", "is more than 5 minutes after now");
  e.occurred_at = Timestamp(kNow.value() + 6 * kMinute);
  Status s = ValidateEvent(e, kNow);
  CheckFieldError(s, "occurred_at", "2026-03-01T10:21:00Z");
  CHECK_THAT(s.message(), Catch::Contains("(2026-03-01T10:15:00Z)"));
  // The past has no limit: events before 1970 are allowed.
  e.occurred_at = Timestamp(-14182940LL * kMicrosPerSecond);
  CHECK(ValidateEvent(e, kNow).ok());
}

TEST_CASE("Optional fields that are too long, hold control characters or are not UTF-8 are rejected",
          "[validation]") {
  for (const char* field : {"source", "correlation_id", "causation_id"}) {
    INFO(field);
    auto with = [&](const std::string& value) {
      Event e = MakeEvent("customer-1");
      std::string* target = std::string(field) == "source"           ? &e.source
                            : std::string(field) == "correlation_id" ? &e.correlation_id
                                                                     : &e.causation_id;
      *target = value;
      return ValidateEvent(e, kNow);
    };
    CHECK(with("").ok());
    CHECK(with(std::string(kMaxOptionalFieldBytes, 'x')).ok());
    CHECK(with("Köln \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x9a\x80").ok());
    CHECK(with("tab\x7f").ok());  // DEL is not a C0 control character
    CheckFieldError(with(std::string(kMaxOptionalFieldBytes + 1, 'x')), field, "is 201 bytes; at most 200");
    CheckFieldError(with("crm\n"), field, "contains a control character");
    CheckFieldError(with(std::string("a\0b", 3)), field, "contains a control character");
    CheckFieldError(with("a\tb"), field, "contains a control character");
    CheckFieldError(with("caf\xe9"), field, "is not valid UTF-8");
    CheckFieldError(with("\xc0\xaf"), field, "is not valid UTF-8");
  }
}

TEST_CASE("Data over 1 MiB is rejected and data of exactly 1 MiB is accepted", "[validation]") {
  // A note with an extension field "x" whose string fills the object to
  // exactly kMaxDataBytes.
  const std::string prefix = R"({"text":"long","x":")", suffix = R"("})";
  std::string data = prefix + std::string(kMaxDataBytes - prefix.size() - suffix.size(), 'a') + suffix;
  REQUIRE(data.size() == kMaxDataBytes);
  Event e = MakeEvent("customer-1");
  e.data = data;
  CHECK(ValidateEvent(e, kNow).ok());

  e.data = prefix + std::string(kMaxDataBytes + 1 - prefix.size() - suffix.size(), 'a') + suffix;
  REQUIRE(e.data.size() == kMaxDataBytes + 1);
  CheckFieldError(ValidateEvent(e, kNow), "data", "is 1048577 bytes; at most 1048576 (1 MiB)");
}

TEST_CASE("Data that is not a JSON object is rejected and the message names the field", "[validation]") {
  for (const char* data : {"[]", "\"text\"", "42", "null", "true"}) {
    INFO(data);
    Event e = MakeEvent("customer-1");
    e.data = data;
    CheckFieldError(ValidateEvent(e, kNow), "data", "expected a JSON object");
  }
  for (const char* data : {"", "{", "{\"a\":}", "{} {}", "{\"a\":1,}"}) {
    INFO(data);
    Event e = MakeEvent("customer-1");
    e.data = data;
    CheckFieldError(ValidateEvent(e, kNow), "data", "invalid JSON at byte");
  }
  Event e = MakeEvent("customer-1");
  e.data = "{\"a\":\"caf\xe9\"}";
  CheckFieldError(ValidateEvent(e, kNow), "data", "is not valid UTF-8");
  e.data = R"({"text":"x","nested":{"list":[1,2.5,"x",null,true]}})";
  CHECK(ValidateEvent(e, kNow).ok());
}

TEST_CASE("A personal part that arrives sealed is refused: only the log seals", "[validation]") {
  Event e = MakeEvent("customer-1");
  e.personal.scheme = PersonalSection::Scheme::kAes256Gcm;
  e.personal.subject = "customer-1";
  e.personal.nonce = std::string(12, '\1');
  e.personal.ciphertext = "sealed";
  CheckFieldError(ValidateEvent(e, kNow), "personal", "is sealed already");
}

TEST_CASE("A plain personal part is checked field by field, and its subject must follow from the event",
          "[validation][personal]") {
  Event e = MakeEvent("customer-1", "contact.added", R"({"contact_id":"c-1","role":"buyer"})");
  e.personal_plain = R"({"name":"Ada Lovelace","email":"ada@example.org","mobile":"+44 20 7946 0000"})";
  CHECK(ValidateEvent(e, kNow).ok());
  e.personal_plain = R"({"name":"Ada","fax":"+44 20 7946 0001"})";
  CheckFieldError(ValidateEvent(e, kNow), "personal.fax", "is not a personal field of contact.added");
  e.personal_plain = R"({"name":""})";
  CheckFieldError(ValidateEvent(e, kNow), "personal.name");
  e.personal_plain = R"({"name":7})";
  CheckFieldError(ValidateEvent(e, kNow), "personal.name");
  e.personal_plain = R"({"name":"Ada\nLovelace"})";
  CheckFieldError(ValidateEvent(e, kNow), "personal.name");
  // A type that carries no personal data.
  Event deal = MakeEvent("customer-1", "deal.opened", R"({"deal_id":"d-1","title":"fleet"})");
  deal.personal_plain = R"({"notes":"x"})";
  CheckFieldError(ValidateEvent(deal, kNow), "personal.notes", "deal.opened; it carries no personal data");
}

TEST_CASE("A personal part of plain strings and the same part written with escapes are checked alike",
          "[validation][personal]") {
  // Plain strings are read in place; anything with an escape, a number or
  // a nested value goes through the JSON parser. Both must agree.
  struct Case {
    const char* plain;
    const char* escaped;  // the same values, written with escapes
  };
  const Case same[] = {
      {R"({"name":"Ada Lovelace","email":"ada@example.org"})", R"({"name":"Ada\u0020Lovelace","email":"ada@example.org"})"},
      {R"( { "name" : "Ada" , "phone" : "+44 1" } )", R"({"name":"\u0041da","phone":"+44 1"})"},
      {R"({"notes":"Prefers calls after four"})", R"({"notes":"Prefers calls after fou\u0072"})"},
  };
  for (const Case& c : same) {
    std::vector<BlindValue> plain_found, escaped_found;
    Result<std::string> plain = CheckPersonalPart("contact.added", c.plain, &plain_found);
    Result<std::string> escaped = CheckPersonalPart("contact.added", c.escaped, &escaped_found);
    INFO(c.plain);
    REQUIRE(plain.ok());
    REQUIRE(escaped.ok());
    CHECK(*plain == *escaped);  // the compact form, as sealed
    REQUIRE(plain_found.size() == escaped_found.size());
    for (size_t i = 0; i < plain_found.size(); ++i) {
      CHECK(plain_found[i].kind == escaped_found[i].kind);
      CHECK(plain_found[i].value == escaped_found[i].value);
    }
  }
  CHECK(CheckPersonalPart("contact.added", R"({"name":"Ada"})", nullptr).ok());
  CHECK(CheckPersonalPart("contact.added", "{}", nullptr).ok());
  // Refused on either path: a control character (C0 by escape, C1 and DEL
  // as they are), an empty value, a value not a string, an unknown field.
  for (const char* bad : {R"({"name":"Ada\u0007"})", "{\"name\":\"Ada\xc2\x85\"}", "{\"name\":\"Ada\x7f\"}",
                          R"({"name":""})", R"({"name":"\u0041da","email":""})", R"({"name":["Ada"]})",
                          R"({"name":{"first":"Ada"}})", R"({"name":null})", R"({"nick":"Ada"})",
                          R"({"nick":"\u0041da"})", R"({"name":"Ada","name":"Bea"})", R"(["Ada"])", R"("Ada")"}) {
    INFO(bad);
    Result<std::string> checked = CheckPersonalPart("contact.added", bad, nullptr);
    CHECK(checked.status().code() == StatusCode::kInvalidArgument);
    CHECK(checked.status().message().find("field 'personal") != std::string::npos);
  }
  CHECK(CheckPersonalPart("contact.added", R"({"name":5})", nullptr).status().message().find("got a number") !=
        std::string::npos);
  CHECK(CheckPersonalPart("contact.added", R"({"nick":"x","name":5})", nullptr).status().message().find(
            "is not a personal field") != std::string::npos);
}

TEST_CASE("The sealer's subject read in place is the parser's subject for every shape of data",
          "[validation][personal]") {
  // PersonalSubjectOfChecked reads contact_id without a parse when the text
  // leaves no doubt; whatever the data, it must name the same person as
  // PersonalSubject (a part sealed for another subject would not be erased
  // with its person).
  const char* datas[] = {
      R"({"contact_id":"c-1","role":"buyer"})",
      R"({ "role" : "buyer" , "contact_id" : "c-1" })",
      R"({"role":"buyer"})",
      R"({"role":"buyer","about":{"contact_id":"c-9"}})",             // nested only
      R"({"role":"buyer","tags":[{"contact_id":"c-9"}]})",            // in an array only
      R"({"role":"contact_id"})",                                     // the name as a value
      R"({"role":"contact_id","contact_id":"c-1"})",                  // as a value and as the key
      R"({"contact_id":"c-1","contact_id":"c-2"})",                   // twice
      R"({"about":{"contact_id":"c-9"},"contact_id":"c-1"})",         // nested and top level
      R"({"contact\u005fid":"c-1"})",                                 // an escaped key
      R"({"contact_id":"c\u002d1"})",                                 // an escaped value
      R"({"contact_id":"c-1","summary":"said \"hello\""})",           // an escape elsewhere
      R"({"contact_id":7})",                                          // not a string
      R"({"contact_id":null})",
      R"({"contact_id":{"id":"c-1"}})",
      R"({"contact_id":""})",
  };
  for (const char* data : datas) {
    INFO(data);
    Event e = MakeEvent("customer-1", "interaction.logged", data);
    Result<std::string> parsed = PersonalSubject(e);
    Result<std::string> in_place = PersonalSubjectOfChecked(e);
    REQUIRE(parsed.ok());
    REQUIRE(in_place.ok());
    CHECK(*in_place == *parsed);
  }
  Event e = MakeEvent("customer-1", "interaction.logged", R"({"contact_id":"c-1"})");
  CHECK(*PersonalSubjectOfChecked(e) == "customer-1/contact-c-1");
  e.data = R"({"about":{"contact_id":"c-9"}})";
  CHECK(*PersonalSubjectOfChecked(e) == "customer-1");
  // The same refusals: a type without personal data, a stream not a customer's.
  Event deal = MakeEvent("customer-1", "deal.opened", R"({"deal_id":"d-1"})");
  CHECK(PersonalSubjectOfChecked(deal).status().code() == StatusCode::kInvalidArgument);
  Event staff = MakeEvent("staff-1", "interaction.logged", R"({"contact_id":"c-1"})");
  CHECK(PersonalSubjectOfChecked(staff).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("Validation reports the first bad field in envelope order", "[validation]") {
  Event e = MakeEvent("Bad Stream");
  e.type = "BadType";
  e.actor = "";
  CheckFieldError(ValidateEvent(e, kNow), "stream");
  e.stream = "customer-1";
  CheckFieldError(ValidateEvent(e, kNow), "type");
  e.type = "note.added";
  CheckFieldError(ValidateEvent(e, kNow), "actor");
}

TEST_CASE("IsValidUtf8 accepts well-formed UTF-8 of every length", "[validation][utf8]") {
  CHECK(IsValidUtf8(""));
  CHECK(IsValidUtf8("plain ASCII"));
  CHECK(IsValidUtf8(std::string("\0", 1)));
  CHECK(IsValidUtf8("\xc2\x80"));              // U+0080, smallest 2-byte
  CHECK(IsValidUtf8("\xdf\xbf"));              // U+07FF
  CHECK(IsValidUtf8("\xe0\xa0\x80"));          // U+0800, smallest 3-byte
  CHECK(IsValidUtf8("\xed\x9f\xbf"));          // U+D7FF, just below the surrogates
  CHECK(IsValidUtf8("\xee\x80\x80"));          // U+E000, just above the surrogates
  CHECK(IsValidUtf8("\xef\xbf\xbf"));          // U+FFFF
  CHECK(IsValidUtf8("\xf0\x90\x80\x80"));      // U+10000, smallest 4-byte
  CHECK(IsValidUtf8("\xf4\x8f\xbf\xbf"));      // U+10FFFF, the largest code point
  CHECK(IsValidUtf8("Gr\xc3\xbc\xc3\x9f" "e \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x9a\x80"));
}

TEST_CASE("IsValidUtf8 finds a bad byte at any offset of a long ASCII run", "[validation][utf8]") {
  // ASCII is checked eight bytes at a time: a bad byte must be found at every
  // position of a word and in the tail after the last whole word.
  for (size_t at = 0; at < 27; ++at) {
    std::string s(27, 'a');
    s[at] = '\xff';
    INFO("bad byte at offset " << at);
    CHECK_FALSE(IsValidUtf8(s));
    s[at] = '\xc3';  // a lead byte whose continuation is missing or plain ASCII
    CHECK_FALSE(IsValidUtf8(s));
    if (at + 1 < s.size()) {
      s[at + 1] = '\xa9';  // U+00E9, well formed
      CHECK(IsValidUtf8(s));
    }
  }
}

TEST_CASE("IsValidUtf8 rejects overlong encodings", "[validation][utf8]") {
  CHECK_FALSE(IsValidUtf8("\xc0\x80"));          // U+0000 in 2 bytes
  CHECK_FALSE(IsValidUtf8("\xc1\xbf"));          // U+007F in 2 bytes
  CHECK_FALSE(IsValidUtf8("\xe0\x80\x80"));      // U+0000 in 3 bytes
  CHECK_FALSE(IsValidUtf8("\xe0\x9f\xbf"));      // U+07FF in 3 bytes
  CHECK_FALSE(IsValidUtf8("\xf0\x80\x80\x80"));  // U+0000 in 4 bytes
  CHECK_FALSE(IsValidUtf8("\xf0\x8f\xbf\xbf"));  // U+FFFF in 4 bytes
}

TEST_CASE("IsValidUtf8 rejects UTF-16 surrogates", "[validation][utf8]") {
  CHECK_FALSE(IsValidUtf8("\xed\xa0\x80"));  // U+D800
  CHECK_FALSE(IsValidUtf8("\xed\xbf\xbf"));  // U+DFFF
  CHECK_FALSE(IsValidUtf8("\xed\xa0\xbd\xed\xb8\x80"));  // a CESU-8 surrogate pair
}

TEST_CASE("IsValidUtf8 rejects code points above U+10FFFF and invalid lead bytes", "[validation][utf8]") {
  CHECK_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));          // U+110000
  CHECK_FALSE(IsValidUtf8("\xf7\xbf\xbf\xbf"));          // U+1FFFFF
  CHECK_FALSE(IsValidUtf8("\xf8\x88\x80\x80\x80"));      // 5-byte form
  CHECK_FALSE(IsValidUtf8("\xfc\x84\x80\x80\x80\x80"));  // 6-byte form
  CHECK_FALSE(IsValidUtf8("\xfe"));
  CHECK_FALSE(IsValidUtf8("\xff"));
  CHECK_FALSE(IsValidUtf8("\x80"));  // a lone continuation byte
  CHECK_FALSE(IsValidUtf8("a\xbf" "b"));
}

TEST_CASE("IsValidUtf8 rejects truncated sequences and bad continuation bytes", "[validation][utf8]") {
  CHECK_FALSE(IsValidUtf8("\xc3"));
  CHECK_FALSE(IsValidUtf8("\xe6\x9d"));
  CHECK_FALSE(IsValidUtf8("\xf0\x9f\x9a"));
  CHECK_FALSE(IsValidUtf8("ok \xf0\x9f"));
  CHECK_FALSE(IsValidUtf8("\xc3("));
  CHECK_FALSE(IsValidUtf8("\xe6\x9d" "a"));
  CHECK_FALSE(IsValidUtf8("\xf0\x9f\x9a" "a"));
  CHECK_FALSE(IsValidUtf8("\xe6\xc3\xbc"));
}

}  // namespace
}  // namespace custodian
