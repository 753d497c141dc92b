// handover plan, execute and report: flags to service/handover.h and its
// results to text.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>

#include "core/time.h"
#include "service/customer.h"
#include "service/handover.h"
#include "tools/cli.h"

namespace custodian::cli {
namespace {

// Who carries out a change that is recorded under their name (--as,
// $CUSTODIAN_AS), as "staff-<id>".
Result<std::string> Actor(const Globals& g, std::string_view command) {
  if (g.as.empty()) {
    return Status::InvalidArgument(std::string(command) +
                                   " is recorded under the name of who carries it out: say who with --as STAFF "
                                   "(e.g. --as staff-7) or $CUSTODIAN_AS");
  }
  return Reader(g, command);
}

// An optional staff id: empty stays empty.
Result<std::string> OptionalStaffId(const std::string& id) {
  if (id.empty()) return id;
  return StaffId(id);
}

constexpr int64_t kDayMicros = 86400LL * 1'000'000;

void PrintItem(const HandoverItem& item, const std::string& leaver, Timestamp now) {
  const CustomerState& s = item.state;
  fmt::print("\n{}  {}  -> {}{}{}\n", item.customer, item.name.empty() ? "-" : item.name, item.successor,
             item.group.empty() ? "" : "   [group " + item.group + "]",
             item.owned ? "" : "   (owned by " + (s.owner.empty() ? std::string("nobody") : s.owner) + ")");
  if (item.owned) {
    for (const auto& [id, d] : s.open_deals) {
      fmt::print("  deal        {} {}: {} {}, stage {}\n", id, OneLineText(d.title, 40), d.value.ToString(2),
                 d.currency, d.stage);
    }
  }
  for (const auto& [id, r] : s.open_requests) {
    if (r.assignee != leaver && !item.owned) continue;
    fmt::print("  request     {} {} ({}, {} days old){}\n", id, OneLineText(r.title, 40), r.priority,
               (now.value() - r.opened_at.value()) / kDayMicros,
               r.assignee == leaver ? ", with " + leaver
               : r.assignee.empty() ? ", unassigned"
                                    : ", with " + r.assignee);
  }
  for (const auto& [id, c] : s.open_commitments) {
    if (c.owner != leaver && !item.owned) continue;
    fmt::print("  promise     {} {} due {}{}{}\n", id, OneLineText(c.promise, 40), Day(c.due_at), DueMovedNote(c),
               c.JudgedDue() < now ? " OVERDUE" : "");
  }
  for (const ContactView& v : item.people) {
    fmt::print("  call        {}\n", TerminalText(PersonToCall(v)));
    fmt::print("              {}\n", TerminalText(LastConversation(v, 200)));
  }
  if (s.last_contact) {
    fmt::print("  last        {} {} {} by {}\n", Day(s.last_contact->at), s.last_contact->direction,
               s.last_contact->channel, s.last_contact->by);
  }
  for (const std::string& r : item.risks) fmt::print("  RISK        {}\n", r);
}

}  // namespace

int RunHandoverPlan(const Globals& g, const std::string& from, const std::string& to, const std::string& team,
                    bool json) {
  Result<std::string> reader = Reader(g, "handover plan");
  if (!reader.ok()) return UsageError(reader.status());
  Result<std::string> leaver = StaffId(from);
  if (!leaver.ok()) return Fail(leaver.status().WithContext("--from"));
  Result<std::string> successor = OptionalStaffId(to);
  if (!successor.ok()) return Fail(successor.status().WithContext("--to"));
  // Planning records a handover.planned event, so it needs the store read-write.
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());
  Result<PlannedHandover> planned =
      RecordHandoverPlan(**log, g.CallerAs(*reader), HandoverRequest{*leaver, *successor, team, SystemClock().Now()});
  if (!planned.ok()) return Fail(planned.status());
  if (json) {
    fmt::print("{}\n", PlannedHandoverToJson(*planned));
    return kExitOk;
  }
  const HandoverPlan& plan = planned->plan;
  fmt::print("Handover {}: {}'s customers and open work, {} (recorded at position {})\n", plan.id, plan.from, plan.mode,
             planned->position);
  const size_t owned = std::count_if(plan.items.begin(), plan.items.end(), [](const HandoverItem& i) { return i.owned; });
  fmt::print("{} {} ({} owned, {} where only open work is held), {} open deals, {} open requests and {} open "
             "commitments to hand over\n",
             plan.items.size(), plan.items.size() == 1 ? "customer" : "customers", owned, plan.items.size() - owned,
             plan.open_deals, plan.open_requests, plan.open_commitments);
  std::string split;
  for (const auto& [staff, n] : plan.customers_per_successor) {
    split += fmt::format("{}{} ({})", split.empty() ? "" : ", ", staff, n);
  }
  fmt::print("successors: {}\n", split);
  for (const HandoverItem& item : plan.items) PrintItem(item, plan.from, planned->now);
  return kExitOk;
}

int RunHandoverExecute(const Globals& g, const std::string& handover_id, bool json) {
  Result<std::string> actor = Actor(g, "handover execute");
  if (!actor.ok()) return UsageError(actor.status());
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());
  Result<HandoverExecution> run = CarryOutHandover(**log, g.CallerAs(*actor), handover_id, SystemClock().Now());
  if (!run.ok()) return Fail(run.status());
  if (json) {
    fmt::print("{}\n", HandoverExecutionToJson(*run));
  } else if (run->already_done) {
    fmt::print("handover {} was already executed; nothing changed\n", run->id);
  } else {
    fmt::print(
        "handover {} executed: {} customers of {}, {} ownership changes, {} requests and {} commitments "
        "moved\n",
        run->id, run->customers, run->from, run->owners_changed, run->requests_moved, run->commitments_moved);
    if (run->orphans.empty()) {
      fmt::print("nothing is left with {}\n", run->from);
    } else {
      fmt::print("still with {} (see custodian orphans):", run->from);
      for (const std::string& o : run->orphans) fmt::print(" {}", o);
      fmt::print("\n");
    }
  }
  return kExitOk;
}

int RunHandoverReport(const Globals& g, const std::string& handover_id, const std::string& format,
                      const std::string& for_staff, const std::string& out_path) {
  BriefingFormat briefing_format;
  if (format == "md") {
    briefing_format = BriefingFormat::kMarkdown;
  } else if (format == "html") {
    briefing_format = BriefingFormat::kHtml;
  } else if (format == "json") {
    briefing_format = BriefingFormat::kJsonLines;
  } else {
    return UsageError(Status::InvalidArgument("--format must be md, html or json"));
  }
  if (!out_path.empty()) {
    if (Status where = CheckOutPath(g, out_path); !where.ok()) return UsageError(where);
  }
  Result<std::string> reader = Reader(g, "handover report");
  if (!reader.ok()) return UsageError(reader.status());
  Result<std::string> successor = OptionalStaffId(for_staff);
  if (!successor.ok()) return Fail(successor.status().WithContext("--for"));
  Result<std::unique_ptr<EventLog>> log = OpenForReading(g);
  if (!log.ok()) return Fail(log.status());
  // A briefing written to a file leaves the system: an export.
  HandoverReportRequest request{handover_id, *successor, std::nullopt, SystemClock().Now()};
  if (!out_path.empty()) request.exported_as = briefing_format;
  Result<HandoverReport> report = PrepareHandoverReport(**log, g.CallerAs(*reader), request);
  if (!report.ok()) return Fail(report.status());
  const std::string doc = HandoverReportDocument(*report, briefing_format);
  if (out_path.empty()) {
    std::fwrite(doc.data(), 1, doc.size(), stdout);
    return kExitOk;
  }
  // Owner-only: it names the people to call, with their phones and e-mails.
  if (Status s = WriteOwnerOnlyFile(out_path, doc); !s.ok()) return Fail(s);
  fmt::print("wrote {} ({} customers)\n", out_path, report->customers.size());
  return kExitOk;
}

}  // namespace custodian::cli
