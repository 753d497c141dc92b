// The rules enforced at append (DESIGN.md, Event model, "Rules enforced at
// append"), as a pure function of an event and the state the log has built
// from every earlier event. Each rule has its own error:
//
//   actor        a staff actor has joined and has not left
//   reader       an event on an access-<staff> stream (data.viewed,
//                data.exported, or a fix of one) is made by that staff member
//                and nobody else: access records are the reader's own
//   settings     alerts.configured is made by a member of staff whose role
//                changes alert settings (core/roles.h) and who has not
//                announced their departure
//   assignment   nothing is assigned to someone who has left or never joined,
//                or to a registered principal
//                (owners, request assignees, commitment and deal owners,
//                handover successors)
//   order        a request is answered, assigned, resolved or reopened only
//                after it was opened, and not before it was opened in
//                business time
//   reference    deals, requests, commitments and corrected or retracted
//                events that an event names exist
//   fix          an erasure, a legal hold's placing or release, a record of
//                a read, an alert's settings or raising, or a correction or
//                retraction is never itself corrected or retracted (their
//                effect cannot be undone that way; the message says what to
//                do instead); a fix is on the stream of the event it fixes;
//                a correction changes no id (fields ending in _id), a person
//                it names as owner or assignee passes rule 'assignment', and the
//                fixed event with the corrected fields in place (numbers as
//                written) must pass the catalogue
//   subject      a personal part that names no contact is about the customer
//                itself, which must be a natural person (kind individual)
//   privacy      subject.erased and legal holds are made by a member of staff
//                whose role handles personal data (core/roles.h) and who has
//                not announced their departure
//   erased       a subject is erased once ("erased/<subject id>" keeps where
//                and why; the store destroys the key as it commits the event),
//                and no later event carries a personal part about them
//   hold         no erasure of a subject while a legal hold is in force on it;
//                a hold is placed once and released only while in force
//   tokens       token.created and token.revoked are made by a member of
//                staff whose role is admin and who has not announced their
//                departure; a token of any role but ingest names an employed
//                member of staff; an id is used once; only a token in force
//                is revoked; only the secret's hash is ever written
//
// A registered principal (principal.registered: an auditor, a data-protection
// officer, ...) acts as staff do under rules actor, reader and the roles' rules,
// but rule assignment gives them nothing.
//
// The writer (storage/event_log_write.cc) calls CheckRules for each event in
// log order with a RuleState that sees the state as of that event's position,
// including events earlier in the same batch; the state CheckRules writes is
// stored in the same WriteBatch as the event, so it is never out of date.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/event.h"
#include "core/status.h"

namespace custodian {

// The state the rules read and write: small records keyed by name
// ("staff/staff-7", "role/staff-7", "leaving/staff-7",
// "ref/customer-42/request/r1"; docs/event-format.md, `meta`).
class RuleState {
 public:
  virtual ~RuleState() = default;
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  virtual void Put(std::string key, std::string value) = 0;
  // Whether an event with this id is in the log (or earlier in the batch).
  virtual Result<bool> EventExists(const EventId& id) = 0;
  // The event with this id, when it is in the log, earlier in the same
  // write, or accepted in an earlier write of the same group commit;
  // nullopt when it is not. Rule `fix` checks a fix against the event it
  // names.
  virtual Result<std::optional<Event>> FindEvent(const EventId& id) = 0;
  // Whether the event is in a round of the log of record that another
  // node's writer checked and wrote (a cluster's follower, a node replaying
  // the stream). The checks of the API token an event came through (rule
  // 'tokens', the token's part of rule 'fix') read what the writer's build
  // may not have checked, and only refuse (they write no state): they are
  // not made again there, so history an earlier writer took never stops a
  // node, and the state stays the same everywhere.
  virtual bool Applying() const { return false; }
};

// Events of these types cannot be corrected or retracted (rule `fix`, which
// reads the fixed event: RuleState::FindEvent): why not, or nullptr for a
// type that can.
const char* UnfixableReason(std::string_view type);

// Ok, or RuleViolation naming the rule, the event and the evidence, e.g.
// "rule 'actor': staff-12 left on 2026-03-31T00:00:00Z (position 88) and can
// no longer act". On success, records the event's effect in `state`.
// Expects an event that passed ValidateEvent.
Status CheckRules(const Event& e, RuleState& state);

}  // namespace custodian
