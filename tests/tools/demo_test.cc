// The demo company generator (tools/demo_data.h) and `custodian demo`.
#include "tools/demo_data.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <span>
#include <set>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/time.h"
#include "core/validation.h"
#include "replay/alerts.h"
#include "replay/projection.h"
#include "tests/test_util.h"
#include "tests/tools/cli_runner.h"
#include "tools/demo_people.h"

namespace custodian {
namespace {

using testing::CliResult;
using testing::RunCli;
using testing::Slurp;
using testing::TempDir;
using testing::WriteFile;

std::vector<Event> Generate(const demo::DemoConfig& config, demo::DemoTour* tour = nullptr) {
  demo::DemoCompany company(config);
  std::vector<Event> out;
  Event e;
  while (company.Next(&e)) out.push_back(std::move(e));
  if (tour) *tour = company.tour();
  return out;
}

demo::DemoConfig Small(uint64_t seed = 7) {
  demo::DemoConfig c;
  c.seed = seed;
  c.staff = 16;
  c.customers = 600;
  c.years = 2;
  return c;
}

std::string Str(const boost::json::object& o, const char* key) {
  const boost::json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

// Checks, independently of the generator, the rules DESIGN.md says the writer
// enforces at append, in log order. Returns the first violation, or "".
std::string FirstRuleViolation(const std::vector<Event>& events) {
  std::set<std::string> joined, departed;
  std::map<std::string, std::string> owner;  // customer stream -> staff
  std::set<std::pair<std::string, std::string>> requests, deals, commitments;  // (stream, id)
  int64_t last = INT64_MIN;
  auto active = [&](const std::string& s) { return joined.count(s) && !departed.count(s); };
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    const std::string where = "event " + std::to_string(i) + " (" + e.type + " on " + e.stream + "): ";
    if (e.occurred_at.value() < last) return where + "occurred_at goes back in time";
    last = e.occurred_at.value();
    if (e.actor.starts_with("staff-") && !active(e.actor)) return where + "actor " + e.actor + " is not employed";
    const boost::json::object d = boost::json::parse(e.data).as_object();
    auto must_be_active = [&](const char* field) -> std::string {
      const std::string s = Str(d, field);
      return s.empty() || active(s) ? "" : where + field + " " + s + " is not employed";
    };
    for (const char* f : {"owner", "assignee", "successor"}) {
      if (std::string v = must_be_active(f); !v.empty()) return v;
    }
    const std::string t = e.type;
    if (t == "staff.joined") {
      if (e.actor != "system:hr-sync") return where + "joined by " + e.actor;
      joined.insert(e.stream);
    } else if (t == "staff.departed") {
      for (const auto& [customer, s] : owner) {
        if (s == e.stream) return where + customer + " is still owned by the leaver";
      }
      departed.insert(e.stream);
    } else if (t == "customer.owner_assigned") {
      const std::string reason = Str(d, "reason");
      if (reason == "handover" && Str(d, "handover_id").empty()) return where + "handover without handover_id";
      if (owner.count(e.stream) && owner[e.stream] != Str(d, "previous_owner")) return where + "wrong previous owner";
      owner[e.stream] = Str(d, "owner");
    } else if (t == "handover.planned") {
      for (const boost::json::value& a : d.at("assignments").as_array()) {
        const std::string to(a.as_object().at("to").as_string());
        if (!active(to)) return where + "successor " + to + " is not employed";
      }
    } else if (t == "request.opened") {
      requests.insert({e.stream, Str(d, "request_id")});
    } else if (t.starts_with("request.")) {
      if (!requests.count({e.stream, Str(d, "request_id")})) return where + "request not opened";
    } else if (t == "deal.opened") {
      deals.insert({e.stream, Str(d, "deal_id")});
    } else if (t.starts_with("deal.")) {
      if (!deals.count({e.stream, Str(d, "deal_id")})) return where + "deal not opened";
    } else if (t == "commitment.made") {
      commitments.insert({e.stream, Str(d, "commitment_id")});
    } else if (t.starts_with("commitment.")) {
      if (!commitments.count({e.stream, Str(d, "commitment_id")})) return where + "commitment not made";
    }
  }
  return "";
}

TEST_CASE("The same seed gives byte-identical events, another seed another company", "[demo]") {
  const std::vector<Event> a = Generate(Small(7));
  const std::vector<Event> b = Generate(Small(7));
  REQUIRE(a.size() > 10'000);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(EventToJson(a[i], JsonFields::kProducer) == EventToJson(b[i], JsonFields::kProducer));
  }
  const std::vector<Event> c = Generate(Small(8));
  CHECK(EventToJson(c[100], JsonFields::kProducer) != EventToJson(a[100], JsonFields::kProducer));
  // Ids are version-4 UUIDs and never repeat.
  std::set<EventId> ids;
  for (const Event& e : a) ids.insert(e.id);
  CHECK(ids.size() == a.size());
  CHECK(a[0].id.ToString()[14] == '4');
}

TEST_CASE("Every generated event passes ValidateEvent and the history obeys the append rules", "[demo]") {
  demo::DemoTour tour;
  const std::vector<Event> events = Generate(Small(3), &tour);
  const Timestamp now = SystemClock().Now();
  std::map<std::string, int> types;
  for (const Event& e : events) {
    Status s = ValidateEvent(e, now);
    INFO(EventToJson(e, JsonFields::kProducer));
    REQUIRE(s.ok());
    ++types[e.type];
  }
  CHECK(FirstRuleViolation(events) == "");
  // The story is all there: departures with handovers, answered requests,
  // kept and slipped commitments, won and lost deals, reads and exports.
  for (const char* t : {"staff.departure_announced", "staff.departed", "handover.planned", "handover.completed",
                        "request.responded", "request.resolved", "commitment.fulfilled", "deal.won", "deal.lost",
                        "data.viewed", "data.exported", "customer.updated", "event.corrected",
                        "event.retracted"}) {
    INFO(t);
    CHECK(types[t] > 0);
  }
  CHECK(events.back().occurred_at < Small().end);
  CHECK(!tour.handed_over_customer.empty());
  CHECK(!tour.overdue_customer.empty());
  // Orders fixed later: each fix names an order.placed on its own stream, and the tour counts them.
  CHECK(tour.orders_corrected == types["event.corrected"]);
  CHECK(tour.orders_retracted == types["event.retracted"]);
  std::map<std::string, const Event*> by_id;
  for (const Event& e : events) by_id[e.id.ToString()] = &e;
  for (const Event& e : events) {
    if (e.type != "event.corrected" && e.type != "event.retracted") continue;
    const std::string target = Str(boost::json::parse(e.data).as_object(), "event_id");
    INFO(e.data);
    REQUIRE(by_id.count(target) == 1);
    CHECK(by_id[target]->type == "order.placed");
    CHECK(by_id[target]->stream == e.stream);
    CHECK(by_id[target]->occurred_at < e.occurred_at);
  }
  REQUIRE(!tour.fixed_customer.empty());
}

TEST_CASE("A departure with a handover leaves no open request or promise with the leaver, and one without leaves some",
          "[demo]") {
  int without_handover = 0, left_by_them = 0;  // over the seeds: some have departures without a handover
  for (uint64_t seed : {3, 4, 5, 6}) {
    INFO("seed " << seed);
    const std::vector<Event> events = Generate(Small(seed));
    // Who answers for each open request and promise, folded here from the
    // events, independently of the projections.
    std::map<std::string, std::string> assignee, promise_with, handover_from;
    std::set<std::string> open_requests, departed;
    auto left_with = [&](const std::string& staff) {
      int n = 0;
      for (const std::string& id : open_requests) n += assignee[id] == staff;
      for (const auto& [id, owner] : promise_with) n += owner == staff;
      return n;
    };
    int handovers = 0;
    for (const Event& e : events) {
      const boost::json::object d = boost::json::parse(e.data).as_object();
      if (e.type == "request.opened" || e.type == "request.reopened") open_requests.insert(Str(d, "request_id"));
      if (e.type == "request.assigned") assignee[Str(d, "request_id")] = Str(d, "assignee");
      if (e.type == "request.resolved") open_requests.erase(Str(d, "request_id"));
      if (e.type == "commitment.made" || e.type == "commitment.reassigned") promise_with[Str(d, "commitment_id")] = Str(d, "owner");
      if (e.type == "commitment.fulfilled" || e.type == "commitment.cancelled") promise_with.erase(Str(d, "commitment_id"));
      if (e.type == "handover.planned") handover_from[Str(d, "handover_id")] = Str(d, "from");
      if (e.type == "handover.completed") {  // the leaver hands everything over, not only the customers
        const std::string from = handover_from[Str(d, "handover_id")];
        INFO(from << " at " << Str(d, "handover_id"));
        CHECK(left_with(from) == 0);
        ++handovers;
      }
      if (e.type == "staff.departed") departed.insert(e.stream);
    }
    REQUIRE(handovers > 0);
    for (const std::string& s : departed) {
      bool handed = false;
      for (const auto& [id, from] : handover_from) handed = handed || from == s;
      INFO(s);
      if (handed) {
        CHECK(left_with(s) == 0);
      } else {
        ++without_handover;
        left_by_them += left_with(s);
      }
    }
  }
  // Those who left without a handover are the orphans' story.
  REQUIRE(without_handover > 0);
  CHECK(left_by_them > 0);
}

// The personal part of an event as an object (empty when it has none).
boost::json::object Personal(const Event& e) {
  return e.personal_plain.empty() ? boost::json::object() : boost::json::parse(e.personal_plain).as_object();
}

TEST_CASE("Every demo contact gets a name, an e-mail at its customer's domain and a phone, and some conversations "
          "personal notes, the same for the same seed",
          "[demo][people]") {
  const std::vector<Event> events = Generate(Small(7));
  std::map<std::string, std::string> domain;  // customer -> its people's e-mail domain
  std::vector<std::string> names;
  size_t contacts = 0, named_talks = 0, notes = 0;
  for (const Event& e : events) {
    const boost::json::object d = boost::json::parse(e.data).as_object();
    const boost::json::object p = Personal(e);
    INFO(EventToJson(e, JsonFields::kProducer));
    if (e.type == "customer.registered" && !Str(d, "name").empty()) {
      domain[e.stream] = demo::DemoPeople::CompanyDomain(Str(d, "name"));
    } else if (e.type == "contact.added") {
      ++contacts;
      const std::string name = Str(p, "name"), email = Str(p, "email"), phone = Str(p, "phone");
      CHECK(name.find(' ') != std::string::npos);
      REQUIRE(email.find('@') != std::string::npos);
      CHECK(email.ends_with(".example"));
      // A company's people write from its domain; a person's contacts from a mail provider.
      if (domain.count(e.stream)) CHECK(email.substr(email.find('@') + 1) == domain[e.stream]);
      CHECK(phone.starts_with("+"));
      CHECK(phone.find(" 555 ") != std::string::npos);
      names.push_back(name);
    } else if (e.type == "interaction.logged") {
      if (!Str(d, "contact_id").empty()) ++named_talks;
      if (!p.empty()) {
        ++notes;
        CHECK(!Str(d, "contact_id").empty());  // notes are about the person spoken with
        CHECK(!Str(p, "notes").empty());
      }
    } else {
      CHECK(p.empty());
    }
  }
  REQUIRE(contacts > 500);
  CHECK(names.size() == contacts);
  CHECK(std::set<std::string>(names.begin(), names.end()).size() > 300);  // a crowd, not one name
  CHECK(notes > named_talks / 20);
  CHECK(notes < named_talks / 4);
  CHECK(demo::DemoPeople::CompanyDomain("Hartmann Logistik GmbH 1001") == "hartmann-logistik-1001.example");
  CHECK(demo::DemoPeople::CompanyDomain("Brightwater Maschinenbau 1002") == "brightwater-maschinenbau-1002.example");

  // The same seed, the same people; another seed, other people.
  auto people_of = [](const std::vector<Event>& list) {
    std::vector<std::string> out;
    for (const Event& e : list) {
      if (!e.personal_plain.empty()) out.push_back(e.stream + " " + e.personal_plain);
    }
    return out;
  };
  CHECK(people_of(Generate(Small(7))) == people_of(events));
  const std::vector<std::string> other = people_of(Generate(Small(8)));
  REQUIRE(!other.empty());
  CHECK(other != people_of(events));
}

TEST_CASE("A rule checker that cannot fail proves nothing: it catches an actor acting after departure", "[demo]") {
  std::vector<Event> events = Generate(Small(3));
  size_t departed = 0;
  while (events[departed].type != "staff.departed") ++departed;
  Event late = events[departed + 1];
  late.actor = events[departed].stream;
  late.stream = "access-" + late.actor;
  late.type = "data.viewed";
  late.data = R"({"customers":["customer-1001"],"view":"timeline"})";
  events.insert(events.begin() + static_cast<std::ptrdiff_t>(departed) + 1, late);
  CHECK(FirstRuleViolation(events).find("is not employed") != std::string::npos);
}

TEST_CASE("The leaver exports far more after announcing departure than their own baseline", "[demo]") {
  demo::DemoTour tour;
  const std::vector<Event> events = Generate(Small(5), &tour);
  REQUIRE(!tour.leaver.empty());
  int64_t joined = 0, announced = 0;
  uint64_t before = 0, after = 0;
  for (const Event& e : events) {
    if (e.stream == tour.leaver && e.type == "staff.joined") joined = e.occurred_at.value();
    if (e.stream == tour.leaver && e.type == "staff.departure_announced") announced = e.occurred_at.value();
    if (e.stream != "access-" + tour.leaver || e.type != "data.exported") continue;
    const uint64_t records = boost::json::parse(e.data).as_object().at("records").to_number<uint64_t>();
    (announced == 0 ? before : after) += records;
  }
  REQUIRE(announced > joined);
  REQUIRE(before > 0);  // ordinary exports give a baseline
  const double days = static_cast<double>(announced - joined) / (86400.0 * 1e6);
  const double baseline_per_30_days = static_cast<double>(before) * 30 / days;
  CHECK(static_cast<double>(after) > 20 * baseline_per_30_days);
  CHECK(tour.leaver_after_exported == after);
}

// The alerts the exfiltration rules find in a generated company, folded in
// memory in the engine's chunks: staff -> alerts about them.
std::map<std::string, int> AlertsByStaff(const std::vector<Event>& events) {
  std::unique_ptr<Projection> alerts = MakeAlertsProjection();
  MemoryState state;
  for (size_t at = 0; at < events.size(); at += ProjectionEngine::kChunkEvents) {
    const size_t n = std::min(ProjectionEngine::kChunkEvents, events.size() - at);
    REQUIRE(alerts->Apply(std::span<const Event>(events.data() + at, n), state).ok());
  }
  std::map<std::string, int> by_staff;
  for (const auto& [key, value] : state.contents()) {
    if (!key.starts_with("a/")) continue;
    ++by_staff[Str(boost::json::parse(value).as_object().at("data").as_object(), "staff")];
  }
  return by_staff;
}

TEST_CASE("The exfiltration rules raise alerts about the demo's leaver and about nobody else", "[demo][alerts]") {
  // The default company (what `custodian demo` loads), and small ones of other seeds.
  std::vector<demo::DemoConfig> configs = {demo::DemoConfig{}, Small(5), Small(7), Small(11)};
  for (const demo::DemoConfig& config : configs) {
    demo::DemoTour tour;
    const std::vector<Event> events = Generate(config, &tour);
    const std::map<std::string, int> alerts = AlertsByStaff(events);
    INFO("seed " << config.seed << ", " << config.staff << " staff, " << events.size() << " events");
    for (const auto& [staff, n] : alerts) {
      INFO(staff << " has " << n << " alerts");
      CHECK(staff == tour.leaver);
    }
    CHECK(alerts.count(tour.leaver) == 1);
  }
}

// --- the command, through the real binary ---

TEST_CASE("custodian demo loads a small company that verifies, and refuses a store that holds events", "[demo]") {
  TempDir tmp;
  const std::string data = tmp.Sub("store");
  CliResult r = RunCli(tmp, data, {"demo", "--until", "2026-09-29", "--staff", "8", "--customers", "50", "--years", "1", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const boost::json::object summary = boost::json::parse(r.out).as_object();
  const uint64_t events = summary.at("events").to_number<uint64_t>();
  CHECK(events > 1'000);
  CHECK(Str(summary, "leaver").starts_with("staff-"));
  demo::DemoConfig config;
  config.staff = 8;
  config.customers = 50;
  config.years = 1;
  CHECK(events == Generate(config).size());

  CliResult verify = RunCli(tmp, data, {"verify", "--json"});
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 0);
  // The log holds the company and the alerts its rules raised.
  const uint64_t alerts = summary.at("alerts").to_number<uint64_t>();
  CHECK(boost::json::parse(verify.out).as_object().at("events").to_number<uint64_t>() == events + alerts);
  for (const auto& [staff, n] : summary.at("alerts_by_staff").as_object()) {
    INFO(staff << " has " << n << " alerts");
    CHECK(std::string(staff) == Str(summary, "leaver"));  // no false alarms on anyone else
  }

  CliResult again = RunCli(tmp, data, {"demo", "--until", "2026-09-29", "--staff", "8", "--customers", "50", "--years", "1"});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("already holds") != std::string::npos);

  // The store removed but not its key directory: the erasures listed there
  // would refuse the demo's people half-way, so it refuses before loading.
  std::filesystem::remove_all(data);
  const std::string erased = data + ".keys/erased.jsonl";
  if (!std::filesystem::exists(erased) || std::filesystem::file_size(erased) == 0) {
    testing::WriteFile(erased, R"({"subject":"customer-1/contact-c-1","position":0,"reason":"asked"})" "\n");
  }
  CliResult stale = RunCli(tmp, data, {"demo", "--until", "2026-09-29", "--staff", "8", "--customers", "50", "--years", "1"});
  CHECK(stale.exit_code == 1);
  CHECK_THAT(stale.err, Catch::Contains("belongs to an earlier store"));
  CHECK_THAT(stale.err, Catch::Contains(data + ".keys"));

  CliResult bad = RunCli(tmp, tmp.Sub("other"), {"demo", "--until", "2026-09-29", "--staff", "2"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("--staff") != std::string::npos);
}

TEST_CASE("custodian demo ends its history yesterday unless --until names the last day, and refuses a bad day",
          "[demo]") {
  TempDir tmp;
  CliResult r = RunCli(tmp, tmp.Sub("today"), {"demo", "--staff", "8", "--customers", "20", "--years", "1", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  constexpr int64_t kDay = int64_t{86'400} * 1'000'000;
  const int64_t midnight = SystemClock().Now().value() / kDay * kDay;
  const boost::json::object today = boost::json::parse(r.out).as_object();
  // The history ends where today begins (UTC): its last day is yesterday. (A run across midnight is a day later.)
  const int64_t to = ParseRfc3339(Str(today, "to"))->value();
  CHECK((to == midnight || to == midnight - kDay));

  CliResult until = RunCli(tmp, tmp.Sub("until"), {"demo", "--until", "2025-06-30", "--staff", "8", "--customers", "20",
                                                   "--years", "1", "--json"});
  INFO(until.err);
  REQUIRE(until.exit_code == 0);
  const boost::json::object o = boost::json::parse(until.out).as_object();
  CHECK(Str(o, "to") == "2025-07-01T00:00:00Z");
  CHECK(Str(o, "from") == "2024-07-01T00:00:00Z");
  demo::DemoConfig config;
  config.staff = 8;
  config.customers = 20;
  config.years = 1;
  config.end = *ParseRfc3339("2025-07-01T00:00:00Z");
  CHECK(o.at("events").to_number<uint64_t>() == Generate(config).size());
  // Loaded today, the whole history is one backfill: the timeline says so once and marks no event late.
  CliResult timeline = RunCli(tmp, tmp.Sub("until"), {"--as", Str(o, "reader"), "customer", "timeline", "customer-1001"});
  INFO(timeline.err);
  REQUIRE(timeline.exit_code == 0);
  CHECK(timeline.out.starts_with("-- loaded in one backfill at "));
  CHECK(timeline.out.find("loaded in one backfill", 10) == std::string::npos);
  CHECK(timeline.out.find("[LATE") == std::string::npos);

  for (const char* bad : {"2025-13-01", "yesterday", "2025-06-30T00:00:00Z"}) {
    CliResult refused = RunCli(tmp, tmp.Sub("bad"), {"demo", "--until", bad});
    INFO(bad << ": " << refused.err);
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("--until") != std::string::npos);
  }
}

TEST_CASE("The demo erases the people who asked, keeps the one under legal hold, and its erasure of them is refused",
          "[demo][people]") {
  TempDir tmp;
  const std::string data = tmp.Sub("store");
  CliResult r = RunCli(tmp, data, {"demo", "--until", "2026-09-29", "--staff", "8", "--customers", "80", "--years", "1", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const boost::json::object summary = boost::json::parse(r.out).as_object();
  const std::string dpo = Str(summary, "dpo"), held = Str(summary, "held_subject"), hold = Str(summary, "hold_id");
  REQUIRE(dpo.starts_with("staff-"));
  REQUIRE(held.find("/contact-") != std::string::npos);
  const boost::json::array& erased = summary.at("erased_subjects").as_array();
  REQUIRE(erased.size() == 4);
  // The refusal names the hold, and nothing was written for it.
  CHECK(Str(summary, "erasure_refused").find("rule 'hold'") != std::string::npos);
  CHECK(Str(summary, "erasure_refused").find(hold) != std::string::npos);

  CliResult holds = RunCli(tmp, data, {"--as", dpo, "hold", "list", "--json"});
  INFO(holds.err);
  REQUIRE(holds.exit_code == 0);
  const boost::json::value holds_doc = boost::json::parse(holds.out);
  const boost::json::array& in_force = holds_doc.as_object().at("holds").as_array();
  REQUIRE(in_force.size() == 1);
  CHECK(Str(in_force[0].as_object(), "subject") == held);

  // Each erased person is erased in the log and in what a reader sees; the
  // held one is not.
  for (const auto& subject : erased) {
    const std::string id(subject.as_string());
    CHECK(id != held);
    CliResult again = RunCli(tmp, data, {"--as", dpo, "erase", "--subject", id, "--reason", "again", "--json"});
    INFO(id << ": " << again.out << again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(boost::json::parse(again.out).as_object().at("already_erased").as_bool());
    const std::string customer = id.substr(0, id.find('/'));
    CliResult show = RunCli(tmp, data, {"--as", dpo, "customer", "show", customer, "--json"});
    INFO(show.err);
    REQUIRE(show.exit_code == 0);
    CHECK(show.out.find("\"erased\"") != std::string::npos);
  }
  CliResult refused = RunCli(tmp, data, {"--as", dpo, "erase", "--subject", held, "--reason", "asked"});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find(hold) != std::string::npos);
  CliResult exported = RunCli(tmp, data, {"--as", dpo, "export-subject", held, "--out", tmp.Sub("held.json")});
  INFO(exported.err);
  REQUIRE(exported.exit_code == 0);
  std::ifstream in(tmp.Sub("held.json"));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const boost::json::object doc = boost::json::parse(text).as_object();
  CHECK(doc.at("person").as_object().at("personal").as_object().contains("name"));
  CHECK(doc.at("holds").as_array().size() == 1);

  CliResult verify = RunCli(tmp, data, {"verify"});
  CHECK(verify.exit_code == 0);
}

TEST_CASE("The demo's people appear by name in customer show and the handover report, the same in every load",
          "[demo][people]") {
  TempDir tmp;
  const std::vector<std::string> load = {"demo", "--until", "2026-09-29", "--staff", "8", "--customers", "50", "--years", "1", "--json"};
  CliResult r = RunCli(tmp, tmp.Sub("store"), load);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const boost::json::object summary = boost::json::parse(r.out).as_object();
  const std::string customer = Str(summary, "handed_over_customer"), handover = Str(summary, "handover_id");
  const std::string reader = Str(summary, "reader");
  REQUIRE(!customer.empty());
  REQUIRE(!handover.empty());

  // Who the generator made that customer's people.
  demo::DemoConfig config;
  config.staff = 8;
  config.customers = 50;
  config.years = 1;
  std::vector<std::string> names;
  for (const Event& e : Generate(config)) {
    if (e.stream == customer && e.type == "contact.added") names.push_back(Str(Personal(e), "name"));
  }
  REQUIRE(!names.empty());

  CliResult show = RunCli(tmp, tmp.Sub("store"), {"--as", reader, "customer", "show", customer});
  INFO(show.err);
  REQUIRE(show.exit_code == 0);
  CliResult report = RunCli(tmp, tmp.Sub("store"), {"--as", reader, "handover", "report", handover});
  INFO(report.err);
  REQUIRE(report.exit_code == 0);
  for (const std::string& name : names) {
    INFO(name);
    CHECK_THAT(show.out, Catch::Contains(name));
    CHECK_THAT(report.out, Catch::Contains("- " + name + ", "));
  }
  // Stored as positions in the log, opened when read: the stored projection names nobody.
  CliResult json = RunCli(tmp, tmp.Sub("store"), {"--as", reader, "customer", "show", customer, "--json"});
  REQUIRE(json.exit_code == 0);
  const boost::json::object shown = boost::json::parse(json.out).as_object();
  const std::string stored = boost::json::serialize(shown.at("contacts"));
  CHECK_THAT(stored, Catch::Contains("personal_positions"));
  for (const std::string& name : names) CHECK(stored.find(name) == std::string::npos);

  // Another load of the same seed into another store: the same people, in the same places.
  CliResult again = RunCli(tmp, tmp.Sub("again"), load);
  REQUIRE(again.exit_code == 0);
  CliResult json_again = RunCli(tmp, tmp.Sub("again"), {"--as", reader, "customer", "show", customer, "--json"});
  REQUIRE(json_again.exit_code == 0);
  CHECK(boost::json::serialize(boost::json::parse(json_again.out).as_object().at("people")) ==
        boost::json::serialize(shown.at("people")));
}

// Staff of a loaded demo store, from their staff streams (custodian read).
struct DemoStaff {
  std::string id, role, team;
  bool departed = false;
};
std::vector<DemoStaff> ReadDemoStaff(const TempDir& tmp, const std::string& data, int max_staff) {
  std::vector<DemoStaff> out;
  for (int n = 1; n <= max_staff; ++n) {
    DemoStaff s{"staff-" + std::to_string(n)};
    CliResult r = RunCli(tmp, data, {"read", s.id, "--json"});
    REQUIRE(r.exit_code == 0);
    for (size_t at = 0; at < r.out.size();) {
      const size_t end = r.out.find('\n', at);
      const boost::json::object e = boost::json::parse(r.out.substr(at, end - at)).as_object();
      at = end + 1;
      const std::string type = Str(e, "type");
      const boost::json::object& d = e.at("data").as_object();
      if (type == "staff.joined" || type == "staff.role_changed") {
        if (!Str(d, "role").empty()) s.role = Str(d, "role");
        if (!Str(d, "team").empty()) s.team = Str(d, "team");
      }
      if (type == "staff.departed") s.departed = true;
    }
    if (!s.role.empty()) out.push_back(s);
  }
  return out;
}

TEST_CASE("Normal work raises no alert: after the tour's queries by each sales manager, every alert is about the "
          "demo's leaver",
          "[demo][alerts]") {
  TempDir tmp;
  const std::string data = tmp.Sub("store");
  // Two teams (16 staff), so that a manager's company-wide listings meet customers of the other team.
  CliResult demo = RunCli(tmp, data, {"demo", "--until", "2026-09-29", "--staff", "16", "--customers", "300", "--years", "1", "--json"});
  INFO(demo.err);
  REQUIRE(demo.exit_code == 0);
  const boost::json::object summary = boost::json::parse(demo.out).as_object();
  const std::string leaver = Str(summary, "leaver");
  const std::string head = Str(summary, "reader");
  const uint64_t raised = summary.at("alerts").to_number<uint64_t>();
  REQUIRE(raised > 0);

  const std::vector<DemoStaff> staff = ReadDemoStaff(tmp, data, 24);
  std::vector<DemoStaff> managers;
  for (const DemoStaff& s : staff) {
    if (s.role == "sales_manager" && !s.departed) managers.push_back(s);
  }
  REQUIRE(managers.size() == 2);
  REQUIRE(std::count_if(managers.begin(), managers.end(), [&](const DemoStaff& m) {
            return std::any_of(staff.begin(), staff.end(),
                               [&](const DemoStaff& s) { return s.id == leaver && s.team == m.team; });
          }) == 1);
  for (const DemoStaff& m : managers) {
    INFO("as " << m.id << ", sales manager of team " << m.team);
    // A member of their team who holds customers, for the portfolio and a handover plan.
    std::string member;
    for (const DemoStaff& s : staff) {
      if (s.team == m.team && s.role.find("account_executive") != std::string::npos && !s.departed) member = s.id;
    }
    REQUIRE(!member.empty());
    std::vector<std::vector<std::string>> queries = {
        {"silent"},
        {"accountability", "--team", m.team},
        {"staff", "portfolio", member},
        {"orphans"},
        {"handover", "plan", "--from", member, "--balance-team", m.team},
        {"alerts"},
    };
    // The leaver's own manager looks into the leaver (another team's manager reading them would be unserved).
    const bool leavers_manager =
        std::any_of(staff.begin(), staff.end(), [&](const DemoStaff& s) { return s.id == leaver && s.team == m.team; });
    if (leavers_manager) {
      queries.push_back({"staff", "portfolio", leaver});
      queries.push_back({"access", "--staff", leaver});
    }
    queries.push_back({"alerts"});  // raises what the reads before it found
    for (std::vector<std::string> q : queries) {
      INFO(q[0] << " " << (q.size() > 1 ? q[1] : ""));
      q.insert(q.begin(), {"--as", m.id});
      CliResult r = RunCli(tmp, data, q);
      INFO(r.err);
      CHECK(r.exit_code == 0);
      CHECK(r.err.find("ALERT") == std::string::npos);
    }
  }
  // The head of sales reads across the company, as the tour does.
  for (const std::vector<std::string>& q : std::vector<std::vector<std::string>>{{"silent"}, {"orphans"}, {"alerts"}}) {
    std::vector<std::string> args = {"--as", head};
    args.insert(args.end(), q.begin(), q.end());
    CHECK(RunCli(tmp, data, args).exit_code == 0);
  }
  CliResult all = RunCli(tmp, data, {"--as", head, "alerts", "--json"});
  INFO(all.err);
  REQUIRE(all.exit_code == 0);
  uint64_t listed = 0;
  for (size_t at = 0; at < all.out.size();) {
    const size_t end = all.out.find('\n', at);
    const boost::json::object a = boost::json::parse(all.out.substr(at, end - at)).as_object();
    at = end + 1;
    INFO(boost::json::serialize(a));
    CHECK(Str(a, "staff") == leaver);
    ++listed;
  }
  CHECK(listed == raised);  // nothing new since the demo loaded
}

}  // namespace
}  // namespace custodian
