#include "core/catalogue.h"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <string>
#include <unordered_map>

#include "core/event.h"
#include "core/json.h"
#include "core/json_arena.h"
#include "core/money.h"
#include "core/personal.h"
#include "core/time.h"
#include "core/types.h"
#include "core/validation.h"

namespace json = boost::json;

namespace custodian {
namespace {

using FT = FieldType;

// What a payload's keys mean to one type: a key names one of its fields
// (the index in spec.fields). One lookup
// per key of the payload, instead of a search of the payload per field.
struct TypeIndex {
  const EventTypeSpec* spec = nullptr;
  // KeyKind bits, beyond kPersonalBit, that are personal on this type: `name`
  // on contact events, and the type's personal fields (core/personal.h) that
  // are not fields of its data (`title`, `notes`).
  uint8_t personal_bits = 0;
  static constexpr size_t kMaxFields = 32;  // per type; GetIndex checks, and that `needs` names a field
  boost::unordered_flat_map<std::string_view, size_t, std::hash<std::string_view>> keys;
  std::vector<size_t> needs;  // per field: the index of the field it needs (SIZE_MAX: none)
  // For FastPayloadCheck: set when the type has no cross-field rules, every
  // field it `needs` is required, and its at_least_one_of names fields. Bit
  // i of a mask is field i.
  bool fast = false;
  uint32_t required = 0;
  uint32_t any_of = 0;  // at_least_one_of; 0 when the type has none
};

// Lower case, without '_', '-', '.' and spaces: "E_Mail" and "e-mail" are "email".
std::string NormalisedKey(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '_' || c == '-' || c == '.' || c == ' ') continue;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

// What a key is, normalised: kPersonalBit when IsPersonalKey, else the bit of
// a word that is personal on some types only. Payloads repeat the same few
// keys, so each thread keeps the answers (bounded) and a key costs one hash
// lookup on the write path.
constexpr uint8_t kPersonalBit = 1, kNameBit = 2, kTitleBit = 4, kNotesBit = 8;

uint8_t WordBit(std::string_view normalised) {
  if (normalised == "name") return kNameBit;
  if (normalised == "title") return kTitleBit;
  if (normalised == "notes") return kNotesBit;
  return 0;
}
uint8_t KeyKind(std::string_view key) {
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  thread_local boost::unordered_flat_map<std::string, uint8_t, Hash, std::equal_to<>> cache;
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  const uint8_t kind = static_cast<uint8_t>((IsPersonalKey(key) ? kPersonalBit : 0) | WordBit(NormalisedKey(key)));
  if (key.size() <= 64) {
    if (cache.size() >= 4096) cache.clear();
    cache.emplace(std::string(key), kind);
  }
  return kind;
}

// The type's personal words: `name` on contact events, and each personal
// field of the type that its data does not also have.
uint8_t PersonalBitsOf(const EventTypeSpec& spec) {
  uint8_t bits = spec.type.starts_with("contact.") ? kNameBit : 0;
  for (const PersonalFieldSpec& p : PersonalFieldsOf(spec.type)) {
    const bool in_data =
        std::any_of(spec.fields.begin(), spec.fields.end(), [&](const FieldSpec& f) { return f.name == p.name; });
    if (!in_data) bits |= WordBit(p.name);
  }
  return bits;
}

// A personal key for this type.
bool IsPersonalFor(const TypeIndex& type, std::string_view key) {
  const uint8_t kind = KeyKind(key);
  return (kind & (kPersonalBit | type.personal_bits)) != 0;
}

struct Index {
  boost::unordered_flat_map<std::string_view, TypeIndex, std::hash<std::string_view>> by_type;
  std::string known_types;  // "customer.registered, customer.updated, ..."
};

const Index& GetIndex() {
  static const Index index = [] {
    Index i;
    for (const EventTypeSpec& spec : Catalogue()) {
      TypeIndex& t = i.by_type[spec.type];  // one schema per type in v1
      t.spec = &spec;
      if (spec.fields.size() > TypeIndex::kMaxFields) std::abort();  // raise kMaxFields
      t.personal_bits = PersonalBitsOf(spec);
      for (const FieldSpec& f : spec.fields) {
        // The fast path takes a type's own fields as not personal.
        if (IsPersonalKey(f.name) || (KeyKind(f.name) & t.personal_bits) != 0) std::abort();
      }
      for (size_t f = 0; f < spec.fields.size(); ++f) t.keys.emplace(spec.fields[f].name, f);
      for (const FieldSpec& f : spec.fields) {
        if (f.needs.empty()) {
          t.needs.push_back(SIZE_MAX);
          continue;
        }
        auto needed = t.keys.find(f.needs);
        if (needed == t.keys.end()) std::abort();  // not a field of the type
        t.needs.push_back(needed->second);
      }
      // The fast path leaves cross-field rules, and a field that needs an
      // optional one, to the DOM path.
      t.fast = spec.rules.empty();
      for (size_t f = 0; f < spec.fields.size(); ++f) {
        if (spec.fields[f].presence == Presence::kRequired) t.required |= uint32_t{1} << f;
        if (t.needs[f] != SIZE_MAX && spec.fields[t.needs[f]].presence != Presence::kRequired) t.fast = false;
      }
      for (std::string_view name : spec.at_least_one_of) {
        auto field = t.keys.find(name);
        if (field == t.keys.end()) {
          t.fast = false;  // the DOM path answers
        } else {
          t.any_of |= uint32_t{1} << field->second;
        }
      }
      if (!i.known_types.empty()) i.known_types += ", ";
      i.known_types += spec.type;
    }
    return i;
  }();
  return index;
}

// --- Values and messages ---

constexpr size_t kMaxStringBytes = 200;
constexpr size_t kMaxTextBytes = 65536;
constexpr size_t kMaxRecordIdBytes = 100;
constexpr size_t kMaxShownBytes = 80;

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }

// [A-Za-z0-9][A-Za-z0-9._-]*, plus ':' when `colon` is set.
bool IsIdText(std::string_view s, bool colon) {
  if (s.empty() || !IsAlnum(s[0])) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != '-' && !(colon && c == ':')) return false;
  }
  return true;
}

bool IsPrefixedId(std::string_view s, std::string_view prefix) {
  return s.size() <= kMaxStreamBytes && s.starts_with(prefix) && IsIdText(s.substr(prefix.size()), false);
}

std::string Shown(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string: {
      std::string_view s = v.get_string();
      if (s.size() <= kMaxShownBytes) return json::serialize(s);
      size_t cut = kMaxShownBytes;
      while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
      return json::serialize(s.substr(0, cut)) + "... (" + std::to_string(s.size()) + " bytes)";
    }
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
    case json::kind::double_: {
      std::array<char, 32> buffer;  // shortest form: 2.5, not boost's 2.5E0
      auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), v.get_double());
      return ec == std::errc() ? std::string(buffer.data(), end) : json::serialize(v);
    }
    default:
      return json::serialize(v);
  }
}

Status FieldError(std::string_view path, const std::string& message) {
  return Status::InvalidArgument("field '" + std::string(path) + "': " + message);
}

Status Expected(std::string_view path, std::string_view what, const json::value& got) {
  return FieldError(path, "expected " + std::string(what) + "; got " + Shown(got));
}

std::string Joined(const std::vector<std::string_view>& values) {
  std::string out;
  for (std::string_view v : values) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

// The byte offset of the first control character of `s` (C0 but the line
// breaks and tabs `allow_breaks` allows, DEL, or C1 U+0080..U+009F), or npos.
size_t FindControl(std::string_view s, bool allow_breaks) {
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (static_cast<unsigned char>(c - 0x20) < 0x5f) continue;  // printable ASCII: one compare
    if ((c < 0x20 && !(allow_breaks && (c == '\n' || c == '\r' || c == '\t'))) || c == 0x7f) return i;
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9f) return i;
  }
  return std::string_view::npos;
}

bool IsLabel(std::string_view s, size_t max_bytes, bool allow_breaks) {
  return !s.empty() && s.size() <= max_bytes && FindControl(s, allow_breaks) == std::string_view::npos;
}

// Which control character makes a string not a label or text, for the
// message (its length shows in the value shown); empty when none does.
std::string LabelProblem(std::string_view s, bool allow_breaks) {
  const size_t at = FindControl(s, allow_breaks);
  if (at == std::string_view::npos) return "";
  const unsigned char c = static_cast<unsigned char>(s[at]);
  const unsigned code = c == 0xc2 ? static_cast<unsigned char>(s[at + 1]) : c;
  return fmt::format("it holds the control character U+{:04X} at byte {}", code, at);
}

bool IsNumber(const json::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }
double AsDouble(const json::value& v) {
  return v.is_int64()    ? static_cast<double>(v.get_int64())
         : v.is_uint64() ? static_cast<double>(v.get_uint64())
                         : v.get_double();
}

// True when the number `d` is a value of the scalar type `t` (`whole`: the
// JSON text was an integer of 0 or more).
bool MatchesNumber(FieldType t, double d, bool whole) {
  if (!std::isfinite(d)) return false;
  switch (t) {
    case FT::kNumber:
      return d >= 0;
    case FT::kPercent:
      return d >= 0 && d <= 100;
    case FT::kCount:
      return whole;
    default:
      return false;
  }
}

// True when the string `s` is a value of the scalar type `t`.
bool MatchesString(FieldType t, std::string_view s) {
  switch (t) {
    case FT::kString:
      return IsLabel(s, kMaxStringBytes, /*allow_breaks=*/false);
    case FT::kText:
      return IsLabel(s, kMaxTextBytes, /*allow_breaks=*/true);
    case FT::kTime:
      return ParseRfc3339(s).ok();
    case FT::kRecordId:
      return s.size() <= kMaxRecordIdBytes && IsIdText(s, true);
    case FT::kStaffId:
      return IsPrefixedId(s, "staff-");
    case FT::kCustomerId:
      return IsPrefixedId(s, "customer-");
    case FT::kSubjectId:
      return IsPrefixedId(s, "customer-") || IsPrefixedId(s, "contact-") || IsPrefixedId(s, "staff-");
    case FT::kEventId:
      return EventId::Parse(s).ok();
    case FT::kCurrency:
      return s.size() == 3 && IsUpper(s[0]) && IsUpper(s[1]) && IsUpper(s[2]);
    case FT::kCountry:
      return s.size() == 2 && IsUpper(s[0]) && IsUpper(s[1]);
    default:
      return false;
  }
}

// True when `s` is one of an enum field's values.
bool IsOneOf(const FieldSpec& f, std::string_view s) {
  return std::find(f.values.begin(), f.values.end(), s) != f.values.end();
}

// True when `v` is a value of the scalar type `t`.
bool MatchesScalar(FieldType t, const json::value& v) {
  switch (t) {
    case FT::kBoolean:
      return v.is_bool();
    case FT::kAmount:
      return false;  // judged on its text: CheckField's `text`
    case FT::kNumber:
    case FT::kPercent:
    case FT::kCount:
      return IsNumber(v) && MatchesNumber(t, AsDouble(v), v.is_uint64() || (v.is_int64() && v.get_int64() >= 0));
    case FT::kObject:
      return v.is_object();
    default:
      return v.is_string() && MatchesString(t, v.get_string());
  }
}

// The element type of an array type (kObject for kAssignments).
FieldType ElementType(FieldType t) {
  switch (t) {
    case FT::kStringArray:
      return FT::kString;
    case FT::kStaffIdArray:
      return FT::kStaffId;
    case FT::kCustomerIdArray:
      return FT::kCustomerId;
    case FT::kEventIdArray:
      return FT::kEventId;
    default:
      return FT::kObject;
  }
}

bool IsArrayType(FieldType t) {
  return t == FT::kStringArray || t == FT::kStaffIdArray || t == FT::kCustomerIdArray || t == FT::kEventIdArray ||
         t == FT::kAssignments;
}

Status CheckAssignment(const std::string& path, const json::value& v) {
  if (!v.is_object()) return Expected(path, "an object {\"customer\": customer id, \"to\": staff id}", v);
  const json::object& o = v.get_object();
  for (const auto& [key, type] : {std::pair<std::string_view, FieldType>{"customer", FT::kCustomerId},
                                  std::pair<std::string_view, FieldType>{"to", FT::kStaffId}}) {
    const json::value* member = o.if_contains(key);
    std::string member_path = path + "." + std::string(key);
    if (member == nullptr || member->is_null())
      return Status::InvalidArgument("field '" + member_path + "' is missing");
    if (!MatchesScalar(type, *member)) return Expected(member_path, FieldTypeText(type), *member);
  }
  return Status::Ok();
}

// `text` is the value as written in the payload (amounts are judged on it:
// a parsed number has already lost what makes an amount exact or not).
Status CheckField(const FieldSpec& f, const json::value& v, std::optional<std::string_view> text) {
  if (f.type == FT::kAmount) {
    if (!v.is_number()) return Expected("data." + std::string(f.name), FieldTypeText(f.type), v);
    std::string written = text ? std::string(*text) : json::serialize(v);
    Result<Amount> amount = Amount::Parse(written);
    if (amount.ok()) return Status::Ok();
    return FieldError("data." + std::string(f.name), amount.status().message());
  }
  if (f.type == FT::kEnum) {
    if (v.is_string() && IsOneOf(f, v.get_string())) return Status::Ok();
    return Expected("data." + std::string(f.name), "one of " + Joined(f.values), v);
  }
  if (!IsArrayType(f.type)) {
    if (MatchesScalar(f.type, v)) return Status::Ok();
    if ((f.type == FT::kString || f.type == FT::kText) && v.is_string()) {
      const bool text = f.type == FT::kText;
      const std::string why = LabelProblem(v.get_string(), text);
      return FieldError("data." + std::string(f.name), "expected " + std::string(FieldTypeText(f.type)) + "; got " +
                                                           Shown(v) + (why.empty() ? "" : ": " + why));
    }
    return Expected("data." + std::string(f.name), FieldTypeText(f.type), v);
  }
  if (!v.is_array()) return Expected("data." + std::string(f.name), FieldTypeText(f.type), v);
  const json::array& items = v.get_array();
  const FieldType element = ElementType(f.type);
  for (size_t i = 0; i < items.size(); ++i) {
    if (f.type == FT::kAssignments) {
      CUSTODIAN_RETURN_IF_ERROR(
          CheckAssignment("data." + std::string(f.name) + "[" + std::to_string(i) + "]", items[i]));
    } else if (!MatchesScalar(element, items[i])) {
      return Expected("data." + std::string(f.name) + "[" + std::to_string(i) + "]", FieldTypeText(element), items[i]);
    }
  }
  return Status::Ok();
}

// --- The fast path ---

// Checks a payload against its type in one pass of Boost.JSON's push parser,
// without building the document. It only answers "valid" or "not sure":
// whatever it does not settle (any failure, a personal key, a key given
// twice, an assignments field, a type with cross-field rules) is left to the
// DOM path, which words the message. So the two agree on what is valid, and
// the messages have one source.
class FastPayloadCheck {
 public:
  // The DOM parser's own limits, so that the fast path accepts no more.
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  explicit FastPayloadCheck(const TypeIndex& type) : type_(type) {}

  // True when every field found has its type, and the required and
  // at-least-one-of fields are present (null counts as absent). A field's
  // `needs` names a required field in every type the fast path checks.
  bool Settled() const {
    if (unsure_ || (present_ & type_.required) != type_.required) return false;
    return type_.any_of == 0 || (present_ & type_.any_of) != 0;
  }

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }

  bool on_object_begin(boost::system::error_code& ec) {
    if (depth_ == 1 && field_ != kIgnored) {  // a field's value
      if (Spec(field_).type != FT::kObject) return Unsure(ec);
      Present(field_);
    } else if (depth_ == 2 && array_ != kIgnored) {  // an assignment, or an object among strings
      return Unsure(ec);
    }
    ++depth_;
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    --depth_;
    return true;
  }
  bool on_array_begin(boost::system::error_code& ec) {
    if (depth_ == 0) return Unsure(ec);  // data must be an object
    if (depth_ == 1 && field_ != kIgnored) {
      const FieldType t = Spec(field_).type;
      if (!IsArrayType(t)) return Unsure(ec);
      Present(field_);
      array_ = field_;
    } else if (depth_ == 2 && array_ != kIgnored) {
      return Unsure(ec);  // an array in an array of strings
    }
    ++depth_;
    return true;
  }
  bool on_array_end(std::size_t, boost::system::error_code&) {
    if (--depth_ == 1) array_ = kIgnored;
    return true;
  }

  bool on_key_part(json::string_view part, std::size_t, boost::system::error_code&) {
    text_.append(part.data(), part.size());
    return true;
  }
  bool on_key(json::string_view part, std::size_t, boost::system::error_code& ec) {
    const std::string_view key = Whole(part);
    // A field of the type is never personal; any other key, at any depth, may be.
    auto found = depth_ == 1 ? type_.keys.find(key) : type_.keys.end();
    if (found == type_.keys.end() && IsPersonalFor(type_, key)) return Unsure(ec);
    text_.clear();
    if (depth_ != 1) return true;
    field_ = kIgnored;
    if (found == type_.keys.end()) return true;
    const uint32_t bit = uint32_t{1} << found->second;
    if (seen_ & bit) return Unsure(ec);  // the DOM keeps the last of two; let it judge
    seen_ |= bit;
    field_ = found->second;
    return true;
  }

  bool on_string_part(json::string_view part, std::size_t, boost::system::error_code&) {
    if (Checked()) text_.append(part.data(), part.size());
    return true;
  }
  bool on_string(json::string_view part, std::size_t, boost::system::error_code& ec) {
    if (depth_ == 0) return Unsure(ec);  // data must be an object
    if (!Checked()) return true;
    const std::string_view value = Whole(part);
    bool ok;
    if (depth_ == 2) {
      ok = MatchesString(ElementType(Spec(array_).type), value);
    } else {
      const FieldSpec& f = Spec(field_);
      ok = f.type == FT::kEnum ? IsOneOf(f, value) : MatchesString(f.type, value);
    }
    text_.clear();
    return ok ? Accept(ec) : Unsure(ec);
  }
  bool on_number_part(json::string_view part, boost::system::error_code&) {
    if (Checked()) text_.append(part.data(), part.size());
    return true;
  }
  bool on_int64(std::int64_t v, json::string_view s, boost::system::error_code& ec) {
    return Number(static_cast<double>(v), v >= 0, s, ec);
  }
  bool on_uint64(std::uint64_t v, json::string_view s, boost::system::error_code& ec) {
    return Number(static_cast<double>(v), true, s, ec);
  }
  bool on_double(double v, json::string_view s, boost::system::error_code& ec) { return Number(v, false, s, ec); }
  bool on_bool(bool, boost::system::error_code& ec) {
    if (depth_ == 0) return Unsure(ec);
    if (!Checked()) return true;
    return depth_ == 1 && Spec(field_).type == FT::kBoolean ? Accept(ec) : Unsure(ec);
  }
  bool on_null(boost::system::error_code& ec) {
    if (depth_ == 0) return Unsure(ec);
    if (!Checked()) return true;
    return depth_ == 1 ? true : Unsure(ec);  // a null field is an absent one
  }
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }

 private:
  static constexpr size_t kIgnored = SIZE_MAX;

  const FieldSpec& Spec(size_t field) const { return type_.spec->fields[field]; }
  // A value the checks look at: a field's own, or an element of its array.
  bool Checked() const { return (depth_ == 1 && field_ != kIgnored) || (depth_ == 2 && array_ != kIgnored); }
  std::string_view Whole(json::string_view last) {
    if (text_.empty()) return std::string_view(last.data(), last.size());
    text_.append(last.data(), last.size());
    return text_;
  }
  void Present(size_t field) { present_ |= uint32_t{1} << field; }
  bool Accept(boost::system::error_code&) {
    if (depth_ == 1) Present(field_);
    return true;
  }
  bool Unsure(boost::system::error_code& ec) {
    unsure_ = true;
    ec = json::error::extra_data;  // any error: it stops the parser
    return false;
  }
  bool Number(double v, bool whole, json::string_view last, boost::system::error_code& ec) {
    if (depth_ == 0) return Unsure(ec);
    if (!Checked()) return true;
    if (depth_ != 1) return Unsure(ec);
    const FieldType t = Spec(field_).type;
    if (t == FT::kAmount) {  // judged on the text as written
      const std::string_view written = Whole(last);
      const bool ok = Amount::Parse(written).ok();
      text_.clear();
      return ok ? Accept(ec) : Unsure(ec);
    }
    text_.clear();
    return MatchesNumber(t, v, whole) ? Accept(ec) : Unsure(ec);
  }

  const TypeIndex& type_;
  size_t depth_ = 0;         // containers open: 1 inside the payload object
  size_t field_ = kIgnored;  // the field whose value comes next, at depth 1
  size_t array_ = kIgnored;  // the array field being read, at depth 2
  uint32_t present_ = 0;
  uint32_t seen_ = 0;
  bool unsure_ = false;
  std::string text_;  // a key or string delivered in parts
};

bool FastPayloadValid(const TypeIndex& type, std::string_view data_json) {
  json::basic_parser<FastPayloadCheck> parser(json::parse_options(), type);
  boost::system::error_code ec;
  const size_t n = parser.write_some(false, data_json.data(), data_json.size(), ec);
  return !ec && n == data_json.size() && parser.handler().Settled();  // n < size: text after the object
}

// --- Streams ---

bool StreamFits(StreamRule rule, std::string_view stream) {
  switch (rule) {
    case StreamRule::kCustomer:
      return IsPrefixedId(stream, "customer-");
    case StreamRule::kStaff:
      return IsPrefixedId(stream, "staff-");
    case StreamRule::kAccess:
      return stream.starts_with("access-") && IsPrefixedId(stream.substr(7), "staff-");
    case StreamRule::kAlerts:
      return stream == "alerts";
    case StreamRule::kTokens:
      return stream == "tokens";
    case StreamRule::kSystemOrCustomer:
      return stream == "system" || IsPrefixedId(stream, "customer-");
    case StreamRule::kSubject:
      return IsPrefixedId(stream, "customer-") || IsPrefixedId(stream, "staff-");
    case StreamRule::kFixedEvent:
      return stream == "alerts" || stream == "system" || IsPrefixedId(stream, "customer-") ||
             IsPrefixedId(stream, "staff-") ||
             (stream.starts_with("access-") && IsPrefixedId(stream.substr(7), "staff-"));
  }
  return false;
}

// --- Cross-field rules (EventTypeSpec::rules) ---

const json::value* Present(const json::object& data, std::string_view name) {
  const json::value* v = data.if_contains(name);
  return v == nullptr || v->is_null() ? nullptr : v;
}

std::string_view StringOf(const json::value* v) { return v ? std::string_view(v->get_string()) : std::string_view(); }

Status CheckRules(const EventTypeSpec& spec, const json::object& data, std::string_view stream) {
  const std::string_view type = spec.type;
  if (type == "customer.registered") {
    const bool individual = StringOf(Present(data, "kind")) == "individual";
    const bool has_name = Present(data, "name") != nullptr;
    if (individual && has_name) {
      return FieldError("data.name",
                        "an individual customer's name is personal data; it goes in the event's personal part "
                        "(personal.name), which the log seals");
    }
    if (individual && Present(data, "address") != nullptr) {
      return FieldError("data.address",
                        "an individual customer's address is personal data; it goes in the event's personal part "
                        "(personal.address), which the log seals");
    }
    if (!individual && !has_name) {
      return Status::InvalidArgument(
          "field 'data.name' is missing; customer.registered requires it for an organization (kind is "
          "organization when absent)");
    }
  } else if (type == "deal.stage_changed") {
    std::string_view stage = StringOf(Present(data, "stage"));
    if (const json::value* previous = Present(data, "previous_stage"); previous && previous->get_string() == stage) {
      return FieldError("data.stage",
                        "is the same as previous_stage (" + Shown(*previous) + "); a stage change needs a new stage");
    }
  } else if (type == "customer.owner_assigned") {
    std::string_view reason = StringOf(Present(data, "reason"));
    const json::value* previous = Present(data, "previous_owner");
    if (reason == "initial" && previous) {
      return FieldError("data.previous_owner",
                        "must be absent or null when reason is \"initial\"; got " + Shown(*previous));
    }
    if (reason != "initial" && !previous) {
      return Status::InvalidArgument(
          "field 'data.previous_owner' is missing; customer.owner_assigned requires it "
          "when reason is \"" +
          std::string(reason) + "\"");
    }
    if (previous && previous->get_string() == StringOf(Present(data, "owner"))) {
      return FieldError("data.owner", "is the same as previous_owner (" + Shown(*previous) + ")");
    }
    if (reason == "handover" && !Present(data, "handover_id")) {
      return Status::InvalidArgument(
          "field 'data.handover_id' is missing; customer.owner_assigned requires it when reason is \"handover\"");
    }
  } else if (type == "handover.planned") {
    std::string_view from = StringOf(Present(data, "from"));
    const json::array& assignments = data.at("assignments").get_array();
    for (size_t i = 0; i < assignments.size(); ++i) {
      if (assignments[i].get_object().at("to").get_string() == from) {
        return FieldError("data.assignments[" + std::to_string(i) + "].to",
                          "is " + std::string(from) + ", who hands over; a successor must be someone else");
      }
    }
  } else if (type == "alert.raised") {
    const json::value* from = Present(data, "window_from");
    const json::value* to = Present(data, "window_to");
    if (from && to && ParseRfc3339(from->get_string())->value() > ParseRfc3339(to->get_string())->value()) {
      return FieldError("data.window_from", Shown(*from) + " is after window_to " + Shown(*to));
    }
  } else if (type == "subject.hold_placed") {
    std::string_view subject = StringOf(Present(data, "subject"));
    if (subject != stream && !subject.starts_with("contact-")) {
      return FieldError("data.subject", Shown(*Present(data, "subject")) + " is neither this stream's customer (" +
                                            std::string(stream) + ") nor one of its contacts (contact-<id>)");
    }
  } else if (type == "subject.erased") {
    std::string_view subject = StringOf(Present(data, "subject"));
    const bool fits = subject.starts_with("contact-") ? IsPrefixedId(stream, "customer-") : stream == subject;
    if (!fits) {
      return FieldError("data.subject",
                        Shown(*Present(data, "subject")) + " is erased on " +
                            (subject.starts_with("contact-") ? std::string("its customer's customer-<id> stream")
                                                             : "its own stream " + std::string(subject)) +
                            ", not " + std::string(stream));
    }
  }
  return Status::Ok();
}

using internal::KindName;

}  // namespace

bool IsPersonalKey(std::string_view key) {
  const std::string k = NormalisedKey(key);
  if (k.find("email") != std::string::npos || k.find("phone") != std::string::npos) return true;
  return std::find(kPersonalKeys.begin(), kPersonalKeys.end(), k) != kPersonalKeys.end();
}

const EventTypeSpec* FindEventType(std::string_view type, uint32_t schema) {
  const Index& index = GetIndex();
  auto it = index.by_type.find(type);
  if (it == index.by_type.end() || it->second.spec->schema != schema) return nullptr;
  return it->second.spec;
}

std::string_view StreamRuleText(StreamRule rule) {
  switch (rule) {
    case StreamRule::kCustomer:
      return "a customer-<id> stream";
    case StreamRule::kStaff:
      return "a staff-<id> stream";
    case StreamRule::kAccess:
      return "an access-<staff id> stream (such as access-staff-7)";
    case StreamRule::kAlerts:
      return "the alerts stream";
    case StreamRule::kTokens:
      return "the tokens stream";
    case StreamRule::kSystemOrCustomer:
      return "the system stream or a customer-<id> stream";
    case StreamRule::kSubject:
      return "the subject's stream (customer-<id> or staff-<id>; a contact's on its customer's stream)";
    case StreamRule::kFixedEvent:
      return "the stream of the event it fixes (customer-<id>, staff-<id>, access-<staff id>, alerts or system)";
  }
  return "?";
}

std::string_view FieldTypeText(FieldType type) {
  switch (type) {
    case FT::kString:
      return "a string of 1-200 bytes without control characters";
    case FT::kText:
      return "a string of 1-65536 bytes without control characters other than line breaks and tabs";
    case FT::kEnum:
      return "one of the listed values";
    case FT::kTime:
      return "an RFC 3339 time such as 2026-03-01T10:15:00Z";
    case FT::kRecordId:
      return "a record id such as deal-5001 (1-100 bytes: letters, digits, '.', '_', ':' or '-', starting with a "
             "letter or digit)";
    case FT::kStaffId:
      return "a staff id such as staff-7";
    case FT::kCustomerId:
      return "a customer id such as customer-42";
    case FT::kSubjectId:
      return "a subject id: customer-<id>, contact-<id> or staff-<id>";
    case FT::kEventId:
      return "an event id (a UUID such as 7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44)";
    case FT::kAmount:
      return "an amount of money written as a plain decimal such as 1250.50";
    case FT::kNumber:
      return "a number of 0 or more";
    case FT::kCount:
      return "a whole number of 0 or more";
    case FT::kPercent:
      return "a number from 0 to 100";
    case FT::kCurrency:
      return "an ISO 4217 currency code such as EUR";
    case FT::kCountry:
      return "an ISO 3166-1 alpha-2 country code such as DE";
    case FT::kBoolean:
      return "true or false";
    case FT::kStringArray:
      return "an array of strings of 1-200 bytes";
    case FT::kStaffIdArray:
      return "an array of staff ids";
    case FT::kCustomerIdArray:
      return "an array of customer ids";
    case FT::kEventIdArray:
      return "an array of event ids";
    case FT::kAssignments:
      return "an array of {\"customer\": customer id, \"to\": staff id} objects";
    case FT::kObject:
      return "a JSON object";
  }
  return "?";
}

namespace {

// The path of the first personal key in `v` ("data.x_meta.email",
// "data.people[1].Phone"), if any.
std::optional<std::string> FindPersonalKey(const TypeIndex& type, const json::value& v, const std::string& path) {
  if (v.is_object()) {
    for (const auto& member : v.get_object()) {
      const std::string_view key = member.key();
      const std::string inner = path + "." + std::string(key);
      if (IsPersonalFor(type, key)) return inner;
      if (auto found = FindPersonalKey(type, member.value(), inner)) return found;
    }
  } else if (v.is_array()) {
    const json::array& items = v.get_array();
    for (size_t i = 0; i < items.size(); ++i) {
      if (auto found = FindPersonalKey(type, items[i], path + "[" + std::to_string(i) + "]")) return found;
    }
  }
  return std::nullopt;
}

Status CheckPayload(std::string_view type, uint32_t schema, std::string_view stream, std::string_view data_json,
                    bool fast_path) {
  const Index& index = GetIndex();
  auto it = index.by_type.find(type);
  if (it == index.by_type.end()) {
    return Status::InvalidArgument("type '" + std::string(type.substr(0, kMaxShownBytes)) +
                                   "' is not in the event catalogue (v" + std::to_string(kCatalogueVersion) +
                                   "); known types: " + index.known_types);
  }
  const TypeIndex& type_index = it->second;
  const EventTypeSpec& spec = *type_index.spec;
  if (spec.schema != schema) {
    return Status::InvalidArgument("type '" + std::string(type) + "' has no schema " + std::to_string(schema) +
                                   " in the event catalogue (v" + std::to_string(kCatalogueVersion) +
                                   "); known schemas: " + std::to_string(spec.schema));
  }
  if (!StreamFits(spec.stream, stream)) {
    return Status::InvalidArgument("type '" + std::string(type) + "' belongs on " +
                                   std::string(StreamRuleText(spec.stream)) + ", not " +
                                   std::string(stream.substr(0, kMaxShownBytes)));
  }

  if (fast_path && type_index.fast && FastPayloadValid(type_index, data_json)) return Status::Ok();

  // The DOM path: the fast path's "not sure", and every message.
  internal::ArenaJsonParser parser;
  Result<json::value> parsed = parser.Parse(data_json, "field 'data': ");
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object()) {
    return Status::InvalidArgument(std::string("field 'data': expected a JSON object, got ") +
                                   KindName(parsed->kind()));
  }
  const json::object& data = parsed->get_object();

  // Personal keys are refused at any depth.
  if (std::optional<std::string> path = FindPersonalKey(type_index, *parsed, "data")) {
    return FieldError(*path,
                      "personal data (names, e-mail addresses, phone numbers, remarks about a person) does not "
                      "belong in data; it goes in the event's personal part, which the log seals (docs/events.md, "
                      "Personal data)");
  }
  // One pass over the payload: each field of the type is found (null counts
  // as absent).
  std::array<const json::value*, TypeIndex::kMaxFields> present{};
  for (const auto& member : data) {
    auto found = type_index.keys.find(std::string_view(member.key()));
    if (found == type_index.keys.end()) continue;
    present[found->second] = member.value().is_null() ? nullptr : &member.value();
  }

  for (size_t i = 0; i < spec.fields.size(); ++i) {
    const FieldSpec& f = spec.fields[i];
    const json::value* v = present[i];
    if (v == nullptr) {
      if (f.presence == Presence::kRequired) {
        return Status::InvalidArgument(
            "field 'data." + std::string(f.name) + "' is missing; " + std::string(type) + " requires it (" +
            (f.type == FT::kEnum ? "one of " + Joined(f.values) : std::string(FieldTypeText(f.type))) + ")");
      }
      continue;
    }
    CUSTODIAN_RETURN_IF_ERROR(
        CheckField(f, *v, f.type == FT::kAmount ? JsonMemberText(data_json, f.name) : std::nullopt));
    if (!f.needs.empty() && present[type_index.needs[i]] == nullptr) {
      return Status::InvalidArgument("field 'data." + std::string(f.needs) + "' is missing; " + std::string(type) +
                                     " requires it when " + std::string(f.name) + " is given");
    }
  }
  if (!spec.at_least_one_of.empty()) {
    bool any = false;
    for (std::string_view name : spec.at_least_one_of) any = any || Present(data, name) != nullptr;
    if (!any) {
      return Status::InvalidArgument("field 'data': " + std::string(type) + " needs at least one of " +
                                     Joined(spec.at_least_one_of) + "; got none");
    }
  }
  if (!spec.rules.empty()) CUSTODIAN_RETURN_IF_ERROR(CheckRules(spec, data, stream));
  return Status::Ok();
}

}  // namespace

Status ValidatePayload(std::string_view type, uint32_t schema, std::string_view stream, std::string_view data_json) {
  return CheckPayload(type, schema, stream, data_json, /*fast_path=*/true);
}

Status internal::ValidatePayloadThroughDom(std::string_view type, uint32_t schema, std::string_view stream,
                                           std::string_view data_json) {
  return CheckPayload(type, schema, stream, data_json, /*fast_path=*/false);
}

}  // namespace custodian
