#include "service/customer.h"

#include <boost/json.hpp>

#include <map>
#include <utility>

#include "core/json.h"
#include "core/personal.h"
#include "core/text.h"
#include "core/time.h"

namespace custodian {
namespace json = boost::json;

namespace {

constexpr int64_t kMicrosPerDay = int64_t{86400} * 1'000'000;

json::value TimeJson(Timestamp t) { return json::value(FormatRfc3339(t)); }
json::value TimeJson(const std::optional<Timestamp>& t) { return t ? TimeJson(*t) : json::value(nullptr); }

// The customer's fields for the API. The stored projection has its own
// encoding (CustomerToJson); this one is what readers and clients depend on,
// so it is written out here, field by field, and changes only on purpose.
json::object CustomerValue(const CustomerState& s) {
  json::object o;
  o["id"] = s.id;
  o["registered"] = s.registered;
  for (auto [key, field] : {std::pair{"name", &s.name},
                            {"kind", &s.kind},
                            {"status", &s.status},
                            {"segment", &s.segment},
                            {"industry", &s.industry},
                            {"country", &s.country},
                            {"group", &s.group},
                            {"external_id", &s.external_id},
                            {"team", &s.team},
                            {"owner", &s.owner}}) {
    o[key] = *field;
  }
  json::array custody;
  for (const auto& c : s.custody) {
    custody.push_back(json::object{{"owner", c.owner},
                                   {"previous_owner", c.previous_owner},
                                   {"reason", c.reason},
                                   {"handover_id", c.handover_id},
                                   {"assigned_by", c.assigned_by},
                                   {"from", TimeJson(c.from)},
                                   {"to", TimeJson(c.to)},
                                   {"position", c.position}});
  }
  o["custody"] = std::move(custody);
  // Contacts say where their personal data is, never what it says ("people" opens it).
  json::object contacts;
  for (const auto& [id, c] : s.contacts) {
    json::array positions;
    for (uint64_t p : c.personal_positions) positions.push_back(p);
    json::value last = nullptr;
    if (c.last_conversation) {
      const CustomerState::Conversation& l = *c.last_conversation;
      last = json::object{{"position", l.position},
                          {"at", TimeJson(l.at)},
                          {"channel", l.channel},
                          {"direction", l.direction},
                          {"by", l.by}};
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
    deals[id] = json::object{{"title", d.title},
                             {"stage", d.stage},
                             {"value", d.value.ToString()},
                             {"currency", d.currency},
                             {"owner", d.owner},
                             {"opened_at", TimeJson(d.opened_at)},
                             {"probability", d.probability ? json::value(*d.probability) : json::value(nullptr)},
                             {"expected_close_at", TimeJson(d.expected_close_at)}};
  }
  o["open_deals"] = std::move(deals);
  o["deals_won"] = s.deals_won;
  o["deals_lost"] = s.deals_lost;
  json::object requests;
  for (const auto& [id, r] : s.open_requests) {
    requests[id] = json::object{{"title", r.title},
                                {"priority", r.priority},
                                {"category", r.category},
                                {"assignee", r.assignee},
                                {"opened_by", r.opened_by},
                                {"opened_at", TimeJson(r.opened_at)},
                                {"due_at", TimeJson(r.due_at)},
                                {"first_response_at", TimeJson(r.first_response_at)},
                                {"reopened", r.reopened}};
  }
  o["open_requests"] = std::move(requests);
  json::object history;
  for (const auto& [id, h] : s.request_history) {
    json::array assignments;
    for (const auto& a : h.assignments)
      assignments.push_back(json::object{{"staff", a.staff}, {"from", TimeJson(a.from)}});
    history[id] = json::object{{"opened_at", TimeJson(h.opened_at)},
                               {"resolved_at", TimeJson(h.resolved_at)},
                               {"assignments", std::move(assignments)}};
  }
  o["request_history"] = std::move(history);
  json::object commitments;
  for (const auto& [id, c] : s.open_commitments) {
    commitments[id] = json::object{{"promise", c.promise},
                                   {"owner", c.owner},
                                   {"request_id", c.request_id},
                                   {"deal_id", c.deal_id},
                                   {"made_at", TimeJson(c.made_at)},
                                   {"due_at", TimeJson(c.due_at)},
                                   {"due_moved_from", TimeJson(c.due_moved_from)},
                                   {"due_moved_at", TimeJson(c.due_moved_at)}};
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
  return o;
}

NotedEvent Noted(const Event& e) { return NotedEvent{e.position.value(), e.type, e.occurred_at, e.recorded_at}; }

json::array Positions(const std::vector<NotedEvent>& events) {
  json::array a;
  for (const NotedEvent& e : events) a.push_back(e.position);
  return a;
}

// The customer's stream replayed now; NotFound when it has no events.
Result<Replay> ReplayKnown(const EventLog& log, const std::string& customer) {
  Result<Replay> r = ReplayCustomer(log, customer, std::nullopt, AsOf::kKnowledge);
  if (!r.ok()) return r.status();
  if (r->events.empty()) return Status::NotFound(customer + " has no events");
  return r;
}

}  // namespace

// A read-only log may lag behind the writer, whose stored state may even be
// in an encoding this build has not rebuilt yet: so it is replayed.
Result<CustomerState> CurrentCustomer(const EventLog& log, const std::string& customer) {
  if (!log.read_only()) {
    Result<Position> folded = log.ProjectionCheckpoint(kCustomerProjection);
    if (!folded.ok()) return folded.status();
    if (folded->value() >= log.end().value()) {
      Result<CustomerState> s = LoadCustomer(log, customer);
      if (s.status().code() == StatusCode::kNotFound) return Status::NotFound(customer + " has no events");
      return s;
    }
  }
  Result<Replay> r = ReplayKnown(log, customer);
  if (!r.ok()) return r.status();
  return std::move(r->state);
}

namespace {

// Reads a field of an event's data as text: strings as they are, numbers as
// written (an amount keeps its digits, not as Boost re-prints them).
class DataFields {
 public:
  explicit DataFields(const Event& e) : e_(e) {
    boost::system::error_code ec;
    json::value v = json::parse(e.data, ec);
    if (!ec && v.is_object()) d_ = std::move(v.as_object());
  }
  std::string operator()(std::string_view k) const {
    auto it = d_.find(k);
    if (it == d_.end() || it->value().is_null()) return std::string();
    if (it->value().is_string()) return std::string(it->value().get_string());
    return std::string(JsonMemberText(e_.data, k).value_or(""));
  }

 private:
  const Event& e_;
  json::object d_;
};

// The first kSummaryDataBytes of an event's data (to the end of the
// character there), then "..." when there is more.
constexpr size_t kSummaryDataBytes = 80;
std::string Shortened(std::string_view data) {
  size_t cut = kSummaryDataBytes;
  while (cut < data.size() && (static_cast<unsigned char>(data[cut]) & 0xC0) == 0x80) ++cut;
  if (cut >= data.size()) return std::string(data);
  return std::string(data.substr(0, cut)) + "...";
}

// A correction or retraction in words: what it sets, and why ("value
// 9800.00 (the discount was left out)"); a retraction's reason.
std::string FixSummary(const Event& fix) {
  const DataFields s(fix);
  std::string set;
  if (const std::optional<std::string_view> fields = JsonMemberText(fix.data, "corrected")) {
    boost::system::error_code ec;
    const json::value v = json::parse(*fields, ec);
    if (!ec && v.is_object()) {
      for (const auto& member : v.get_object()) {
        const std::string value = member.value().is_string()
                                      ? std::string(member.value().get_string())
                                      : std::string(JsonMemberText(*fields, member.key()).value_or(""));
        set += (set.empty() ? "" : ", ") + std::string(member.key()) + " " + value;
      }
    }
  }
  const std::string reason = s("reason");
  if (set.empty()) return reason;
  return reason.empty() ? set : set + " (" + reason + ")";
}

// One line, in words, for the timeline.
std::string Describe(const Event& e) {
  const DataFields s(e);
  const std::string& t = e.type;
  if (t == "customer.registered") return "registered as " + s("name");
  if (t == "customer.updated") return "details updated: " + Shortened(e.data);
  if (t == "customer.owner_assigned") {
    return "owner " + (s("previous_owner").empty() ? std::string() : s("previous_owner") + " -> ") + s("owner") + " (" +
           s("reason") + (s("handover_id").empty() ? "" : ", handover " + s("handover_id")) + ")";
  }
  if (t == "customer.team_changed") return "team set to " + s("team");
  if (t == "interaction.logged") {
    return s("direction") + " " + s("channel") + (s("summary").empty() ? "" : ": " + s("summary"));
  }
  if (t == "note.added") return "note: " + s("text");
  if (t == "deal.opened")
    return "deal " + s("deal_id") + " opened: " + s("title") + ", " + s("value") + " " + s("currency");
  if (t == "deal.stage_changed") return "deal " + s("deal_id") + " moved to " + s("stage");
  if (t == "deal.won") return "deal " + s("deal_id") + " WON" + (s("value").empty() ? "" : ", " + s("value"));
  if (t == "deal.lost") return "deal " + s("deal_id") + " lost" + (s("reason").empty() ? "" : ": " + s("reason"));
  if (t == "order.placed") return "order " + s("order_id") + ": " + s("value") + " " + s("currency");
  if (t == "request.opened") return "request " + s("request_id") + " opened: " + s("title");
  if (t == "request.assigned") return "request " + s("request_id") + " assigned to " + s("assignee");
  if (t == "request.responded") {
    return "request " + s("request_id") + " answered" + (s("summary").empty() ? "" : ": " + s("summary"));
  }
  if (t == "request.resolved") return "request " + s("request_id") + " resolved";
  if (t == "request.reopened") return "request " + s("request_id") + " reopened";
  if (t == "commitment.made") {
    return "promised (" + s("commitment_id") + "): " + s("promise") + ", due " + s("due_at").substr(0, 10);
  }
  if (t == "commitment.fulfilled") return "promise " + s("commitment_id") + " kept";
  if (t == "commitment.cancelled") return "promise " + s("commitment_id") + " cancelled: " + s("reason");
  if (t == "contact.added") return "contact " + s("contact_id") + " added (" + s("role") + ")";
  if (t == "contact.updated") return "contact " + s("contact_id") + " updated";
  if (t == "contact.removed") return "contact " + s("contact_id") + " removed";
  if (t == "event.corrected") return "corrects " + s("event_id").substr(0, 8) + "...: " + FixSummary(e);
  if (t == "event.retracted") return "retracts " + s("event_id").substr(0, 8) + "...: " + FixSummary(e);
  return Shortened(e.data);
}

}  // namespace

// --- customer show ---

std::optional<int64_t> CustomerView::DaysSinceLastContact() const {
  if (!state.last_contact) return std::nullopt;
  return (at.value() - state.last_contact->at.value()) / kMicrosPerDay;
}

std::string DueMovedNote(const CustomerState::Commitment& c) {
  return c.due_moved_from ? " (moved from " + FormatRfc3339(*c.due_moved_from).substr(0, 10) + " after it passed)" : "";
}

bool CustomerView::Overdue(const CustomerState::Commitment& c) const { return c.JudgedDue() < at; }

Result<CustomerView> ShowCustomer(EventLog& log, const Caller& caller, const std::string& customer,
                                  std::optional<AsOfTime> as_of, Timestamp now) {
  CustomerView v;
  Access read{caller.principal, false, "customer_profile", {customer}, 1, "", caller.interface};
  if (as_of) {
    Result<Replay> r = ReplayCustomer(log, customer, as_of->at, as_of->by);
    if (!r.ok()) return r.status();
    v.state = std::move(r->state);
    v.at = as_of->at;
    v.as_of = as_of;
    v.events_folded = r->events.size();
    for (const Event& e : r->late) v.late.push_back(Noted(e));
    for (const Event& e : r->not_yet_known) v.not_known_then.push_back(Noted(e));
    read.view = as_of->business() ? "customer_as_of_business" : "customer_as_of";
    read.records = v.events_folded;
  } else {
    Result<CustomerState> s = CurrentCustomer(log, customer);
    if (!s.ok()) return s.status();
    v.state = std::move(*s);
    v.at = now;
  }
  CUSTODIAN_RETURN_IF_ERROR(RecordRead(log, caller, std::move(read)));
  // The read is recorded: the contacts' personal fields are opened for it
  // (or, for a caller who may not see them, left sealed).
  Result<std::vector<ContactView>> people = OpenContacts(log, v.state);
  if (!people.ok()) return people.status();
  v.people = std::move(*people);
  if (caller.personal == PersonalData::kSealed) SealContacts(v.people, kPersonalSealedForRole);
  return v;
}

std::string CustomerViewToJson(const CustomerView& v) {
  json::object customer = CustomerValue(v.state);
  json::array people;
  for (const ContactView& c : v.people) people.push_back(json::parse(ContactViewToJson(c)));
  customer["people"] = std::move(people);
  if (!v.as_of) return json::serialize(customer);
  json::object o;
  o["as_of"] = TimeJson(v.as_of->at);
  o["by"] = v.as_of->by == AsOf::kKnowledge ? "knowledge" : "business";
  o["customer"] = std::move(customer);
  o["events_folded"] = v.events_folded;
  o["late_positions"] = Positions(v.late);
  o["not_known_then_positions"] = Positions(v.not_known_then);
  return json::serialize(o);
}

// --- finding customers ---

namespace {

// A string member of a stored customer, read without decoding the whole state.
std::string StoredText(std::string_view stored, std::string_view key) {
  std::optional<std::string_view> text = JsonMemberText(stored, key);
  if (!text || text->size() < 2 || text->front() != '"') return std::string();
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  return !ec && v.is_string() ? std::string(v.get_string()) : std::string();
}

}  // namespace

Result<CustomerSearch> FindCustomers(EventLog& log, const Caller& caller, std::string_view query, Timestamp now,
                                     size_t limit) {
  // A name's words as the blind index reads them (core/personal.h: BlindTerms), in lower case.
  std::vector<std::string> not_searched;
  const std::vector<std::string> words = BlindTerms(BlindKind::kName, query, &not_searched);
  auto joined = [](std::string_view text) {
    std::string out;
    for (const std::string& w : BlindTerms(BlindKind::kName, text)) out += w + " ";
    return out;
  };
  if (words.empty()) {
    if (!not_searched.empty()) {
      return Status::InvalidArgument(QuotedText(query) + " has no word of two letters or more to look for; one-letter words match too "
                                     "much to be searched");
    }
    return Status::InvalidArgument("say what to look for: a customer's id or a word of its name");
  }
  Result<ServiceScope> scope = ReaderScope(log, caller.principal);
  if (!scope.ok()) return scope.status();
  CustomerSearch found{std::string(query), {}, 0, std::move(not_searched)};
  Status inner;
  Status scanned = StateReader::Stored(log, kCustomerProjection).Scan("customer-", [&](std::string_view key,
                                                                                        std::string_view stored) {
    CustomerMatch m{std::string(key), StoredText(stored, "name"), StoredText(stored, "owner"),
                    StoredText(stored, "team"), StoredText(stored, "status")};
    const std::string haystack = joined(m.id + " " + m.name);
    for (const std::string& w : words) {
      if (haystack.find(w) == std::string::npos) return true;
    }
    Result<bool> serves = scope->Serves(m.id, now);
    if (!serves.ok()) {
      inner = serves.status();
      return false;
    }
    if (!*serves) return true;
    if (found.customers.size() < limit) {
      found.customers.push_back(std::move(m));
    } else {
      ++found.more;
    }
    return true;
  });
  CUSTODIAN_RETURN_IF_ERROR(scanned);
  CUSTODIAN_RETURN_IF_ERROR(inner);
  if (!found.customers.empty()) {
    Access read{.view = "customer_search"};
    for (const CustomerMatch& m : found.customers) read.customers.push_back(m.id);
    read.records = read.customers.size();
    CUSTODIAN_RETURN_IF_ERROR(RecordRead(log, caller, std::move(read)));
  }
  return found;
}

std::string CustomerSearchToJson(const CustomerSearch& s) {
  json::array customers;
  for (const CustomerMatch& m : s.customers) {
    customers.push_back(json::object{{"id", m.id}, {"name", m.name}, {"owner", m.owner}, {"team", m.team},
                                     {"status", m.status}});
  }
  json::array not_searched;
  for (const std::string& w : s.not_searched) not_searched.emplace_back(w);
  return json::serialize(json::object{{"query", s.query},
                                      {"customers", std::move(customers)},
                                      {"more", s.more},
                                      {"not_searched", std::move(not_searched)}});
}

// --- customer timeline ---

Result<CustomerTimelineResult> CustomerTimeline(EventLog& log, const Caller& caller, const std::string& customer) {
  Result<Replay> r = ReplayKnown(log, customer);
  if (!r.ok()) return r.status();
  CUSTODIAN_RETURN_IF_ERROR(RecordRead(
      log, caller, Access{caller.principal, false, "timeline", {customer}, r->events.size(), "", caller.interface}));

  CustomerTimelineResult t;
  t.customer = customer;
  // Corrections and retractions name the event they fix by id.
  std::map<std::string, std::vector<TimelineEntry::Fix>> fixes;
  for (const Event& e : r->events) {
    const bool retracted = e.type == "event.retracted";
    if (!retracted && e.type != "event.corrected") continue;
    const std::string fixed = DataFields(e)("event_id");
    if (!fixed.empty()) fixes[fixed].push_back({retracted, e.actor, e.position.value(), e.data, FixSummary(e)});
  }
  const Status personal = log.PersonalStatus();
  t.entries.reserve(r->events.size());
  for (Event& e : r->events) {
    TimelineEntry entry;
    entry.summary = Describe(e);
    entry.late = e.recorded_at.value() - e.occurred_at.value() > kLateAfterMicros;
    if (auto it = fixes.find(e.id.ToString()); it != fixes.end()) entry.fixes = std::move(it->second);
    if (!e.personal.empty() && caller.personal == PersonalData::kOpen) {
      if (personal.ok()) {
        if (Status s = log.ShowPersonal(e); !s.ok())
          return s.WithContext("event at position " + std::to_string(e.position.value()));
      } else if (t.personal_unavailable.empty()) {
        t.personal_unavailable = personal.message();
      }
    }
    entry.event = std::move(e);
    t.entries.push_back(std::move(entry));
  }
  // Runs of late events recorded together: one backfill each, not late one by one.
  for (size_t i = 0; i < t.entries.size();) {
    size_t end = i;
    const Timestamp first_recorded = t.entries[i].event.recorded_at;
    while (end < t.entries.size() && t.entries[end].late &&
           t.entries[end].event.recorded_at.value() - first_recorded.value() <= kBackfillWindowMicros &&
           t.entries[end].event.recorded_at.value() >= first_recorded.value()) {
      ++end;
    }
    if (end - i < kBackfillMinEvents) {
      i = std::max(end, i + 1);
      continue;
    }
    Backfill b{i, end - i, t.entries[i].event.occurred_at, t.entries[i].event.occurred_at, first_recorded,
               first_recorded};
    for (size_t j = i; j < end; ++j) {
      const Event& e = t.entries[j].event;
      b.occurred_from = std::min(b.occurred_from, e.occurred_at);
      b.occurred_to = std::max(b.occurred_to, e.occurred_at);
      b.recorded_to = std::max(b.recorded_to, e.recorded_at);
      t.entries[j].late = false;
    }
    t.backfills.push_back(b);
    i = end;
  }
  return t;
}

std::string BackfillNote(const Backfill& b) {
  return "-- loaded in one backfill at " + FormatRfc3339(b.recorded_from).substr(0, 16) + "Z: the next " +
         std::to_string(b.count) + " events (occurred " + FormatRfc3339(b.occurred_from).substr(0, 10) + " to " +
         FormatRfc3339(b.occurred_to).substr(0, 10) + ") were recorded then, not as they happened --";
}

std::string CustomerTimelineToJson(const CustomerTimelineResult& t) {
  std::string lines;
  size_t next_backfill = 0;
  for (size_t i = 0; i < t.entries.size(); ++i) {
    const TimelineEntry& entry = t.entries[i];
    // The event as stored, then what the timeline says of it, in words.
    json::object about{{"summary", entry.summary}, {"late", entry.late}};
    while (next_backfill < t.backfills.size() &&
           t.backfills[next_backfill].first + t.backfills[next_backfill].count <= i) {
      ++next_backfill;
    }
    if (next_backfill < t.backfills.size() && t.backfills[next_backfill].first == i) {
      about["backfill"] = BackfillNote(t.backfills[next_backfill]);
    }
    json::array fixes;
    for (const TimelineEntry::Fix& f : entry.fixes) {
      fixes.push_back(json::object{{"kind", f.retracted ? "retracted" : "corrected"},
                                   {"actor", f.actor},
                                   {"position", f.position},
                                   {"summary", f.summary}});
    }
    about["fixes"] = std::move(fixes);
    std::string line = EventToJson(entry.event, JsonFields::kWithLogFields);
    line.pop_back();  // the closing brace: "timeline" goes last
    line += ",\"timeline\":" + json::serialize(about) + "}\n";
    lines += line;
  }
  return lines;
}

// --- customer custody ---

Result<CustodyAnswer> CustomerCustody(EventLog& log, const Caller& caller, const std::string& customer,
                                      const CustodyQuery& query) {
  if (!query.request.empty() && !query.at) {
    return Status::InvalidArgument("who was responsible for request " + query.request +
                                   " needs a time: who had it when?");
  }
  Result<Replay> r = ReplayKnown(log, customer);
  if (!r.ok()) return r.status();
  const CustomerState& s = r->state;
  CUSTODIAN_RETURN_IF_ERROR(RecordRead(
      log, caller, Access{caller.principal, false, "custody", {customer}, s.custody.size(), "", caller.interface}));
  CustodyAnswer a;
  a.customer = s.id;
  a.query = query;
  if (!query.request.empty()) {
    if (!s.request_history.count(query.request)) return Status::NotFound(s.id + " has no request " + query.request);
    a.responsible = ResponsibleAt(s, query.request, *query.at);
  } else if (query.at) {
    a.owner = OwnerAt(s, *query.at);
  } else {
    a.chain = s.custody;
  }
  return a;
}

std::string CustodyAnswerToJson(const CustodyAnswer& a) {
  if (!a.query.request.empty()) {
    return json::serialize(
        json::object{{"customer", a.customer},
                     {"request", a.query.request},
                     {"at", TimeJson(a.query.at)},
                     {"responsible", a.responsible ? json::value(*a.responsible) : json::value(nullptr)}});
  }
  if (a.query.at) {
    const auto& c = a.owner;
    return json::serialize(json::object{{"customer", a.customer},
                                        {"at", TimeJson(*a.query.at)},
                                        {"owner", c ? json::value(c->owner) : json::value(nullptr)},
                                        {"reason", c ? json::value(c->reason) : json::value(nullptr)},
                                        {"since", c ? TimeJson(c->from) : json::value(nullptr)}});
  }
  std::string lines;
  for (const CustomerState::Custody& c : a.chain) {
    lines += json::serialize(json::object{{"customer", a.customer},
                                          {"owner", c.owner},
                                          {"from", TimeJson(c.from)},
                                          {"to", TimeJson(c.to)},
                                          {"reason", c.reason},
                                          {"previous_owner", c.previous_owner},
                                          {"handover_id", c.handover_id},
                                          {"assigned_by", c.assigned_by},
                                          {"position", c.position}});
    lines += '\n';
  }
  return lines;
}

}  // namespace custodian
