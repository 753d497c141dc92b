// Handover planning (DESIGN.md, Departure and handover): everything a leaver
// holds, customer by customer, with the open work, the people to call, the
// last conversations, the risks and a proposed successor for each.
//
// The planner reads the customer and portfolio projections (both must have
// folded the log up to `planned_at`); it changes nothing. The command line
// records the plan as a handover.planned event, whose extension fields keep
// what execution needs to refuse a stale plan: each customer's stream version
// at planning time. The people to call are personal data: the planner leaves
// them out, and OpenPeopleToCall opens them (replay/people.h) once the
// caller has recorded that its reader read the plan's customers; nothing
// personal goes into handover.planned.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "replay/customer.h"
#include "replay/people.h"
#include "replay/state_reader.h"
#include "storage/event_log.h"

namespace custodian {

struct HandoverRequest {
  std::string from;          // the leaver, "staff-12"
  std::string to;            // one successor for everything, or
  std::string balance_team;  // spread over this team by open workload
  Timestamp now;             // for ages, overdue commitments and risks
};

struct HandoverItem {
  std::string customer, name, group;
  bool owned = false;        // false: the leaver only holds open work there
  std::string successor;
  uint64_t stream_version = 0;  // the customer's last version when planned
  CustomerState state;          // the customer as planned
  std::vector<std::string> requests_held;     // open requests assigned to the leaver
  std::vector<std::string> commitments_held;  // open commitments the leaver owns
  std::vector<std::string> risks;
  // The people to call, key contacts first, with the last conversation with
  // each (OpenPeopleToCall; empty until then).
  std::vector<ContactView> people;
};

struct HandoverPlan {
  std::string id;  // "ho-" and 8 hex digits
  std::string from, mode;  // mode: "to staff-7" or "balanced over team north"
  Position planned_at;
  std::vector<HandoverItem> items;
  uint64_t open_deals = 0, open_requests = 0, open_commitments = 0;
  std::map<std::string, uint64_t> customers_per_successor;
};

// Risks the planner names (DESIGN.md): no contact for this long, an open
// complaint, a commitment due within this long (or overdue).
constexpr int64_t kRiskSilentDays = 60;
constexpr int64_t kRiskDueWithinDays = 7;

// Plans the handover of everything `request.from` holds. InvalidArgument for a
// leaver or successor who is unknown, has left, or is the leaver; NotFound
// when the leaver holds nothing.
Result<HandoverPlan> PlanHandover(const EventLog& log, const StateReader& portfolio, const HandoverRequest& request);

// The handover.planned event's data (catalogue fields plus the extension
// fields "stream_versions" and "planned_at"). Nothing personal.
std::string HandoverPlannedData(const HandoverPlan& plan);

// Fills every item's `people` from its customer's contacts as planned,
// opening their personal fields and last conversations' notes at read time.
Status OpenPeopleToCall(const EventLog& log, HandoverPlan& plan);

struct HandoverExecution {
  std::string id, from;
  bool already_done = false;  // handover.completed was recorded before: nothing changed
  uint64_t customers = 0, owners_changed = 0, requests_moved = 0, commitments_moved = 0;
  std::vector<std::string> orphans;  // customers the leaver still holds afterwards
};

// Executes a recorded plan: for each customer, in one atomic append checked
// against the stream version the plan saw, the ownership change (reason
// handover, with the handover id) and the reassignment of every open request
// and commitment the leaver holds; then handover.completed. Refuses a plan
// made stale by later events (Conflict, naming what changed). Events carry
// ids derived from the handover, so a run cut short resumes where it stopped
// and a finished one changes nothing. `refresh` must bring the projections up
// to date (it is called before planning the moves and before listing orphans).
Result<HandoverExecution> ExecuteHandover(EventLog& log, const std::string& handover_id, const std::string& actor,
                                          Timestamp now, const std::function<Status()>& refresh,
                                          const StateReader& portfolio);

}  // namespace custodian
