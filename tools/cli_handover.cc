// handover plan: what a leaver holds and who takes it over (replay/handover.h).
#include <boost/json.hpp>
#include <fmt/core.h>

#include <cstdio>

#include "core/json.h"
#include "core/sha256.h"
#include "core/time.h"
#include "replay/handover.h"
#include "replay/people.h"
#include "replay/portfolio.h"
#include "replay/projection.h"
#include "tools/cli.h"

namespace custodian::cli {
namespace {

std::string StaffArg(const std::string& id) {
  if (id.empty() || id.starts_with("staff-")) return id;
  return "staff-" + id;
}

// A person to call, on one line: "Petra Hartmann, head of fleet operations in
// operations (key contact, prefers call): phone +49 40 5550 1234, e-mail
// p.h@example.com";
// an erased person as "con-2002 (erased at position 41: reason), ...", one
// whose data cannot be opened as "con-2001 (sealed: why), ...". Personal
// values are cut to one line (OneLineText).
std::string PersonLine(const ContactView& v) {
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

// The last conversation with a person: "last conversation 2026-03-01 call
// (outbound) by staff-7: <its personal notes, at most `max_notes` bytes>".
std::string ConversationLine(const ContactView& v, size_t max_notes) {
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

void PrintItem(const HandoverItem& item, const std::string& leaver, Timestamp now) {
  const CustomerState& s = item.state;
  fmt::print("\n{}  {}  -> {}{}{}\n", item.customer, item.name.empty() ? "-" : item.name, item.successor,
             item.group.empty() ? "" : "   [group " + item.group + "]",
             item.owned ? "" : "   (owned by " + (s.owner.empty() ? std::string("nobody") : s.owner) + ")");
  if (item.owned) {
    for (const auto& [id, d] : s.open_deals) {
      fmt::print("  deal        {} {}: {} {}, stage {}\n", id, OneLineText(d.title, 40), d.value.ToString(2), d.currency,
                 d.stage);
    }
  }
  for (const auto& [id, r] : s.open_requests) {
    if (r.assignee != leaver && !item.owned) continue;
    fmt::print("  request     {} {} ({}, {} days old){}\n", id, OneLineText(r.title, 40), r.priority,
               (now.value() - r.opened_at.value()) / (86400LL * 1'000'000),
               r.assignee == leaver ? ", with " + leaver : r.assignee.empty() ? ", unassigned" : ", with " + r.assignee);
  }
  for (const auto& [id, c] : s.open_commitments) {
    if (c.owner != leaver && !item.owned) continue;
    fmt::print("  promise     {} {} due {}{}\n", id, OneLineText(c.promise, 40), Day(c.due_at),
               c.due_at < now ? " OVERDUE" : "");
  }
  for (const ContactView& v : item.people) {
    fmt::print("  call        {}\n", TerminalText(PersonLine(v)));
    fmt::print("              {}\n", TerminalText(ConversationLine(v, 200)));
  }
  if (s.last_contact) {
    fmt::print("  last        {} {} {} by {}\n", Day(s.last_contact->at), s.last_contact->direction,
               s.last_contact->channel, s.last_contact->by);
  }
  for (const std::string& r : item.risks) fmt::print("  RISK        {}\n", r);
}

std::string PlanJson(const HandoverPlan& plan, uint64_t event_position) {
  std::string out = fmt::format(
      "{{\"handover_id\":{},\"from\":{},\"mode\":{},\"planned_at\":{},\"event_position\":{},\"open_deals\":{},"
      "\"open_requests\":{},\"open_commitments\":{},\"customers\":[",
      JsonQuote(plan.id), JsonQuote(plan.from), JsonQuote(plan.mode), plan.planned_at.value(), event_position,
      plan.open_deals, plan.open_requests, plan.open_commitments);
  for (size_t i = 0; i < plan.items.size(); ++i) {
    const HandoverItem& item = plan.items[i];
    std::string requests = "[", commitments = "[", risks = "[";
    for (size_t j = 0; j < item.requests_held.size(); ++j) requests += (j ? "," : "") + JsonQuote(item.requests_held[j]);
    for (size_t j = 0; j < item.commitments_held.size(); ++j) {
      commitments += (j ? "," : "") + JsonQuote(item.commitments_held[j]);
    }
    for (size_t j = 0; j < item.risks.size(); ++j) risks += (j ? "," : "") + JsonQuote(item.risks[j]);
    std::string people = "[";
    for (size_t j = 0; j < item.people.size(); ++j) people += (j ? "," : "") + ContactViewToJson(item.people[j]);
    out += fmt::format(
        "{}{{\"customer\":{},\"name\":{},\"group\":{},\"owned\":{},\"successor\":{},\"open_deals\":{},"
        "\"requests_held\":{}],\"commitments_held\":{}],\"risks\":{}],\"people\":{}],\"stream_version\":{}}}",
        i ? "," : "", JsonQuote(item.customer), JsonQuote(item.name), JsonQuote(item.group), item.owned,
        JsonQuote(item.successor), item.owned ? item.state.open_deals.size() : 0, requests, commitments, risks, people,
        item.stream_version);
  }
  return out + "]}";
}

}  // namespace

int RunHandoverPlan(const Globals& g, const std::string& from, const std::string& to, const std::string& team,
                    bool json) {
  Result<std::string> reader = Reader(g, "handover plan");
  if (!reader.ok()) return UsageError(reader.status());
  // Planning records a handover.planned event, so it needs the store read-write.
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());
  ProjectionEngine engine(**log);
  AddProjections(engine);
  if (Status s = engine.CatchUp(); !s.ok()) return Fail(s);

  HandoverRequest request{StaffArg(from), StaffArg(to), team, SystemClock().Now()};
  Result<HandoverPlan> plan = PlanHandover(**log, StateReader::Stored(**log, kPortfolioProjection), request);
  if (!plan.ok()) {
    if (plan.status().code() == StatusCode::kNotFound) {
      fmt::print(stderr, "custodian: {}\n", plan.status().message());
      return kExitRejected;
    }
    return Fail(plan.status());
  }

  Event e;
  e.id = EventId::FromSeed("handover.planned|" + plan->id);  // the same plan, the same id
  e.stream = "system";
  e.type = "handover.planned";
  e.actor = "system:custodian";
  e.source = "custodian handover plan";
  e.occurred_at = request.now;
  e.data = HandoverPlannedData(*plan);
  // The plan and the record that its author read the customers in it go in
  // one atomic batch: a reader the rules refuse records no plan either.
  std::vector<std::string> shown;
  for (const HandoverItem& item : plan->items) shown.push_back(item.customer);
  Result<std::vector<Event>> read =
      AccessEvents(Access{*reader, false, "handover_plan", shown, shown.size(), "", "cli"}, request.now);
  if (!read.ok()) return Fail(read.status());
  std::vector<AppendRequest> batch;
  batch.push_back(AppendRequest{"system", ExpectedVersion::Any(), {std::move(e)}});
  batch.push_back(AppendRequest{read->front().stream, ExpectedVersion::Any(), std::move(*read)});
  Result<std::vector<AppendResult>> appended = (*log)->AppendBatch(std::move(batch));
  if (!appended.ok()) return Fail(appended.status().WithContext("recording the plan"));
  const uint64_t position = (*appended)[0].positions[0].value();
  // The read is recorded: the people to call are opened for it.
  if (Status s = OpenPeopleToCall(**log, *plan); !s.ok()) return Fail(s);

  if (json) {
    fmt::print("{}\n", PlanJson(*plan, position));
    return kExitOk;
  }
  fmt::print("Handover {}: {}'s customers and open work, {} (recorded at position {})\n", plan->id, plan->from,
             plan->mode, position);
  fmt::print("{} customers, {} open deals, {} open requests and {} open commitments to hand over\n",
             plan->items.size(), plan->open_deals, plan->open_requests, plan->open_commitments);
  std::string split;
  for (const auto& [staff, n] : plan->customers_per_successor) split += fmt::format("{}{} ({})", split.empty() ? "" : ", ", staff, n);
  fmt::print("successors: {}\n", split);
  for (const HandoverItem& item : plan->items) PrintItem(item, plan->from, request.now);
  return kExitOk;
}

int RunHandoverExecute(const Globals& g, const std::string& handover_id, bool json) {
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());
  ProjectionEngine engine(**log);
  AddProjections(engine);
  Result<HandoverExecution> run =
      ExecuteHandover(**log, handover_id, "system:custodian", SystemClock().Now(), [&] { return engine.CatchUp(); },
                      StateReader::Stored(**log, kPortfolioProjection));
  if (!run.ok()) {
    if (run.status().code() == StatusCode::kNotFound) {
      fmt::print(stderr, "custodian: {}\n", run.status().message());
      return kExitRejected;
    }
    return Fail(run.status());
  }
  if (json) {
    std::string orphans = "[";
    for (size_t i = 0; i < run->orphans.size(); ++i) orphans += (i ? "," : "") + JsonQuote(run->orphans[i]);
    fmt::print("{{\"handover_id\":{},\"from\":{},\"already_done\":{},\"customers\":{},\"owners_changed\":{},"
               "\"requests_moved\":{},\"commitments_moved\":{},\"orphans\":{}]}}\n",
               JsonQuote(run->id), JsonQuote(run->from), run->already_done, run->customers, run->owners_changed,
               run->requests_moved, run->commitments_moved, orphans);
  } else if (run->already_done) {
    fmt::print("handover {} was already executed; nothing changed\n", run->id);
  } else {
    fmt::print("handover {} executed: {} customers of {}, {} ownership changes, {} requests and {} commitments "
               "moved\n",
               run->id, run->customers, run->from, run->owners_changed, run->requests_moved, run->commitments_moved);
    if (run->orphans.empty()) {
      fmt::print("nothing is left with {}\n", run->from);
    } else {
      fmt::print("still with {} (see custodian orphans):", run->from);
      for (const std::string& o : run->orphans) fmt::print(" {}", o);
      fmt::print("\n");
    }
  }
  return kExitOk;
}

// --- handover report: the successor's briefing ---

namespace {

struct Briefing {
  std::string customer, successor;
  CustomerState state;
  std::vector<Event> conversations;  // the last logged interactions, newest first
  uint64_t events = 0;
  std::optional<Timestamp> first_at;
  std::vector<ContactView> people;  // opened once the read is recorded
};

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

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
  return out;
}

std::string Summary(const Event& e) {
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(e.data, ec);
  if (ec || !v.is_object()) return "";
  const auto& d = v.get_object();
  auto s = [&](const char* k) {
    auto it = d.find(k);
    return it != d.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
  };
  return s("direction") + " " + s("channel") + (s("summary").empty() ? "" : ": " + s("summary"));
}

// Sections of one customer, as (heading, lines) pairs, shared by every format.
std::vector<std::pair<std::string, std::vector<std::string>>> Sections(const Briefing& b, Timestamp now) {
  const CustomerState& s = b.state;
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  out.push_back({"Who they are",
                 {(s.name.empty() ? b.customer : s.name) + " (" + b.customer + ")" +
                      (s.segment.empty() ? "" : ", " + s.segment) + (s.country.empty() ? "" : ", " + s.country) +
                      (s.group.empty() ? "" : ", group " + s.group) + ", status " + s.status}});
  std::vector<std::string> history = {
      std::to_string(b.events) + " events since " + (b.first_at ? Day(*b.first_at) : std::string("-")),
      std::to_string(s.orders) + " orders; " + std::to_string(s.deals_won) + " deals won, " +
          std::to_string(s.deals_lost) + " lost",
      "owners: "};
  for (size_t i = 0; i < s.custody.size(); ++i) {
    history.back() += (i ? ", " : "") + s.custody[i].owner + " from " + Day(s.custody[i].from) + " (" +
                      s.custody[i].reason + ")";
  }
  out.push_back({"History in brief", history});
  std::vector<std::string> work;
  for (const auto& [id, d] : s.open_deals) {
    work.push_back(fmt::format("deal {} \"{}\": {} {}, stage {}{}", id, d.title, d.value.ToString(2), d.currency, d.stage,
                               d.expected_close_at ? ", expected to close " + Day(*d.expected_close_at) : ""));
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
    promises.push_back(id + ": " + c.promise + ", due " + Day(c.due_at) + (c.due_at < now ? " (OVERDUE)" : "") +
                       ", promised " + Day(c.made_at));
  }
  if (promises.empty()) promises.push_back("none open");
  out.push_back({"Promises made on the company's behalf", promises});
  std::vector<std::string> people;
  for (const ContactView& v : b.people) {
    people.push_back(PersonLine(v) + "; " + ConversationLine(v, 1000));
  }
  if (people.empty()) people.push_back("no contacts recorded");
  out.push_back({"People to call", people});
  std::vector<std::string> talks;
  for (const Event& e : b.conversations) talks.push_back(Day(e.occurred_at) + " " + e.actor + ": " + Summary(e));
  if (talks.empty()) talks.push_back("no logged conversations");
  out.push_back({"Last conversations", talks});
  return out;
}

}  // namespace

int RunHandoverReport(const Globals& g, const std::string& handover_id, const std::string& format,
                      const std::string& for_staff, const std::string& out_path) {
  if (format != "md" && format != "html" && format != "json") {
    fmt::print(stderr, "custodian: --format must be md, html or json\n");
    return kExitUsage;
  }
  Result<std::string> reader = Reader(g, "handover report");
  if (!reader.ok()) return UsageError(reader.status());
  Result<std::unique_ptr<EventLog>> log = OpenForReading(g);
  if (!log.ok()) return Fail(log.status());
  Result<std::vector<Event>> system = (*log)->ReadStream("system", StreamVersion(0), Direction::kForward, SIZE_MAX);
  if (!system.ok()) return Fail(system.status());
  std::string from;
  std::vector<std::pair<std::string, std::string>> assignments;  // customer, successor
  for (const Event& e : *system) {
    if (e.type != "handover.planned") continue;
    boost::json::value v = boost::json::parse(e.data);
    const auto& d = v.get_object();
    if (d.at("handover_id").get_string() != handover_id) continue;
    from = std::string(d.at("from").get_string());
    for (const auto& a : d.at("assignments").get_array()) {
      assignments.emplace_back(std::string(a.at("customer").get_string()), std::string(a.at("to").get_string()));
    }
  }
  if (from.empty()) {
    fmt::print(stderr, "custodian: no handover.planned with handover_id {}\n", handover_id);
    return kExitRejected;
  }
  const std::string successor = StaffArg(for_staff);
  const Timestamp now = SystemClock().Now();
  std::vector<Briefing> briefings;
  for (const auto& [customer, to] : assignments) {
    if (!successor.empty() && to != successor) continue;
    Result<Replay> r = ReplayCustomer(**log, customer, std::nullopt, AsOf::kKnowledge);
    if (!r.ok()) return Fail(r.status());
    Briefing b{customer, to, r->state, {}, r->events.size(), std::nullopt, {}};
    if (!r->events.empty()) b.first_at = r->events.front().occurred_at;
    for (auto it = r->events.rbegin(); it != r->events.rend() && b.conversations.size() < 5; ++it) {
      if (it->type == "interaction.logged") b.conversations.push_back(*it);
    }
    briefings.push_back(std::move(b));
  }
  if (briefings.empty()) {
    fmt::print(stderr, "custodian: handover {} gives {} nothing\n", handover_id, successor);
    return kExitRejected;
  }

  {
    // A briefing written to a file leaves the system: an export.
    std::vector<std::string> shown;
    uint64_t records = 0;
    for (const Briefing& b : briefings) {
      shown.push_back(b.customer);
      records += b.events;
    }
    const Access read{*reader, !out_path.empty(), "handover_report", shown, records,
                      out_path.empty() ? "" : (format == "json" ? "jsonl" : format), "cli"};
    if (Status recorded = RecordAccess(g, **log, read); !recorded.ok()) return Fail(recorded);
  }
  // The read is recorded: the people and the conversations' personal notes are opened for it.
  for (Briefing& b : briefings) {
    Result<std::vector<ContactView>> people = OpenContacts(**log, b.state);
    if (!people.ok()) return Fail(people.status());
    b.people = std::move(*people);
    for (Event& e : b.conversations) {
      Result<Event> opened = OpenedForDisplay(**log, e);
      if (!opened.ok()) return Fail(opened.status().WithContext("event at position " + std::to_string(e.position.value())));
      e = std::move(*opened);
    }
  }
  const std::string title = "Handover " + handover_id + ": customers of " + from +
                            (successor.empty() ? "" : ", briefing for " + successor);
  std::string doc;
  if (format == "json") {
    for (const Briefing& b : briefings) {
      std::string people = "[";
      for (size_t i = 0; i < b.people.size(); ++i) people += (i ? "," : "") + ContactViewToJson(b.people[i]);
      doc += fmt::format("{{\"handover_id\":{},\"from\":{},\"customer\":{},\"successor\":{},\"state\":{},"
                         "\"people\":{}],\"last_conversations\":[",
                         JsonQuote(handover_id), JsonQuote(from), JsonQuote(b.customer), JsonQuote(b.successor),
                         CustomerToJson(b.state), people);
      for (size_t i = 0; i < b.conversations.size(); ++i) {
        doc += (i ? "," : "") + EventToJson(b.conversations[i], JsonFields::kWithLogFields);
      }
      doc += "]}\n";
    }
  } else if (format == "md") {
    doc = "# " + MarkdownText(title) + "\n\nPrepared " + FormatRfc3339(now) + " from the Custodian log. " +
          std::to_string(briefings.size()) + " customers.\n";
    for (const Briefing& b : briefings) {
      doc += "\n## " + MarkdownText(b.state.name.empty() ? b.customer : b.state.name) + " (" + b.customer +
             ") -> " + b.successor + "\n";
      for (const auto& [heading, lines] : Sections(b, now)) {
        doc += "\n### " + heading + "\n\n";
        for (const std::string& l : lines) doc += "- " + MarkdownText(l) + "\n";
      }
    }
  } else {
    doc = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + Escape(title) +
          "</title>\n<style>body{font:11pt/1.45 system-ui,sans-serif;max-width:46em;margin:2em auto;color:#222}"
          "h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #999;margin-top:2em}"
          "h3{font-size:1em;margin:1em 0 .3em}ul{margin:0;padding-left:1.2em}"
          "@media print{body{margin:0}h2{break-before:page}h2:first-of-type{break-before:auto}}</style>"
          "</head>\n<body>\n<h1>" +
          Escape(title) + "</h1>\n<p>Prepared " + Escape(FormatRfc3339(now)) + " from the Custodian log. " +
          std::to_string(briefings.size()) + " customers.</p>\n";
    for (const Briefing& b : briefings) {
      doc += "<section>\n<h2>" + Escape(b.state.name.empty() ? b.customer : b.state.name) + " (" +
             Escape(b.customer) + ") &rarr; " + Escape(b.successor) + "</h2>\n";
      for (const auto& [heading, lines] : Sections(b, now)) {
        doc += "<h3>" + Escape(heading) + "</h3>\n<ul>\n";
        for (const std::string& l : lines) doc += "<li>" + Escape(l) + "</li>\n";
        doc += "</ul>\n";
      }
      doc += "</section>\n";
    }
    doc += "</body></html>\n";
  }
  if (out_path.empty()) {
    std::fwrite(doc.data(), 1, doc.size(), stdout);
    return kExitOk;
  }
  std::FILE* f = std::fopen(out_path.c_str(), "wb");
  if (f == nullptr || std::fwrite(doc.data(), 1, doc.size(), f) != doc.size() || std::fclose(f) != 0) {
    return Fail(Status::IoError("cannot write " + out_path));
  }
  fmt::print("wrote {} ({} customers)\n", out_path, briefings.size());
  return kExitOk;
}

}  // namespace custodian::cli
