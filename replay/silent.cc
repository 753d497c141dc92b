#include "replay/silent.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "replay/customer.h"
#include "replay/payload_fields.h"

namespace json = boost::json;

namespace custodian {
namespace {

using payload::Str;

constexpr int64_t kMicrosPerDay = int64_t{86400} * kMicrosPerSecond;

struct Win {
  bool order = false;  // order.placed, else deal.won
  std::string id;
  Timestamp at;
  std::string by;
};

struct CustomerRecord {
  std::string name, owner;
  std::optional<Timestamp> owner_since, first_seen;
  std::vector<int64_t> contacts;  // occurred_at of every interaction.logged, sorted
  std::string last_by, last_channel;  // of the contact that occurred last
  std::vector<Win> wins;              // in log order
};

// Stored: {"n","o","os","f","i":[times],"lb","lc","w":[[0 deal|1 order, id, at, by], ...]}
std::string Encode(const CustomerRecord& c) {
  json::object o;
  o["n"] = c.name;
  o["o"] = c.owner;
  o["os"] = payload::MicrosJson(c.owner_since);
  o["f"] = payload::MicrosJson(c.first_seen);
  json::array contacts;
  contacts.reserve(c.contacts.size());
  for (int64_t t : c.contacts) contacts.push_back(t);
  o["i"] = std::move(contacts);
  o["lb"] = c.last_by;
  o["lc"] = c.last_channel;
  json::array wins;
  for (const Win& w : c.wins) wins.push_back(json::array{w.order ? 1 : 0, json::value(w.id), w.at.value(), json::value(w.by)});
  o["w"] = std::move(wins);
  return json::serialize(o);
}

Result<CustomerRecord> Decode(std::string_view text, std::string_view key) {
  Result<json::object> parsed = payload::ParseState(text, key);
  if (!parsed.ok()) return parsed.status();
  const json::object& o = *parsed;
  CustomerRecord c;
  c.name = Str(o, "n");
  c.owner = Str(o, "o");
  c.owner_since = payload::Micros(o, "os");
  c.first_seen = payload::Micros(o, "f");
  c.last_by = Str(o, "lb");
  c.last_channel = Str(o, "lc");
  try {
    const json::array& contacts = o.at("i").as_array();
    c.contacts.reserve(contacts.size());
    for (const auto& t : contacts) c.contacts.push_back(t.to_number<int64_t>());
    for (const auto& v : o.at("w").as_array()) {
      const json::array& a = v.as_array();
      c.wins.push_back(Win{a.at(0).to_number<int>() == 1, std::string(a.at(1).as_string()),
                           Timestamp(a.at(2).to_number<int64_t>()), std::string(a.at(3).as_string())});
    }
  } catch (const std::exception& e) {
    return payload::StateMalformed(key, kSilentProjection, e.what());
  }
  return c;
}

Status Apply(CustomerRecord& c, const Event& e) {
  if (!c.first_seen || e.occurred_at < *c.first_seen) c.first_seen = e.occurred_at;
  const std::string& t = e.type;
  if (t != "customer.registered" && t != "customer.updated" && t != "customer.owner_assigned" &&
      t != "interaction.logged" && t != "deal.won" && t != "order.placed") {
    return Status::Ok();
  }
  Result<json::object> parsed = payload::ParseData(e);
  if (!parsed.ok()) return parsed.status();
  const json::object& d = *parsed;
  if (t == "customer.registered" || t == "customer.updated") {
    if (std::string name = Str(d, "name"); !name.empty()) c.name = std::move(name);
  } else if (t == "customer.owner_assigned") {
    c.owner = Str(d, "owner");
    c.owner_since = e.occurred_at;
  } else if (t == "interaction.logged") {
    const int64_t at = e.occurred_at.value();
    // Ties go to the later entry, as in the customer projection's last contact.
    if (c.contacts.empty() || at >= c.contacts.back()) {
      c.last_by = e.actor;
      c.last_channel = Str(d, "channel");
    }
    c.contacts.insert(std::upper_bound(c.contacts.begin(), c.contacts.end(), at), at);
  } else {
    const bool order = t == "order.placed";
    c.wins.push_back(Win{order, Str(d, order ? "order_id" : "deal_id"), e.occurred_at, e.actor});
  }
  return Status::Ok();
}

class SilentProjection final : public Projection {
 public:
  SilentProjection(const EventLog* log, std::optional<Timestamp> happened_by) : log_(log), happened_by_(happened_by) {}
  std::string_view name() const override { return kSilentProjection; }
  // 2: corrections and retractions take effect (state of version 1 counts
  // fixed events as first recorded, so it is folded again). 3: a retracted
  // correction corrects nothing (logs from before rule `fix`).
  uint32_t state_version() const override { return 3; }

  Status Apply(std::span<const Event> events, StateView& state) const override {
    // Group by customer, keeping each customer's order: each touched key is
    // read and written once per chunk.
    std::map<std::string_view, std::vector<const Event*>> by_customer;
    for (const Event& e : events) {
      if (e.stream.starts_with("customer-")) by_customer[e.stream].push_back(&e);
    }
    for (const auto& [customer, list] : by_customer) {
      const std::string key = "c/" + std::string(customer);
      Result<CustomerRecord> c = LoadRecord<CustomerRecord>(state, key, Decode);
      if (!c.ok()) return c.status();
      CUSTODIAN_RETURN_IF_ERROR(FoldStream<CustomerRecord>(
          log_, list, *c, [](CustomerRecord& r, const Event& x) { return custodian::Apply(r, x); }, happened_by_));
      state.Put(key, Encode(*c));
    }
    return Status::Ok();
  }

 private:
  const EventLog* log_;
  const std::optional<Timestamp> happened_by_;  // a view as of a business time: what it selects
};

// The latest contact at or before `t`, if any.
std::optional<Timestamp> ContactAtOrBefore(const std::vector<int64_t>& contacts, Timestamp t) {
  auto it = std::upper_bound(contacts.begin(), contacts.end(), t.value());
  if (it == contacts.begin()) return std::nullopt;
  return Timestamp(*std::prev(it));
}

json::value OrNull(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

}  // namespace

std::unique_ptr<Projection> MakeSilentProjection(const EventLog* log, std::optional<Timestamp> happened_by) {
  return std::make_unique<SilentProjection>(log, happened_by);
}

Result<SilentReport> FindSilentCustomers(const StateReader& state, int days, Timestamp now) {
  if (days < 0) return Status::InvalidArgument("the silence window must be 0 days or more, not " + std::to_string(days));
  SilentReport report;
  report.now = now;
  report.days = days;
  const int64_t window = days * kMicrosPerDay;
  Status failed = Status::Ok();
  CUSTODIAN_RETURN_IF_ERROR(state.Scan("c/", [&](std::string_view key, std::string_view value) {
    Result<CustomerRecord> c = Decode(value, key);
    if (!c.ok()) {
      failed = c.status();
      return false;
    }
    const std::string customer(key.substr(2));
    if (!c->owner.empty() && c->first_seen && *c->first_seen <= now) {
      const std::optional<Timestamp> last = ContactAtOrBefore(c->contacts, now);
      const Timestamp since = last.value_or(*c->first_seen);
      if (now.value() - since.value() > window) {
        SilentCustomer s;
        s.customer = customer;
        s.name = c->name;
        s.owner = c->owner;
        s.owner_since = c->owner_since;
        s.last_contact = last;
        // The latest contact's details are known when it is the latest one of all.
        if (last && !c->contacts.empty() && last->value() == c->contacts.back()) {
          s.last_contact_by = c->last_by;
          s.last_contact_channel = c->last_channel;
        }
        s.silent_since = since;
        s.days_silent = (now.value() - since.value()) / kMicrosPerDay;
        report.silent.push_back(std::move(s));
      }
    }
    for (const Win& w : c->wins) {
      if (w.at > now) continue;
      const std::optional<Timestamp> before = ContactAtOrBefore(c->contacts, w.at);
      if (before && w.at.value() - before->value() <= window) continue;
      report.wins.push_back(UncontactedWin{customer, c->name, c->owner, w.order ? "order.placed" : "deal.won", w.id,
                                           w.at, w.by, before});
    }
    return true;
  }));
  CUSTODIAN_RETURN_IF_ERROR(failed);
  std::sort(report.silent.begin(), report.silent.end(), [](const SilentCustomer& a, const SilentCustomer& b) {
    return std::tie(a.silent_since, a.customer) < std::tie(b.silent_since, b.customer);
  });
  std::sort(report.wins.begin(), report.wins.end(), [](const UncontactedWin& a, const UncontactedWin& b) {
    return std::tie(b.at, a.customer, a.id) < std::tie(a.at, b.customer, b.id);
  });
  return report;
}

std::string SilentCustomerToJson(const SilentCustomer& s) {
  json::object o;
  o["kind"] = "silent";
  o["customer"] = s.customer;
  o["name"] = OrNull(s.name);
  o["owner"] = s.owner;
  o["owner_since"] = payload::TimeJson(s.owner_since);
  o["last_contact_at"] = payload::TimeJson(s.last_contact);
  o["last_contact_by"] = OrNull(s.last_contact_by);
  o["last_contact_channel"] = OrNull(s.last_contact_channel);
  o["silent_since"] = FormatRfc3339(s.silent_since);
  o["days_silent"] = s.days_silent;
  return json::serialize(o);
}

std::string UncontactedWinToJson(const UncontactedWin& w) {
  json::object o;
  o["kind"] = "uncontacted_win";
  o["customer"] = w.customer;
  o["name"] = OrNull(w.name);
  o["owner"] = OrNull(w.owner);
  o["type"] = w.type;
  o["id"] = w.id;
  o["at"] = FormatRfc3339(w.at);
  o["by"] = w.by;
  o["last_contact_before"] = payload::TimeJson(w.last_contact_before);
  return json::serialize(o);
}

}  // namespace custodian
