#include "core/json.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <set>
#include <vector>

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

// --- Compact JSON, exactly as given ---

// Appends `s` as a JSON string literal, escaped exactly as Boost.JSON's
// serializer escapes (so data stored before this writer existed compares
// equal): \" \\ \b \f \n \r \t, other control characters as \u00XX.
void AppendQuoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    out.push_back('\\');
    switch (c) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '\b': out.push_back('b'); break;
      case '\f': out.push_back('f'); break;
      case '\n': out.push_back('n'); break;
      case '\r': out.push_back('r'); break;
      case '\t': out.push_back('t'); break;
      default:
        out += "u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

// A Boost.JSON push-parser handler that writes the document back compactly:
// no whitespace, strings re-escaped (AppendQuoted), numbers copied character
// for character, so 1.10 stays 1.10 and 12345678901234567890123 keeps every
// digit. A key given twice in one object stops the parse; `duplicate` then
// names its path ("x_meta.email", "items[2].id").
class CompactWriter {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  explicit CompactWriter(std::string* out) : out_(*out) {}

  const std::string& duplicate() const { return duplicate_; }

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    BeforeValue();
    out_.push_back('{');
    frames_.push_back(Frame{true});
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    out_.push_back('}');
    frames_.pop_back();
    return true;
  }
  bool on_array_begin(boost::system::error_code&) {
    BeforeValue();
    out_.push_back('[');
    frames_.push_back(Frame{false});
    return true;
  }
  bool on_array_end(std::size_t, boost::system::error_code&) {
    out_.push_back(']');
    frames_.pop_back();
    return true;
  }
  bool on_key_part(json::string_view part, std::size_t, boost::system::error_code&) {
    text_.append(part.data(), part.size());
    return true;
  }
  bool on_key(json::string_view part, std::size_t, boost::system::error_code& ec) {
    text_.append(part.data(), part.size());
    Frame& f = frames_.back();
    if (f.keys.size() == kScanKeys) f.index.insert(f.keys.begin(), f.keys.end());
    const bool seen = f.keys.size() < kScanKeys ? std::find(f.keys.begin(), f.keys.end(), text_) != f.keys.end()
                                                : !f.index.insert(text_).second;
    if (seen) {
      duplicate_ = Path(text_);
      ec = json::error::extra_data;  // any error: it stops the parser
      return false;
    }
    if (f.count++ > 0) out_.push_back(',');
    AppendQuoted(out_, text_);
    out_.push_back(':');
    f.keys.push_back(std::move(text_));
    text_.clear();
    after_key_ = true;
    return true;
  }
  bool on_string_part(json::string_view part, std::size_t, boost::system::error_code&) {
    text_.append(part.data(), part.size());
    return true;
  }
  bool on_string(json::string_view part, std::size_t, boost::system::error_code&) {
    BeforeValue();
    if (text_.empty()) {
      AppendQuoted(out_, std::string_view(part.data(), part.size()));
    } else {
      text_.append(part.data(), part.size());
      AppendQuoted(out_, text_);
      text_.clear();
    }
    return true;
  }
  bool on_number_part(json::string_view part, boost::system::error_code&) {
    if (!in_number_) {
      BeforeValue();
      in_number_ = true;
    }
    out_.append(part.data(), part.size());
    return true;
  }
  bool on_int64(std::int64_t, json::string_view s, boost::system::error_code&) { return Number(s); }
  bool on_uint64(std::uint64_t, json::string_view s, boost::system::error_code&) { return Number(s); }
  bool on_double(double, json::string_view s, boost::system::error_code&) { return Number(s); }
  bool on_bool(bool b, boost::system::error_code&) {
    BeforeValue();
    out_ += b ? "true" : "false";
    return true;
  }
  bool on_null(boost::system::error_code&) {
    BeforeValue();
    out_ += "null";
    return true;
  }
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }

 private:
  // Up to this many keys an object's are scanned (payloads are small: a
  // scan is cheapest); beyond, looked up in an ordered set, so that a hostile
  // object of a million keys costs a million lookups, not half a trillion
  // comparisons (an ordered set: a hash's buckets can be flooded by keys
  // chosen for its fixed seed).
  static constexpr size_t kScanKeys = 32;
  struct Frame {
    bool object;
    size_t count = 0;                       // members or elements so far
    std::vector<std::string> keys;          // objects: the keys so far
    std::set<std::string, std::less<>> index;  // objects of kScanKeys keys or more: the keys too
  };

  // Inside an array a value after the first needs a comma; inside an object
  // the key wrote it.
  void BeforeValue() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!frames_.empty() && !frames_.back().object && frames_.back().count++ > 0) out_.push_back(',');
  }
  bool Number(json::string_view last) {
    if (!in_number_) BeforeValue();
    in_number_ = false;
    out_.append(last.data(), last.size());
    return true;
  }
  // The path of `key` in the object being read, for messages.
  std::string Path(const std::string& key) const {
    std::string path;
    for (size_t i = 0; i + 1 < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      if (f.object) {
        if (!path.empty()) path.push_back('.');
        path += f.keys.back();
      } else {
        path += "[" + std::to_string(f.count - 1) + "]";
      }
    }
    if (!path.empty()) path.push_back('.');
    return path + key;
  }

  std::string& out_;
  std::vector<Frame> frames_;
  std::string text_;  // a key or string delivered in parts
  std::string duplicate_;
  bool after_key_ = false;
  bool in_number_ = false;
};

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Skips the JSON value of valid JSON text that starts at `i`; returns the
// index just past it.
size_t SkipValue(std::string_view t, size_t i) {
  if (i >= t.size()) return i;
  if (t[i] == '"') {
    for (++i; i < t.size() && t[i] != '"'; ++i) {
      if (t[i] == '\\') ++i;
    }
    return i + 1;
  }
  if (t[i] == '{' || t[i] == '[') {
    int depth = 0;
    for (; i < t.size(); ++i) {
      const char c = t[i];
      if (c == '"') {
        i = SkipValue(t, i) - 1;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return i + 1;
      }
    }
    return i;
  }
  while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ']' && !IsJsonSpace(t[i])) ++i;
  return i;
}

}  // namespace

Result<std::string> CompactJson(std::string_view text, std::string_view what) {
  std::string out;
  out.reserve(text.size());
  json::basic_parser<CompactWriter> parser(json::parse_options(), &out);
  boost::system::error_code ec;
  const size_t n = parser.write_some(false, text.data(), text.size(), ec);
  if (!parser.handler().duplicate().empty()) {
    return Status::InvalidArgument(std::string(what) + "key '" + parser.handler().duplicate() +
                                   "' is given twice; a key may appear once in an object");
  }
  if (ec || n < text.size()) {
    std::string why = ec ? ec.message() : "text after the JSON value";
    if (!IsValidUtf8(text)) why = "the text is not valid UTF-8";
    return Status::InvalidArgument(std::string(what) + "invalid JSON at byte " + std::to_string(n) + ": " + why);
  }
  return out;
}

std::optional<std::string_view> JsonMemberText(std::string_view object, std::string_view key) {
  size_t i = object.find('{');
  if (i == std::string_view::npos) return std::nullopt;
  ++i;
  while (i < object.size()) {
    while (i < object.size() && object[i] != '"' && object[i] != '}') ++i;  // whitespace and commas
    if (i >= object.size() || object[i] == '}') return std::nullopt;
    const size_t key_end = SkipValue(object, i);
    const std::string_view raw_key = object.substr(i + 1, key_end - i - 2);
    i = object.find(':', key_end);
    if (i == std::string_view::npos) return std::nullopt;
    size_t start = i + 1;
    while (start < object.size() && IsJsonSpace(object[start])) ++start;
    const size_t end = SkipValue(object, start);
    if (raw_key == key) return object.substr(start, end - start);
    i = end;
  }
  return std::nullopt;
}

std::string MergeJsonMembers(std::string_view data, std::string_view corrected) {
  boost::system::error_code ec;
  const json::value original = json::parse(data, ec);
  const json::value fixes = ec ? json::value() : json::parse(corrected, ec);
  if (ec || !original.is_object() || !fixes.is_object()) return std::string(data);
  std::string out = "{";
  auto member = [&](std::string_view key, std::string_view text) {
    if (out.size() > 1) out += ',';
    out += JsonQuote(key);
    out += ':';
    out += text;
  };
  for (const auto& [key, value] : original.get_object()) {
    const std::optional<std::string_view> text =
        fixes.get_object().contains(key) ? JsonMemberText(corrected, key) : JsonMemberText(data, key);
    if (text) member(key, *text);
  }
  for (const auto& [key, value] : fixes.get_object()) {
    if (original.get_object().contains(key)) continue;
    if (std::optional<std::string_view> text = JsonMemberText(corrected, key)) member(key, *text);
  }
  return out + "}";
}

std::vector<std::string_view> JsonArrayItems(std::string_view array) {
  std::vector<std::string_view> items;
  size_t i = 0;
  while (i < array.size() && IsJsonSpace(array[i])) ++i;
  if (i >= array.size() || array[i] != '[') return items;
  ++i;
  while (i < array.size()) {
    while (i < array.size() && (IsJsonSpace(array[i]) || array[i] == ',')) ++i;
    if (i >= array.size() || array[i] == ']') break;
    const size_t end = SkipValue(array, i);
    items.push_back(array.substr(i, end - i));
    i = end;
  }
  return items;
}

Result<Event> ParseEventJson(std::string_view text, RecordedBy recorded_by) {
  // Numbers and keys exactly as given: the compact text keeps every digit
  // and refuses a key given twice; `data` is cut from it, not re-serialized.
  Result<std::string> compact = CompactJson(text);
  if (!compact.ok()) return compact.status();
  ArenaParser parser;
  Result<json::value> parsed = parser.Parse(*compact);
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
      e.data = std::string(JsonMemberText(*compact, "data").value_or("{}"));
    } else if (k == "personal") {
      if (v.is_null() || (v.is_object() && v.get_object().empty())) continue;
      if (!v.is_object()) return FieldError(k, std::string("expected a JSON object, got ") + KindName(v.kind()));
      const json::object& p = v.get_object();
      if (const json::value* sealed = p.if_contains("sealed_for"); sealed && p.size() == 1) {
        // How a read prints a sealed part: kept as a marker (its bytes are
        // not in the text), which an append refuses and a bundle ignores.
        if (!sealed->is_string()) return FieldError("personal.sealed_for", "expected a subject id");
        e.personal.scheme = PersonalSection::Scheme::kAes256Gcm;
        e.personal.subject = std::string(sealed->get_string());
        continue;
      }
      e.personal_plain = std::string(JsonMemberText(*compact, "personal").value_or("{}"));
    } else if (k == "recorded_by") {
      if (recorded_by == RecordedBy::kIgnore) continue;  // assigned by the log
      if (!v.is_string() || v.get_string().empty()) return FieldError(k, "expected a token id");
      e.recorded_by = std::string(v.get_string());
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
  if (!e.personal_plain.empty()) {
    out += ",\"personal\":";
    out += e.personal_plain;
  } else if (!e.personal.empty()) {
    out += ",\"personal\":{\"sealed_for\":" + JsonQuote(e.personal.subject) + "}";
  }
  if (fields == JsonFields::kWithLogFields) {
    out += ",\"position\":" + std::to_string(e.position.value());
    out += ",\"version\":" + std::to_string(e.version.value());
    out += ",\"recorded_at\":\"" + FormatRfc3339(e.recorded_at) + "\"";
  }
  if (fields != JsonFields::kProducer && !e.recorded_by.empty()) out += ",\"recorded_by\":" + JsonQuote(e.recorded_by);
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
