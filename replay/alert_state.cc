#include "replay/alert_state.h"

#include "core/roles.h"
#include "core/time.h"
#include "replay/alerts.h"
#include "replay/payload_fields.h"

namespace json = boost::json;

namespace custodian::alert_state {

using payload::Int;
using payload::Str;

json::array Strings(const std::vector<std::string>& v) {
  json::array a;
  for (const std::string& s : v) a.emplace_back(s);
  return a;
}
std::vector<std::string> StringsOf(const json::value& v) {
  std::vector<std::string> out;
  if (!v.is_array()) return out;
  for (const json::value& s : v.get_array()) {
    if (s.is_string()) out.emplace_back(s.get_string());
  }
  return out;
}

std::string Encode(const StaffRec& s) {
  json::object o;
  o["r"] = s.role;
  o["t"] = s.team;
  if (!s.manager.empty()) o["m"] = s.manager;
  o["an"] = payload::MicrosJson(s.announced);
  o["dp"] = payload::MicrosJson(s.departed);
  o["f"] = s.first_day ? json::value(*s.first_day) : json::value(nullptr);
  json::array days;
  for (const Day& d : s.days) {
    days.push_back(json::array{d.day, d.views, d.exported, Strings(d.unserved), Strings(d.view_ids), Strings(d.export_ids)});
  }
  o["d"] = std::move(days);
  json::array fired;
  for (const std::string& f : s.fired) fired.emplace_back(f);
  o["x"] = std::move(fired);
  return json::serialize(o);
}

Result<StaffRec> DecodeStaff(std::string_view text, std::string_view key) {
  Result<json::object> parsed = payload::ParseState(text, key);
  if (!parsed.ok()) return parsed.status();
  const json::object& o = *parsed;
  StaffRec s;
  s.role = Str(o, "r");
  s.team = Str(o, "t");
  s.manager = Str(o, "m");
  s.announced = payload::Micros(o, "an");
  s.departed = payload::Micros(o, "dp");
  s.first_day = Int(o, "f");
  try {
    for (const json::value& v : o.at("d").as_array()) {
      const json::array& a = v.as_array();
      s.days.push_back(Day{a.at(0).to_number<int64_t>(), a.at(1).to_number<uint64_t>(), a.at(2).to_number<uint64_t>(),
                           StringsOf(a.at(3)), StringsOf(a.at(4)), StringsOf(a.at(5))});
    }
    for (std::string& f : StringsOf(o.at("x"))) s.fired.insert(std::move(f));
  } catch (const std::exception& e) {
    return payload::StateMalformed(key, kAlertsProjection, e.what());
  }
  return s;
}

std::string Encode(const CustomerRec& c) {
  json::object o;
  o["o"] = c.owner;
  o["t"] = c.team;
  json::object w;
  for (const auto& [staff, at] : c.workers) w[staff] = at;
  o["w"] = std::move(w);
  return json::serialize(o);
}

Result<CustomerRec> DecodeCustomer(std::string_view text, std::string_view key) {
  Result<json::object> parsed = payload::ParseState(text, key);
  if (!parsed.ok()) return parsed.status();
  const json::object& o = *parsed;
  CustomerRec c;
  c.owner = Str(o, "o");
  c.team = Str(o, "t");
  if (auto it = o.find("w"); it != o.end() && it->value().is_object()) {
    for (const auto& kv : it->value().get_object()) {
      if (kv.value().is_number()) c.workers[std::string(kv.key())] = kv.value().to_number<int64_t>();
    }
  }
  return c;
}

bool Serves(std::string_view staff, const StaffRec& s, const CustomerRec& c, const StaffRec* owner, Timestamp at) {
  if (ServesEveryCustomer(s.role)) return true;
  if (c.owner == staff) return true;
  if (!s.team.empty() && (c.team == s.team || (owner != nullptr && owner->team == s.team))) return true;
  if (owner != nullptr && owner->manager == staff) return true;
  constexpr int64_t kServeMicros = int64_t{kServeDays} * 86'400 * kMicrosPerSecond;
  if (auto it = c.workers.find(std::string(staff)); it != c.workers.end() && at.value() - it->second <= kServeMicros) {
    return true;
  }
  return false;
}

}  // namespace custodian::alert_state
