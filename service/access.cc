#include "service/access.h"

#include <algorithm>
#include <boost/json.hpp>
#include <set>
#include <span>
#include <utility>

#include "core/json.h"
#include "replay/payload_fields.h"
#include "replay/projection.h"

namespace custodian {
namespace json = boost::json;

namespace {

std::vector<std::string> CustomersOf(const json::object& d) {
  std::vector<std::string> out;
  if (const json::value* v = d.if_contains("customers"); v != nullptr && v->is_array()) {
    for (const json::value& c : v->get_array()) {
      if (c.is_string()) out.emplace_back(c.get_string());
    }
  }
  return out;
}

uint64_t Count(const json::object& d, std::string_view key) {
  return static_cast<uint64_t>(std::max<int64_t>(payload::Int(d, key).value_or(0), 0));
}

}  // namespace

// --- What one member of staff read ---

Result<StaffAccessLog> AccessByStaff(EventLog& log, const Caller& caller, const std::string& staff,
                                     std::optional<Timestamp> from, std::optional<Timestamp> to) {
  Result<std::vector<Event>> events =
      log.ReadStream("access-" + staff, StreamVersion(0), Direction::kForward, SIZE_MAX);
  if (!events.ok()) return events.status();
  StaffAccessLog out{staff, from, to, {}, 0, 0, 0, {}};
  std::set<std::string> customers;
  for (Event& e : *events) {
    if ((from && e.occurred_at < *from) || (to && !(e.occurred_at < *to))) continue;
    Result<json::object> d = payload::ParseData(e);
    if (!d.ok()) return d.status();
    StaffAccessRow row;
    row.exported = e.type == "data.exported";
    row.view = payload::Str(*d, row.exported ? "scope" : "view");
    row.records = Count(*d, row.exported ? "records" : "count");
    if (row.exported) row.format = payload::Str(*d, "format");
    row.customers = CustomersOf(*d);
    customers.insert(row.customers.begin(), row.customers.end());
    if (row.exported) {
      ++out.exports;
      out.exported_records += row.records;
    } else {
      ++out.views;
    }
    row.event = std::move(e);
    out.rows.push_back(std::move(row));
  }
  out.customers.assign(customers.begin(), customers.end());
  // This listing names customers: it is a read too.
  CUSTODIAN_RETURN_IF_ERROR(
      RecordRead(log, caller,
                 Access{caller.principal, false, "access_log", out.customers, out.rows.size(), "", caller.interface}));
  return out;
}

std::string StaffAccessLogToJson(const StaffAccessLog& l) {
  std::string out;
  for (const StaffAccessRow& r : l.rows) out += EventToJson(r.event, JsonFields::kWithLogFields) + "\n";
  return out;
}

// --- Who read one customer ---

Result<CustomerAccessLog> AccessToCustomer(EventLog& log, const Caller& caller, const std::string& customer,
                                           std::optional<Timestamp> from, std::optional<Timestamp> to) {
  Result<QueryState> q = QueryStateOf(log, *MakeAccessProjection(), std::nullopt);
  if (!q.ok()) return q.status();
  Result<std::vector<AccessEntry>> entries = AccessesToCustomer(q->Reader(kAccessProjection), customer, from, to);
  if (!entries.ok()) return entries.status();
  std::set<std::string> readers;
  for (const AccessEntry& e : *entries) readers.insert(e.staff);
  CUSTODIAN_RETURN_IF_ERROR(RecordRead(
      log, caller, Access{caller.principal, false, "access_log", {customer}, entries->size(), "", caller.interface}));
  return CustomerAccessLog{customer, from, to, std::move(*entries), readers.size()};
}

std::string CustomerAccessLogToJson(const CustomerAccessLog& l) {
  std::string out;
  for (const AccessEntry& e : l.entries) out += AccessEntryToJson(l.customer, e) + "\n";
  return out;
}

// --- Alerts ---

Result<AlertListing> ListAlertsFor(EventLog& log, const Caller& caller, const std::string& about) {
  Result<std::vector<Alert>> alerts = ListAlerts(log);
  if (!alerts.ok()) return alerts.status();
  if (!about.empty()) std::erase_if(*alerts, [&](const Alert& a) { return a.staff != about; });
  Result<ServiceScope> scope = ReaderScope(log, caller.principal);
  if (!scope.ok()) return scope.status();
  std::vector<Alert> shown;
  size_t left_out = 0;
  for (Alert& a : *alerts) {
    Result<bool> sees = a.staff.empty() ? Result<bool>(scope->company_wide()) : scope->Oversees(a.staff);
    if (!sees.ok()) return sees.status();
    if (*sees) {
      shown.push_back(std::move(a));
    } else {
      ++left_out;
    }
  }
  std::set<std::string> customers;
  for (const Alert& a : shown) customers.insert(a.customers.begin(), a.customers.end());
  Access read{caller.principal, false, "alerts",        {customers.begin(), customers.end()},
              shown.size(),     "",    caller.interface};
  CUSTODIAN_RETURN_IF_ERROR(RecordRead(log, caller, std::move(read)));
  return AlertListing{about, std::move(shown), std::move(*scope), left_out};
}

std::string AlertListingToJson(const AlertListing& l) {
  std::string out;
  for (const Alert& a : l.alerts) out += AlertToJson(a) + "\n";
  return out;
}

// --- The alert rules' settings ---

Result<AlertConfig> AlertSettingsInForce(EventLog& log) {
  Result<QueryState> q = QueryStateOf(log, *MakeAlertsProjection(&log), std::nullopt);
  if (!q.ok()) return q.status();
  return CurrentAlertConfig(q->Reader(kAlertsProjection));
}

Result<AlertSettingsChanged> ChangeAlertSettings(EventLog& log, const Caller& caller, const AlertSettingsChange& change,
                                                 Timestamp now) {
  Event e;
  e.id = EventId::Random();
  e.stream = "alerts";
  e.type = "alerts.configured";
  e.actor = caller.principal;
  e.occurred_at = now;
  e.data = change.data;
  // The log's rules judge the change before its secret is kept, so a
  // refused change leaves the secrets file as it was.
  CUSTODIAN_RETURN_IF_ERROR(log.CheckRules(std::span<const Event>(&e, 1)));
  if (!change.secret.url.empty()) {
    auto folding = ProjectionLock();
    ProjectionEngine engine(log);  // the settings in force: their secret stays until the change is in
    engine.Add(MakeAlertsProjection(&log));
    CUSTODIAN_RETURN_IF_ERROR(engine.CatchUp());
    Result<AlertConfig> in_force = CurrentAlertConfig(StateReader::Stored(log, kAlertsProjection));
    if (!in_force.ok()) return in_force.status();
    CUSTODIAN_RETURN_IF_ERROR(KeepWebhookSecret(log.dir(), change.secret, in_force->webhook_fingerprint));
  }
  Result<AppendResult> appended = log.Append("alerts", {std::move(e)});
  if (!appended.ok()) return appended.status();
  // The change applies from now on, and raises an alert of its own.
  CUSTODIAN_RETURN_IF_ERROR(CatchUpProjections(log));
  Result<AlertConfig> config = CurrentAlertConfig(StateReader::Stored(log, kAlertsProjection));
  if (!config.ok()) return config.status();
  AlertSettingsChanged out{std::move(*config), caller.principal, appended->positions.front().value(), ""};
  if (!out.config.webhook_fingerprint.empty()) out.secret_file = log.dir() + "/" + kWebhookSecretFile;
  return out;
}

std::string AlertSettingsChangedToJson(const AlertSettingsChanged& c) { return AlertConfigToJson(c.config); }

}  // namespace custodian
