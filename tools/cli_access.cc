// Who read what (custodian access) and exfiltration alerts (custodian alerts):
// flags to service/access.h and its results to text; docs/access-and-alerts.md.
#include <fmt/core.h>

#include <boost/json.hpp>

#include "core/time.h"
#include "service/access.h"
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

int AccessByStaff(const Globals& g, const std::string& reader, const std::string& staff, std::optional<Timestamp> from,
                  std::optional<Timestamp> to, bool json) {
  Result<std::unique_ptr<EventLog>> log = OpenForReading(g);  // one stream: no projection needed
  if (!log.ok()) return Fail(log.status());
  Result<StaffAccessLog> l = custodian::AccessByStaff(**log, g.CallerAs(reader), staff, from, to);
  if (!l.ok()) return Fail(l.status());
  if (json) {
    fmt::print("{}", StaffAccessLogToJson(*l));
    return kExitOk;
  }
  fmt::print("{}: {} and {} ({} exported) of {}{}{}\n", staff, Counted(l->views, "read", "reads"),
             Counted(l->exports, "export", "exports"), Counted(l->exported_records, "record", "records"),
             Counted(l->customers.size(), "customer", "customers"),
             from ? ", from " + FormatRfc3339(*from) : "", to ? ", before " + FormatRfc3339(*to) : "");
  if (l->rows.empty()) return kExitOk;
  fmt::print("\n{:<16}  {:<9} {:<24} {:>8}  {:<6} {}\n", "WHEN (UTC)", "WHAT", "VIEW / SCOPE", "RECORDS", "FORMAT",
             "CUSTOMERS");
  for (const StaffAccessRow& r : l->rows) {
    // The view and format are as recorded: shown on one line, never obeyed.
    fmt::print("{:<16}  {:<9} {:<24} {:>8}  {:<6} {}\n", Minute(r.event.occurred_at),
               r.exported ? "exported" : "viewed", OneLineText(r.view, 40), Thousands(r.records),
               OneLineText(r.format, 12), Some(r.customers));
  }
  return kExitOk;
}

int AccessToCustomer(const Globals& g, const std::string& reader, const std::string& customer,
                     std::optional<Timestamp> from, std::optional<Timestamp> to, bool json) {
  bool caught_up = false;
  Result<std::unique_ptr<EventLog>> log = OpenForQuery(g, &caught_up);
  if (!log.ok()) return Fail(log.status());
  Result<CustomerAccessLog> l = custodian::AccessToCustomer(**log, g.CallerAs(reader), customer, from, to);
  if (!l.ok()) return Fail(l.status());
  if (json) {
    fmt::print("{}", CustomerAccessLogToJson(*l));
    return kExitOk;
  }
  fmt::print("{}: read {} times by {} people{}{}\n", customer, Thousands(l->entries.size()), l->readers,
             from ? ", from " + FormatRfc3339(*from) : "", to ? ", before " + FormatRfc3339(*to) : "");
  if (l->entries.empty()) return kExitOk;
  fmt::print("\n{:<16}  {:<10} {:<9} {:<24} {:>8}  {}\n", "WHEN (UTC)", "WHO", "WHAT", "VIEW / SCOPE", "RECORDS",
             "IN THE SAME READ");
  for (const AccessEntry& e : l->entries) {
    fmt::print("{:<16}  {:<10} {:<9} {:<24} {:>8}  {}\n", Minute(e.at), e.staff, e.exported ? "exported" : "viewed",
               OneLineText(e.view, 40), Thousands(e.records),
               e.customers > 1 ? fmt::format("{} customers", Thousands(e.customers)) : std::string("this one"));
  }
  return kExitOk;
}

// One setting a line: "mass_export_customers                150".
void PrintSettings(const AlertConfig& config) {
  json::object o = json::parse(AlertConfigToJson(config)).as_object();
  for (const auto& kv : o) fmt::print("{:<36} {}\n", std::string(kv.key()), json::serialize(kv.value()));
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
  Result<AlertListing> listing = ListAlertsFor(**log, g.CallerAs(*reader), staff);
  if (!listing.ok()) return Fail(listing.status());
  const std::vector<Alert>& alerts = listing->alerts;
  if (json) {
    fmt::print("{}", AlertListingToJson(*listing));
    return kExitOk;
  }
  if (alerts.empty()) {
    fmt::print("no alerts{}\n", staff.empty() ? "" : " about " + staff);
  } else {
    fmt::print("{:<16}  {:<8} {:<16} {:<10} {}\n", "WHEN (UTC)", "SEVERITY", "RULE", "STAFF", "WHAT");
    for (const Alert& a : alerts) {
      fmt::print("{:<16}  {:<8} {:<16} {:<10} {}\n", Minute(a.at), a.severity, a.rule, a.staff, a.summary);
    }
    fmt::print("\n{}; each is an alert.raised event in the alerts stream (custodian read alerts --json)\n",
               Counted(alerts.size(), "alert", "alerts"));
  }
  PrintScopeNote(listing->scope, listing->left_out, "alerts",
                 "the alerts about themselves, their team and the staff they manage");
  if (!caught_up) {
    fmt::print("(another process holds the store: it raises what the rules find since it last did)\n");
  }
  return kExitOk;
}

int RunAlertsConfig(const Globals& g, const std::vector<std::string>& settings, bool json) {
  if (settings.empty()) {
    bool caught_up = false;
    Result<std::unique_ptr<EventLog>> log = OpenForQuery(g, &caught_up);
    if (!log.ok()) return Fail(log.status());
    Result<AlertConfig> config = AlertSettingsInForce(**log);
    if (!config.ok()) return Fail(config.status());
    if (json) {
      fmt::print("{}\n", AlertConfigToJson(*config));
      return kExitOk;
    }
    PrintSettings(*config);
    return kExitOk;
  }
  Result<AlertSettingsChange> change = ParseAlertSettings(settings);
  if (!change.ok()) return UsageError(change.status());
  Result<std::string> actor = Reader(g, "alerts config --set");
  if (!actor.ok()) return UsageError(actor.status());
  // A change needs the store read-write (OpenStore says so when another
  // process holds it).
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());
  Result<AlertSettingsChanged> changed = ChangeAlertSettings(**log, g.CallerAs(*actor), *change, SystemClock().Now());
  if (!changed.ok()) return Fail(changed.status());
  if (json) {
    fmt::print("{}\n", AlertSettingsChangedToJson(*changed));
    return kExitOk;
  }
  fmt::print("recorded as alerts.configured by {}; the rules apply from now on{}\n\n", changed->changed_by,
             changed->secret_file.empty() ? ""
                                          : "; the webhook's credential is kept in " + changed->secret_file +
                                                ", the log names it by its fingerprint");
  PrintSettings(changed->config);
  return kExitOk;
}

}  // namespace custodian::cli
