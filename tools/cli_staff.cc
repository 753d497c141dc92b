// CRM views across customers: staff portfolio, accountability, silent customers.
#include <fmt/core.h>

#include <string>
#include <vector>

#include "core/json.h"
#include "core/time.h"
#include "core/validation.h"
#include "replay/accountability.h"
#include "replay/portfolio.h"
#include "replay/projection.h"
#include "replay/silent.h"
#include "replay/state_reader.h"
#include "tools/cli.h"

namespace custodian::cli {
namespace {

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

// A duration for people: "45s", "12m", "3h05m", "2d04h".
std::string Duration(std::optional<int64_t> micros) {
  if (!micros) return "-";
  const int64_t s = *micros / kMicrosPerSecond;
  if (s < 0) return "-" + Duration(-*micros);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m", s / 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
  return fmt::format("{}d{:02}h", s / 86400, s % 86400 / 3600);
}

// Says so when the stored projection is behind the log (another process
// holds the store and folds it).
void NoteIfBehind(const EventLog& log, std::string_view projection, bool caught_up, bool json) {
  if (caught_up || json) return;
  Result<Position> at = log.ProjectionCheckpoint(projection);
  if (at.ok() && at->value() < log.end().value()) {
    fmt::print("\n(the {} projection has folded {} of {} events: the process holding the store updates it)\n",
               projection, at->value(), log.end().value());
  }
}

}  // namespace

int RunStaffPortfolio(const Globals& g, const std::string& id, const std::string& as_of_text, bool json) {
  Result<std::string> staff = StaffId(id);
  if (!staff.ok()) return Fail(staff.status());
  Result<std::string> reader = Reader(g, "staff portfolio");
  if (!reader.ok()) return UsageError(reader.status());
  Result<std::optional<Timestamp>> as_of = OptionalTime(as_of_text, "--as-of");
  if (!as_of.ok()) return Fail(as_of.status());
  Result<QueryState> q = OpenQueryState(g, *MakePortfolioProjection(), *as_of);
  if (!q.ok()) return Fail(q.status());
  Result<Portfolio> p = ReadPortfolio(q->Reader(kPortfolioProjection), *staff);
  if (!p.ok()) {
    if (p.status().code() == StatusCode::kNotFound) {
      fmt::print(stderr, "custodian: {} owns nothing and has no events{}\n", *staff,
                 *as_of ? " recorded by " + FormatRfc3339(**as_of) : std::string());
      return kExitRejected;
    }
    return Fail(p.status());
  }
  std::vector<std::string> shown;
  for (const PortfolioEntry& e : p->customers) shown.push_back(e.customer);
  const Access read{*reader, false, *as_of ? "portfolio_as_of" : "portfolio", shown, shown.size(), "", "cli"};
  if (Status recorded = RecordAccess(g, *q->log, read); !recorded.ok()) return Fail(recorded);
  if (json) {
    for (const PortfolioEntry& e : p->customers) fmt::print("{}\n", PortfolioEntryToJson(p->staff, e));
    return kExitOk;
  }
  size_t owned = 0;
  for (const PortfolioEntry& e : p->customers) owned += e.owned ? 1 : 0;
  fmt::print("{}  {}{}{}{}\n", p->staff, p->role.empty() ? "(role unknown)" : p->role,
             p->team.empty() ? "" : ", team " + p->team, p->joined ? "" : "  (no staff.joined recorded)",
             p->departed_at ? "  DEPARTED " + Day(p->departed_at) : "");
  if (*as_of) fmt::print("as of {} (what was recorded by then)\n", FormatRfc3339(**as_of));
  fmt::print("owns {} customer{}; open work on {} customer{} owned by others\n", owned, owned == 1 ? "" : "s",
             p->customers.size() - owned, p->customers.size() - owned == 1 ? "" : "s");
  if (owned > 0) {
    fmt::print("\n{:<16} {:<28} {:<11} {:>5} {:>8} {:>10} {:>11}  {}\n", "CUSTOMER", "NAME", "OWNER SINCE", "DEALS",
               "REQUESTS", "UNASSIGNED", "COMMITMENTS", "LAST ACTIVITY");
    for (const PortfolioEntry& e : p->customers) {
      if (!e.owned) continue;
      fmt::print("{:<16} {:<28} {:<11} {:>5} {:>8} {:>10} {:>11}  {} {}\n", e.customer, OneLineText(OrDash(e.name), 28),
                 Day(e.owner_since), e.open_deals, e.open_requests, e.unassigned_requests, e.open_commitments,
                 Minute(e.last_activity_at), e.last_activity_type);
    }
  }
  if (owned < p->customers.size()) {
    fmt::print("\nOPEN WORK ON CUSTOMERS OWNED BY OTHERS\n{:<16} {:<28} {:<12} {:>8} {:>11}  {}\n", "CUSTOMER", "NAME",
               "OWNER", "REQUESTS", "COMMITMENTS", "LAST ACTIVITY");
    for (const PortfolioEntry& e : p->customers) {
      if (e.owned) continue;
      fmt::print("{:<16} {:<28} {:<12} {:>8} {:>11}  {} {}\n", e.customer, OneLineText(OrDash(e.name), 28),
                 e.owner.empty() ? "nobody" : e.owner, e.open_requests, e.open_commitments,
                 Minute(e.last_activity_at), e.last_activity_type);
    }
  }
  if (!*as_of) NoteIfBehind(*q->log, kPortfolioProjection, q->caught_up, json);
  return kExitOk;
}

int RunAccountability(const Globals& g, const std::string& staff_id, const std::string& team,
                      const std::string& from_text, const std::string& to_text, bool json) {
  AccountabilityFilter filter;
  if (!staff_id.empty()) {
    Result<std::string> staff = StaffId(staff_id);
    if (!staff.ok()) return Fail(staff.status());
    filter.staff = *staff;
  }
  filter.team = team;
  Result<std::optional<Timestamp>> from = OptionalTime(from_text, "--from");
  Result<std::optional<Timestamp>> to = OptionalTime(to_text, "--to");
  if (!from.ok()) return Fail(from.status());
  if (!to.ok()) return Fail(to.status());
  filter.from = *from;
  filter.to = *to;
  if (filter.from && filter.to && *filter.to <= *filter.from) {
    return Fail(Status::InvalidArgument("--to " + to_text + " is not after --from " + from_text));
  }
  // Only --staff and --team list requests and commitments customer by customer.
  const bool detail = !filter.staff.empty() || !filter.team.empty();
  Result<std::string> reader = detail ? Reader(g, "accountability --staff/--team") : Result<std::string>(std::string());
  if (!reader.ok()) return UsageError(reader.status());
  // Overdue is judged against the wall clock: a quiet log must not hide what
  // fell due since its last event.
  const Timestamp now = SystemClock().Now();
  Result<QueryState> q = OpenQueryState(g, *MakeAccountabilityProjection(), std::nullopt);
  if (!q.ok()) return Fail(q.status());
  Result<AccountabilityReport> r = BuildAccountabilityReport(q->Reader(kAccountabilityProjection), filter, now);
  if (!r.ok()) return Fail(r.status());
  if (detail) {
    std::vector<std::string> shown;
    for (const RequestAccount& a : r->requests) shown.push_back(a.customer);
    for (const CommitmentAccount& c : r->commitments) shown.push_back(c.customer);
    const Access read{*reader, false, "accountability", shown, r->requests.size() + r->commitments.size(), "", "cli"};
    if (Status recorded = RecordAccess(g, *q->log, read); !recorded.ok()) return Fail(recorded);
  }
  if (json) {
    if (detail) {
      for (const RequestAccount& a : r->requests) fmt::print("{}\n", RequestAccountToJson(a));
      for (const CommitmentAccount& c : r->commitments) fmt::print("{}\n", CommitmentAccountToJson(c));
    }
    for (const AccountabilitySummary& s : r->by_staff) fmt::print("{}\n", SummaryToJson("staff", s));
    for (const AccountabilitySummary& s : r->by_team) fmt::print("{}\n", SummaryToJson("team", s));
    return kExitOk;
  }
  const std::string period = filter.from || filter.to
                                 ? "from " + (filter.from ? FormatRfc3339(*filter.from) : std::string("the start")) +
                                       " to " + (filter.to ? FormatRfc3339(*filter.to) : std::string("now"))
                                 : "all time";
  fmt::print("Accountability{}{}: requests opened and commitments due {}; overdue as of {} (wall clock)\n",
             filter.staff.empty() ? "" : " of " + filter.staff, filter.team.empty() ? "" : " in team " + filter.team,
             period, Minute(now));
  auto table = [](const char* title, const std::vector<AccountabilitySummary>& rows) {
    if (rows.empty()) return;
    fmt::print("\n{:<16} {:>8} {:>8} {:>10} {:>8} {:>10} {:>11} {:>7} {:>12} {:>9} {:>9}\n", title, "REQUESTS",
               "ANSWERED", "MEDIAN 1ST", "P90 1ST", "UNANSWERED", "COMMITMENTS", "OVERDUE", "KEPT ON TIME",
               "KEPT LATE", "CANCELLED");
    for (const AccountabilitySummary& s : rows) {
      fmt::print("{:<16} {:>8} {:>8} {:>10} {:>8} {:>10} {:>11} {:>7} {:>12} {:>9} {:>9}\n",
                 s.who.empty() ? "(nobody)" : s.who, s.requests, s.answered, Duration(s.median_first_response),
                 Duration(s.p90_first_response), s.unanswered, s.commitments, s.overdue, s.kept_on_time, s.kept_late,
                 s.cancelled);
    }
  };
  table("STAFF", r->by_staff);
  table("TEAM", r->by_team);
  if (r->by_staff.empty()) fmt::print("\nno requests or commitments in this period\n");
  if (detail && !r->requests.empty()) {
    fmt::print("\nREQUESTS\n{:<16} {:<14} {:<16} {:<12} {:<12} {:>7} {:<16} {:>7} {:<16} {:>7}\n", "CUSTOMER",
               "REQUEST", "OPENED", "RESPONSIBLE", "ASSIGNED TO", "AFTER", "FIRST RESPONSE", "AFTER", "RESOLVED",
               "AFTER");
    for (const RequestAccount& a : r->requests) {
      fmt::print("{:<16} {:<14} {:<16} {:<12} {:<12} {:>7} {:<16} {:>7} {:<16} {:>7}\n", a.customer, a.request_id,
                 Minute(a.opened_at), OrDash(a.responsible), OrDash(a.assignee), Duration(a.TimeToAssign()),
                 a.first_response_at ? Minute(a.first_response_at) : std::string("UNANSWERED"),
                 Duration(a.TimeToFirstResponse()), Minute(a.resolved_at), Duration(a.TimeToResolve()));
    }
  }
  if (detail && !r->commitments.empty()) {
    fmt::print("\nCOMMITMENTS\n{:<16} {:<14} {:<12} {:<16} {:<13} {}\n", "CUSTOMER", "COMMITMENT", "OWNER", "DUE",
               "OUTCOME", "CLOSED");
    for (const CommitmentAccount& c : r->commitments) {
      fmt::print("{:<16} {:<14} {:<12} {:<16} {:<13} {}\n", c.customer, c.commitment_id, c.owner, Minute(c.due_at),
                 CommitmentOutcomeName(c.outcome), Minute(c.closed_at));
    }
  }
  NoteIfBehind(*q->log, kAccountabilityProjection, q->caught_up, json);
  return kExitOk;
}

int RunSilent(const Globals& g, int days, const std::string& as_of_text, bool json) {
  Result<std::string> reader = Reader(g, "silent");
  if (!reader.ok()) return UsageError(reader.status());
  Result<std::optional<Timestamp>> as_of = OptionalTime(as_of_text, "--as-of");
  if (!as_of.ok()) return Fail(as_of.status());
  const Timestamp now = *as_of ? **as_of : SystemClock().Now();
  Result<QueryState> q = OpenQueryState(g, *MakeSilentProjection(), *as_of);
  if (!q.ok()) return Fail(q.status());
  Result<SilentReport> r = FindSilentCustomers(q->Reader(kSilentProjection), days, now);
  if (!r.ok()) return Fail(r.status());
  // A reader without a company-wide role sees the customers they serve.
  Result<ServiceScope> scope = ReaderScope(*q->log, *reader);
  if (!scope.ok()) return Fail(scope.status());
  size_t left_out = 0;
  Status scoped = Status::Ok();
  auto outside = [&](const std::string& customer) {
    Result<bool> serves = scope->Serves(customer, SystemClock().Now());
    if (!serves.ok()) scoped = serves.status();
    left_out += serves.ok() && !*serves ? 1 : 0;
    return serves.ok() && !*serves;
  };
  std::erase_if(r->silent, [&](const SilentCustomer& c) { return outside(c.customer); });
  std::erase_if(r->wins, [&](const UncontactedWin& w) { return outside(w.customer); });
  if (!scoped.ok()) return Fail(scoped);
  {
    std::vector<std::string> shown;
    for (const SilentCustomer& c : r->silent) shown.push_back(c.customer);
    for (const UncontactedWin& w : r->wins) shown.push_back(w.customer);
    const Access read{*reader, false, "silent", shown, r->silent.size() + r->wins.size(), "", "cli"};
    if (Status recorded = RecordAccess(g, *q->log, read); !recorded.ok()) return Fail(recorded);
  }
  if (json) {
    for (const SilentCustomer& s : r->silent) fmt::print("{}\n", SilentCustomerToJson(s));
    for (const UncontactedWin& w : r->wins) fmt::print("{}\n", UncontactedWinToJson(w));
    return kExitOk;
  }
  fmt::print("Silent customers: owned, no logged contact for more than {} days before {} ({})\n", days, Minute(now),
             *as_of ? "--as-of, what was recorded by then" : "wall clock");
  if (r->silent.empty()) {
    fmt::print("none\n");
  } else {
    fmt::print("\n{:<16} {:<28} {:<12} {:<11} {:<12} {:<8} {:>6}\n", "CUSTOMER", "NAME", "OWNER", "LAST CONTACT",
               "BY", "CHANNEL", "DAYS");
    for (const SilentCustomer& s : r->silent) {
      fmt::print("{:<16} {:<28} {:<12} {:<11} {:<12} {:<8} {:>6}\n", s.customer, OneLineText(OrDash(s.name), 28),
                 s.owner, s.last_contact ? Day(s.last_contact) : std::string("never"), OrDash(s.last_contact_by),
                 OrDash(s.last_contact_channel), s.days_silent);
    }
  }
  fmt::print("\nDeals won and orders placed with no logged contact in the {} days before\n", days);
  if (r->wins.empty()) {
    fmt::print("none\n");
  } else {
    fmt::print("\n{:<16} {:<28} {:<12} {:<12} {:<14} {:<16} {:<12} {}\n", "CUSTOMER", "NAME", "OWNER", "WHAT", "ID",
               "AT", "BY", "LAST CONTACT BEFORE");
    for (const UncontactedWin& w : r->wins) {
      fmt::print("{:<16} {:<28} {:<12} {:<12} {:<14} {:<16} {:<12} {}\n", w.customer, OneLineText(OrDash(w.name), 28),
                 OrDash(w.owner), w.type, w.id, Minute(w.at), w.by,
                 w.last_contact_before ? Day(w.last_contact_before) : std::string("never"));
    }
  }
  if (!json) PrintScopeNote(*scope, left_out, "silent customers and wins", kSeesServed);
  if (!*as_of) NoteIfBehind(*q->log, kSilentProjection, q->caught_up, json);
  return kExitOk;
}

// --- departures and orphans (issue: departure and handover) ---

namespace {

struct LeftWith {
  uint64_t customers = 0, requests = 0, commitments = 0;
  bool nothing() const { return customers == 0 && requests == 0 && commitments == 0; }
};

LeftWith Count(const Portfolio& p) {
  LeftWith left;
  for (const PortfolioEntry& e : p.customers) {
    left.customers += e.owned ? 1 : 0;
    left.requests += e.open_requests;
    left.commitments += e.open_commitments;
  }
  return left;
}

std::string TimeOrNull(const std::optional<Timestamp>& t) {
  return t ? "\"" + FormatRfc3339(*t) + "\"" : std::string("null");
}

}  // namespace


int RunDepartures(const Globals& g, bool all, bool json) {
  Result<QueryState> q = OpenQueryState(g, *MakePortfolioProjection(), std::nullopt);
  if (!q.ok()) return Fail(q.status());
  const StateReader reader = q->Reader(kPortfolioProjection);
  Result<std::vector<std::string>> staff = ListStaff(reader);
  if (!staff.ok()) return Fail(staff.status());
  if (!json) {
    fmt::print("{:<12} {:<11} {:<11} {:<11} {:<10} {:>9} {:>8} {:>11}  {}\n", "STAFF", "ANNOUNCED", "EFFECTIVE",
               "DEPARTED", "SUCCESSOR", "CUSTOMERS", "REQUESTS", "COMMITMENTS", "STATUS");
  }
  size_t shown = 0;
  for (const std::string& id : *staff) {
    Result<Portfolio> p = ReadPortfolio(reader, id);
    if (!p.ok()) return Fail(p.status());
    if (!p->announced_at && !p->departed_at) continue;
    const LeftWith left = Count(*p);
    // A departure is complete only when nothing is left with the leaver.
    const bool complete = p->departed_at && left.nothing();
    if (complete && !all) continue;
    const std::string status = complete ? "complete"
                               : left.nothing() ? "nothing left; not yet departed"
                               : p->departed_at ? "INCOMPLETE: left after departure"
                                                : "open: work still with the leaver";
    ++shown;
    if (json) {
      fmt::print("{{\"staff\":{},\"announced_at\":{},\"effective_at\":{},\"departed_at\":{},\"successor\":{},"
                 "\"customers\":{},\"requests\":{},\"commitments\":{},\"complete\":{}}}\n",
                 JsonQuote(id), TimeOrNull(p->announced_at), TimeOrNull(p->effective_at), TimeOrNull(p->departed_at),
                 p->successor.empty() ? "null" : JsonQuote(p->successor), left.customers, left.requests,
                 left.commitments, complete);
    } else {
      fmt::print("{:<12} {:<11} {:<11} {:<11} {:<10} {:>9} {:>8} {:>11}  {}\n", id, Day(p->announced_at),
                 Day(p->effective_at), Day(p->departed_at), OrDash(p->successor), left.customers, left.requests,
                 left.commitments, status);
    }
  }
  if (!json && shown == 0) fmt::print("no open departures{}\n", all ? "" : " (--all lists completed ones too)");
  return kExitOk;
}

int RunOrphans(const Globals& g, bool json) {
  Result<std::string> who = Reader(g, "orphans");
  if (!who.ok()) return UsageError(who.status());
  Result<QueryState> q = OpenQueryState(g, *MakePortfolioProjection(), std::nullopt);
  if (!q.ok()) return Fail(q.status());
  const StateReader reader = q->Reader(kPortfolioProjection);
  Result<std::vector<std::string>> staff = ListStaff(reader);
  if (!staff.ok()) return Fail(staff.status());
  struct Orphan {
    std::string held_by;
    std::optional<Timestamp> departed_at;
    PortfolioEntry entry;
  };
  std::vector<Orphan> orphans;
  for (const std::string& id : *staff) {
    Result<Portfolio> p = ReadPortfolio(reader, id);
    if (!p.ok()) return Fail(p.status());
    if (!p->departed_at) continue;
    for (PortfolioEntry& e : p->customers) {
      if (!e.owned && e.open_requests == 0 && e.open_commitments == 0) continue;
      orphans.push_back(Orphan{id, p->departed_at, std::move(e)});
    }
  }
  // A reader without a company-wide role sees the customers they serve.
  Result<ServiceScope> scope = ReaderScope(*q->log, *who);
  if (!scope.ok()) return Fail(scope.status());
  const Timestamp now = SystemClock().Now();
  size_t left_out = 0;
  Status scoped = Status::Ok();
  std::erase_if(orphans, [&](const Orphan& o) {
    Result<bool> serves = scope->Serves(o.entry.customer, now);
    if (!serves.ok()) scoped = serves.status();
    left_out += serves.ok() && !*serves ? 1 : 0;
    return serves.ok() && !*serves;
  });
  if (!scoped.ok()) return Fail(scoped);
  std::vector<std::string> shown;
  for (const Orphan& o : orphans) shown.push_back(o.entry.customer);
  if (Status recorded = RecordAccess(g, *q->log, Access{*who, false, "orphans", shown, shown.size(), "", "cli"});
      !recorded.ok()) {
    return Fail(recorded);
  }
  if (!json) {
    fmt::print("Customers, requests and commitments still held by people who have left\n\n");
    fmt::print("{:<16} {:<28} {:<12} {:<11} {:>5} {:>8} {:>11}\n", "CUSTOMER", "NAME", "HELD BY", "LEFT ON", "OWNED",
               "REQUESTS", "COMMITMENTS");
  }
  for (const Orphan& o : orphans) {
    const PortfolioEntry& e = o.entry;
    if (json) {
      fmt::print("{{\"customer\":{},\"held_by\":{},\"departed_at\":{},\"owned\":{},\"requests\":{},"
                 "\"commitments\":{}}}\n",
                 JsonQuote(e.customer), JsonQuote(o.held_by), TimeOrNull(o.departed_at), e.owned, e.open_requests,
                 e.open_commitments);
    } else {
      fmt::print("{:<16} {:<28} {:<12} {:<11} {:>5} {:>8} {:>11}\n", e.customer, OneLineText(OrDash(e.name), 28),
                 o.held_by, Day(o.departed_at), e.owned ? "yes" : "no", e.open_requests, e.open_commitments);
    }
  }
  if (!json && orphans.empty()) fmt::print("none: nothing is held by anyone who has left\n");
  if (!json) PrintScopeNote(*scope, left_out, "customers held by leavers", kSeesServed);
  return kExitOk;
}

}  // namespace custodian::cli
