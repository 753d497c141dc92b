#include "core/json.h"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/time.h"

namespace custodian {
namespace {

constexpr char kId[] = "7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44";
const Timestamp k20260301T101500Z(1772360100LL * kMicrosPerSecond);

// A JSON event with the required fields, plus `extra` (which starts with a comma).
std::string Minimal(const std::string& extra = "") {
  return std::string(R"({"id":")") + kId +
         R"(","stream":"customer-42","type":"note.added","actor":"staff-7","occurred_at":"2026-03-01T10:15:00Z")" +
         extra + "}";
}

void CheckInvalid(const Result<Event>& r, const std::string& message_part) {
  INFO(r.status().ToString());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(r.status().message(), Catch::Contains(message_part));
}

TEST_CASE("An event with only the required fields parses with defaults for the rest", "[json]") {
  Result<Event> r = ParseEventJson(Minimal());
  REQUIRE(r.ok());
  CHECK(r->id.ToString() == kId);
  CHECK(r->stream == "customer-42");
  CHECK(r->type == "note.added");
  CHECK(r->actor == "staff-7");
  CHECK(r->occurred_at == k20260301T101500Z);
  CHECK(r->schema == 1);
  CHECK(r->data == "{}");
  CHECK(r->source.empty());
  CHECK(r->correlation_id.empty());
  CHECK(r->causation_id.empty());
  CHECK(r->personal.empty());
  CHECK(r->position.value() == 0);
  CHECK(r->version.value() == 0);
  CHECK(r->recorded_at.value() == 0);
}

TEST_CASE("Every field of an event parses into the envelope", "[json]") {
  Result<Event> r = ParseEventJson(
      R"({"id":"7F0C1A9E-2B8D-4C1E-9A57-3D2F6B1C0E44","stream":"customer-42","type":"interaction.logged",)"
      R"("schema":3,"actor":"system:crm-sync","occurred_at":"2026-03-01T12:15:00.5+02:00","source":"crm",)"
      R"("correlation_id":"corr-1","causation_id":"cause-2",)"
      R"("data":{ "channel" : "call", "n" : [1, 2], "x": {"y": null} },"personal":{}})");
  REQUIRE(r.ok());
  CHECK(r->id.ToString() == kId);
  CHECK(r->type == "interaction.logged");
  CHECK(r->schema == 3);
  CHECK(r->actor == "system:crm-sync");
  CHECK(r->occurred_at.value() == k20260301T101500Z.value() + 500000);
  CHECK(r->source == "crm");
  CHECK(r->correlation_id == "corr-1");
  CHECK(r->causation_id == "cause-2");
  // data is kept as compact JSON, in the order it came.
  CHECK(r->data == R"({"channel":"call","n":[1,2],"x":{"y":null}})");
  CHECK(r->personal.empty());
}

TEST_CASE("Each missing required field is refused and the message names it", "[json]") {
  const std::string fields[] = {"id", "stream", "type", "actor", "occurred_at"};
  const std::string values[] = {std::string("\"") + kId + "\"", "\"customer-42\"", "\"note.added\"",
                                "\"staff-7\"", "\"2026-03-01T10:15:00Z\""};
  for (size_t skip = 0; skip < 5; ++skip) {
    std::string text = "{";
    for (size_t i = 0; i < 5; ++i) {
      if (i == skip) continue;
      if (text.size() > 1) text += ",";
      text += "\"" + fields[i] + "\":" + values[i];
    }
    text += "}";
    INFO(text);
    Result<Event> r = ParseEventJson(text);
    CheckInvalid(r, "field '" + fields[skip] + "'");
    CHECK_THAT(r.status().message(), Catch::Contains("is missing"));
  }
}

TEST_CASE("Fields of the wrong JSON type are refused and the message names the field and the type", "[json]") {
  struct Case {
    std::string json;
    std::string message;
  };
  const std::string base = Minimal();
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = base;
    size_t at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  const Case cases[] = {
      {replace(std::string("\"") + kId + "\"", "42"), "field 'id': expected a string, got a number"},
      {replace("\"customer-42\"", "[\"customer-42\"]"), "field 'stream': expected a string, got an array"},
      {replace("\"note.added\"", "null"), "field 'type': expected a string, got null"},
      {replace("\"staff-7\"", "true"), "field 'actor': expected a string, got a boolean"},
      {replace("\"2026-03-01T10:15:00Z\"", "1772360100"), "field 'occurred_at': expected a string, got a number"},
      {Minimal(",\"source\":{}"), "field 'source': expected a string, got an object"},
      {Minimal(",\"correlation_id\":7"), "field 'correlation_id': expected a string, got a number"},
      {Minimal(",\"causation_id\":false"), "field 'causation_id': expected a string, got a boolean"},
      {Minimal(",\"data\":[1]"), "field 'data': expected a JSON object, got an array"},
      {Minimal(",\"data\":\"{}\""), "field 'data': expected a JSON object, got a string"},
      {Minimal(",\"data\":null"), "field 'data': expected a JSON object, got null"},
      {Minimal(",\"personal\":\"x\""), "field 'personal': expected a JSON object, got a string"},
      {Minimal(",\"schema\":\"1\""), "field 'schema': expected a whole number, got a string"},
      {Minimal(",\"schema\":1.5"), "field 'schema': expected a whole number, got a number"},
      {Minimal(",\"schema\":0"), "field 'schema': must be between 1 and 4294967295, got 0"},
      {Minimal(",\"schema\":-1"), "field 'schema': must be between 1 and 4294967295, got -1"},
      {Minimal(",\"schema\":4294967296"), "field 'schema': must be between 1 and 4294967295, got 4294967296"},
      {Minimal(",\"schema\":18446744073709551615"),
       "field 'schema': must be between 1 and 4294967295, got 18446744073709551615"},
  };
  for (const Case& c : cases) {
    INFO(c.json);
    CheckInvalid(ParseEventJson(c.json), c.message);
  }
}

TEST_CASE("The largest schema number is accepted", "[json]") {
  Result<Event> r = ParseEventJson(Minimal(",\"schema\":4294967295"));
  REQUIRE(r.ok());
  CHECK(r->schema == 4294967295u);
}

TEST_CASE("A malformed id or occurred_at is refused and the message names the field", "[json]") {
  std::string text = Minimal();
  text.replace(text.find(kId), 36, "not-a-uuid");
  CheckInvalid(ParseEventJson(text), "field 'id': \"not-a-uuid\" is not a UUID");

  text = Minimal();
  text.replace(text.find(kId), 36, "00000000-0000-0000-0000-000000000000");
  CheckInvalid(ParseEventJson(text), "field 'id': ");
  CheckInvalid(ParseEventJson(text), "nil UUID");

  text = Minimal();
  text.replace(text.find("2026-03-01T10:15:00Z"), 20, "2026-03-01T10:15:00");
  CheckInvalid(ParseEventJson(text), "field 'occurred_at': \"2026-03-01T10:15:00\" is not an RFC 3339 time");
}

TEST_CASE("An unknown field is refused and the message names it and lists the fields", "[json]") {
  Result<Event> r = ParseEventJson(Minimal(",\"colour\":\"red\""));
  CheckInvalid(r, "field 'colour': is not a field of an event");
  CHECK_THAT(r.status().message(), Catch::Contains("id, stream, type, schema, actor"));
  // Names are case-sensitive.
  CheckInvalid(ParseEventJson(Minimal(",\"Source\":\"crm\"")), "field 'Source': is not a field of an event");
}

TEST_CASE("A JSON syntax error is refused and the message gives its byte offset", "[json]") {
  CheckInvalid(ParseEventJson(R"({"id": x})"), "invalid JSON at byte 7");
  CheckInvalid(ParseEventJson(R"({"id" "x"})"), "invalid JSON at byte 6");
  std::string text = Minimal(",");  // a trailing comma before the closing brace
  CheckInvalid(ParseEventJson(text), "invalid JSON at byte " + std::to_string(text.size() - 1));
  CheckInvalid(ParseEventJson(""), "invalid JSON at byte 0");
  text = Minimal();
  text.pop_back();  // cut before the closing brace
  CheckInvalid(ParseEventJson(text), "invalid JSON at byte " + std::to_string(text.size()));
  text = Minimal() + " {}";
  CheckInvalid(ParseEventJson(text), "invalid JSON at byte " + std::to_string(Minimal().size() + 1));
}

TEST_CASE("A JSON document that is not an object is refused", "[json]") {
  CheckInvalid(ParseEventJson("[1,2]"), "an event must be a JSON object, got an array");
  CheckInvalid(ParseEventJson("\"event\""), "an event must be a JSON object, got a string");
  CheckInvalid(ParseEventJson("null"), "an event must be a JSON object, got null");
}

TEST_CASE("Invalid UTF-8 inside a JSON string is refused", "[json]") {
  std::string text = Minimal();
  text.replace(text.find("customer-42"), 11, "customer-\xe9");
  CheckInvalid(ParseEventJson(text), "invalid JSON at byte");
  CheckInvalid(ParseEventJson(Minimal(",\"data\":{\"t\":\"caf\xc3\"}")), "invalid JSON at byte");
  CheckInvalid(ParseEventJson(Minimal(",\"source\":\"\xed\xa0\x80\"")), "invalid JSON at byte");  // a surrogate
}

TEST_CASE("Escaped characters in JSON strings are decoded", "[json]") {
  Result<Event> r = ParseEventJson(Minimal(R"(,"source":"a\"b\\c\u00e9\n\ud83d\ude80")"));
  REQUIRE(r.ok());
  CHECK(r->source == "a\"b\\c\xc3\xa9\n\xf0\x9f\x9a\x80");
}

TEST_CASE("position, version and recorded_at are ignored on input", "[json]") {
  Result<Event> r =
      ParseEventJson(Minimal(R"(,"position":12,"version":"three","recorded_at":"2026-03-01T10:15:05Z")"));
  REQUIRE(r.ok());
  CHECK(r->position.value() == 0);
  CHECK(r->version.value() == 0);
  CHECK(r->recorded_at.value() == 0);
  CHECK(r->stream == "customer-42");
}

// recorded_by is the log's (the token that appended the event): a producer
// cannot set it; a forwarded append and a bundle, which a node wrote, keep it.
TEST_CASE("recorded_by is ignored on input unless kept, and must then be a non-empty string", "[json]") {
  const std::string text = Minimal(R"(,"recorded_by":"tok-0123456789abcdef")");
  Result<Event> ignored = ParseEventJson(text);
  REQUIRE(ignored.ok());
  CHECK(ignored->recorded_by.empty());
  Result<Event> kept = ParseEventJson(text, RecordedBy::kKeep);
  REQUIRE(kept.ok());
  CHECK(kept->recorded_by == "tok-0123456789abcdef");
  for (const char* bad : {R"(,"recorded_by":"")", R"(,"recorded_by":7)", R"(,"recorded_by":null)"}) {
    Result<Event> r = ParseEventJson(Minimal(bad), RecordedBy::kKeep);
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains("recorded_by"));
  }
}

TEST_CASE("Null optional fields and an empty personal object are accepted as absent", "[json]") {
  Result<Event> r =
      ParseEventJson(Minimal(R"(,"source":null,"correlation_id":null,"causation_id":null,"personal":null)"));
  REQUIRE(r.ok());
  CHECK(r->source.empty());
  CHECK(r->correlation_id.empty());
  CHECK(r->causation_id.empty());
  CHECK(r->personal.empty());
}

TEST_CASE("A personal object is kept as the producer's plain part, compact, for the log to seal", "[json]") {
  Result<Event> r = ParseEventJson(Minimal(R"(,"data":{"contact_id":"c-1"},"personal":{ "name" : "Ada Lovelace", "email":"ada@example.org" })"));
  REQUIRE(r.ok());
  CHECK(r->personal_plain == R"({"name":"Ada Lovelace","email":"ada@example.org"})");
  CHECK(r->personal.empty());
  // Printed back as given, so a producer sees what it sent.
  CHECK_THAT(EventToJson(*r, JsonFields::kProducer), Catch::Contains(R"("personal":{"name":"Ada Lovelace","email":"ada@example.org"})"));
  CheckInvalid(ParseEventJson(Minimal(R"(,"personal":["Ada"])")), "field 'personal': expected a JSON object, got an array");
  CheckInvalid(ParseEventJson(Minimal(R"(,"personal":{"name":"A","name":"B"})")), "'personal.name' is given twice");
}

TEST_CASE("A read's sealed marker parses back as a sealed part with no bytes, which the log refuses to append",
          "[json]") {
  Result<Event> r = ParseEventJson(Minimal(R"(,"personal":{"sealed_for":"customer-42/contact-c-1"})"));
  REQUIRE(r.ok());
  CHECK(r->personal.scheme == PersonalSection::Scheme::kAes256Gcm);
  CHECK(r->personal.subject == "customer-42/contact-c-1");
  CHECK(r->personal.ciphertext.empty());
  CHECK(r->personal_plain.empty());
  CHECK_THAT(EventToJson(*r, JsonFields::kProducer), Catch::Contains(R"("personal":{"sealed_for":"customer-42/contact-c-1"})"));
  CheckInvalid(ParseEventJson(Minimal(R"(,"personal":{"sealed_for":7})")), "field 'personal.sealed_for'");
}

TEST_CASE("Numbers in data are kept exactly as written, every digit and its form", "[json]") {
  // The forms a float round trip used to change: a CRM id must never lose a digit.
  for (const std::string number : {"12345678901234567890123", "18446744073709551617", "1.10", "1e-400", "-0",
                                   "1E2", "0.1000000000000000055511151231257827", "-9223372036854775809"}) {
    INFO(number);
    Result<Event> r = ParseEventJson(Minimal(R"(,"data":{"x_crm_id": )" + number + R"(, "n":[ )" + number + " ]}"));
    REQUIRE(r.ok());
    CHECK(r->data == R"({"x_crm_id":)" + number + R"(,"n":[)" + number + "]}");
  }
}

TEST_CASE("Data is stored compact, with strings escaped as Boost.JSON's serializer escapes them", "[json]") {
  // Stores written before data was kept as given hold Boost's serialization:
  // the same input must give the same bytes, so a retry stays idempotent.
  std::mt19937 rng(7);
  const std::vector<std::string> pieces = {"a",  "b",  " ",    "\"",   "\\",   "/",   "\b",          "\f",
                                           "\n", "\r", "\t", "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x80\xae"};
  for (int round = 0; round < 2000; ++round) {
    std::string s;
    for (size_t n = rng() % 12; n > 0; --n) s += pieces[rng() % pieces.size()];
    boost::json::object o;
    o["k"] = s;
    o["a"] = boost::json::array{s, 1, true, nullptr};
    const std::string serialized = boost::json::serialize(o);
    Result<std::string> compact = CompactJson(serialized);
    REQUIRE(compact.ok());
    CHECK(*compact == serialized);
  }
  Result<std::string> spaced = CompactJson(" { \"a\" : [ 1 , { \"b\" : null } ] , \"c\" : \"\\u0041\" } ");
  REQUIRE(spaced.ok());
  CHECK(*spaced == R"({"a":[1,{"b":null}],"c":"A"})");
}

TEST_CASE("A key given twice anywhere in an event is refused and the message names its path", "[json]") {
  CheckInvalid(ParseEventJson(Minimal(R"(,"data":{"text":"a","text":"b"})")),
               "key 'data.text' is given twice; a key may appear once in an object");
  CheckInvalid(ParseEventJson(Minimal(R"(,"data":{"x_meta":{"source":"a","other":1,"source":"b"}})")),
               "key 'data.x_meta.source' is given twice");
  CheckInvalid(ParseEventJson(Minimal(R"(,"data":{"items":[{"id":1},{"id":2,"id":3}]})")),
               "key 'data.items[1].id' is given twice");
  CheckInvalid(ParseEventJson(Minimal(R"(,"stream":"customer-43")")), "key 'stream' is given twice");
  // The same key in sibling objects is fine, and so are escapes that spell another key.
  Result<Event> r = ParseEventJson(Minimal(R"(,"data":{"a":{"k":1},"b":{"k":2},"k\u0031":3,"k":4})"));
  REQUIRE(r.ok());
  CHECK(r->data == R"({"a":{"k":1},"b":{"k":2},"k1":3,"k":4})");
  // An escaped spelling of the same key is the same key.
  CheckInvalid(ParseEventJson(Minimal(R"(,"data":{"text":"a","t\u0065xt":"b"})")), "key 'data.text' is given twice");
}

TEST_CASE("In an object of many keys (looked up, not scanned), a key given twice is still found, at every place",
          "[json]") {
  // Keys k0..k199; then one of them again, early, at the boundary, or late.
  std::string many = "{";
  for (int i = 0; i < 200; ++i) many += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
  for (const int again : {0, 3, 31, 32, 33, 199}) {
    INFO(again);
    const std::string text = many + ",\"k" + std::to_string(again) + "\":0}";
    Result<std::string> r = CompactJson(text);
    CHECK_THAT(r.status().message(), Catch::Contains("key 'k" + std::to_string(again) + "' is given twice"));
  }
  // A repeat among the first keys, then many more: found where it stands.
  Result<std::string> early = CompactJson(R"({"a":1,"b":2,"a":3,"c":4})");
  CHECK_THAT(early.status().message(), Catch::Contains("key 'a' is given twice"));
  Result<std::string> fine = CompactJson(many + "}");
  REQUIRE(fine.ok());
  CHECK(*fine == many + "}");
}

TEST_CASE("JsonMemberText finds a member's text as written, at the top level only", "[json]") {
  const std::string text = R"( { "a" : {"value": 1}, "s":"x\"}value", "value" : 1250.50 , "z":[1,{"value":2}]} )";
  CHECK(JsonMemberText(text, "value") == std::optional<std::string_view>("1250.50"));
  CHECK(JsonMemberText(text, "a") == std::optional<std::string_view>(R"({"value": 1})"));
  CHECK(JsonMemberText(text, "s") == std::optional<std::string_view>(R"("x\"}value")"));
  CHECK(JsonMemberText(text, "z") == std::optional<std::string_view>(R"([1,{"value":2}])"));
  CHECK_FALSE(JsonMemberText(text, "missing").has_value());
  CHECK_FALSE(JsonMemberText("{}", "value").has_value());
}

Event FullEvent() {
  Event e;
  e.id = *EventId::Parse(kId);
  e.stream = "customer-42";
  e.type = "interaction.logged";
  e.schema = 2;
  e.actor = "staff-7";
  e.occurred_at = Timestamp(k20260301T101500Z.value() + 250000);
  e.source = "crm";
  e.correlation_id = "corr-1";
  e.causation_id = "cause-2";
  e.data = R"({"channel":"call","summary":"Grüße","n":[1,2]})";
  e.position = Position(1041);
  e.version = StreamVersion(17);
  e.recorded_at = Timestamp(k20260301T101500Z.value() + 3 * kMicrosPerSecond);
  return e;
}

TEST_CASE("EventToJson prints the producer's fields as one compact line", "[json]") {
  Event e = FullEvent();
  e.data = R"({"channel":"call"})";
  CHECK(EventToJson(e, JsonFields::kProducer) ==
        R"({"id":"7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44","stream":"customer-42","type":"interaction.logged",)"
        R"("schema":2,"actor":"staff-7","occurred_at":"2026-03-01T10:15:00.250000Z","source":"crm",)"
        R"("correlation_id":"corr-1","causation_id":"cause-2","data":{"channel":"call"}})");
}

TEST_CASE("EventToJson with log fields adds position, version and recorded_at", "[json]") {
  Event e = FullEvent();
  e.data = "{}";
  e.source.clear();
  e.correlation_id.clear();
  e.causation_id.clear();
  CHECK(EventToJson(e, JsonFields::kWithLogFields) ==
        R"({"id":"7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44","stream":"customer-42","type":"interaction.logged",)"
        R"("schema":2,"actor":"staff-7","occurred_at":"2026-03-01T10:15:00.250000Z","data":{},)"
        R"("position":1041,"version":17,"recorded_at":"2026-03-01T10:15:03Z"})");
}

TEST_CASE("EventToJson gives recorded_by with the log fields and in a forward, not in producer form", "[json]") {
  Event e = FullEvent();
  e.recorded_by = "tok-0123456789abcdef";
  CHECK(EventToJson(e, JsonFields::kProducer).find("recorded_by") == std::string::npos);
  const std::string forwarded = EventToJson(e, JsonFields::kForwarded);
  CHECK(forwarded.find("position") == std::string::npos);
  Result<Event> back = ParseEventJson(forwarded, RecordedBy::kKeep);
  REQUIRE(back.ok());
  CHECK(back->recorded_by == e.recorded_by);
  const std::string logged = EventToJson(e, JsonFields::kWithLogFields);
  CHECK(logged.ends_with(R"("recorded_at":"2026-03-01T10:15:03Z","recorded_by":"tok-0123456789abcdef"})"));
  e.recorded_by.clear();
  CHECK(EventToJson(e, JsonFields::kWithLogFields).find("recorded_by") == std::string::npos);
}

TEST_CASE("Empty optional fields are left out of the JSON", "[json]") {
  Event e = FullEvent();
  e.source.clear();
  e.correlation_id.clear();
  e.causation_id.clear();
  std::string json = EventToJson(e, JsonFields::kProducer);
  CHECK(json.find("source") == std::string::npos);
  CHECK(json.find("correlation_id") == std::string::npos);
  CHECK(json.find("causation_id") == std::string::npos);
  CHECK(json.find("position") == std::string::npos);
  CHECK(json.find('\n') == std::string::npos);
}

TEST_CASE("EventToJson in producer form parses back to the same event", "[json]") {
  Event e = FullEvent();
  e.position = Position();
  e.version = StreamVersion();
  e.recorded_at = Timestamp();
  Result<Event> back = ParseEventJson(EventToJson(e, JsonFields::kProducer));
  REQUIRE(back.ok());
  CHECK(back->data == e.data);
  CHECK(*back == e);
}

TEST_CASE("EventToJson with log fields parses back to the same event without the log fields", "[json]") {
  Event e = FullEvent();
  std::string json = EventToJson(e, JsonFields::kWithLogFields);
  Result<Event> back = ParseEventJson(json);
  REQUIRE(back.ok());
  Event expected = e;
  expected.position = Position();
  expected.version = StreamVersion();
  expected.recorded_at = Timestamp();
  CHECK(*back == expected);
  // And printing that again with the log fields restored gives the same line.
  back->position = e.position;
  back->version = e.version;
  back->recorded_at = e.recorded_at;
  CHECK(EventToJson(*back, JsonFields::kWithLogFields) == json);
}

TEST_CASE("Quotes, backslashes and control characters are escaped and survive a round trip", "[json]") {
  Event e = FullEvent();
  e.position = Position();
  e.version = StreamVersion();
  e.recorded_at = Timestamp();
  e.source = std::string("say \"hi\"\\ \n\r\t\x01\x1f\0end", 19);
  e.correlation_id = "K\xc3\xb6ln \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x9a\x80";
  std::string json = EventToJson(e, JsonFields::kProducer);
  CHECK_THAT(json, Catch::Contains(R"("source":"say \"hi\"\\ \n\r\t\u0001\u001f\u0000end")"));
  CHECK_THAT(json, Catch::Contains("\"correlation_id\":\"K\xc3\xb6ln \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x9a\x80\""));
  Result<Event> back = ParseEventJson(json);
  REQUIRE(back.ok());
  CHECK(back->source == e.source);
  CHECK(*back == e);
}

TEST_CASE("JsonQuote escapes exactly what JSON requires", "[json]") {
  CHECK(JsonQuote("") == R"("")");
  CHECK(JsonQuote("plain") == R"("plain")");
  CHECK(JsonQuote("\"") == R"("\"")");
  CHECK(JsonQuote("\\") == R"("\\")");
  CHECK(JsonQuote("\n\r\t") == R"("\n\r\t")");
  CHECK(JsonQuote(std::string("\0\x08\x0b\x0c\x1f", 5)) == R"("\u0000\u0008\u000b\u000c\u001f")");
  CHECK(JsonQuote("/ \x7f \xc3\xa9") == "\"/ \x7f \xc3\xa9\"");  // slash, DEL and UTF-8 pass through
}

TEST_CASE("CheckJsonObject accepts one object and says why anything else is refused", "[json]") {
  CHECK(CheckJsonObject("{}").ok());
  CHECK(CheckJsonObject(R"( {"a": [1, {"b": null}]} )").ok());
  Status s = CheckJsonObject("[]");
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message() == "expected a JSON object, got an array");
  CHECK(CheckJsonObject("3").message() == "expected a JSON object, got a number");
  s = CheckJsonObject(R"({"a":1} x)");
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::StartsWith("invalid JSON at byte 8"));
  CHECK_THAT(CheckJsonObject(R"({"a":})").message(), Catch::StartsWith("invalid JSON at byte 5"));
}

}  // namespace
}  // namespace custodian
