#include "core/json.h"

#include <boost/json.hpp>

#include <array>

#include "core/json_arena.h"
#include "core/time.h"
#include "core/validation.h"

namespace json = boost::json;

namespace custodian {
namespace {

using internal::KindName;
using ArenaParser = internal::ArenaJsonParser;

Status FieldError(std::string_view field, const std::string& message) {
  return Status::InvalidArgument("field '" + std::string(field) + "': " + message);
}

Status ExpectString(std::string_view field, const json::value& v, std::string* out) {
  if (!v.is_string()) return FieldError(field, std::string("expected a string, got ") + KindName(v.kind()));
  *out = std::string(v.get_string());
  return Status::Ok();
}

}  // namespace

Result<Event> ParseEventJson(std::string_view text) {
  ArenaParser parser;
  Result<json::value> parsed = parser.Parse(text);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object()) {
    return Status::InvalidArgument(std::string("an event must be a JSON object, got ") + KindName(parsed->kind()));
  }
  const json::object& obj = parsed->get_object();
  Event e;
  bool has_id = false, has_stream = false, has_type = false, has_actor = false, has_occurred = false;
  for (const auto& [key, v] : obj) {
    std::string_view k(key.data(), key.size());
    if (k == "id") {
      std::string s;
      CUSTODIAN_RETURN_IF_ERROR(ExpectString(k, v, &s));
      Result<EventId> id = EventId::Parse(s);
      if (!id.ok()) return id.status().WithContext("field 'id'");
      e.id = *id;
      has_id = true;
    } else if (k == "stream") {
      CUSTODIAN_RETURN_IF_ERROR(ExpectString(k, v, &e.stream));
      has_stream = true;
    } else if (k == "type") {
      CUSTODIAN_RETURN_IF_ERROR(ExpectString(k, v, &e.type));
      has_type = true;
    } else if (k == "actor") {
      CUSTODIAN_RETURN_IF_ERROR(ExpectString(k, v, &e.actor));
      has_actor = true;
    } else if (k == "schema") {
      if (!v.is_int64() && !v.is_uint64()) {
        return FieldError(k, std::string("expected a whole number, got ") + KindName(v.kind()));
      }
      bool in_range = v.is_uint64() ? v.get_uint64() <= UINT32_MAX
                                    : v.get_int64() >= 1 && v.get_int64() <= INT64_C(0xFFFFFFFF);
      if (!in_range || (v.is_uint64() && v.get_uint64() == 0)) {
        return FieldError(k, "must be between 1 and 4294967295, got " + json::serialize(v));
      }
      e.schema = static_cast<uint32_t>(v.is_uint64() ? v.get_uint64() : static_cast<uint64_t>(v.get_int64()));
    } else if (k == "occurred_at") {
      std::string s;
      CUSTODIAN_RETURN_IF_ERROR(ExpectString(k, v, &s));
      Result<Timestamp> t = ParseRfc3339(s);
      if (!t.ok()) return t.status().WithContext("field 'occurred_at'");
      e.occurred_at = *t;
      has_occurred = true;
    } else if (k == "source" || k == "correlation_id" || k == "causation_id") {
      std::string* out = k == "source" ? &e.source : k == "correlation_id" ? &e.correlation_id : &e.causation_id;
      if (!v.is_null()) CUSTODIAN_RETURN_IF_ERROR(ExpectString(k, v, out));
    } else if (k == "data") {
      if (!v.is_object()) return FieldError(k, std::string("expected a JSON object, got ") + KindName(v.kind()));
      e.data = json::serialize(v);
    } else if (k == "personal") {
      if (v.is_null() || (v.is_object() && v.get_object().empty())) continue;
      if (!v.is_object()) return FieldError(k, std::string("expected a JSON object, got ") + KindName(v.kind()));
      return FieldError(k,
                        "sealing of personal data is not available in this version; keep names, e-mail "
                        "addresses and phone numbers out of events for now");
    } else if (k == "position" || k == "version" || k == "recorded_at") {
      continue;  // assigned by the log
    } else {
      return FieldError(k, "is not a field of an event; the fields are id, stream, type, schema, actor, "
                           "occurred_at, source, correlation_id, causation_id, data, personal");
    }
  }
  auto missing = [](const char* field, const char* what) {
    return Status::InvalidArgument(std::string("field '") + field + "' is missing; " + what);
  };
  if (!has_id) return missing("id", "every event needs a UUID chosen by its producer");
  if (!has_stream) return missing("stream", "expected <category>-<id> such as customer-42");
  if (!has_type) return missing("type", "expected <noun>.<verb> such as interaction.logged");
  if (!has_actor) return missing("actor", "every event names who caused it: staff-<id>, system or system:<name>");
  if (!has_occurred) return missing("occurred_at", "expected an RFC 3339 time such as 2026-03-01T10:15:00Z");
  return e;
}

std::string JsonQuote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out.push_back(kHex[(c >> 4) & 0xf]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string EventToJson(const Event& e, JsonFields fields) {
  std::string out;
  out.reserve(e.data.size() + 256);
  out += "{\"id\":\"" + e.id.ToString() + "\"";
  out += ",\"stream\":" + JsonQuote(e.stream);
  out += ",\"type\":" + JsonQuote(e.type);
  out += ",\"schema\":" + std::to_string(e.schema);
  out += ",\"actor\":" + JsonQuote(e.actor);
  out += ",\"occurred_at\":\"" + FormatRfc3339(e.occurred_at) + "\"";
  if (!e.source.empty()) out += ",\"source\":" + JsonQuote(e.source);
  if (!e.correlation_id.empty()) out += ",\"correlation_id\":" + JsonQuote(e.correlation_id);
  if (!e.causation_id.empty()) out += ",\"causation_id\":" + JsonQuote(e.causation_id);
  out += ",\"data\":";
  out += e.data;
  if (fields == JsonFields::kWithLogFields) {
    out += ",\"position\":" + std::to_string(e.position.value());
    out += ",\"version\":" + std::to_string(e.version.value());
    out += ",\"recorded_at\":\"" + FormatRfc3339(e.recorded_at) + "\"";
  }
  out.push_back('}');
  return out;
}

Status CheckJsonObject(std::string_view text) {
  ArenaParser parser;
  Result<json::value> parsed = parser.Parse(text);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object()) {
    return Status::InvalidArgument(std::string("expected a JSON object, got ") + KindName(parsed->kind()));
  }
  return Status::Ok();
}

}  // namespace custodian
