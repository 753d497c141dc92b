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
    if (c.due_at < now) {
      risks.push_back("commitment " + id + " overdue since " + FormatRfc3339(c.due_at).substr(0, 10));
    } else if (c.due_at.value() - now.value() <= kRiskDueWithinDays * kDayMicros) {
      risks.push_back("commitment " + id + " due " + FormatRfc3339(c.due_at).substr(0, 10));
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
      return Status::InvalidArgument(request.from + " is not a member of staff the log knows");
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
