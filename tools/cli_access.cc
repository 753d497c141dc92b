// Who read what (custodian access) and exfiltration alerts (custodian alerts):
// replay/access.h and replay/alerts.h; docs/access-and-alerts.md.
#include <boost/json.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <set>
#include <span>

#include "core/json.h"
#include "core/time.h"
#include "replay/access.h"
#include "replay/alerts.h"
#include "replay/payload_fields.h"
#include "tools/cli.h"

namespace json = boost::json;

namespace custodian::cli {
namespace {

// "customer-1, customer-2, customer-3 and 12 more"
std::string Some(const std::vector<std::string>& items, size_t shown = 3) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < shown; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > shown) out += fmt::format(" and {} more", items.size() - shown);
  return out.empty() ? "-" : out;
}

std::vector<std::string> CustomersOf(const json::object& d) {
  std::vector<std::string> out;
  if (auto it = d.find("customers"); it != d.end() && it->value().is_array()) {
    for (const json::value& v : it->value().get_array()) {
      if (v.is_string()) out.emplace_back(v.get_string());
    }
  }
  return out;
}

int AccessByStaff(const Globals& g, const std::string& reader, const std::string& staff,
                  std::optional<Timestamp> from, std::optional<Timestamp> to, bool json) {
  Result<std::unique_ptr<EventLog>> log = OpenForReading(g);  // one stream: no projection needed
  if (!log.ok()) return Fail(log.status());
  Result<std::vector<Event>> events =
      (*log)->ReadStream("access-" + staff, StreamVersion(0), Direction::kForward, SIZE_MAX);
  if (!events.ok()) return Fail(events.status());
  struct Row {
    const Event* e;
    json::object d;
  };
  std::vector<Row> rows;
  std::set<std::string> customers;
  uint64_t views = 0, exports = 0, exported_records = 0;
  for (const Event& e : *events) {
    if ((from && e.occurred_at < *from) || (to && !(e.occurred_at < *to))) continue;
    Result<json::object> d = payload::ParseData(e);
    if (!d.ok()) return Fail(d.status());
    for (std::string& c : CustomersOf(*d)) customers.insert(std::move(c));
    if (e.type == "data.exported") {
      ++exports;
      exported_records += static_cast<uint64_t>(payload::Int(*d, "records").value_or(0));
    } else {
      ++views;
    }
    rows.push_back(Row{&e, std::move(*d)});
  }
  // This listing names customers: it is a read too.
  Access a{reader, false, "access_log", {customers.begin(), customers.end()}, rows.size(), "", "cli"};
  if (Status s = RecordAccess(g, **log, a); !s.ok()) return Fail(s);
  if (json) {
    for (const Row& r : rows) fmt::print("{}\n", EventToJson(*r.e, JsonFields::kWithLogFields));
    return kExitOk;
  }
  fmt::print("{}: {} reads and {} exports ({} records) of {} customers{}{}\n", staff, Thousands(views),
             Thousands(exports), Thousands(exported_records), Thousands(customers.size()),
             from ? ", from " + FormatRfc3339(*from) : "", to ? ", before " + FormatRfc3339(*to) : "");
  if (rows.empty()) return kExitOk;
  fmt::print("\n{:<16}  {:<9} {:<18} {:>8}  {:<6} {}\n", "WHEN (UTC)", "WHAT", "VIEW / SCOPE", "RECORDS", "FORMAT",
             "CUSTOMERS");
  for (const Row& r : rows) {
    const bool exported = r.e->type == "data.exported";
    fmt::print("{:<16}  {:<9} {:<18} {:>8}  {:<6} {}\n", Minute(r.e->occurred_at), exported ? "exported" : "viewed",
               payload::Str(r.d, exported ? "scope" : "view"),
               Thousands(static_cast<uint64_t>(payload::Int(r.d, exported ? "records" : "count").value_or(0))),
               exported ? payload::Str(r.d, "format") : "", Some(CustomersOf(r.d)));
  }
  return kExitOk;
}

int AccessToCustomer(const Globals& g, const std::string& reader, const std::string& customer,
                     std::optional<Timestamp> from, std::optional<Timestamp> to, bool json) {
  Result<QueryState> q = OpenQueryState(g, *MakeAccessProjection(), std::nullopt);
  if (!q.ok()) return Fail(q.status());
  Result<std::vector<AccessEntry>> entries = AccessesToCustomer(q->Reader(kAccessProjection), customer, from, to);
  if (!entries.ok()) return Fail(entries.status());
  Access a{reader, false, "access_log", {customer}, entries->size(), "", "cli"};
  if (Status s = RecordAccess(g, *q->log, a); !s.ok()) return Fail(s);
  if (json) {
    for (const AccessEntry& e : *entries) fmt::print("{}\n", AccessEntryToJson(customer, e));
    return kExitOk;
  }
  std::set<std::string> who;
  for (const AccessEntry& e : *entries) who.insert(e.staff);
  fmt::print("{}: read {} times by {} people{}{}\n", customer, Thousands(entries->size()), who.size(),
             from ? ", from " + FormatRfc3339(*from) : "", to ? ", before " + FormatRfc3339(*to) : "");
  if (entries->empty()) return kExitOk;
  fmt::print("\n{:<16}  {:<10} {:<9} {:<18} {:>8}  {}\n", "WHEN (UTC)", "WHO", "WHAT", "VIEW / SCOPE", "RECORDS",
             "IN THE SAME READ");
  for (const AccessEntry& e : *entries) {
    fmt::print("{:<16}  {:<10} {:<9} {:<18} {:>8}  {}\n", Minute(e.at), e.staff, e.exported ? "exported" : "viewed",
               e.view, Thousands(e.records),
               e.customers > 1 ? fmt::format("{} customers", Thousands(e.customers)) : std::string("this one"));
  }
  return kExitOk;
}

}  // namespace

int RunAccess(const Globals& g, const std::string& staff_id, const std::string& customer_id, const std::string& from,
              const std::string& to, bool json) {
  Result<std::string> reader = Reader(g, "access");
  if (!reader.ok()) return UsageError(reader.status());
  if (staff_id.empty() == customer_id.empty()) {
    fmt::print(stderr, "custodian: give --staff (what one person read) or --customer (who read one customer)\n");
    return kExitUsage;
  }
  Result<std::optional<Timestamp>> t_from = OptionalTime(from, "--from");
  Result<std::optional<Timestamp>> t_to = OptionalTime(to, "--to");
  if (!t_from.ok()) return Fail(t_from.status());
  if (!t_to.ok()) return Fail(t_to.status());
  if (!staff_id.empty()) {
    Result<std::string> staff = StaffId(staff_id);
    if (!staff.ok()) return Fail(staff.status());
    return AccessByStaff(g, *reader, *staff, *t_from, *t_to, json);
  }
  Result<std::string> customer = CustomerStream(customer_id);
  if (!customer.ok()) return Fail(customer.status());
  return AccessToCustomer(g, *reader, *customer, *t_from, *t_to, json);
}

int RunAlerts(const Globals& g, const std::string& staff_id, bool json) {
  Result<std::string> reader = Reader(g, "alerts");
  if (!reader.ok()) return UsageError(reader.status());
  std::string staff;
  if (!staff_id.empty()) {
    Result<std::string> s = StaffId(staff_id);
    if (!s.ok()) return Fail(s.status());
    staff = *s;
  }
  bool caught_up = false;
  Result<std::unique_ptr<EventLog>> log = OpenForQuery(g, &caught_up);  // raises what the rules found
  if (!log.ok()) return Fail(log.status());
  Result<std::vector<Alert>> alerts = ListAlerts(**log);
  if (!alerts.ok()) return Fail(alerts.status());
  std::erase_if(*alerts, [&](const Alert& a) { return !staff.empty() && a.staff != staff; });
  // A reader without a company-wide role sees the alerts about themselves,
  // their team and the staff they manage.
  Result<ServiceScope> scope = ReaderScope(**log, *reader);
  if (!scope.ok()) return Fail(scope.status());
  size_t left_out = 0;
  Status scoped = Status::Ok();
  std::erase_if(*alerts, [&](const Alert& a) {
    Result<bool> sees = a.staff.empty() ? Result<bool>(scope->company_wide()) : scope->Oversees(a.staff);
    if (!sees.ok()) scoped = sees.status();
    left_out += sees.ok() && !*sees ? 1 : 0;
    return sees.ok() && !*sees;
  });
  if (!scoped.ok()) return Fail(scoped);
  std::set<std::string> customers;
  for (const Alert& a : *alerts) customers.insert(a.customers.begin(), a.customers.end());
  Access access{*reader, false, "alerts", {customers.begin(), customers.end()}, alerts->size(), "", "cli"};
  if (Status s = RecordAccess(g, **log, access); !s.ok()) return Fail(s);
  if (json) {
    for (const Alert& a : *alerts) fmt::print("{}\n", AlertToJson(a));
    return kExitOk;
  }
  if (alerts->empty()) {
    fmt::print("no alerts{}\n", staff.empty() ? "" : " about " + staff);
  } else {
    fmt::print("{:<16}  {:<8} {:<16} {:<10} {}\n", "WHEN (UTC)", "SEVERITY", "RULE", "STAFF", "WHAT");
    for (const Alert& a : *alerts) {
      fmt::print("{:<16}  {:<8} {:<16} {:<10} {}\n", Minute(a.at), a.severity, a.rule, a.staff, a.summary);
    }
    fmt::print("\n{} alerts; each is an alert.raised event in the alerts stream (custodian read alerts --json)\n",
               alerts->size());
  }
  PrintScopeNote(*scope, left_out, "alerts", "the alerts about themselves, their team and the staff they manage");
  if (!caught_up) {
    fmt::print("(another process holds the store: it raises what the rules find since it last did)\n");
  }
  return kExitOk;
}

int RunAlertsConfig(const Globals& g, const std::vector<std::string>& settings, bool json) {
  std::string who;
  if (!settings.empty()) {
    Result<AlertSettingsChange> change = ParseAlertSettings(settings);
    if (!change.ok()) return UsageError(change.status());
    Result<std::string> actor = Reader(g, "alerts config --set");
    if (!actor.ok()) return UsageError(actor.status());
    who = *actor;
    // A change needs the store read-write (OpenStore says so when another
    // process holds it).
    Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
    if (!log.ok()) return Fail(log.status());
    Event e;
    e.id = EventId::Random();
    e.stream = "alerts";
    e.type = "alerts.configured";
    e.actor = *actor;
    e.occurred_at = SystemClock().Now();
    e.data = change->data;
    // The log's rules judge the change before its secret is kept, so a
    // refused change leaves the secrets file as it was.
    if (Status allowed = (*log)->CheckRules(std::span<const Event>(&e, 1)); !allowed.ok()) return Fail(allowed);
    if (!change->secret.url.empty()) {
      ProjectionEngine engine(**log);  // the settings in force: their secret stays until the change is in
      engine.Add(MakeAlertsProjection());
      if (Status s = engine.CatchUp(); !s.ok()) return Fail(s);
      Result<AlertConfig> in_force = CurrentAlertConfig(StateReader::Stored(**log, kAlertsProjection));
      if (!in_force.ok()) return Fail(in_force.status());
      if (Status s = KeepWebhookSecret(g.data_dir, change->secret, in_force->webhook_fingerprint); !s.ok()) {
        return Fail(s);
      }
    }
    Result<AppendResult> r = (*log)->Append("alerts", {e});
    if (!r.ok()) return Fail(r.status());
  }
  Result<QueryState> q = OpenQueryState(g, *MakeAlertsProjection(), std::nullopt);
  if (!q.ok()) return Fail(q.status());
  Result<AlertConfig> config = CurrentAlertConfig(q->Reader(kAlertsProjection));
  if (!config.ok()) return Fail(config.status());
  const std::string text = AlertConfigToJson(*config);
  if (json) {
    fmt::print("{}\n", text);
    return kExitOk;
  }
  if (!settings.empty()) {
    fmt::print("recorded as alerts.configured by {}; the rules apply from now on{}\n\n", who,
               config->webhook_fingerprint.empty()
                   ? ""
                   : fmt::format("; the webhook's credential is kept in {}/{}, the log names it by its fingerprint",
                                 g.data_dir, kWebhookSecretFile));
  }
  json::object o = json::parse(text).as_object();
  for (const auto& kv : o) fmt::print("{:<36} {}\n", std::string(kv.key()), json::serialize(kv.value()));
  return kExitOk;
}

}  // namespace custodian::cli
