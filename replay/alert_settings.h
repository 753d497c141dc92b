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
  std::string webhook;              // http:// or https:// URL, any credential in it redacted; empty: none
  std::string webhook_fingerprint;  // with a redacted credential: which secret URL it stands for
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

// --- Changing the settings ---

// A webhook URL that carries a credential, as the store's secrets file keeps
// it: the full URL, and its fingerprint, "sha256:" and the first 32 hex
// digits of SHA-256(key || url) under a random 32-byte key kept beside it (so
// the fingerprint in the log gives away nothing about a weak password).
struct WebhookSecret {
  std::string url, key, fingerprint;  // key: 64 hex digits
};

// A change asked for as KEY=VALUE settings (`custodian alerts config --set`).
struct AlertSettingsChange {
  std::string data;      // the alerts.configured data: never a credential
  WebhookSecret secret;  // set when the webhook URL carries a credential
};

// InvalidArgument naming the setting and what was expected: an unknown key,
// a value that is not a number >= 0 (whole for counts), a webhook that is
// not "off" or a valid URL (core/webhook_url.h). A webhook URL with a
// credential is recorded redacted with a fingerprint; the full URL is in
// `secret`, for KeepWebhookSecret. Messages never repeat a credential.
Result<AlertSettingsChange> ParseAlertSettings(const std::vector<std::string>& settings);

// The secrets file of a store, beside its checkpoint key: mode 0600.
inline constexpr char kWebhookSecretFile[] = "webhook.url";

// Writes `secret` to <data_dir>/webhook.url (mode 0600, replaced
// atomically and synced), keeping only the entry whose fingerprint is
// `in_force` (the webhook the settings name now) besides it.
Status KeepWebhookSecret(const std::string& data_dir, const WebhookSecret& secret, std::string_view in_force);

// The URL to call for the settings `c`: "" when the webhook is off; the URL
// itself when it carries no credential; else the full URL from the secrets
// file whose fingerprint and redaction match. NotFound when the file holds
// no such entry; FailedPrecondition when the file is not a regular file of
// mode 0600 owned by this user (the credential is then not used).
Result<std::string> WebhookUrlInForce(const std::string& data_dir, const AlertConfig& c);

}  // namespace custodian
