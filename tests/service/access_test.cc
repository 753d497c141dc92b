#include "service/access.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/time.h"
#include "tests/service/sample_store.h"

namespace custodian {
namespace {

using testing::SampleStore;

// The sample with its projections up to date, as a query opens it
// (OpenForQuery), and staff-20, a compliance officer, and staff-30, an
// account executive of another team.
struct Company : SampleStore {
  Company() {
    Add("staff-20", "staff.joined", "system:hr-sync", R"({"role":"compliance_officer"})");
    Add("staff-30", "staff.joined", "system:hr-sync", R"({"role":"account_executive","team":"south"})");
    CatchUp();
  }
  void CatchUp() {
    Status s = CatchUpProjections(*log);
    INFO(s.ToString());
    REQUIRE(s.ok());
  }
};

TEST_CASE("the reads of one member of staff are listed in their window and the listing is recorded as a read",
          "[access]") {
  Company c;
  const size_t reads_before = c.Stream("access-staff-3").size();
  Result<StaffAccessLog> all = AccessByStaff(*c.log, c.As("staff-3"), "staff-12", std::nullopt, std::nullopt);
  INFO(all.status().ToString());
  REQUIRE(all.ok());
  // The sample: staff-12 viewed their portfolio, then exported 412 records of it as CSV.
  REQUIRE(all->rows.size() == 2);
  CHECK(all->views == 1);
  CHECK(all->exports == 1);
  CHECK(all->exported_records == 412);
  CHECK(all->customers == std::vector<std::string>{"customer-1001", "customer-1003"});
  CHECK_FALSE(all->rows[0].exported);
  CHECK(all->rows[0].view == "portfolio");
  CHECK(all->rows[0].records == 2);
  CHECK(all->rows[1].exported);
  CHECK(all->rows[1].view == "portfolio");  // the export's scope
  CHECK(all->rows[1].format == "csv");
  CHECK(all->rows[1].records == 412);
  const std::string json = StaffAccessLogToJson(*all);
  CHECK(json == EventToJson(all->rows[0].event, JsonFields::kWithLogFields) + "\n" +
                    EventToJson(all->rows[1].event, JsonFields::kWithLogFields) + "\n");

  const std::vector<Event> reads = c.Stream("access-staff-3");
  REQUIRE(reads.size() == reads_before + 1);
  CHECK(reads.back().data ==
        R"({"customers":["customer-1001","customer-1003"],"view":"access_log","count":2,"interface":"api"})");

  // [from, to): the export alone, at 10:02.
  Result<StaffAccessLog> window =
      AccessByStaff(*c.log, c.As("staff-3"), "staff-12", *ParseRfc3339("2026-02-20T10:00:00Z"),
                    *ParseRfc3339("2026-02-20T10:03:00Z"));
  REQUIRE(window.ok());
  REQUIRE(window->rows.size() == 1);
  CHECK(window->rows[0].exported);
  CHECK(window->views == 0);
}

TEST_CASE("who read one customer is listed from the access projection and the listing is recorded as a read",
          "[access]") {
  Company c;
  Result<CustomerAccessLog> first =
      AccessToCustomer(*c.log, c.As("staff-3"), "customer-1003", std::nullopt, std::nullopt);
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  // staff-12's view and export.
  REQUIRE(first->entries.size() == 2);
  CHECK(first->readers == 1);
  CHECK(first->entries[0].staff == "staff-12");
  CHECK_FALSE(first->entries[0].exported);
  CHECK(first->entries[1].exported);
  CHECK(first->entries[1].records == 412);
  CHECK(CustomerAccessLogToJson(*first) == AccessEntryToJson("customer-1003", first->entries[0]) + "\n" +
                                               AccessEntryToJson("customer-1003", first->entries[1]) + "\n");
  const Event read = c.Stream("access-staff-3").back();
  CHECK(read.data == R"({"customers":["customer-1003"],"view":"access_log","count":2,"interface":"api"})");

  // That listing was a read of customer-1003: once folded, it is listed too.
  c.CatchUp();
  Result<CustomerAccessLog> second =
      AccessToCustomer(*c.log, c.As("staff-3"), "customer-1003", std::nullopt, std::nullopt);
  REQUIRE(second.ok());
  REQUIRE(second->entries.size() == 3);
  CHECK(second->readers == 2);
  CHECK(second->entries[2].staff == "staff-3");
  CHECK(second->entries[2].view == "access_log");
}

TEST_CASE("a reader is listed the alerts they oversee, told how many were left out, and the listing is recorded",
          "[access]") {
  Company c;
  Result<std::vector<Alert>> every = ListAlerts(*c.log);
  REQUIRE(every.ok());
  REQUIRE(!every->empty());  // the sample's alert-501 about staff-12, at least

  // A company-wide role sees them all.
  Result<AlertListing> compliance = ListAlertsFor(*c.log, c.As("staff-20"), "");
  INFO(compliance.status().ToString());
  REQUIRE(compliance.ok());
  CHECK(compliance->alerts.size() == every->size());
  CHECK(compliance->left_out == 0);
  CHECK(compliance->scope.company_wide());
  CHECK(AlertListingToJson(*compliance).find(R"("alert_id":"alert-501")") != std::string::npos);
  const Event read = c.Stream("access-staff-20").back();
  CHECK(read.type == "data.viewed");
  CHECK_THAT(read.data, Catch::Contains(R"("customer-1001")"));
  CHECK_THAT(read.data, Catch::Contains(R"("customer-1003")"));
  CHECK_THAT(read.data, Catch::Contains(R"("view":"alerts","count":)" + std::to_string(every->size())));

  // An account executive of another team: none of them, and how many.
  Result<AlertListing> south = ListAlertsFor(*c.log, c.As("staff-30"), "");
  REQUIRE(south.ok());
  CHECK(south->alerts.empty());
  CHECK(south->left_out == every->size());
  CHECK(AlertListingToJson(*south).empty());
  CHECK(c.Stream("access-staff-30").back().data == R"({"customers":[],"view":"alerts","count":0,"interface":"api"})");

  // staff-3 manages staff-12; only the alerts about staff-12 when asked for those.
  Result<AlertListing> about = ListAlertsFor(*c.log, c.As("staff-3"), "staff-12");
  REQUIRE(about.ok());
  REQUIRE(!about->alerts.empty());
  for (const Alert& a : about->alerts) CHECK(a.staff == "staff-12");
  CHECK(about->about == "staff-12");
}

TEST_CASE("alert settings changed by the caller are on the record under their name and in force at once", "[access]") {
  Company c;
  Result<AlertConfig> before = AlertSettingsInForce(*c.log);
  REQUIRE(before.ok());
  CHECK(before->mass_export_customers == 100);

  Result<AlertSettingsChange> change = ParseAlertSettings({"mass_export_customers=150"});
  REQUIRE(change.ok());
  Result<AlertSettingsChanged> changed = ChangeAlertSettings(*c.log, c.As("staff-20"), *change, c.now);
  INFO(changed.status().ToString());
  REQUIRE(changed.ok());
  CHECK(changed->config.mass_export_customers == 150);
  CHECK(changed->changed_by == "staff-20");
  CHECK(changed->secret_file.empty());
  CHECK(AlertSettingsChangedToJson(*changed) == AlertConfigToJson(changed->config));

  const std::vector<Event> alerts = c.Stream("alerts");
  bool configured = false, raised = false;
  for (const Event& e : alerts) {
    if (e.position.value() == changed->position) {
      configured = e.type == "alerts.configured" && e.actor == "staff-20";
    }
    // The change raised its own alert.
    if (e.position.value() > changed->position && e.type == "alert.raised" &&
        e.data.find(R"("rule":"settings_changed")") != std::string::npos) {
      raised = true;
    }
  }
  CHECK(configured);
  CHECK(raised);
  Result<AlertConfig> after = AlertSettingsInForce(*c.log);
  REQUIRE(after.ok());
  CHECK(after->mass_export_customers == 150);
}

TEST_CASE(
    "alert settings changed by a role without that duty are refused and nothing is written, not even the "
    "webhook's credential",
    "[access]") {
  Company c;
  const size_t alerts_before = c.Stream("alerts").size();
  Result<AlertSettingsChange> change =
      ParseAlertSettings({"webhook=https://user:secret@127.0.0.1:1/hook", "mass_export_customers=100000"});
  REQUIRE(change.ok());
  REQUIRE(!change->secret.url.empty());
  Result<AlertSettingsChanged> refused = ChangeAlertSettings(*c.log, c.As("staff-7"), *change, c.now);
  REQUIRE(!refused.ok());
  CHECK(refused.status().code() == StatusCode::kRuleViolation);
  CHECK_THAT(refused.status().message(), Catch::Contains("rule 'settings'"));
  CHECK(c.Stream("alerts").size() == alerts_before);
  CHECK_FALSE(std::filesystem::exists(c.log->dir() + "/" + kWebhookSecretFile));
  Result<AlertConfig> in_force = AlertSettingsInForce(*c.log);
  REQUIRE(in_force.ok());
  CHECK(in_force->mass_export_customers == 100);

  // The compliance officer may; the credential goes to the secrets file alone.
  std::vector<std::string> warnings;
  SetWarningSink([&](std::string_view w) { warnings.emplace_back(w); });  // the webhook is not there
  Result<AlertSettingsChanged> changed = ChangeAlertSettings(*c.log, c.As("staff-20"), *change, c.now);
  SetWarningSink(nullptr);
  INFO(changed.status().ToString());
  REQUIRE(changed.ok());
  CHECK(changed->secret_file == c.log->dir() + "/" + kWebhookSecretFile);
  CHECK(std::filesystem::exists(changed->secret_file));
  CHECK(changed->config.webhook == "https://***@127.0.0.1:1/hook");
  CHECK(AlertSettingsChangedToJson(*changed).find("secret") == std::string::npos);
}

}  // namespace
}  // namespace custodian
