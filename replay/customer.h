// The customer projection (DESIGN.md, Projections): one customer's profile,
// contacts, owner and custody chain, team, open deals, requests and
// commitments, last contact and lifetime orders, folded from the events of
// its customer-<id> stream. The stored projection and the as-of replays use
// the same fold, FoldCustomer (ApplyToCustomer per event).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event.h"
#include "core/money.h"
#include "core/status.h"
#include "replay/projection.h"
#include "replay/state_reader.h"
#include "storage/event_log.h"

namespace custodian {

struct CustomerState {
  std::string id;  // "customer-42"
  bool registered = false;
  std::string name, kind, status = "active", segment, industry, country, group, external_id, team;
  std::string owner;  // staff id; empty when nobody owns it

  // One stretch of ownership: the custody chain is the list of them.
  struct Custody {
    std::string owner, previous_owner, reason, handover_id, assigned_by;
    Timestamp from;                // occurred_at of the assignment
    std::optional<Timestamp> to;   // when the next assignment took over
    uint64_t position = 0;
  };
  std::vector<Custody> custody;

  // A conversation logged with a contact (interaction.logged naming it in
  // data.contact_id). Its personal notes, if any, stay in the event at
  // `position`, opened at read time.
  struct Conversation {
    uint64_t position = 0;
    Timestamp at;  // occurred_at
    std::string channel, direction, by;
  };
  // A contact person. Projections never hold personal plaintext (DESIGN.md,
  // Personal data and erasure): the contact's name, e-mail, phone, ... stay
  // sealed in the events that carry them, and the state keeps where those
  // are, for replay/people.h to open at read time.
  struct Contact {
    std::string role, department, preferred_channel;
    bool key_contact = false;
    // The positions of the events that carry this contact's personal part
    // (contact.added, contact.updated; customer.registered or .updated
    // naming it in data.contact_id), in the order folded: an update may
    // carry only some fields, so all of them are opened and merged, later
    // over earlier.
    std::vector<uint64_t> personal_positions;
    // The latest conversation with them by business time (a tie goes to the
    // later event).
    std::optional<Conversation> last_conversation;
  };
  std::map<std::string, Contact> contacts;  // by contact id

  struct Deal {
    std::string title, stage, currency, owner;
    Amount value;  // exact (core/money.h)
    std::optional<double> probability;
    Timestamp opened_at;
    std::optional<Timestamp> expected_close_at;
  };
  std::map<std::string, Deal> open_deals;
  uint64_t deals_won = 0, deals_lost = 0;

  struct Request {
    std::string title, priority = "normal", category, assignee, opened_by;
    Timestamp opened_at;
    std::optional<Timestamp> due_at, first_response_at;
    bool reopened = false;
  };
  std::map<std::string, Request> open_requests;

  // Who was responsible for each request, open or closed, and when.
  struct Responsibility {
    std::string staff;
    Timestamp from;
  };
  struct RequestHistory {
    Timestamp opened_at;
    std::optional<Timestamp> resolved_at;
    std::vector<Responsibility> assignments;  // in business-time order of the events
  };
  std::map<std::string, RequestHistory> request_history;

  struct Commitment {
    std::string promise, owner, request_id, deal_id;
    Timestamp made_at, due_at;
    // A due date that a correction moved later after it had passed
    // (FindDueMoves): the date that passed, and when the log recorded the move.
    std::optional<Timestamp> due_moved_from, due_moved_at;
    // The date the promise is judged against (kept or late, overdue): the
    // one that passed when it was moved so, else its due date.
    Timestamp JudgedDue() const { return due_moved_from.value_or(due_at); }
  };
  std::map<std::string, Commitment> open_commitments;
  uint64_t commitments_kept = 0, commitments_late = 0, commitments_cancelled = 0;

  struct LastContact {
    Timestamp at;
    std::string channel, direction, by;
  };
  std::optional<LastContact> last_contact;

  uint64_t orders = 0;
  std::map<std::string, MoneySum> order_value;  // by currency, exact
  // Events whose amount is not an exact decimal (written before amounts had
  // to be, e.g. 1e308): not counted in any sum; at most kMaxInexactKept kept.
  std::vector<uint64_t> inexact_amounts;

  uint64_t events = 0;
  uint64_t last_position = 0;
  Timestamp last_recorded_at;
  uint64_t late_events = 0;  // recorded long after they occurred (kLateAfter)
  uint64_t corrections = 0, retractions = 0;
};

// An event is "late" when it was recorded this long after it occurred.
constexpr int64_t kLateAfterMicros = int64_t{7} * 24 * 3600 * 1'000'000;

// A step "entered late" (replay/accountability.h): more than this later than
// it claims. A day, so a CRM that syncs nightly is not marked.
inline constexpr int64_t kEnteredLateMicros = int64_t{24} * 3600 * 1'000'000;
// How much later than it claims something was entered, in microseconds: the
// time between the log's records of an opening event (`opened_at` claimed,
// `opened_recorded_at` recorded) and of a later step, less the time between
// them the producer claims. Zero or less when the step was entered as promptly
// as the opening (a bulk import of old history enters both at once).
inline int64_t LaterThanClaimed(Timestamp opened_at, Timestamp opened_recorded_at, Timestamp claimed,
                                Timestamp recorded) {
  return (recorded.value() - opened_recorded_at.value()) - (claimed.value() - opened_at.value());
}

// A promise's due date moved later after it had passed: by a correction
// (event.corrected, not itself retracted) of commitment.made that moves
// `due_at` later, recorded more than kEnteredLateMicros after that date had
// passed, measured with LaterThanClaimed against the log's record of
// commitment.made (so a load of old history moves nothing). The promise is
// judged against the date that passed, here and in accountability; a date
// moved before it passed is a new date agreed in time.
struct DueMove {
  std::string commitment;  // its commitment_id
  Timestamp from;          // the date that passed
  Timestamp at;            // when the log recorded the move
};
struct DueMoves {
  // By the commitment.made's event id (not retracted): its first such move.
  std::unordered_map<std::string, DueMove> by_making;
  // By commitment id: the making that is the promise, the last one not
  // retracted in the order given, as the fold takes it (rule `reference`
  // refuses a commitment_id made twice; a log from before it may hold more).
  std::map<std::string, std::string> promise;
};
// The moves in `events` (one customer's stream, in the order a view folds
// it). Corrections are taken in the log's order (by position), whatever
// order the view gives them in.
DueMoves FindDueMoves(std::span<const Event> events);

// The fold: applies one event of the customer's stream. Events of other
// types are counted and otherwise ignored.
Status ApplyToCustomer(CustomerState& state, const Event& e);

// Corrections and retractions (docs/events.md, "Corrections and
// retractions"): the events of one customer's stream, in the order given, as
// their fixes among them make them: an event named by an event.retracted is
// left out; one named by event.corrected has the `corrected` fields in place
// of its own (later corrections over earlier ones, the numbers' text kept),
// unless that correction was retracted (only a log from before rule `fix`
// holds one). The fixing events themselves stay, so they are counted.
std::vector<Event> EffectiveEvents(std::span<const Event> events);
// The customer of `events` (one stream's, in the order given) with every
// fix among them applied: ApplyToCustomer over EffectiveEvents, each
// promise marked with its due date moved after it passed (FindDueMoves,
// which needs the events as given, not as fixed). The stored projection and
// every replay fold through it, so the state after a fix is the state the
// stream would have had if the fixed event had been right, and a promise is
// judged against the date that passed.
Result<CustomerState> FoldCustomer(std::span<const Event> events);
// Whether `e` is an event.corrected or event.retracted.
bool IsFix(const Event& e);
// The events of `fix`'s stream in `log` from the first through `fix`, as
// stored. With `happened_by` (a view as of a business time), only the events
// that occurred by then, as that view selects them.
Result<std::vector<Event>> StreamThroughFix(const EventLog& log, const Event& fix,
                                            std::optional<Timestamp> happened_by = std::nullopt);
// The same, as the fixes among them make them (EffectiveEvents): what a
// projection folds again from an empty record when it meets a fix.
Result<std::vector<Event>> EffectiveStreamThrough(const EventLog& log, const Event& fix,
                                                  std::optional<Timestamp> happened_by = std::nullopt);
// Sets `record` to an empty Record folded with `apply` over
// EffectiveStreamThrough(log, fix): how a projection's per-customer record
// takes a fix. Then `then`, when given, sees the record and the events as
// stored (what the fixes changed, e.g. a due date moved).
template <typename Record, typename Apply>
Status RefoldRecord(const EventLog& log, const Event& fix, Record& record, Apply apply,
                    std::optional<Timestamp> happened_by = std::nullopt,
                    const std::function<void(Record&, std::span<const Event>)>& then = {}) {
  Result<std::vector<Event>> stored = StreamThroughFix(log, fix, happened_by);
  if (!stored.ok()) return stored.status();
  record = Record{};
  for (const Event& e : EffectiveEvents(*stored)) {
    Status s = apply(record, e);
    if (!s.ok()) return s;
  }
  if (then) then(record, *stored);
  return Status::Ok();
}

// Folds `events` (one stream's, in order) into `record` with `apply`; at a
// fix, when there is a `log`, the record is folded again from the stream
// instead (RefoldRecord, with `happened_by` and `then`). Without a log (a
// projection replayed apart from its store), a fix is applied as any event.
template <typename Record, typename Apply>
Status FoldStream(const EventLog* log, std::span<const Event* const> events, Record& record, Apply apply,
                  std::optional<Timestamp> happened_by = std::nullopt,
                  const std::function<void(Record&, std::span<const Event>)>& then = {}) {
  for (const Event* e : events) {
    Status s = log == nullptr || !IsFix(*e) ? apply(record, *e)
                                            : RefoldRecord<Record>(*log, *e, record, apply, happened_by, then);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// The owner at business time `t` (from the custody chain), if any.
std::optional<CustomerState::Custody> OwnerAt(const CustomerState& state, Timestamp t);

// Who was responsible for request `request` at business time `t`: its
// assignee then, or, before any assignment, whoever opened it. Nullopt
// when the request did not exist yet or was resolved by then.
std::optional<std::string> ResponsibleAt(const CustomerState& state, const std::string& request, Timestamp t);

// At most this many positions are kept in CustomerState::inexact_amounts.
inline constexpr size_t kMaxInexactKept = 100;

// JSON for people and machines (the CLI's --json), and the stored encoding.
// Amounts and sums are exact decimal strings ("81500.5"). It holds no
// personal plaintext: contacts carry "personal_positions" and
// "last_conversation" (with its event's position) instead.
std::string CustomerToJson(const CustomerState& state);
// Corruption, saying what does not decode, for anything CustomerToJson did
// not write; never throws.
Result<CustomerState> CustomerFromJson(std::string_view json);

// The stored projection "customer": key = customer id, value = CustomerToJson.
// At an event.corrected or event.retracted it folds the customer again from
// its stream in `log` up to that event (FoldCustomer).
std::unique_ptr<Projection> MakeCustomerProjection(const EventLog& log);
inline constexpr char kCustomerProjection[] = "customer";
// Its state's encoding (Projection::state_version). 2: contacts keep the
// positions of their personal parts and their last conversation; state of
// version 1 lacks them (every contact would read as having no personal data),
// so the engine rebuilds it. 3: corrections and retractions take effect
// (state of version 2 counts a retracted deal.won as won). 4: a promise's
// due date moved after it passed is judged against the date that passed
// (FindDueMoves; state of version 3 counts such a promise kept).
inline constexpr uint32_t kCustomerStateVersion = 4;

// Reads the stored state (NotFound when the customer has no events). Stored
// state that does not decode is Corruption naming the customer, the
// projection's position and the cure (`custodian rebuild customer`); state in
// another version of the encoding (not yet rebuilt: the store is held by a
// process that has not caught up) is FailedPrecondition, saying so.
Result<CustomerState> LoadCustomer(const EventLog& log, const std::string& customer);

// Replays a customer's stream through the same fold (AsOf: replay/state_reader.h).
struct Replay {
  CustomerState state;
  std::vector<Event> events;      // the events folded, in the order folded
  std::vector<Event> late;        // of those, the ones recorded long after they occurred
  std::vector<Event> not_yet_known;  // kBusiness only: of `events`, those recorded after T
};
Result<Replay> ReplayCustomer(const EventLog& log, const std::string& customer, std::optional<Timestamp> t,
                              AsOf as_of);

}  // namespace custodian
