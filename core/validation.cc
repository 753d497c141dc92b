#include "core/validation.h"

#include <algorithm>
#include <cstring>

#include "core/catalogue.h"
#include "core/personal.h"
#include "core/text.h"
#include "core/time.h"

namespace custodian {
namespace {

bool IsLowerAlpha(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsLowerAlpha(c) || IsDigit(c) || (c >= 'A' && c <= 'Z'); }

// [a-z][a-z0-9_]*
bool IsWord(std::string_view s) {
  if (s.empty() || !IsLowerAlpha(s[0])) return false;
  for (char c : s) {
    if (!IsLowerAlpha(c) && !IsDigit(c) && c != '_') return false;
  }
  return true;
}

// [A-Za-z0-9][A-Za-z0-9._-]*
bool IsIdPart(std::string_view s) {
  if (s.empty() || !IsAlnum(s[0])) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

Status Field(std::string_view name, const std::string& message) {
  return Status::InvalidArgument("field '" + std::string(name) + "': " + message);
}

Status ValidateOptional(std::string_view name, std::string_view value) {
  if (value.size() > kMaxOptionalFieldBytes) {
    return Field(name, "is " + std::to_string(value.size()) + " bytes; at most " +
                           std::to_string(kMaxOptionalFieldBytes) + " are allowed");
  }
  if (!IsValidUtf8(value)) return Field(name, "is not valid UTF-8");
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20) return Field(name, "contains a control character");
  }
  return Status::Ok();
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    // ASCII, the common case, eight bytes at a time.
    if (s.size() - i >= 8) {
      uint64_t word;
      std::memcpy(&word, s.data() + i, sizeof word);
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const auto decoded = DecodeUtf8At(s, i);
    if (!decoded) return false;
    i += decoded->second;
  }
  return true;
}

Status ValidateStreamName(std::string_view stream) {
  auto bad = [&](const std::string& why) {
    return Field("stream", QuotedText(stream) + " is not a stream name (" + why +
                               "); expected <category>-<id> such as customer-42, or alerts, system or tokens");
  };
  if (stream.empty()) return bad("it is empty");
  if (stream.size() > kMaxStreamBytes) {
    return bad(std::to_string(stream.size()) + " bytes, at most " + std::to_string(kMaxStreamBytes));
  }
  if (stream == "alerts" || stream == "system" || stream == "tokens") return Status::Ok();
  size_t dash = stream.find('-');
  if (dash == std::string_view::npos) return bad("no '-' between category and id");
  if (!IsWord(stream.substr(0, dash))) {
    return bad("the category must be lower-case letters, digits or '_', starting with a letter");
  }
  if (!IsIdPart(stream.substr(dash + 1))) {
    return bad("the id must be letters, digits, '.', '_' or '-', starting with a letter or digit");
  }
  return Status::Ok();
}

Status ValidateEventType(std::string_view type) {
  auto bad = [&](const std::string& why) {
    return Field("type", QuotedText(type) + " is not an event type (" + why +
                             "); expected <noun>.<verb> in lower case, such as interaction.logged");
  };
  if (type.empty()) return bad("it is empty");
  if (type.size() > kMaxTypeBytes) {
    return bad(std::to_string(type.size()) + " bytes, at most " + std::to_string(kMaxTypeBytes));
  }
  size_t start = 0;
  int parts = 0;
  while (true) {
    size_t dot = type.find('.', start);
    std::string_view part = type.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (!IsWord(part)) return bad("each part must be lower-case letters, digits or '_'");
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts < 2) return bad("no '.' between noun and verb");
  return Status::Ok();
}

Status ValidateActor(std::string_view actor) {
  if (actor.empty()) {
    return Status::InvalidArgument(
        "field 'actor' is missing; every event names who caused it: staff-<id>, system or system:<name>");
  }
  auto bad = [&] {
    return Field("actor", QuotedText(actor) +
                              " is not an actor; expected staff-<id> (such as staff-7), system or system:<name>");
  };
  if (actor.size() > kMaxActorBytes) return bad();
  if (actor == "system") return Status::Ok();
  if (actor.starts_with("system:")) {
    return IsIdPart(actor.substr(7)) ? Status::Ok() : bad();
  }
  if (actor.starts_with("staff-") && IsIdPart(actor.substr(6))) return Status::Ok();
  return bad();
}

Status ValidateEvent(const Event& e, Timestamp now, PersonalCheck personal) {
  if (e.id.IsNil()) return Field("id", "is missing or the nil UUID; every event needs a UUID chosen by its producer");
  CUSTODIAN_RETURN_IF_ERROR(ValidateStreamName(e.stream));
  CUSTODIAN_RETURN_IF_ERROR(ValidateEventType(e.type));
  if (e.schema < 1) return Field("schema", "must be 1 or more, got " + std::to_string(e.schema));
  CUSTODIAN_RETURN_IF_ERROR(ValidateActor(e.actor));
  // Set by the server (a token id), or by a forwarded append a node checked.
  if (e.recorded_by.size() > kMaxActorBytes ||
      std::any_of(e.recorded_by.begin(), e.recorded_by.end(), [](char c) { return c <= ' ' || c > '~'; })) {
    return Field("recorded_by", QuotedText(e.recorded_by) + " is not a token id");
  }
  if (e.occurred_at.value() > now.value() + kMaxFutureSkewMicros) {
    return Field("occurred_at", FormatRfc3339(e.occurred_at) + " is more than 5 minutes after now (" +
                                    FormatRfc3339(now) + ")");
  }
  CUSTODIAN_RETURN_IF_ERROR(ValidateOptional("source", e.source));
  CUSTODIAN_RETURN_IF_ERROR(ValidateOptional("correlation_id", e.correlation_id));
  CUSTODIAN_RETURN_IF_ERROR(ValidateOptional("causation_id", e.causation_id));
  if (e.data.size() > kMaxDataBytes) {
    return Field("data", "is " + std::to_string(e.data.size()) + " bytes; at most " +
                             std::to_string(kMaxDataBytes) + " (1 MiB) are allowed");
  }
  if (!IsValidUtf8(e.data)) return Field("data", "is not valid UTF-8");
  if (!e.personal.empty()) {
    return Field("personal", "is sealed already; the log seals a personal part itself, from its plain JSON");
  }
  if (!e.personal_plain.empty() && personal == PersonalCheck::kHere) {
    CUSTODIAN_RETURN_IF_ERROR(CheckPersonalPart(e.type, e.personal_plain).status());
    CUSTODIAN_RETURN_IF_ERROR(PersonalSubject(e).status());
  }
  // The catalogue parses `data` (once per event) and checks it.
  return ValidatePayload(e.type, e.schema, e.stream, e.data);
}

}  // namespace custodian
