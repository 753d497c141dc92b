// Customer commands: customer show, timeline, custody; rebuild.
#include <unistd.h>

#include <boost/json.hpp>
#include <fmt/core.h>

#include <map>

#include "core/json.h"
#include "core/time.h"
#include "core/validation.h"
#include "replay/access.h"
#include "replay/accountability.h"
#include "replay/alerts.h"
#include "replay/customer.h"
#include "replay/people.h"
#include "replay/portfolio.h"
#include "replay/projection.h"
#include "replay/silent.h"
#include "tools/cli.h"

namespace custodian::cli {
namespace {

// What a contact's personal fields say in a listing: the value of `field`
// (or of `fallback` when it is absent), at most `max` bytes on one line.
std::string PersonalText(const OpenedPersonal& p, std::string_view field, std::string_view fallback, size_t max) {
  std::string v = p.Field(field);
  if (v.empty() && !fallback.empty()) v = p.Field(fallback);
  return v.empty() ? "-" : OneLineText(v, max);
}

// The contacts, their personal fields opened at read time (replay/people.h):
// name, role, phone and e-mail; the erasure's position and reason for an
// erased person; "sealed" and why when they cannot be opened.
void PrintContacts(const std::vector<ContactView>& people) {
  if (people.empty()) return;
  fmt::print("\n  CONTACTS\n");
  for (const ContactView& v : people) {
    const CustomerState::Contact& c = v.contact;
    std::string about = c.department;
    if (!c.preferred_channel.empty()) about += (about.empty() ? "" : ", ") + ("prefers " + c.preferred_channel);
    if (c.key_contact) about += (about.empty() ? "" : ", ") + std::string("key contact");
    const std::string role = c.role.empty() ? "-" : OneLineText(c.role, 26);
    switch (v.personal.state) {
      case OpenedPersonal::State::kOpen:
      case OpenedPersonal::State::kNone:
        fmt::print("  {:<16} {:<24} {:<26} {:<18} {:<44} {}\n", v.contact_id, PersonalText(v.personal, "name", "", 24),
                   role, PersonalText(v.personal, "phone", "mobile", 18), PersonalText(v.personal, "email", "", 44),
                   about);
        break;
      case OpenedPersonal::State::kErased:
        fmt::print("  {:<16} {:<24} {:<26} erased at position {}: {}{}\n", v.contact_id, "(erased)", role,
                   v.personal.erased_position ? std::to_string(*v.personal.erased_position) : std::string("?"),
                   TerminalText(v.personal.erased_reason), about.empty() ? "" : "   " + about);
        break;
      case OpenedPersonal::State::kUnavailable:
        fmt::print("  {:<16} {:<24} {:<26} sealed: {}{}\n", v.contact_id, "(sealed)", role, TerminalText(v.personal.why),
                   about.empty() ? "" : "   " + about);
        break;
    }
  }
}

void PrintCustomer(const CustomerState& s, const std::vector<ContactView>& people, Timestamp now) {
  fmt::print("{}  {}\n", s.id, s.name.empty() ? "(no name registered)" : s.name);
  fmt::print("  status {}   segment {}   country {}   group {}   team {}\n", s.status, s.segment.empty() ? "-" : s.segment,
             s.country.empty() ? "-" : s.country, s.group.empty() ? "-" : s.group, s.team.empty() ? "-" : s.team);
  fmt::print("  owner {}", s.owner.empty() ? "nobody" : s.owner);
  if (!s.custody.empty()) {
    fmt::print(" since {} ({})", Day(s.custody.back().from), s.custody.back().reason);
  }
  fmt::print("\n  last contact: ");
  if (s.last_contact) {
    const int64_t days = (now.value() - s.last_contact->at.value()) / (86400LL * 1'000'000);
    fmt::print("{} {} {} by {} ({} days ago)\n", Day(s.last_contact->at), s.last_contact->direction,
               s.last_contact->channel, s.last_contact->by, days);
  } else {
    fmt::print("none logged\n");
  }
  fmt::print("  orders: {}", s.orders);
  for (const auto& [currency, v] : s.order_value) fmt::print("  {} {}", v.ToString(2), currency);
  fmt::print("   deals won {} lost {}   commitments kept {} late {} cancelled {}\n", s.deals_won, s.deals_lost,
             s.commitments_kept, s.commitments_late, s.commitments_cancelled);
  PrintContacts(people);
  if (!s.open_deals.empty()) {
    fmt::print("\n  OPEN DEALS\n");
    for (const auto& [id, d] : s.open_deals) {
      fmt::print("  {:<12} {:<34} {:>12} {:<4} {:<14} opened {} by {}\n", id, OneLineText(d.title, 34), d.value.ToString(2),
                 d.currency, d.stage, Day(d.opened_at), d.owner);
    }
  }
  if (!s.open_requests.empty()) {
    fmt::print("\n  OPEN REQUESTS\n");
    for (const auto& [id, r] : s.open_requests) {
      fmt::print("  {:<12} {:<34} {:<8} opened {} assignee {:<10} {}\n", id, OneLineText(r.title, 34), r.priority,
                 Day(r.opened_at), r.assignee.empty() ? "-" : r.assignee,
                 r.first_response_at ? "answered " + Day(r.first_response_at) : std::string("NOT ANSWERED"));
    }
  }
  if (!s.open_commitments.empty()) {
    fmt::print("\n  OPEN COMMITMENTS\n");
    for (const auto& [id, c] : s.open_commitments) {
      fmt::print("  {:<12} {:<44} due {}{}  by {}\n", id, OneLineText(c.promise, 44), Day(c.due_at),
                 c.due_at < now ? " OVERDUE" : "", c.owner);
    }
  }
}

// One line, in words, for the timeline.
std::string Describe(const Event& e) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(e.data, ec);
  const boost::json::object empty;
  const boost::json::object& d = !ec && v.is_object() ? v.get_object() : empty;
  auto s = [&](std::string_view k) {
    auto it = d.find(k);
    if (it == d.end() || it->value().is_null()) return std::string();
    if (it->value().is_string()) return std::string(it->value().get_string());
    // Numbers as written (an amount keeps its digits), not as Boost re-prints them.
    return std::string(JsonMemberText(e.data, k).value_or(""));
  };
  const std::string& t = e.type;
  if (t == "customer.registered") return "registered as " + s("name");
  if (t == "customer.updated") return "details updated: " + OneLineText(e.data, 80);
  if (t == "customer.owner_assigned") {
    return "owner " + (s("previous_owner").empty() ? std::string() : s("previous_owner") + " -> ") + s("owner") +
           " (" + s("reason") + (s("handover_id").empty() ? "" : ", handover " + s("handover_id")) + ")";
  }
  if (t == "customer.team_changed") return "team set to " + s("team");
  if (t == "interaction.logged") {
    return s("direction") + " " + s("channel") + (s("summary").empty() ? "" : ": " + s("summary"));
  }
  if (t == "note.added") return "note: " + s("text");
  if (t == "deal.opened") return "deal " + s("deal_id") + " opened: " + s("title") + ", " + s("value") + " " + s("currency");
  if (t == "deal.stage_changed") return "deal " + s("deal_id") + " moved to " + s("stage");
  if (t == "deal.won") return "deal " + s("deal_id") + " WON" + (s("value").empty() ? "" : ", " + s("value"));
  if (t == "deal.lost") return "deal " + s("deal_id") + " lost" + (s("reason").empty() ? "" : ": " + s("reason"));
  if (t == "order.placed") return "order " + s("order_id") + ": " + s("value") + " " + s("currency");
  if (t == "request.opened") return "request " + s("request_id") + " opened: " + s("title");
  if (t == "request.assigned") return "request " + s("request_id") + " assigned to " + s("assignee");
  if (t == "request.responded") return "request " + s("request_id") + " answered" + (s("summary").empty() ? "" : ": " + s("summary"));
  if (t == "request.resolved") return "request " + s("request_id") + " resolved";
  if (t == "request.reopened") return "request " + s("request_id") + " reopened";
  if (t == "commitment.made") return "promised (" + s("commitment_id") + "): " + s("promise") + ", due " + s("due_at").substr(0, 10);
  if (t == "commitment.fulfilled") return "promise " + s("commitment_id") + " kept";
  if (t == "commitment.cancelled") return "promise " + s("commitment_id") + " cancelled: " + s("reason");
  if (t == "contact.added") return "contact " + s("contact_id") + " added (" + s("role") + ")";
  if (t == "contact.updated") return "contact " + s("contact_id") + " updated";
  if (t == "contact.removed") return "contact " + s("contact_id") + " removed";
  return OneLineText(e.data, 80);
}

}  // namespace

int RunCustomerShow(const Globals& g, const std::string& id, const std::string& as_of,
                    const std::string& as_of_business, bool json) {
  Result<std::string> stream = CustomerStream(id);
  if (!stream.ok()) return Fail(stream.status());
  Result<std::string> reader = Reader(g, "customer show");
  if (!reader.ok()) return UsageError(reader.status());
  if (!as_of.empty() && !as_of_business.empty()) {
    fmt::print(stderr, "custodian: give --as-of or --as-of-business, not both\n");
    return kExitUsage;
  }
  Result<std::optional<Timestamp>> knowledge = OptionalTime(as_of, "--as-of");
  Result<std::optional<Timestamp>> business = OptionalTime(as_of_business, "--as-of-business");
  if (!knowledge.ok()) return Fail(knowledge.status());
  if (!business.ok()) return Fail(business.status());
  const Timestamp now = SystemClock().Now();

  if (*knowledge || *business) {
    Result<std::unique_ptr<EventLog>> log = OpenForReading(g);
    if (!log.ok()) return Fail(log.status());
    const AsOf mode = *knowledge ? AsOf::kKnowledge : AsOf::kBusiness;
    const Timestamp at = *knowledge ? **knowledge : **business;
    Result<Replay> r = ReplayCustomer(**log, *stream, at, mode);
    if (!r.ok()) return Fail(r.status());
    const Access read{*reader, false, "customer_as_of", {*stream}, r->events.size(), "", "cli"};
    if (Status recorded = RecordAccess(g, **log, read); !recorded.ok()) return Fail(recorded);
    // The read is recorded: the contacts' personal fields are opened for it.
    Result<std::vector<ContactView>> people = OpenContacts(**log, r->state);
    if (!people.ok()) return Fail(people.status());
    if (json) {
      std::string late = "[";
      for (size_t i = 0; i < r->late.size(); ++i) late += (i ? "," : "") + std::to_string(r->late[i].position.value());
      std::string unknown = "[";
      for (size_t i = 0; i < r->not_yet_known.size(); ++i) {
        unknown += (i ? "," : "") + std::to_string(r->not_yet_known[i].position.value());
      }
      fmt::print("{{\"as_of\":\"{}\",\"by\":\"{}\",\"customer\":{},\"events_folded\":{},\"late_positions\":{}],"
                 "\"not_known_then_positions\":{}]}}\n",
                 FormatRfc3339(at), mode == AsOf::kKnowledge ? "knowledge" : "business",
                 CustomerWithPeopleToJson(r->state, *people),
                 r->events.size(), late, unknown);
      return kExitOk;
    }
    fmt::print("{} as of {} ({}): {} events folded\n", *stream, FormatRfc3339(at),
               mode == AsOf::kKnowledge ? "what was recorded by then" : "what had happened by then",
               r->events.size());
    for (const Event& e : r->late) {
      fmt::print("  LATE ENTRY: position {} ({}) occurred {} but was recorded {}\n", e.position.value(), e.type,
                 Minute(e.occurred_at), Minute(e.recorded_at));
    }
    for (const Event& e : r->not_yet_known) {
      fmt::print("  NOT KNOWN THEN: position {} ({}) occurred {} but was only recorded {}\n", e.position.value(),
                 e.type, Minute(e.occurred_at), Minute(e.recorded_at));
    }
    fmt::print("\n");
    PrintCustomer(r->state, *people, at);
    return kExitOk;
  }

  bool caught_up = false;
  Result<std::unique_ptr<EventLog>> log = OpenForQuery(g, &caught_up);
  if (!log.ok()) return Fail(log.status());
  // When another process holds the store, its stored projection may lag:
  // replay this customer's stream through the same fold instead (cheap).
  Result<CustomerState> s = caught_up ? LoadCustomer(**log, *stream) : [&]() -> Result<CustomerState> {
    Result<Replay> r = ReplayCustomer(**log, *stream, std::nullopt, AsOf::kKnowledge);
    if (!r.ok()) return r.status();
    if (r->events.empty()) return Status::NotFound(*stream + " has no events");
    return std::move(r->state);
  }();
  if (!s.ok()) {
    if (s.status().code() == StatusCode::kNotFound) {
      fmt::print(stderr, "custodian: {} has no events\n", *stream);
      return kExitRejected;
    }
    return Fail(s.status());
  }
  if (Status recorded = RecordAccess(g, **log, Access{*reader, false, "customer_profile", {*stream}, 1, "", "cli"});
      !recorded.ok()) {
    return Fail(recorded);
  }
  // The read is recorded: the contacts' personal fields are opened for it.
  Result<std::vector<ContactView>> people = OpenContacts(**log, *s);
  if (!people.ok()) return Fail(people.status());
  if (json) {
    fmt::print("{}\n", CustomerWithPeopleToJson(*s, *people));
  } else {
    PrintCustomer(*s, *people, now);
  }
  return kExitOk;
}

int RunCustomerTimeline(const Globals& g, const std::string& id, bool json) {
  Result<std::string> stream = CustomerStream(id);
  if (!stream.ok()) return Fail(stream.status());
  Result<std::string> reader = Reader(g, "customer timeline");
  if (!reader.ok()) return UsageError(reader.status());
  Result<std::unique_ptr<EventLog>> log = OpenForReading(g);
  if (!log.ok()) return Fail(log.status());
  Result<Replay> r = ReplayCustomer(**log, *stream, std::nullopt, AsOf::kKnowledge);
  if (!r.ok()) return Fail(r.status());
  if (r->events.empty()) {
    fmt::print(stderr, "custodian: {} has no events\n", *stream);
    return kExitRejected;
  }
  if (Status recorded = RecordAccess(g, **log, Access{*reader, false, "timeline", {*stream}, r->events.size(), "", "cli"});
      !recorded.ok()) {
    return Fail(recorded);
  }
  // Corrections and retractions name the event they fix by id: show both.
  std::map<std::string, const Event*> by_id;
  std::map<std::string, std::vector<const Event*>> fixes;
  for (const Event& e : r->events) {
    by_id[e.id.ToString()] = &e;
    if (e.type == "event.corrected" || e.type == "event.retracted") {
      boost::system::error_code ec;
      boost::json::value v = boost::json::parse(e.data, ec);
      if (!ec && v.is_object() && v.get_object().contains("event_id") && v.get_object().at("event_id").is_string()) {
        fixes[std::string(v.get_object().at("event_id").get_string())].push_back(&e);
      }
    }
  }
  for (const Event& original : r->events) {
    Result<Event> opened = OpenedForDisplay(**log, original);
    if (!opened.ok()) return Fail(opened.status());
    const Event& e = *opened;
    if (json) {
      fmt::print("{}\n", EventToJson(e, JsonFields::kWithLogFields));
      continue;
    }
    const bool late = e.recorded_at.value() - e.occurred_at.value() > kLateAfterMicros;
    fmt::print("{}  {:<10} {:<24} {}{}\n", Minute(e.occurred_at), e.actor, e.type, TerminalText(Describe(e)),
               late ? "  [LATE: recorded " + Minute(e.recorded_at) + "]" : "");
    if (!e.personal_plain.empty()) fmt::print("{:18}{:<36}personal: {}\n", "", "", TerminalText(e.personal_plain));
    if (auto it = fixes.find(e.id.ToString()); it != fixes.end()) {
      for (const Event* f : it->second) {
        fmt::print("{:18}  ^ {} by {} at position {}: {}\n", "",
                   f->type == "event.corrected" ? "corrected" : "retracted", f->actor, f->position.value(),
                   OneLineText(f->data, 80));
      }
    }
  }
  return kExitOk;
}

int RunCustomerCustody(const Globals& g, const std::string& id, const std::string& at, const std::string& request,
                       bool json) {
  Result<std::string> stream = CustomerStream(id);
  if (!stream.ok()) return Fail(stream.status());
  Result<std::string> reader = Reader(g, "customer custody");
  if (!reader.ok()) return UsageError(reader.status());
  Result<std::optional<Timestamp>> when = OptionalTime(at, "--at");
  if (!when.ok()) return Fail(when.status());
  Result<std::unique_ptr<EventLog>> log = OpenForReading(g);
  if (!log.ok()) return Fail(log.status());
  Result<Replay> r = ReplayCustomer(**log, *stream, std::nullopt, AsOf::kKnowledge);
  if (!r.ok()) return Fail(r.status());
  if (r->events.empty()) {
    fmt::print(stderr, "custodian: {} has no events\n", *stream);
    return kExitRejected;
  }
  const CustomerState& s = r->state;
  if (Status recorded = RecordAccess(g, **log, Access{*reader, false, "custody", {*stream}, s.custody.size(), "", "cli"});
      !recorded.ok()) {
    return Fail(recorded);
  }
  if (!request.empty()) {
    if (!*when) {
      fmt::print(stderr, "custodian: --request needs --at: who was responsible for it when?\n");
      return kExitUsage;
    }
    if (!s.request_history.count(request)) {
      fmt::print(stderr, "custodian: {} has no request {}\n", s.id, request);
      return kExitRejected;
    }
    std::optional<std::string> who = ResponsibleAt(s, request, **when);
    if (json) {
      fmt::print("{{\"customer\":{},\"request\":{},\"at\":\"{}\",\"responsible\":{}}}\n", JsonQuote(s.id),
                 JsonQuote(request), FormatRfc3339(**when), who ? JsonQuote(*who) : "null");
    } else if (who) {
      fmt::print("request {} of {} was with {} at {}\n", request, s.id, *who, FormatRfc3339(**when));
    } else {
      fmt::print("request {} of {} was not open at {}\n", request, s.id, FormatRfc3339(**when));
    }
    return kExitOk;
  }
  if (*when) {
    std::optional<CustomerState::Custody> c = OwnerAt(s, **when);
    if (json) {
      fmt::print("{{\"customer\":{},\"at\":\"{}\",\"owner\":{},\"reason\":{},\"since\":{}}}\n", JsonQuote(s.id),
                 FormatRfc3339(**when), c ? JsonQuote(c->owner) : "null", c ? JsonQuote(c->reason) : "null",
                 c ? "\"" + FormatRfc3339(c->from) + "\"" : "null");
    } else if (c) {
      fmt::print("{} was owned by {} at {} (since {}, {})\n", s.id, c->owner, FormatRfc3339(**when),
                 FormatRfc3339(c->from), c->reason);
    } else {
      fmt::print("{} had no owner at {}\n", s.id, FormatRfc3339(**when));
    }
    return kExitOk;
  }
  if (!json) fmt::print("{:<12} {:<17} {:<17} {:<10} {:<10} {}\n", "OWNER", "FROM (UTC)", "TO (UTC)", "REASON", "BY", "HANDOVER");
  for (const auto& c : s.custody) {
    if (json) {
      fmt::print("{{\"customer\":{},\"owner\":{},\"from\":\"{}\",\"to\":{},\"reason\":{},\"previous_owner\":{},"
                 "\"handover_id\":{},\"assigned_by\":{},\"position\":{}}}\n",
                 JsonQuote(s.id), JsonQuote(c.owner), FormatRfc3339(c.from),
                 c.to ? "\"" + FormatRfc3339(*c.to) + "\"" : "null", JsonQuote(c.reason), JsonQuote(c.previous_owner),
                 JsonQuote(c.handover_id), JsonQuote(c.assigned_by), c.position);
    } else {
      fmt::print("{:<12} {:<17} {:<17} {:<10} {:<10} {}\n", c.owner, Minute(c.from), c.to ? Minute(*c.to) : "now",
                 c.reason, c.assigned_by, c.handover_id.empty() ? "-" : c.handover_id);
    }
  }
  return kExitOk;
}

int RunRebuild(const Globals& g, const std::string& name, bool json) {
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());
  ProjectionEngine engine(**log);
  AddProjections(engine);
  std::vector<std::string> names = name.empty() ? engine.Names() : std::vector<std::string>{name};
  const bool show_progress = ::isatty(STDERR_FILENO) && !json;
  for (const std::string& n : names) {
    if (engine.Find(n) == nullptr) {
      std::string known;
      for (const auto& k : engine.Names()) known += (known.empty() ? "" : ", ") + k;
      return Fail(Status::InvalidArgument("no projection named " + n + "; the projections are " + known));
    }
    const auto start = std::chrono::steady_clock::now();
    Status s = engine.Rebuild(n, [&](uint64_t done, uint64_t total) {
      if (show_progress) fmt::print(stderr, "\rrebuilding {}: {} of {} events", n, Thousands(done), Thousands(total));
    });
    if (show_progress) fmt::print(stderr, "\r{:<70}\r", "");
    if (!s.ok()) return Fail(s);
    Result<std::string> digest = engine.Digest(n);
    if (!digest.ok()) return Fail(digest.status());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (json) {
      fmt::print("{{\"projection\":{},\"events\":{},\"digest\":\"{}\",\"seconds\":{:.3f}}}\n", JsonQuote(n),
                 (*log)->end().value(), *digest, secs);
    } else {
      fmt::print("rebuilt {} from {} events in {:.1f}s; state digest {}\n", n, Thousands((*log)->end().value()), secs,
                 *digest);
    }
  }
  return kExitOk;
}

}  // namespace custodian::cli
