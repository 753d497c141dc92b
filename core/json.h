// The JSON form of an event (DESIGN.md, Interfaces): one object per event,
// the same for import files, `custodian append`, the HTTP API and reads.
//
//   {"id": "7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44", "stream": "customer-42",
//    "type": "interaction.logged", "actor": "staff-7",
//    "occurred_at": "2026-03-01T10:15:00Z", "source": "crm",
//    "data": {"channel": "call", "direction": "outbound"}}
//
// Reads add "position", "version" and "recorded_at". Boost.JSON stays inside
// json.cc.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/status.h"

namespace custodian {

// Parses one event. Values are kept as given: `data` is the compact form of
// the producer's object (CompactJson), so numbers keep every digit, and a key
// given twice anywhere in the event is refused with its path named.
// Required: id, stream, type, actor, occurred_at. Optional:
// schema (default 1), source, correlation_id, causation_id, data (default {}),
// personal. "position", "version", "recorded_at" and "recorded_by" are
// assigned by the log and ignored on input, so a read's output can be
// imported again; with RecordedBy::kKeep (a cluster's forwarded append, an
// evidence bundle) "recorded_by" is read into the event. Unknown fields are
// refused. Errors name the field; a syntax error names its byte offset. Does
// not apply ValidateEvent's grammar rules.
enum class RecordedBy { kIgnore, kKeep };
Result<Event> ParseEventJson(std::string_view text, RecordedBy recorded_by = RecordedBy::kIgnore);

enum class JsonFields {
  kProducer,       // only what a producer sends
  kForwarded,      // plus recorded_by, when there is one
  kWithLogFields,  // plus position, version, recorded_at and recorded_by (when there is one)
};

// One line of compact JSON, with no trailing newline.
std::string EventToJson(const Event& e, JsonFields fields);

// One JSON value as compact text, exactly as given: whitespace dropped,
// strings escaped the way Boost.JSON's serializer escapes them, and numbers
// copied character for character (1.10 stays 1.10; 12345678901234567890123
// keeps every digit; 1e-400 is not rounded to 0). InvalidArgument, prefixed
// with `what`, for a syntax error (with its byte offset), text after the
// value, or a key given twice in one object ("key 'x_meta.email' is given
// twice; ...").
Result<std::string> CompactJson(std::string_view text, std::string_view what = "");

// The text of the value of member `key` of the JSON object `object`, which
// must be valid JSON (such as CompactJson's output); nullopt when the object
// has no such member. For reading a number exactly as it was written.
std::optional<std::string_view> JsonMemberText(std::string_view object, std::string_view key);

// `data` (a JSON object's text) with the members of `corrected` (another
// object's text) in place of its own, and any new ones after them; each
// value's text copied as written, so numbers keep every digit as given
// (event.corrected, docs/events.md). `data` unchanged when either is not
// a JSON object.
std::string MergeJsonMembers(std::string_view data, std::string_view corrected);

// The texts of the elements of the JSON array `array`, which must be valid
// JSON; empty when it is not an array.
std::vector<std::string_view> JsonArrayItems(std::string_view array);

// Ok when `text` is a single JSON object; otherwise says why and where.
Status CheckJsonObject(std::string_view text);

// `s` as a JSON string literal, quotes included. `s` must be valid UTF-8.
std::string JsonQuote(std::string_view s);

}  // namespace custodian
