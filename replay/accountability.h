// The accountability projection (DESIGN.md, Projections): who answered which
// customer request how fast, and which promises were kept.
//
// Per request it keeps when it was opened, assigned (first assignment, and to
// whom it is assigned now), first answered (request.responded) and resolved,
// so the report can say how long each step took. Per commitment it keeps the
// owner, the due date and how it ended. Teams come from staff.joined and
// staff.role_changed (their team field), as intervals, so an item counts for
// the team its member of staff was in at the time.
//
// Who is accountable for a request ("responsible"):
//   - once answered: whoever held it at the first response: its assignee,
//     else the customer's owner, else the member of staff who opened it;
//   - while unanswered: its assignee now, else the customer's owner now, else
//     the opener (empty when none of them is a member of staff).
// A commitment's owner is data.owner, else the actor that made it.
//
// Outcomes of a commitment, against `now` and the due date it is judged
// against (its due_at, unless it was moved after it passed: see below):
//   kept on time  fulfilled at or before the due date (exactly at it is on time)
//   kept late     fulfilled after the due date
//   cancelled     commitment.cancelled
//   overdue       still open and due before now (due exactly now is not yet overdue)
//   pending       still open and not yet due
// "now" is chosen by the caller; the CLI uses the wall clock, not the latest
// event's time, so a quiet log does not hide what fell overdue since.
//
// Entered late: the figures use business time (occurred_at), which the
// producer gives, so a response logged days later but dated an hour after the
// request would show a fast answer, and a fulfilment dated before its due date
// a promise kept. The log's own times cannot be moved: a first response, or a
// commitment's fulfilment or cancellation, is marked entered late when the
// time between the records of the opening event and of the step exceeds the
// time the producer claims between them by more than kEnteredLateMicros.
// The claimed figures stay (a call logged the next morning is no lie); the
// report shows by how much each was entered late and counts them per member
// of staff and team. A load of old history that records the opening and the
// step together does not mark the step, unless it is dated more than a day before the
// opening (a promise kept before it was made is marked however it came).
// Not caught: an opening entered as late as its step (both logged on Friday,
// dated Monday).
//
// Due dates moved after they passed (FindDueMoves): a correction
// (event.corrected) of commitment.made that moves its due date later,
// recorded more than kEnteredLateMicros after that date had passed (measured
// as above, against the log's record of commitment.made), keeps the date that passed: the
// promise is judged against it (outcome, period, team, order), and the report
// shows both dates and when the move was recorded. A due date moved before it
// passed (a new date agreed in time) is the promise's due date. A promise
// recorded with a due date before the time it claims to be made counts as
// passed at once (as a promise kept before it was made is marked entered
// late). Not caught: a move within the day's grace, a promise entered as late
// as the move (both recorded together after the date), and a promise
// retracted and another made in its place with a later date (the retraction,
// with its reason, stays in the customer's history). The customer view
// judges by the same rule (replay/customer.h, FindDueMoves).
//
// Percentiles of first-response times interpolate linearly between ranks
// (Excel's PERCENTILE.INC, NumPy's default): the median of 1, 2, 3 and 4 hours
// is 2.5 hours and the 90th percentile of 1..10 hours is 9.1 hours.
//
// event.corrected and event.retracted: the customer's record is folded again
// from its stream as the fixes make it; follow-ups of a request or commitment the fold has not seen
// opened are ignored.
//
// Stored state, keys under the projection "accountability":
//   c/<customer id>  the customer's owner, every request and every commitment
//   s/<staff id>     the member of staff's team intervals
// Times are stored as microseconds. Events are grouped by stream within a
// chunk, so each touched key is read and written once per chunk.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "replay/customer.h"  // kEnteredLateMicros, FindDueMoves
#include "replay/projection.h"
#include "replay/state_reader.h"

namespace custodian {

inline constexpr char kAccountabilityProjection[] = "accountability";
// With `log`, a fix on a customer's stream folds its record again (as
// MakePortfolioProjection does); without, fixes count as any other event.
// With `happened_by`, the projection folds a view as of that business time
// (ReplayLog): a fix folds the record again from the events that occurred by
// then, not from every event recorded before the fix.
std::unique_ptr<Projection> MakeAccountabilityProjection(const EventLog* log = nullptr,
                                                std::optional<Timestamp> happened_by = std::nullopt);

struct RequestAccount {
  std::string customer, request_id;
  Timestamp opened_at;
  std::string opened_by;
  std::optional<Timestamp> assigned_at;  // first request.assigned
  std::string assignee;                  // assigned to now; empty when never assigned
  std::optional<Timestamp> first_response_at;
  std::string responded_by;
  std::optional<Timestamp> resolved_at;  // empty while open (a reopen clears it)
  uint32_t reopened = 0;
  std::string responsible;  // see the header comment; empty when nobody
  std::string team;         // the responsible's team when the request was opened
  // How much later than claimed the first response was entered, in
  // microseconds, when more than kEnteredLateMicros; else empty.
  std::optional<int64_t> response_entered_late;

  // How long each step took from opened_at, in microseconds.
  std::optional<int64_t> TimeToAssign() const;
  std::optional<int64_t> TimeToFirstResponse() const;
  std::optional<int64_t> TimeToResolve() const;
  bool Unanswered() const { return !first_response_at && !resolved_at; }
};

enum class CommitmentOutcome { kPending, kOverdue, kKeptOnTime, kKeptLate, kCancelled };
std::string_view CommitmentOutcomeName(CommitmentOutcome outcome);  // "overdue", "kept_on_time", ...

struct CommitmentAccount {
  std::string customer, commitment_id, owner;
  std::string team;  // the owner's team at the due date it is judged against
  Timestamp made_at, due_at;
  std::optional<Timestamp> closed_at;  // fulfilled or cancelled at
  CommitmentOutcome outcome = CommitmentOutcome::kPending;
  // How much later than claimed the fulfilment or cancellation was entered,
  // in microseconds, when more than kEnteredLateMicros; else empty.
  std::optional<int64_t> closed_entered_late;
  // The due date that had passed when a correction moved it later (the
  // promise is judged against it), and when the log recorded the move.
  std::optional<Timestamp> due_moved_from, due_moved_at;
  // The due date the promise is judged against.
  Timestamp JudgedDue() const { return due_moved_from.value_or(due_at); }
};

// Figures for one member of staff or one team.
struct AccountabilitySummary {
  std::string who;  // staff id or team name; empty: requests nobody is responsible for
  uint64_t requests = 0, answered = 0, unanswered = 0;
  std::optional<int64_t> median_first_response, p90_first_response;  // microseconds
  uint64_t commitments = 0, overdue = 0, kept_on_time = 0, kept_late = 0, cancelled = 0, pending = 0;
  // First responses and commitments' ends entered late (see the header comment).
  uint64_t entered_late = 0;
  // Commitments whose due date a correction moved after it passed.
  uint64_t due_moved = 0;
};

struct AccountabilityFilter {
  std::string staff;  // only requests this member of staff is responsible for / commitments they own
  std::string team;   // only items of this team
  // Period: requests opened, commitments due, in [from, to). Open ends when absent.
  std::optional<Timestamp> from, to;
};

struct AccountabilityReport {
  Timestamp now;
  std::vector<RequestAccount> requests;        // by opened_at, then customer and id
  std::vector<CommitmentAccount> commitments;  // by JudgedDue, then customer and id
  std::vector<AccountabilitySummary> by_staff;  // by staff id
  std::vector<AccountabilitySummary> by_team;   // by team; items with no team are left out
};

Result<AccountabilityReport> BuildAccountabilityReport(const StateReader& state, const AccountabilityFilter& filter,
                                                       Timestamp now);

// The p-th percentile (0..1) of `values`, interpolating linearly between
// ranks; nullopt for no values.
std::optional<int64_t> Percentile(std::vector<int64_t> values, double p);

// JSON objects for the CLI's JSON Lines; "kind" says which: request,
// commitment, staff or team. Times in RFC 3339, durations in seconds.
std::string RequestAccountToJson(const RequestAccount& r);
std::string CommitmentAccountToJson(const CommitmentAccount& c);
std::string SummaryToJson(std::string_view kind, const AccountabilitySummary& s);

}  // namespace custodian
