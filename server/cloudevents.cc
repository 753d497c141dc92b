#include "server/cloudevents.h"

#include <boost/json.hpp>
#include <strings.h>

#include <functional>
#include <unordered_map>

#include "core/base64.h"
#include "core/json.h"
#include "core/time.h"
#include "core/validation.h"

namespace custodian {
namespace {

namespace json = boost::json;

constexpr std::string_view kSpecVersion = "1.0";
constexpr std::string_view kHeaderPrefix = "ce-";
constexpr size_t kMaxQuoted = 80;  // bytes of a bad value echoed in a message

std::string Quoted(std::string_view s) {
  return JsonQuote(IsValidUtf8(s) ? s.substr(0, kMaxQuoted) : std::string_view("<not UTF-8>"));
}

const char* KindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "a value";
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ::strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// --- Media types (RFC 2046, with RFC 9110's grammar) ---

bool IsTokenChar(char c) {
  return IsAlpha(c) || IsDigit(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "type/subtype" in lower case, or nullopt when `text` is no media type:
// type "/" subtype, then any number of ";" name "=" (token / quoted-string).
std::optional<std::string> MediaTypeEssence(std::string_view text) {
  const size_t semi = text.find(';');
  const std::string_view essence = Trim(text.substr(0, semi));
  const size_t slash = essence.find('/');
  if (slash == std::string_view::npos || !IsToken(essence.substr(0, slash)) || !IsToken(essence.substr(slash + 1))) {
    return std::nullopt;
  }
  std::string_view rest = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
  while (!rest.empty()) {
    const size_t eq = rest.find('=');
    if (eq == std::string_view::npos || !IsToken(Trim(rest.substr(0, eq)))) return std::nullopt;
    rest = rest.substr(eq + 1);
    size_t end = 0;
    if (!rest.empty() && rest.front() == '"') {
      end = 1;
      while (end < rest.size() && rest[end] != '"') end += rest[end] == '\\' ? 2 : 1;
      if (end >= rest.size()) return std::nullopt;
      ++end;
    } else {
      while (end < rest.size() && IsTokenChar(rest[end])) ++end;
      if (end == 0) return std::nullopt;
    }
    rest = Trim(rest.substr(end));
    if (rest.empty()) break;
    if (rest.front() != ';') return std::nullopt;
    rest.remove_prefix(1);
  }
  return Lower(essence);
}

// application/json, text/json and any */*+json (JSON event format, 3.1).
bool IsJsonEssence(std::string_view essence) {
  return essence == "application/json" || essence == "text/json" || essence.ends_with("+json");
}

// --- URIs (RFC 3986) ---

// Every character may appear in a URI-reference, and each '%' starts an escape.
bool HasUriCharacters(std::string_view s) {
  constexpr std::string_view kOther = "-._~:/?#[]@!$&'()*+,;=";
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !IsHex(s[i + 1]) || !IsHex(s[i + 2])) return false;
      i += 2;
    } else if (!IsAlpha(c) && !IsDigit(c) && kOther.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// An absolute URI starts with a scheme: a letter, then letters, digits, + - .
bool HasScheme(std::string_view s) {
  const size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || !IsAlpha(s[0])) return false;
  for (char c : s.substr(0, colon)) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

// --- The attributes, whatever carried them ---

// Lower-case ASCII letters and digits (core spec, "Attribute Naming Convention").
bool IsAttributeName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!(c >= 'a' && c <= 'z') && !IsDigit(c)) return false;
  }
  return true;
}

// An integer in the spec's range, written as a JSON integer.
bool IsSpecInteger(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  if (digits.empty() || digits.size() > 10) return false;
  for (char c : digits) {
    if (!IsDigit(c)) return false;
  }
  const int64_t v = std::stoll(std::string(text));
  return v >= INT32_MIN && v <= INT32_MAX;
}

// The context attributes with string values, as they arrived; nullopt: absent.
struct StringAttributes {
  std::optional<std::string> specversion, id, source, type, datacontenttype, dataschema, subject, time;

  std::optional<std::string>* Find(std::string_view name) {
    if (name == "specversion") return &specversion;
    if (name == "id") return &id;
    if (name == "source") return &source;
    if (name == "type") return &type;
    if (name == "datacontenttype") return &datacontenttype;
    if (name == "dataschema") return &dataschema;
    if (name == "subject") return &subject;
    if (name == "time") return &time;
    return nullptr;
  }
};

// How a message names an attribute: "attribute 'id'" or, in binary mode,
// "attribute 'id' (header ce-id)".
using Namer = std::function<std::string(std::string_view)>;

std::string StructuredName(std::string_view attribute) { return "attribute '" + std::string(attribute) + "'"; }

std::string BinaryName(std::string_view attribute) {
  if (attribute == "datacontenttype") return "attribute 'datacontenttype' (header Content-Type)";
  return "attribute '" + std::string(attribute) + "' (header ce-" + std::string(attribute) + ")";
}

// Checks the rules of the core spec on the context attributes and fills `ce`.
Status CheckAttributes(const StringAttributes& a, const Namer& name, CloudEvent* ce) {
  auto bad = [&](std::string_view attribute, const std::string& why) {
    return Status::InvalidArgument(name(attribute) + ": " + why);
  };
  auto required = [&](std::string_view attribute, const std::optional<std::string>& v, std::string* out) {
    if (!v) {
      return Status::InvalidArgument(name(attribute) +
                                     " is missing; every CloudEvent has specversion, id, source and type");
    }
    if (v->empty()) return bad(attribute, "is empty; it must be a non-empty string");
    *out = *v;
    return Status::Ok();
  };
  // specversion first: every other rule is the rule of that version.
  CUSTODIAN_RETURN_IF_ERROR(required("specversion", a.specversion, &ce->specversion));
  if (ce->specversion != kSpecVersion) {
    return bad("specversion", Quoted(ce->specversion) + " is not supported; expected \"1.0\"");
  }
  CUSTODIAN_RETURN_IF_ERROR(required("id", a.id, &ce->id));
  CUSTODIAN_RETURN_IF_ERROR(required("source", a.source, &ce->source));
  if (!HasUriCharacters(ce->source)) {
    return bad("source", Quoted(ce->source) + " is not a URI-reference (RFC 3986): only ASCII letters, digits, "
                                              "-._~:/?#[]@!$&'()*+,;= and %-escapes may appear");
  }
  CUSTODIAN_RETURN_IF_ERROR(required("type", a.type, &ce->type));
  if (a.datacontenttype) {
    if (!MediaTypeEssence(*a.datacontenttype)) {
      return bad("datacontenttype", Quoted(*a.datacontenttype) +
                                        " is not a media type (RFC 2046); expected type/subtype such as "
                                        "application/json");
    }
    ce->datacontenttype = *a.datacontenttype;
  }
  if (a.dataschema) {
    if (a.dataschema->empty() || !HasUriCharacters(*a.dataschema) || !HasScheme(*a.dataschema)) {
      return bad("dataschema", Quoted(*a.dataschema) + " is not an absolute URI (RFC 3986), such as "
                                                       "https://example.com/schemas/order.json");
    }
    ce->dataschema = *a.dataschema;
  }
  if (a.subject) {
    if (a.subject->empty()) return bad("subject", "is empty; when given it must be a non-empty string");
    ce->subject = *a.subject;
  }
  if (a.time) {
    Result<Timestamp> t = ParseRfc3339(*a.time);
    if (!t.ok()) return t.status().WithContext(name("time"));
    ce->time = *t;
  }
  return Status::Ok();
}

// --- The JSON event format (structured and batched modes) ---

// One event of the JSON format. `text` is the object's compact JSON (for
// cutting `data` and integers out exactly as written), `v` the same parsed.
Result<CloudEvent> FromJson(std::string_view text, const json::value& v) {
  if (!v.is_object()) {
    return Status::InvalidArgument(std::string("a CloudEvent must be a JSON object, got ") + KindName(v));
  }
  StringAttributes attributes;
  CloudEvent ce;
  bool has_data = false, has_base64 = false;
  for (const auto& [key, value] : v.get_object()) {
    const std::string_view name(key.data(), key.size());
    if (std::optional<std::string>* slot = attributes.Find(name)) {
      if (value.is_null()) continue;  // null is absent (JSON format, 2.4)
      if (!value.is_string()) {
        return Status::InvalidArgument(StructuredName(name) + ": expected a string, got " + KindName(value));
      }
      *slot = std::string(value.get_string());
    } else if (name == "data") {
      if (value.is_null()) continue;
      has_data = true;
      ce.data_form = CloudEvent::DataForm::kJson;
      ce.data = std::string(JsonMemberText(text, "data").value_or("null"));
    } else if (name == "data_base64") {
      if (value.is_null()) continue;
      if (!value.is_string()) {
        return Status::InvalidArgument(std::string("member 'data_base64': expected a base64 string, got ") +
                                       KindName(value));
      }
      Result<std::string> bytes = Base64Decode(std::string_view(value.get_string()));
      if (!bytes.ok()) return bytes.status().WithContext("member 'data_base64'");
      has_base64 = true;
      ce.data_form = CloudEvent::DataForm::kBytes;
      ce.data = std::move(*bytes);
    } else {
      if (!IsAttributeName(name)) {
        return Status::InvalidArgument("extension attribute " + Quoted(name) +
                                       ": a name is lower-case ASCII letters and digits only");
      }
      if (value.is_null()) continue;
      const std::string raw(JsonMemberText(text, name).value_or(""));
      if (!value.is_string() && !value.is_bool() && !IsSpecInteger(raw)) {
        return Status::InvalidArgument("extension attribute '" + std::string(name) + "': " + raw.substr(0, kMaxQuoted) +
                                       " is not a string, a boolean or an integer from -2147483648 to 2147483647");
      }
      ce.extensions[std::string(name)] = raw;
    }
  }
  if (has_data && has_base64) {
    return Status::InvalidArgument("members 'data' and 'data_base64' are both given; an event has one or neither");
  }
  CUSTODIAN_RETURN_IF_ERROR(CheckAttributes(attributes, StructuredName, &ce));
  return ce;
}

Result<std::vector<CloudEvent>> ParseStructured(const http::Request& request, CloudEventsMode mode) {
  Result<std::string> compact = CompactJson(request.body, "the body: ");
  if (!compact.ok()) return compact.status();
  boost::system::error_code ec;
  const json::value body = json::parse(*compact, ec);
  if (ec) return Status::InvalidArgument("the body is not JSON: " + ec.message());
  std::vector<CloudEvent> events;
  if (mode == CloudEventsMode::kStructured) {
    if (body.is_array()) {
      return Status::InvalidArgument("the body is a JSON array; a batch is sent as " + std::string(kCloudEventsBatchJson));
    }
    Result<CloudEvent> ce = FromJson(*compact, body);
    if (!ce.ok()) return ce.status();
    events.push_back(std::move(*ce));
    return events;
  }
  if (!body.is_array()) {
    return Status::InvalidArgument(std::string("a batch must be a JSON array of CloudEvents, got ") + KindName(body));
  }
  const std::vector<std::string_view> texts = JsonArrayItems(*compact);
  const json::array& items = body.get_array();
  for (size_t i = 0; i < items.size(); ++i) {
    Result<CloudEvent> ce = FromJson(texts[i], items[i]);
    if (!ce.ok()) return ce.status().WithContext("batch[" + std::to_string(i) + "]");
    events.push_back(std::move(*ce));
  }
  return events;
}

// --- The binary mode ---

Result<std::vector<CloudEvent>> ParseBinary(const http::Request& request) {
  StringAttributes attributes;
  CloudEvent ce;
  for (const auto& [header, raw] : request.headers) {
    if (!StartsWithNoCase(header, kHeaderPrefix)) continue;
    const std::string name = Lower(std::string_view(header).substr(kHeaderPrefix.size()));
    const std::string where = "header " + header.substr(0, kMaxQuoted);
    std::string value;
    if (!http::PercentDecode(raw, &value, /*plus_is_space=*/false)) {
      return Status::InvalidArgument(where + ": " + Quoted(raw) +
                                     " is not percent-encoded correctly; '%' must start an escape of two hex digits");
    }
    if (!IsValidUtf8(value)) {
      return Status::InvalidArgument(where + ": the percent-decoded value is not valid UTF-8");
    }
    if (name == "datacontenttype") {
      return Status::InvalidArgument(where + ": in binary mode the data's media type is the Content-Type header");
    }
    std::optional<std::string>* slot = attributes.Find(name);
    if (slot == nullptr && !IsAttributeName(name)) {
      return Status::InvalidArgument(where + ": " + Quoted(name) +
                                     " is not an attribute name; a name is lower-case ASCII letters and digits only");
    }
    if (slot == nullptr && name == "data") {
      return Status::InvalidArgument(where + ": data is not an attribute; in binary mode the data is the body");
    }
    if ((slot != nullptr && slot->has_value()) || ce.extensions.contains(name)) {
      return Status::InvalidArgument(where + ": given twice; each attribute may be given once");
    }
    if (slot != nullptr) {
      *slot = std::move(value);
    } else {
      ce.extensions[name] = JsonQuote(value);
    }
  }
  for (const auto& [header, value] : request.headers) {
    if (StartsWithNoCase(header, "Content-Type") && header.size() == 12) {
      attributes.datacontenttype = value;  // given empty, it is refused as no media type
      break;
    }
  }
  if (!request.body.empty()) {
    ce.data_form = CloudEvent::DataForm::kBytes;
    ce.data = request.body;
  }
  CUSTODIAN_RETURN_IF_ERROR(CheckAttributes(attributes, BinaryName, &ce));
  return std::vector<CloudEvent>{std::move(ce)};
}

// The `actor` extension's string.
Result<std::string> ActorOf(const CloudEvent& ce) {
  const auto it = ce.extensions.find("actor");
  if (it == ce.extensions.end()) {
    return Status::InvalidArgument(
        "extension attribute 'actor' is missing; Custodian records who caused each event: staff-<id>, system or "
        "system:<name> (header ce-actor in binary mode)");
  }
  boost::system::error_code ec;
  const json::value v = json::parse(it->second, ec);
  if (ec || !v.is_string()) {
    return Status::InvalidArgument("extension attribute 'actor': expected a string such as staff-7, got " +
                                   it->second.substr(0, kMaxQuoted));
  }
  return std::string(v.get_string());
}

Result<std::string> DataOf(const CloudEvent& ce) {
  using Form = CloudEvent::DataForm;
  if (ce.data_form == Form::kNone) return std::string("{}");
  // Absent datacontenttype means JSON in the JSON format (3.1); a binary body
  // or data_base64 without one is bytes of unknown type.
  std::optional<std::string> essence;
  if (ce.datacontenttype) essence = MediaTypeEssence(*ce.datacontenttype);
  const bool is_json = essence ? IsJsonEssence(*essence) : ce.data_form == Form::kJson;
  if (!is_json) {
    return Status::InvalidArgument(
        ce.datacontenttype
            ? "attribute 'datacontenttype': " + Quoted(*ce.datacontenttype) +
                  " is not JSON; the data becomes the event's data, a JSON object, so it must be application/json "
                  "(or text/json, or a +json type)"
            : std::string("attribute 'datacontenttype' is missing for data given as bytes; the data becomes the "
                          "event's data, a JSON object: send Content-Type: application/json"));
  }
  std::string text = ce.data;
  if (ce.data_form == Form::kBytes) {
    Result<std::string> compact = CompactJson(ce.data, "data: ");
    if (!compact.ok()) return compact.status();
    text = std::move(*compact);
  }
  if (text.empty() || text.front() != '{') {
    boost::system::error_code ec;
    const json::value v = json::parse(text, ec);
    return Status::InvalidArgument(std::string("data: expected a JSON object, got ") +
                                   (ec ? "something else" : KindName(v)));
  }
  return text;
}

}  // namespace

Result<CloudEventsMode> CloudEventsModeOf(const http::Request& request) {
  const std::string content_type = request.Header("Content-Type");
  const std::optional<std::string> essence = MediaTypeEssence(content_type);
  if (essence == kCloudEventsJson) return CloudEventsMode::kStructured;
  if (essence == kCloudEventsBatchJson) return CloudEventsMode::kBatched;
  if (essence && essence->starts_with("application/cloudevents")) {
    return Status::Unsupported("Content-Type " + Quoted(content_type) +
                               ": only the JSON event format is read; send " + std::string(kAcceptedMediaTypes) +
                               ", or the binary mode (ce- headers)");
  }
  for (const auto& [header, value] : request.headers) {
    if (StartsWithNoCase(header, kHeaderPrefix)) return CloudEventsMode::kBinary;
  }
  return Status::Unsupported(
      (content_type.empty() ? std::string("no Content-Type") : "Content-Type " + Quoted(content_type)) +
      " and no ce- headers: this is not a CloudEvent; send " + std::string(kAcceptedMediaTypes) +
      ", or the binary mode (ce-specversion, ce-id, ce-source, ce-type headers and the data as the body)");
}

Result<std::vector<CloudEvent>> ParseCloudEvents(const http::Request& request) {
  Result<CloudEventsMode> mode = CloudEventsModeOf(request);
  if (!mode.ok()) return mode.status();
  if (*mode == CloudEventsMode::kBinary) return ParseBinary(request);
  return ParseStructured(request, *mode);
}

std::string CloudEventIdSeed(std::string_view source, std::string_view id) {
  std::string seed = "cloudevents\n";
  seed.append(source);
  seed.push_back('\n');
  seed.append(id);
  return seed;
}

EventId CloudEventEventId(std::string_view source, std::string_view id) {
  return EventId::FromSeed(CloudEventIdSeed(source, id));
}

Result<Event> CloudEventToEvent(const CloudEvent& ce, Timestamp now) {
  if (!ce.subject) {
    return Status::InvalidArgument(
        "attribute 'subject' is missing; Custodian files each event in the stream the subject names, such as "
        "customer-42");
  }
  Result<std::string> actor = ActorOf(ce);
  if (!actor.ok()) return actor.status();
  if (!ce.time) {
    return Status::InvalidArgument(
        "attribute 'time' is missing; Custodian records when it happened (occurred_at), and a time taken on arrival "
        "would make a retried event differ from its first delivery");
  }
  Result<std::string> data = DataOf(ce);
  if (!data.ok()) return data.status();
  Event e;
  e.id = CloudEventEventId(ce.source, ce.id);
  e.stream = *ce.subject;
  e.type = ce.type;
  e.actor = std::move(*actor);
  e.occurred_at = *ce.time;
  e.source = ce.source;
  e.data = std::move(*data);
  CUSTODIAN_RETURN_IF_ERROR(ValidateEvent(e, now));
  return e;
}

Result<DecodedCloudEvents> DecodeCloudEvents(const http::Request& request, Timestamp now) {
  Result<CloudEventsMode> mode = CloudEventsModeOf(request);
  if (!mode.ok()) return mode.status();
  Result<std::vector<CloudEvent>> parsed = ParseCloudEvents(request);
  if (!parsed.ok()) return parsed.status();
  DecodedCloudEvents out;
  out.mode = *mode;
  std::unordered_map<EventId, size_t, EventIdHash> first_of;  // event id -> index in `parsed`
  for (size_t i = 0; i < parsed->size(); ++i) {
    const std::string where = out.mode == CloudEventsMode::kBatched ? "batch[" + std::to_string(i) + "]" : "";
    Result<Event> e = CloudEventToEvent((*parsed)[i], now);
    if (!e.ok()) return where.empty() ? e.status() : e.status().WithContext(where);
    const auto [it, inserted] = first_of.try_emplace(e->id, i);
    if (!inserted) {
      const size_t first = it->second;
      const size_t index = out.event_of[first];
      if (!(out.events[index] == *e)) {
        return Status::InvalidArgument(where + ": source " + Quoted((*parsed)[i].source) + " and id " +
                                       Quoted((*parsed)[i].id) + " were given already by batch[" +
                                       std::to_string(first) + "] with other content; a CloudEvent's source and id "
                                       "name one event");
      }
      out.event_of.push_back(index);
      continue;
    }
    out.event_of.push_back(out.events.size());
    out.events.push_back(std::move(*e));
  }
  return out;
}

}  // namespace custodian
