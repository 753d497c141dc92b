#include "replay/people.h"

#include <algorithm>
#include <boost/json.hpp>

#include "core/time.h"

namespace json = boost::json;

namespace custodian {

std::string OpenedPersonal::Field(std::string_view name) const {
  for (const auto& [k, v] : fields) {
    if (k == name) return v;
  }
  return {};
}

Result<OpenedPersonal> OpenPersonalAt(const EventLog& log, std::span<const uint64_t> positions) {
  OpenedPersonal out;
  for (uint64_t p : positions) {
    Result<std::vector<Event>> read = log.ReadAll(Position(p), 1);
    if (!read.ok()) return read.status();
    if (read->empty() || read->front().position.value() != p) {
      return Status::NotFound("position " + std::to_string(p) + " is past the log's end (" +
                              std::to_string(log.end().value()) + " events)");
    }
    const Event& e = read->front();
    if (e.personal.empty()) continue;
    Result<EventLog::PersonalView> view = log.OpenPersonal(e);
    if (!view.ok()) {
      // Altered, or moved from another event: shown as not opening, and why.
      if (view.status().code() != StatusCode::kCorruption) return view.status();
      if (out.state != OpenedPersonal::State::kErased) {
        out.state = OpenedPersonal::State::kUnavailable;
        out.fields.clear();
        out.why = "the personal part of the event at position " + std::to_string(p) +
                  " does not open: " + view.status().message();
      }
      continue;
    }
    switch (view->state) {
      case EventLog::PersonalView::State::kNone:
        break;
      case EventLog::PersonalView::State::kErased:
        out.state = OpenedPersonal::State::kErased;
        out.fields.clear();
        out.why.clear();
        out.erased_position = view->erased_position;
        out.erased_reason = view->erased_reason;
        break;
      case EventLog::PersonalView::State::kUnavailable:
        if (out.state != OpenedPersonal::State::kErased) {
          out.state = OpenedPersonal::State::kUnavailable;
          out.fields.clear();
          out.why = view->why;
        }
        break;
      case EventLog::PersonalView::State::kOpen: {
        if (out.state == OpenedPersonal::State::kErased || out.state == OpenedPersonal::State::kUnavailable) break;
        out.state = OpenedPersonal::State::kOpen;
        boost::system::error_code ec;
        json::value v = json::parse(view->json, ec);
        if (ec || !v.is_object()) {
          return Status::Corruption("the personal part of the event at position " + std::to_string(p) +
                                    " opens to something other than a JSON object");
        }
        for (const auto& [k, val] : v.get_object()) {
          if (!val.is_string()) continue;
          // key = k: clang 14 cannot capture a structured binding (C++20, P1091).
          auto it = std::find_if(out.fields.begin(), out.fields.end(),
                                 [&key = k](const auto& f) { return f.first == key; });
          if (it != out.fields.end()) {
            it->second = std::string(val.get_string());
          } else {
            out.fields.emplace_back(std::string(k), std::string(val.get_string()));
          }
        }
        break;
      }
    }
  }
  return out;
}

namespace {

json::value PersonalValue(const OpenedPersonal& p) {
  switch (p.state) {
    case OpenedPersonal::State::kNone:
      return nullptr;
    case OpenedPersonal::State::kOpen: {
      json::object o;
      for (const auto& [k, v] : p.fields) o[k] = v;
      return o;
    }
    case OpenedPersonal::State::kErased:
      return json::object{{"erased", json::object{{"position", p.erased_position ? json::value(*p.erased_position)
                                                                                 : json::value(nullptr)},
                                                  {"reason", p.erased_reason}}}};
    case OpenedPersonal::State::kUnavailable:
      return json::object{{"unavailable", p.why}};
  }
  return nullptr;
}

json::value ContactValue(const ContactView& v) {
  const CustomerState::Contact& c = v.contact;
  json::object o{{"contact_id", v.contact_id},   {"role", c.role},
                 {"department", c.department},   {"preferred_channel", c.preferred_channel},
                 {"key_contact", c.key_contact}, {"personal", PersonalValue(v.personal)}};
  if (c.last_conversation) {
    const CustomerState::Conversation& l = *c.last_conversation;
    // The notes themselves when open; otherwise what the part says (erased, unavailable) or null.
    json::value notes =
        v.last_notes.state == OpenedPersonal::State::kOpen
            ? (v.last_notes.Field("notes").empty() ? json::value(nullptr) : json::value(v.last_notes.Field("notes")))
            : PersonalValue(v.last_notes);
    o["last_conversation"] = json::object{{"position", l.position},
                                          {"at", FormatRfc3339(l.at)},
                                          {"channel", l.channel},
                                          {"direction", l.direction},
                                          {"by", l.by},
                                          {"notes", std::move(notes)}};
  } else {
    o["last_conversation"] = nullptr;
  }
  return o;
}

}  // namespace

std::string OpenedPersonalToJson(const OpenedPersonal& p) { return json::serialize(PersonalValue(p)); }

Result<ContactView> OpenContact(const EventLog& log, const std::string& contact_id,
                                const CustomerState::Contact& contact) {
  ContactView v{contact_id, contact, {}, {}};
  Result<OpenedPersonal> personal = OpenPersonalAt(log, contact.personal_positions);
  if (!personal.ok()) return personal.status().WithContext("contact " + contact_id);
  v.personal = std::move(*personal);
  if (contact.last_conversation) {
    const uint64_t at[] = {contact.last_conversation->position};
    Result<OpenedPersonal> notes = OpenPersonalAt(log, at);
    if (!notes.ok()) return notes.status().WithContext("the last conversation with contact " + contact_id);
    v.last_notes = std::move(*notes);
  }
  return v;
}

Result<std::vector<ContactView>> OpenContacts(const EventLog& log, const CustomerState& state) {
  std::vector<ContactView> out;
  for (const auto& [id, c] : state.contacts) {
    Result<ContactView> v = OpenContact(log, id, c);
    if (!v.ok()) return v.status().WithContext(state.id);
    out.push_back(std::move(*v));
  }
  // Key contacts first; the map gave them in id order, which stable_sort keeps.
  std::stable_sort(out.begin(), out.end(), [](const ContactView& a, const ContactView& b) {
    return a.contact.key_contact && !b.contact.key_contact;
  });
  return out;
}

void SealContacts(std::vector<ContactView>& people, std::string_view why) {
  for (ContactView& c : people) {
    for (OpenedPersonal* p : {&c.personal, &c.last_notes}) {
      if (p->state == OpenedPersonal::State::kNone) continue;
      *p = OpenedPersonal{};
      p->state = OpenedPersonal::State::kUnavailable;
      p->why = std::string(why);
    }
  }
}

std::string ContactViewToJson(const ContactView& v) { return json::serialize(ContactValue(v)); }

std::string CustomerWithPeopleToJson(const CustomerState& state, const std::vector<ContactView>& people) {
  json::value customer = json::parse(CustomerToJson(state));
  json::array list;
  for (const ContactView& v : people) list.push_back(ContactValue(v));
  customer.as_object()["people"] = std::move(list);
  return json::serialize(customer);
}

}  // namespace custodian
