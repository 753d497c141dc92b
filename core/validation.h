// Envelope validation (DESIGN.md, Event model). Pure: no I/O, no clock reads.
//
// Every failure is Status::InvalidArgument with a message that names the
// field, what came and what was expected, e.g.
//   field 'type': "Interaction" is not an event type; expected <noun>.<verb>
//   in lower case, such as interaction.logged
#pragma once

#include <string_view>

#include "core/event.h"
#include "core/status.h"

namespace custodian {

// Checks everything a producer chooses: id is a non-nil UUID; stream is
// "<category>-<id>" (or one of the single-word streams "alerts", "system");
// type is "<noun>.<verb>"; schema >= 1; actor is "staff-<id>", "system" or
// "system:<name>"; optional fields are short valid UTF-8; data is at most
// kMaxDataBytes; occurred_at is at most 5 minutes after `now`; the sealed
// personal section is empty (the log seals); the plain personal part, if
// any, is a valid one of the type with a subject (CheckPersonalPart,
// PersonalSubject) unless `personal` leaves that to the sealer, which checks
// it as it seals (KeyVault::Seal); then the type, schema, stream and data
// against the event catalogue (core/catalogue.h, ValidatePayload), which
// parses data once.
enum class PersonalCheck { kHere, kBySealer };
Status ValidateEvent(const Event& e, Timestamp now, PersonalCheck personal = PersonalCheck::kHere);

Status ValidateStreamName(std::string_view stream);
Status ValidateEventType(std::string_view type);
Status ValidateActor(std::string_view actor);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace custodian
