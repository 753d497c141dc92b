// The staff portfolio projection (DESIGN.md, Projections): for each member of
// staff, the customers they own and the open work they hold, with their last
// activity on each customer.
//
// Rules of the fold:
//   - Ownership follows customer.owner_assigned: the customer leaves the
//     previous owner's portfolio and joins the new owner's.
//   - Open deals belong to the customer: an owner sees every open deal of the
//     customers they own (deals move with the customer at a handover, as
//     handover.planned counts them). deal.won and deal.lost close a deal.
//   - Open requests count for their assignee (request.assigned; resolved
//     closes, reopened opens again with the assignee it had). An owner also
//     sees how many open requests of their customers nobody is assigned to.
//   - Open commitments count for their owner (data.owner, else the actor that
//     made them) until fulfilled or cancelled.
//   - Last activity: the latest occurred_at among the staff member's own
//     events (as actor) on the customer's stream.
//   - A portfolio also lists customers the staff member does not own but holds
//     open requests or commitments on: after a handover, work left with the
//     previous owner shows up there instead of disappearing.
//   - staff.* events give role, team and departure for the heading.
//   - event.corrected and event.retracted: the customer's record is folded
//     again from its stream as the fixes make it (MakePortfolioProjection).
//
// Stored state, keys under the projection "portfolio":
//   c/<customer id>  the customer: owner, open deal, request and commitment
//                    holders, last activity of each member of staff
//   s/<staff id>     the member of staff: role, team, departure and the ids of
//                    the customers they own or hold open work on
// Each chunk reads and writes every touched key once (events are grouped by
// stream within the chunk), so a rebuild folds ~1M events in seconds.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "replay/projection.h"
#include "replay/state_reader.h"

namespace custodian {

inline constexpr char kPortfolioProjection[] = "portfolio";
// With `log`, a correction or retraction on a customer's stream folds that
// customer's record again from the stream as the fixes make it
// (EffectiveStreamThrough); without one (tests of the fold alone) fixes are
// counted as any other event.
// With `happened_by`, the projection folds a view as of that business time
// (ReplayLog): a fix folds the record again from the events that occurred by
// then, not from every event recorded before the fix.
std::unique_ptr<Projection> MakePortfolioProjection(const EventLog* log = nullptr,
                                                std::optional<Timestamp> happened_by = std::nullopt);

struct PortfolioEntry {
  std::string customer;  // "customer-42"
  std::string name;      // registered name; empty for individuals or unknown
  bool owned = false;    // false: open work on a customer someone else owns
  std::string owner;     // the customer's owner (may be another member of staff)
  std::optional<Timestamp> owner_since;
  uint64_t open_deals = 0;           // owned customers: the customer's open deals; else 0
  uint64_t open_requests = 0;        // open requests assigned to this member of staff
  uint64_t unassigned_requests = 0;  // owned customers: open requests assigned to nobody
  uint64_t open_commitments = 0;     // open commitments this member of staff owns
  std::optional<Timestamp> last_activity_at;  // their latest event on the customer
  std::string last_activity_type;
};

struct Portfolio {
  std::string staff;  // "staff-7"
  bool joined = false;
  std::string role, team;
  std::optional<Timestamp> departed_at;
  std::optional<Timestamp> announced_at, effective_at;  // a departure announced
  std::string successor;                                 // named in the announcement, if any
  std::vector<PortfolioEntry> customers;  // owned ones first, then the others; each by customer id
};

// The portfolio of `staff` ("staff-7") from the projection's state, stored or
// replayed. NotFound when the state knows nothing of that member of staff.
Result<Portfolio> ReadPortfolio(const StateReader& state, const std::string& staff);

// Every member of staff the projection knows, by id.
Result<std::vector<std::string>> ListStaff(const StateReader& state);

// The customers nobody owns that have open deals, by id.
Result<std::vector<std::string>> UnownedCustomersWithDeals(const StateReader& state);

// One JSON object per entry (the CLI's JSON Lines), times in RFC 3339.
std::string PortfolioEntryToJson(const std::string& staff, const PortfolioEntry& entry);

}  // namespace custodian
