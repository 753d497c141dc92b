#include "core/personal.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cstring>
#include <map>

#include "core/crypto.h"
#include "core/json.h"
#include "core/json_arena.h"
#include "core/text.h"

namespace json = boost::json;

namespace custodian {
namespace {

constexpr size_t kLabel = 200;
constexpr size_t kAddress = 1000;
constexpr size_t kFreeText = 65536;

const std::map<std::string_view, std::vector<PersonalFieldSpec>>& Table() {
  static const auto* table = [] {
    const std::vector<PersonalFieldSpec> person_customer = {
        {"name", kLabel, false, "The person's full name."},
        {"address", kAddress, true, "Postal address."},
        {"email", kLabel, false, "E-mail address."},
        {"phone", kLabel, false, "Phone number."},
    };
    const std::vector<PersonalFieldSpec> contact = {
        {"name", kLabel, false, "The contact's full name."},
        {"email", kLabel, false, "E-mail address."},
        {"phone", kLabel, false, "Office phone number."},
        {"mobile", kLabel, false, "Mobile phone number."},
        {"title", kLabel, false, "Form of address or title, e.g. Dr."},
        {"linkedin", kLabel, false, "Profile address on LinkedIn."},
        {"notes", kFreeText, true, "Remarks about the person."},
    };
    const std::vector<PersonalFieldSpec> notes = {
        {"notes", kFreeText, true, "What was said by or about the person."},
    };
    auto* t = new std::map<std::string_view, std::vector<PersonalFieldSpec>>{
        {"customer.registered", person_customer},
        {"customer.updated", person_customer},
        {"contact.added", contact},
        {"contact.updated", contact},
        {"contact.removed", {{"notes", kFreeText, true, "Remarks about the person's leaving."}}},
        {"interaction.logged", notes},
        {"note.added", {{"notes", kFreeText, true, "Remarks about the person the note is about."}}},
        {"request.opened", notes},
        {"commitment.made", notes},
    };
    return t;
  }();
  return *table;
}

std::string IdBytes(const EventId& id) {
  const auto& b = id.bytes();
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string PersonalAad(const EventId& id) { return std::string("custodian personal v1", 21) + '\0' + IdBytes(id); }

std::string KeyAad(std::string_view subject) { return std::string("custodian key v1", 16) + '\0' + std::string(subject); }

bool HasControl(std::string_view s, bool multiline) {
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && !(multiline && (c == '\n' || c == '\r' || c == '\t'))) || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9f) return true;
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

const std::vector<PersonalFieldSpec>& PersonalFieldsOf(std::string_view type) {
  static const std::vector<PersonalFieldSpec> kNone;
  auto it = Table().find(type);
  return it == Table().end() ? kNone : it->second;
}

namespace {
Status CheckSubjectPlace(const Event& e) {
  if (PersonalFieldsOf(e.type).empty()) {
    return Status::InvalidArgument("field 'personal': " + e.type + " carries no personal data");
  }
  if (!e.stream.starts_with("customer-")) {
    return Status::InvalidArgument("field 'personal': personal data goes on a customer-<id> stream, not " + e.stream);
  }
  return Status::Ok();
}
}  // namespace

Result<std::string> PersonalSubjectOfChecked(const Event& e) {
  // Read in place when the text leaves no doubt: without a backslash no key
  // or value is escaped, and with "contact_id" written at most once no key
  // is given twice. Anything else is parsed, as PersonalSubject does.
  constexpr std::string_view kKey = "\"contact_id\"";
  const size_t first = e.data.find(kKey);
  if (e.data.find('\\') != std::string::npos ||
      (first != std::string::npos && e.data.find(kKey, first + 1) != std::string::npos)) {
    return PersonalSubject(e);
  }
  CUSTODIAN_RETURN_IF_ERROR(CheckSubjectPlace(e));
  if (first == std::string::npos) return e.stream;
  const std::optional<std::string_view> value = JsonMemberText(e.data, "contact_id");
  if (value && value->size() >= 2 && value->front() == '"') {
    return e.stream + "/contact-" + std::string(value->substr(1, value->size() - 2));
  }
  return e.stream;  // only nested, or not a string
}

Result<std::string> PersonalSubject(const Event& e) {
  CUSTODIAN_RETURN_IF_ERROR(CheckSubjectPlace(e));
  internal::ArenaJsonParser parser;
  Result<json::value> data = parser.Parse(e.data, "field 'data': ");
  if (!data.ok()) return data.status();
  if (const json::object* o = data->if_object()) {
    if (const json::value* c = o->if_contains("contact_id"); c && c->is_string()) {
      return e.stream + "/contact-" + std::string(c->get_string());
    }
  }
  return e.stream;
}

Result<SubjectRef> ParseSubjectId(std::string_view id) {
  auto bad = [&] {
    return Status::InvalidArgument(QuotedText(id, 120) + " is not a subject; expected a contact as customer-<id>/contact-<contact id> "
                                   "(e.g. customer-1001/contact-con-2001) or a customer who is a person, customer-<id>");
  };
  auto valid_part = [](std::string_view s) {
    return !s.empty() && s.size() <= 100 &&
           std::all_of(s.begin(), s.end(), [](char c) {
             return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-' || c == ':';
           });
  };
  const size_t slash = id.find('/');
  const std::string_view stream = id.substr(0, slash);
  if (!stream.starts_with("customer-") || !valid_part(stream.substr(9)) || stream.find(':') != std::string_view::npos) {
    return bad();
  }
  if (slash == std::string_view::npos) return SubjectRef{std::string(stream), std::string(stream)};
  const std::string_view rest = id.substr(slash + 1);
  if (!rest.starts_with("contact-") || !valid_part(rest.substr(8))) return bad();
  return SubjectRef{std::string(stream), std::string(rest)};
}

std::string SubjectIdOf(std::string_view stream, std::string_view subject) {
  if (subject == stream) return std::string(stream);
  return std::string(stream) + "/" + std::string(subject);
}

Result<ErasureOf> ErasureIn(const Event& e) {
  if (e.type != "subject.erased") return Status::InvalidArgument(e.type + " erases nothing");
  internal::ArenaJsonParser parser;
  Result<json::value> data = parser.Parse(e.data, "field 'data': ");
  if (!data.ok()) return data.status();
  const json::object* o = data->if_object();
  const json::value* subject = o ? o->if_contains("subject") : nullptr;
  if (subject == nullptr || !subject->is_string() || subject->get_string().empty()) {
    return Status::InvalidArgument("field 'data.subject': required");
  }
  ErasureOf out;
  out.subject_id = SubjectIdOf(e.stream, std::string_view(subject->get_string()));
  for (const char* field : {"details", "reason"}) {
    if (const json::value* v = o->if_contains(field); v && v->is_string() && !v->get_string().empty()) {
      out.reason = std::string(v->get_string());
      break;
    }
  }
  return out;
}

namespace {

// A member of a personal part: its key and, when it is a string, its text.
struct PersonalMember {
  std::string_view key;
  std::string_view text;
  const json::value* value = nullptr;  // parsed: the value, which may not be a string
};

// The members of `compact` (CompactJson's output) when it is an object
// whose keys and values are all strings without escapes, as nearly every
// personal part is ({"name":"Anna Berg","email":...}): each string's text is
// then its value, read in place. False for anything else, which is parsed.
bool PlainStringMembers(std::string_view compact, std::vector<PersonalMember>& out) {
  if (compact.size() < 2 || compact.front() != '{' || compact.back() != '}') return false;
  // A quoted string without escapes at `i`: its text, and `i` past it.
  auto plain_string = [&](size_t& i, std::string_view& text) {
    if (i >= compact.size() || compact[i] != '"') return false;
    const size_t end = compact.find('"', i + 1);
    if (end == std::string_view::npos) return false;
    text = compact.substr(i + 1, end - i - 1);
    i = end + 1;
    return text.find('\\') == std::string_view::npos;
  };
  size_t i = 1;
  if (compact.size() == 2) return true;
  while (true) {
    PersonalMember m;
    if (!plain_string(i, m.key) || i >= compact.size() || compact[i++] != ':' || !plain_string(i, m.text)) return false;
    out.push_back(m);
    if (i == compact.size() - 1) return true;  // at the closing brace
    if (compact[i++] != ',') return false;
  }
}

}  // namespace

Result<std::string> CheckPersonalPart(std::string_view type, std::string_view personal_json,
                                      std::vector<BlindValue>* found_by) {
  const std::vector<PersonalFieldSpec>& fields = PersonalFieldsOf(type);
  Result<std::string> compact = CompactJson(personal_json, "field 'personal': ");
  if (!compact.ok()) return compact.status();
  std::vector<PersonalMember> members;
  members.reserve(fields.size());
  internal::ArenaJsonParser parser;
  Result<json::value> parsed = json::value();  // what the members point into, when parsed
  if (!PlainStringMembers(*compact, members)) {
    members.clear();
    parsed = parser.Parse(*compact);
    if (!parsed.ok()) return parsed.status();
    if (!parsed->is_object()) {
      return Status::InvalidArgument(std::string("field 'personal': expected a JSON object, got ") +
                                     internal::KindName(parsed->kind()));
    }
    for (const auto& member : parsed->get_object()) {
      const json::value& v = member.value();
      members.push_back({member.key(), v.is_string() ? std::string_view(v.get_string()) : std::string_view(), &v});
    }
  }
  auto names = [&] {
    std::string out;
    for (const PersonalFieldSpec& f : fields) out += (out.empty() ? "" : ", ") + std::string(f.name);
    return out;
  };
  for (const PersonalMember& member : members) {
    const std::string_view key = member.key;
    auto path = [&] { return "field 'personal." + OneLineText(key, 80) + "'"; };
    auto spec = std::find_if(fields.begin(), fields.end(), [&](const PersonalFieldSpec& f) { return f.name == key; });
    if (spec == fields.end()) {
      return Status::InvalidArgument(path() + ": is not a personal field of " + std::string(type) +
                                     (fields.empty() ? "; it carries no personal data" : "; the fields are " + names()));
    }
    const bool is_string = member.value == nullptr || member.value->is_string();
    const std::string_view text = member.text;
    if (!is_string || text.empty() || text.size() > spec->max_bytes || HasControl(text, spec->multiline)) {
      return Status::InvalidArgument(path() + ": expected a string of 1-" + std::to_string(spec->max_bytes) +
                                     " bytes without control characters" +
                                     (spec->multiline ? " other than line breaks and tabs" : "") + "; got " +
                                     (is_string ? std::to_string(text.size()) + " bytes"
                                                : std::string(internal::KindName(member.value->kind()))));
    }
    if (found_by != nullptr) {
      if (key == "email") {
        found_by->push_back({BlindKind::kEmail, std::string(text)});
      } else if (key == "phone" || key == "mobile") {
        found_by->push_back({BlindKind::kPhone, std::string(text)});
      } else if (key == "name") {
        found_by->push_back({BlindKind::kName, std::string(text)});
      }
    }
  }
  return compact;
}

Result<PersonalSection> SealPersonal(const EventId& id, std::string_view subject, std::string_view data_key,
                                     std::string_view plaintext) {
  if (data_key.size() != kDataKeyBytes) return Status::InvalidArgument("a data key has 32 bytes");
  const std::string nonce =
      crypto::HmacSha256(data_key, std::string("nonce", 5) + '\0' + IdBytes(id) + std::string(plaintext))
          .substr(0, kSealNonceBytes);
  Result<std::string> sealed = crypto::AesGcmSeal(data_key, nonce, PersonalAad(id), plaintext);
  if (!sealed.ok()) return sealed.status();
  PersonalSection p;
  p.scheme = PersonalSection::Scheme::kAes256Gcm;
  p.subject = std::string(subject);
  p.nonce = nonce;
  p.ciphertext = std::move(*sealed);
  return p;
}

Result<std::string> OpenPersonal(const EventId& id, const PersonalSection& sealed, std::string_view data_key) {
  if (sealed.scheme != PersonalSection::Scheme::kAes256Gcm) {
    return Status::InvalidArgument("the event has no sealed personal part");
  }
  Result<std::string> opened = crypto::AesGcmOpen(data_key, sealed.nonce, PersonalAad(id), sealed.ciphertext);
  if (!opened.ok()) {
    return Status::Corruption("the personal part of event " + id.ToString() + " (subject " + sealed.subject +
                              ") does not open with its subject's key: it was altered or belongs to another event");
  }
  return opened;
}

Result<std::string> WrapKey(std::string_view master_key, std::string_view subject, std::string_view data_key) {
  if (master_key.size() != kMasterKeyBytes) return Status::InvalidArgument("a master key has 32 bytes");
  const std::string nonce = crypto::PooledRandomBytes(kSealNonceBytes);
  Result<std::string> sealed = crypto::AesGcmSeal(master_key, nonce, KeyAad(subject), data_key);
  if (!sealed.ok()) return sealed.status();
  return nonce + *sealed;
}

Result<std::string> UnwrapKey(std::string_view master_key, std::string_view subject, std::string_view wrapped) {
  if (master_key.size() != kMasterKeyBytes) return Status::InvalidArgument("a master key has 32 bytes");
  if (wrapped.size() != kSealNonceBytes + kDataKeyBytes + crypto::kGcmTagBytes) {
    return Status::Corruption("the wrapped key of " + std::string(subject) + " has " + std::to_string(wrapped.size()) +
                              " bytes, not 60");
  }
  Result<std::string> key = crypto::AesGcmOpen(master_key, wrapped.substr(0, kSealNonceBytes), KeyAad(subject),
                                               wrapped.substr(kSealNonceBytes));
  if (!key.ok()) {
    return Status::Corruption("the key of " + std::string(subject) +
                              " does not unwrap with this master key (another store's key, or altered)");
  }
  return key;
}

std::string MasterKeyFingerprint(std::string_view master_key) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string mac = crypto::HmacSha256(master_key, "custodian master key fingerprint");
  std::string out;
  for (size_t i = 0; i < 8; ++i) {
    out.push_back(kHex[static_cast<unsigned char>(mac[i]) >> 4]);
    out.push_back(kHex[static_cast<unsigned char>(mac[i]) & 0xf]);
  }
  return out;
}

std::vector<std::string> BlindTerms(BlindKind kind, std::string_view value, std::vector<std::string>* too_short) {
  std::vector<std::string> terms;
  switch (kind) {
    case BlindKind::kEmail: {
      const std::string v = FoldCase(Trim(value));
      if (v.find('@') != std::string::npos) terms.push_back(v);
      break;
    }
    case BlindKind::kPhone: {
      std::string digits;
      for (char c : Trim(value)) {
        if (c >= '0' && c <= '9') digits.push_back(c);
      }
      if (!digits.empty() && Trim(value).starts_with('+')) digits.insert(digits.begin(), '+');
      if (digits.size() >= 5) terms.push_back(digits);
      break;
    }
    case BlindKind::kName: {
      std::string word;
      auto flush = [&] {
        // Two letters or more: UTF-8 continuation bytes are no letters.
        const auto letters = std::count_if(word.begin(), word.end(),
                                           [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; });
        std::vector<std::string>* into = letters >= 2 ? &terms : too_short;
        if (!word.empty() && into != nullptr && std::find(into->begin(), into->end(), word) == into->end()) {
          into->push_back(word);
        }
        word.clear();
      };
      for (char c : FoldCase(value)) {
        if (c == ' ' || c == '\t' || c == '\n' || c == ',' || c == '.' || c == '-' || c == '\'' || c == '(' ||
            c == ')') {
          flush();
        } else {
          word.push_back(c);
        }
      }
      flush();
      break;
    }
  }
  return terms;
}

namespace {
std::string BlindMessage(BlindKind kind, std::string_view term) {
  return std::string(1, static_cast<char>('0' + static_cast<int>(kind))) + '\0' + std::string(term);
}
}  // namespace

std::string BlindToken(std::string_view blind_key, BlindKind kind, std::string_view term) {
  return crypto::HmacSha256(blind_key, BlindMessage(kind, term));
}

std::string BlindToken(const crypto::HmacSha256Key& blind_key, BlindKind kind, std::string_view term) {
  return blind_key.Mac(BlindMessage(kind, term));
}

std::vector<std::string> BlindTokensOf(const crypto::HmacSha256Key& blind_key, const std::vector<BlindValue>& found_by) {
  std::vector<std::string> tokens;
  for (const BlindValue& v : found_by) {
    for (const std::string& term : BlindTerms(v.kind, v.value)) {
      std::string token = BlindToken(blind_key, v.kind, term);
      if (std::find(tokens.begin(), tokens.end(), token) == tokens.end()) tokens.push_back(std::move(token));
    }
  }
  return tokens;
}

}  // namespace custodian
