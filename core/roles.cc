#include "core/roles.h"

#include <algorithm>
#include <string>

namespace custodian {
namespace {

template <size_t N>
bool Listed(const std::array<std::string_view, N>& roles, std::string_view role) {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

template <size_t N>
std::string Text(const std::array<std::string_view, N>& roles) {
  std::string out;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) out += i + 1 == N ? " or " : ", ";
    out += roles[i];
  }
  return out;
}

}  // namespace

bool ChangesAlertSettings(std::string_view role) { return Listed(kAlertSettingsRoles, role); }
std::string AlertSettingsRolesText() { return Text(kAlertSettingsRoles); }
bool ServesEveryCustomer(std::string_view role) { return Listed(kCompanyWideRoles, role); }
std::string CompanyWideRolesText() { return Text(kCompanyWideRoles); }
bool HandlesPersonalData(std::string_view role) { return Listed(kPrivacyRoles, role); }
std::string PrivacyRolesText() { return Text(kPrivacyRoles); }

std::string TokenRoleRefusal(std::string_view token_role, std::string_view holder_role, bool principal) {
  const std::string holds = holder_role.empty() ? std::string(" has no role the log knows")
                                                : "'s role is " + std::string(holder_role);
  if (token_role == "admin" && holder_role != "admin") {
    return "an admin token carries an admin's rights, and its holder" + holds + ", not admin";
  }
  if (token_role == "auditor" && !principal && !ServesEveryCustomer(holder_role) && !HandlesPersonalData(holder_role)) {
    return "an auditor token reads every customer, and its holder" + holds +
           ", a member of sales staff without a company-wide duty (" + CompanyWideRolesText() + ") or a duty for " +
           "personal data (" + PrivacyRolesText() + ")";
  }
  return "";
}

}  // namespace custodian
