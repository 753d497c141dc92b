// The exfiltration rules (replay/alerts.h) at their thresholds: a day or an
// export exactly at the limit raises nothing, one more raises the alert.
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/json.h"
#include "replay/alerts.h"
#include "tests/replay/crm_test_util.h"

namespace custodian {
namespace {

using testing::CrmFixture;
using testing::Ev;
using testing::T;

std::string Customer(int n) { return "customer-" + std::to_string(n); }

std::string List(int first, int last) {
  std::string out = "[";
  for (int n = first; n <= last; ++n) out += (n > first ? "," : "") + ("\"" + Customer(n) + "\"");
  return out + "]";
}

// staff-1 (north) owns customer-1..150; staff-2 (south) owns customer-201..260;
// staff-5 manages the south team; staff-9 is the compliance officer. Everyone joined on 2026-01-01, so a baseline
// in March covers 30 days.
struct AlertsFixture : CrmFixture {
  AlertsFixture() {
    std::vector<Event> setup;
    auto join = [&](const char* staff, const char* role, const char* team) {
      setup.push_back(Ev(staff, "staff.joined", "system:hr-sync", "2026-01-01T08:00:00Z",
                         fmt::format(R"({{"role":"{}","team":"{}"}})", role, team)));
    };
    join("staff-1", "account_executive", "north");
    join("staff-2", "account_executive", "south");
    join("staff-5", "sales_manager", "south");
    join("staff-9", "compliance_officer", "compliance");
    auto own = [&](int first, int last, const char* owner) {
      for (int n = first; n <= last; ++n) {
        setup.push_back(Ev(Customer(n), "customer.owner_assigned", "system:crm-sync", "2026-01-02T08:00:00Z",
                           fmt::format(R"({{"owner":"{}","reason":"initial"}})", owner)));
      }
    };
    own(1, 150, "staff-1");
    own(201, 260, "staff-2");
    AddAll(std::move(setup));
    engine = std::make_unique<ProjectionEngine>(*log);
    engine->Add(MakeAlertsProjection());
  }

  void AddAll(std::vector<Event> events) {
    clock.Set(T("2026-06-01T00:00:00Z"));
    std::vector<AppendRequest> requests;
    for (Event& e : events) requests.push_back(AppendRequest{e.stream, ExpectedVersion::Any(), {std::move(e)}});
    Result<std::vector<AppendResult>> r = log->AppendBatch(std::move(requests));
    INFO(r.status().ToString());
    REQUIRE(r.ok());
  }

  std::string Export(const std::string& staff, const char* at, int first, int last, uint64_t records) {
    Event e = Ev("access-" + staff, "data.exported", staff, at,
                 fmt::format(R"({{"customers":{},"records":{},"format":"csv"}})", List(first, last), records));
    const std::string id = e.id.ToString();
    AddAll({std::move(e)});
    return id;
  }
  void Views(const std::string& staff, const char* at, int customer, int times) {
    std::vector<Event> views;
    for (int i = 0; i < times; ++i) {
      views.push_back(Ev("access-" + staff, "data.viewed", staff, at,
                         fmt::format(R"({{"customers":["{}"],"view":"customer_profile","count":1}})", Customer(customer))));
    }
    AddAll(std::move(views));
  }
  void ViewRange(const std::string& staff, const char* at, int first, int last) {
    AddAll({Ev("access-" + staff, "data.viewed", staff, at,
               fmt::format(R"({{"customers":{},"view":"search","count":{}}})", List(first, last), last - first + 1))});
  }
  void Announce(const std::string& staff, const char* at) {
    AddAll({Ev(staff, "staff.departure_announced", "system:hr-sync", at, R"({"effective_at":"2026-04-30T17:00:00Z"})")});
  }

  // Folds, raises, and returns the alerts raised by this call.
  std::vector<Alert> Raise() {
    REQUIRE(engine->CatchUp().ok());
    Result<std::vector<Event>> raised = RaiseAlerts(*log);
    INFO(raised.status().ToString());
    REQUIRE(raised.ok());
    std::vector<Alert> out;
    for (const Event& e : *raised) {
      CHECK(e.stream == "alerts");
      CHECK(e.type == "alert.raised");
      Result<Alert> a = AlertFromEvent(e);
      REQUIRE(a.ok());
      out.push_back(*a);
    }
    return out;
  }
};

TEST_CASE("export_volume: a day at the floor raises nothing, one record more raises a warning once",
          "[replay][alerts]") {
  AlertsFixture f;
  const std::string first = f.Export("staff-1", "2026-03-02T10:00:00Z", 1, 5, 1000);
  CHECK(f.Raise().empty());  // 1000 records: at the limit
  const std::string second = f.Export("staff-1", "2026-03-02T11:00:00Z", 6, 6, 1);
  std::vector<Alert> alerts = f.Raise();
  REQUIRE(alerts.size() == 1);
  const Alert a = alerts[0];  // a copy: `alerts` is assigned again below
  CHECK(a.rule == "export_volume");
  CHECK(a.staff == "staff-1");
  CHECK(a.severity == "warning");
  CHECK(a.count == 1001);
  CHECK(a.threshold == 1000);
  CHECK(a.evidence == std::vector<std::string>{first, second});
  CHECK(a.window_from == T("2026-03-02T00:00:00Z"));
  CHECK(a.at == T("2026-03-02T11:00:00Z"));
  CHECK_THAT(a.summary, Catch::Contains("staff-1 exported 1001 records on 2026-03-02, above the limit of 1000"));

  // Once per person and day; the next day is judged on its own.
  f.Export("staff-1", "2026-03-02T12:00:00Z", 7, 7, 5000);
  CHECK(f.Raise().empty());
  f.Export("staff-1", "2026-03-03T09:00:00Z", 1, 2, 1000);
  CHECK(f.Raise().empty());
  f.Export("staff-1", "2026-03-03T10:00:00Z", 1, 2, 1);
  alerts = f.Raise();
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].alert_id != a.alert_id);
  // Someone else's exports have their own count.
  f.Export("staff-2", "2026-03-03T10:00:00Z", 201, 202, 1000);
  CHECK(f.Raise().empty());
}

TEST_CASE("alerts found since the last raise are all raised, in the order found, and only once", "[replay][alerts]") {
  AlertsFixture f;
  f.Export("staff-1", "2026-03-02T10:00:00Z", 1, 101, 101);   // mass_export
  f.Export("staff-1", "2026-03-03T10:00:00Z", 1, 2, 1001);    // export_volume
  f.Export("staff-2", "2026-03-04T10:00:00Z", 201, 202, 1001);  // export_volume by someone else
  std::vector<Alert> alerts = f.Raise();
  REQUIRE(alerts.size() == 3);
  CHECK(alerts[0].rule == "mass_export");
  CHECK(alerts[1].rule == "export_volume");
  CHECK(alerts[2].staff == "staff-2");
  CHECK(alerts[0].position.value() < alerts[1].position.value());
  CHECK(alerts[1].position.value() < alerts[2].position.value());
  CHECK(f.Raise().empty());
  f.Export("staff-2", "2026-03-05T10:00:00Z", 201, 202, 1001);
  alerts = f.Raise();
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].window_from == T("2026-03-05T00:00:00Z"));
  Result<std::vector<Alert>> all = ListAlerts(*f.log);
  REQUIRE(all.ok());
  CHECK(all->size() == 4);
}

TEST_CASE("the limit is the person's own 30-day median times the factor when that is above the floor",
          "[replay][alerts]") {
  AlertsFixture f;
  for (int day = 1; day <= 28; ++day) {
    f.Export("staff-1", fmt::format("2026-02-{:02}T10:00:00Z", day).c_str(), 1, 3, 300);
  }
  f.Export("staff-1", "2026-03-01T10:00:00Z", 1, 3, 300);
  f.Export("staff-1", "2026-03-02T10:00:00Z", 1, 3, 300);
  CHECK(f.Raise().empty());
  // The 30 days before 2026-03-03 all had 300: the limit is max(1000, 5 x 300).
  f.Export("staff-1", "2026-03-03T10:00:00Z", 1, 3, 1500);
  CHECK(f.Raise().empty());
  f.Export("staff-1", "2026-03-03T11:00:00Z", 1, 3, 1);
  std::vector<Alert> alerts = f.Raise();
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].threshold == 1500);
  CHECK(alerts[0].count == 1501);
  CHECK_THAT(alerts[0].summary, Catch::Contains("30-day median: 300 a day"));
}

TEST_CASE("after a departure is announced the limits are stricter and the alerts critical", "[replay][alerts]") {
  AlertsFixture f;
  f.Export("staff-1", "2026-02-27T10:00:00Z", 1, 3, 900);  // before announcing: within the ordinary floor
  f.Announce("staff-1", "2026-03-01T09:00:00Z");
  CHECK(f.Raise().empty());
  f.Export("staff-1", "2026-03-02T10:00:00Z", 1, 3, 500);
  CHECK(f.Raise().empty());
  f.Export("staff-1", "2026-03-02T10:30:00Z", 1, 3, 1);
  std::vector<Alert> alerts = f.Raise();
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].rule == "export_volume");
  CHECK(alerts[0].severity == "critical");
  CHECK(alerts[0].threshold == 500);
  CHECK_THAT(alerts[0].summary, Catch::Contains("departure announced 2026-03-01"));
}

TEST_CASE("mass_export: more than N customers in one export, N is smaller for someone leaving", "[replay][alerts]") {
  AlertsFixture f;
  f.Export("staff-1", "2026-03-02T10:00:00Z", 1, 100, 100);
  CHECK(f.Raise().empty());
  const std::string big = f.Export("staff-1", "2026-03-03T10:00:00Z", 1, 101, 101);
  std::vector<Alert> alerts = f.Raise();
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].rule == "mass_export");
  CHECK(alerts[0].count == 101);
  CHECK(alerts[0].threshold == 100);
  CHECK(alerts[0].customers.size() == 101);
  CHECK(alerts[0].evidence == std::vector<std::string>{big});
  CHECK(alerts[0].window_from == T("2026-03-03T10:00:00Z"));

  f.Announce("staff-1", "2026-03-04T09:00:00Z");
  f.Export("staff-1", "2026-03-04T10:00:00Z", 1, 25, 25);
  CHECK(f.Raise().empty());
  f.Export("staff-1", "2026-03-05T10:00:00Z", 1, 26, 26);
  alerts = f.Raise();
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].rule == "mass_export");
  CHECK(alerts[0].severity == "critical");
  CHECK(alerts[0].threshold == 25);
}

TEST_CASE("view_volume: reads per day against the floor", "[replay][alerts]") {
  AlertsFixture f;
  f.Views("staff-1", "2026-03-02T10:00:00Z", 1, 100);
  CHECK(f.Raise().empty());
  f.Views("staff-1", "2026-03-02T15:00:00Z", 2, 1);
  std::vector<Alert> alerts = f.Raise();
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].rule == "view_volume");
  CHECK(alerts[0].count == 101);
  CHECK(alerts[0].threshold == 100);
  CHECK(alerts[0].evidence.size() == 20);  // the first 20 reads of the day
}

TEST_CASE("unserved_access: customers neither owned nor served, counted once a day, owners, managers and workers "
          "serve",
          "[replay][alerts]") {
  AlertsFixture f;
  // staff-1 (north) reads 20 of the south team's customers, and its own.
  f.ViewRange("staff-1", "2026-03-02T10:00:00Z", 201, 220);
  f.ViewRange("staff-1", "2026-03-02T10:05:00Z", 201, 205);  // the same ones again
  f.ViewRange("staff-1", "2026-03-02T10:10:00Z", 1, 150);   // its own: served
  CHECK(f.Raise().empty());
  // It worked on customer-221 last month: it serves it.
  f.AddAll({Ev(Customer(221), "interaction.logged", "staff-1", "2026-02-15T10:00:00Z",
               R"({"channel":"call","direction":"outbound"})")});
  f.ViewRange("staff-1", "2026-03-02T11:00:00Z", 221, 221);
  CHECK(f.Raise().empty());
  f.ViewRange("staff-1", "2026-03-02T11:30:00Z", 222, 222);
  std::vector<Alert> alerts = f.Raise();
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].rule == "unserved_access");
  CHECK(alerts[0].count == 21);
  CHECK(alerts[0].threshold == 20);
  CHECK(alerts[0].customers.front() == Customer(201));
  CHECK(alerts[0].customers.back() == Customer(222));
  // The south team's manager serves the south team's customers.
  f.ViewRange("staff-5", "2026-03-02T12:00:00Z", 201, 260);
  CHECK(f.Raise().empty());
}

TEST_CASE("alerts.configured changes the limits from its position on, and raising is idempotent across a rebuild",
          "[replay][alerts]") {
  AlertsFixture f;
  f.Export("staff-1", "2026-03-02T10:00:00Z", 1, 11, 11);
  CHECK(f.Raise().empty());
  f.AddAll({Ev("alerts", "alerts.configured", "staff-9", "2026-03-02T12:00:00Z",
               R"({"mass_export_customers":10,"webhook":"http://127.0.0.1:9/hook"})")});
  REQUIRE(f.engine->CatchUp().ok());
  Result<AlertConfig> config = CurrentAlertConfig(StateReader::Stored(*f.log, kAlertsProjection));
  REQUIRE(config.ok());
  CHECK(config->mass_export_customers == 10);
  CHECK(config->webhook == "http://127.0.0.1:9/hook");
  CHECK(config->export_records_per_day == AlertConfig{}.export_records_per_day);
  // The earlier export is not judged again; the change itself is an alert.
  std::vector<Alert> raised = f.Raise();
  REQUIRE(raised.size() == 1);
  CHECK(raised[0].rule == "settings_changed");
  f.Export("staff-1", "2026-03-03T10:00:00Z", 1, 11, 11);
  raised = f.Raise();
  REQUIRE(raised.size() == 1);
  CHECK(raised[0].rule == "mass_export");

  // Raised once: a rebuild finds the same alerts, and raising adds nothing.
  Result<std::vector<Alert>> before = ListAlerts(*f.log);
  REQUIRE(before.ok());
  REQUIRE(before->size() == 2);
  REQUIRE(f.engine->Rebuild(kAlertsProjection).ok());
  CHECK(f.Raise().empty());
  Result<std::vector<Alert>> after = ListAlerts(*f.log);
  REQUIRE(after.ok());
  CHECK(after->size() == 2);
  // The stored fold and a replay in memory agree.
  Result<std::string> stored = f.engine->Digest(kAlertsProjection);
  REQUIRE(stored.ok());
  CHECK(StateDigest(f.ReplayAll(*MakeAlertsProjection()).contents()) == *stored);

  f.AddAll({Ev("alerts", "alerts.configured", "staff-9", "2026-03-04T12:00:00Z", R"({"webhook":"off"})")});
  REQUIRE(f.engine->CatchUp().ok());
  config = CurrentAlertConfig(StateReader::Stored(*f.log, kAlertsProjection));
  REQUIRE(config.ok());
  CHECK(config->webhook.empty());
  CHECK(config->mass_export_customers == 10);
}

TEST_CASE("every change of the settings raises an alert naming who changed what from what to what, critical when "
          "it loosens the watch",
          "[replay][alerts]") {
  AlertsFixture f;
  const Event loosen = Ev("alerts", "alerts.configured", "staff-9", "2026-03-02T12:00:00Z",
                          R"({"mass_export_customers":150,"views_per_day":100,"baseline_factor":2.5,)"
                          R"("webhook":"http://127.0.0.1:9/hook"})");
  f.AddAll({loosen});
  std::vector<Alert> raised = f.Raise();
  REQUIRE(raised.size() == 1);
  const Alert& a = raised[0];
  CHECK(a.rule == "settings_changed");
  CHECK(a.severity == "critical");  // a limit went up and the webhook moved
  CHECK(a.staff == "staff-9");
  CHECK(a.evidence == std::vector<std::string>{loosen.id.ToString()});
  CHECK(a.at == loosen.occurred_at);
  CHECK(a.count == 3);  // views_per_day was already 100
  CHECK(a.summary ==
        "staff-9 changed the alert settings: baseline_factor 5 -> 2.5, mass_export_customers 100 -> 150, "
        "webhook off -> http://127.0.0.1:9/hook");
  // The stored event carries each change, old and new.
  Result<std::vector<Event>> stream = f.log->ReadStream("alerts", StreamVersion(1), Direction::kForward, 1);
  REQUIRE(stream.ok());
  REQUIRE(stream->size() == 1);
  const boost::json::object changes = boost::json::parse(stream->front().data).as_object().at("changes").as_object();
  CHECK(changes.size() == 3);
  CHECK(changes.at("mass_export_customers").as_object().at("from").as_string() == "100");
  CHECK(changes.at("mass_export_customers").as_object().at("to").as_string() == "150");
  CHECK(changes.at("webhook").as_object().at("from").as_string() == "off");
  CHECK(changes.at("webhook").as_object().at("to").as_string() == "http://127.0.0.1:9/hook");

  // Tightening only is a warning; each event is its own alert, even with the same content.
  const std::string tighter = R"({"mass_export_customers":50})";
  f.AddAll({Ev("alerts", "alerts.configured", "staff-9", "2026-03-03T12:00:00Z", tighter)});
  raised = f.Raise();
  REQUIRE(raised.size() == 1);
  CHECK(raised[0].severity == "warning");
  CHECK(raised[0].summary == "staff-9 changed the alert settings: mass_export_customers 150 -> 50");
  f.AddAll({Ev("alerts", "alerts.configured", "staff-9", "2026-03-03T13:00:00Z", tighter)});
  raised = f.Raise();
  REQUIRE(raised.size() == 1);
  CHECK(raised[0].count == 0);
  CHECK(raised[0].summary == "staff-9 set the alert settings to the values already in force");
  // Turning the webhook off is critical.
  f.AddAll({Ev("alerts", "alerts.configured", "staff-9", "2026-03-04T12:00:00Z", R"({"webhook":"off"})")});
  raised = f.Raise();
  REQUIRE(raised.size() == 1);
  CHECK(raised[0].severity == "critical");
  CHECK(raised[0].summary == "staff-9 changed the alert settings: webhook http://127.0.0.1:9/hook -> off");
  // Found once: a rebuild raises nothing again.
  REQUIRE(f.engine->Rebuild(kAlertsProjection).ok());
  CHECK(f.Raise().empty());
  Result<std::vector<Alert>> all = ListAlerts(*f.log);
  REQUIRE(all.ok());
  CHECK(all->size() == 4);
}

TEST_CASE("raised alerts come back as the log stores them, with its position, version and recorded_at",
          "[replay][alerts]") {
  AlertsFixture f;
  f.Export("staff-1", "2026-03-02T10:00:00Z", 1, 101, 101);  // a mass export
  f.Export("staff-2", "2026-03-02T11:00:00Z", 201, 260, 1'200);  // over the daily volume
  REQUIRE(f.engine->CatchUp().ok());
  f.clock.Set(T("2026-06-02T09:30:00Z"));  // raised later than the accesses occurred
  Result<std::vector<Event>> raised = RaiseAlerts(*f.log);
  REQUIRE(raised.ok());
  REQUIRE(raised->size() == 2);
  for (size_t i = 0; i < raised->size(); ++i) {
    const Event& e = (*raised)[i];
    Result<std::vector<Event>> stored = f.log->ReadAll(e.position, 1);
    REQUIRE(stored.ok());
    REQUIRE(stored->size() == 1);
    CHECK(EventToJson(e, JsonFields::kWithLogFields) == EventToJson(stored->front(), JsonFields::kWithLogFields));
    CHECK(e.recorded_at == T("2026-06-02T09:30:00Z"));
    CHECK(e.version == StreamVersion(i));  // the first and second events of the alerts stream
  }
  CHECK((*raised)[0].position.value() + 1 == (*raised)[1].position.value());
}

TEST_CASE("who serves a customer: company-wide roles by exact name, its team and its owner's, the owner's manager, and "
          "the fold and ServiceScope agree",
          "[replay][alerts]") {
  AlertsFixture f;
  auto join = [&](const char* staff, const char* role, const char* team) {
    f.AddAll({Ev(staff, "staff.joined", "system:hr-sync", "2026-01-01T08:00:00Z",
                 fmt::format(R"({{"role":"{}","team":"{}"}})", role, team))});
  };
  join("staff-30", "admin", "it");
  join("staff-31", "regional_sales_director", "west");  // not a company-wide role: roles match exactly
  join("staff-33", "team_lead", "east");
  // staff-2 (south) reports to staff-33; customer-1..30, owned by staff-1 (north), move to the south team.
  f.AddAll({Ev("staff-2", "staff.role_changed", "system:hr-sync", "2026-01-02T08:00:00Z", R"({"manager":"staff-33"})")});
  std::vector<Event> moves;
  for (int n = 1; n <= 30; ++n) {
    moves.push_back(Ev(Customer(n), "customer.team_changed", "system:crm-sync", "2026-01-02T09:00:00Z",
                       R"({"team":"south"})"));
  }
  f.AddAll(std::move(moves));

  f.ViewRange("staff-30", "2026-03-02T10:00:00Z", 201, 260);  // admin: every customer
  f.ViewRange("staff-9", "2026-03-02T10:00:00Z", 1, 150);     // compliance officer: every customer
  f.ViewRange("staff-33", "2026-03-02T10:00:00Z", 201, 260);  // manages staff-2, their owner
  f.ViewRange("staff-5", "2026-03-02T10:00:00Z", 1, 30);      // south manager: the customers now in south
  f.ViewRange("staff-5", "2026-03-02T10:01:00Z", 201, 260);   // ... and those whose owner is in south
  f.ViewRange("staff-2", "2026-03-02T10:00:00Z", 1, 30);      // a south colleague, likewise
  f.ViewRange("staff-1", "2026-03-02T10:00:00Z", 1, 150);     // the owner
  CHECK(f.Raise().empty());

  f.ViewRange("staff-31", "2026-03-02T10:00:00Z", 201, 230);
  f.ViewRange("staff-5", "2026-03-02T11:00:00Z", 31, 51);  // north's customers: 21, one above the limit
  std::vector<Alert> alerts = f.Raise();
  REQUIRE(alerts.size() == 2);
  CHECK(alerts[0].rule == "unserved_access");
  CHECK(alerts[0].staff == "staff-31");
  CHECK(alerts[0].count == 30);
  CHECK(alerts[1].staff == "staff-5");
  CHECK(alerts[1].count == 21);

  // ServiceScope answers as the fold judged.
  const StateReader state = StateReader::Stored(*f.log, kAlertsProjection);
  const Timestamp at = T("2026-03-02T12:00:00Z");
  struct Case {
    const char* staff;
    int customer;
    bool serves;
  };
  for (const Case& c : std::vector<Case>{{"staff-30", 201, true},
                                         {"staff-9", 1, true},
                                         {"staff-33", 201, true},
                                         {"staff-33", 1, false},
                                         {"staff-5", 1, true},
                                         {"staff-5", 201, true},
                                         {"staff-5", 31, false},
                                         {"staff-31", 201, false},
                                         {"staff-1", 150, true},
                                         {"staff-2", 151, false}}) {
    INFO(c.staff << " " << Customer(c.customer));
    Result<ServiceScope> scope = ServiceScope::Of(state, c.staff);
    REQUIRE(scope.ok());
    Result<bool> serves = scope->Serves(Customer(c.customer), at);
    REQUIRE(serves.ok());
    CHECK(*serves == c.serves);
  }
  Result<ServiceScope> admin = ServiceScope::Of(state, "staff-30");
  REQUIRE(admin.ok());
  CHECK(admin->company_wide());
  Result<ServiceScope> director = ServiceScope::Of(state, "staff-31");
  REQUIRE(director.ok());
  CHECK_FALSE(director->company_wide());
  CHECK(director->role() == "regional_sales_director");
  // Alerts to see: one's own, one's team's, those one manages; everyone's for a company-wide role.
  Result<ServiceScope> south = ServiceScope::Of(state, "staff-5");
  REQUIRE(south.ok());
  CHECK(*south->Oversees("staff-2"));
  CHECK(*south->Oversees("staff-5"));
  CHECK_FALSE(*south->Oversees("staff-1"));
  CHECK(*ServiceScope::Of(state, "staff-33")->Oversees("staff-2"));
  CHECK_FALSE(*ServiceScope::Of(state, "staff-33")->Oversees("staff-1"));
  CHECK(*admin->Oversees("staff-1"));
}

}  // namespace
}  // namespace custodian
