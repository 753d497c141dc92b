// Exfiltration alerts (DESIGN.md, Departure and handover;
// docs/access-and-alerts.md): rules over the access streams, evaluated by a
// projection as the log grows.
//
// The rules, per member of staff and UTC day (the day an access occurred):
//   export_volume    records exported that day > max(floor, factor x median),
//                    the median of their own daily totals over the previous
//                    30 days (days before their first event don't count)
//   view_volume      reads (data.viewed events) that day, likewise
//   mass_export      one export naming more than N customers
//   unserved_access  more than N distinct customers read that day that they
//                    neither own nor serve
// Each has a stricter setting once the person's departure is announced
// (staff.departure_announced occurred at or before the access), and then
// its alerts are critical rather than warnings. Each rule fires at most once
// per person and day, at the access that crossed the limit: a day exactly
// at the limit raises nothing.
//
// "Serve": the customer's owner; staff of the customer's team; a sales
// manager (role containing "manager") of the owner's team; anyone assigned
// one of its requests or promises, or who recorded an event on it, within
// the last 90 days; and company-wide roles (role containing "director",
// "head_of", "compliance" or "auditor"), who serve every customer.
//
// The settings are alerts.configured events on the `alerts` stream (folded
// in log order, so a change applies from then on and is on the record;
// replay/alert_settings.h). Each one also raises an alert of its own:
//   settings_changed  who changed which settings, from what to what; critical
//                     when it loosens the watch (a limit or factor raised, the
//                     webhook moved or turned off), else a warning
//
// The projection only finds alerts; RaiseAlerts turns each found alert into
// an alert.raised event whose id and content derive from the alert, so
// raising twice, from two processes or after a rebuild, adds nothing.
//
// Stored state, keys under the projection "alerts":
//   config           the settings in force (AlertConfig)
//   s/<staff>        role, team, announced and departed times, first day,
//                    the last 31 days' totals and which rules fired
//   c/<customer>     owner, team, and who worked on it last when
//   n                how many alerts were found
//   a/<n, 20 digits> the n-th alert found (from 0): the alert.raised data and
//                    the time of the access that fired it
//   i/<alert id>     marks an alert id as found, so it is never found twice
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "core/types.h"
#include "replay/alert_settings.h"
#include "replay/projection.h"
#include "replay/state_reader.h"
#include "storage/event_log.h"

namespace custodian {

inline constexpr int kBaselineDays = 30;
inline constexpr int kServeDays = 90;

inline constexpr char kAlertsProjection[] = "alerts";
std::unique_ptr<Projection> MakeAlertsProjection();

struct Alert {
  std::string alert_id, rule, severity, staff, summary;
  std::vector<std::string> customers, evidence;  // evidence: event ids
  std::optional<Timestamp> window_from, window_to;
  uint64_t count = 0;
  double threshold = 0;
  Timestamp at;        // when the access that fired it occurred
  Position position;   // of the alert.raised event, once raised
};

// The settings in force at the projection's checkpoint (the defaults when
// none were configured).
Result<AlertConfig> CurrentAlertConfig(const StateReader& state);

// Appends alert.raised for every alert the stored projection found that the
// log does not hold yet, in the order found, in one atomic batch; returns the
// events it added as the log stores them (read back: position, version and
// recorded_at are the log's). Usually one lookup: the newest found alert is
// raised.
// Run it after the projection caught up.
Result<std::vector<Event>> RaiseAlerts(EventLog& log);

// Every alert.raised in the `alerts` stream, oldest first.
Result<std::vector<Alert>> ListAlerts(const EventLog& log);
Result<Alert> AlertFromEvent(const Event& e);
std::string AlertToJson(const Alert& a);

}  // namespace custodian
