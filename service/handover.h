// Departure and handover (DESIGN.md, Departure and handover): planning the
// handover of everything a leaver holds, carrying it out, and the
// successor's briefing. Each operation is a function with a typed result and
// one ToJson; the command line (tools/cli_handover.cc) parses flags, calls
// them and prints, and the server will do the same.
//
// What a handover is made of (the plan, its risks, the moves, the stale-plan
// check) is replay/handover.h's. This adds who asks: the plan and the moves
// are recorded under the caller's name, and whatever customer data an
// operation returns is first recorded as the caller's read (service/store.h:
// Caller, RecordRead); when that record cannot be made, nothing is returned.
//
// Each function takes an open store: the plan and the moves need it
// writable; the report also works on a store another process holds (its read
// is then spooled). Each brings the projections it reads up to date itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "replay/customer.h"
#include "replay/handover.h"
#include "replay/people.h"
#include "service/store.h"
#include "storage/event_log.h"

namespace custodian {

// --- Plan ---

struct PlannedHandover {
  HandoverPlan plan;      // every item's `people` opened for the caller
  uint64_t position = 0;  // of the handover.planned event
  Timestamp now;          // when it was planned: for ages and overdue promises
};

// Plans the handover of everything request.from holds (replay/handover.h:
// PlanHandover) and records it: handover.planned on `system` by
// caller.principal, and the caller's read of the plan's customers (view
// handover_plan), in one atomic batch, so a caller the log's rules refuse
// records no plan either. The people to call are opened only once both are
// on disk. Needs `log` writable. InvalidArgument for a leaver or successor
// the log does not know, who has left, or a successor who is the leaver;
// NotFound when the leaver holds nothing; RuleViolation when the rules
// refuse the caller (e.g. they have left).
Result<PlannedHandover> RecordHandoverPlan(EventLog& log, const Caller& caller, const HandoverRequest& request);
// {"handover_id","from","mode","planned_at" (the log's size when planned),
//  "event_position","open_deals","open_requests","open_commitments",
//  "customers":[{"customer","name","group","owned","successor","open_deals",
//  "requests_held","commitments_held","risks","people":[ContactViewToJson],
//  "stream_version"}]}
std::string PlannedHandoverToJson(const PlannedHandover& p);

// --- Execute ---

// Carries out the recorded plan `handover_id` (replay/handover.h:
// ExecuteHandover): the ownership changes and reassignments, under
// caller.principal's name, then handover.completed. The result's `orphans`
// is the check that nothing is left behind: what the leaver still holds
// afterwards (empty when the handover is complete). Running it again
// changes nothing (already_done). Needs `log` writable. NotFound when no
// plan has that id; Conflict, moving nothing, for a plan made stale by later
// events; RuleViolation when the rules refuse a move (e.g. a successor who
// has since left) or the caller.
Result<HandoverExecution> CarryOutHandover(EventLog& log, const Caller& caller, const std::string& handover_id,
                                           Timestamp now);
// {"handover_id","from","already_done","customers","owners_changed",
//  "requests_moved","commitments_moved","orphans":[customer, ...]}
std::string HandoverExecutionToJson(const HandoverExecution& run);

// The leaver of the recorded plan `handover_id` (whose work it moves), so
// that a caller can be checked against them; NotFound when no plan has it.
Result<std::string> HandoverLeaver(const EventLog& log, const std::string& handover_id);
// The customers the recorded plan `handover_id` gives `successor`; NotFound
// when no plan has that id.
Result<std::vector<std::string>> HandoverCustomersFor(const EventLog& log, const std::string& handover_id,
                                                      const std::string& successor);

// --- Report: the successor's briefing ---

// The formats a briefing is written in.
enum class BriefingFormat { kMarkdown, kHtml, kJsonLines };

// The last conversations a briefing lists per customer.
inline constexpr size_t kBriefingConversations = 5;

struct HandoverReportRequest {
  std::string handover_id;
  std::string successor;  // only the customers going to this member of staff; empty: all
  // Set when the briefing leaves the system (a file, a download): it is then
  // recorded as an export in this format (data.exported), else as a view.
  std::optional<BriefingFormat> exported_as;
  Timestamp now;
};

// One customer handed over, as its successor should know it.
struct CustomerBriefing {
  std::string customer, successor;
  CustomerState state;                // now (knowledge time)
  uint64_t events = 0;                // in its stream
  std::optional<Timestamp> first_at;  // its first event's occurred_at
  // The last kBriefingConversations interaction.logged events, newest
  // first, with their personal parts opened (EventLog::ShowPersonal).
  std::vector<Event> conversations;
  std::vector<ContactView> people;  // the people to call, opened
};

struct HandoverReport {
  std::string handover_id, from;
  std::string successor;  // as asked; empty: every successor
  Timestamp prepared_at;
  std::vector<CustomerBriefing> customers;  // in the plan's order
  // "Handover ho-1: customers of staff-12, briefing for staff-7"
  std::string Title() const;
};

// The briefing for the customers the handover `request.handover_id` gives
// (to request.successor, when given): each customer's state, history in
// brief, open work, promises, people to call and last conversations. The
// read is recorded for the caller first (view, or export with the format,
// "handover_report"; every customer briefed; records: the events behind it),
// and only then are the people and notes opened. NotFound when no plan has
// that id, or when it gives the successor nothing.
Result<HandoverReport> PrepareHandoverReport(EventLog& log, const Caller& caller, const HandoverReportRequest& request);
// JSON Lines, one object per customer, each ending in a newline:
// {"handover_id","from","customer","successor","state":CustomerToJson,
//  "people":[ContactViewToJson],"last_conversations":[EventToJson]}
std::string HandoverReportToJson(const HandoverReport& r);
// A Markdown document; event data shows as text, never as markup or links.
std::string HandoverReportToMarkdown(const HandoverReport& r);
// One self-contained, printable HTML page (no script, no outside resource),
// one section per customer.
std::string HandoverReportToHtml(const HandoverReport& r);
// The report in `format`: one of the three above.
std::string HandoverReportDocument(const HandoverReport& r, BriefingFormat format);

// --- The people to call, in words (the plan's text and the briefing) ---

// "Petra Hartmann, managing director in operations (key contact, prefers
// call): phone +49 40 5550 1234, e-mail p.h@example.com"; an erased person
// as "con-2002 (erased at position 41: reason), ...", one whose data cannot
// be opened as "con-2001 (sealed: why), ...". Values are cut to one line
// each: no control character, line break or bidirectional override.
std::string PersonToCall(const ContactView& v);
// "last conversation 2026-03-01 call (outbound) by staff-7: \"<its notes, at
// most `max_notes` bytes>\"", or "no conversation logged with them".
std::string LastConversation(const ContactView& v, size_t max_notes);

}  // namespace custodian
