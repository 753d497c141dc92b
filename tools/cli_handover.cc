// handover plan: what a leaver holds and who takes it over (replay/handover.h).
#include <fmt/core.h>

#include "core/json.h"
#include "core/sha256.h"
#include "core/time.h"
#include "replay/handover.h"
#include "replay/portfolio.h"
#include "replay/projection.h"
#include "tools/cli.h"

namespace custodian::cli {
namespace {

std::string StaffArg(const std::string& id) {
  if (id.empty() || id.starts_with("staff-")) return id;
  return "staff-" + id;
}

// A version-4 UUID derived from `seed`, so that the same plan has the same id.
EventId DerivedId(const std::string& seed) {
  const Hash256 h = Sha256(seed);
  std::array<uint8_t, EventId::kSize> b;
  std::copy(h.begin(), h.begin() + EventId::kSize, b.begin());
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  return EventId(b);
}

std::string Day(Timestamp t) { return FormatRfc3339(t).substr(0, 10); }

void PrintItem(const HandoverItem& item, const std::string& leaver, Timestamp now) {
  const CustomerState& s = item.state;
  fmt::print("\n{}  {}  -> {}{}{}\n", item.customer, item.name.empty() ? "-" : item.name, item.successor,
             item.group.empty() ? "" : "   [group " + item.group + "]",
             item.owned ? "" : "   (owned by " + (s.owner.empty() ? std::string("nobody") : s.owner) + ")");
  if (item.owned) {
    for (const auto& [id, d] : s.open_deals) {
      fmt::print("  deal        {} {}: {:.2f} {}, stage {}\n", id, OneLineText(d.title, 40), d.value, d.currency,
                 d.stage);
    }
  }
  for (const auto& [id, r] : s.open_requests) {
    if (r.assignee != leaver && !item.owned) continue;
    fmt::print("  request     {} {} ({}, {} days old){}\n", id, OneLineText(r.title, 40), r.priority,
               (now.value() - r.opened_at.value()) / (86400LL * 1'000'000),
               r.assignee == leaver ? ", with " + leaver : r.assignee.empty() ? ", unassigned" : ", with " + r.assignee);
  }
  for (const auto& [id, c] : s.open_commitments) {
    if (c.owner != leaver && !item.owned) continue;
    fmt::print("  promise     {} {} due {}{}\n", id, OneLineText(c.promise, 40), Day(c.due_at),
               c.due_at < now ? " OVERDUE" : "");
  }
  for (const auto& [id, c] : s.contacts) {
    if (c.key_contact) fmt::print("  call        {} {} ({})\n", id, c.role.empty() ? "-" : c.role, c.preferred_channel);
  }
  if (s.last_contact) {
    fmt::print("  last        {} {} {} by {}\n", Day(s.last_contact->at), s.last_contact->direction,
               s.last_contact->channel, s.last_contact->by);
  }
  for (const std::string& r : item.risks) fmt::print("  RISK        {}\n", r);
}

std::string PlanJson(const HandoverPlan& plan, uint64_t event_position) {
  std::string out = fmt::format(
      "{{\"handover_id\":{},\"from\":{},\"mode\":{},\"planned_at\":{},\"event_position\":{},\"open_deals\":{},"
      "\"open_requests\":{},\"open_commitments\":{},\"customers\":[",
      JsonQuote(plan.id), JsonQuote(plan.from), JsonQuote(plan.mode), plan.planned_at.value(), event_position,
      plan.open_deals, plan.open_requests, plan.open_commitments);
  for (size_t i = 0; i < plan.items.size(); ++i) {
    const HandoverItem& item = plan.items[i];
    std::string requests = "[", commitments = "[", risks = "[";
    for (size_t j = 0; j < item.requests_held.size(); ++j) requests += (j ? "," : "") + JsonQuote(item.requests_held[j]);
    for (size_t j = 0; j < item.commitments_held.size(); ++j) {
      commitments += (j ? "," : "") + JsonQuote(item.commitments_held[j]);
    }
    for (size_t j = 0; j < item.risks.size(); ++j) risks += (j ? "," : "") + JsonQuote(item.risks[j]);
    out += fmt::format(
        "{}{{\"customer\":{},\"name\":{},\"group\":{},\"owned\":{},\"successor\":{},\"open_deals\":{},"
        "\"requests_held\":{}],\"commitments_held\":{}],\"risks\":{}],\"stream_version\":{}}}",
        i ? "," : "", JsonQuote(item.customer), JsonQuote(item.name), JsonQuote(item.group), item.owned,
        JsonQuote(item.successor), item.owned ? item.state.open_deals.size() : 0, requests, commitments, risks,
        item.stream_version);
  }
  return out + "]}";
}

}  // namespace

int RunHandoverPlan(const Globals& g, const std::string& from, const std::string& to, const std::string& team,
                    bool json) {
  // Planning records a handover.planned event, so it needs the store read-write.
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());
  ProjectionEngine engine(**log);
  AddProjections(engine);
  if (Status s = engine.CatchUp(); !s.ok()) return Fail(s);

  HandoverRequest request{StaffArg(from), StaffArg(to), team, SystemClock().Now()};
  Result<HandoverPlan> plan = PlanHandover(**log, StateReader::Stored(**log, kPortfolioProjection), request);
  if (!plan.ok()) {
    if (plan.status().code() == StatusCode::kNotFound) {
      fmt::print(stderr, "custodian: {}\n", plan.status().message());
      return kExitRejected;
    }
    return Fail(plan.status());
  }

  Event e;
  e.id = DerivedId("handover.planned|" + plan->id);
  e.stream = "system";
  e.type = "handover.planned";
  e.actor = "system:custodian";
  e.source = "custodian handover plan";
  e.occurred_at = request.now;
  e.data = HandoverPlannedData(*plan);
  Result<AppendResult> appended = (*log)->Append("system", {std::move(e)});
  if (!appended.ok()) return Fail(appended.status().WithContext("recording the plan"));
  const uint64_t position = appended->positions[0].value();

  if (json) {
    fmt::print("{}\n", PlanJson(*plan, position));
    return kExitOk;
  }
  fmt::print("Handover {}: {}'s customers and open work, {} (recorded at position {})\n", plan->id, plan->from,
             plan->mode, position);
  fmt::print("{} customers, {} open deals, {} open requests and {} open commitments to hand over\n",
             plan->items.size(), plan->open_deals, plan->open_requests, plan->open_commitments);
  std::string split;
  for (const auto& [staff, n] : plan->customers_per_successor) split += fmt::format("{}{} ({})", split.empty() ? "" : ", ", staff, n);
  fmt::print("successors: {}\n", split);
  for (const HandoverItem& item : plan->items) PrintItem(item, plan->from, request.now);
  return kExitOk;
}

int RunHandoverExecute(const Globals& g, const std::string& handover_id, bool json) {
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());
  ProjectionEngine engine(**log);
  AddProjections(engine);
  Result<HandoverExecution> run =
      ExecuteHandover(**log, handover_id, "system:custodian", SystemClock().Now(), [&] { return engine.CatchUp(); },
                      StateReader::Stored(**log, kPortfolioProjection));
  if (!run.ok()) {
    if (run.status().code() == StatusCode::kNotFound) {
      fmt::print(stderr, "custodian: {}\n", run.status().message());
      return kExitRejected;
    }
    return Fail(run.status());
  }
  if (json) {
    std::string orphans = "[";
    for (size_t i = 0; i < run->orphans.size(); ++i) orphans += (i ? "," : "") + JsonQuote(run->orphans[i]);
    fmt::print("{{\"handover_id\":{},\"from\":{},\"already_done\":{},\"customers\":{},\"owners_changed\":{},"
               "\"requests_moved\":{},\"commitments_moved\":{},\"orphans\":{}]}}\n",
               JsonQuote(run->id), JsonQuote(run->from), run->already_done, run->customers, run->owners_changed,
               run->requests_moved, run->commitments_moved, orphans);
  } else if (run->already_done) {
    fmt::print("handover {} was already executed; nothing changed\n", run->id);
  } else {
    fmt::print("handover {} executed: {} customers of {}, {} ownership changes, {} requests and {} commitments "
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

}  // namespace custodian::cli
