#include "service/staff.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "core/time.h"
#include "service/customer.h"

namespace custodian {

namespace json = boost::json;

namespace {

// How far the stored projection lags behind the log, when `q` was read from
// a store another process folds. Not for a view as of a time: that replays
// the log and never reads the stored state.
Result<std::optional<ProjectionLag>> LagOf(const QueryState& q, std::string_view projection) {
  if (q.caught_up) return std::optional<ProjectionLag>();
  Result<Position> folded = q.log->ProjectionCheckpoint(projection);
  if (!folded.ok()) return folded.status();
  if (folded->value() >= q.log->end().value()) return std::optional<ProjectionLag>();
  return std::optional<ProjectionLag>(ProjectionLag{std::string(projection), folded->value(), q.log->end().value()});
}

// Leaves out of `items` those whose customer the reader does not serve at
// `now`, counting them in cut->left_out.
template <typename T, typename CustomerOf>
Status CutToScope(std::vector<T>& items, ScopeCut* cut, Timestamp now, CustomerOf customer_of) {
  Status failed = Status::Ok();
  std::erase_if(items, [&](const T& item) {
    if (!failed.ok()) return false;
    Result<bool> serves = cut->reader.Serves(customer_of(item), now);
    if (!serves.ok()) {
      failed = serves.status();
      return false;
    }
    cut->left_out += *serves ? 0 : 1;
    return !*serves;
  });
  return failed;
}

// The view a read is recorded under: "portfolio", "portfolio_as_of" (a
// knowledge time), "portfolio_as_of_business".
std::string ViewName(std::string_view view, const std::optional<AsOfTime>& as_of) {
  if (!as_of) return std::string(view);
  return std::string(view) + (as_of->business() ? "_as_of_business" : "_as_of");
}

// A view as of a business time folds fixes from what had happened by then.
std::optional<Timestamp> HappenedBy(const std::optional<AsOfTime>& as_of) {
  return as_of && as_of->business() ? std::optional<Timestamp>(as_of->at) : std::nullopt;
}

json::value TimeJson(const std::optional<Timestamp>& t) {
  return t ? json::value(FormatRfc3339(*t)) : json::value(nullptr);
}

}  // namespace

// --- portfolio ---

size_t PortfolioView::owned() const {
  return std::count_if(portfolio.customers.begin(), portfolio.customers.end(),
                       [](const PortfolioEntry& e) { return e.owned; });
}

size_t PortfolioView::others() const { return portfolio.customers.size() - owned(); }

Result<PortfolioView> StaffPortfolio(EventLog& log, const Caller& caller, const std::string& staff,
                                     const std::optional<AsOfTime>& as_of) {
  Result<QueryState> q = QueryStateOf(log, *MakePortfolioProjection(&log, HappenedBy(as_of)), as_of);
  if (!q.ok()) return q.status();
  Result<Portfolio> p = ReadPortfolio(q->Reader(kPortfolioProjection), staff);
  if (!p.ok()) {
    if (p.status().code() != StatusCode::kNotFound) return p.status();
    return Status::NotFound(staff + " owns nothing and has no events" + (as_of ? " " + AsOfText(*as_of) : std::string()));
  }
  PortfolioView v{std::move(*p), as_of, std::nullopt};
  if (!as_of) {
    Result<std::optional<ProjectionLag>> lag = LagOf(*q, kPortfolioProjection);
    if (!lag.ok()) return lag.status();
    v.behind = std::move(*lag);
  }
  Access read{.view = ViewName("portfolio", as_of)};
  for (const PortfolioEntry& e : v.portfolio.customers) read.customers.push_back(e.customer);
  read.records = read.customers.size();
  CUSTODIAN_RETURN_IF_ERROR(RecordRead(log, caller, std::move(read)));
  return v;
}

std::string PortfolioViewToJson(const PortfolioView& v) {
  std::string out;
  for (const PortfolioEntry& e : v.portfolio.customers) out += PortfolioEntryToJson(v.portfolio.staff, e) + "\n";
  return out;
}

// --- accountability ---

Result<AccountabilityView> Accountability(EventLog& log, const Caller& caller, const AccountabilityFilter& filter,
                                          Timestamp now, const std::optional<AsOfTime>& as_of) {
  if (filter.from && filter.to && *filter.to <= *filter.from) {
    return Status::InvalidArgument("the period ends at " + FormatRfc3339(*filter.to) + ", not after it starts at " +
                                   FormatRfc3339(*filter.from));
  }
  Result<QueryState> q = QueryStateOf(log, *MakeAccountabilityProjection(&log, HappenedBy(as_of)), as_of);
  if (!q.ok()) return q.status();
  Result<AccountabilityReport> r =
      BuildAccountabilityReport(q->Reader(kAccountabilityProjection), filter, as_of ? as_of->at : now);
  if (!r.ok()) return r.status();
  AccountabilityView v{filter, std::move(*r), !filter.staff.empty() || !filter.team.empty(), std::nullopt, as_of};
  if (!as_of) {
    Result<std::optional<ProjectionLag>> lag = LagOf(*q, kAccountabilityProjection);
    if (!lag.ok()) return lag.status();
    v.behind = std::move(*lag);
  }
  if (v.detail) {
    Access read{.view = ViewName("accountability", as_of)};
    for (const RequestAccount& a : v.report.requests) read.customers.push_back(a.customer);
    for (const CommitmentAccount& c : v.report.commitments) read.customers.push_back(c.customer);
    read.records = v.report.requests.size() + v.report.commitments.size();
    CUSTODIAN_RETURN_IF_ERROR(RecordRead(log, caller, std::move(read)));
  }
  return v;
}

std::string AccountabilityViewToJson(const AccountabilityView& v) {
  std::string out;
  if (v.detail) {
    for (const RequestAccount& a : v.report.requests) out += RequestAccountToJson(a) + "\n";
    for (const CommitmentAccount& c : v.report.commitments) out += CommitmentAccountToJson(c) + "\n";
  }
  for (const AccountabilitySummary& s : v.report.by_staff) out += SummaryToJson("staff", s) + "\n";
  for (const AccountabilitySummary& s : v.report.by_team) out += SummaryToJson("team", s) + "\n";
  return out;
}

// --- silent customers ---

Result<SilentView> SilentCustomers(EventLog& log, const Caller& caller, int days, const std::optional<AsOfTime>& as_of,
                                   Timestamp now) {
  Result<QueryState> q = QueryStateOf(log, *MakeSilentProjection(&log, HappenedBy(as_of)), as_of);
  if (!q.ok()) return q.status();
  Result<SilentReport> r = FindSilentCustomers(q->Reader(kSilentProjection), days, as_of ? as_of->at : now);
  if (!r.ok()) return r.status();
  Result<ServiceScope> scope = ReaderScope(log, caller.principal);
  if (!scope.ok()) return scope.status();
  SilentView v{std::move(*r), as_of, ScopeCut{std::move(*scope)}, std::nullopt};
  CUSTODIAN_RETURN_IF_ERROR(
      CutToScope(v.report.silent, &v.scope, now, [](const SilentCustomer& c) { return c.customer; }));
  CUSTODIAN_RETURN_IF_ERROR(
      CutToScope(v.report.wins, &v.scope, now, [](const UncontactedWin& w) { return w.customer; }));
  if (!as_of) {
    Result<std::optional<ProjectionLag>> lag = LagOf(*q, kSilentProjection);
    if (!lag.ok()) return lag.status();
    v.behind = std::move(*lag);
  }
  Access read{.view = ViewName("silent", as_of)};
  for (const SilentCustomer& c : v.report.silent) read.customers.push_back(c.customer);
  for (const UncontactedWin& w : v.report.wins) read.customers.push_back(w.customer);
  read.records = v.report.silent.size() + v.report.wins.size();
  CUSTODIAN_RETURN_IF_ERROR(RecordRead(log, caller, std::move(read)));
  return v;
}

std::string SilentViewToJson(const SilentView& v) {
  std::string out;
  for (const SilentCustomer& s : v.report.silent) out += SilentCustomerToJson(s) + "\n";
  for (const UncontactedWin& w : v.report.wins) out += UncontactedWinToJson(w) + "\n";
  return out;
}

// --- the pipeline ---

Result<PipelineView> Pipeline(EventLog& log, const Caller& caller, const std::string& team, Timestamp now) {
  Result<QueryState> q = QueryStateOf(log, *MakePortfolioProjection(&log), std::nullopt);
  if (!q.ok()) return q.status();
  const StateReader state = q->Reader(kPortfolioProjection);
  Result<ServiceScope> scope = ReaderScope(log, caller.principal);
  if (!scope.ok()) return scope.status();
  Result<std::vector<std::string>> staff = ListStaff(state);
  if (!staff.ok()) return staff.status();
  PipelineView v{team, now, {}, {}, 0, ScopeCut{std::move(*scope)}};
  std::map<std::string, PipelineStage> stages;
  std::map<std::string, double> probability_sums;
  std::set<std::string> counted;  // each customer's deals once, whoever's portfolio names it
  auto add_deals = [&](const CustomerState& c) {
    for (const auto& [id, deal] : c.open_deals) {
      PipelineStage& s = stages[deal.stage];
      s.stage = deal.stage;
      ++s.deals;
      s.value[deal.currency].Add(deal.value);
      if (deal.probability) {
        ++s.with_probability;
        probability_sums[deal.stage] += *deal.probability;
      }
    }
  };
  for (const std::string& member : *staff) {
    Result<Portfolio> p = ReadPortfolio(state, member);
    if (!p.ok()) return p.status();
    if (!team.empty() && p->team != team) continue;
    const bool has_deals = std::any_of(p->customers.begin(), p->customers.end(),
                                       [](const PortfolioEntry& e) { return e.owned && e.open_deals > 0; });
    if (!has_deals) continue;
    Result<bool> oversees = v.scope.reader.Oversees(member);
    if (!oversees.ok()) return oversees.status();
    if (!*oversees) {
      ++v.scope.left_out;
      continue;
    }
    for (const PortfolioEntry& e : p->customers) {
      if (!e.owned || e.open_deals == 0 || counted.contains(e.customer)) continue;
      Result<CustomerState> c = CurrentCustomer(log, e.customer);
      if (!c.ok()) return c.status().WithContext(e.customer);
      counted.insert(e.customer);
      v.customers.push_back(e.customer);
      add_deals(*c);
    }
  }
  // Customers nobody owns (registered without an owner, never assigned one):
  // their deals are the company's too, and nobody answers for them. Counted
  // in the pipeline of every team, for a reader who serves them (a
  // company-wide role), and said apart.
  if (team.empty()) {
    Result<std::vector<std::string>> unowned = UnownedCustomersWithDeals(state);  // the same state as the owners'
    if (!unowned.ok()) return unowned.status();
    for (const std::string& customer : *unowned) {
      if (counted.contains(customer)) continue;
      Result<bool> serves = v.scope.reader.Serves(customer, now);
      if (!serves.ok()) return serves.status();
      if (!*serves) continue;
      Result<CustomerState> c = CurrentCustomer(log, customer);
      if (!c.ok()) return c.status().WithContext(customer);
      counted.insert(customer);
      v.customers.push_back(customer);
      ++v.unowned;
      add_deals(*c);
    }
  }
  for (auto& [name, s] : stages) {
    if (s.with_probability > 0) s.mean_probability = probability_sums[name] / static_cast<double>(s.with_probability);
    v.stages.push_back(std::move(s));
  }
  std::sort(v.stages.begin(), v.stages.end(), [](const PipelineStage& a, const PipelineStage& b) {
    return std::tie(a.mean_probability, a.stage) < std::tie(b.mean_probability, b.stage);
  });
  std::sort(v.customers.begin(), v.customers.end());
  v.customers.erase(std::unique(v.customers.begin(), v.customers.end()), v.customers.end());
  if (!v.customers.empty()) {
    Access read{.view = "pipeline"};
    read.customers = v.customers;
    read.records = v.customers.size();
    CUSTODIAN_RETURN_IF_ERROR(RecordRead(log, caller, std::move(read)));
  }
  return v;
}

std::string PipelineViewToJson(const PipelineView& v) {
  json::array stages;
  for (const PipelineStage& s : v.stages) {
    json::object value;
    for (const auto& [currency, sum] : s.value) value[currency] = sum.ToString(2);
    stages.push_back(json::object{{"stage", s.stage},
                                  {"deals", s.deals},
                                  {"mean_probability", std::llround(s.mean_probability)},
                                  {"value", std::move(value)}});
  }
  return json::serialize(json::object{{"team", v.team},
                                      {"now", FormatRfc3339(v.now)},
                                      {"customers", v.customers.size()},
                                      {"unowned_customers", v.unowned},
                                      {"stages", std::move(stages)}});
}

// --- departures ---

std::string_view DepartureStateText(DepartureState state) {
  switch (state) {
    case DepartureState::kOpen: return "open: work still with the leaver";
    case DepartureState::kNothingLeft: return "nothing left; not yet departed";
    case DepartureState::kIncomplete: return "INCOMPLETE: left after departure";
    case DepartureState::kComplete: return "complete";
  }
  return "unknown";
}

Result<DepartureList> Departures(EventLog& log, CompletedDepartures completed, const std::optional<AsOfTime>& as_of) {
  Result<QueryState> q = QueryStateOf(log, *MakePortfolioProjection(&log, HappenedBy(as_of)), as_of);
  if (!q.ok()) return q.status();
  const StateReader reader = q->Reader(kPortfolioProjection);
  Result<std::vector<std::string>> staff = ListStaff(reader);
  if (!staff.ok()) return staff.status();
  DepartureList list{completed, {}, as_of};
  for (const std::string& id : *staff) {
    Result<Portfolio> p = ReadPortfolio(reader, id);
    if (!p.ok()) return p.status();
    if (!p->announced_at && !p->departed_at) continue;
    Departure d{id, p->announced_at, p->effective_at, p->departed_at, p->successor};
    for (const PortfolioEntry& e : p->customers) {
      d.customers += e.owned ? 1 : 0;
      d.requests += e.open_requests;
      d.commitments += e.open_commitments;
    }
    // A departure is complete only when nothing is left with the leaver.
    const bool nothing_left = d.customers == 0 && d.requests == 0 && d.commitments == 0;
    d.state = nothing_left ? (d.departed_at ? DepartureState::kComplete : DepartureState::kNothingLeft)
                           : (d.departed_at ? DepartureState::kIncomplete : DepartureState::kOpen);
    if (d.complete() && completed == CompletedDepartures::kLeaveOut) continue;
    list.departures.push_back(std::move(d));
  }
  return list;
}

std::string DepartureListToJson(const DepartureList& l) {
  std::string out;
  for (const Departure& d : l.departures) {
    json::object o;
    o["staff"] = d.staff;
    o["announced_at"] = TimeJson(d.announced_at);
    o["effective_at"] = TimeJson(d.effective_at);
    o["departed_at"] = TimeJson(d.departed_at);
    o["successor"] = d.successor.empty() ? json::value(nullptr) : json::value(d.successor);
    o["customers"] = d.customers;
    o["requests"] = d.requests;
    o["commitments"] = d.commitments;
    o["complete"] = d.complete();
    out += json::serialize(o) + "\n";
  }
  return out;
}

// --- orphans ---

Result<OrphanList> Orphans(EventLog& log, const Caller& caller, Timestamp now, const std::optional<AsOfTime>& as_of) {
  Result<QueryState> q = QueryStateOf(log, *MakePortfolioProjection(&log, HappenedBy(as_of)), as_of);
  if (!q.ok()) return q.status();
  const StateReader reader = q->Reader(kPortfolioProjection);
  Result<std::vector<std::string>> staff = ListStaff(reader);
  if (!staff.ok()) return staff.status();
  Result<ServiceScope> scope = ReaderScope(log, caller.principal);
  if (!scope.ok()) return scope.status();
  OrphanList list{{}, ScopeCut{std::move(*scope)}, as_of};
  for (const std::string& id : *staff) {
    Result<Portfolio> p = ReadPortfolio(reader, id);
    if (!p.ok()) return p.status();
    if (!p->departed_at) continue;
    for (PortfolioEntry& e : p->customers) {
      if (!e.owned && e.open_requests == 0 && e.open_commitments == 0) continue;
      list.orphans.push_back(Orphan{id, p->departed_at, std::move(e)});
    }
  }
  CUSTODIAN_RETURN_IF_ERROR(
      CutToScope(list.orphans, &list.scope, now, [](const Orphan& o) { return o.entry.customer; }));
  Access read{.view = ViewName("orphans", as_of)};
  for (const Orphan& o : list.orphans) read.customers.push_back(o.entry.customer);
  read.records = read.customers.size();
  CUSTODIAN_RETURN_IF_ERROR(RecordRead(log, caller, std::move(read)));
  return list;
}

std::string OrphanListToJson(const OrphanList& l) {
  std::string out;
  for (const Orphan& o : l.orphans) {
    json::object obj;
    obj["customer"] = o.entry.customer;
    obj["held_by"] = o.held_by;
    obj["departed_at"] = TimeJson(o.departed_at);
    obj["owned"] = o.entry.owned;
    obj["requests"] = o.entry.open_requests;
    obj["commitments"] = o.entry.open_commitments;
    out += json::serialize(obj) + "\n";
  }
  return out;
}

}  // namespace custodian
