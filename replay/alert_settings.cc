#include "replay/alert_settings.h"

#include <cmath>

#include <fmt/format.h>

#include "replay/payload_fields.h"

namespace json = boost::json;

namespace custodian {
namespace {

// Every threshold setting, in the order they are listed: a count or a factor.
struct Setting {
  const char* name;
  uint64_t AlertConfig::*count;
  double AlertConfig::*factor;
};
constexpr Setting kSettings[] = {
    {"export_records_per_day", &AlertConfig::export_records_per_day, nullptr},
    {"export_records_per_day_leaving", &AlertConfig::export_records_per_day_leaving, nullptr},
    {"views_per_day", &AlertConfig::views_per_day, nullptr},
    {"views_per_day_leaving", &AlertConfig::views_per_day_leaving, nullptr},
    {"baseline_factor", nullptr, &AlertConfig::baseline_factor},
    {"baseline_factor_leaving", nullptr, &AlertConfig::baseline_factor_leaving},
    {"mass_export_customers", &AlertConfig::mass_export_customers, nullptr},
    {"mass_export_customers_leaving", &AlertConfig::mass_export_customers_leaving, nullptr},
    {"unserved_customers_per_day", &AlertConfig::unserved_customers_per_day, nullptr},
    {"unserved_customers_per_day_leaving", &AlertConfig::unserved_customers_per_day_leaving, nullptr},
};

// Whole numbers print as integers ("5", not "5E0").
json::value Number(double v) {
  if (v >= 0 && v == std::floor(v) && v < 9e15) return json::value(static_cast<uint64_t>(v));
  return json::value(v);
}
std::string Text(double v) {
  return v >= 0 && v == std::floor(v) && v < 9e15 ? std::to_string(static_cast<uint64_t>(v)) : fmt::format("{}", v);
}

std::string WebhookText(const std::string& webhook) { return webhook.empty() ? "off" : webhook; }

std::vector<SettingChange> Apply(AlertConfig& c, const json::object& d) {
  std::vector<SettingChange> changes;
  for (const Setting& s : kSettings) {
    auto it = d.find(s.name);
    if (it == d.end() || !it->value().is_number()) continue;
    if (s.count) {
      const std::optional<int64_t> v = payload::Int(d, s.name);
      if (!v) continue;
      const uint64_t from = c.*s.count, to = static_cast<uint64_t>(*v);
      if (to != from) changes.push_back({s.name, std::to_string(from), std::to_string(to), to > from});
      c.*s.count = to;
    } else {
      const double from = c.*s.factor, to = it->value().to_number<double>();
      if (to != from) changes.push_back({s.name, Text(from), Text(to), to > from});
      c.*s.factor = to;
    }
  }
  if (d.contains("webhook")) {
    const std::string w = payload::Str(d, "webhook");
    const std::string to = w == "off" ? std::string() : w;
    if (to != c.webhook) changes.push_back({"webhook", WebhookText(c.webhook), WebhookText(to), true});
    c.webhook = to;
  }
  return changes;
}

}  // namespace

Result<std::vector<SettingChange>> ApplyAlertSettings(AlertConfig& c, std::string_view data) {
  boost::system::error_code ec;
  json::value v = json::parse(data, ec);
  if (ec || !v.is_object()) return Status::Corruption("alerts.configured data is not a JSON object");
  return Apply(c, v.get_object());
}

std::string AlertConfigToJson(const AlertConfig& c) {
  json::object o;
  for (const Setting& s : kSettings) o[s.name] = s.count ? json::value(c.*s.count) : Number(c.*s.factor);
  o["webhook"] = WebhookText(c.webhook);
  return json::serialize(o);
}

AlertConfig AlertConfigFromJson(std::string_view text) {
  AlertConfig c;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (!ec && v.is_object()) (void)Apply(c, v.get_object());
  return c;
}

}  // namespace custodian
