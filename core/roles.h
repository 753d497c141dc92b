// What the roles of staff carry (DESIGN.md, Identity and roles;
// docs/access-and-alerts.md, "Roles and duties"). A role is the label that
// staff.joined and staff.role_changed give a member of staff ("role":
// "account_executive"); the HR system chooses the labels. Only the roles
// listed here carry a duty beyond the person's own customers and team; any
// other label (account_executive, sales_manager, ...) carries none. Roles
// match exactly: "sales_director" is listed, "regional_sales_director" is not.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace custodian {

// The roles whose duty includes the exfiltration rules' settings and the
// alert webhook (alerts.configured; core/rules.h, rule 'settings').
inline constexpr std::array<std::string_view, 4> kAlertSettingsRoles = {"admin", "compliance_officer",
                                                                        "head_of_sales", "sales_director"};

bool ChangesAlertSettings(std::string_view role);

// The roles whose duty spans the company: they serve every customer
// (docs/access-and-alerts.md, "Who serves a customer"), so their reads are
// never unserved and listings across the company show them everything.
inline constexpr std::array<std::string_view, 5> kCompanyWideRoles = {"admin", "auditor", "compliance_officer",
                                                                      "head_of_sales", "sales_director"};

bool ServesEveryCustomer(std::string_view role);
std::string CompanyWideRolesText();

// "admin, compliance_officer, head_of_sales or sales_director", for messages.
std::string AlertSettingsRolesText();

// The roles whose duty is people's personal data: erasing a subject and
// placing or releasing a legal hold (subject.erased, subject.hold_placed,
// subject.hold_released; core/rules.h, rule 'privacy').
inline constexpr std::array<std::string_view, 4> kPrivacyRoles = {"admin", "compliance_officer",
                                                                  "data_protection_officer", "legal_counsel"};
bool HandlesPersonalData(std::string_view role);
std::string PrivacyRolesText();

// Whether a holder whose role is `holder_role` (`principal`: registered by
// principal.registered, not sales staff) may hold an API token of
// `token_role`: the two token roles that read every customer are bounded by
// the holder's own duty (an admin token by role admin; an auditor token by a
// company-wide or privacy duty, or by being a registered principal, such as
// an auditor or outside counsel); rep and manager tokens reach only what the
// holder serves or oversees, and ingest names nobody. Empty when they may,
// else why not (CreateToken at creation; the server at every request, so a
// holder whose role changed loses what it no longer carries).
std::string TokenRoleRefusal(std::string_view token_role, std::string_view holder_role, bool principal);

}  // namespace custodian
