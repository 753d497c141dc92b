// The alerts projection's stored records (replay/alerts.h, "Stored state")
// and the one definition of who serves a customer, shared by the projection's
// unserved_access rule and ServiceScope. Internal to replay/: Boost.JSON
// stays out of the public headers.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/types.h"

namespace custodian::alert_state {

inline constexpr size_t kUnservedKept = 1'000;  // distinct unserved customers kept per day

struct Day {
  int64_t day = 0;
  uint64_t views = 0, exported = 0;
  std::vector<std::string> unserved;  // distinct, at most kUnservedKept
  std::vector<std::string> view_ids, export_ids;
};

struct StaffRec {
  std::string role, team, manager;  // manager: as staff.joined or staff.role_changed named them
  std::optional<Timestamp> announced, departed;
  std::optional<int64_t> first_day;
  std::vector<Day> days;         // ascending, the last kBaselineDays + 1 days
  std::set<std::string> fired;   // "<rule>/<day>"
};

struct CustomerRec {
  std::string owner, team;
  std::map<std::string, int64_t> workers;  // staff -> last time they worked on it (micros)
};

boost::json::array Strings(const std::vector<std::string>& v);
std::vector<std::string> StringsOf(const boost::json::value& v);

std::string Encode(const StaffRec& s);
Result<StaffRec> DecodeStaff(std::string_view text, std::string_view key);
std::string Encode(const CustomerRec& c);
Result<CustomerRec> DecodeCustomer(std::string_view text, std::string_view key);

// Whether `staff` (whose record is `s`) serves the customer `c` at `at`
// (docs/access-and-alerts.md, "Who serves a customer"): a company-wide role
// (core/roles.h); its owner; staff of its team (the customer's, and its
// owner's), the team's manager included; the owner's manager; anyone
// assigned one of its requests or promises, or who recorded an event on it,
// within kServeDays. `owner` is the owner's record, null when unknown.
bool Serves(std::string_view staff, const StaffRec& s, const CustomerRec& c, const StaffRec* owner, Timestamp at);

}  // namespace custodian::alert_state
