// CRM views across customers: staff portfolio, accountability, silent
// customers, departures and orphans. Each command parses its flags, opens the
// store, calls the service (service/staff.h) and prints its result.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "service/staff.h"
#include "tools/cli.h"

namespace custodian::cli {
namespace {


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

// "3d04h late" for a step entered late (replay/accountability.h), "-" otherwise.
std::string EnteredLate(const std::optional<int64_t>& micros) {
  return micros ? Duration(micros) + " late" : std::string("-");
}

// Opens the store for a view now (its projections brought up to date, unless
// another process holds it) or as of a time (a replay of the log).
Result<std::unique_ptr<EventLog>> OpenToView(const Globals& g, const std::optional<AsOfTime>& as_of) {
  bool caught_up = false;
  return as_of ? OpenForReading(g) : OpenForQuery(g, &caught_up);
}

// Says so when the stored projection is behind the log (another process
// holds the store and folds it).
void PrintLag(const std::optional<ProjectionLag>& behind) {
  if (!behind) return;
  fmt::print("\n(the {} projection has folded {} of {} events: the process holding the store updates it)\n",
             behind->projection, behind->folded, behind->events);
}

}  // namespace

int RunStaffPortfolio(const Globals& g, const std::string& id, const std::string& as_of_text,
                      const std::string& as_of_business_text, bool json) {
  Result<std::string> staff = StaffId(id);
  if (!staff.ok()) return Fail(staff.status());
  Result<std::string> reader = Reader(g, "staff portfolio");
  if (!reader.ok()) return UsageError(reader.status());
  Result<std::optional<AsOfTime>> as_of = AsOfOptions(as_of_text, as_of_business_text);
  if (!as_of.ok()) return UsageError(as_of.status());
  Result<std::unique_ptr<EventLog>> log = OpenToView(g, *as_of);
  if (!log.ok()) return Fail(log.status());
  Result<PortfolioView> v = StaffPortfolio(**log, g.CallerAs(*reader), *staff, *as_of);
  if (!v.ok()) return Fail(v.status());
  if (json) {
    fmt::print("{}", PortfolioViewToJson(*v));
    return kExitOk;
  }
  const Portfolio& p = v->portfolio;
  fmt::print("{}  {}{}{}{}\n", p.staff, p.role.empty() ? "(role unknown)" : p.role,
             p.team.empty() ? "" : ", team " + p.team, p.joined ? "" : "  (no staff.joined recorded)",
             p.departed_at ? "  DEPARTED " + Day(p.departed_at) : "");
  fmt::print("{}", AsOfNote(v->as_of));
  const size_t owned = v->owned(), others = v->others();
  fmt::print("owns {} customer{}; open work on {} customer{} owned by others\n", owned, owned == 1 ? "" : "s", others,
             others == 1 ? "" : "s");
  if (owned > 0) {
    fmt::print("\n{:<16} {:<28} {:<11} {:>5} {:>8} {:>10} {:>11}  {}\n", "CUSTOMER", "NAME", "OWNER SINCE", "DEALS",
               "REQUESTS", "UNASSIGNED", "COMMITMENTS", "LAST ACTIVITY");
    for (const PortfolioEntry& e : p.customers) {
      if (!e.owned) continue;
      fmt::print("{:<16} {:<28} {:<11} {:>5} {:>8} {:>10} {:>11}  {} {}\n", e.customer, OneLineText(OrDash(e.name), 28),
                 Day(e.owner_since), e.open_deals, e.open_requests, e.unassigned_requests, e.open_commitments,
                 Minute(e.last_activity_at), e.last_activity_type);
    }
  }
  if (others > 0) {
    fmt::print("\nOPEN WORK ON CUSTOMERS OWNED BY OTHERS\n{:<16} {:<28} {:<12} {:>8} {:>11}  {}\n", "CUSTOMER", "NAME",
               "OWNER", "REQUESTS", "COMMITMENTS", "LAST ACTIVITY");
    for (const PortfolioEntry& e : p.customers) {
      if (e.owned) continue;
      fmt::print("{:<16} {:<28} {:<12} {:>8} {:>11}  {} {}\n", e.customer, OneLineText(OrDash(e.name), 28),
                 e.owner.empty() ? "nobody" : e.owner, e.open_requests, e.open_commitments, Minute(e.last_activity_at),
                 e.last_activity_type);
    }
  }
  PrintLag(v->behind);
  return kExitOk;
}

int RunAccountability(const Globals& g, const std::string& staff_id, const std::string& team,
                      const std::string& from_text, const std::string& to_text, const std::string& as_of_text,
                      const std::string& as_of_business_text, bool json) {
  Result<std::optional<AsOfTime>> as_of = AsOfOptions(as_of_text, as_of_business_text);
  if (!as_of.ok()) return UsageError(as_of.status());
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
  Result<std::unique_ptr<EventLog>> log = OpenToView(g, *as_of);
  if (!log.ok()) return Fail(log.status());
  // Overdue is judged against the wall clock (a quiet log must not hide what
  // fell due since its last event), or against the --as-of time.
  Result<AccountabilityView> v = Accountability(**log, g.CallerAs(*reader), filter, SystemClock().Now(), *as_of);
  if (!v.ok()) return Fail(v.status());
  if (json) {
    fmt::print("{}", AccountabilityViewToJson(*v));
    return kExitOk;
  }
  const AccountabilityReport& r = v->report;
  const std::string period = filter.from || filter.to
                                 ? "from " + (filter.from ? FormatRfc3339(*filter.from) : std::string("the start")) +
                                       " to " + (filter.to ? FormatRfc3339(*filter.to) : std::string("now"))
                                 : "all time";
  fmt::print("Accountability{}{}: requests opened and commitments due {}; overdue as of {} ({})\n",
             filter.staff.empty() ? "" : " of " + filter.staff, filter.team.empty() ? "" : " in team " + filter.team,
             period, Minute(r.now), !v->as_of ? "wall clock" : v->as_of->business() ? "--as-of-business" : "--as-of");
  fmt::print("{}", AsOfNote(v->as_of));
  auto table = [](const char* title, const std::vector<AccountabilitySummary>& rows) {
    if (rows.empty()) return;
    fmt::print("\n{:<16} {:>8} {:>8} {:>10} {:>8} {:>10} {:>11} {:>7} {:>12} {:>9} {:>9} {:>12}\n", title,
               "REQUESTS", "ANSWERED", "MEDIAN 1ST", "P90 1ST", "UNANSWERED", "COMMITMENTS", "OVERDUE", "KEPT ON TIME",
               "KEPT LATE", "CANCELLED", "ENTERED LATE");
    for (const AccountabilitySummary& s : rows) {
      fmt::print("{:<16} {:>8} {:>8} {:>10} {:>8} {:>10} {:>11} {:>7} {:>12} {:>9} {:>9} {:>12}\n",
                 s.who.empty() ? "(nobody)" : s.who, s.requests, s.answered, Duration(s.median_first_response),
                 Duration(s.p90_first_response), s.unanswered, s.commitments, s.overdue, s.kept_on_time, s.kept_late,
                 s.cancelled, s.entered_late);
    }
  };
  table("STAFF", r.by_staff);
  table("TEAM", r.by_team);
  if (r.by_staff.empty()) fmt::print("\nno requests or commitments in this period\n");
  if (std::any_of(r.by_staff.begin(), r.by_staff.end(), [](const AccountabilitySummary& s) { return s.entered_late; })) {
    fmt::print("\nENTERED LATE: first responses and ends of commitments entered more than a day later than they claim\n"
               "(the log's own times); the figures above use the times claimed.{}\n",
               v->detail ? "" : " --staff or --team lists them.");
  }
  uint64_t moved = 0;
  for (const AccountabilitySummary& s : r.by_staff) moved += s.due_moved;
  if (moved > 0) {
    fmt::print(
        "\nDUE MOVED: {} commitment{} whose due date a correction moved later more than a day after it had\n"
        "passed; each is judged against the date that passed.{}\n",
        moved, moved == 1 ? "" : "s", v->detail ? "" : " --staff or --team lists them.");
  }
  if (v->detail && !r.requests.empty()) {
    fmt::print("\nREQUESTS\n{:<16} {:<14} {:<16} {:<12} {:<12} {:>7} {:<16} {:>7} {:<16} {:>7}  {}\n", "CUSTOMER",
               "REQUEST", "OPENED", "RESPONSIBLE", "ASSIGNED TO", "AFTER", "FIRST RESPONSE", "AFTER", "RESOLVED",
               "AFTER", "RESPONSE ENTERED");
    for (const RequestAccount& a : r.requests) {
      fmt::print("{:<16} {:<14} {:<16} {:<12} {:<12} {:>7} {:<16} {:>7} {:<16} {:>7}  {}\n", a.customer, a.request_id,
                 Minute(a.opened_at), OrDash(a.responsible), OrDash(a.assignee), Duration(a.TimeToAssign()),
                 a.first_response_at ? Minute(a.first_response_at) : std::string("UNANSWERED"),
                 Duration(a.TimeToFirstResponse()), Minute(a.resolved_at), Duration(a.TimeToResolve()),
                 EnteredLate(a.response_entered_late));
    }
  }
  if (v->detail && !r.commitments.empty()) {
    fmt::print("\nCOMMITMENTS\n{:<16} {:<14} {:<12} {:<16} {:<13} {:<16}  {:<13}  {}\n", "CUSTOMER", "COMMITMENT",
               "OWNER", "DUE", "OUTCOME", "CLOSED", "CLOSE ENTERED", "DUE MOVED AFTER IT PASSED");
    for (const CommitmentAccount& c : r.commitments) {
      const std::string moved =
          c.due_moved_from ? "from " + Minute(c.due_moved_from) + ", on " + Minute(c.due_moved_at) : std::string("-");
      fmt::print("{:<16} {:<14} {:<12} {:<16} {:<13} {:<16}  {:<13}  {}\n", c.customer, c.commitment_id, c.owner,
                 Minute(c.due_at), CommitmentOutcomeName(c.outcome), Minute(c.closed_at),
                 EnteredLate(c.closed_entered_late), moved);
    }
  }
  PrintLag(v->behind);
  return kExitOk;
}

int RunSilent(const Globals& g, int days, const std::string& as_of_text, const std::string& as_of_business_text,
              bool json) {
  Result<std::string> reader = Reader(g, "silent");
  if (!reader.ok()) return UsageError(reader.status());
  Result<std::optional<AsOfTime>> as_of = AsOfOptions(as_of_text, as_of_business_text);
  if (!as_of.ok()) return UsageError(as_of.status());
  Result<std::unique_ptr<EventLog>> log = OpenToView(g, *as_of);
  if (!log.ok()) return Fail(log.status());
  Result<SilentView> v = SilentCustomers(**log, g.CallerAs(*reader), days, *as_of, SystemClock().Now());
  if (!v.ok()) return Fail(v.status());
  if (json) {
    fmt::print("{}", SilentViewToJson(*v));
    return kExitOk;
  }
  const SilentReport& r = v->report;
  fmt::print("Silent customers: owned, no logged contact for more than {} days before {} ({})\n", r.days, Minute(r.now),
             !v->as_of              ? "wall clock"
             : v->as_of->business() ? "--as-of-business, what had happened by then"
                                    : "--as-of, what was recorded by then");
  if (r.silent.empty()) {
    fmt::print("none\n");
  } else {
    fmt::print("\n{:<16} {:<28} {:<12} {:<11} {:<12} {:<8} {:>6}\n", "CUSTOMER", "NAME", "OWNER", "LAST CONTACT", "BY",
               "CHANNEL", "DAYS");
    for (const SilentCustomer& s : r.silent) {
      fmt::print("{:<16} {:<28} {:<12} {:<11} {:<12} {:<8} {:>6}\n", s.customer, OneLineText(OrDash(s.name), 28),
                 s.owner, s.last_contact ? Day(s.last_contact) : std::string("never"), OrDash(s.last_contact_by),
                 OrDash(s.last_contact_channel), s.days_silent);
    }
  }
  fmt::print("\nDeals won and orders placed with no logged contact in the {} days before\n", r.days);
  if (r.wins.empty()) {
    fmt::print("none\n");
  } else {
    fmt::print("\n{:<16} {:<28} {:<12} {:<12} {:<14} {:<16} {:<12} {}\n", "CUSTOMER", "NAME", "OWNER", "WHAT", "ID",
               "AT", "BY", "LAST CONTACT BEFORE");
    for (const UncontactedWin& w : r.wins) {
      fmt::print("{:<16} {:<28} {:<12} {:<12} {:<14} {:<16} {:<12} {}\n", w.customer, OneLineText(OrDash(w.name), 28),
                 OrDash(w.owner), w.type, w.id, Minute(w.at), w.by,
                 w.last_contact_before ? Day(w.last_contact_before) : std::string("never"));
    }
  }
  PrintScopeNote(v->scope.reader, v->scope.left_out, "silent customers and wins", kSeesServed);
  PrintLag(v->behind);
  return kExitOk;
}

int RunPipeline(const Globals& g, const std::string& team, bool json) {
  Result<std::string> reader = Reader(g, "pipeline");
  if (!reader.ok()) return UsageError(reader.status());
  Result<std::unique_ptr<EventLog>> log = OpenToView(g, std::nullopt);
  if (!log.ok()) return Fail(log.status());
  Result<PipelineView> v = Pipeline(**log, g.CallerAs(*reader), team, SystemClock().Now());
  if (!v.ok()) return Fail(v.status());
  if (json) {
    fmt::print("{}\n", PipelineViewToJson(*v));
    return kExitOk;
  }
  const std::string whose = !team.empty()                      ? "team " + team
                            : v->scope.reader.company_wide() ? std::string("every team")
                                                             : "the staff " + v->scope.reader.staff() + " oversees";
  fmt::print("Open deals of {}, by stage, at {}: {} customers{}\n", whose, Minute(v->now),
             Thousands(v->customers.size()),
             v->unowned == 0 ? std::string()
                             : fmt::format(", {} of them owned by nobody", Thousands(v->unowned)));
  if (v->stages.empty()) {
    fmt::print("none\n");
  } else {
    fmt::print("\n{:<20} {:>7} {:>12} {}\n", "STAGE", "DEALS", "MEAN PROB.", "VALUE");
    for (const PipelineStage& st : v->stages) {
      std::string value;
      for (const auto& [currency, sum] : st.value) {
        value += (value.empty() ? "" : ", ") + sum.ToString(2) + " " + currency;
      }
      fmt::print("{:<20} {:>7} {:>12} {}\n", OneLineText(st.stage, 20), Thousands(st.deals),
                 st.with_probability == 0 ? std::string("-") : fmt::format("{}%", std::llround(st.mean_probability)),
                 OrDash(value));
    }
  }
  PrintScopeNote(v->scope.reader, v->scope.left_out, "owners",
                 "the staff they oversee: themselves, their team and those they manage");
  return kExitOk;
}

// --- departures and orphans (issue: departure and handover) ---

int RunDepartures(const Globals& g, bool all, const std::string& as_of_text, const std::string& as_of_business_text,
                  bool json) {
  Result<std::optional<AsOfTime>> as_of = AsOfOptions(as_of_text, as_of_business_text);
  if (!as_of.ok()) return UsageError(as_of.status());
  Result<std::unique_ptr<EventLog>> log = OpenToView(g, *as_of);
  if (!log.ok()) return Fail(log.status());
  Result<DepartureList> l =
      Departures(**log, all ? CompletedDepartures::kInclude : CompletedDepartures::kLeaveOut, *as_of);
  if (!l.ok()) return Fail(l.status());
  if (json) {
    fmt::print("{}", DepartureListToJson(*l));
    return kExitOk;
  }
  fmt::print("{}", AsOfNote(l->as_of));
  fmt::print("{:<12} {:<11} {:<11} {:<11} {:<10} {:>9} {:>8} {:>11}  {}\n", "STAFF", "ANNOUNCED", "EFFECTIVE",
             "DEPARTED", "SUCCESSOR", "CUSTOMERS", "REQUESTS", "COMMITMENTS", "STATUS");
  for (const Departure& d : l->departures) {
    fmt::print("{:<12} {:<11} {:<11} {:<11} {:<10} {:>9} {:>8} {:>11}  {}\n", d.staff, Day(d.announced_at),
               Day(d.effective_at), Day(d.departed_at), OrDash(d.successor), d.customers, d.requests, d.commitments,
               DepartureStateText(d.state));
  }
  if (l->departures.empty()) fmt::print("no open departures{}\n", all ? "" : " (--all lists completed ones too)");
  return kExitOk;
}

int RunOrphans(const Globals& g, const std::string& as_of_text, const std::string& as_of_business_text, bool json) {
  Result<std::string> who = Reader(g, "orphans");
  if (!who.ok()) return UsageError(who.status());
  Result<std::optional<AsOfTime>> as_of = AsOfOptions(as_of_text, as_of_business_text);
  if (!as_of.ok()) return UsageError(as_of.status());
  Result<std::unique_ptr<EventLog>> log = OpenToView(g, *as_of);
  if (!log.ok()) return Fail(log.status());
  Result<OrphanList> l = Orphans(**log, g.CallerAs(*who), SystemClock().Now(), *as_of);
  if (!l.ok()) return Fail(l.status());
  if (json) {
    fmt::print("{}", OrphanListToJson(*l));
    return kExitOk;
  }
  fmt::print("Customers, requests and commitments still held by people who have left\n{}\n", AsOfNote(l->as_of));
  fmt::print("{:<16} {:<28} {:<12} {:<11} {:>5} {:>8} {:>11}\n", "CUSTOMER", "NAME", "HELD BY", "LEFT ON", "OWNED",
             "REQUESTS", "COMMITMENTS");
  for (const Orphan& o : l->orphans) {
    const PortfolioEntry& e = o.entry;
    fmt::print("{:<16} {:<28} {:<12} {:<11} {:>5} {:>8} {:>11}\n", e.customer, OneLineText(OrDash(e.name), 28),
               o.held_by, Day(o.departed_at), e.owned ? "yes" : "no", e.open_requests, e.open_commitments);
  }
  if (l->orphans.empty()) fmt::print("none: nothing is held by anyone who has left\n");
  PrintScopeNote(l->scope.reader, l->scope.left_out, "customers held by leavers", kSeesServed);
  return kExitOk;
}

}  // namespace custodian::cli
