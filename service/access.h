// Who read what, and the exfiltration alerts (DESIGN.md, Departure and
// handover; docs/access-and-alerts.md): every read of one member of staff,
// everyone who read one customer, the alerts a reader may see, and the
// alert rules' settings. Each operation is a function with a typed result
// and one ToJson; the command line (tools/cli_access.cc) parses flags, calls
// them and prints, and the server will do the same.
//
// These listings name customers, so each is itself a read: recorded for
// the caller (service/store.h: RecordRead) before anything is returned, and
// nothing is returned when it cannot be recorded. They work on a store
// another process holds (the read is then spooled); the projections they
// read must be up to date when `log` is writable (OpenForQuery, or the
// server's running catch-up).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "replay/access.h"
#include "replay/alert_settings.h"
#include "replay/alerts.h"
#include "service/store.h"
#include "storage/event_log.h"

namespace custodian {

// --- What one member of staff read ---

// One data.viewed or data.exported on access-<staff>.
struct StaffAccessRow {
  Event event;                         // as the log holds it
  bool exported = false;               // data.exported, else data.viewed
  std::string view;                    // viewed: the view (customer_profile, ...); exported: the scope
  uint64_t records = 0;                // viewed: data.count; exported: data.records
  std::string format;                  // exported only: csv, jsonl, bundle, ...
  std::vector<std::string> customers;  // whose data, as recorded
};

struct StaffAccessLog {
  std::string staff;
  std::optional<Timestamp> from, to;  // as asked
  std::vector<StaffAccessRow> rows;   // oldest first
  uint64_t views = 0, exports = 0, exported_records = 0;
  std::vector<std::string> customers;  // every customer the rows name, sorted, once each
};

// Every read and export of `staff` ("staff-7") that occurred in [from, to):
// their access-<staff> stream (no projection needed). Recorded for the
// caller as a view "access_log" of every customer the rows name. A member
// of staff who never read anything has an empty log. Corruption, naming the
// event, for a record whose data is not a JSON object.
Result<StaffAccessLog> AccessByStaff(EventLog& log, const Caller& caller, const std::string& staff,
                                     std::optional<Timestamp> from, std::optional<Timestamp> to);
// JSON Lines: each row's event (EventToJson, with the log's fields), each
// line ending in a newline.
std::string StaffAccessLogToJson(const StaffAccessLog& l);

// --- Who read one customer ---

struct CustomerAccessLog {
  std::string customer;
  std::optional<Timestamp> from, to;  // as asked
  std::vector<AccessEntry> entries;   // oldest first
  size_t readers = 0;                 // distinct members of staff among them
};

// Every read of `customer` ("customer-42") that occurred in [from, to),
// from the access projection (the stored state, or a replay of the log when
// another process holds the store and the state lags). Recorded for the
// caller as a view "access_log" of that customer.
Result<CustomerAccessLog> AccessToCustomer(EventLog& log, const Caller& caller, const std::string& customer,
                                           std::optional<Timestamp> from, std::optional<Timestamp> to);
// JSON Lines: AccessEntryToJson of each entry, each line ending in a newline.
std::string CustomerAccessLogToJson(const CustomerAccessLog& l);

// --- Alerts ---

struct AlertListing {
  std::string about;          // only alerts about this member of staff, when given
  std::vector<Alert> alerts;  // oldest first: those the caller may see
  ServiceScope scope;         // the caller's (replay/alerts.h)
  size_t left_out = 0;        // alerts not the caller's to see
};

// Every alert.raised in the `alerts` stream (about `about` only, when not
// empty) that the caller oversees (ServiceScope::Oversees: a company-wide
// role sees them all; anyone else those about themselves, their team and
// the staff they manage; an alert about nobody only a company-wide role).
// Recorded for the caller as a view "alerts" of every customer the alerts
// name. Raising what the rules found is the open's (OpenForQuery), not this.
Result<AlertListing> ListAlertsFor(EventLog& log, const Caller& caller, const std::string& about);
// JSON Lines: AlertToJson of each alert, each line ending in a newline.
std::string AlertListingToJson(const AlertListing& l);

// --- The alert rules' settings ---

// The settings in force (replay/alert_settings.h; the defaults when none
// were configured). Not customer data: nothing is recorded. Their JSON is
// AlertConfigToJson.
Result<AlertConfig> AlertSettingsInForce(EventLog& log);

struct AlertSettingsChanged {
  AlertConfig config;      // the settings in force afterwards
  std::string changed_by;  // the caller
  uint64_t position = 0;   // of the alerts.configured event
  // Where the credential of the webhook in force is kept (the store's
  // secrets file); empty when that webhook carries none.
  std::string secret_file;
};

// Records `change` (ParseAlertSettings) as alerts.configured by
// caller.principal. The log's rules judge it first (rule 'settings':
// RuleViolation naming the caller's role, or their announced departure), so
// a refused change writes nothing, not even the webhook's credential; a URL
// with a credential is then kept in the secrets file (KeepWebhookSecret)
// before the change is appended. Afterwards the projections are brought up
// to date and the alerts found raised and sent (RaiseAndNotify): the change
// raises a settings_changed alert of its own. Needs `log` writable.
Result<AlertSettingsChanged> ChangeAlertSettings(EventLog& log, const Caller& caller, const AlertSettingsChange& change,
                                                 Timestamp now);
// The settings in force afterwards (AlertConfigToJson): the same document
// AlertSettingsInForce gives, so a client reads one shape.
std::string AlertSettingsChangedToJson(const AlertSettingsChanged& c);

}  // namespace custodian
