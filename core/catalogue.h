// The event catalogue, v1 (DESIGN.md, Event model; docs/events.md): every
// event type the log accepts, the stream it belongs on and the fields of its
// payload (`data`), with a check of an event's payload against them.
//
// Rules that hold for every type (docs/events.md, General rules):
//   - A type is known with the schemas listed here; v1 has schema 1 of each.
//     Any other type or schema is refused.
//   - `data` is a JSON object. Required fields must be present and not null;
//     an optional field that is null counts as absent.
//   - Fields that the catalogue does not name are allowed and kept as they
//     came: CRMs send extension fields (custom properties, sync markers) and
//     refusing them would push producers to drop data. Projections ignore them.
//   - Personal data (names of people, e-mail addresses, phone numbers) is not
//     `data`: it belongs in the sealed `personal` section, which is not
//     available yet. Contact events therefore carry a contact_id and a role,
//     never a name. The well-known personal keys (IsPersonalKey, and `name`
//     on contact.* events) are refused even as extension fields, at any depth
//     (inside objects and arrays) and in any case or spelling ("Email",
//     "e-mail", "work_phone").
//   - Corrections and retractions name the event they fix by data.event_id;
//     the original stays in the log and both are visible.
//
// Pure: no I/O. Thread-safe: the catalogue is built once and never changes.
// Boost.JSON stays inside catalogue.cc.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace custodian {

// The version of the catalogue as a whole, named in messages and docs.
constexpr uint32_t kCatalogueVersion = 1;

// The JSON type and constraints of one payload field.
enum class FieldType {
  kString,           // string of 1-200 bytes without control characters (a label)
  kText,             // string of 1-65,536 bytes; line breaks and tabs allowed (free text)
  kEnum,             // a string, one of FieldSpec::values
  kTime,             // RFC 3339 date-time string, e.g. "2026-03-01T10:15:00Z"
  kRecordId,         // a producer's record id such as "deal-5001": 1-100 bytes of
                     // letters, digits, '.', '_', ':' or '-', starting with a letter or digit
  kStaffId,          // "staff-<id>", e.g. "staff-7"
  kCustomerId,       // "customer-<id>", e.g. "customer-42"
  kSubjectId,        // whose personal data: "customer-<id>", "contact-<id>" or "staff-<id>"
  kEventId,          // an event's UUID, e.g. "7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44"
  kAmount,           // money, in units of `currency`: a plain decimal number such as 1250.50, exact
                     // (core/money.h: at most 14 digits before the point and 4 after, no sign, no exponent)
  kNumber,           // a finite number >= 0 (a factor or a threshold, not money)
  kCount,            // whole number >= 0
  kPercent,          // number from 0 to 100
  kCurrency,         // ISO 4217 code: three upper-case letters, e.g. "EUR"
  kCountry,          // ISO 3166-1 alpha-2 code: two upper-case letters, e.g. "DE"
  kBoolean,          // true or false
  kStringArray,      // array of kString (may be empty)
  kStaffIdArray,     // array of kStaffId (may be empty)
  kCustomerIdArray,  // array of kCustomerId (may be empty)
  kEventIdArray,     // array of kEventId (may be empty)
  kAssignments,      // array of {"customer": kCustomerId, "to": kStaffId} (may be empty)
  kObject,           // any JSON object
};

enum class Presence { kRequired, kOptional };

// Where events of a type belong.
enum class StreamRule {
  kCustomer,          // customer-<id>
  kStaff,             // staff-<id>
  kAccess,            // access-<staff id>, e.g. access-staff-7
  kAlerts,            // alerts
  kTokens,            // tokens
  kSystemOrCustomer,  // system, or customer-<id>
  kSubject,           // the subject's own stream (customer-<id> or staff-<id>; a contact's customer)
  kFixedEvent,        // the stream of the event it fixes: any customer-, staff- or access- stream, alerts or system
};

struct FieldSpec {
  std::string_view name;
  FieldType type;
  Presence presence;
  std::string_view meaning;                // one sentence, for docs and the CLI
  std::vector<std::string_view> values{};  // kEnum: the allowed values, in order
  std::string_view needs{};                // another field that must be present when this one is
};

struct EventTypeSpec {
  std::string_view type;  // "interaction.logged"
  uint32_t schema;        // payload version
  StreamRule stream;
  std::string_view summary;  // what the event records, one sentence
  std::vector<FieldSpec> fields;
  std::vector<std::string_view> at_least_one_of{};  // when set, one of these fields must be present
  std::string_view rules{};                         // cross-field rules in words; ValidatePayload enforces them
};

// Keys refused in every payload because they hold personal data, which goes
// in `personal` (DESIGN.md, Personal data and erasure), as IsPersonalKey
// normalises them: lower case, without '_', '-', '.' or spaces.
extern const std::vector<std::string_view> kPersonalKeys;

// True when a payload key names personal data: after normalising (lower
// case; '_', '-', '.' and spaces dropped) it is one of kPersonalKeys, or it
// contains "email" or "phone" ("work_phone", "EmailAddress").
bool IsPersonalKey(std::string_view key);

// Every type of the catalogue, in the order of docs/events.md.
const std::vector<EventTypeSpec>& Catalogue();

// The spec of `type` at `schema`, or nullptr when the catalogue has none.
const EventTypeSpec* FindEventType(std::string_view type, uint32_t schema);

// "customer-<id>", "the system stream or a customer-<id> stream", ...: for
// messages and docs.
std::string_view StreamRuleText(StreamRule rule);

// "staff id (staff-<id>)", "RFC 3339 time", ...: for messages and docs.
std::string_view FieldTypeText(FieldType type);

// Checks an event's payload against the catalogue: the type and schema are
// known, the stream is of the type's category, `data_json` is one JSON
// object, every required field is present, every named field has its type
// and constraints, and the type's cross-field rules hold. Does not check the
// envelope (ValidateEvent does). A payload of a type without cross-field
// rules is checked as it is parsed, without building a document; what that
// does not settle (every failure, and a few rare forms) is parsed into a
// document on a stack arena, which gives the message.
//
// Every failure is InvalidArgument naming what, where and what was expected:
//   type 'foo.bar' is not in the event catalogue (v1); known types: ...
//   type 'staff.joined' belongs on a staff-<id> stream, not customer-42
//   field 'data': invalid JSON at byte 17: syntax error
//   field 'data.request_id' is missing; request.assigned requires it (record id ...)
//   field 'data.channel': expected one of call, email, meeting, visit, chat; got "fax"
Status ValidatePayload(std::string_view type, uint32_t schema, std::string_view stream, std::string_view data_json);

namespace internal {
// ValidatePayload with every payload parsed into a document: the test that
// holds the fast path to the same answers compares the two.
Status ValidatePayloadThroughDom(std::string_view type, uint32_t schema, std::string_view stream,
                                 std::string_view data_json);
}  // namespace internal

}  // namespace custodian
