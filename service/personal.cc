#include "service/personal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/json.h"
#include "core/sha256.h"
#include "core/text.h"
#include "core/time.h"
#include "replay/customer.h"
#include "service/store.h"

namespace custodian {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr size_t kReadBatch = 1000;

// Calls `visit` for every event of `stream`, in stream order.
Status ForEachInStream(const EventLog& log, std::string_view stream, const std::function<Status(Event&)>& visit) {
  uint64_t from = 0;
  while (true) {
    Result<std::vector<Event>> batch = log.ReadStream(stream, StreamVersion(from), Direction::kForward, kReadBatch);
    if (!batch.ok()) return batch.status();
    for (Event& e : *batch) CUSTODIAN_RETURN_IF_ERROR(visit(e));
    if (batch->size() < kReadBatch) return Status::Ok();
    from = batch->back().version.value() + 1;
  }
}

json::object DataOf(const Event& e) {
  boost::system::error_code ec;
  json::value v = json::parse(e.data, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.as_object());
}

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

bool Describes(std::string_view type) {
  return type == "contact.added" || type == "contact.updated" || type == "customer.registered" ||
         type == "customer.updated";
}

// Whether `e` (with data `d`) names the subject.
bool Names(const SubjectRef& s, const Event& e, const json::object& d) {
  if (s.subject == s.stream) return true;  // a person-customer: every event of its stream is about them
  const std::string contact = s.subject.substr(8);  // "contact-" stripped
  if (Str(d, "contact_id") == contact) return true;
  if (Str(d, "subject") == s.subject) return true;
  return !e.personal.empty() && e.personal.subject == SubjectIdOf(s.stream, s.subject);
}

std::string NotAPerson(const std::string& stream) {
  return stream + " is an organization, not a person: its people are its contacts (" + stream +
         "/contact-<contact id>)";
}

// Ok when the log knows the subject: a contact that the customer added (or
// updated), removed since or not; or a customer registered as a person
// (kind individual). NotFound, saying which, otherwise: an erasure or a hold
// of a subject nobody recorded (a mistyped id) would change nothing about the
// person meant and block that id for good.
Status SubjectKnown(const EventLog& log, const SubjectRef& subject) {
  const bool contact = subject.subject != subject.stream;
  const std::string contact_id = contact ? subject.subject.substr(8) : std::string();
  bool known = false;
  std::string kind;
  CUSTODIAN_RETURN_IF_ERROR(ForEachInStream(log, subject.stream, [&](Event& e) -> Status {
    if (!Describes(e.type)) return Status::Ok();
    const json::object d = DataOf(e);
    if (contact) {
      if (Str(d, "contact_id") == contact_id) known = true;
    } else if (e.type == "customer.registered" && d.if_contains("contact_id") == nullptr) {
      known = true;
      kind = Str(d, "kind");
    }
    return Status::Ok();
  }));
  if (!known) {
    return Status::NotFound(contact ? subject.stream + " has no contact " + contact_id
                                    : subject.stream + " is not registered");
  }
  if (!contact && kind != "individual") return Status::NotFound(NotAPerson(subject.stream));
  return Status::Ok();
}

Status Write(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("cannot write " + path + ": " + std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Status::IoError("cannot write " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

json::value PersonValue(const Person& p) {
  json::object o{{"subject", p.subject}, {"customer", p.customer}};
  if (!p.contact_id.empty()) o["contact_id"] = p.contact_id;
  if (!p.role.empty()) o["role"] = p.role;
  if (p.removed) o["removed"] = true;
  switch (p.state) {
    case Person::State::kNone:
      o["personal"] = nullptr;
      break;
    case Person::State::kOpen: {
      json::object f;
      for (const auto& [k, v] : p.fields) f[k] = v;
      o["personal"] = std::move(f);
      break;
    }
    case Person::State::kErased:
      o["personal"] = json::object{{"erased", json::object{{"position", p.erased_position ? json::value(*p.erased_position)
                                                                                          : json::value(nullptr)},
                                                           {"reason", p.erased_reason}}}};
      break;
    case Person::State::kUnavailable:
      o["personal"] = json::object{{"unavailable", p.why}};
      break;
  }
  return o;
}

}  // namespace

std::string Person::Field(std::string_view name) const {
  for (const auto& [k, v] : fields) {
    if (k == name) return v;
  }
  return {};
}

Result<SubjectRef> ParseSubjectArg(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash != std::string_view::npos && !text.substr(slash + 1).starts_with("contact-")) {
    return ParseSubjectId(std::string(text.substr(0, slash)) + "/contact-" + std::string(text.substr(slash + 1)));
  }
  return ParseSubjectId(text);
}

Result<Person> LookUpPerson(const EventLog& log, const SubjectRef& subject) {
  Person p;
  p.subject = SubjectIdOf(subject.stream, subject.subject);
  p.customer = subject.stream;
  const bool contact = subject.subject != subject.stream;
  if (contact) p.contact_id = subject.subject.substr(8);
  bool known = false;
  std::string kind;  // of a customer registered as a person
  // The events that describe people, and the fixes, folded as the fixes make
  // them (a corrected role, a retracted contact.added). Whether the log knows
  // the person at all is read from the events as stored (as SubjectKnown
  // reads it): a retracted contact.added still holds their sealed part, which
  // an export must show and an erasure must reach.
  std::vector<Event> about;
  bool recorded = false;
  std::string recorded_kind;
  CUSTODIAN_RETURN_IF_ERROR(ForEachInStream(log, subject.stream, [&](Event& e) -> Status {
    if (Describes(e.type)) {
      const json::object d = DataOf(e);
      if (contact ? Str(d, "contact_id") == p.contact_id : d.if_contains("contact_id") == nullptr) {
        recorded = true;
        if (e.type == "customer.registered") recorded_kind = Str(d, "kind");
      }
    }
    if (Describes(e.type) || e.type == "contact.removed" || IsFix(e)) about.push_back(std::move(e));
    return Status::Ok();
  }));
  auto visit = [&](const Event& e) -> Status {
    if (IsFix(e)) return Status::Ok();
    const json::object d = DataOf(e);
    if (contact != (d.if_contains("contact_id") != nullptr)) return Status::Ok();
    if (contact && Str(d, "contact_id") != p.contact_id) return Status::Ok();
    if (e.type == "customer.registered") kind = Str(d, "kind");
    if (e.type == "contact.removed") {
      p.removed = true;
      return Status::Ok();
    }
    known = true;
    if (e.type == "contact.added") p.removed = false;
    if (std::string role = Str(d, "role"); !role.empty()) p.role = std::move(role);
    if (e.personal.empty() || p.state == Person::State::kErased) return Status::Ok();
    Result<EventLog::PersonalView> view = log.OpenPersonal(e);
    if (!view.ok()) return view.status().WithContext("event at position " + std::to_string(e.position.value()));
    switch (view->state) {
      case EventLog::PersonalView::State::kNone:
        break;
      case EventLog::PersonalView::State::kErased:
        p.state = Person::State::kErased;
        p.fields.clear();
        p.erased_position = view->erased_position;
        p.erased_reason = view->erased_reason;
        break;
      case EventLog::PersonalView::State::kUnavailable:
        p.state = Person::State::kUnavailable;
        p.why = view->why;
        break;
      case EventLog::PersonalView::State::kOpen: {
        if (p.state == Person::State::kUnavailable) break;
        p.state = Person::State::kOpen;
        boost::system::error_code ec;
        json::value v = json::parse(view->json, ec);
        if (ec || !v.is_object()) break;
        for (const auto& [k, val] : v.as_object()) {
          if (!val.is_string()) continue;
          // key = k: clang 14 cannot capture a structured binding (C++20, P1091).
          auto it = std::find_if(p.fields.begin(), p.fields.end(),
                                 [&key = k](const auto& f) { return f.first == key; });
          if (it != p.fields.end()) {
            it->second = std::string(val.get_string());
          } else {
            p.fields.emplace_back(std::string(k), std::string(val.get_string()));
          }
        }
        break;
      }
    }
    return Status::Ok();
  };
  for (const Event& e : EffectiveEvents(about)) CUSTODIAN_RETURN_IF_ERROR(visit(e));
  if (!known && recorded) {
    known = true;  // only retracted events describe them: the person as first recorded, with no role
    kind = recorded_kind;
  }
  if (!known) {
    return Status::NotFound(contact ? subject.stream + " has no contact " + p.contact_id
                                    : subject.stream + " is not registered");
  }
  if (!contact && kind != "individual") return Status::NotFound(NotAPerson(subject.stream));
  return p;
}

std::string PersonToJson(const Person& p) { return json::serialize(PersonValue(p)); }

std::vector<std::string> FindResult::customers() const {
  std::set<std::string> all;
  for (const Person& p : people) all.insert(p.customer);
  return {all.begin(), all.end()};
}

Result<FindResult> FindPeople(const EventLog& log, BlindKind kind, std::string_view value) {
  FindResult r;
  r.by = kind == BlindKind::kEmail ? "email" : kind == BlindKind::kPhone ? "phone" : "name";
  r.value = std::string(value);
  Result<std::vector<std::string>> subjects = log.FindSubjects(kind, value);
  if (!subjects.ok()) return subjects.status();
  for (const std::string& id : *subjects) {
    Result<SubjectRef> ref = ParseSubjectId(id);
    if (!ref.ok()) continue;  // never written by the log
    Result<Person> p = LookUpPerson(log, *ref);
    if (p.status().code() == StatusCode::kNotFound) continue;
    if (!p.ok()) return p.status();
    r.people.push_back(std::move(*p));
  }
  return r;
}

std::string FindResultToJson(const FindResult& r) {
  json::array people;
  for (const Person& p : r.people) people.push_back(PersonValue(p));
  return json::serialize(json::object{{"by", r.by}, {"value", r.value}, {"people", std::move(people)}});
}

// --- export ---

Result<SubjectExport> ExportSubject(const EventLog& log, const StateReader& access, const SubjectRef& subject,
                                    const std::string& reader, Timestamp now) {
  SubjectExport x;
  Result<Person> person = LookUpPerson(log, subject);
  if (!person.ok()) return person.status();
  x.person = std::move(*person);
  x.generated_at = now;
  x.generated_by = reader;
  const std::string id = SubjectIdOf(subject.stream, subject.subject);
  auto cannot_open = [&](const std::string& why) {
    return Status::FailedPrecondition("the personal data of " + id + " cannot be opened here (" + why +
                                      "): an export would hold none of it; run it where the master key is");
  };
  if (x.person.state == Person::State::kUnavailable) return cannot_open(x.person.why);
  std::set<std::string> named;  // the ids of the events that name them, for the fixes that follow
  Status s = ForEachInStream(log, subject.stream, [&](Event& e) -> Status {
    const json::object d = DataOf(e);
    const bool fixes_one = IsFix(e) && named.contains(Str(d, "event_id"));
    if (!fixes_one && !Names(subject, e, d)) return Status::Ok();
    named.insert(e.id.ToString());
    if (!e.personal.empty() && e.personal.subject != id) {
      // Another person's part on a person-customer's stream (a contact of
      // theirs): the event is about the customer, the part is not theirs.
      e.personal_plain = json::serialize(json::object{{"sealed_for", e.personal.subject},
                                                      {"unavailable", "another person's data, not in this export"}});
    } else if (!e.personal.empty()) {
      Result<EventLog::PersonalView> view = log.OpenPersonal(e);
      if (!view.ok()) return view.status();
      if (view->state == EventLog::PersonalView::State::kUnavailable) return cannot_open(view->why);
      CUSTODIAN_RETURN_IF_ERROR(log.ShowPersonal(e));
    }
    x.events.push_back({std::move(e)});
    return Status::Ok();
  });
  if (!s.ok()) return s;
  Result<std::vector<AccessEntry>> reads = AccessesToCustomer(access, subject.stream, std::nullopt, std::nullopt);
  if (!reads.ok()) return reads.status();
  x.accesses = std::move(*reads);
  Result<std::vector<Hold>> holds = ListHolds(log, subject);
  if (!holds.ok()) return holds.status();
  for (const Hold& h : *holds) x.holds.emplace_back(h.hold_id, h.reason);
  return x;
}

std::string SubjectExportToJson(const SubjectExport& x) {
  json::array events;
  for (const auto& item : x.events) {
    boost::system::error_code ec;
    events.push_back(json::parse(EventToJson(item.event, JsonFields::kWithLogFields), ec));
  }
  json::array accesses;
  for (const AccessEntry& a : x.accesses) {
    boost::system::error_code ec;
    accesses.push_back(json::parse(AccessEntryToJson(x.person.customer, a), ec));
  }
  json::array holds;
  for (const auto& [id, reason] : x.holds) holds.push_back(json::object{{"hold_id", id}, {"reason", reason}});
  return json::serialize(json::object{{"format", "custodian-subject-access/1"},
                                      {"generated_at", FormatRfc3339(x.generated_at)},
                                      {"generated_by", x.generated_by},
                                      {"person", PersonValue(x.person)},
                                      {"holds", std::move(holds)},
                                      {"events", std::move(events)},
                                      {"accesses", std::move(accesses)}}) +
         "\n";
}

std::string SubjectExportToHtml(const SubjectExport& x) {
  const Person& p = x.person;
  const std::string title = p.state == Person::State::kOpen && !p.Field("name").empty() ? p.Field("name") : p.subject;
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n";
  h += "<title>Subject access: " + HtmlText(title) +
       "</title>\n<style>\n"
       "body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.5em}"
       "table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:4px 6px;"
       "text-align:left;vertical-align:top}th{background:#f3f3f3}.muted{color:#666}code{font-size:12px}"
       "@media print{body{margin:0}a{color:inherit}}\n</style></head><body>\n";
  h += "<h1>Everything held about " + HtmlText(title) + "</h1>\n";
  h += "<p class=\"muted\">Subject " + HtmlText(p.subject) + " of " + HtmlText(p.customer) + ". Generated " +
       HtmlText(FormatRfc3339(x.generated_at)) + " for " + HtmlText(x.generated_by) + ".</p>\n";
  h += "<h2>Personal data</h2>\n";
  switch (p.state) {
    case Person::State::kNone:
      h += "<p>No personal data was recorded.</p>\n";
      break;
    case Person::State::kErased:
      h += "<p>Erased at position " + (p.erased_position ? std::to_string(*p.erased_position) : std::string("?")) +
           ": " + HtmlText(p.erased_reason) + ".</p>\n";
      break;
    case Person::State::kUnavailable:
      h += "<p>Sealed and not available here: " + HtmlText(p.why) + ".</p>\n";
      break;
    case Person::State::kOpen:
      h += "<table><tr><th>field</th><th>value</th></tr>\n";
      for (const auto& [k, v] : p.fields) h += "<tr><td>" + HtmlText(k) + "</td><td>" + HtmlText(v) + "</td></tr>\n";
      h += "</table>\n";
      break;
  }
  if (!p.role.empty()) h += "<p>Role: " + HtmlText(p.role) + (p.removed ? " (no longer a contact)" : "") + "</p>\n";
  if (!x.holds.empty()) {
    h += "<h2>Legal holds in force</h2>\n<ul>\n";
    for (const auto& [id, reason] : x.holds) h += "<li>" + HtmlText(id) + ": " + HtmlText(reason) + "</li>\n";
    h += "</ul>\n";
  }
  h += "<h2>Events that name them (" + std::to_string(x.events.size()) + ")</h2>\n";
  h += "<table><tr><th>position</th><th>occurred</th><th>type</th><th>by</th><th>data</th><th>personal</th></tr>\n";
  for (const auto& item : x.events) {
    const Event& e = item.event;
    h += "<tr><td>" + std::to_string(e.position.value()) + "</td><td>" + HtmlText(FormatRfc3339(e.occurred_at)) +
         "</td><td>" + HtmlText(e.type) + "</td><td>" + HtmlText(e.actor) + "</td><td><code>" + HtmlText(e.data) +
         "</code></td><td><code>" + HtmlText(e.personal_plain) + "</code></td></tr>\n";
  }
  h += "</table>\n";
  h += "<h2>Who read or exported their customer's data (" + std::to_string(x.accesses.size()) + ")</h2>\n";
  h += "<table><tr><th>when</th><th>who</th><th>what</th><th>view or scope</th><th>records</th></tr>\n";
  for (const AccessEntry& a : x.accesses) {
    h += "<tr><td>" + HtmlText(FormatRfc3339(a.at)) + "</td><td>" + HtmlText(a.staff) + "</td><td>" +
         (a.exported ? "exported" : "viewed") + "</td><td>" + HtmlText(a.view) + "</td><td>" +
         std::to_string(a.records) + "</td></tr>\n";
  }
  h += "</table>\n</body></html>\n";
  return h;
}

// --- erasure and holds ---

namespace {

Result<uint64_t> AppendOne(EventLog& log, Event e) {
  std::string stream = e.stream;
  std::vector<Event> events;
  events.push_back(std::move(e));
  Result<AppendResult> r = log.Append(std::move(stream), std::move(events), ExpectedVersion::Any());
  if (!r.ok()) return r.status();
  return r->positions.front().value();
}

}  // namespace

Result<ErasureResult> EraseSubject(EventLog& log, const ErasureRequest& request) {
  ErasureResult r;
  r.subject = SubjectIdOf(request.subject.stream, request.subject.subject);
  if (request.details.empty()) return Status::InvalidArgument("--reason: say why the data is erased");
  const std::string code = request.reason_code.empty() ? "data_subject_request" : request.reason_code;
  Result<std::vector<std::pair<std::string, std::string>>> before = log.RuleRecords("erased/" + r.subject);
  if (!before.ok()) return before.status();
  for (const auto& [key, value] : *before) {
    if (!key.empty()) continue;  // another subject whose id starts with this one
    // "position P" or "position P: reason" (core/rules.cc, rule 'erased').
    r.already = true;
    r.position = std::strtoull(value.c_str() + std::min<size_t>(9, value.size()), nullptr, 10);
    if (size_t colon = value.find(": "); colon != std::string::npos) r.reason = value.substr(colon + 2);
    return r;
  }
  CUSTODIAN_RETURN_IF_ERROR(SubjectKnown(log, request.subject));
  Event e;
  // The same request made again is the same event (the log's ids are idempotent).
  e.id = EventId::FromSeed("subject.erased\n" + r.subject);
  e.stream = request.subject.stream;
  e.type = "subject.erased";
  e.actor = request.actor;
  e.occurred_at = request.now;
  e.source = "custodian";
  json::object d{{"subject", request.subject.subject}, {"reason", code}, {"details", request.details}};
  if (!request.request_ref.empty()) d["request_ref"] = request.request_ref;
  e.data = json::serialize(d);
  Result<uint64_t> position = AppendOne(log, std::move(e));
  if (!position.ok()) return position.status();
  r.position = *position;
  r.reason = request.details;
  Status s = ForEachInStream(log, request.subject.stream, [&](Event& ev) -> Status {
    if (!ev.personal.empty() && ev.personal.subject == r.subject) ++r.events_sealed;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return r;
}

std::string ErasureResultToJson(const ErasureResult& r) {
  return json::serialize(json::object{{"subject", r.subject},
                                      {"position", r.position},
                                      {"already_erased", r.already},
                                      {"reason", r.reason},
                                      {"events_sealed", r.events_sealed}});
}

namespace {

Result<std::pair<Hold, uint64_t>> HoldEvent(EventLog& log, const HoldRequest& request, bool place) {
  Hold h;
  h.subject = SubjectIdOf(request.subject.stream, request.subject.subject);
  h.hold_id = request.hold_id;
  h.reason = request.reason;
  if (place && h.reason.empty()) return Status::InvalidArgument("--reason: say why the data must be kept");
  if (!place && h.hold_id.empty()) return Status::InvalidArgument("--id: name the hold to release (hold list shows them)");
  if (place) CUSTODIAN_RETURN_IF_ERROR(SubjectKnown(log, request.subject));
  if (h.hold_id.empty()) {
    std::string t = FormatRfc3339(request.now);  // 2026-04-01T09:00:00Z
    t.erase(std::remove_if(t.begin(), t.end(), [](char c) { return c == '-' || c == ':'; }), t.end());
    const std::string base = "hold-" + t.substr(0, 8) + "-" + t.substr(9, 6);
    // Two holds placed on the subject in the same second: -2, -3, ...
    Result<std::vector<Hold>> in_force = ListHolds(log, request.subject);
    if (!in_force.ok()) return in_force.status();
    h.hold_id = base;
    auto taken = [&](const std::string& id) {
      return std::any_of(in_force->begin(), in_force->end(), [&](const Hold& o) { return o.hold_id == id; });
    };
    for (int n = 2; taken(h.hold_id); ++n) h.hold_id = base + "-" + std::to_string(n);
  }
  Event e;
  e.id = EventId::Random();
  e.stream = request.subject.stream;
  e.type = place ? "subject.hold_placed" : "subject.hold_released";
  e.actor = request.actor;
  e.occurred_at = request.now;
  e.source = "custodian";
  json::object d{{"subject", request.subject.subject}, {"hold_id", h.hold_id}};
  if (!h.reason.empty()) d["reason"] = h.reason;
  e.data = json::serialize(d);
  Result<uint64_t> position = AppendOne(log, std::move(e));
  if (!position.ok()) return position.status();
  return std::make_pair(std::move(h), *position);
}

}  // namespace

Result<std::pair<Hold, uint64_t>> PlaceHold(EventLog& log, const HoldRequest& request) {
  return HoldEvent(log, request, true);
}
Result<std::pair<Hold, uint64_t>> ReleaseHold(EventLog& log, const HoldRequest& request) {
  return HoldEvent(log, request, false);
}

Result<std::vector<Hold>> ListHolds(const EventLog& log, const std::optional<SubjectRef>& subject) {
  // "holds/<stream>/<data.subject>" -> {"<hold id>": "<reason>", ...} (core/rules.cc, rule 'hold').
  const std::string prefix = subject ? "holds/" + subject->stream + "/" + subject->subject : "holds/";
  Result<std::vector<std::pair<std::string, std::string>>> records = log.RuleRecords(prefix);
  if (!records.ok()) return records.status();
  std::vector<Hold> out;
  for (const auto& [rest, value] : *records) {
    if (subject && !rest.empty()) continue;
    std::string stream, who;
    if (subject) {
      stream = subject->stream;
      who = subject->subject;
    } else {
      const size_t slash = rest.find('/');
      if (slash == std::string::npos) continue;
      stream = rest.substr(0, slash);
      who = rest.substr(slash + 1);
    }
    boost::system::error_code ec;
    json::value v = json::parse(value, ec);
    if (ec || !v.is_object()) continue;
    for (const auto& [id, reason] : v.as_object()) {
      out.push_back({SubjectIdOf(stream, who), std::string(id), reason.is_string() ? std::string(reason.get_string()) : ""});
    }
  }
  return out;
}

std::string HoldsToJson(const std::vector<Hold>& holds) {
  json::array a;
  for (const Hold& h : holds) a.push_back(json::object{{"subject", h.subject}, {"hold_id", h.hold_id}, {"reason", h.reason}});
  return json::serialize(json::object{{"holds", std::move(a)}});
}

// --- backup and restore ---

namespace {

constexpr char kBackupFormat[] = "custodian-backup/1";
constexpr char kBackupManifest[] = "backup.json";

struct Verified {
  uint64_t events = 0;
  std::string root;
};

Result<Verified> VerifyStore(const EventLog& log) {
  VerifyReport report = log.Verify();
  if (!report.error.ok()) return report.error;
  if (!report.ok) return Status::Corruption("the copy does not verify: " + report.problem);
  Result<TreeHead> head = log.Head();
  if (!head.ok()) return head.status();
  return Verified{head->size, HexOf(head->root)};
}

void CountFiles(const fs::path& root, uint64_t* files, uint64_t* bytes) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) {
      ++*files;
      *bytes += it->file_size(ec);
    }
  }
}

}  // namespace

Result<BackupResult> BackupStore(EventLog& log, const std::string& dir) {
  BackupResult r;
  r.dir = dir;
  std::error_code ec;
  if (fs::exists(fs::symlink_status(dir, ec))) {
    return Status::Conflict(dir + " exists; a backup goes to a new directory");
  }
  // A backup inside the store would copy itself into itself without end.
  const fs::path target = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  if (ec) return Status::InvalidArgument("cannot resolve " + dir + ": " + ec.message());
  const fs::path from = fs::weakly_canonical(fs::absolute(log.dir(), ec), ec);
  if (ec) return Status::IoError("cannot resolve the store's path " + log.dir() + ": " + ec.message());
  if (std::mismatch(from.begin(), from.end(), target.begin(), target.end()).first == from.end()) {
    return Status::InvalidArgument(dir + " is inside the store " + log.dir() + "; a backup goes outside it");
  }
  if (!fs::create_directories(dir, ec) || ec) {
    return Status::IoError("cannot create " + dir + (ec ? ": " + ec.message() : std::string()));
  }
  // What a failed backup made goes with it: the next one starts clean.
  const auto fail = [&](Status s) {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    return s;
  };
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  const std::string store = (fs::path(dir) / "store").string();
  Result<uint64_t> copied = log.CopyTo(store);
  if (!copied.ok()) return fail(copied.status());
  {
    EventLogOptions options;
    options.mode = EventLogOptions::Mode::kReadOnly;
    Result<std::unique_ptr<EventLog>> copy = EventLog::Open(store, options);
    if (!copy.ok()) return fail(copy.status().WithContext("the copy in " + store + " does not open"));
    Result<Verified> v = VerifyStore(**copy);
    if (!v.ok()) return fail(v.status());
    r.events = v->events;
    r.root = v->root;
  }
  json::object manifest{{"format", kBackupFormat},
                        {"created_at", FormatRfc3339(SystemClock().Now())},
                        {"events", r.events},
                        {"root", r.root},
                        {"from", log.dir()}};
  if (Status s = Write((fs::path(dir) / kBackupManifest).string(), json::serialize(manifest) + "\n"); !s.ok()) {
    return fail(s);
  }
  CountFiles(dir, &r.files, &r.bytes);
  return r;
}

std::string BackupResultToJson(const BackupResult& r) {
  return json::serialize(
      json::object{{"backup", r.dir}, {"events", r.events}, {"root", r.root}, {"files", r.files}, {"bytes", r.bytes}});
}

namespace {

// fsyncs one file or directory.
Status SyncPath(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  const bool ok = fd >= 0 && ::fsync(fd) == 0;
  const int error = errno;
  if (fd >= 0) ::close(fd);
  return ok ? Status::Ok() : Status::IoError("cannot sync " + p.string() + ": " + std::strerror(error));
}

// fsyncs every file and directory under `dir`, and `dir` itself.
Status SyncTree(const fs::path& dir) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    CUSTODIAN_RETURN_IF_ERROR(SyncPath(it->path()));
  }
  if (ec) return Status::IoError("cannot read " + dir.string() + ": " + ec.message());
  return SyncPath(dir);
}

// Restores into `work` (a new directory); RestoreStore moves it in place.
Result<RestoreResult> RestoreInto(const fs::path& store, const std::string& work, const EventLogOptions& options,
                                  bool without_master_key, const json::object& recorded, const std::string& manifest) {
  RestoreResult r;
  std::error_code ec;
  fs::create_directories(work, ec);
  if (!ec) fs::copy(store, work, fs::copy_options::recursive, ec);
  if (ec) return Status::IoError("cannot copy " + store.string() + " to " + work + ": " + ec.message());
  fs::permissions(work, fs::perms::owner_all, fs::perm_options::replace, ec);
  for (auto it = fs::recursive_directory_iterator(work, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    fs::permissions(it->path(), it->is_directory() ? fs::perms::owner_all : fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace, ec);
  }
  if (ec) return Status::IoError("cannot make the copy in " + work + " owner-only: " + ec.message());
  CUSTODIAN_RETURN_IF_ERROR(SyncTree(work));
  // Verified, and the store the backup recorded, before anything of it is
  // acted on: a read-write open makes erasures (beside the master key too).
  {
    EventLogOptions check;
    check.mode = EventLogOptions::Mode::kReadOnly;
    Result<std::unique_ptr<EventLog>> copy = EventLog::Open(work, check);
    if (!copy.ok()) return copy.status().WithContext("the restored store does not open");
    Result<Verified> v = VerifyStore(**copy);
    if (!v.ok()) return v.status();
    r.events = v->events;
    r.root = v->root;
  }
  if (!recorded.contains("events") || recorded.at("events") != json::value(r.events) || !recorded.contains("root") ||
      recorded.at("root") != json::value(r.root)) {
    return Status::Corruption(
        "the backup's store holds " + std::to_string(r.events) + " events with root " + r.root + ", but " + manifest +
        " records " + (recorded.contains("events") ? json::serialize(recorded.at("events")) : std::string("no count")) +
        " events with root " + (recorded.contains("root") ? json::serialize(recorded.at("root")) : std::string("none")) +
        ": the backup was altered or damaged; nothing was restored");
  }
  EventLogOptions open = options;
  open.mode = EventLogOptions::Mode::kReadWrite;
  open.create = CreateIfMissing::kNo;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(work, open);
  if (!log.ok()) return log.status().WithContext("the restored store does not open");
  r.erasures_reapplied = (*log)->erasures_reapplied();
  r.keys_rewrapped = (*log)->keys_rewrapped();
  if (Status p = (*log)->PersonalStatus(); !p.ok()) {
    Result<bool> people = (*log)->HoldsPersonalData();
    if (!people.ok()) return people.status();
    if (*people && !without_master_key) {
      return Status::FailedPrecondition(
          "the backup holds people sealed under a master key that this restore cannot use (" + p.message() +
          "), so the erasures made since the backup could not be made again; nothing was restored. Give the key "
          "directory's current key with --master-key DIR/master.key (never a key in its retired/: those are found "
          "there by themselves, with the blind.key beside master.key), or, if it is lost, restore with "
          "--without-master-key: their people then stay sealed");
    }
    if (*people) r.personal = p.message();
  }
  // The open changed keys only: the events verified above are the ones restored.
  if ((*log)->end().value() != r.events) return Status::Corruption("the restored store changed while it was opened");
  return r;
}

}  // namespace

Result<RestoreResult> RestoreStore(const std::string& from, const std::string& data_dir,
                                   const EventLogOptions& options, bool without_master_key) {
  std::error_code ec;
  const fs::path manifest = fs::path(from) / kBackupManifest, store = fs::path(from) / "store";
  std::ifstream in(manifest);
  Result<std::string> read = ReadAtMost(in, 64 << 10, manifest.string());  // a few hundred bytes
  const std::string text = read.ok() ? *read : std::string();
  boost::system::error_code jec;
  json::value m = json::parse(text, jec);
  if (!read.ok() || read->empty() || jec || !m.is_object() || !m.as_object().contains("format") ||
      m.as_object().at("format") != json::value(kBackupFormat) || !fs::is_directory(store, ec)) {
    const bool there = fs::exists(manifest, ec);
    return Status::InvalidArgument(
        from + " is not a backup made by `custodian backup` (" +
        (there && fs::is_directory(store, ec) ? manifest.string() + " is not a manifest of format " + kBackupFormat
                                                    : "no " + manifest.string() + " of format " + kBackupFormat +
                                                          " beside a store/ directory") +
        ")");
  }
  if (fs::exists(fs::symlink_status(data_dir, ec)) && !fs::is_empty(data_dir, ec)) {
    return Status::Conflict(data_dir + " exists and is not empty; restore into a new directory (and move it in place "
                            "once it is checked)");
  }
  // A backup directory is input like any other: only regular files and
  // directories are restored (a symbolic link there could pull any file the
  // user can read into the store).
  for (auto it = fs::recursive_directory_iterator(store, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const fs::file_status st = it->symlink_status(ec);
    if (!ec && !fs::is_regular_file(st) && !fs::is_directory(st)) {
      return Status::InvalidArgument(it->path().string() +
                                     " is not a regular file or directory; a backup made by `custodian backup` holds "
                                     "none, so nothing was restored");
    }
  }
  if (ec) return Status::IoError("cannot read " + store.string() + ": " + ec.message());
  // Restored beside the target and moved in place only once it opened,
  // made the erasures again and verified, and is on disk: a failure or a
  // crash leaves the target as it was (and at worst the work directory).
  const fs::path target = fs::absolute(data_dir, ec);
  const std::string work = target.string() + ".restoring-" + std::to_string(::getpid());
  fs::remove_all(work, ec);
  Result<RestoreResult> r = RestoreInto(store, work, options, without_master_key, m.as_object(), manifest.string());
  if (r.ok()) {
    if (fs::exists(fs::symlink_status(target, ec))) fs::remove(target, ec);  // empty, checked above
    fs::rename(work, target, ec);
    if (ec) r = Status::IoError("cannot move the restored store from " + work + " to " + data_dir + ": " + ec.message());
  }
  if (!r.ok()) {
    fs::remove_all(work, ec);
    return r.status();
  }
  CUSTODIAN_RETURN_IF_ERROR(SyncPath(target.parent_path()));  // the rename, on disk
  r->data_dir = data_dir;
  return r;
}

std::string RestoreResultToJson(const RestoreResult& r) {
  json::object o{{"data", r.data_dir},
                 {"events", r.events},
                 {"root", r.root},
                 {"erasures_reapplied", r.erasures_reapplied},
                 {"keys_rewrapped", r.keys_rewrapped}};
  o["personal_data"] = r.personal.empty() ? json::value("available") : json::value(r.personal);
  return json::serialize(o);
}

}  // namespace custodian
