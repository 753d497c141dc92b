// The alert settings as `custodian alerts config --set` asks for them
// (replay/alert_settings.h): strict parsing, and a webhook credential kept in
// the store's owner-only secrets file, never in the data bound for the log.
#include "replay/alert_settings.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/test_util.h"

namespace custodian {
namespace {

namespace json = boost::json;
using testing::TempDir;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST_CASE("settings parse into alerts.configured data, and bad ones are refused naming the setting", "[alert_settings]") {
  Result<AlertSettingsChange> c = ParseAlertSettings(
      {"mass_export_customers=150", "baseline_factor=2.5", "webhook=http://soc.example.com:8080/hook"});
  REQUIRE(c.ok());
  const json::object d = json::parse(c->data).as_object();
  CHECK(d.at("mass_export_customers").to_number<uint64_t>() == 150);
  CHECK(d.at("baseline_factor").as_double() == 2.5);
  CHECK(d.at("webhook").as_string() == "http://soc.example.com:8080/hook");
  CHECK_FALSE(d.contains("webhook_fingerprint"));
  CHECK(c->secret.url.empty());
  CHECK(json::parse(ParseAlertSettings({"webhook=off"})->data).as_object().at("webhook").as_string() == "off");

  struct Case {
    std::string setting, message;
  };
  for (const Case& bad : std::vector<Case>{
           {"nonsense=1", "--set nonsense: unknown setting; the settings are webhook, export_records_per_day"},
           {"views_per_day", "--set views_per_day: expected KEY=VALUE"},
           {"views_per_day=2.5", "--set views_per_day=2.5: expected a whole number >= 0"},
           {"baseline_factor=-1", "expected a number >= 0"},
           {"webhook=ftp://x", "--set webhook: webhook URL: the scheme 'ftp' is not supported"},
           {"webhook=https://bot:secret@soc.example.com:99999/hook", "the port '99999' is not a number from 1 to 65535"},
           {"webhook=https://soc example.com/", "is a space"},
           {"webhook=https://bot:secret@soc_example.com/", "the host 'soc_example.com' has the character '_'"},
       }) {
    INFO(bad.setting);
    Result<AlertSettingsChange> r = ParseAlertSettings({bad.setting});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(r.status().message(), Catch::Contains(bad.message));
    CHECK_THAT(r.status().message(), !Catch::Contains("secret"));
  }
}

TEST_CASE("a webhook credential goes to the owner-only secrets file, and the log's data holds it redacted with a "
          "fingerprint",
          "[alert_settings]") {
  TempDir tmp;
  const std::string full = "https://bot:secret@127.0.0.1:8443/hook?token=secret2";
  Result<AlertSettingsChange> c = ParseAlertSettings({"webhook=" + full});
  REQUIRE(c.ok());
  CHECK(c->data.find("secret") == std::string::npos);
  const json::object d = json::parse(c->data).as_object();
  CHECK(d.at("webhook").as_string() == "https://***@127.0.0.1:8443/hook?token=***");
  const std::string fingerprint(d.at("webhook_fingerprint").as_string());
  CHECK(fingerprint.size() == 39);
  CHECK(fingerprint.starts_with("sha256:"));
  CHECK(c->secret.url == full);
  CHECK(c->secret.fingerprint == fingerprint);
  // The same URL set twice gets another fingerprint: it is keyed, not a plain hash of the URL.
  CHECK(json::parse(ParseAlertSettings({"webhook=" + full})->data).as_object().at("webhook_fingerprint") !=
        d.at("webhook_fingerprint"));

  AlertConfig config;
  REQUIRE(ApplyAlertSettings(config, c->data).ok());
  CHECK(config.webhook == "https://***@127.0.0.1:8443/hook?token=***");
  CHECK(config.webhook_fingerprint == fingerprint);
  // Before the secret is kept, the URL cannot be resolved.
  Result<std::string> missing = WebhookUrlInForce(tmp.path(), config);
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK_THAT(missing.status().message(), Catch::Contains(fingerprint));
  CHECK_THAT(missing.status().message(), !Catch::Contains("secret@"));

  REQUIRE(KeepWebhookSecret(tmp.path(), c->secret, "").ok());
  const std::string path = tmp.Sub(kWebhookSecretFile);
  struct stat st;
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 07777) == 0600);
  Result<std::string> url = WebhookUrlInForce(tmp.path(), config);
  REQUIRE(url.ok());
  CHECK(*url == full);

  // A new secret keeps the one in force beside it, and drops the others.
  Result<AlertSettingsChange> next = ParseAlertSettings({"webhook=https://bot:other@127.0.0.1:8443/hook"});
  REQUIRE(next.ok());
  REQUIRE(KeepWebhookSecret(tmp.path(), next->secret, fingerprint).ok());
  CHECK(WebhookUrlInForce(tmp.path(), config).ok());
  Result<AlertSettingsChange> third = ParseAlertSettings({"webhook=https://bot:third@127.0.0.1:8443/hook"});
  REQUIRE(third.ok());
  REQUIRE(KeepWebhookSecret(tmp.path(), third->secret, next->secret.fingerprint).ok());
  CHECK(WebhookUrlInForce(tmp.path(), config).status().code() == StatusCode::kNotFound);
  CHECK(Slurp(path).find("secret2") == std::string::npos);

  // A secrets file others can read is not used.
  REQUIRE(KeepWebhookSecret(tmp.path(), c->secret, "").ok());
  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  Result<std::string> open = WebhookUrlInForce(tmp.path(), config);
  CHECK(open.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(open.status().message(), Catch::Contains("mode 0644"));
  CHECK_THAT(open.status().message(), Catch::Contains("expected a regular file of mode 0600"));
  // Nor an entry whose URL does not match the fingerprint (edited by hand).
  REQUIRE(::chmod(path.c_str(), 0600) == 0);
  std::string text = Slurp(path);
  text.replace(text.find("bot:secret"), 10, "bot:forged");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  CHECK(WebhookUrlInForce(tmp.path(), config).status().code() == StatusCode::kNotFound);

  // A webhook without a credential needs no secret.
  AlertConfig plain;
  REQUIRE(ApplyAlertSettings(plain, ParseAlertSettings({"webhook=http://soc.example.com/hook"})->data).ok());
  CHECK(*WebhookUrlInForce(tmp.path(), plain) == "http://soc.example.com/hook");
  CHECK(*WebhookUrlInForce(tmp.path(), AlertConfig{}) == "");
}

}  // namespace
}  // namespace custodian
