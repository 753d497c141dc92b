#include "server/cloudevents.h"

#include <catch2/catch.hpp>
#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/time.h"

namespace custodian {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Form = CloudEvent::DataForm;

// Far after every time below, so that ValidateEvent's "not in the future" holds.
const Timestamp kNow(1'900'000'000'000'000);
// 2018-04-05T17:31:00Z, the time of the vectors' "minimalWithTime" sample (computed
// with Python's datetime, not with ParseRfc3339).
const Timestamp kVectorTime(1'522'949'460'000'000);

// --- The CloudEvents conformance vectors (../shared/testdata/cloudevents) ---

json::object LoadVectors(const std::string& file) {
  const fs::path path = fs::path(CUSTODIAN_SHARED_DIR) / "testdata/cloudevents" / file;
  std::ifstream in(path, std::ios::binary);
  INFO(path.string());
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  json::value v = json::parse(text.str());
  REQUIRE(v.is_object());
  REQUIRE(v.as_object()["tests"].as_array().size() > 0);
  return v.as_object();
}

std::string Str(const json::value& v) { return std::string(v.as_string()); }

http::Request Post(std::string content_type, std::string body) {
  http::Request r;
  r.method = "POST";
  r.target = "/v1/cloudevents";
  if (!content_type.empty()) r.headers.emplace_back("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

http::Request Structured(const json::value& event) { return Post(std::string(kCloudEventsJson), json::serialize(event)); }
http::Request Batched(const json::value& batch) { return Post(std::string(kCloudEventsBatchJson), json::serialize(batch)); }

// The HTTP binding's percent-encoding (3.1.3.2): space, '"', '%' and every
// byte outside printable ASCII.
std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '%') {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// The same event in binary mode: each attribute a ce- header (a non-string
// value as its JSON text), datacontenttype the Content-Type, data the body.
http::Request Binary(const json::object& event) {
  http::Request r = Post("", "");
  for (const auto& [key, value] : event) {
    if (value.is_null()) continue;
    const std::string text = value.is_string() ? Str(value) : json::serialize(value);
    if (key == "datacontenttype") {
      r.headers.emplace_back("Content-Type", text);
    } else if (key == "data") {
      r.body = text;
    } else {
      r.headers.emplace_back("ce-" + std::string(key), PercentEncode(text));
    }
  }
  return r;
}

bool IsCore(std::string_view key) {
  return key == "specversion" || key == "id" || key == "source" || key == "type" || key == "datacontenttype" ||
         key == "dataschema" || key == "subject" || key == "time" || key == "data" || key == "data_base64";
}

std::optional<std::string> Optional(const json::object& event, const char* key) {
  const json::value* v = event.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  return Str(*v);
}

// Every attribute of `ce` is the vector's, as the JSON format reads it.
void CheckAttributesAsGiven(const CloudEvent& ce, const json::object& event) {
  CHECK(ce.specversion == Str(event.at("specversion")));
  CHECK(ce.id == Str(event.at("id")));
  CHECK(ce.source == Str(event.at("source")));
  CHECK(ce.type == Str(event.at("type")));
  CHECK(ce.datacontenttype == Optional(event, "datacontenttype"));
  CHECK(ce.dataschema == Optional(event, "dataschema"));
  CHECK(ce.subject == Optional(event, "subject"));
  const std::optional<std::string> time = Optional(event, "time");
  CHECK(ce.time.has_value() == time.has_value());
  if (time) CHECK(ce.time == ParseRfc3339(*time).value());
  std::map<std::string, std::string> extensions;
  for (const auto& [key, value] : event) {
    if (!IsCore(key) && !value.is_null()) extensions[std::string(key)] = json::serialize(value);
  }
  CHECK(ce.extensions == extensions);
  const json::value* data = event.if_contains("data");
  if (data == nullptr || data->is_null()) {
    CHECK(ce.data_form == Form::kNone);
  } else {
    CHECK(ce.data_form == Form::kJson);
    CHECK(ce.data == json::serialize(*data));
  }
}

CloudEvent ParseOne(const http::Request& request) {
  Result<std::vector<CloudEvent>> r = ParseCloudEvents(request);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  return r->front();
}

// Refused as InvalidArgument, with every one of `parts` in the message.
void CheckRefused(const Status& s, const std::vector<std::string>& parts) {
  INFO(s.ToString());
  CHECK(!s.ok());
  if (s.ok()) return;
  CHECK(s.code() == StatusCode::kInvalidArgument);
  for (const std::string& part : parts) CHECK_THAT(s.message(), Catch::Contains(part));
}

TEST_CASE("Every valid single event of the conformance vectors parses in structured mode with its attributes as given",
          "[cloudevents][vectors]") {
  json::object file = LoadVectors("valid-events.json");
  CHECK(Str(file["testType"]) == "ValidSingleEvent");
  std::map<std::string, CloudEvent> sample;  // sampleId -> the first event parsed for it
  for (const json::value& t : file["tests"].as_array()) {
    const json::object& test = t.as_object();
    const json::object& event = test.at("event").as_object();
    {
      INFO("vector " << Str(test.at("id")));
      const CloudEvent ce = ParseOne(Structured(event));
      CheckAttributesAsGiven(ce, event);
      // Tests with one sampleId describe one event: they must parse the same.
      const auto [it, first] = sample.try_emplace(Str(test.at("sampleId")), ce);
      if (!first) CHECK(ce == it->second);
      if (Str(test.at("sampleId")) == "minimalWithTime") CHECK(ce.time == kVectorTime);
    }
  }
}

TEST_CASE("The text data of a conformance vector is kept as its JSON value, with its media type",
          "[cloudevents][vectors]") {
  json::object file = LoadVectors("valid-events.json");
  bool seen = false;
  for (const json::value& t : file["tests"].as_array()) {
    if (Str(t.at("id")) != "validSimpleTextData") continue;
    seen = true;
    const CloudEvent ce = ParseOne(Structured(t.at("event")));
    CHECK(ce.data_form == Form::kJson);
    CHECK(ce.data == "\"Simple text\"");
    CHECK(ce.datacontenttype == "text/plain");
  }
  CHECK(seen);
}

TEST_CASE("Every valid single event of the conformance vectors parses in binary mode from ce- headers",
          "[cloudevents][vectors]") {
  json::object file = LoadVectors("valid-events.json");
  for (const json::value& t : file["tests"].as_array()) {
    const json::object& event = t.at("event").as_object();
    {
      INFO("vector " << Str(t.at("id")));
      const CloudEvent ce = ParseOne(Binary(event));
      CHECK(ce.specversion == "1.0");
      CHECK(ce.id == Str(event.at("id")));
      CHECK(ce.source == Str(event.at("source")));
      CHECK(ce.type == Str(event.at("type")));
      CHECK(ce.datacontenttype == Optional(event, "datacontenttype"));
      CHECK(ce.dataschema == Optional(event, "dataschema"));
      CHECK(ce.subject == Optional(event, "subject"));
      if (Optional(event, "time")) CHECK(ce.time == kVectorTime);
      // Binary mode has no types: every extension arrives as a string.
      for (const auto& [key, value] : event) {
        if (IsCore(key)) continue;
        const std::string text = value.is_string() ? Str(value) : json::serialize(value);
        CHECK(ce.extensions.at(std::string(key)) == json::serialize(json::value(text)));
      }
      if (const json::value* data = event.if_contains("data")) {
        CHECK(ce.data_form == Form::kBytes);
        CHECK(ce.data == Str(*data));
      } else {
        CHECK(ce.data_form == Form::kNone);
      }
    }
  }
}

// Why each invalid vector is refused: words the message must contain (the
// attribute, member or extension at fault). A vector added to the file
// without an entry here fails the test.
const std::map<std::string, std::vector<std::string>> kInvalidEventReasons = {
    {"invalidNoSpecVersion", {"attribute 'specversion' is missing"}},
    {"invalidNoId", {"attribute 'id' is missing"}},
    {"invalidNoType", {"attribute 'type' is missing"}},
    {"invalidNoSource", {"attribute 'source' is missing"}},
    {"invalidTimeGarbage", {"attribute 'time'", "lunchtime", "not an RFC 3339 time"}},
    {"invalidTimeToMinute", {"attribute 'time'", "hh:mm:ss"}},
    {"invalidTimeOffsetX", {"attribute 'time'", "offset"}},
    {"invalidTimeOffsetOutOfRange", {"attribute 'time'", "offset"}},
    {"invalidTimeOffsetNonInteger", {"attribute 'time'", "offset"}},
    {"invalidTimeOffsetHourOnly", {"attribute 'time'", "offset"}},
    {"invalidEmptyId", {"attribute 'id'", "is empty"}},
    {"invalidEmptyType", {"attribute 'type'", "is empty"}},
    {"invalidEmptySource", {"attribute 'source'", "is empty"}},
    {"invalidEmptySpecVersion", {"attribute 'specversion'", "is empty"}},
    {"invalidUnknownSpecVersion", {"attribute 'specversion'", "\"0.9\" is not supported"}},
    {"invalidNonRfc2046DataContentType", {"attribute 'datacontenttype'", "\"xyz\" is not a media type"}},
    {"invalidEmptyDataContentType", {"attribute 'datacontenttype'", "\"\" is not a media type"}},
    {"invalidEmptyDataSchema", {"attribute 'dataschema'", "not an absolute URI"}},
    {"invalidEmptySubject", {"attribute 'subject'", "is empty"}},
    {"invalidNumericId", {"attribute 'id'", "expected a string, got a number"}},
    {"invalidObjectId", {"attribute 'id'", "expected a string, got an object"}},
    {"invalidCapitalizedExtension", {"\"MyExtension\"", "lower-case"}},
    {"invalidPunctuatedExtension", {"\"my.extension\"", "lower-case"}},
    {"invalidNonIntegerExtensionValue", {"\"my.extension\""}},
    {"invalidBothDataAndDataBase64", {"'data' and 'data_base64' are both given"}},
};

TEST_CASE("Every invalid single event of the conformance vectors is refused, naming the attribute at fault",
          "[cloudevents][vectors]") {
  json::object file = LoadVectors("invalid-events.json");
  CHECK(Str(file["testType"]) == "InvalidSingleEvent");
  for (const json::value& t : file["tests"].as_array()) {
    const std::string id = Str(t.at("id"));
    {
      INFO("vector " << id);
      REQUIRE(kInvalidEventReasons.contains(id));
      const std::vector<std::string>& reason = kInvalidEventReasons.at(id);
      CheckRefused(ParseCloudEvents(Structured(t.at("event"))).status(), reason);
      // Alone in a batch, it refuses the batch and the message says where.
      std::vector<std::string> in_batch = reason;
      in_batch.push_back("batch[0]: ");
      CheckRefused(ParseCloudEvents(Batched(json::array{t.at("event")})).status(), in_batch);
      CheckRefused(DecodeCloudEvents(Structured(t.at("event")), kNow).status(), reason);
    }
  }
}

TEST_CASE("The invalid vectors that binary mode can carry are refused in binary mode too", "[cloudevents][vectors]") {
  json::object file = LoadVectors("invalid-events.json");
  int tried = 0;
  for (const json::value& t : file["tests"].as_array()) {
    const std::string id = Str(t.at("id"));
    const json::object& event = t.at("event").as_object();
    // Header names are case-insensitive, so ce-MyExtension is the valid
    // extension myextension; binary mode has neither types nor data_base64.
    bool all_strings = id != "invalidCapitalizedExtension";
    for (const auto& [key, value] : event) all_strings = all_strings && value.is_string() && key != "data_base64";
    if (!all_strings) continue;
    {
      INFO("vector " << id);
      ++tried;
      Result<std::vector<CloudEvent>> r = ParseCloudEvents(Binary(event));
      INFO(r.status().ToString());
      REQUIRE(!r.ok());
      CHECK(r.status().code() == StatusCode::kInvalidArgument);
      CHECK_THAT(r.status().message(), Catch::Contains("ce-") || Catch::Contains("Content-Type"));
    }
  }
  CHECK(tried >= 15);
}

// The single-event samples each batch sample is made of (FORMAT-README: the
// sampleId names the expected result).
const std::map<std::string, std::vector<std::string>> kBatchSamples = {
    {"empty", {}},
    {"minimal", {"minimal"}},
    {"minimal2", {"minimal", "minimal"}},
    {"minimalAndAllCore", {"minimal", "allCore"}},
    {"minimalAndAllExtensionTypes", {"minimal", "allExtensionTypes"}},
};

TEST_CASE("Every valid batch of the conformance vectors parses to the events of its sample, in order",
          "[cloudevents][vectors]") {
  std::map<std::string, CloudEvent> single;
  json::object events = LoadVectors("valid-events.json");
  for (const json::value& t : events["tests"].as_array()) {
    single.try_emplace(Str(t.at("sampleId")), ParseOne(Structured(t.at("event"))));
  }
  json::object file = LoadVectors("valid-batches.json");
  CHECK(Str(file["testType"]) == "ValidBatch");
  for (const json::value& t : file["tests"].as_array()) {
    {
      INFO("vector " << Str(t.at("id")));
      REQUIRE(kBatchSamples.contains(Str(t.at("sampleId"))));
      Result<std::vector<CloudEvent>> r = ParseCloudEvents(Batched(t.at("batch")));
      INFO(r.status().ToString());
      REQUIRE(r.ok());
      const std::vector<std::string>& parts = kBatchSamples.at(Str(t.at("sampleId")));
      REQUIRE(r->size() == parts.size());
      for (size_t i = 0; i < parts.size(); ++i) {
        CHECK((*r)[i] == single.at(parts[i]));
        CheckAttributesAsGiven((*r)[i], t.at("batch").as_array()[i].as_object());
      }
    }
  }
}

const std::map<std::string, std::vector<std::string>> kInvalidBatchReasons = {
    {"invalidBatchMixedSpecVersions", {"batch[1]: ", "attribute 'specversion'", "\"0.9\" is not supported"}},
    {"invalidBatchContainingInvalidCloudEvent", {"batch[0]: ", "attribute 'id' is missing"}},
    {"invalidBatchContainingNonObject", {"batch[0]: ", "must be a JSON object, got a string"}},
};

TEST_CASE("Every invalid batch of the conformance vectors is refused whole, naming the event and why",
          "[cloudevents][vectors]") {
  json::object file = LoadVectors("invalid-batches.json");
  CHECK(Str(file["testType"]) == "InvalidBatch");
  for (const json::value& t : file["tests"].as_array()) {
    const std::string id = Str(t.at("id"));
    {
      INFO("vector " << id);
      REQUIRE(kInvalidBatchReasons.contains(id));
      CheckRefused(ParseCloudEvents(Batched(t.at("batch"))).status(), kInvalidBatchReasons.at(id));
      CheckRefused(DecodeCloudEvents(Batched(t.at("batch")), kNow).status(), kInvalidBatchReasons.at(id));
    }
  }
}

// What DecodeCloudEvents answers for each valid vector: they are valid
// CloudEvents, but none names a stream and an actor, so none is a Custodian
// event. The first missing piece is named.
const std::map<std::string, std::string> kValidEventDecodes = {
    {"validMinimal", "attribute 'subject' is missing"},
    {"validMinimalWithNullForOptional", "attribute 'subject' is missing"},
    {"validAllCoreAttributes", "extension attribute 'actor' is missing"},
    {"validMinimalWithTimeUtc", "attribute 'subject' is missing"},
    {"validMinimalWithTimeToNanosecondsUtc", "attribute 'subject' is missing"},
    {"validMinimalWithTimeUsingPositiveOffset", "attribute 'subject' is missing"},
    {"validMinimalWithTimeUsingNegativeOffset", "attribute 'subject' is missing"},
    {"validRelativeSource", "attribute 'subject' is missing"},
    {"validSimpleTextData", "attribute 'subject' is missing"},
    {"validAllExtensionTypes", "attribute 'subject' is missing"},
};

TEST_CASE("The valid vectors are valid CloudEvents but not Custodian events: decoding names what is missing",
          "[cloudevents][vectors]") {
  json::object events = LoadVectors("valid-events.json");
  for (const json::value& t : events["tests"].as_array()) {
    const std::string id = Str(t.at("id"));
    {
      INFO("vector " << id);
      REQUIRE(kValidEventDecodes.contains(id));
      CheckRefused(DecodeCloudEvents(Structured(t.at("event")), kNow).status(), {kValidEventDecodes.at(id)});
      CheckRefused(DecodeCloudEvents(Binary(t.at("event").as_object()), kNow).status(), {kValidEventDecodes.at(id)});
    }
  }
  json::object batches = LoadVectors("valid-batches.json");
  for (const json::value& t : batches["tests"].as_array()) {
    {
      INFO("vector " << Str(t.at("id")));
      Result<DecodedCloudEvents> r = DecodeCloudEvents(Batched(t.at("batch")), kNow);
      if (t.at("batch").as_array().empty()) {
        REQUIRE(r.ok());
        CHECK(r->events.empty());
        CHECK(r->event_of.empty());
        CHECK(r->mode == CloudEventsMode::kBatched);
      } else {
        CheckRefused(r.status(), {"batch[0]: attribute 'subject' is missing"});
      }
    }
  }
}

// --- The mapping to Custodian events ---

constexpr char kSource[] = "https://crm.example.com/hubspot";
constexpr char kData[] = R"({"channel":"meeting","direction":"outbound","duration_s":3600,"x_score":1.10})";

// An interaction of customer-1001 as a CRM would send it.
json::object Interaction(std::string id = "evt-5001") {
  return json::object{{"specversion", "1.0"},
                      {"id", id},
                      {"source", kSource},
                      {"type", "interaction.logged"},
                      {"subject", "customer-1001"},
                      {"time", "2025-03-12T15:00:00+01:00"},
                      {"actor", "staff-12"},
                      {"datacontenttype", "application/json"},
                      {"data", json::parse(kData)}};
}

// The same, in structured mode, with the data written as given (kept digit for digit).
http::Request StructuredInteraction() {
  json::object e = Interaction();
  e.erase("data");
  std::string body = json::serialize(e);
  body.pop_back();
  return Post(std::string(kCloudEventsJson), body + ",\"data\": " + kData + "}");
}

Event Decoded(const http::Request& request) {
  Result<DecodedCloudEvents> r = DecodeCloudEvents(request, kNow);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  REQUIRE(r->events.size() == 1);
  CHECK(r->event_of == std::vector<size_t>{0});
  return r->events.front();
}

TEST_CASE("A structured CloudEvent becomes the event its attributes name", "[cloudevents]") {
  const Event e = Decoded(StructuredInteraction());
  // EventId::FromSeed("cloudevents\nhttps://crm.example.com/hubspot\nevt-5001"), by
  // SHA-256 in Python: the first 16 bytes with the version-4 bits set.
  CHECK(e.id.ToString() == "3a55efcf-d538-4401-8ebd-4e765c36549e");
  CHECK(CloudEventIdSeed(kSource, "evt-5001") == "cloudevents\nhttps://crm.example.com/hubspot\nevt-5001");
  CHECK(e.id == CloudEventEventId(kSource, "evt-5001"));
  CHECK(e.stream == "customer-1001");
  CHECK(e.type == "interaction.logged");
  CHECK(e.schema == 1);
  CHECK(e.actor == "staff-12");
  CHECK(e.occurred_at == Timestamp(1'741'788'000'000'000));  // 2025-03-12T14:00:00Z
  CHECK(e.source == kSource);
  CHECK(e.data == kData);  // 1.10 stays 1.10
  CHECK(e.correlation_id.empty());
  CHECK(e.causation_id.empty());
  CHECK(e.personal_plain.empty());
  CHECK(e.position == Position(0));
}

TEST_CASE("The same CloudEvent in binary mode is the same event, with percent-decoded headers", "[cloudevents]") {
  http::Request r = Post("application/json; charset=utf-8", kData);
  r.headers.emplace_back("CE-SpecVersion", "1.0");  // header names in any case
  r.headers.emplace_back("ce-id", "evt-5001");
  r.headers.emplace_back("ce-source", kSource);
  r.headers.emplace_back("ce-type", "interaction.logged");
  r.headers.emplace_back("ce-subject", "customer%2D1001");
  r.headers.emplace_back("ce-time", "2025-03-12T15:00:00%2B01:00");
  r.headers.emplace_back("ce-actor", "staff-12");
  const Event binary = Decoded(r);
  CHECK(binary == Decoded(StructuredInteraction()));
  CHECK(DecodeCloudEvents(r, kNow)->mode == CloudEventsMode::kBinary);

  // A percent-decoded id is the seed's id: "order 17 ✓".
  for (auto& [name, value] : r.headers) {
    if (name == "ce-id") value = "order%2017%20%E2%9C%93";
  }
  const Event other = Decoded(r);
  CHECK(other.id.ToString() == "55537436-32f5-43ee-8dff-76ae9581397e");
  CHECK(other.id == CloudEventEventId(kSource, "order 17 \xE2\x9C\x93"));
}

TEST_CASE("A bad percent escape or a repeated ce- header is refused, naming the header", "[cloudevents]") {
  const std::vector<std::string> bad = {"customer%2", "customer%zz1001", "customer-1001%"};
  for (const std::string& value : bad) {
    http::Request r = Binary(Interaction());
    for (auto& [k, v] : r.headers) {
      if (k == "ce-subject") v = value;
    }
    CheckRefused(DecodeCloudEvents(r, kNow).status(), {"header ce-subject", "not percent-encoded correctly"});
  }
  http::Request r = Binary(Interaction());
  r.headers.emplace_back("Ce-Id", "evt-5002");
  CheckRefused(DecodeCloudEvents(r, kNow).status(), {"header Ce-Id", "given twice"});
  r = Binary(Interaction());
  r.headers.emplace_back("ce-actor", "%FF");
  CheckRefused(DecodeCloudEvents(r, kNow).status(), {"header ce-actor", "not valid UTF-8"});
}

TEST_CASE("A batch becomes its events in order, and a CloudEvent repeated in it is one event", "[cloudevents]") {
  json::object note = Interaction("evt-6001");
  note["subject"] = "customer-1002";
  note["type"] = "note.added";
  note["data"] = json::object{{"text", "asked for a quote for 40 more trackers"}};
  Result<DecodedCloudEvents> r = DecodeCloudEvents(Batched(json::array{Interaction(), note, Interaction()}), kNow);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->mode == CloudEventsMode::kBatched);
  REQUIRE(r->events.size() == 2);
  CHECK(r->events[0].stream == "customer-1001");
  CHECK(r->events[0].id == CloudEventEventId(kSource, "evt-5001"));
  CHECK(r->events[1].stream == "customer-1002");
  CHECK(r->events[1].type == "note.added");
  CHECK(r->events[1].id == CloudEventEventId(kSource, "evt-6001"));
  CHECK(r->event_of == std::vector<size_t>{0, 1, 0});
}

TEST_CASE("A batch repeating a source and id with other content is refused, naming both places", "[cloudevents]") {
  json::object changed = Interaction();
  changed["time"] = "2025-03-12T16:00:00+01:00";
  CheckRefused(DecodeCloudEvents(Batched(json::array{Interaction(), changed}), kNow).status(),
               {"batch[1]: ", "\"evt-5001\"", "batch[0]", "other content"});
}

TEST_CASE("One event a Custodian event cannot be refuses the whole batch", "[cloudevents]") {
  json::object bad = Interaction("evt-5002");
  bad["type"] = "interaction.teleported";
  Result<DecodedCloudEvents> r = DecodeCloudEvents(Batched(json::array{Interaction(), bad}), kNow);
  CheckRefused(r.status(), {"batch[1]: ", "interaction.teleported", "not in the event catalogue"});
}

TEST_CASE("Each piece Custodian needs but CloudEvents leaves optional is refused by name when missing",
          "[cloudevents]") {
  struct Case {
    const char* attribute;
    std::vector<std::string> message;
  };
  const std::vector<Case> cases = {
      {"subject", {"attribute 'subject' is missing", "stream"}},
      {"actor", {"extension attribute 'actor' is missing"}},
      {"time", {"attribute 'time' is missing", "occurred_at"}},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.attribute) {
      json::object e = Interaction();
      e.erase(c.attribute);
      CheckRefused(DecodeCloudEvents(Structured(e), kNow).status(), c.message);
      CheckRefused(DecodeCloudEvents(Binary(e), kNow).status(), c.message);
    }
  }
}

TEST_CASE("Data must be a JSON object of a JSON media type", "[cloudevents]") {
  SECTION("text/plain data is refused, naming datacontenttype") {
    json::object e = Interaction();
    e["datacontenttype"] = "text/plain";
    CheckRefused(DecodeCloudEvents(Structured(e), kNow).status(), {"attribute 'datacontenttype'", "\"text/plain\" is not JSON"});
    CheckRefused(DecodeCloudEvents(Binary(e), kNow).status(), {"attribute 'datacontenttype'", "\"text/plain\" is not JSON"});
  }
  SECTION("an array, a string or a number as data is refused") {
    for (const json::value& data : {json::value(json::array{1, 2}), json::value("text"), json::value(7)}) {
      json::object e = Interaction();
      e["data"] = data;
      CheckRefused(DecodeCloudEvents(Structured(e), kNow).status(), {"data: expected a JSON object"});
    }
  }
  SECTION("a binary body without Content-Type is refused") {
    http::Request r = Binary(Interaction());
    std::erase_if(r.headers, [](const auto& h) { return h.first == "Content-Type"; });
    CheckRefused(DecodeCloudEvents(r, kNow).status(), {"'datacontenttype' is missing", "Content-Type: application/json"});
  }
  SECTION("a binary body that is not JSON is refused") {
    http::Request r = Binary(Interaction());
    r.body = "{\"channel\": ";
    CheckRefused(DecodeCloudEvents(r, kNow).status(), {"data: invalid JSON"});
  }
  SECTION("a +json type and no datacontenttype in structured mode are JSON") {
    json::object e = Interaction();
    e["datacontenttype"] = "application/vnd.crm.interaction+json; charset=utf-8";
    CHECK(Decoded(Structured(e)).data == json::serialize(e["data"]));
    e.erase("datacontenttype");
    CHECK(Decoded(Structured(e)).data == json::serialize(e["data"]));
  }
  SECTION("data_base64 of JSON bytes is the data") {
    json::object e = Interaction();
    e.erase("data");
    e["data_base64"] = "eyJjaGFubmVsIjoiY2FsbCIsImRpcmVjdGlvbiI6ImluYm91bmQifQ==";  // {"channel":"call","direction":"inbound"}
    CHECK(Decoded(Structured(e)).data == R"({"channel":"call","direction":"inbound"})");
  }
  SECTION("no data is the empty object") {
    json::object e = Interaction();
    e["type"] = "staff.departed";
    e["subject"] = "staff-12";
    e["actor"] = "system:hr-sync";
    e.erase("data");
    CHECK(Decoded(Structured(e)).data == "{}");
  }
}

TEST_CASE("Every decoded event passes ValidateEvent: a bad stream, actor or future time is refused", "[cloudevents]") {
  json::object e = Interaction();
  e["subject"] = "Customer 1001";
  CheckRefused(DecodeCloudEvents(Structured(e), kNow).status(), {"field 'stream'"});
  e = Interaction();
  e["actor"] = "bob";
  CheckRefused(DecodeCloudEvents(Structured(e), kNow).status(), {"actor"});
  e = Interaction();
  e["actor"] = 7;
  CheckRefused(DecodeCloudEvents(Structured(e), kNow).status(), {"extension attribute 'actor'", "expected a string"});
  e = Interaction();
  e["time"] = "2031-01-01T00:00:00Z";
  CheckRefused(DecodeCloudEvents(Structured(e), Timestamp(1'741'788'000'000'000)).status(), {"field 'occurred_at'"});
}

TEST_CASE("A request that is no CloudEvent is Unsupported, and the mode follows Content-Type", "[cloudevents]") {
  const std::string body = json::serialize(Interaction());
  for (const char* type : {"application/json", "text/plain", "", "application/cloudevents+avro"}) {
    DYNAMIC_SECTION("Content-Type: " << type) {
      Result<DecodedCloudEvents> r = DecodeCloudEvents(Post(type, body), kNow);
      REQUIRE(!r.ok());
      CHECK(r.status().code() == StatusCode::kUnsupported);
      CHECK_THAT(r.status().message(), Catch::Contains(std::string(kCloudEventsBatchJson)));
    }
  }
  CHECK(CloudEventsModeOf(Post("Application/CloudEvents+JSON; charset=UTF-8", body)).value() ==
        CloudEventsMode::kStructured);
  CHECK(CloudEventsModeOf(Post("application/cloudevents-batch+json", "[]")).value() == CloudEventsMode::kBatched);
  CHECK(CloudEventsModeOf(Binary(Interaction())).value() == CloudEventsMode::kBinary);
}

TEST_CASE("Structured and batched bodies of the wrong shape are refused", "[cloudevents]") {
  CheckRefused(ParseCloudEvents(Post(std::string(kCloudEventsJson), "[]")).status(), {std::string(kCloudEventsBatchJson)});
  CheckRefused(ParseCloudEvents(Post(std::string(kCloudEventsBatchJson), json::serialize(Interaction()))).status(),
               {"a batch must be a JSON array"});
  CheckRefused(ParseCloudEvents(Post(std::string(kCloudEventsJson), "{\"id\":")).status(), {"invalid JSON"});
  CheckRefused(ParseCloudEvents(Post(std::string(kCloudEventsJson), R"({"id":"a","id":"b"})")).status(),
               {"key 'id' is given twice"});
  json::object e = Interaction();
  e["source"] = "not a uri";
  CheckRefused(ParseCloudEvents(Structured(e)).status(), {"attribute 'source'", "not a URI-reference"});
  e = Interaction();
  e["big"] = 2147483648;
  CheckRefused(ParseCloudEvents(Structured(e)).status(), {"extension attribute 'big'", "2147483648"});
  e = Interaction();
  e["ratio"] = 1.5;
  CheckRefused(ParseCloudEvents(Structured(e)).status(), {"extension attribute 'ratio'", "1.5", "integer"});
  e = Interaction();
  e["nested"] = json::object{{"a", 1}};
  CheckRefused(ParseCloudEvents(Structured(e)).status(), {"extension attribute 'nested'"});
}

}  // namespace
}  // namespace custodian
