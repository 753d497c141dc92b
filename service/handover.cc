#include "service/handover.h"

#include <fmt/core.h>

#include <boost/json.hpp>
#include <utility>

#include "core/json.h"
#include "core/text.h"
#include "core/time.h"
#include "replay/access.h"
#include "replay/portfolio.h"
#include "replay/projection.h"
#include "service/customer.h"

namespace custodian {
namespace json = boost::json;

namespace {

// A value another ToJson made, to put inside a larger document.
json::value Embedded(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(nullptr) : v;
}

json::array Strings(const std::vector<std::string>& items) {
  json::array a;
  for (const std::string& s : items) a.emplace_back(s);
  return a;
}

// "2026-03-01", or "-".
std::string Day(std::optional<Timestamp> t) { return t ? FormatRfc3339(*t).substr(0, 10) : "-"; }

}  // namespace

// --- The people to call ---

std::string PersonToCall(const ContactView& v) {
  const CustomerState::Contact& c = v.contact;
  const OpenedPersonal& p = v.personal;
  std::string who;
  switch (p.state) {
    case OpenedPersonal::State::kOpen:
      who = p.Field("name").empty() ? v.contact_id : OneLineText(p.Field("name"), 80);
      break;
    case OpenedPersonal::State::kNone:
      who = v.contact_id + " (no name recorded)";
      break;
    case OpenedPersonal::State::kErased:
      who = v.contact_id + " (erased at position " +
            (p.erased_position ? std::to_string(*p.erased_position) : std::string("?")) + ": " +
            OneLineText(p.erased_reason, 120) + ")";
      break;
    case OpenedPersonal::State::kUnavailable:
      who = v.contact_id + " (sealed: " + OneLineText(p.why, 160) + ")";
      break;
  }
  std::string line = who + ", " + (c.role.empty() ? "role unknown" : OneLineText(c.role, 80)) +
                     (c.department.empty() ? "" : " in " + OneLineText(c.department, 80));
  std::string about = c.key_contact ? "key contact" : "";
  if (!c.preferred_channel.empty()) about += (about.empty() ? "" : ", ") + ("prefers " + c.preferred_channel);
  if (!about.empty()) line += " (" + about + ")";
  if (p.state == OpenedPersonal::State::kOpen) {
    std::string reach;
    const std::string phone = p.Field("phone").empty() ? p.Field("mobile") : p.Field("phone");
    if (!phone.empty()) reach += "phone " + OneLineText(phone, 40);
    if (!p.Field("mobile").empty() && !p.Field("phone").empty()) reach += ", mobile " + OneLineText(p.Field("mobile"), 40);
    if (!p.Field("email").empty()) reach += (reach.empty() ? "" : ", ") + ("e-mail " + OneLineText(p.Field("email"), 80));
    line += ": " + (reach.empty() ? std::string("no phone or e-mail recorded") : reach);
  }
  return line;
}

std::string LastConversation(const ContactView& v, size_t max_notes) {
  const std::optional<CustomerState::Conversation>& l = v.contact.last_conversation;
  if (!l) return "no conversation logged with them";
  std::string line = "last conversation " + Day(l->at) + " " + l->channel +
                     (l->direction.empty() ? "" : " (" + l->direction + ")") + " by " + l->by;
  const OpenedPersonal& n = v.last_notes;
  switch (n.state) {
    case OpenedPersonal::State::kOpen:
      if (!n.Field("notes").empty()) line += ": \"" + OneLineText(n.Field("notes"), max_notes) + "\"";
      break;
    case OpenedPersonal::State::kNone:
      break;
    case OpenedPersonal::State::kErased:
      line += " (its notes were erased at position " +
              (n.erased_position ? std::to_string(*n.erased_position) : std::string("?")) + ")";
      break;
    case OpenedPersonal::State::kUnavailable:
      line += " (its notes are sealed: " + OneLineText(n.why, 160) + ")";
      break;
  }
  return line;
}

// --- Plan ---

Result<PlannedHandover> RecordHandoverPlan(EventLog& log, const Caller& caller, const HandoverRequest& request) {
  // The projections up to date (alerts are left to the queries that raise them).
  auto folding = ProjectionLock();
  ProjectionEngine engine(log);
  AddProjections(engine);
  CUSTODIAN_RETURN_IF_ERROR(engine.CatchUp());
  Result<HandoverPlan> plan = PlanHandover(log, StateReader::Stored(log, kPortfolioProjection), request);
  if (!plan.ok()) return plan.status();

  Event e;
  e.id = EventId::FromSeed("handover.planned|" + plan->id);  // the same plan, the same id
  e.stream = "system";
  e.type = "handover.planned";
  e.actor = caller.principal;
  e.source = "custodian handover plan";
  e.occurred_at = request.now;
  e.data = HandoverPlannedData(*plan);
  // The plan and the record that its author read the customers in it go in
  // one atomic batch: a caller the rules refuse records no plan either.
  std::vector<std::string> shown;
  for (const HandoverItem& item : plan->items) shown.push_back(item.customer);
  const size_t count = shown.size();
  Result<std::vector<Event>> read = AccessEvents(
      Access{caller.principal, false, "handover_plan", std::move(shown), count, "", caller.interface}, request.now);
  if (!read.ok()) return read.status();
  std::vector<AppendRequest> batch;
  batch.push_back(AppendRequest{"system", ExpectedVersion::Any(), {std::move(e)}});
  batch.push_back(AppendRequest{read->front().stream, ExpectedVersion::Any(), std::move(*read)});
  Result<std::vector<AppendResult>> appended = log.AppendBatch(std::move(batch));
  if (!appended.ok()) return appended.status().WithContext("recording the plan");
  const uint64_t position = (*appended)[0].positions[0].value();
  // The read is recorded: the people to call are opened for it.
  CUSTODIAN_RETURN_IF_ERROR(OpenPeopleToCall(log, *plan));
  return PlannedHandover{std::move(*plan), position, request.now};
}

std::string PlannedHandoverToJson(const PlannedHandover& p) {
  const HandoverPlan& plan = p.plan;
  json::array customers;
  for (const HandoverItem& item : plan.items) {
    json::array people;
    for (const ContactView& v : item.people) people.push_back(Embedded(ContactViewToJson(v)));
    customers.push_back(json::object{
        {"customer", item.customer},
        {"name", item.name},
        {"group", item.group},
        {"owned", item.owned},
        {"successor", item.successor},
        {"open_deals", static_cast<uint64_t>(item.owned ? item.state.open_deals.size() : 0)},
        {"requests_held", Strings(item.requests_held)},
        {"commitments_held", Strings(item.commitments_held)},
        {"risks", Strings(item.risks)},
        {"people", std::move(people)},
        {"stream_version", item.stream_version},
    });
  }
  return json::serialize(json::object{
      {"handover_id", plan.id},
      {"from", plan.from},
      {"mode", plan.mode},
      {"planned_at", plan.planned_at.value()},
      {"event_position", p.position},
      {"open_deals", plan.open_deals},
      {"open_requests", plan.open_requests},
      {"open_commitments", plan.open_commitments},
      {"customers", std::move(customers)},
  });
}

// --- Execute ---

Result<HandoverExecution> CarryOutHandover(EventLog& log, const Caller& caller, const std::string& handover_id,
                                           Timestamp now) {
  auto folding = ProjectionLock();
  ProjectionEngine engine(log);
  AddProjections(engine);
  return ExecuteHandover(
      log, handover_id, caller.principal, now, [&] { return engine.CatchUp(); },
      StateReader::Stored(log, kPortfolioProjection));
}

std::string HandoverExecutionToJson(const HandoverExecution& run) {
  return json::serialize(json::object{
      {"handover_id", run.id},
      {"from", run.from},
      {"already_done", run.already_done},
      {"customers", run.customers},
      {"owners_changed", run.owners_changed},
      {"requests_moved", run.requests_moved},
      {"commitments_moved", run.commitments_moved},
      {"orphans", Strings(run.orphans)},
  });
}

// --- Report ---

std::string HandoverReport::Title() const {
  return "Handover " + handover_id + ": customers of " + from +
         (successor.empty() ? "" : ", briefing for " + successor);
}

namespace {

std::string DataString(const json::object& d, std::string_view key) {
  const json::value* v = d.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

struct RecordedPlan {
  std::string from;
  std::vector<std::pair<std::string, std::string>> assignments;  // customer, successor
};

// The handover.planned event of `handover_id`. NotFound when there is none;
// Corruption, naming the event, when its data is not a plan.
Result<RecordedPlan> FindPlan(const EventLog& log, const std::string& handover_id) {
  Result<std::vector<Event>> system = log.ReadStream("system", StreamVersion(0), Direction::kForward, SIZE_MAX);
  if (!system.ok()) return system.status();
  for (const Event& e : *system) {
    if (e.type != "handover.planned") continue;
    boost::system::error_code ec;
    json::value v = json::parse(e.data, ec);
    const auto malformed = [&](std::string_view why) {
      return Status::Corruption(fmt::format("handover.planned at position {}: {}", e.position.value(), why));
    };
    if (ec || !v.is_object()) return malformed("its data is not a JSON object");
    const json::object& d = v.get_object();
    if (DataString(d, "handover_id") != handover_id) continue;
    RecordedPlan plan{DataString(d, "from"), {}};
    const json::value* assignments = d.if_contains("assignments");
    if (plan.from.empty() || assignments == nullptr || !assignments->is_array()) {
      return malformed("it names no leaver (from) or no assignments");
    }
    for (const json::value& a : assignments->get_array()) {
      const json::object* o = a.if_object();
      if (o == nullptr || DataString(*o, "customer").empty() || DataString(*o, "to").empty()) {
        return malformed("an assignment names no customer or no successor (to)");
      }
      plan.assignments.emplace_back(DataString(*o, "customer"), DataString(*o, "to"));
    }
    return plan;
  }
  return Status::NotFound("no handover.planned with handover_id " + handover_id);
}

const char* AccessFormat(BriefingFormat f) {
  switch (f) {
    case BriefingFormat::kMarkdown:
      return "md";
    case BriefingFormat::kHtml:
      return "html";
    case BriefingFormat::kJsonLines:
      return "jsonl";
  }
  return "";
}

}  // namespace

Result<std::string> HandoverLeaver(const EventLog& log, const std::string& handover_id) {
  Result<RecordedPlan> plan = FindPlan(log, handover_id);
  if (!plan.ok()) return plan.status();
  return plan->from;
}

Result<std::vector<std::string>> HandoverCustomersFor(const EventLog& log, const std::string& handover_id,
                                                      const std::string& successor) {
  Result<RecordedPlan> plan = FindPlan(log, handover_id);
  if (!plan.ok()) return plan.status();
  std::vector<std::string> customers;
  for (const auto& [customer, to] : plan->assignments) {
    if (to == successor) customers.push_back(customer);
  }
  return customers;
}

Result<HandoverReport> PrepareHandoverReport(EventLog& log, const Caller& caller,
                                             const HandoverReportRequest& request) {
  Result<RecordedPlan> plan = FindPlan(log, request.handover_id);
  if (!plan.ok()) return plan.status();
  HandoverReport report{request.handover_id, plan->from, request.successor, request.now, {}};
  for (const auto& [customer, to] : plan->assignments) {
    if (!request.successor.empty() && to != request.successor) continue;
    Result<Replay> r = ReplayCustomer(log, customer, std::nullopt, AsOf::kKnowledge);
    if (!r.ok()) return r.status().WithContext(customer);
    CustomerBriefing b{customer, to, std::move(r->state), r->events.size(), std::nullopt, {}, {}};
    if (!r->events.empty()) b.first_at = r->events.front().occurred_at;
    for (auto it = r->events.rbegin(); it != r->events.rend() && b.conversations.size() < kBriefingConversations;
         ++it) {
      if (it->type == "interaction.logged") b.conversations.push_back(*it);
    }
    report.customers.push_back(std::move(b));
  }
  if (report.customers.empty()) {
    return Status::NotFound("handover " + request.handover_id + " gives " +
                            (request.successor.empty() ? std::string("no customers") : request.successor + " nothing"));
  }

  // A briefing that leaves the system is an export.
  Access read{caller.principal,
              request.exported_as.has_value(),
              "handover_report",
              {},
              0,
              request.exported_as ? AccessFormat(*request.exported_as) : "",
              caller.interface};
  for (const CustomerBriefing& b : report.customers) {
    read.customers.push_back(b.customer);
    read.records += b.events;
  }
  CUSTODIAN_RETURN_IF_ERROR(RecordRead(log, caller, read));

  // The read is recorded: the people and the conversations' personal notes are opened for it.
  const Status personal = log.PersonalStatus();
  const bool request_caller_sealed = caller.personal == PersonalData::kSealed;
  bool sealed = false;
  for (CustomerBriefing& b : report.customers) {
    Result<std::vector<ContactView>> people = OpenContacts(log, b.state);
    if (!people.ok()) return people.status().WithContext(b.customer);
    b.people = std::move(*people);
    if (request_caller_sealed) SealContacts(b.people, kPersonalSealedForRole);
    for (Event& e : b.conversations) {
      if (e.personal.empty() || request_caller_sealed) continue;
      if (!personal.ok()) {
        sealed = true;
        continue;
      }
      if (Status s = log.ShowPersonal(e); !s.ok()) {
        return s.WithContext("event at position " + std::to_string(e.position.value()));
      }
    }
  }
  if (sealed) {
    Warn("personal fields are shown sealed, because " + personal.message() + "; everything else is complete");
  }
  return report;
}

std::string HandoverReportToJson(const HandoverReport& r) {
  std::string out;
  for (const CustomerBriefing& b : r.customers) {
    json::array people, conversations;
    for (const ContactView& v : b.people) people.push_back(Embedded(ContactViewToJson(v)));
    for (const Event& e : b.conversations)
      conversations.push_back(Embedded(EventToJson(e, JsonFields::kWithLogFields)));
    out += json::serialize(json::object{
        {"handover_id", r.handover_id},
        {"from", r.from},
        {"customer", b.customer},
        {"successor", b.successor},
        {"state", Embedded(CustomerToJson(b.state))},
        {"people", std::move(people)},
        {"last_conversations", std::move(conversations)},
    });
    out += "\n";
  }
  return out;
}

namespace {

// For Markdown, inside a list item or heading: the characters that start
// emphasis, code, links, images, raw HTML or entities are escaped, so event
// data shows as text and can never become a link or markup (`<script>` and
// `[x](javascript:...)` print as written); line breaks and control
// characters are shown as OneLineText shows them, so no line can start a
// heading or a list of its own.
std::string MarkdownText(std::string_view s) {
  const std::string line = OneLineText(s, SIZE_MAX);
  std::string out;
  out.reserve(line.size() + 16);
  for (char c : line) {
    if (std::string_view("\\`*_[]<>&~").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  // What starts a block where the text starts a list item or a line: a
  // heading (#), a list (- + or 1. 1)), a table row (|), a setext underline
  // (=) or a thematic break: its first character, or the dot or parenthesis
  // after leading digits, escaped (any ASCII punctuation may be).
  // Spaces before it would still count (and four make a code block): they
  // are left out.
  out.erase(0, out.find_first_not_of(' '));
  const size_t digits = out.find_first_not_of("0123456789");
  if (digits != std::string::npos && digits > 0 && (out[digits] == '.' || out[digits] == ')')) {
    out.insert(digits, "\\");
  } else if (!out.empty() && std::string_view("#-+=|!").find(out.front()) != std::string_view::npos) {
    out.insert(0, "\\");
  }
  return out;
}

// "outbound call: <summary>" from an interaction.logged's data.
std::string Summary(const Event& e) {
  boost::system::error_code ec;
  json::value v = json::parse(e.data, ec);
  if (ec || !v.is_object()) return "";
  const json::object& d = v.get_object();
  const std::string summary = DataString(d, "summary");
  return DataString(d, "direction") + " " + DataString(d, "channel") + (summary.empty() ? "" : ": " + summary);
}

using Sections = std::vector<std::pair<std::string, std::vector<std::string>>>;

// The sections of one customer's briefing, as (heading, lines), shared by
// every document format.
Sections SectionsOf(const CustomerBriefing& b, Timestamp now) {
  const CustomerState& s = b.state;
  Sections out;
  out.push_back({"Who they are",
                 {(s.name.empty() ? b.customer : s.name) + " (" + b.customer + ")" +
                  (s.segment.empty() ? "" : ", " + s.segment) + (s.country.empty() ? "" : ", " + s.country) +
                  (s.group.empty() ? "" : ", group " + s.group) + ", status " + s.status}});
  std::vector<std::string> history = {std::to_string(b.events) + " events since " + Day(b.first_at),
                                      std::to_string(s.orders) + " orders; " + std::to_string(s.deals_won) +
                                          " deals won, " + std::to_string(s.deals_lost) + " lost",
                                      "owners: "};
  for (size_t i = 0; i < s.custody.size(); ++i) {
    history.back() +=
        (i ? ", " : "") + s.custody[i].owner + " from " + Day(s.custody[i].from) + " (" + s.custody[i].reason + ")";
  }
  out.push_back({"History in brief", history});
  std::vector<std::string> work;
  for (const auto& [id, d] : s.open_deals) {
    work.push_back(fmt::format("deal {} \"{}\": {} {}, stage {}{}", id, d.title, d.value.ToString(2), d.currency,
                               d.stage, d.expected_close_at ? ", expected to close " + Day(*d.expected_close_at) : ""));
  }
  for (const auto& [id, r] : s.open_requests) {
    work.push_back("request " + id + " \"" + r.title + "\", " + r.priority + ", opened " + Day(r.opened_at) +
                   (r.due_at ? ", due " + Day(*r.due_at) : "") +
                   (r.first_response_at ? ", answered " + Day(*r.first_response_at) : ", NOT YET ANSWERED"));
  }
  if (work.empty()) work.push_back("none");
  out.push_back({"Open work", work});
  std::vector<std::string> promises;
  for (const auto& [id, c] : s.open_commitments) {
    promises.push_back(id + ": " + c.promise + ", due " + Day(c.due_at) + DueMovedNote(c) +
                       (c.JudgedDue() < now ? " (OVERDUE)" : "") + ", promised " + Day(c.made_at));
  }
  if (promises.empty()) promises.push_back("none open");
  out.push_back({"Promises made on the company's behalf", promises});
  std::vector<std::string> people;
  for (const ContactView& v : b.people) people.push_back(PersonToCall(v) + "; " + LastConversation(v, 1000));
  if (people.empty()) people.push_back("no contacts recorded");
  out.push_back({"People to call", people});
  std::vector<std::string> talks;
  for (const Event& e : b.conversations) talks.push_back(Day(e.occurred_at) + " " + e.actor + ": " + Summary(e));
  if (talks.empty()) talks.push_back("no logged conversations");
  out.push_back({"Last conversations", talks});
  return out;
}

std::string NameOf(const CustomerBriefing& b) { return b.state.name.empty() ? b.customer : b.state.name; }

}  // namespace

std::string HandoverReportToMarkdown(const HandoverReport& r) {
  std::string doc = "# " + MarkdownText(r.Title()) + "\n\nPrepared " + FormatRfc3339(r.prepared_at) +
                    " from the Custodian log. " + std::to_string(r.customers.size()) + " customers.\n";
  for (const CustomerBriefing& b : r.customers) {
    doc += "\n## " + MarkdownText(NameOf(b)) + " (" + b.customer + ") -> " + b.successor + "\n";
    for (const auto& [heading, lines] : SectionsOf(b, r.prepared_at)) {
      doc += "\n### " + heading + "\n\n";
      for (const std::string& l : lines) doc += "- " + MarkdownText(l) + "\n";
    }
  }
  return doc;
}

std::string HandoverReportToHtml(const HandoverReport& r) {
  const std::string title = r.Title();
  std::string doc =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>" +
      HtmlText(title) +
      "</title>\n<style>body{font:11pt/1.45 system-ui,sans-serif;max-width:46em;margin:2em auto;color:#222}"
      "h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #999;margin-top:2em}"
      "h3{font-size:1em;margin:1em 0 .3em}ul{margin:0;padding-left:1.2em}"
      "@media print{body{margin:0}h2{break-before:page}h2:first-of-type{break-before:auto}}</style>"
      "</head>\n<body>\n<h1>" +
      HtmlText(title) + "</h1>\n<p>Prepared " + HtmlText(FormatRfc3339(r.prepared_at)) + " from the Custodian log. " +
      std::to_string(r.customers.size()) + " customers.</p>\n";
  for (const CustomerBriefing& b : r.customers) {
    doc += "<section>\n<h2>" + HtmlText(NameOf(b)) + " (" + HtmlText(b.customer) + ") &rarr; " + HtmlText(b.successor) +
           "</h2>\n";
    for (const auto& [heading, lines] : SectionsOf(b, r.prepared_at)) {
      doc += "<h3>" + HtmlText(heading) + "</h3>\n<ul>\n";
      for (const std::string& l : lines) doc += "<li>" + HtmlText(l) + "</li>\n";
      doc += "</ul>\n";
    }
    doc += "</section>\n";
  }
  doc += "</body></html>\n";
  return doc;
}

std::string HandoverReportDocument(const HandoverReport& r, BriefingFormat format) {
  switch (format) {
    case BriefingFormat::kMarkdown:
      return HandoverReportToMarkdown(r);
    case BriefingFormat::kHtml:
      return HandoverReportToHtml(r);
    case BriefingFormat::kJsonLines:
      return HandoverReportToJson(r);
  }
  return "";
}

}  // namespace custodian
