#include "replay/customer.h"

#include <algorithm>
#include <boost/json.hpp>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "core/json.h"
#include "core/time.h"

namespace json = boost::json;

namespace custodian {
namespace {

std::string Str(const json::object& o, std::string_view k) {
  auto it = o.find(k);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}

std::optional<double> Num(const json::object& o, std::string_view k) {
  auto it = o.find(k);
  if (it == o.end() || !it->value().is_number()) return std::nullopt;
  return it->value().to_number<double>();
}

// An amount of the event's data, exactly as written (core/money.h); nullopt
// when absent, and also, noting the event in `s`, when it is not an exact
// decimal (only events stored before amounts had to be can hold one).
std::optional<Amount> AmountOf(CustomerState& s, const Event& e, const json::object& d, std::string_view k) {
  auto it = d.find(k);
  if (it == d.end() || !it->value().is_number()) return std::nullopt;
  std::optional<std::string_view> text = JsonMemberText(e.data, k);
  Result<Amount> a = text ? Amount::Parse(*text) : Result<Amount>(Status::InvalidArgument("not found"));
  if (a.ok()) return *a;
  if (s.inexact_amounts.size() < kMaxInexactKept) s.inexact_amounts.push_back(e.position.value());
  return std::nullopt;
}

std::optional<bool> Bool(const json::object& o, std::string_view k) {
  auto it = o.find(k);
  if (it == o.end() || !it->value().is_bool()) return std::nullopt;
  return it->value().get_bool();
}

std::optional<Timestamp> Time(const json::object& o, std::string_view k) {
  std::string s = Str(o, k);
  if (s.empty()) return std::nullopt;
  Result<Timestamp> t = ParseRfc3339(s);
  return t.ok() ? std::optional<Timestamp>(*t) : std::nullopt;
}

void SetIfPresent(const json::object& o, std::string_view k, std::string* field) {
  if (auto it = o.find(k); it != o.end() && it->value().is_string()) *field = std::string(it->value().get_string());
}

// Whether the event has a personal part: sealed (read from the log) or still
// plain (an event folded before it was appended).
bool CarriesPersonal(const Event& e) { return !e.personal.empty() || !e.personal_plain.empty(); }

}  // namespace

Status ApplyToCustomer(CustomerState& s, const Event& e) {
  // Payloads are small: parse into a stack arena, not the heap.
  unsigned char arena[4096];
  json::monotonic_resource resource(arena, sizeof arena);
  boost::system::error_code ec;
  json::value parsed = json::parse(e.data, ec, &resource);
  if (ec || !parsed.is_object()) {
    return Status::Corruption("event at position " + std::to_string(e.position.value()) + " has data that is not a "
                              "JSON object");
  }
  const json::object& d = parsed.get_object();
  if (s.id.empty()) s.id = e.stream;
  ++s.events;
  s.last_position = e.position.value();
  s.last_recorded_at = e.recorded_at;
  if (e.recorded_at.value() - e.occurred_at.value() > kLateAfterMicros) ++s.late_events;
  const std::string& t = e.type;

  if (t == "customer.registered" || t == "customer.updated") {
    s.registered = true;
    for (auto [key, field] : {std::pair{"name", &s.name}, {"kind", &s.kind}, {"status", &s.status},
                              {"segment", &s.segment}, {"industry", &s.industry}, {"country", &s.country},
                              {"group", &s.group}, {"external_id", &s.external_id}}) {
      SetIfPresent(d, key, field);
    }
    // A personal part about one of its contacts (docs/events.md, Personal data).
    if (auto it = s.contacts.find(Str(d, "contact_id")); it != s.contacts.end() && CarriesPersonal(e)) {
      it->second.personal_positions.push_back(e.position.value());
    }
  } else if (t == "customer.owner_assigned") {
    if (!s.custody.empty() && !s.custody.back().to) s.custody.back().to = e.occurred_at;
    CustomerState::Custody c;
    c.owner = Str(d, "owner");
    c.previous_owner = Str(d, "previous_owner");
    c.reason = Str(d, "reason");
    c.handover_id = Str(d, "handover_id");
    c.assigned_by = e.actor;
    c.from = e.occurred_at;
    c.position = e.position.value();
    s.owner = c.owner;
    s.custody.push_back(std::move(c));
  } else if (t == "customer.team_changed") {
    s.team = Str(d, "team");
  } else if (t == "contact.added" || t == "contact.updated") {
    CustomerState::Contact& c = s.contacts[Str(d, "contact_id")];
    SetIfPresent(d, "role", &c.role);
    SetIfPresent(d, "department", &c.department);
    SetIfPresent(d, "preferred_channel", &c.preferred_channel);
    if (auto k = Bool(d, "key_contact")) c.key_contact = *k;
    if (CarriesPersonal(e)) c.personal_positions.push_back(e.position.value());
  } else if (t == "contact.removed") {
    s.contacts.erase(Str(d, "contact_id"));
  } else if (t == "interaction.logged") {
    if (!s.last_contact || e.occurred_at >= s.last_contact->at) {
      s.last_contact = CustomerState::LastContact{e.occurred_at, Str(d, "channel"), Str(d, "direction"), e.actor};
    }
    // With a contact the customer has (one never added, or removed, is not listed).
    if (auto it = s.contacts.find(Str(d, "contact_id")); it != s.contacts.end()) {
      std::optional<CustomerState::Conversation>& last = it->second.last_conversation;
      if (!last || e.occurred_at >= last->at) {
        last = CustomerState::Conversation{e.position.value(), e.occurred_at, Str(d, "channel"), Str(d, "direction"),
                                           e.actor};
      }
    }
  } else if (t == "deal.opened") {
    CustomerState::Deal& deal = s.open_deals[Str(d, "deal_id")];
    deal.title = Str(d, "title");
    deal.stage = Str(d, "stage");
    deal.currency = Str(d, "currency");
    deal.value = AmountOf(s, e, d, "value").value_or(Amount());
    deal.probability = Num(d, "probability");
    deal.owner = Str(d, "owner").empty() ? e.actor : Str(d, "owner");
    deal.opened_at = e.occurred_at;
    deal.expected_close_at = Time(d, "expected_close_at");
  } else if (t == "deal.stage_changed") {
    if (auto it = s.open_deals.find(Str(d, "deal_id")); it != s.open_deals.end()) {
      it->second.stage = Str(d, "stage");
      if (auto v = AmountOf(s, e, d, "value")) it->second.value = *v;
      if (auto p = Num(d, "probability")) it->second.probability = p;
      if (auto c = Time(d, "expected_close_at")) it->second.expected_close_at = c;
    }
  } else if (t == "deal.won" || t == "deal.lost") {
    s.open_deals.erase(Str(d, "deal_id"));
    ++(t == "deal.won" ? s.deals_won : s.deals_lost);
  } else if (t == "order.placed") {
    ++s.orders;
    if (std::optional<Amount> v = AmountOf(s, e, d, "value")) s.order_value[Str(d, "currency")].Add(*v);
  } else if (t == "request.opened" || t == "request.reopened") {
    CustomerState::Request& r = s.open_requests[Str(d, "request_id")];
    if (t == "request.opened") {
      r.title = Str(d, "title");
      SetIfPresent(d, "priority", &r.priority);
      r.category = Str(d, "category");
      r.opened_at = e.occurred_at;
      r.opened_by = e.actor;
      r.due_at = Time(d, "due_at");
      CustomerState::RequestHistory& h = s.request_history[Str(d, "request_id")];
      h.opened_at = e.occurred_at;
      h.assignments.push_back({e.actor, e.occurred_at});
    } else {
      r.reopened = true;
      s.request_history[Str(d, "request_id")].resolved_at.reset();
    }
  } else if (t == "request.assigned") {
    if (auto it = s.open_requests.find(Str(d, "request_id")); it != s.open_requests.end()) {
      it->second.assignee = Str(d, "assignee");
    }
    s.request_history[Str(d, "request_id")].assignments.push_back({Str(d, "assignee"), e.occurred_at});
  } else if (t == "request.responded") {
    if (auto it = s.open_requests.find(Str(d, "request_id")); it != s.open_requests.end()) {
      if (!it->second.first_response_at) it->second.first_response_at = e.occurred_at;
    }
  } else if (t == "request.resolved") {
    s.open_requests.erase(Str(d, "request_id"));
    s.request_history[Str(d, "request_id")].resolved_at = e.occurred_at;
  } else if (t == "commitment.made") {
    CustomerState::Commitment& c = s.open_commitments[Str(d, "commitment_id")];
    c.promise = Str(d, "promise");
    c.owner = Str(d, "owner").empty() ? e.actor : Str(d, "owner");
    c.request_id = Str(d, "request_id");
    c.deal_id = Str(d, "deal_id");
    c.made_at = e.occurred_at;
    c.due_at = Time(d, "due_at").value_or(e.occurred_at);
    c.due_moved_from.reset();  // a making again (a log from before rule `reference`): FoldCustomer marks it
    c.due_moved_at.reset();
  } else if (t == "commitment.fulfilled" || t == "commitment.cancelled") {
    auto it = s.open_commitments.find(Str(d, "commitment_id"));
    if (it != s.open_commitments.end()) {
      if (t == "commitment.cancelled") {
        ++s.commitments_cancelled;
      } else {
        ++(e.occurred_at <= it->second.JudgedDue() ? s.commitments_kept : s.commitments_late);
      }
      s.open_commitments.erase(it);
    }
  } else if (t == "commitment.reassigned") {
    if (auto it = s.open_commitments.find(Str(d, "commitment_id")); it != s.open_commitments.end()) {
      it->second.owner = Str(d, "owner");
    }
  } else if (t == "event.corrected") {
    ++s.corrections;
  } else if (t == "event.retracted") {
    ++s.retractions;
  }
  return Status::Ok();
}

bool IsFix(const Event& e) { return e.type == "event.corrected" || e.type == "event.retracted"; }

std::vector<Event> EffectiveEvents(std::span<const Event> events) {
  std::unordered_map<std::string, bool> retracted;
  std::vector<std::pair<std::string, const Event*>> fixes;                // (target, correction), in order
  std::unordered_map<std::string, std::vector<std::string>> corrections;  // by the fixed event's id, in order
  for (const Event& e : events) {
    if (!IsFix(e)) continue;
    boost::system::error_code ec;
    const json::value d = json::parse(e.data, ec);
    if (ec || !d.is_object()) continue;
    const std::string target = Str(d.get_object(), "event_id");
    if (e.type == "event.retracted") {
      retracted[target] = true;
    } else {
      fixes.emplace_back(target, &e);
    }
  }
  // A retracted correction corrects nothing (rule `fix` refuses to fix a
  // fix; a log from before it may hold one).
  for (const auto& [target, e] : fixes) {
    if (retracted.contains(e->id.ToString())) continue;
    if (std::optional<std::string_view> fields = JsonMemberText(e->data, "corrected")) {
      corrections[target].emplace_back(*fields);
    }
  }
  std::vector<Event> out;
  out.reserve(events.size());
  for (const Event& e : events) {
    const std::string id = e.id.ToString();
    if (retracted.count(id)) continue;
    out.push_back(e);
    if (auto it = corrections.find(id); it != corrections.end()) {
      for (const std::string& fields : it->second) out.back().data = MergeJsonMembers(out.back().data, fields);
    }
  }
  return out;
}

DueMoves FindDueMoves(std::span<const Event> events) {
  struct Promise {
    std::string commitment_id;
    Timestamp made_at, made_recorded_at, due_at;  // due_at: as corrected so far
  };
  struct Fix {
    const Event* event;
    json::object data;
  };
  // The retracted events first: a retracted making is no promise, and a
  // retracted correction moved nothing.
  std::vector<Fix> fixes;
  std::unordered_set<std::string> retracted;
  std::unordered_map<std::string, Promise> made;  // by commitment.made's event id
  DueMoves out;
  for (const Event& e : events) {
    if (e.type != "commitment.made" && !IsFix(e)) continue;
    boost::system::error_code ec;
    json::value parsed = json::parse(e.data, ec);
    if (ec || !parsed.is_object()) continue;
    json::object& d = parsed.get_object();
    if (e.type == "event.retracted") {
      retracted.insert(Str(d, "event_id"));
    } else if (e.type == "event.corrected") {
      fixes.push_back(Fix{&e, std::move(d)});
    } else {
      made[e.id.ToString()] =
          Promise{Str(d, "commitment_id"), e.occurred_at, e.recorded_at, Time(d, "due_at").value_or(e.occurred_at)};
    }
  }
  // The promise of each commitment id: its last making not retracted, in the
  // order given, as the fold takes it.
  for (const Event& e : events) {
    if (e.type != "commitment.made") continue;
    const std::string id = e.id.ToString();
    if (auto it = made.find(id); it != made.end() && !retracted.contains(id))
      out.promise[it->second.commitment_id] = id;
  }
  // The corrections in the log's order, whatever order a view gives them in
  // (business time sorts by the time the producer claims).
  std::stable_sort(fixes.begin(), fixes.end(),
                   [](const Fix& a, const Fix& b) { return a.event->position < b.event->position; });
  for (const Fix& f : fixes) {
    if (retracted.contains(f.event->id.ToString())) continue;
    const std::string target = Str(f.data, "event_id");
    auto it = made.find(target);
    const json::value* corrected = f.data.if_contains("corrected");
    if (it == made.end() || retracted.contains(target) || corrected == nullptr || !corrected->is_object()) continue;
    const std::optional<Timestamp> due = Time(corrected->get_object(), "due_at");
    if (!due) continue;
    Promise& p = it->second;
    if (*due > p.due_at &&
        LaterThanClaimed(p.made_at, p.made_recorded_at, p.due_at, f.event->recorded_at) > kEnteredLateMicros) {
      out.by_making.try_emplace(target, DueMove{p.commitment_id, p.due_at, f.event->recorded_at});
    }
    p.due_at = *due;
  }
  return out;
}

Result<CustomerState> FoldCustomer(std::span<const Event> events) {
  CustomerState s;
  const bool fixed = std::any_of(events.begin(), events.end(), IsFix);
  if (!fixed) {
    for (const Event& e : events) CUSTODIAN_RETURN_IF_ERROR(ApplyToCustomer(s, e));
    return s;
  }
  // Only a fix moves a due date, so only a fixed stream has moves to mark:
  // each on its promise as its making is folded (a retracted making is not).
  const DueMoves moves = FindDueMoves(events);
  for (const Event& e : EffectiveEvents(events)) {
    CUSTODIAN_RETURN_IF_ERROR(ApplyToCustomer(s, e));
    if (moves.by_making.empty() || e.type != "commitment.made") continue;
    auto m = moves.by_making.find(e.id.ToString());
    if (m == moves.by_making.end()) continue;
    if (auto c = s.open_commitments.find(m->second.commitment); c != s.open_commitments.end()) {
      c->second.due_moved_from = m->second.from;
      c->second.due_moved_at = m->second.at;
    }
  }
  return s;
}

namespace {

// The events of `fix`'s stream from the first through `fix`, as stored.
Result<std::vector<Event>> StreamThrough(const EventLog& log, const Event& fix) {
  std::vector<Event> events;
  for (uint64_t from = 0;;) {
    Result<std::vector<Event>> page = log.ReadStream(fix.stream, StreamVersion(from), Direction::kForward, 1024);
    if (!page.ok()) return page.status();
    for (Event& e : *page) {
      if (e.position.value() <= fix.position.value()) events.push_back(std::move(e));
    }
    if (page->size() < 1024 || events.empty() || events.back().position.value() >= fix.position.value()) break;
    from += page->size();
  }
  return events;
}

}  // namespace

Result<std::vector<Event>> StreamThroughFix(const EventLog& log, const Event& fix,
                                            std::optional<Timestamp> happened_by) {
  Result<std::vector<Event>> events = StreamThrough(log, fix);
  if (!events.ok()) return events.status();
  if (happened_by) std::erase_if(*events, [&](const Event& e) { return e.occurred_at > *happened_by; });
  return events;
}

Result<std::vector<Event>> EffectiveStreamThrough(const EventLog& log, const Event& fix,
                                                  std::optional<Timestamp> happened_by) {
  Result<std::vector<Event>> events = StreamThroughFix(log, fix, happened_by);
  if (!events.ok()) return events.status();
  return EffectiveEvents(*events);
}

std::optional<CustomerState::Custody> OwnerAt(const CustomerState& state, Timestamp t) {
  for (auto it = state.custody.rbegin(); it != state.custody.rend(); ++it) {
    if (it->from <= t) return *it;
  }
  return std::nullopt;
}

std::optional<std::string> ResponsibleAt(const CustomerState& state, const std::string& request, Timestamp t) {
  auto it = state.request_history.find(request);
  if (it == state.request_history.end() || t < it->second.opened_at) return std::nullopt;
  if (it->second.resolved_at && *it->second.resolved_at <= t) return std::nullopt;
  std::optional<std::string> who;
  for (const auto& a : it->second.assignments) {
    if (a.from <= t) who = a.staff;
  }
  return who;
}

namespace {

json::value TimeJson(Timestamp t) { return json::value(FormatRfc3339(t)); }
json::value TimeJson(const std::optional<Timestamp>& t) { return t ? TimeJson(*t) : json::value(nullptr); }

std::optional<Timestamp> TimeFrom(const json::object& o, std::string_view k) { return Time(o, k); }

CustomerState DecodeCustomer(const json::object& o);  // throws on what CustomerToJson did not write

// "customer-42 (customer projection, at position 1041): <why>; ... rebuild".
Status StateProblem(std::string_view customer, uint64_t position, const Status& why) {
  return Status::Corruption(std::string(customer) + " (" + kCustomerProjection + " projection, at position " +
                            std::to_string(position) + "): " + why.message() +
                            "; `custodian rebuild customer` folds it again from the log");
}

}  // namespace

std::string CustomerToJson(const CustomerState& s) {
  json::object o;
  o["id"] = s.id;
  o["registered"] = s.registered;
  for (auto [key, field] : {std::pair{"name", &s.name}, {"kind", &s.kind}, {"status", &s.status},
                            {"segment", &s.segment}, {"industry", &s.industry}, {"country", &s.country},
                            {"group", &s.group}, {"external_id", &s.external_id}, {"team", &s.team},
                            {"owner", &s.owner}}) {
    o[key] = *field;
  }
  json::array custody;
  for (const auto& c : s.custody) {
    custody.push_back(json::object{{"owner", c.owner}, {"previous_owner", c.previous_owner}, {"reason", c.reason},
                                   {"handover_id", c.handover_id}, {"assigned_by", c.assigned_by},
                                   {"from", TimeJson(c.from)}, {"to", TimeJson(c.to)}, {"position", c.position}});
  }
  o["custody"] = std::move(custody);
  json::object contacts;
  for (const auto& [id, c] : s.contacts) {
    json::array positions;
    for (uint64_t p : c.personal_positions) positions.push_back(p);
    json::value last = nullptr;
    if (c.last_conversation) {
      const CustomerState::Conversation& l = *c.last_conversation;
      last = json::object{{"position", l.position}, {"at", TimeJson(l.at)}, {"channel", l.channel},
                          {"direction", l.direction}, {"by", l.by}};
    }
    contacts[id] = json::object{{"role", c.role},
                                {"department", c.department},
                                {"preferred_channel", c.preferred_channel},
                                {"key_contact", c.key_contact},
                                {"personal_positions", std::move(positions)},
                                {"last_conversation", std::move(last)}};
  }
  o["contacts"] = std::move(contacts);
  json::object deals;
  for (const auto& [id, d] : s.open_deals) {
    deals[id] = json::object{{"title", d.title}, {"stage", d.stage}, {"value", d.value.ToString()}, {"currency", d.currency},
                             {"owner", d.owner}, {"opened_at", TimeJson(d.opened_at)},
                             {"probability", d.probability ? json::value(*d.probability) : json::value(nullptr)},
                             {"expected_close_at", TimeJson(d.expected_close_at)}};
  }
  o["open_deals"] = std::move(deals);
  o["deals_won"] = s.deals_won;
  o["deals_lost"] = s.deals_lost;
  json::object requests;
  for (const auto& [id, r] : s.open_requests) {
    requests[id] = json::object{{"title", r.title}, {"priority", r.priority}, {"category", r.category},
                                {"assignee", r.assignee}, {"opened_by", r.opened_by},
                                {"opened_at", TimeJson(r.opened_at)}, {"due_at", TimeJson(r.due_at)},
                                {"first_response_at", TimeJson(r.first_response_at)}, {"reopened", r.reopened}};
  }
  o["open_requests"] = std::move(requests);
  json::object history;
  for (const auto& [id, h] : s.request_history) {
    json::array assignments;
    for (const auto& a : h.assignments) assignments.push_back(json::object{{"staff", a.staff}, {"from", TimeJson(a.from)}});
    history[id] = json::object{{"opened_at", TimeJson(h.opened_at)}, {"resolved_at", TimeJson(h.resolved_at)},
                               {"assignments", std::move(assignments)}};
  }
  o["request_history"] = std::move(history);
  json::object commitments;
  for (const auto& [id, c] : s.open_commitments) {
    json::object& x = commitments[id].emplace_object();
    x = json::object{{"promise", c.promise},           {"owner", c.owner},
                     {"request_id", c.request_id},     {"deal_id", c.deal_id},
                     {"made_at", TimeJson(c.made_at)}, {"due_at", TimeJson(c.due_at)}};
    if (c.due_moved_from) {
      x["due_moved_from"] = TimeJson(c.due_moved_from);
      x["due_moved_at"] = TimeJson(c.due_moved_at);
    }
  }
  o["open_commitments"] = std::move(commitments);
  o["commitments_kept"] = s.commitments_kept;
  o["commitments_late"] = s.commitments_late;
  o["commitments_cancelled"] = s.commitments_cancelled;
  o["last_contact"] = s.last_contact ? json::value(json::object{{"at", TimeJson(s.last_contact->at)},
                                                                {"channel", s.last_contact->channel},
                                                                {"direction", s.last_contact->direction},
                                                                {"by", s.last_contact->by}})
                                     : json::value(nullptr);
  o["orders"] = s.orders;
  json::object value;
  for (const auto& [currency, v] : s.order_value) value[currency] = v.ToString();
  o["order_value"] = std::move(value);
  if (!s.inexact_amounts.empty()) {
    json::array inexact;
    for (uint64_t p : s.inexact_amounts) inexact.push_back(p);
    o["inexact_amounts"] = std::move(inexact);
  }
  o["events"] = s.events;
  o["last_position"] = s.last_position;
  o["last_recorded_at"] = TimeJson(s.last_recorded_at);
  o["late_events"] = s.late_events;
  o["corrections"] = s.corrections;
  o["retractions"] = s.retractions;
  return json::serialize(o);
}

Result<CustomerState> CustomerFromJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Status::Corruption("the stored customer state is not a JSON object");
  // Boost.JSON's checked accessors (as_object, at, to_number) throw on
  // anything CustomerToJson did not write; that is corruption, not a crash.
  try {
    return DecodeCustomer(v.as_object());
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("the stored customer state does not decode: ") + e.what());
  }
}

namespace {

CustomerState DecodeCustomer(const json::object& o) {
  auto u64 = [&](std::string_view k) {
    auto it = o.find(k);
    return it != o.end() && it->value().is_number() ? it->value().to_number<uint64_t>() : uint64_t{0};
  };
  CustomerState s;
  s.id = Str(o, "id");
  s.registered = Bool(o, "registered").value_or(false);
  for (auto [key, field] : {std::pair{"name", &s.name}, {"kind", &s.kind}, {"status", &s.status},
                            {"segment", &s.segment}, {"industry", &s.industry}, {"country", &s.country},
                            {"group", &s.group}, {"external_id", &s.external_id}, {"team", &s.team},
                            {"owner", &s.owner}}) {
    *field = Str(o, key);
  }
  if (auto it = o.find("custody"); it != o.end() && it->value().is_array()) {
    for (const auto& cv : it->value().get_array()) {
      const json::object& c = cv.as_object();
      CustomerState::Custody x;
      x.owner = Str(c, "owner");
      x.previous_owner = Str(c, "previous_owner");
      x.reason = Str(c, "reason");
      x.handover_id = Str(c, "handover_id");
      x.assigned_by = Str(c, "assigned_by");
      x.from = TimeFrom(c, "from").value_or(Timestamp(0));
      x.to = TimeFrom(c, "to");
      x.position = c.contains("position") ? c.at("position").to_number<uint64_t>() : 0;
      s.custody.push_back(std::move(x));
    }
  }
  auto each = [&](std::string_view k, auto&& fn) {
    if (auto it = o.find(k); it != o.end() && it->value().is_object()) {
      for (const auto& [id, item] : it->value().get_object()) fn(std::string(id), item.as_object());
    }
  };
  each("contacts", [&](std::string id, const json::object& c) {
    CustomerState::Contact& x = s.contacts[id];
    x.role = Str(c, "role");
    x.department = Str(c, "department");
    x.preferred_channel = Str(c, "preferred_channel");
    x.key_contact = Bool(c, "key_contact").value_or(false);
    if (auto it = c.find("personal_positions"); it != c.end()) {
      for (const auto& p : it->value().as_array()) x.personal_positions.push_back(p.to_number<uint64_t>());
    }
    if (auto it = c.find("last_conversation"); it != c.end() && !it->value().is_null()) {
      const json::object& l = it->value().as_object();
      x.last_conversation = CustomerState::Conversation{l.at("position").to_number<uint64_t>(),
                                                        TimeFrom(l, "at").value_or(Timestamp(0)), Str(l, "channel"),
                                                        Str(l, "direction"), Str(l, "by")};
    }
  });
  each("open_deals", [&](std::string id, const json::object& d) {
    CustomerState::Deal& x = s.open_deals[id];
    x.title = Str(d, "title");
    x.stage = Str(d, "stage");
    x.currency = Str(d, "currency");
    x.owner = Str(d, "owner");
    Result<Amount> value = Amount::Parse(d.at("value").as_string());
    if (!value.ok()) throw std::invalid_argument("open_deals." + id + ".value: " + value.status().message());
    x.value = *value;
    x.probability = Num(d, "probability");
    x.opened_at = TimeFrom(d, "opened_at").value_or(Timestamp(0));
    x.expected_close_at = TimeFrom(d, "expected_close_at");
  });
  each("open_requests", [&](std::string id, const json::object& r) {
    CustomerState::Request& x = s.open_requests[id];
    x.title = Str(r, "title");
    x.priority = Str(r, "priority");
    x.category = Str(r, "category");
    x.assignee = Str(r, "assignee");
    x.opened_by = Str(r, "opened_by");
    x.opened_at = TimeFrom(r, "opened_at").value_or(Timestamp(0));
    x.due_at = TimeFrom(r, "due_at");
    x.first_response_at = TimeFrom(r, "first_response_at");
    x.reopened = Bool(r, "reopened").value_or(false);
  });
  each("request_history", [&](std::string id, const json::object& h) {
    CustomerState::RequestHistory& x = s.request_history[id];
    x.opened_at = TimeFrom(h, "opened_at").value_or(Timestamp(0));
    x.resolved_at = TimeFrom(h, "resolved_at");
    if (auto it = h.find("assignments"); it != h.end() && it->value().is_array()) {
      for (const auto& a : it->value().get_array()) {
        x.assignments.push_back({Str(a.as_object(), "staff"), TimeFrom(a.as_object(), "from").value_or(Timestamp(0))});
      }
    }
  });
  each("open_commitments", [&](std::string id, const json::object& c) {
    CustomerState::Commitment& x = s.open_commitments[id];
    x.promise = Str(c, "promise");
    x.owner = Str(c, "owner");
    x.request_id = Str(c, "request_id");
    x.deal_id = Str(c, "deal_id");
    x.made_at = TimeFrom(c, "made_at").value_or(Timestamp(0));
    x.due_at = TimeFrom(c, "due_at").value_or(Timestamp(0));
    x.due_moved_from = TimeFrom(c, "due_moved_from");
    x.due_moved_at = TimeFrom(c, "due_moved_at");
  });
  s.deals_won = u64("deals_won");
  s.deals_lost = u64("deals_lost");
  s.commitments_kept = u64("commitments_kept");
  s.commitments_late = u64("commitments_late");
  s.commitments_cancelled = u64("commitments_cancelled");
  if (auto it = o.find("last_contact"); it != o.end() && it->value().is_object()) {
    const json::object& l = it->value().as_object();
    s.last_contact = CustomerState::LastContact{TimeFrom(l, "at").value_or(Timestamp(0)), Str(l, "channel"),
                                                Str(l, "direction"), Str(l, "by")};
  }
  s.orders = u64("orders");
  if (auto it = o.find("order_value"); it != o.end() && it->value().is_object()) {
    for (const auto& [currency, sum] : it->value().as_object()) {
      Result<MoneySum> parsed = MoneySum::Parse(sum.as_string());
      if (!parsed.ok()) throw std::invalid_argument("order_value." + std::string(currency) + ": " + parsed.status().message());
      s.order_value[std::string(currency)] = *parsed;
    }
  }
  if (auto it = o.find("inexact_amounts"); it != o.end()) {
    for (const auto& p : it->value().as_array()) s.inexact_amounts.push_back(p.to_number<uint64_t>());
  }
  s.events = u64("events");
  s.last_position = u64("last_position");
  s.last_recorded_at = TimeFrom(o, "last_recorded_at").value_or(Timestamp(0));
  s.late_events = u64("late_events");
  s.corrections = u64("corrections");
  s.retractions = u64("retractions");
  return s;
}

}  // namespace

namespace {

class CustomerProjection final : public Projection {
 public:
  explicit CustomerProjection(const EventLog& log) : log_(log) {}
  std::string_view name() const override { return kCustomerProjection; }

  Status Apply(std::span<const Event> events, StateView& state) const override {
    // Group by customer, keeping each customer's order: its state is decoded
    // once (then cached) and encoded once per chunk.
    std::map<std::string_view, std::vector<const Event*>> by_customer;
    for (const Event& e : events) {
      if (e.stream.starts_with("customer-")) by_customer[e.stream].push_back(&e);
    }
    std::lock_guard lk(mu_);
    if (cache_.size() > kMaxCached) cache_.clear();
    for (const auto& [customer, list] : by_customer) {
      auto it = cache_.find(std::string(customer));
      if (it == cache_.end()) {
        Result<std::optional<std::string>> stored = state.Get(customer);
        if (!stored.ok()) return stored.status();
        CustomerState s;
        if (*stored) {
          Result<CustomerState> decoded = CustomerFromJson(**stored);
          if (!decoded.ok()) return StateProblem(customer, list.front()->position.value(), decoded.status());
          s = std::move(*decoded);
        }
        it = cache_.emplace(std::string(customer), std::move(s)).first;
      }
      for (const Event* e : list) {
        if (!IsFix(*e)) {
          CUSTODIAN_RETURN_IF_ERROR(ApplyToCustomer(it->second, *e));
          continue;
        }
        // A fix: the customer folded again from its stream up to it.
        Result<CustomerState> refolded = Refold(*e);
        if (!refolded.ok()) return refolded.status().WithContext(std::string(customer) + " at position " +
                                                                 std::to_string(e->position.value()));
        it->second = std::move(*refolded);
      }
      state.Put(std::string(customer), CustomerToJson(it->second));
    }
    return Status::Ok();
  }

  void Forget() const override {
    std::lock_guard lk(mu_);
    cache_.clear();
  }

  uint32_t state_version() const override { return kCustomerStateVersion; }

 private:
  // The customer of `fix`'s stream, folded from its first event through `fix`.
  Result<CustomerState> Refold(const Event& fix) const {
    Result<std::vector<Event>> events = StreamThrough(log_, fix);
    if (!events.ok()) return events.status();
    return FoldCustomer(*events);
  }

  static constexpr size_t kMaxCached = 50'000;
  const EventLog& log_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, CustomerState> cache_;
};

}  // namespace

std::unique_ptr<Projection> MakeCustomerProjection(const EventLog& log) {
  return std::make_unique<CustomerProjection>(log);
}

Result<CustomerState> LoadCustomer(const EventLog& log, const std::string& customer) {
  Result<std::optional<std::string>> stored = log.ProjectionGet(kCustomerProjection, customer);
  if (!stored.ok()) return stored.status();
  if (!*stored) return Status::NotFound(customer + " has no events in the customer projection");
  Result<uint32_t> version = log.ProjectionStateVersion(kCustomerProjection);
  if (!version.ok()) return version.status();
  if (*version != kCustomerStateVersion) {
    return Status::FailedPrecondition(
        customer + " (" + kCustomerProjection + " projection): its stored state is in version " +
        std::to_string(*version) + " of the encoding, and this program reads version " +
        std::to_string(kCustomerStateVersion) +
        "; the next command that opens the store read-write folds it again (or `custodian rebuild customer`)");
  }
  Result<CustomerState> decoded = CustomerFromJson(**stored);
  if (decoded.ok()) return decoded;
  Result<Position> at = log.ProjectionCheckpoint(kCustomerProjection);
  return StateProblem(customer, at.ok() ? at->value() : 0, decoded.status());
}

Result<Replay> ReplayCustomer(const EventLog& log, const std::string& customer, std::optional<Timestamp> t,
                              AsOf as_of) {
  Replay r;
  for (uint64_t from = 0;;) {
    Result<std::vector<Event>> page = log.ReadStream(customer, StreamVersion(from), Direction::kForward, 1024);
    if (!page.ok()) return page.status();
    for (Event& e : *page) {
      const bool known = !t || e.recorded_at <= *t;
      const bool happened = !t || e.occurred_at <= *t;
      if (as_of == AsOf::kKnowledge ? !known : !happened) continue;
      // Business time folds what had happened by T, whenever it was
      // recorded; what was recorded only after T is also noted as such.
      if (as_of == AsOf::kBusiness && !known) r.not_yet_known.push_back(e);
      r.events.push_back(std::move(e));
    }
    if (page->size() < 1024) break;
    from += page->size();
  }
  if (as_of == AsOf::kBusiness) {
    // What had happened by T, in the order it happened (stream order breaks ties).
    std::stable_sort(r.events.begin(), r.events.end(),
                     [](const Event& a, const Event& b) { return a.occurred_at < b.occurred_at; });
  }
  // The same fold as the stored projection (FoldCustomer), read back through
  // its encoding as the stored state is.
  if (r.events.empty()) {
    r.state.id = customer;
  } else {
    Result<CustomerState> folded = FoldCustomer(r.events);
    if (!folded.ok()) return folded.status();
    Result<CustomerState> s = CustomerFromJson(CustomerToJson(*folded));
    if (!s.ok()) return s.status();
    r.state = std::move(*s);
  }
  for (const Event& e : r.events) {
    if (e.recorded_at.value() - e.occurred_at.value() > kLateAfterMicros) r.late.push_back(e);
  }
  return r;
}

}  // namespace custodian
