#include "replay/portfolio.h"

#include <algorithm>
#include <map>
#include <set>

#include "replay/customer.h"
#include "replay/payload_fields.h"

namespace json = boost::json;

namespace custodian {
namespace {

using payload::IsStaff;
using payload::Str;

struct CustomerRecord {
  std::string name, owner;
  std::optional<Timestamp> owner_since;
  std::set<std::string> deals;  // open deal ids
  struct Request {
    std::string assignee;
    bool open = true;
  };
  std::map<std::string, Request> requests;         // every request, so a reopen finds its assignee
  std::map<std::string, std::string> commitments;  // open ones: id -> owner
  struct Activity {
    Timestamp at;
    std::string type;
  };
  std::map<std::string, Activity> activity;  // by member of staff

  // Who holds something of this customer: the staff index lists it for them.
  std::set<std::string> Holders() const {
    std::set<std::string> out;
    if (IsStaff(owner)) out.insert(owner);
    for (const auto& [id, r] : requests) {
      if (r.open && IsStaff(r.assignee)) out.insert(r.assignee);
    }
    for (const auto& [id, o] : commitments) {
      if (IsStaff(o)) out.insert(o);
    }
    return out;
  }
};

struct StaffRecord {
  bool joined = false;
  std::string role, team;
  std::optional<Timestamp> departed_at;
  std::optional<Timestamp> announced_at, effective_at;  // staff.departure_announced
  std::string successor;
  std::set<std::string> customers;  // owned or holding open work
};

std::string Encode(const CustomerRecord& c) {
  json::object o;
  o["n"] = c.name;
  o["o"] = c.owner;
  o["os"] = payload::MicrosJson(c.owner_since);
  json::array deals;
  for (const auto& d : c.deals) deals.emplace_back(d);
  o["d"] = std::move(deals);
  json::object requests;
  for (const auto& [id, r] : c.requests) requests[id] = json::array{json::value(r.assignee), json::value(r.open)};
  o["r"] = std::move(requests);
  json::object commitments;
  for (const auto& [id, owner] : c.commitments) commitments[id] = owner;
  o["m"] = std::move(commitments);
  json::object activity;
  for (const auto& [staff, a] : c.activity) activity[staff] = json::array{json::value(a.at.value()), json::value(a.type)};
  o["a"] = std::move(activity);
  return json::serialize(o);
}

Result<CustomerRecord> DecodeCustomer(std::string_view text, std::string_view key) {
  Result<json::object> parsed = payload::ParseState(text, key);
  if (!parsed.ok()) return parsed.status();
  const json::object& o = *parsed;
  CustomerRecord c;
  c.name = Str(o, "n");
  c.owner = Str(o, "o");
  c.owner_since = payload::Micros(o, "os");
  try {
    for (const auto& d : o.at("d").as_array()) c.deals.emplace(d.as_string());
    for (const auto& [id, r] : o.at("r").as_object()) {
      const json::array& a = r.as_array();
      c.requests[std::string(id)] = {std::string(a.at(0).as_string()), a.at(1).as_bool()};
    }
    for (const auto& [id, owner] : o.at("m").as_object()) c.commitments[std::string(id)] = owner.as_string();
    for (const auto& [staff, v] : o.at("a").as_object()) {
      const json::array& a = v.as_array();
      c.activity[std::string(staff)] = {Timestamp(a.at(0).to_number<int64_t>()), std::string(a.at(1).as_string())};
    }
  } catch (const std::exception& e) {
    return payload::StateMalformed(key, kPortfolioProjection, e.what());
  }
  return c;
}

std::string Encode(const StaffRecord& s) {
  json::object o;
  o["j"] = s.joined;
  o["role"] = s.role;
  o["team"] = s.team;
  o["dep"] = payload::MicrosJson(s.departed_at);
  o["ann"] = payload::MicrosJson(s.announced_at);
  o["eff"] = payload::MicrosJson(s.effective_at);
  o["succ"] = s.successor;
  json::array customers;
  for (const auto& c : s.customers) customers.emplace_back(c);
  o["c"] = std::move(customers);
  return json::serialize(o);
}

Result<StaffRecord> DecodeStaff(std::string_view text, std::string_view key) {
  Result<json::object> parsed = payload::ParseState(text, key);
  if (!parsed.ok()) return parsed.status();
  const json::object& o = *parsed;
  StaffRecord s;
  s.joined = o.contains("j") && o.at("j").is_bool() && o.at("j").get_bool();
  s.role = Str(o, "role");
  s.team = Str(o, "team");
  s.departed_at = payload::Micros(o, "dep");
  s.announced_at = payload::Micros(o, "ann");
  s.effective_at = payload::Micros(o, "eff");
  s.successor = Str(o, "succ");
  if (auto it = o.find("c"); it != o.end() && it->value().is_array()) {
    for (const auto& c : it->value().get_array()) {
      if (!c.is_string()) return payload::StateMalformed(key, kPortfolioProjection, "a customer is not a string");
      s.customers.emplace(c.get_string());
    }
  }
  return s;
}

std::string CustomerKey(std::string_view customer) { return "c/" + std::string(customer); }
std::string StaffKey(std::string_view staff) { return "s/" + std::string(staff); }

Status ApplyToCustomer(CustomerRecord& c, const Event& e) {
  Result<json::object> parsed = payload::ParseData(e);
  if (!parsed.ok()) return parsed.status();
  const json::object& d = *parsed;
  const std::string& t = e.type;
  if (IsStaff(e.actor)) {
    auto [it, inserted] = c.activity.try_emplace(e.actor, CustomerRecord::Activity{e.occurred_at, t});
    if (!inserted && e.occurred_at >= it->second.at) it->second = {e.occurred_at, t};
  }
  if (t == "customer.registered" || t == "customer.updated") {
    if (std::string name = Str(d, "name"); !name.empty()) c.name = std::move(name);
  } else if (t == "customer.owner_assigned") {
    c.owner = Str(d, "owner");
    c.owner_since = e.occurred_at;
  } else if (t == "deal.opened") {
    c.deals.insert(Str(d, "deal_id"));
  } else if (t == "deal.won" || t == "deal.lost") {
    c.deals.erase(Str(d, "deal_id"));
  } else if (t == "request.opened") {
    c.requests[Str(d, "request_id")] = {"", true};
  } else if (t == "request.assigned") {
    if (auto it = c.requests.find(Str(d, "request_id")); it != c.requests.end()) it->second.assignee = Str(d, "assignee");
  } else if (t == "request.resolved" || t == "request.reopened") {
    if (auto it = c.requests.find(Str(d, "request_id")); it != c.requests.end()) it->second.open = t == "request.reopened";
  } else if (t == "commitment.made") {
    const std::string owner = Str(d, "owner");
    c.commitments[Str(d, "commitment_id")] = owner.empty() ? e.actor : owner;
  } else if (t == "commitment.fulfilled" || t == "commitment.cancelled") {
    c.commitments.erase(Str(d, "commitment_id"));
  } else if (t == "commitment.reassigned") {
    if (auto it = c.commitments.find(Str(d, "commitment_id")); it != c.commitments.end()) it->second = Str(d, "owner");
  }
  return Status::Ok();
}

Status ApplyToStaff(StaffRecord& s, const Event& e) {
  const std::string& t = e.type;
  if (t != "staff.joined" && t != "staff.role_changed" && t != "staff.departed" &&
      t != "staff.departure_announced") {
    return Status::Ok();
  }
  Result<json::object> parsed = payload::ParseData(e);
  if (!parsed.ok()) return parsed.status();
  const json::object& d = *parsed;
  if (t == "staff.departed") {
    s.departed_at = e.occurred_at;
    return Status::Ok();
  }
  if (t == "staff.departure_announced") {
    s.announced_at = e.occurred_at;
    s.effective_at = payload::Time(d, "effective_at");
    s.successor = Str(d, "successor");
    return Status::Ok();
  }
  if (t == "staff.joined") {
    s.joined = true;
    s.departed_at.reset();
    s.announced_at.reset();
    s.effective_at.reset();
    s.successor.clear();
  }
  if (std::string role = Str(d, "role"); !role.empty()) s.role = std::move(role);
  if (std::string team = Str(d, "team"); !team.empty()) s.team = std::move(team);
  return Status::Ok();
}

class PortfolioProjection final : public Projection {
 public:
  PortfolioProjection(const EventLog* log, std::optional<Timestamp> happened_by) : log_(log), happened_by_(happened_by) {}
  std::string_view name() const override { return kPortfolioProjection; }
  // 2: corrections and retractions take effect (state of version 1 counts
  // fixed events as first recorded, so it is folded again). 3: also on a
  // member of staff's record (a retracted departure announcement). 4: a
  // retracted correction corrects nothing (logs from before rule `fix`).
  uint32_t state_version() const override { return 4; }

  Status Apply(std::span<const Event> events, StateView& state) const override {
    // Group by stream, keeping each stream's order: every touched key is read
    // and written once per chunk.
    std::map<std::string_view, std::vector<const Event*>> by_stream;
    for (const Event& e : events) {
      if (e.stream.starts_with("customer-") || e.stream.starts_with("staff-")) by_stream[e.stream].push_back(&e);
    }
    std::map<std::string, StaffRecord, std::less<>> staff;  // loaded on first use, all written back
    auto staff_record = [&](std::string_view id) -> Result<StaffRecord*> {
      if (auto it = staff.find(id); it != staff.end()) return &it->second;
      Result<StaffRecord> s = LoadRecord<StaffRecord>(state, StaffKey(id), DecodeStaff);
      if (!s.ok()) return s.status();
      return &staff.emplace(std::string(id), std::move(*s)).first->second;
    };

    for (const auto& [stream, list] : by_stream) {
      if (stream.starts_with("staff-")) {
        Result<StaffRecord*> s = staff_record(stream);
        if (!s.ok()) return s.status();
        for (const Event* e : list) {
          if (log_ == nullptr || !IsFix(*e)) {
            CUSTODIAN_RETURN_IF_ERROR(ApplyToStaff(**s, *e));
            continue;
          }
          // A fix (a departure announced by mistake, retracted): the
          // employment folded again from the stream as the fixes make it;
          // the customers come from the customers' streams and stay.
          Result<std::vector<Event>> effective = EffectiveStreamThrough(*log_, *e, happened_by_);
          if (!effective.ok()) return effective.status();
          StaffRecord fresh;
          fresh.customers = std::move((*s)->customers);
          for (const Event& x : *effective) CUSTODIAN_RETURN_IF_ERROR(ApplyToStaff(fresh, x));
          **s = std::move(fresh);
        }
        continue;
      }
      const std::string key = CustomerKey(stream);
      Result<CustomerRecord> loaded = LoadRecord<CustomerRecord>(state, key, DecodeCustomer);
      if (!loaded.ok()) return loaded.status();
      CustomerRecord& c = *loaded;
      const std::set<std::string> before = c.Holders();
      CUSTODIAN_RETURN_IF_ERROR(FoldStream<CustomerRecord>(
          log_, list, c, [](CustomerRecord& r, const Event& x) { return ApplyToCustomer(r, x); }, happened_by_));
      const std::set<std::string> after = c.Holders();
      for (const std::string& id : before) {
        if (after.contains(id)) continue;
        Result<StaffRecord*> s = staff_record(id);
        if (!s.ok()) return s.status();
        (*s)->customers.erase(std::string(stream));
      }
      for (const std::string& id : after) {
        if (before.contains(id)) continue;
        Result<StaffRecord*> s = staff_record(id);
        if (!s.ok()) return s.status();
        (*s)->customers.insert(std::string(stream));
      }
      state.Put(key, Encode(c));
    }
    for (const auto& [id, s] : staff) state.Put(StaffKey(id), Encode(s));
    return Status::Ok();
  }

 private:
  const EventLog* log_;
  const std::optional<Timestamp> happened_by_;  // a view as of a business time: what it selects
};

}  // namespace

std::unique_ptr<Projection> MakePortfolioProjection(const EventLog* log, std::optional<Timestamp> happened_by) {
  return std::make_unique<PortfolioProjection>(log, happened_by);
}

Result<std::vector<std::string>> ListStaff(const StateReader& state) {
  std::vector<std::string> staff;
  CUSTODIAN_RETURN_IF_ERROR(state.Scan("s/", [&](std::string_view key, std::string_view) {
    staff.emplace_back(key.substr(2));
    return true;
  }));
  return staff;
}

Result<std::vector<std::string>> UnownedCustomersWithDeals(const StateReader& state) {
  std::vector<std::string> found;
  Status inner;
  CUSTODIAN_RETURN_IF_ERROR(state.Scan("c/", [&](std::string_view key, std::string_view text) {
    Result<CustomerRecord> c = DecodeCustomer(text, key);
    if (!c.ok()) {
      inner = c.status();
      return false;
    }
    if (c->owner.empty() && !c->deals.empty()) found.emplace_back(key.substr(2));
    return true;
  }));
  CUSTODIAN_RETURN_IF_ERROR(inner);
  return found;
}

Result<Portfolio> ReadPortfolio(const StateReader& state, const std::string& staff) {
  Result<std::optional<std::string>> stored = state.Get(StaffKey(staff));
  if (!stored.ok()) return stored.status();
  if (!*stored) return Status::NotFound(staff + " has no events in the portfolio projection");
  Result<StaffRecord> s = DecodeStaff(**stored, StaffKey(staff));
  if (!s.ok()) return s.status();
  Portfolio p;
  p.staff = staff;
  p.joined = s->joined;
  p.role = s->role;
  p.team = s->team;
  p.departed_at = s->departed_at;
  p.announced_at = s->announced_at;
  p.effective_at = s->effective_at;
  p.successor = s->successor;
  for (const std::string& customer : s->customers) {
    const std::string key = CustomerKey(customer);
    Result<std::optional<std::string>> value = state.Get(key);
    if (!value.ok()) return value.status();
    if (!*value) return Status::Corruption(StaffKey(staff) + " lists " + customer + ", which has no state");
    Result<CustomerRecord> c = DecodeCustomer(**value, key);
    if (!c.ok()) return c.status();
    PortfolioEntry entry;
    entry.customer = customer;
    entry.name = c->name;
    entry.owner = c->owner;
    entry.owned = c->owner == staff;
    entry.owner_since = c->owner_since;
    if (entry.owned) entry.open_deals = c->deals.size();
    for (const auto& [id, r] : c->requests) {
      if (!r.open) continue;
      if (r.assignee == staff) ++entry.open_requests;
      if (entry.owned && r.assignee.empty()) ++entry.unassigned_requests;
    }
    for (const auto& [id, owner] : c->commitments) entry.open_commitments += owner == staff ? 1 : 0;
    if (auto it = c->activity.find(staff); it != c->activity.end()) {
      entry.last_activity_at = it->second.at;
      entry.last_activity_type = it->second.type;
    }
    p.customers.push_back(std::move(entry));
  }
  std::stable_partition(p.customers.begin(), p.customers.end(), [](const PortfolioEntry& e) { return e.owned; });
  return p;
}

std::string PortfolioEntryToJson(const std::string& staff, const PortfolioEntry& e) {
  json::object o;
  o["staff"] = staff;
  o["customer"] = e.customer;
  o["name"] = e.name.empty() ? json::value(nullptr) : json::value(e.name);
  o["owned"] = e.owned;
  o["owner"] = e.owner.empty() ? json::value(nullptr) : json::value(e.owner);
  o["owner_since"] = payload::TimeJson(e.owner_since);
  o["open_deals"] = e.open_deals;
  o["open_requests"] = e.open_requests;
  o["unassigned_requests"] = e.unassigned_requests;
  o["open_commitments"] = e.open_commitments;
  o["last_activity_at"] = payload::TimeJson(e.last_activity_at);
  o["last_activity_type"] = e.last_activity_type.empty() ? json::value(nullptr) : json::value(e.last_activity_type);
  return json::serialize(o);
}

}  // namespace custodian
