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
// "Serve" (ServiceScope below; replay/alert_state.h: Serves): roles with a
// company-wide duty (core/roles.h: head_of_sales, sales_director,
// compliance_officer, auditor, admin) serve every customer; anyone else the
// customers they own, those of their team (the customer's recorded team, and
// its owner's team: so a team's manager serves the team's customers), those
// whose owner they manage (staff.joined/role_changed `manager`), and those
// they were assigned a request or promise of, or recorded an event on,
// within the last 90 days.
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
// With `log`, a correction or retraction of an event on a customer's or a
// staff stream folds that stream's record again as the fixes make it
// (replay/customer.h: RefoldRecord), so who serves a customer and who is
// leaving follow fixes; records of reads and settings cannot be fixed (rule
// `fix`). Without it, fixes are counted as events only.
std::unique_ptr<Projection> MakeAlertsProjection(const EventLog* log = nullptr);

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

// Whom a member of staff serves, read from the alerts projection's state,
// with the one definition the unserved_access rule uses
// (docs/access-and-alerts.md, "Who serves a customer"): a role with a
// company-wide duty (core/roles.h) serves every customer; anyone else a
// customer they own, one of their team (the customer's team, or its owner's),
// one whose owner they manage, and one they worked on in the last kServeDays.
// Listings that span the company (silent, orphans, alerts) show a reader
// only what they serve, so normal work never reads outside it.
class ServiceScope {
 public:
  // The scope of `staff` (e.g. "staff-7") in `alerts`, the alerts
  // projection's state; a member of staff it knows nothing of serves only
  // what they own or worked on.
  static Result<ServiceScope> Of(const StateReader& alerts, std::string_view staff);

  const std::string& staff() const { return staff_; }
  const std::string& role() const { return role_; }
  const std::string& team() const { return team_; }
  bool company_wide() const;

  // Whether they serve `customer` (e.g. "customer-42") at `at`.
  Result<bool> Serves(std::string_view customer, Timestamp at) const;
  // Whether alerts about `other` are theirs to see: every alert for a
  // company-wide role; else those about themselves, staff of their team and
  // staff they manage.
  Result<bool> Oversees(std::string_view other) const;

 private:
  ServiceScope(const StateReader& alerts, std::string staff) : state_(alerts), staff_(std::move(staff)) {}
  StateReader state_;
  std::string staff_, role_, team_;
};

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
