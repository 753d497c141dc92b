// Views across customers, by the people who serve them (DESIGN.md,
// Projections; Departure and handover): a member of staff's portfolio, who
// answered and kept what (accountability), relationships going quiet
// (silent customers), open departures, and what people who have left still
// hold (orphans). Each is a function with a typed result and one ToJson;
// the command line (tools/cli_staff.cc) parses flags, opens the store,
// calls them and prints, and the server will do the same.
//
// Every function takes a store already open (service/store.h: OpenForQuery,
// or OpenForReading for a view as of a time) whose projections are up to
// date when it is writable; a read-only store (another process holds it and
// folds the projections) is read through a replay of its log instead, with
// the same fold, and the result says how far the stored projection lags.
//
// Reads of customer data are recorded for the Caller (service/store.h:
// RecordRead) before anything is returned; when the read cannot be
// recorded, the function returns that error and no data.
//
// The ToJson functions give JSON Lines, one object per line each ending in
// "\n" (the command line's --json); nothing for an empty listing. The scope
// cut and the projection's lag are not part of them: they are notes under a
// text listing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "core/status.h"
#include "core/types.h"
#include "replay/accountability.h"
#include "replay/alerts.h"
#include "replay/portfolio.h"
#include "replay/silent.h"
#include "service/store.h"
#include "storage/event_log.h"

namespace custodian {

// --- Shared by the views ---

// A stored projection that has folded less than the whole log: another
// process holds the store and updates it. The view itself was read from a
// replay of the whole log, so it is complete; this only says so.
struct ProjectionLag {
  std::string projection;  // "portfolio", "silent", ...
  uint64_t folded = 0;     // events the stored projection has folded
  uint64_t events = 0;     // events in the log
};

// A listing that spans the company, cut to what the reader serves
// (replay/alerts.h: ServiceScope): a reader without a company-wide role sees
// the customers they serve. `reader` gives their staff id, role, team and
// company_wide(); its Serves and Oversees read the store the view was read
// from, so use them only while that store is open.
struct ScopeCut {
  ServiceScope reader;
  size_t left_out = 0;  // items left out because the reader does not serve their customer
};

// --- A member of staff's portfolio ---

struct PortfolioView {
  Portfolio portfolio;             // replay/portfolio.h: owned customers first, then the others
  std::optional<AsOfTime> as_of;  // none: now
  std::optional<ProjectionLag> behind;
  size_t owned() const;   // customers they own
  size_t others() const;  // customers owned by others they hold open work on
};
// The portfolio of `staff` ("staff-7"), now or as of `as_of` (a replay of
// what was recorded, or had happened, by then). NotFound, naming them (and
// the time), when the state knows nothing of them. Records a read of every
// customer listed (view "portfolio", "portfolio_as_of" or
// "portfolio_as_of_business").
Result<PortfolioView> StaffPortfolio(EventLog& log, const Caller& caller, const std::string& staff,
                                     const std::optional<AsOfTime>& as_of);
// One object per customer (replay/portfolio.h: PortfolioEntryToJson).
std::string PortfolioViewToJson(const PortfolioView& v);

// --- Accountability ---

struct AccountabilityView {
  AccountabilityFilter filter;  // as asked
  AccountabilityReport report;  // replay/accountability.h; report.now: what "overdue" was judged against
  // Whether requests and commitments are listed one by one: only for a
  // member of staff or a team (filter.staff or filter.team); else the
  // summaries alone, which name no customer.
  bool detail = false;
  std::optional<ProjectionLag> behind;
  std::optional<AsOfTime> as_of;  // none: now
};
// Who answered which request how fast and which promises were kept, in the
// filter's period, with overdue judged against `now` (the command line: the
// wall clock, so a quiet log does not hide what fell due since its last
// event). InvalidArgument when the period ends at or before it starts.
// With `as_of`, a replay of what was recorded (or had happened) by then,
// overdue judged against that time. With filter.staff or filter.team,
// records a read of the customers whose requests and commitments are listed
// (view "accountability", or with "_as_of" / "_as_of_business"); the
// company-wide summaries name no customer and record nothing.
Result<AccountabilityView> Accountability(EventLog& log, const Caller& caller, const AccountabilityFilter& filter,
                                          Timestamp now, const std::optional<AsOfTime>& as_of = std::nullopt);
// With detail, the requests and commitments (kind "request", "commitment"),
// then the summaries (kind "staff", "team").
std::string AccountabilityViewToJson(const AccountabilityView& v);

// --- Silent customers ---

struct SilentView {
  SilentReport report;             // replay/silent.h; report.now: the time silence is measured to
  std::optional<AsOfTime> as_of;  // report.now is its time; none: the wall clock
  ScopeCut scope;
  std::optional<ProjectionLag> behind;
};
// Owned customers with no logged contact for more than `days` days before
// `as_of` (a replay of what was recorded, or had happened, by then; else
// before `now`), and wins with no contact in the `days` before them
// (replay/silent.h), of the customers the caller serves at `now` (the wall
// clock). InvalidArgument for days < 0. Records a read of the customers
// listed (view "silent", or with "_as_of" / "_as_of_business").
Result<SilentView> SilentCustomers(EventLog& log, const Caller& caller, int days, const std::optional<AsOfTime>& as_of,
                                   Timestamp now);
// The silent customers (kind "silent"), then the wins (kind "uncontacted_win").
std::string SilentViewToJson(const SilentView& v);

// --- The pipeline ---

// The open deals of one stage, with their value by currency (exact).
struct PipelineStage {
  std::string stage;
  uint64_t deals = 0;
  double mean_probability = 0;               // of the deals that give one; 0 when none does
  std::map<std::string, MoneySum> value;     // by currency
  uint64_t with_probability = 0;             // how many deals gave a probability
};
struct PipelineView {
  std::string team;                  // as asked; empty: every team
  Timestamp now;
  std::vector<PipelineStage> stages;  // by mean probability, then by name: the funnel's order
  std::vector<std::string> customers;  // the customers whose deals are counted, by id
  uint64_t unowned = 0;                // how many of them nobody owns (counted in every team's pipeline only)
  ScopeCut scope;                      // left_out: owners left out because the caller does not oversee them
};
// The open deals of the customers owned by the staff the caller oversees
// (replay/alerts.h: ServiceScope::Oversees; every member of staff for a
// company-wide role), of `team` when it is not empty, by stage; with no
// team, also those of customers nobody owns that the caller serves. Records
// a read of the customers counted (view "pipeline"); names no person.
Result<PipelineView> Pipeline(EventLog& log, const Caller& caller, const std::string& team, Timestamp now);
// One object: {"team", "now", "customers", "unowned_customers", "stages":
// [{"stage", "deals", "mean_probability" (whole percent), "value": {"EUR": "84000.00"}}]}.
std::string PipelineViewToJson(const PipelineView& v);

// --- Departures ---

// Where a departure stands.
enum class DepartureState {
  kOpen,         // announced; work is still with the leaver
  kNothingLeft,  // nothing is left with them, but they have not departed yet
  kIncomplete,   // departed, and work was left with them
  kComplete,     // departed with nothing left: the only finished state
};
// "open: work still with the leaver", "nothing left; not yet departed",
// "INCOMPLETE: left after departure", "complete".
std::string_view DepartureStateText(DepartureState state);

struct Departure {
  std::string staff;
  std::optional<Timestamp> announced_at, effective_at, departed_at;
  std::string successor;  // named in the announcement; empty when none
  // Still with the leaver: customers they own, open requests and commitments they hold.
  uint64_t customers = 0, requests = 0, commitments = 0;
  DepartureState state = DepartureState::kOpen;
  bool complete() const { return state == DepartureState::kComplete; }
};
// Whether Departures lists completed ones too.
enum class CompletedDepartures { kLeaveOut, kInclude };
struct DepartureList {
  CompletedDepartures completed = CompletedDepartures::kLeaveOut;  // as asked
  std::vector<Departure> departures;                               // by staff id
  std::optional<AsOfTime> as_of;                                       // none: now
};
// Every member of staff whose departure was announced or who departed, with
// what is still left with them (as of `as_of`: what was recorded, or had
// happened, by then). Names staff and counts, no customer: no read is
// recorded, and no Caller is needed.
Result<DepartureList> Departures(EventLog& log, CompletedDepartures completed,
                                 const std::optional<AsOfTime>& as_of = std::nullopt);
// One object per departure: staff, announced_at, effective_at, departed_at,
// successor, customers, requests, commitments, complete.
std::string DepartureListToJson(const DepartureList& l);

// --- Orphans ---

// A customer that someone who has left still owns, or holds open requests
// or commitments on.
struct Orphan {
  std::string held_by;  // the leaver
  std::optional<Timestamp> departed_at;
  PortfolioEntry entry;  // replay/portfolio.h: the leaver's entry for the customer
};
struct OrphanList {
  std::vector<Orphan> orphans;  // by leaver, then as in their portfolio
  ScopeCut scope;
  std::optional<AsOfTime> as_of;  // none: now
};
// What people who have departed still hold (as of `as_of`: who had
// departed by then and what they still held then), of the customers the
// caller serves at `now`. Records a read of the customers listed (view
// "orphans", or with "_as_of" / "_as_of_business").
Result<OrphanList> Orphans(EventLog& log, const Caller& caller, Timestamp now,
                           const std::optional<AsOfTime>& as_of = std::nullopt);
// One object per orphan: customer, held_by, departed_at, owned, requests, commitments.
std::string OrphanListToJson(const OrphanList& l);

}  // namespace custodian
