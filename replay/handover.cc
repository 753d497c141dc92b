#include "replay/handover.h"

#include <boost/json.hpp>

#include <algorithm>
#include <set>

#include "core/sha256.h"
#include "core/time.h"
#include "replay/portfolio.h"

namespace json = boost::json;

namespace custodian {
namespace {

constexpr int64_t kDayMicros = 86400LL * 1'000'000;

uint64_t Workload(const Portfolio& p) {
  uint64_t w = 0;
  for (const PortfolioEntry& e : p.customers) w += (e.owned ? 1 : 0) + e.open_requests + e.open_commitments;
  return w;
}

std::vector<std::string> Risks(const CustomerState& s, const std::string& customer_name, Timestamp now) {
  std::vector<std::string> risks;
  (void)customer_name;
  if (!s.last_contact) {
    risks.push_back("no logged contact at all");
  } else if (now.value() - s.last_contact->at.value() > kRiskSilentDays * kDayMicros) {
    risks.push_back("no contact for " + std::to_string((now.value() - s.last_contact->at.value()) / kDayMicros) +
                    " days");
  }
  for (const auto& [id, r] : s.open_requests) {
    if (r.category == "complaint") risks.push_back("open complaint " + id + ": " + r.title.substr(0, 120));
  }
  for (const auto& [id, c] : s.open_commitments) {
    if (c.JudgedDue() < now) {
      risks.push_back("commitment " + id + " overdue since " + FormatRfc3339(c.JudgedDue()).substr(0, 10) +
                      (c.due_moved_from ? " (its due date was moved later after it passed)" : ""));
    } else if (c.JudgedDue().value() - now.value() <= kRiskDueWithinDays * kDayMicros) {
      risks.push_back("commitment " + id + " due " + FormatRfc3339(c.JudgedDue()).substr(0, 10));
    }
  }
  return risks;
}

}  // namespace

Result<HandoverPlan> PlanHandover(const EventLog& log, const StateReader& portfolio, const HandoverRequest& request) {
  if (request.to.empty() == request.balance_team.empty()) {
    return Status::InvalidArgument("name one successor (--to) or a team to balance over (--balance-team)");
  }
  Result<Portfolio> leaver = ReadPortfolio(portfolio, request.from);
  if (!leaver.ok()) {
    if (leaver.status().code() == StatusCode::kNotFound) {
      return Status::NotFound(request.from + " is not a member of staff the log knows");
    }
    return leaver.status();
  }
  if (leaver->customers.empty()) return Status::NotFound(request.from + " holds no customers and no open work");

  // Who may take work: employed, and not the leaver.
  std::map<std::string, uint64_t> workload;
  if (!request.to.empty()) {
    if (request.to == request.from) return Status::InvalidArgument("the successor cannot be the leaver");
    Result<Portfolio> to = ReadPortfolio(portfolio, request.to);
    if (!to.ok() || !to->joined || to->departed_at) {
      return Status::InvalidArgument(request.to + " cannot take over: not a current member of staff");
    }
    workload[request.to] = Workload(*to);
  } else {
    Result<std::vector<std::string>> staff = ListStaff(portfolio);
    if (!staff.ok()) return staff.status();
    for (const std::string& id : *staff) {
      if (id == request.from) continue;
      Result<Portfolio> p = ReadPortfolio(portfolio, id);
      if (!p.ok()) return p.status();
      if (p->joined && !p->departed_at && !p->announced_at && p->team == request.balance_team) {
        workload[id] = Workload(*p);
      }
    }
    if (workload.empty()) {
      return Status::InvalidArgument("team " + request.balance_team + " has nobody to take over (other than " +
                                     request.from + ")");
    }
  }

  HandoverPlan plan;
  plan.from = request.from;
  plan.mode = request.to.empty() ? "balanced over team " + request.balance_team : "to " + request.to;
  plan.planned_at = log.end();
  const std::string seed = request.from + "|" + std::to_string(plan.planned_at.value()) + "|" +
                           std::to_string(request.now.value());
  plan.id = "ho-" + HexOf(Sha256(seed)).substr(0, 8);

  for (const PortfolioEntry& entry : leaver->customers) {
    HandoverItem item;
    item.customer = entry.customer;
    item.name = entry.name;
    item.owned = entry.owned;
    Result<CustomerState> s = LoadCustomer(log, entry.customer);
    if (!s.ok()) return s.status().WithContext(entry.customer);
    item.state = std::move(*s);
    item.group = item.state.group;
    Result<StreamInfo> info = log.GetStreamInfo(entry.customer);
    if (!info.ok()) return info.status();
    item.stream_version = info->last_version.value();
    for (const auto& [id, r] : item.state.open_requests) {
      if (r.assignee == request.from) item.requests_held.push_back(id);
    }
    for (const auto& [id, c] : item.state.open_commitments) {
      if (c.owner == request.from) item.commitments_held.push_back(id);
    }
    item.risks = Risks(item.state, item.name, request.now);
    plan.open_deals += entry.owned ? item.state.open_deals.size() : 0;
    plan.open_requests += item.requests_held.size();
    plan.open_commitments += item.commitments_held.size();
    plan.items.push_back(std::move(item));
  }

  // Successors. Work on a customer the leaver does not own goes to its owner
  // when the owner can take it; related customers (same group) stay together.
  std::map<std::string, std::string> group_successor;
  auto least_loaded = [&] {
    return std::min_element(workload.begin(), workload.end(),
                            [](const auto& a, const auto& b) { return a.second < b.second; })
        ->first;
  };
  // Larger groups first, so that balancing evens out.
  std::map<std::string, size_t> group_size;
  for (const HandoverItem& item : plan.items) ++group_size[item.group];
  std::stable_sort(plan.items.begin(), plan.items.end(), [&](const HandoverItem& a, const HandoverItem& b) {
    const size_t ga = a.group.empty() ? 1 : group_size[a.group], gb = b.group.empty() ? 1 : group_size[b.group];
    return ga != gb ? ga > gb : a.customer < b.customer;
  });
  for (HandoverItem& item : plan.items) {
    if (!item.owned && workload.count(item.state.owner)) {
      item.successor = item.state.owner;
    } else if (!item.group.empty() && group_successor.count(item.group)) {
      item.successor = group_successor[item.group];
    } else {
      item.successor = least_loaded();
      if (!item.group.empty()) group_successor[item.group] = item.successor;
    }
    workload[item.successor] += (item.owned ? 1 : 0) + item.requests_held.size() + item.commitments_held.size();
    ++plan.customers_per_successor[item.successor];
  }
  std::sort(plan.items.begin(), plan.items.end(),
            [](const HandoverItem& a, const HandoverItem& b) { return a.customer < b.customer; });
  return plan;
}

Status OpenPeopleToCall(const EventLog& log, HandoverPlan& plan) {
  for (HandoverItem& item : plan.items) {
    Result<std::vector<ContactView>> people = OpenContacts(log, item.state);
    if (!people.ok()) return people.status();
    item.people = std::move(*people);
  }
  return Status::Ok();
}

std::string HandoverPlannedData(const HandoverPlan& plan) {
  json::object d;
  d["handover_id"] = plan.id;
  d["from"] = plan.from;
  json::array assignments;
  json::object versions;
  json::array risks;
  for (const HandoverItem& item : plan.items) {
    assignments.push_back(json::object{{"customer", item.customer}, {"to", item.successor}});
    versions[item.customer] = item.stream_version;
    for (const std::string& r : item.risks) {
      if (risks.size() < 100) risks.push_back(json::value(item.customer + ": " + r.substr(0, 150)));
    }
  }
  d["assignments"] = std::move(assignments);
  d["reason"] = "departure";
  d["open_deals"] = plan.open_deals;
  d["open_requests"] = plan.open_requests;
  d["open_commitments"] = plan.open_commitments;
  d["risks"] = std::move(risks);
  d["stream_versions"] = std::move(versions);  // extension: what execution checks for staleness
  d["planned_at"] = plan.planned_at.value();     // extension: the log's size when planned
  return json::serialize(d);
}

}  // namespace custodian

namespace custodian {
namespace {

// The same handover step always has the same id.
EventId StepId(const std::string& seed) { return EventId::FromSeed("custodian handover|" + seed); }

Event Step(const std::string& handover_id, const std::string& stream, const std::string& type,
           const std::string& item, const std::string& actor, Timestamp now, json::object data) {
  Event e;
  e.id = StepId(handover_id + "|" + stream + "|" + type + "|" + item);
  e.stream = stream;
  e.type = type;
  e.actor = actor;
  e.occurred_at = now;
  e.source = "custodian handover execute";
  e.data = json::serialize(data);
  return e;
}

std::string DataString(const json::object& d, std::string_view k) {
  auto it = d.find(k);
  return it != d.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}

}  // namespace

Result<HandoverExecution> ExecuteHandover(EventLog& log, const std::string& handover_id, const std::string& actor,
                                          Timestamp now, const std::function<Status()>& refresh,
                                          const StateReader& portfolio) {
  // The plan, and whether it was completed before.
  Result<std::vector<Event>> system = log.ReadStream("system", StreamVersion(0), Direction::kForward, SIZE_MAX);
  if (!system.ok()) return system.status();
  std::optional<json::object> plan;
  bool completed = false;
  for (const Event& e : *system) {
    if (e.type != "handover.planned" && e.type != "handover.completed") continue;
    json::value v = json::parse(e.data);
    if (!v.is_object() || DataString(v.get_object(), "handover_id") != handover_id) continue;
    if (e.type == "handover.planned") plan = v.get_object();
    if (e.type == "handover.completed") completed = true;
  }
  if (!plan) return Status::NotFound("no handover.planned with handover_id " + handover_id);
  HandoverExecution run;
  run.id = handover_id;
  run.from = DataString(*plan, "from");
  if (completed) {
    run.already_done = true;
    return run;
  }
  const json::object versions =
      plan->contains("stream_versions") && plan->at("stream_versions").is_object() ? plan->at("stream_versions").get_object()
                                                                                    : json::object();
  CUSTODIAN_RETURN_IF_ERROR(refresh());

  // First check every customer, so that a stale plan moves nothing.
  struct Move {
    std::string customer, to;
    uint64_t planned_version;
    bool done = false;  // this handover's own events are already there
  };
  std::vector<Move> moves;
  for (const json::value& a : plan->at("assignments").get_array()) {
    Move m{DataString(a.get_object(), "customer"), DataString(a.get_object(), "to"), 0};
    if (!versions.contains(m.customer)) {
      return Status::InvalidArgument("the plan names " + m.customer + " but not its version; make a new plan");
    }
    m.planned_version = versions.at(m.customer).to_number<uint64_t>();
    Result<std::vector<Event>> since =
        log.ReadStream(m.customer, StreamVersion(m.planned_version + 1), Direction::kForward, SIZE_MAX);
    if (!since.ok()) return since.status();
    std::string changed;
    for (const Event& e : *since) {
      json::value v = json::parse(e.data);
      const bool ours = v.is_object() && DataString(v.get_object(), "handover_id") == handover_id;
      if (ours) {
        m.done = true;
      } else if (changed.size() < 300) {
        changed += (changed.empty() ? "" : ", ") + e.type + " at position " + std::to_string(e.position.value());
      }
    }
    if (!changed.empty()) {
      return Status::Conflict("the plan " + handover_id + " is stale: " + m.customer + " changed after it was planned (" +
                              changed + "); make a new plan");
    }
    moves.push_back(std::move(m));
  }

  for (const Move& m : moves) {
    ++run.customers;
    if (m.done) continue;  // a run cut short already moved this customer
    Result<CustomerState> s = LoadCustomer(log, m.customer);
    if (!s.ok()) return s.status().WithContext(m.customer);
    std::vector<Event> events;
    if (s->owner == run.from) {
      events.push_back(Step(handover_id, m.customer, "customer.owner_assigned", "", actor, now,
                            {{"owner", m.to}, {"previous_owner", run.from}, {"reason", "handover"},
                             {"handover_id", handover_id}}));
      ++run.owners_changed;
    }
    for (const auto& [id, r] : s->open_requests) {
      if (r.assignee != run.from) continue;
      events.push_back(Step(handover_id, m.customer, "request.assigned", id, actor, now,
                            {{"request_id", id}, {"assignee", m.to}, {"previous_assignee", run.from},
                             {"reason", "handover " + handover_id}, {"handover_id", handover_id}}));
      ++run.requests_moved;
    }
    for (const auto& [id, c] : s->open_commitments) {
      if (c.owner != run.from) continue;
      events.push_back(Step(handover_id, m.customer, "commitment.reassigned", id, actor, now,
                            {{"commitment_id", id}, {"owner", m.to}, {"previous_owner", run.from},
                             {"reason", "handover"}, {"handover_id", handover_id}}));
      ++run.commitments_moved;
    }
    if (events.empty()) continue;
    Result<AppendResult> r = log.Append(m.customer, std::move(events), ExpectedVersion::Exactly(StreamVersion(m.planned_version)));
    if (!r.ok()) return r.status().WithContext(m.customer);
  }

  // What the leaver still holds afterwards is orphaned: say so.
  CUSTODIAN_RETURN_IF_ERROR(refresh());
  Result<Portfolio> left = ReadPortfolio(portfolio, run.from);
  if (left.ok()) {
    for (const PortfolioEntry& e : left->customers) {
      if (e.owned || e.open_requests > 0 || e.open_commitments > 0) run.orphans.push_back(e.customer);
    }
  }
  json::array orphans;
  for (const std::string& o : run.orphans) orphans.push_back(json::value(o));
  Event done = Step(handover_id, "system", "handover.completed", "", actor, now,
                    {{"handover_id", handover_id}, {"transferred", run.customers}, {"orphans", std::move(orphans)}});
  Result<AppendResult> r = log.Append("system", {std::move(done)});
  if (!r.ok()) return r.status().WithContext("recording handover.completed");
  return run;
}

}  // namespace custodian
