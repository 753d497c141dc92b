#include "replay/alerts.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/json.h"
#include "core/roles.h"
#include "core/sha256.h"
#include "core/text.h"
#include "core/time.h"
#include "replay/alert_state.h"
#include "replay/customer.h"
#include "replay/payload_fields.h"

namespace json = boost::json;

namespace custodian {
namespace {

using alert_state::CustomerRec;
using alert_state::Day;
using alert_state::DecodeCustomer;
using alert_state::DecodeStaff;
using alert_state::kUnservedKept;
using alert_state::StaffRec;
using alert_state::Strings;
using alert_state::StringsOf;
using payload::Int;
using payload::Str;

constexpr int64_t kMicrosPerDay = int64_t{86400} * kMicrosPerSecond;
constexpr size_t kEvidencePerDay = 20;      // event ids kept per day and metric
constexpr int kDaysKept = kBaselineDays + 1;

int64_t DayOf(Timestamp t) {
  const int64_t v = t.value();
  return v >= 0 ? v / kMicrosPerDay : (v - kMicrosPerDay + 1) / kMicrosPerDay;
}
std::string DayText(int64_t day) { return FormatRfc3339(Timestamp(day * kMicrosPerDay)).substr(0, 10); }

// --- Stored records: replay/alert_state.h ---

// --- The fold ---

// The key of the n-th alert found (from 0): in the order found.
std::string AlertKey(uint64_t n) { return fmt::format("a/{:020}", n); }


// The records a chunk touches, read once and written back at its end.
class Records {
 public:
  explicit Records(StateView& state) : state_(state) {}

  Result<StaffRec*> Staff(const std::string& id) { return Load(staff_, "s/" + id, DecodeStaff); }
  Result<CustomerRec*> Customer(const std::string& id) { return Load(customers_, "c/" + id, DecodeCustomer); }
  Result<AlertConfig*> Config() {
    if (!config_) {
      Result<std::optional<std::string>> stored = state_.Get("config");
      if (!stored.ok()) return stored.status();
      config_ = *stored ? AlertConfigFromJson(**stored) : AlertConfig{};
    }
    return &*config_;
  }
  void ConfigChanged() { config_dirty_ = true; }
  // Numbers a newly found alert; one found before (same rule, person and
  // day) is not found again.
  Status Found(const std::string& alert_id, std::string value) {
    if (found_ids_.count(alert_id)) return Status::Ok();
    Result<std::optional<std::string>> known = state_.Get("i/" + alert_id);
    if (!known.ok()) return known.status();
    if (*known) return Status::Ok();
    if (!found_) {
      Result<std::optional<std::string>> n = state_.Get("n");
      if (!n.ok()) return n.status();
      found_ = *n ? ParseUint64(**n) : std::optional<uint64_t>(0);
      if (!found_)
        return Status::Corruption("the alerts projection's count holds " + QuotedText(**n) + ", not a number");
    }
    found_ids_.insert(alert_id);
    alerts_.emplace_back(AlertKey((*found_)++), std::move(value));
    return Status::Ok();
  }

  void WriteBack() {
    for (auto& [key, s] : staff_) state_.Put(key, alert_state::Encode(s));
    for (auto& [key, c] : customers_) state_.Put(key, alert_state::Encode(c));
    if (config_dirty_) state_.Put("config", AlertConfigToJson(*config_));
    for (auto& [key, value] : alerts_) state_.Put(key, std::move(value));
    for (const std::string& id : found_ids_) state_.Put("i/" + id, "");
    if (!alerts_.empty()) state_.Put("n", std::to_string(*found_));
  }

 private:
  template <typename Rec, typename DecodeFn>
  Result<Rec*> Load(std::map<std::string, Rec>& cache, std::string key, DecodeFn decode) {
    auto it = cache.find(key);
    if (it != cache.end()) return &it->second;
    Result<std::optional<std::string>> stored = state_.Get(key);
    if (!stored.ok()) return stored.status();
    Rec rec;
    if (*stored) {
      Result<Rec> decoded = decode(**stored, key);
      if (!decoded.ok()) return decoded.status();
      rec = std::move(*decoded);
    }
    return &cache.emplace(std::move(key), std::move(rec)).first->second;
  }

  StateView& state_;
  std::map<std::string, StaffRec> staff_;
  std::map<std::string, CustomerRec> customers_;
  std::optional<AlertConfig> config_;
  bool config_dirty_ = false;
  std::vector<std::pair<std::string, std::string>> alerts_;
  std::set<std::string> found_ids_;   // alert ids found in this chunk
  std::optional<uint64_t> found_;     // alerts found so far, all chunks
};

Day& DayEntry(StaffRec& s, int64_t day) {
  auto it = std::lower_bound(s.days.begin(), s.days.end(), day, [](const Day& d, int64_t v) { return d.day < v; });
  if (it == s.days.end() || it->day != day) it = s.days.insert(it, Day{day, 0, 0, {}, {}, {}});
  Day& d = *it;
  // Keep the days a baseline can still use, counted back from the newest.
  const int64_t oldest = s.days.back().day - kDaysKept + 1;
  const int64_t at = d.day;
  s.days.erase(s.days.begin(), std::lower_bound(s.days.begin(), s.days.end(), oldest,
                                                [](const Day& x, int64_t v) { return x.day < v; }));
  auto again = std::lower_bound(s.days.begin(), s.days.end(), at, [](const Day& x, int64_t v) { return x.day < v; });
  if (again == s.days.end() || again->day != at) again = s.days.insert(again, Day{at, 0, 0, {}, {}, {}});
  return *again;
}

// The median daily total of the kBaselineDays days before `day` (days before
// the person's first day are left out; a day without accesses counts 0).
double Median(const StaffRec& s, int64_t day, uint64_t Day::*metric) {
  const int64_t from = std::max(day - kBaselineDays, s.first_day.value_or(day));
  if (from >= day) return 0;
  std::vector<uint64_t> totals(static_cast<size_t>(day - from), 0);
  for (const Day& d : s.days) {
    if (d.day >= from && d.day < day) totals[static_cast<size_t>(d.day - from)] = d.*metric;
  }
  std::sort(totals.begin(), totals.end());
  const size_t n = totals.size();
  return n % 2 ? static_cast<double>(totals[n / 2])
               : (static_cast<double>(totals[n / 2 - 1]) + static_cast<double>(totals[n / 2])) / 2;
}

std::string AlertId(std::string_view rule, std::string_view staff, std::string_view day) {
  return "alert-" + HexOf(Sha256(fmt::format("{}|{}|{}", rule, staff, day))).substr(0, 16);
}

struct Finding {
  std::string rule, staff, summary;
  bool leaving = false;
  int64_t day = 0;
  std::vector<std::string> customers, evidence;
  std::optional<Timestamp> window_from, window_to;
  uint64_t count = 0;
  double threshold = 0;
  Timestamp at;
};

// Whole numbers print as integers ("5", not "5E0").
json::value Number(double v) {
  if (v >= 0 && v == std::floor(v) && v < 9e15) return json::value(static_cast<uint64_t>(v));
  return json::value(v);
}

std::string FormatNumber(double v) {
  return v == std::floor(v) ? fmt::format("{}", static_cast<int64_t>(v)) : fmt::format("{:.1f}", v);
}

class AlertsProjection final : public Projection {
 public:
  explicit AlertsProjection(const EventLog* log) : log_(log) {}
  std::string_view name() const override { return kAlertsProjection; }
  // 2: corrections and retractions of customer and staff events take effect
  // (state of version 1 counts them as first recorded, so it is folded again).
  // 3: a retracted correction corrects nothing (logs from before rule `fix`).
  uint32_t state_version() const override { return 3; }

  Status Apply(std::span<const Event> events, StateView& state) const override {
    Records r(state);
    for (const Event& e : events) {
      if (e.stream.starts_with("customer-")) {
        CUSTODIAN_RETURN_IF_ERROR(log_ != nullptr && IsFix(e) ? RefoldCustomer(r, e) : OnCustomer(r, e));
      } else if (e.stream.starts_with("staff-")) {
        CUSTODIAN_RETURN_IF_ERROR(log_ != nullptr && IsFix(e) ? RefoldStaff(r, e) : OnStaff(r, e));
      } else if (e.stream.starts_with("access-")) {
        CUSTODIAN_RETURN_IF_ERROR(OnAccess(r, e));
      } else if (e.type == "alerts.configured") {
        CUSTODIAN_RETURN_IF_ERROR(OnSettings(r, e));
      }
    }
    r.WriteBack();
    return Status::Ok();
  }

 private:
  // A change of the settings applies from here on and raises an alert of its
  // own, found once per alerts.configured event.
  static Status OnSettings(Records& r, const Event& e) {
    Result<AlertConfig*> c = r.Config();
    if (!c.ok()) return c.status();
    Result<std::vector<SettingChange>> changes = ApplyAlertSettings(**c, e.data);
    if (!changes.ok()) return changes.status().WithContext("event at position " + std::to_string(e.position.value()));
    r.ConfigChanged();
    bool loosens = false;
    std::string what;
    json::object changed;
    for (const SettingChange& ch : *changes) {
      loosens = loosens || ch.loosens;
      what += fmt::format("{}{} {} -> {}", what.empty() ? "" : ", ", ch.setting, ch.from, ch.to);
      changed[ch.setting] = json::object{{"from", ch.from}, {"to", ch.to}};
    }
    const std::string id = AlertId("settings_changed", e.actor, e.id.ToString());
    json::object data;
    data["alert_id"] = id;
    data["rule"] = "settings_changed";
    data["severity"] = loosens ? "critical" : "warning";
    if (payload::IsStaff(e.actor)) data["staff"] = e.actor;
    data["evidence"] = json::array{json::value(e.id.ToString())};
    data["window_from"] = FormatRfc3339(e.occurred_at);
    data["window_to"] = FormatRfc3339(e.occurred_at);
    data["count"] = changes->size();
    data["changes"] = std::move(changed);
    data["summary"] = what.empty() ? fmt::format("{} set the alert settings to the values already in force", e.actor)
                                   : fmt::format("{} changed the alert settings: {}", e.actor, what);
    json::object stored;
    stored["at"] = e.occurred_at.value();
    stored["data"] = std::move(data);
    return r.Found(id, json::serialize(stored));
  }

  // A fix on a customer's stream: its record folded again from the stream
  // as the fixes make it (a retracted handover gives the customer back).
  Status RefoldCustomer(Records& r, const Event& fix) const {
    Result<std::vector<Event>> effective = EffectiveStreamThrough(*log_, fix);
    if (!effective.ok()) return effective.status();
    Result<CustomerRec*> c = r.Customer(fix.stream);
    if (!c.ok()) return c.status();
    **c = CustomerRec{};
    for (const Event& e : *effective) CUSTODIAN_RETURN_IF_ERROR(OnCustomer(r, e));
    return Status::Ok();
  }

  // A fix on a staff stream: who the person is (role, team, manager,
  // announced, departed) folded again; their reads so far stay counted.
  Status RefoldStaff(Records& r, const Event& fix) const {
    Result<std::vector<Event>> effective = EffectiveStreamThrough(*log_, fix);
    if (!effective.ok()) return effective.status();
    Result<StaffRec*> s = r.Staff(fix.stream);
    if (!s.ok()) return s.status();
    StaffRec& rec = **s;
    rec.role.clear();
    rec.team.clear();
    rec.manager.clear();
    rec.announced.reset();
    rec.departed.reset();
    for (const Event& e : *effective) CUSTODIAN_RETURN_IF_ERROR(OnStaff(r, e));
    return Status::Ok();
  }

  static Status OnCustomer(Records& r, const Event& e) {
    Result<CustomerRec*> c = r.Customer(e.stream);
    if (!c.ok()) return c.status();
    CustomerRec& rec = **c;
    if (payload::IsStaff(e.actor)) rec.workers[e.actor] = std::max(rec.workers[e.actor], e.occurred_at.value());
    const std::string& t = e.type;
    if (t != "customer.owner_assigned" && t != "customer.team_changed" && t != "request.assigned" &&
        t != "commitment.made" && t != "commitment.reassigned") {
      return Status::Ok();
    }
    Result<json::object> parsed = payload::ParseData(e);
    if (!parsed.ok()) return parsed.status();
    const json::object& d = *parsed;
    std::string worker;
    if (t == "customer.owner_assigned") {
      rec.owner = Str(d, "owner");
    } else if (t == "customer.team_changed") {
      rec.team = Str(d, "team");
    } else if (t == "request.assigned") {
      worker = Str(d, "assignee");
    } else if (t == "commitment.made") {
      worker = Str(d, "owner");
    } else {
      worker = Str(d, "to");
    }
    if (payload::IsStaff(worker)) rec.workers[worker] = std::max(rec.workers[worker], e.occurred_at.value());
    return Status::Ok();
  }

  static Status OnStaff(Records& r, const Event& e) {
    const std::string& t = e.type;
    if (t != "staff.joined" && t != "principal.registered" && t != "staff.role_changed" &&
        t != "staff.departure_announced" && t != "staff.departed") {
      return Status::Ok();
    }
    Result<StaffRec*> s = r.Staff(e.stream);
    if (!s.ok()) return s.status();
    StaffRec& rec = **s;
    if (t == "staff.departed") {
      rec.departed = e.occurred_at;
      return Status::Ok();
    }
    if (t == "staff.departure_announced") {
      rec.announced = e.occurred_at;
      return Status::Ok();
    }
    Result<json::object> d = payload::ParseData(e);
    if (!d.ok()) return d.status();
    if (std::string role = Str(*d, "role"); !role.empty()) rec.role = std::move(role);
    if (std::string team = Str(*d, "team"); !team.empty()) rec.team = std::move(team);
    if (std::string manager = Str(*d, "manager"); !manager.empty()) rec.manager = std::move(manager);
    if (t == "staff.joined" || t == "principal.registered") {
      if (!rec.first_day) rec.first_day = DayOf(e.occurred_at);
      rec.departed.reset();
      rec.announced.reset();
    }
    return Status::Ok();
  }

  static Result<bool> Serves(Records& r, const std::string& staff, const StaffRec& s, const std::string& customer,
                             Timestamp at) {
    Result<CustomerRec*> c = r.Customer(customer);
    if (!c.ok()) return c.status();
    const StaffRec* owner = nullptr;
    if (payload::IsStaff((*c)->owner)) {
      Result<StaffRec*> o = r.Staff((*c)->owner);
      if (!o.ok()) return o.status();
      owner = *o;
    }
    return alert_state::Serves(staff, s, **c, owner, at);
  }

  static Status OnAccess(Records& r, const Event& e) {
    const bool exported = e.type == "data.exported";
    if (!exported && e.type != "data.viewed") return Status::Ok();
    const std::string staff = e.stream.substr(7);
    Result<json::object> parsed = payload::ParseData(e);
    if (!parsed.ok()) return parsed.status();
    const json::object& d = *parsed;
    std::vector<std::string> customers;
    if (auto it = d.find("customers"); it != d.end()) customers = StringsOf(it->value());
    Result<AlertConfig*> config = r.Config();
    if (!config.ok()) return config.status();
    const AlertConfig& c = **config;
    Result<StaffRec*> found = r.Staff(staff);
    if (!found.ok()) return found.status();
    StaffRec& s = **found;

    const int64_t day = DayOf(e.occurred_at);
    if (!s.first_day || day < *s.first_day) s.first_day = day;
    Day& today = DayEntry(s, day);
    const bool leaving = s.announced && !(e.occurred_at < *s.announced);
    std::vector<Finding> findings;
    auto base = [&](const char* rule) {
      Finding f;
      f.rule = rule;
      f.staff = staff;
      f.leaving = leaving;
      f.day = day;
      f.at = e.occurred_at;
      f.window_from = Timestamp(day * kMicrosPerDay);
      f.window_to = Timestamp((day + 1) * kMicrosPerDay - 1);
      return f;
    };
    const std::string departure =
        leaving ? fmt::format("; departure announced {}", FormatRfc3339(*s.announced).substr(0, 10)) : std::string();

    // Volume against the person's own baseline.
    auto volume = [&](const char* rule, uint64_t Day::*metric, std::vector<std::string> Day::*ids, uint64_t floor,
                      const char* verb, const char* unit) {
      if ((today.*ids).size() < kEvidencePerDay) (today.*ids).push_back(e.id.ToString());
      const double median = Median(s, day, metric);
      const double threshold = std::max(static_cast<double>(floor), (leaving ? c.baseline_factor_leaving : c.baseline_factor) * median);
      const uint64_t total = today.*metric;
      if (static_cast<double>(total) <= threshold) return;
      Finding f = base(rule);
      f.count = total;
      f.threshold = threshold;
      f.evidence = today.*ids;
      f.summary = fmt::format("{} {} {} {} on {}, above the limit of {} (their 30-day median: {} a day{})", staff, verb,
                              total, unit, DayText(day), FormatNumber(threshold), FormatNumber(median), departure);
      findings.push_back(std::move(f));
    };
    if (exported) {
      today.exported += static_cast<uint64_t>(Int(d, "records").value_or(0));
      volume("export_volume", &Day::exported, &Day::export_ids,
             leaving ? c.export_records_per_day_leaving : c.export_records_per_day, "exported", "records");
      const uint64_t limit = leaving ? c.mass_export_customers_leaving : c.mass_export_customers;
      if (customers.size() > limit) {
        Finding f = base("mass_export");
        f.count = customers.size();
        f.threshold = static_cast<double>(limit);
        f.customers = customers;
        f.evidence = {e.id.ToString()};
        f.window_from = f.window_to = e.occurred_at;
        f.summary = fmt::format("{} exported {} customers in one export on {}, above the limit of {}{}", staff,
                                customers.size(), DayText(day), limit, departure);
        findings.push_back(std::move(f));
      }
    } else {
      today.views += 1;
      volume("view_volume", &Day::views, &Day::view_ids, leaving ? c.views_per_day_leaving : c.views_per_day,
             "read customer data", "times");
    }

    // Customers they neither own nor serve.
    for (const std::string& customer : customers) {
      if (today.unserved.size() >= kUnservedKept) break;
      if (std::find(today.unserved.begin(), today.unserved.end(), customer) != today.unserved.end()) continue;
      Result<bool> serves = Serves(r, staff, s, customer, e.occurred_at);
      if (!serves.ok()) return serves.status();
      if (!*serves) today.unserved.push_back(customer);
    }
    const uint64_t unserved_limit = leaving ? c.unserved_customers_per_day_leaving : c.unserved_customers_per_day;
    if (today.unserved.size() > unserved_limit) {
      Finding f = base("unserved_access");
      f.count = today.unserved.size();
      f.threshold = static_cast<double>(unserved_limit);
      f.customers = today.unserved;
      f.evidence = {e.id.ToString()};
      f.summary = fmt::format("{} read {} customers on {} that they neither own nor serve, above the limit of {}{}",
                              staff, today.unserved.size(), DayText(day), unserved_limit, departure);
      findings.push_back(std::move(f));
    }

    for (Finding& f : findings) {
      const std::string day_text = DayText(f.day);
      if (!s.fired.insert(f.rule + "/" + day_text).second) continue;  // once per person, rule and day
      const std::string id = AlertId(f.rule, f.staff, day_text);
      json::object data;
      data["alert_id"] = id;
      data["rule"] = f.rule;
      data["severity"] = f.leaving ? "critical" : "warning";
      data["staff"] = f.staff;
      if (!f.customers.empty()) data["customers"] = Strings(f.customers);
      data["evidence"] = Strings(f.evidence);
      if (f.window_from) data["window_from"] = FormatRfc3339(*f.window_from);
      if (f.window_to) data["window_to"] = FormatRfc3339(*f.window_to);
      data["count"] = f.count;
      data["threshold"] = Number(f.threshold);
      data["summary"] = f.summary;
      json::object stored;
      stored["at"] = f.at.value();
      stored["data"] = std::move(data);
      CUSTODIAN_RETURN_IF_ERROR(r.Found(id, json::serialize(stored)));
    }
    // Forget which rules fired on days that left the window.
    const std::string oldest = DayText(s.days.front().day);
    for (auto it = s.fired.begin(); it != s.fired.end();) {
      it = it->substr(it->find('/') + 1) < oldest ? s.fired.erase(it) : std::next(it);
    }
    return Status::Ok();
  }

  const EventLog* log_;
};

}  // namespace

std::unique_ptr<Projection> MakeAlertsProjection(const EventLog* log) {
  return std::make_unique<AlertsProjection>(log);
}

Result<AlertConfig> CurrentAlertConfig(const StateReader& state) {
  Result<std::optional<std::string>> stored = state.Get("config");
  if (!stored.ok()) return stored.status();
  return *stored ? AlertConfigFromJson(**stored) : AlertConfig{};
}

// --- ServiceScope ---

Result<ServiceScope> ServiceScope::Of(const StateReader& alerts, std::string_view staff) {
  ServiceScope scope(alerts, std::string(staff));
  Result<StaffRec> s = LoadRecord<StaffRec>(alerts, "s/" + scope.staff_, DecodeStaff);
  if (!s.ok()) return s.status();
  scope.role_ = s->role;
  scope.team_ = s->team;
  return scope;
}

bool ServiceScope::company_wide() const { return ServesEveryCustomer(role_); }

Result<bool> ServiceScope::Serves(std::string_view customer, Timestamp at) const {
  if (company_wide()) return true;
  Result<CustomerRec> c = LoadRecord<CustomerRec>(state_, "c/" + std::string(customer), DecodeCustomer);
  if (!c.ok()) return c.status();
  std::optional<StaffRec> owner;
  if (payload::IsStaff(c->owner)) {
    Result<StaffRec> o = LoadRecord<StaffRec>(state_, "s/" + c->owner, DecodeStaff);
    if (!o.ok()) return o.status();
    owner = std::move(*o);
  }
  StaffRec self;
  self.role = role_;
  self.team = team_;
  return alert_state::Serves(staff_, self, *c, owner ? &*owner : nullptr, at);
}

Result<bool> ServiceScope::Oversees(std::string_view other) const {
  if (company_wide() || other == staff_) return true;
  Result<StaffRec> o = LoadRecord<StaffRec>(state_, "s/" + std::string(other), DecodeStaff);
  if (!o.ok()) return o.status();
  return (!team_.empty() && o->team == team_) || o->manager == staff_;
}

Result<std::vector<Event>> RaiseAlerts(EventLog& log) {
  Result<std::optional<std::string>> count = log.ProjectionGet(kAlertsProjection, "n");
  if (!count.ok()) return count.status();
  const std::optional<uint64_t> counted = *count ? ParseUint64(**count) : std::optional<uint64_t>(0);
  if (!counted)
    return Status::Corruption("the alerts projection's count holds " + QuotedText(**count) + ", not a number");
  const uint64_t found = *counted;
  // Raising appends every alert not yet raised, in the order found, in one
  // atomic batch: when alert k is in the log, so is every alert before it.
  // So walk back from the newest only until one is there (usually at once).
  std::vector<Event> fresh;
  for (uint64_t k = found; k > 0; --k) {
    const std::string key = AlertKey(k - 1);
    Result<std::optional<std::string>> stored = log.ProjectionGet(kAlertsProjection, key);
    if (!stored.ok()) return stored.status();
    if (!*stored) return Status::Corruption("the alerts projection counts " + std::to_string(found) +
                                            " alerts but holds no " + key);
    Result<json::object> o = payload::ParseState(**stored, key);
    if (!o.ok()) return o.status();
    const json::value* data = o->if_contains("data");
    if (!data || !data->is_object()) return Status::Corruption("stored state of " + key + " has no alert data");
    Event e;
    e.id = EventId::FromSeed("custodian alert|" + Str(data->get_object(), "alert_id"));
    Result<bool> raised = log.Contains(e.id);
    if (!raised.ok()) return raised.status();
    if (*raised) break;
    e.stream = "alerts";
    e.type = "alert.raised";
    e.actor = "system:alerts";
    e.occurred_at = Timestamp(Int(*o, "at").value_or(0));
    e.data = json::serialize(*data);
    fresh.push_back(std::move(e));
  }
  if (fresh.empty()) return fresh;
  std::reverse(fresh.begin(), fresh.end());  // in the order found
  std::vector<AppendRequest> requests;
  for (const Event& e : fresh) requests.push_back(AppendRequest{"alerts", ExpectedVersion::Any(), {e}});
  Result<std::vector<AppendResult>> r = log.AppendBatch(std::move(requests));
  if (!r.ok()) return r.status();
  // What the log holds, read back: with the position, version and
  // recorded_at the log gave it (the webhook sends these bytes).
  std::vector<Event> added;
  for (size_t i = 0; i < fresh.size(); ++i) {
    if ((*r)[i].written == 0) continue;  // another process raised it first
    const Position at = (*r)[i].positions.front();
    Result<std::vector<Event>> stored = log.ReadAll(at, 1);
    if (!stored.ok()) return stored.status();
    if (stored->empty() || stored->front().id != fresh[i].id) {
      return Status::Corruption(fmt::format("alert.raised {} was appended at position {}, but the log holds {} there",
                                            fresh[i].id.ToString(), at.value(),
                                            stored->empty() ? std::string("nothing") : stored->front().id.ToString()));
    }
    added.push_back(std::move(stored->front()));
  }
  return added;
}

Result<Alert> AlertFromEvent(const Event& e) {
  Result<json::object> parsed = payload::ParseData(e);
  if (!parsed.ok()) return parsed.status();
  const json::object& d = *parsed;
  Alert a;
  a.alert_id = Str(d, "alert_id");
  a.rule = Str(d, "rule");
  a.severity = Str(d, "severity");
  a.staff = Str(d, "staff");
  a.summary = Str(d, "summary");
  if (auto it = d.find("customers"); it != d.end()) a.customers = StringsOf(it->value());
  if (auto it = d.find("evidence"); it != d.end()) a.evidence = StringsOf(it->value());
  a.window_from = payload::Time(d, "window_from");
  a.window_to = payload::Time(d, "window_to");
  a.count = static_cast<uint64_t>(Int(d, "count").value_or(0));
  if (auto it = d.find("threshold"); it != d.end() && it->value().is_number()) a.threshold = it->value().to_number<double>();
  a.at = e.occurred_at;
  a.position = e.position;
  return a;
}

Result<std::vector<Alert>> ListAlerts(const EventLog& log) {
  Result<std::vector<Event>> stream = log.ReadStream("alerts", StreamVersion(0), Direction::kForward, SIZE_MAX);
  if (!stream.ok()) return stream.status();
  std::vector<Alert> out;
  for (const Event& e : *stream) {
    if (e.type != "alert.raised") continue;
    Result<Alert> a = AlertFromEvent(e);
    if (!a.ok()) return a.status();
    out.push_back(std::move(*a));
  }
  return out;
}

std::string AlertToJson(const Alert& a) {
  json::object o;
  o["position"] = a.position.value();
  o["at"] = FormatRfc3339(a.at);
  o["alert_id"] = a.alert_id;
  o["rule"] = a.rule;
  o["severity"] = a.severity;
  o["staff"] = a.staff;
  o["customers"] = Strings(a.customers);
  o["evidence"] = Strings(a.evidence);
  o["window_from"] = payload::TimeJson(a.window_from);
  o["window_to"] = payload::TimeJson(a.window_to);
  o["count"] = a.count;
  o["threshold"] = Number(a.threshold);
  o["summary"] = a.summary;
  return json::serialize(o);
}

}  // namespace custodian
