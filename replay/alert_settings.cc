#include "replay/alert_settings.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "core/fd.h"
#include "core/sha256.h"
#include "core/webhook_url.h"
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
std::string WebhookText(const std::string& webhook, const std::string& fingerprint) {
  return fingerprint.empty() ? WebhookText(webhook) : webhook + " (" + fingerprint + ")";
}

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
    const std::string fingerprint = to.empty() ? std::string() : payload::Str(d, "webhook_fingerprint");
    if (to != c.webhook || fingerprint != c.webhook_fingerprint) {
      changes.push_back({"webhook", WebhookText(c.webhook, c.webhook_fingerprint), WebhookText(to, fingerprint), true});
    }
    c.webhook = to;
    c.webhook_fingerprint = fingerprint;
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
  if (!c.webhook_fingerprint.empty()) o["webhook_fingerprint"] = c.webhook_fingerprint;
  return json::serialize(o);
}

AlertConfig AlertConfigFromJson(std::string_view text) {
  AlertConfig c;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (!ec && v.is_object()) (void)Apply(c, v.get_object());
  return c;
}

// --- Changing the settings ---

namespace {

std::string Fingerprint(std::string_view key_hex, std::string_view url) {
  std::string key;
  for (size_t i = 0; i + 1 < key_hex.size(); i += 2) {
    key.push_back(static_cast<char>(std::strtoul(std::string(key_hex.substr(i, 2)).c_str(), nullptr, 16)));
  }
  return "sha256:" + HexOf(Sha256(key + std::string(url))).substr(0, 32);
}

Status Errno(const std::string& what) { return Status::IoError(what + ": " + std::strerror(errno)); }

// The entries of the secrets file, or nothing when there is none.
Result<std::vector<WebhookSecret>> ReadSecrets(const std::string& path) {
  std::vector<WebhookSecret> out;
  const Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return out;
    if (errno == ELOOP) return Status::FailedPrecondition(path + " is a symbolic link; expected a regular file of mode 0600");
    return Errno("open " + path);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Errno("stat " + path);
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 07777) != 0600) {
    return Status::FailedPrecondition(fmt::format(
        "{} is {}mode {:04o}, owned by uid {}; expected a regular file of mode 0600 owned by uid {} (the user running "
        "custodian): the webhook's credential is not used",
        path, S_ISREG(st.st_mode) ? "" : "not a regular file, ", st.st_mode & 07777, st.st_uid, ::geteuid()));
  }
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("read " + path);
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  size_t line_no = 0;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + at, end - at);
    at = end + 1;
    ++line_no;
    if (line.empty()) continue;
    Result<json::object> o = payload::ParseState(line, path + " line " + std::to_string(line_no));
    if (!o.ok()) return o.status();
    out.push_back(WebhookSecret{payload::Str(*o, "url"), payload::Str(*o, "key"), payload::Str(*o, "fingerprint")});
  }
  return out;
}

}  // namespace

Result<AlertSettingsChange> ParseAlertSettings(const std::vector<std::string>& settings) {
  AlertSettingsChange change;
  json::object data;
  for (const std::string& kv : settings) {
    const size_t eq = kv.find('=');
    const std::string key = kv.substr(0, eq), value = eq == std::string::npos ? "" : kv.substr(eq + 1);
    if (eq == std::string::npos || value.empty()) {
      return Status::InvalidArgument("--set " + key + ": expected KEY=VALUE, e.g. mass_export_customers=150");
    }
    if (key == "webhook") {
      data.erase("webhook_fingerprint");
      change.secret = WebhookSecret{};
      if (value == "off") {
        data["webhook"] = "off";
        continue;
      }
      Result<WebhookUrl> url = ParseWebhookUrl(value);
      if (!url.ok()) return url.status().WithContext("--set webhook");
      if (!url->HasCredential()) {
        data["webhook"] = url->Full();
        continue;
      }
      change.secret.url = url->Full();
      change.secret.key = HexOf(RandomKey256());
      change.secret.fingerprint = Fingerprint(change.secret.key, change.secret.url);
      data["webhook"] = url->Redacted();
      data["webhook_fingerprint"] = change.secret.fingerprint;
      continue;
    }
    const Setting* s = nullptr;
    for (const Setting& candidate : kSettings) {
      if (key == candidate.name) s = &candidate;
    }
    if (s == nullptr) {
      std::string known = "webhook";
      for (const Setting& k : kSettings) known += std::string(", ") + k.name;
      return Status::InvalidArgument("--set " + key + ": unknown setting; the settings are " + known);
    }
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (*end != 0 || !(v >= 0) || (s->count && (v != std::floor(v) || v >= 1.8e19))) {
      return Status::InvalidArgument("--set " + kv + ": expected " + (s->count ? "a whole" : "a") + " number >= 0");
    }
    if (s->count) {
      data[key] = static_cast<uint64_t>(v);
    } else {
      data[key] = v;
    }
  }
  change.data = json::serialize(data);
  return change;
}

Status KeepWebhookSecret(const std::string& data_dir, const WebhookSecret& secret, std::string_view in_force) {
  const std::string path = data_dir + "/" + kWebhookSecretFile;
  Result<std::vector<WebhookSecret>> kept = ReadSecrets(path);
  std::vector<WebhookSecret> entries{secret};
  // A file that is not owner-only is replaced: nothing of it is trusted.
  if (kept.ok()) {
    for (WebhookSecret& e : *kept) {
      if (!in_force.empty() && e.fingerprint == in_force && e.fingerprint != secret.fingerprint) {
        entries.push_back(std::move(e));
      }
    }
  } else if (kept.status().code() != StatusCode::kFailedPrecondition) {
    return kept.status();
  }
  std::string text;
  for (const WebhookSecret& e : entries) {
    json::object o;
    o["fingerprint"] = e.fingerprint;
    o["key"] = e.key;
    o["url"] = e.url;
    text += json::serialize(o) + "\n";
  }
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  const Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return Errno("open " + tmp);
  if (::fchmod(fd.get(), 0600) != 0) return Errno("chmod " + tmp);
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("write " + tmp);
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return Errno("fsync " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("rename " + tmp + " to " + path);
  const Fd dir(::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0 || ::fsync(dir.get()) != 0) return Errno("fsync " + data_dir);
  return Status::Ok();
}

Result<std::string> WebhookUrlInForce(const std::string& data_dir, const AlertConfig& c) {
  if (c.webhook.empty() || c.webhook_fingerprint.empty()) return c.webhook;
  const std::string path = data_dir + "/" + kWebhookSecretFile;
  Result<std::vector<WebhookSecret>> secrets = ReadSecrets(path);
  if (!secrets.ok()) return secrets.status();
  for (const WebhookSecret& e : *secrets) {
    if (e.fingerprint != c.webhook_fingerprint || Fingerprint(e.key, e.url) != e.fingerprint) continue;
    Result<WebhookUrl> url = ParseWebhookUrl(e.url);
    if (url.ok() && url->Redacted() == c.webhook) return e.url;
  }
  return Status::NotFound("the credential of the webhook " + c.webhook + " (" + c.webhook_fingerprint + ") is not in " +
                          path + ": set the webhook again with custodian alerts config --set webhook=URL");
}

}  // namespace custodian
