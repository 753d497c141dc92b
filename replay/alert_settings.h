// The exfiltration rules' settings (docs/access-and-alerts.md, "Settings and
// the webhook"): what an alerts.configured event sets, folded in log order by
// the alerts projection (replay/alerts.h), and what each change changed, which
// the projection turns into a settings_changed alert. Who may change them is
// the log's rule 'settings' (core/rules.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace custodian {

struct AlertConfig {
  uint64_t export_records_per_day = 1'000, export_records_per_day_leaving = 500;
  uint64_t views_per_day = 100, views_per_day_leaving = 40;
  double baseline_factor = 5, baseline_factor_leaving = 2;
  uint64_t mass_export_customers = 100, mass_export_customers_leaving = 25;
  uint64_t unserved_customers_per_day = 20, unserved_customers_per_day_leaving = 5;
  std::string webhook;  // http:// URL; empty: none
};

// One setting an alerts.configured changed, in words: "100", "off".
struct SettingChange {
  std::string setting, from, to;
  bool loosens = false;  // a limit or factor went up, or the webhook moved or was turned off
};

// Applies the data of an alerts.configured event to `c` and returns what it
// changed, in the order AlertConfigToJson lists the settings (settings given
// their current value are not changes). Corruption when the data is not a
// JSON object.
Result<std::vector<SettingChange>> ApplyAlertSettings(AlertConfig& c, std::string_view data);

// The alerts.configured data that sets `c` (every field).
std::string AlertConfigToJson(const AlertConfig& c);
// The settings a stored AlertConfigToJson holds (defaults for what it lacks).
AlertConfig AlertConfigFromJson(std::string_view text);

}  // namespace custodian
