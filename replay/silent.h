// The silent-customers projection (DESIGN.md, Projections): relationships
// going quiet, from the logged contacts (interaction.logged) of each customer.
//
// Two findings, for a window of N days (the caller's; the CLI's default 60)
// and a "now" (the CLI's: the wall clock, or the --as-of time):
//   - silent customers: customers with an owner whose last logged contact
//     occurred more than N days before now. A contact exactly N days ago
//     still counts (silent means now - last contact > N days). A customer
//     never contacted is measured from its first event.
//   - uncontacted wins: deal.won and order.placed events with no contact
//     logged in the N days before them: none in [at - N days, at].
// Only contacts that occurred at or before now count, so a replay as of T
// ignores nothing it knew but uses nothing that happened later.
//
// event.corrected and event.retracted: the customer's record is folded again
// from its stream as the fixes make it (a retracted win is no win).
//
// Stored state, keys under the projection "silent":
//   c/<customer id>  owner and since when, name, first event time, the times of
//                    every logged contact (sorted) with the latest one's
//                    channel and actor, and every win and order
// Times are stored as microseconds. Events are grouped by customer within a
// chunk, so each touched key is read and written once per chunk.
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

inline constexpr char kSilentProjection[] = "silent";
// With `log`, a fix on a customer's stream folds its record again (as
// MakePortfolioProjection does); without, fixes count as any other event.
// With `happened_by`, the projection folds a view as of that business time
// (ReplayLog): a fix folds the record again from the events that occurred by
// then, not from every event recorded before the fix.
std::unique_ptr<Projection> MakeSilentProjection(const EventLog* log = nullptr,
                                                 std::optional<Timestamp> happened_by = std::nullopt);

inline constexpr int kDefaultSilentDays = 60;

struct SilentCustomer {
  std::string customer, name, owner;
  std::optional<Timestamp> owner_since;
  std::optional<Timestamp> last_contact;  // none: never contacted
  std::string last_contact_by, last_contact_channel;
  Timestamp silent_since;  // the last contact, or the customer's first event
  int64_t days_silent = 0;  // whole days from silent_since to now
};

struct UncontactedWin {
  std::string customer, name, owner;  // owner now
  std::string type;                   // "deal.won" or "order.placed"
  std::string id;                     // deal_id or order_id
  Timestamp at;
  std::string by;
  std::optional<Timestamp> last_contact_before;  // latest contact at or before `at`, if any
};

struct SilentReport {
  Timestamp now;
  int days = kDefaultSilentDays;
  std::vector<SilentCustomer> silent;  // longest silent first, then by customer id
  std::vector<UncontactedWin> wins;    // newest first, then by customer id
};

// The findings from the projection's state, stored or replayed. `days` >= 0.
Result<SilentReport> FindSilentCustomers(const StateReader& state, int days, Timestamp now);

// JSON objects for the CLI's JSON Lines, with "kind": silent or uncontacted_win.
std::string SilentCustomerToJson(const SilentCustomer& s);
std::string UncontactedWinToJson(const UncontactedWin& w);

}  // namespace custodian
