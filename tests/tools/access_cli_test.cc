// Access auditing end to end on the sample company
// (docs/examples/sample-events.jsonl): --as / $CUSTODIAN_AS, the data.viewed
// and data.exported events each query records, the spool used while another
// process holds the store, `custodian access`, and the alerts with their
// webhook (replay/access.h, replay/alerts.h, tools/cli_access.cc).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/base64.h"
#include "core/time.h"
#include "storage/event_log.h"
#include "tests/test_util.h"
#include "tests/tls_certificate.h"
#include "tests/tools/cli_runner.h"

namespace custodian {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

using testing::CliResult;
using testing::RunCli;
using testing::SampleCompany;
using testing::Slurp;
using testing::TestCertificate;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return s;
}

// --- reading the CLI's JSON output ---

std::vector<json::object> JsonLines(const std::string& text) {
  std::vector<json::object> out;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(at, end - at);
    at = end + 1;
    if (line.empty()) continue;
    INFO(line);
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    REQUIRE(!ec);
    REQUIRE(v.is_object());
    out.push_back(v.get_object());
  }
  return out;
}

json::object JsonObject(const std::string& text) {
  std::vector<json::object> lines = JsonLines(text);
  REQUIRE(lines.size() == 1);
  return lines.front();
}

std::string Str(const json::object& o, const char* key) {
  INFO(key << " in " << json::serialize(o));
  auto it = o.find(key);
  REQUIRE(it != o.end());
  REQUIRE(it->value().is_string());
  return std::string(it->value().get_string());
}

int64_t Int(const json::object& o, const char* key) {
  INFO(key << " in " << json::serialize(o));
  auto it = o.find(key);
  REQUIRE(it != o.end());
  REQUIRE(it->value().is_number());
  return it->value().to_number<int64_t>();
}

std::vector<std::string> Strings(const json::object& o, const char* key) {
  INFO(key << " in " << json::serialize(o));
  auto it = o.find(key);
  REQUIRE(it != o.end());
  REQUIRE(it->value().is_array());
  std::vector<std::string> out;
  for (const json::value& v : it->value().get_array()) {
    REQUIRE(v.is_string());
    out.emplace_back(v.get_string());
  }
  return out;
}

const json::object& Data(const json::object& event) {
  INFO(json::serialize(event));
  auto it = event.find("data");
  REQUIRE(it != event.end());
  REQUIRE(it->value().is_object());
  return it->value().get_object();
}

// The values of `key` over `lines`, sorted and deduplicated: how AccessEvents
// lists the customers of a read.
std::vector<std::string> SortedField(const std::vector<json::object>& lines, const char* key) {
  std::set<std::string> s;
  for (const json::object& o : lines) s.insert(Str(o, key));
  return {s.begin(), s.end()};
}

// Every event of `stream`, as `custodian read STREAM --json` prints them,
// read from the store without recording a read or appending spooled ones.
std::vector<json::object> ReadStream(SampleCompany& c, const std::string& stream) {
  return JsonLines(testing::StoreLines(c.dir, stream));
}

// staff-3's reads of customer data, through `custodian access --staff 3`
// (which opens the store read-write, so spooled reads are appended first),
// leaving out the reads of the access log itself that listing records.
std::vector<json::object> ReadsByStaff3(SampleCompany& c) {
  CliResult r = RunCli(c.tmp, c.dir, {"--as", "staff-3", "access", "--staff", "3", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<json::object> out;
  for (json::object& e : JsonLines(r.out)) {
    const json::object& d = Data(e);
    if (auto it = d.find("view"); it != d.end() && it->value().is_string() && it->value().get_string() == "access_log") {
      continue;
    }
    out.push_back(std::move(e));
  }
  return out;
}

// The one event `run` added to staff-3's reads; fails unless exactly one.
template <typename Run>
json::object OneNewRead(SampleCompany& c, Run run) {
  const size_t before = ReadsByStaff3(c).size();
  run();
  std::vector<json::object> after = ReadsByStaff3(c);
  REQUIRE(after.size() == before + 1);
  const json::object& e = after.back();
  CHECK(Str(e, "stream") == "access-staff-3");
  CHECK(Str(e, "actor") == "staff-3");
  CHECK(Str(Data(e), "interface") == "cli");
  return e;
}

// Spooled access files (<data>/access-spool/*.jsonl), oldest first.
std::vector<std::string> SpoolFiles(const std::string& dir, const std::string& suffix = ".jsonl") {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir + "/access-spool", ec)) return out;
  for (const fs::directory_entry& e : fs::directory_iterator(dir + "/access-spool")) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(suffix) && !name.starts_with(".")) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Sets an environment variable for one scope (RunCli's execv passes the
// environment on to the custodian binary).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

// --- 1. who reads ---

TEST_CASE("customer show without --as is refused and records nothing, with --as it records one data.viewed",
          "[cli][access]") {
  SampleCompany c;
  c.reader = "";
  CliResult anonymous = c.Cli({"customer", "show", "1001"});
  CHECK(anonymous.exit_code == 1);
  CHECK_THAT(anonymous.err, Catch::Contains("--as"));
  CHECK(anonymous.out.empty());
  CHECK(ReadStream(c, "access-staff-3").empty());
  CHECK(SpoolFiles(c.dir).empty());

  c.reader = "staff-3";
  CliResult named = c.Cli({"customer", "show", "1001", "--json"});
  INFO(named.err);
  REQUIRE(named.exit_code == 0);
  CHECK(Str(JsonObject(named.out), "name") == "Hartmann Logistik GmbH");
  std::vector<json::object> reads = ReadStream(c, "access-staff-3");
  REQUIRE(reads.size() == 1);
  CHECK(Str(reads[0], "type") == "data.viewed");
  CHECK(Str(reads[0], "actor") == "staff-3");
  const json::object& d = Data(reads[0]);
  CHECK(Strings(d, "customers") == std::vector<std::string>{"customer-1001"});
  CHECK(Str(d, "view") == "customer_profile");
  CHECK(Str(d, "interface") == "cli");
  CHECK(Int(d, "count") == 1);
}

TEST_CASE("CUSTODIAN_AS names the reader when --as is absent, and --as wins over it", "[cli][access]") {
  SampleCompany c;
  c.reader = "";
  {
    ScopedEnv as("CUSTODIAN_AS", "7");
    CliResult r = c.Cli({"customer", "show", "1002", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CliResult overridden = RunCli(c.tmp, c.dir, {"--as", "staff-3", "customer", "show", "1004", "--json"});
    INFO(overridden.err);
    REQUIRE(overridden.exit_code == 0);
  }
  std::vector<json::object> by_7 = ReadStream(c, "access-staff-7");
  REQUIRE(by_7.size() == 1);
  CHECK(Str(by_7[0], "actor") == "staff-7");
  CHECK(Strings(Data(by_7[0]), "customers") == std::vector<std::string>{"customer-1002"});
  std::vector<json::object> by_3 = ReadStream(c, "access-staff-3");
  REQUIRE(by_3.size() == 1);
  CHECK(Strings(Data(by_3[0]), "customers") == std::vector<std::string>{"customer-1004"});
  // Unset again: refused.
  CHECK(c.Cli({"customer", "show", "1001"}).exit_code == 1);
}

TEST_CASE("every command that shows customer data refuses without --as, shows nothing and records nothing",
          "[cli][access]") {
  SampleCompany c;
  c.reader = "";
  const std::string before = testing::StoreLines(c.dir);
  const std::string bundle_file = c.tmp.Sub("bundle.json"), report_file = c.tmp.Sub("report.md");
  const std::vector<std::vector<std::string>> commands = {
      {"customer", "show", "1001"},
      {"customer", "show", "1001", "--as-of-business", "2026-01-01T00:00:00Z"},
      {"customer", "timeline", "1001"},
      {"customer", "custody", "1001"},
      {"staff", "portfolio", "7"},
      {"accountability", "--staff", "7"},
      {"accountability", "--team", "north"},
      {"silent"},
      {"orphans"},
      {"handover", "plan", "--from", "7", "--to", "3"},
      {"handover", "report", "ho-1"},
      {"handover", "report", "ho-1", "--out", report_file},
      {"bundle", "--stream", "customer-1001", "--out", bundle_file},
      {"access", "--staff", "7"},
      {"access", "--customer", "1001"},
      {"alerts"},
      {"read", "customer-1001"},
      {"read", "access-staff-7"},
      {"read-all"},
      {"tail", "--from", "0", "--count", "1"},
      {"tail", "--stream", "customer-1001", "--from", "0", "--count", "1"},
  };
  for (const std::vector<std::string>& args : commands) {
    std::string joined;
    for (const std::string& a : args) joined += a + " ";
    INFO(joined);
    CliResult r = c.Cli(args);
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("--as"));
    CHECK(r.out.empty());
  }
  CHECK(!fs::exists(bundle_file));
  CHECK(!fs::exists(report_file));
  CHECK(SpoolFiles(c.dir).empty());
  CHECK(testing::StoreLines(c.dir) == before);  // no read, no plan recorded
}

// --- 2. what each query records ---

TEST_CASE("each query records its own view: timeline, custody, portfolio, silent, orphans", "[cli][access]") {
  SampleCompany c;
  const size_t events_1001 = ReadStream(c, "customer-1001").size();
  REQUIRE(events_1001 == 16);

  json::object timeline = OneNewRead(c, [&] {
    CliResult r = c.Cli({"customer", "timeline", "1001"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("deal deal-5001 WON"));
  });
  CHECK(Str(timeline, "type") == "data.viewed");
  CHECK(Str(Data(timeline), "view") == "timeline");
  CHECK(Strings(Data(timeline), "customers") == std::vector<std::string>{"customer-1001"});
  CHECK(static_cast<size_t>(Int(Data(timeline), "count")) == events_1001);

  json::object custody = OneNewRead(c, [&] {
    CliResult r = c.Cli({"customer", "custody", "1001", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  });
  CHECK(Str(custody, "type") == "data.viewed");
  CHECK(Str(Data(custody), "view") == "custody");
  CHECK(Strings(Data(custody), "customers") == std::vector<std::string>{"customer-1001"});
  CHECK(Int(Data(custody), "count") == 2);  // staff-12, then staff-7

  std::vector<json::object> portfolio_lines;
  json::object portfolio = OneNewRead(c, [&] {
    CliResult r = c.Cli({"staff", "portfolio", "7", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    portfolio_lines = JsonLines(r.out);
  });
  REQUIRE(portfolio_lines.size() == 4);
  CHECK(Str(portfolio, "type") == "data.viewed");
  CHECK(Str(Data(portfolio), "view") == "portfolio");
  CHECK(Strings(Data(portfolio), "customers") == SortedField(portfolio_lines, "customer"));
  CHECK(Strings(Data(portfolio), "customers") ==
        std::vector<std::string>{"customer-1001", "customer-1002", "customer-1003", "customer-1004"});
  CHECK(Int(Data(portfolio), "count") == 4);

  std::vector<json::object> silent_lines;
  json::object silent = OneNewRead(c, [&] {
    CliResult r = c.Cli({"silent", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    silent_lines = JsonLines(r.out);
  });
  REQUIRE(!silent_lines.empty());
  CHECK(Str(Data(silent), "view") == "silent");
  CHECK(Strings(Data(silent), "customers") == SortedField(silent_lines, "customer"));
  CHECK(static_cast<size_t>(Int(Data(silent), "count")) == silent_lines.size());

  std::vector<json::object> orphan_lines;
  json::object orphans = OneNewRead(c, [&] {
    CliResult r = c.Cli({"orphans", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    orphan_lines = JsonLines(r.out);
  });
  REQUIRE(orphan_lines.size() == 1);  // staff-12 left holding req-9001 on customer-1001
  CHECK(Str(orphan_lines[0], "held_by") == "staff-12");
  CHECK(Str(Data(orphans), "view") == "orphans");
  CHECK(Strings(Data(orphans), "customers") == std::vector<std::string>{"customer-1001"});
  CHECK(Int(Data(orphans), "count") == 1);
}

TEST_CASE("bundle and handover report --out record data.exported, a report on screen records data.viewed",
          "[cli][access]") {
  SampleCompany c;
  const std::string bundle_file = c.tmp.Sub("bundle.json");
  uint64_t bundle_events = 0;
  json::object bundle = OneNewRead(c, [&] {
    CliResult r = c.Cli({"bundle", "--stream", "customer-1001", "--out", bundle_file, "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    bundle_events = static_cast<uint64_t>(Int(JsonObject(r.out), "events"));
  });
  CHECK(fs::exists(bundle_file));
  CHECK(bundle_events == ReadStream(c, "customer-1001").size());
  CHECK(Str(bundle, "type") == "data.exported");
  CHECK(Str(Data(bundle), "format") == "bundle");
  CHECK(Str(Data(bundle), "scope") == "evidence");
  CHECK(static_cast<uint64_t>(Int(Data(bundle), "records")) == bundle_events);
  CHECK(Strings(Data(bundle), "customers") == std::vector<std::string>{"customer-1001"});
  CHECK(Data(bundle).find("view") == Data(bundle).end());

  std::string id;
  json::object plan = OneNewRead(c, [&] {
    CliResult r = c.Cli({"handover", "plan", "--from", "7", "--to", "3", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    id = Str(JsonObject(r.out), "handover_id");
  });
  const std::vector<std::string> staff_7_customers = {"customer-1001", "customer-1002", "customer-1003",
                                                      "customer-1004"};
  CHECK(Str(plan, "type") == "data.viewed");
  CHECK(Str(Data(plan), "view") == "handover_plan");
  CHECK(Strings(Data(plan), "customers") == staff_7_customers);
  // A briefing covers every event of each customer handed over.
  size_t customer_events = 0;
  for (const std::string& customer : staff_7_customers) customer_events += ReadStream(c, customer).size();

  // It names people to call: the file is owner-only even where one of
  // another mode was, and a link is refused before anything is read.
  const std::string report_file = c.tmp.Sub("report.md");
  testing::WriteFile(report_file, "old");
  fs::permissions(report_file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read,
                  fs::perm_options::replace);
  fs::create_symlink(report_file, c.tmp.Sub("linked.md"));
  CliResult linked = c.Cli({"handover", "report", id, "--out", c.tmp.Sub("linked.md")});
  CHECK(linked.exit_code == 1);
  CHECK_THAT(linked.err, Catch::Contains("is a symbolic link"));
  CHECK(Slurp(report_file) == "old");
  json::object exported = OneNewRead(c, [&] {
    CliResult r = c.Cli({"handover", "report", id, "--out", report_file});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  });
  CHECK_THAT(Slurp(report_file), Catch::StartsWith("# Handover " + id + ": customers of staff-7"));
  CHECK((fs::status(report_file).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(Str(exported, "type") == "data.exported");
  CHECK(Str(Data(exported), "format") == "md");
  CHECK(Str(Data(exported), "scope") == "handover_report");
  CHECK(Strings(Data(exported), "customers") == staff_7_customers);
  CHECK(static_cast<size_t>(Int(Data(exported), "records")) == customer_events);

  json::object viewed = OneNewRead(c, [&] {
    CliResult r = c.Cli({"handover", "report", id});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("# Handover " + id));
  });
  CHECK(Str(viewed, "type") == "data.viewed");
  CHECK(Str(Data(viewed), "view") == "handover_report");
  CHECK(Strings(Data(viewed), "customers") == staff_7_customers);
  CHECK(Data(viewed).find("format") == Data(viewed).end());
}

// The brief: a read is appended to the log when the store can be opened
// read-write, and spooled only while another process holds it.
TEST_CASE("with nobody else holding the store, read-only queries append their read to the log, not the spool",
          "[cli][access]") {
  SampleCompany c;
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"customer", "timeline", "1001"},
                                             {"customer", "custody", "1001"},
                                             {"customer", "show", "1001", "--as-of-business", "2026-01-01T00:00:00Z"},
                                             {"handover", "report", "ho-1"}}) {
    INFO(args[0] + " " + args[1]);
    const size_t before = ReadStream(c, "access-staff-3").size();
    CliResult r = c.Cli(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(ReadStream(c, "access-staff-3").size() == before + 1);
    CHECK(SpoolFiles(c.dir).empty());
  }
}

// --- 3. a reader who has left ---

TEST_CASE("a reader who has left is refused by the log's actor rule and shown nothing", "[cli][access]") {
  SampleCompany c;
  c.reader = "staff-12";
  const std::vector<json::object> before = ReadStream(c, "access-staff-12");
  REQUIRE(before.size() == 2);  // the sample's own portfolio view and export
  CliResult show = c.Cli({"customer", "show", "1001"});
  CHECK(show.exit_code == 2);
  CHECK_THAT(show.err, Catch::Contains("staff-12"));
  CHECK(show.out.empty());
  const std::string bundle_file = c.tmp.Sub("bundle.json");
  CliResult bundle = c.Cli({"bundle", "--stream", "customer-1001", "--out", bundle_file});
  CHECK(bundle.exit_code == 2);
  CHECK_THAT(bundle.err, Catch::Contains("staff-12"));
  CHECK(bundle.out.empty());
  CHECK(!fs::exists(bundle_file));
  CHECK(ReadStream(c, "access-staff-12").size() == before.size());
  CHECK(SpoolFiles(c.dir).empty());
  CHECK(SpoolFiles(c.dir, ".rejected").empty());
}

TEST_CASE("a reader who has left is shown nothing by queries that open the store read-only, or while it is held",
          "[cli][access]") {
  SampleCompany c;
  c.reader = "staff-12";
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"customer", "timeline", "1001"},
                                             {"customer", "custody", "1001"},
                                             {"customer", "show", "1001", "--as-of-business", "2026-01-01T00:00:00Z"},
                                             {"handover", "report", "ho-1"}}) {
    INFO(args[0] + " " + args[1]);
    CliResult r = c.Cli(args);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("staff-12"));
    CHECK(r.out.empty());
  }
  {
    Result<std::unique_ptr<EventLog>> holder = EventLog::Open(c.dir, EventLogOptions{});
    REQUIRE(holder.ok());
    CliResult show = c.Cli({"customer", "show", "1001"});
    INFO("customer show while another process holds the store");
    CHECK(show.exit_code == 2);
    CHECK(show.out.empty());
  }
  CHECK(ReadStream(c, "access-staff-12").size() == 2);
}

// The log's 'reader' rule (core/rules.h): access records are the reader's own.
TEST_CASE("an export appended to another reader's access stream is refused by the log and writes nothing",
          "[cli][access]") {
  SampleCompany c;
  const std::string at = FormatRfc3339(Timestamp(SystemClock().Now().value() - 3'600'000'000LL));
  auto export_by = [&](const char* id, const char* actor) {
    return std::string(R"({"id":")") + id + R"(","stream":"access-staff-7","type":"data.exported","actor":")" + actor +
           R"(","occurred_at":")" + at +
           R"(","data":{"customers":["customer-1001","customer-1002"],"records":900,"format":"csv"}})";
  };
  // staff-3 records a mass export in staff-7's name.
  CliResult forged = RunCli(c.tmp, c.dir, {"append", export_by("7e0f6a1b-7c2d-4e3f-8a9b-0c1d2e3f4a51", "staff-3")});
  CHECK(forged.exit_code == 2);
  CHECK_THAT(forged.err, Catch::Contains("rule 'reader'"));
  CHECK_THAT(forged.err, Catch::Contains("actor staff-3 is not staff-7"));
  CHECK(forged.out.empty());
  // So does an import, whole.
  const std::string file = c.tmp.Sub("forged.jsonl");
  testing::WriteFile(file, export_by("7e0f6a1b-7c2d-4e3f-8a9b-0c1d2e3f4a52", "system:crm-sync") + "\n");
  CliResult imported = RunCli(c.tmp, c.dir, {"import", file});
  CHECK(imported.exit_code == 2);
  CHECK_THAT(imported.err, Catch::Contains("rule 'reader'"));
  CHECK(ReadStream(c, "access-staff-7").empty());
  // staff-7's own record of the same export goes in.
  CliResult own = RunCli(c.tmp, c.dir, {"append", export_by("7e0f6a1b-7c2d-4e3f-8a9b-0c1d2e3f4a53", "staff-7")});
  INFO(own.err);
  CHECK(own.exit_code == 0);
  const std::vector<json::object> stream = ReadStream(c, "access-staff-7");
  REQUIRE(stream.size() == 1);
  CHECK(Str(stream[0], "actor") == "staff-7");
}

// --- 4. custodian access ---

TEST_CASE("access --customer lists who read a customer, access --staff lists what one person read",
          "[cli][access]") {
  SampleCompany c;
  REQUIRE(c.Cli({"customer", "show", "1001"}).exit_code == 0);
  c.reader = "staff-7";
  REQUIRE(c.Cli({"customer", "show", "1001"}).exit_code == 0);
  c.reader = "staff-3";
  const std::vector<json::object> by_3 = ReadStream(c, "access-staff-3");
  const std::vector<json::object> by_7 = ReadStream(c, "access-staff-7");
  REQUIRE(by_3.size() == 1);
  REQUIRE(by_7.size() == 1);

  CliResult who = c.Cli({"access", "--customer", "1001", "--json"});
  INFO(who.err);
  REQUIRE(who.exit_code == 0);
  std::vector<json::object> entries = JsonLines(who.out);
  REQUIRE(entries.size() == 4);
  for (const json::object& e : entries) CHECK(Str(e, "customer") == "customer-1001");
  // The sample's reads by staff-12 come first, in log order.
  CHECK(Str(entries[0], "staff") == "staff-12");
  CHECK(Str(entries[0], "type") == "data.viewed");
  CHECK(Str(entries[0], "view") == "portfolio");
  CHECK(Str(entries[1], "staff") == "staff-12");
  CHECK(Str(entries[1], "type") == "data.exported");
  CHECK(Str(entries[1], "scope") == "portfolio");
  CHECK(Int(entries[1], "records") == 412);
  CHECK(Str(entries[2], "staff") == "staff-3");
  CHECK(Str(entries[2], "type") == "data.viewed");
  CHECK(Str(entries[2], "view") == "customer_profile");
  CHECK(Int(entries[2], "position") == Int(by_3[0], "position"));
  CHECK(Str(entries[3], "staff") == "staff-7");
  CHECK(Str(entries[3], "type") == "data.viewed");
  CHECK(Str(entries[3], "view") == "customer_profile");
  CHECK(Int(entries[3], "position") == Int(by_7[0], "position"));
  for (size_t i = 1; i < entries.size(); ++i) CHECK(Int(entries[i - 1], "position") < Int(entries[i], "position"));
  // That listing named customer-1001 to staff-3: it is itself a read.
  std::vector<json::object> again = JsonLines(c.Cli({"access", "--customer", "1001", "--json"}).out);
  REQUIRE(again.size() == 5);
  CHECK(Str(again[4], "staff") == "staff-3");
  CHECK(Str(again[4], "view") == "access_log");
  // --from is inclusive, --to exclusive: exactly the sample's export at 10:02.
  std::vector<json::object> window = JsonLines(
      c.Cli({"access", "--customer", "1001", "--from", "2026-02-20T10:02:00Z", "--to", "2026-02-21T00:00:00Z", "--json"})
          .out);
  REQUIRE(window.size() == 1);
  CHECK(Str(window[0], "type") == "data.exported");

  CliResult of_7 = c.Cli({"access", "--staff", "7", "--json"});
  INFO(of_7.err);
  REQUIRE(of_7.exit_code == 0);
  std::vector<json::object> reads_7 = JsonLines(of_7.out);
  REQUIRE(reads_7.size() == 1);
  CHECK(Str(reads_7[0], "id") == Str(by_7[0], "id"));
  CHECK(Str(reads_7[0], "stream") == "access-staff-7");
  CHECK(Str(reads_7[0], "type") == "data.viewed");
  CHECK(Str(reads_7[0], "actor") == "staff-7");
  CHECK(Str(Data(reads_7[0]), "view") == "customer_profile");
  CHECK_THAT(c.Cli({"access", "--staff", "12"}).out,
             Catch::Contains("staff-12: 1 read and 1 export (412 records exported) of 2 customers"));

  for (const char* flag : {"--staff", "--customer"}) {
    INFO(flag);
    CliResult future = c.Cli({"access", flag, std::string(flag) == "--staff" ? "7" : "1001", "--from",
                              "2099-01-01T00:00:00Z", "--json"});
    CHECK(future.exit_code == 0);
    CHECK(future.out.empty());
  }

  CliResult neither = c.Cli({"access", "--json"});
  CHECK(neither.exit_code == 1);
  CHECK(neither.out.empty());
  CliResult both = c.Cli({"access", "--staff", "7", "--customer", "1001", "--json"});
  CHECK(both.exit_code == 1);
  CHECK(both.out.empty());
  CliResult bad_from = c.Cli({"access", "--staff", "7", "--from", "yesterday", "--json"});
  CHECK(bad_from.exit_code != 0);
  CHECK_THAT(bad_from.err, Catch::Contains("--from"));
  CHECK(bad_from.out.empty());
}

// --- 5. the spool ---

TEST_CASE("reads made while another process holds the store are spooled and appended by the next writer",
          "[cli][access]") {
  SampleCompany c;
  Result<std::unique_ptr<EventLog>> holder = EventLog::Open(c.dir, EventLogOptions{});  // as a server would
  REQUIRE(holder.ok());

  CliResult timeline = c.Cli({"customer", "timeline", "1001"});
  INFO(timeline.err);
  REQUIRE(timeline.exit_code == 0);
  CHECK_THAT(timeline.out, Catch::Contains("deal deal-5001 WON"));
  std::vector<std::string> spooled = SpoolFiles(c.dir);
  REQUIRE(spooled.size() == 1);
  Result<std::vector<Event>> held = (*holder)->ReadStream("access-staff-3", StreamVersion(0), Direction::kForward, SIZE_MAX);
  REQUIRE(held.ok());
  CHECK(held->empty());

  // customer show tries read-write first, then falls back to the spool too.
  CliResult show = c.Cli({"customer", "show", "1002", "--json"});
  INFO(show.err);
  REQUIRE(show.exit_code == 0);
  spooled = SpoolFiles(c.dir);
  REQUIRE(spooled.size() == 2);
  std::vector<std::string> spooled_ids;
  for (const std::string& name : spooled) {
    std::vector<json::object> lines = JsonLines(Slurp(c.dir + "/access-spool/" + name));
    REQUIRE(lines.size() == 1);
    spooled_ids.push_back(Str(lines[0], "id"));
  }
  held = (*holder)->ReadStream("access-staff-3", StreamVersion(0), Direction::kForward, SIZE_MAX);
  REQUIRE(held.ok());
  CHECK(held->empty());

  holder->reset();  // the other process goes away
  CliResult list = c.Cli({"access", "--staff", "3", "--json"});
  INFO(list.err);
  REQUIRE(list.exit_code == 0);
  CHECK(list.err.empty());
  std::vector<json::object> reads = JsonLines(list.out);
  REQUIRE(reads.size() == 2);
  CHECK(Str(reads[0], "id") == spooled_ids[0]);
  CHECK(Str(Data(reads[0]), "view") == "timeline");
  CHECK(Strings(Data(reads[0]), "customers") == std::vector<std::string>{"customer-1001"});
  CHECK(Str(reads[1], "id") == spooled_ids[1]);
  CHECK(Str(Data(reads[1]), "view") == "customer_profile");
  CHECK(Strings(Data(reads[1]), "customers") == std::vector<std::string>{"customer-1002"});
  CHECK(SpoolFiles(c.dir).empty());
  CHECK(SpoolFiles(c.dir, ".rejected").empty());
  // Appended once: a second writer finds nothing left to add.
  CHECK(ReadStream(c, "access-staff-3").size() == 3);  // the two spooled reads and the listing
  CHECK(ReadsByStaff3(c).size() == 2);
}

TEST_CASE("a file put in the spool that holds anything but reads is refused with a warning and never appended",
          "[cli][access]") {
  SampleCompany c;
  // What a process holding the store read-only writes: an owner-only spool.
  {
    Result<std::unique_ptr<EventLog>> holder = EventLog::Open(c.dir, EventLogOptions{});
    REQUIRE(holder.ok());
    REQUIRE(c.Cli({"customer", "timeline", "1001"}).exit_code == 0);
  }
  REQUIRE(SpoolFiles(c.dir).size() == 1);
  // Someone adds a file of their own: staff-3 takes over customer-1002.
  const std::string name = "00000000000000000001-0b7e3c52-61f4-4c3a-9a0e-5d7c1e2f9a77.jsonl";
  const std::string path = c.dir + "/access-spool/" + name;
  testing::WriteFile(path,
                     R"({"id":"0b7e3c52-61f4-4c3a-9a0e-5d7c1e2f9a77","stream":"customer-1002","type":"customer.owner_assigned",)"
                     R"("actor":"staff-3","occurred_at":"2026-03-04T09:30:00Z","source":"crm",)"
                     R"("data":{"owner":"staff-3","previous_owner":"staff-7","reason":"rebalance"}})"
                     "\n");
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  const size_t customer_events = ReadStream(c, "customer-1002").size();

  CliResult show = c.Cli({"customer", "show", "1001"});  // read-write: drains the spool first
  INFO(show.err);
  REQUIRE(show.exit_code == 0);
  CHECK_THAT(show.err, Catch::Contains("warning"));
  CHECK_THAT(show.err, Catch::Contains(path));
  CHECK_THAT(show.err, Catch::Contains("type customer.owner_assigned is not a record of a read"));
  CHECK_THAT(show.err, Catch::Contains(name + ".rejected"));
  CHECK(ReadStream(c, "customer-1002").size() == customer_events);  // never appended
  CHECK(SpoolFiles(c.dir).empty());
  CHECK(SpoolFiles(c.dir, ".rejected") == std::vector<std::string>{name + ".rejected"});
  // The real spooled read went in; the next command has nothing to say.
  CHECK(ReadsByStaff3(c).size() == 2);
  CliResult again = c.Cli({"customer", "show", "1001"});
  CHECK(again.exit_code == 0);
  CHECK(again.err.empty());
}

// --- 6. alerts and the webhook ---

// One request the hook server received.
struct HookRequest {
  std::string method, target, head, body;  // head: the request line and headers, lower-cased
  bool complete = false;                   // the whole Content-Length body arrived
  bool handshake_failed = false;           // TLS: the client gave up during the handshake
};

// A minimal HTTP server on 127.0.0.1 (any free port) that answers every
// request with 204 and keeps what it received; with a TLS context, an HTTPS
// server. Every wait is bounded (poll(), socket timeouts), so a client that
// never comes or never finishes fails the test rather than hanging it.
class HookServer {
 public:
  explicit HookServer(SSL_CTX* tls = nullptr) : tls_(tls) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listen_fd_ >= 0);
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(listen_fd_, 16) == 0);
    socklen_t len = sizeof(addr);
    REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    REQUIRE(::pipe(stop_) == 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~HookServer() {
    Stop();
    ::close(listen_fd_);
    ::close(stop_[0]);
    ::close(stop_[1]);
  }
  HookServer(const HookServer&) = delete;
  HookServer& operator=(const HookServer&) = delete;

  int port() const { return port_; }

  std::vector<HookRequest> Requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

  void Stop() {
    if (!thread_.joinable()) return;
    const char x = 'x';
    (void)!::write(stop_[1], &x, 1);
    thread_.join();
  }

 private:
  static constexpr int kIdleLimitMs = 120'000;  // no test waits longer than this for a client
  static constexpr int kReadLimitMs = 10'000;   // nor for the rest of a request

  void Serve() {
    for (;;) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      const int n = ::poll(fds, 2, kIdleLimitMs);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || fds[1].revents != 0) return;
      if ((fds[0].revents & POLLIN) == 0) continue;
      const int conn = ::accept(listen_fd_, nullptr, nullptr);
      if (conn < 0) continue;
      timeval limit{kReadLimitMs / 1000, 0};
      ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
      ::setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
      Handle(conn);
      ::close(conn);
    }
  }

  void Keep(HookRequest req) {
    // Kept before answering: once the client has its answer, Requests() has it.
    std::lock_guard lock(mu_);
    requests_.push_back(std::move(req));
  }

  void Handle(int conn) {
    SSL* ssl = nullptr;
    if (tls_) {
      ssl = SSL_new(tls_);
      SSL_set_fd(ssl, conn);
      if (SSL_accept(ssl) <= 0) {
        HookRequest failed;
        failed.handshake_failed = true;
        Keep(failed);
        SSL_free(ssl);
        return;
      }
    }
    auto read_some = [&](char* buf, size_t size) -> ssize_t {
      if (ssl) return SSL_read(ssl, buf, static_cast<int>(size));
      pollfd p{conn, POLLIN, 0};
      if (::poll(&p, 1, kReadLimitMs) <= 0) return -1;
      return ::recv(conn, buf, size, 0);
    };
    HookRequest req;
    std::string raw;
    size_t header_end = std::string::npos, content_length = 0;
    char buf[4096];
    for (;;) {
      const ssize_t got = read_some(buf, sizeof(buf));
      if (got <= 0) break;
      raw.append(buf, static_cast<size_t>(got));
      if (header_end == std::string::npos) {
        header_end = raw.find("\r\n\r\n");
        if (header_end == std::string::npos) continue;
        req.head = raw.substr(0, header_end);
        std::transform(req.head.begin(), req.head.end(), req.head.begin(),
                       [](unsigned char ch) { return std::tolower(ch); });
        if (const size_t at = req.head.find("\r\ncontent-length:"); at != std::string::npos) {
          content_length = std::strtoull(req.head.c_str() + at + 17, nullptr, 10);
        }
      }
      if (raw.size() >= header_end + 4 + content_length) {
        req.complete = true;
        break;
      }
    }
    if (header_end != std::string::npos) {
      const std::string request_line = raw.substr(0, raw.find("\r\n"));
      const size_t sp1 = request_line.find(' '), sp2 = request_line.find(' ', sp1 + 1);
      req.method = request_line.substr(0, sp1);
      if (sp1 != std::string::npos) req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
      req.body = raw.substr(header_end + 4, content_length);
    }
    Keep(req);
    static constexpr char kReply[] = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    if (ssl) {
      SSL_write(ssl, kReply, sizeof(kReply) - 1);
      SSL_shutdown(ssl);
      SSL_free(ssl);
    } else {
      (void)::send(conn, kReply, sizeof(kReply) - 1, MSG_NOSIGNAL);
    }
  }

  SSL_CTX* tls_;
  int listen_fd_ = -1, port_ = 0;
  int stop_[2] = {-1, -1};
  std::thread thread_;
  std::mutex mu_;
  std::vector<HookRequest> requests_;
};

// Appends an HR event about `staff` (staff.joined, staff.departure_announced, ...) through the CLI.
void Hr(SampleCompany& c, const std::string& staff, const std::string& type, const std::string& data,
        const std::string& at = "2026-01-05T08:00:00Z") {
  CliResult r = RunCli(c.tmp, c.dir,
                       {"append", R"({"id":")" + testing::RandomId().ToString() + R"(","stream":")" + staff +
                                      R"(","type":")" + type + R"(","actor":"system:hr-sync","occurred_at":")" + at +
                                      R"(","data":)" + data + "}"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

// The sample company's compliance officer, staff-20, who may change the alert settings.
void JoinComplianceOfficer(SampleCompany& c) {
  Hr(c, "staff-20", "staff.joined", R"({"role":"compliance_officer"})");
}

TEST_CASE("alert settings are changed only by a role with that duty, never by a leaver, whatever the entry point",
          "[cli][access]") {
  SampleCompany c;
  JoinComplianceOfficer(c);
  Hr(c, "staff-21", "staff.joined", R"({"role":"head_of_sales"})");
  const size_t alerts_stream = ReadStream(c, "alerts").size();
  // staff-3, the sales manager, and staff-7, an account executive.
  for (const char* who : {"staff-3", "staff-7"}) {
    INFO(who);
    c.reader = who;
    CliResult r = c.Cli({"alerts", "config", "--set", "webhook=off", "--set", "export_records_per_day=100000"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("rule 'settings'"));
    CHECK_THAT(r.err, Catch::Contains(std::string(who) + "'s role is"));
    CHECK(r.out.empty());
  }
  // Appending the event directly is refused the same way.
  CliResult direct = RunCli(
      c.tmp, c.dir,
      {"append", R"({"id":"5b0e9a52-7c1d-4f3e-8a26-0d9c4e1b7a99","stream":"alerts","type":"alerts.configured",)"
                 R"("actor":"staff-7","occurred_at":"2026-03-01T08:00:00Z","data":{"webhook":"off"}})"});
  CHECK(direct.exit_code == 2);
  CHECK_THAT(direct.err, Catch::Contains("rule 'settings'"));
  CHECK(ReadStream(c, "alerts").size() == alerts_stream);

  // The head of sales may, until they announce their departure.
  c.reader = "staff-21";
  CliResult head = c.Cli({"alerts", "config", "--set", "mass_export_customers=150", "--json"});
  INFO(head.err);
  CHECK(head.exit_code == 0);
  CHECK(Int(JsonObject(head.out), "mass_export_customers") == 150);
  Hr(c, "staff-21", "staff.departure_announced", R"({"effective_at":"2026-12-31T00:00:00Z"})", "2026-02-01T08:00:00Z");
  CliResult leaver = c.Cli({"alerts", "config", "--set", "webhook=off", "--set", "mass_export_customers_leaving=100000"});
  CHECK(leaver.exit_code == 2);
  CHECK_THAT(leaver.err, Catch::Contains("staff-21 announced their departure on 2026-02-01T08:00:00Z"));
  CHECK(JsonObject(c.Cli({"alerts", "config", "--json"}).out).at("mass_export_customers_leaving").to_number<int64_t>() ==
        25);
  // The compliance officer may.
  c.reader = "staff-20";
  CHECK(c.Cli({"alerts", "config", "--set", "mass_export_customers=120"}).exit_code == 0);
}

TEST_CASE("a mass export raises one alert, posts it once to the webhook, and raising again adds nothing",
          "[cli][access]") {
  SampleCompany c;
  JoinComplianceOfficer(c);
  HookServer hook;
  const std::string url = "http://127.0.0.1:" + std::to_string(hook.port()) + "/hook";

  c.reader = "staff-20";
  CliResult config = c.Cli({"alerts", "config", "--set", "webhook=" + url, "--set", "mass_export_customers=2", "--json"});
  c.reader = "staff-3";
  INFO(config.err);
  REQUIRE(config.exit_code == 0);
  const json::object settings = JsonObject(config.out);
  CHECK(Str(settings, "webhook") == url);
  CHECK(Int(settings, "mass_export_customers") == 2);
  CHECK(Int(settings, "mass_export_customers_leaving") == 25);  // unchanged default
  CHECK(Int(settings, "export_records_per_day") == 1000);
  // On the record, by who set it, and raised as an alert of its own, which
  // goes to the webhook now in force.
  std::vector<json::object> last =
      JsonLines(RunCli(c.tmp, c.dir, {"read", "alerts", "--backwards", "--limit", "2", "--json"}).out);
  REQUIRE(last.size() == 2);
  const json::object& change = last[0];
  CHECK(Str(change, "type") == "alert.raised");
  CHECK(Str(Data(change), "rule") == "settings_changed");
  CHECK(Str(Data(change), "severity") == "critical");
  CHECK(Str(Data(change), "staff") == "staff-20");
  CHECK(Str(Data(change), "summary") ==
        "staff-20 changed the alert settings: mass_export_customers 100 -> 2, webhook off -> " + url);
  CHECK_THAT(config.err, Catch::Contains("ALERT " + Str(Data(change), "alert_id")));
  const json::object& configured = last[1];
  CHECK(Str(configured, "type") == "alerts.configured");
  CHECK(Str(configured, "actor") == "staff-20");
  CHECK(Str(Data(configured), "webhook") == url);
  CHECK(Int(Data(configured), "mass_export_customers") == 2);
  CHECK(Strings(Data(change), "evidence") == std::vector<std::string>{Str(configured, "id")});
  // Printing the settings again shows the same.
  CHECK(JsonObject(c.Cli({"alerts", "config", "--json"}).out) == settings);
  std::vector<HookRequest> posted = hook.Requests();
  REQUIRE(posted.size() == 1);
  CHECK(Str(Data(JsonObject(posted[0].body)), "rule") == "settings_changed");

  // staff-7 exports three of their customers, an hour ago.
  const std::string an_hour_ago = FormatRfc3339(Timestamp(SystemClock().Now().value() - 3'600'000'000LL));
  const std::string export_id = "7e0f6a1b-7c2d-4e3f-8a9b-0c1d2e3f4a01";
  CliResult append = c.Cli({"append", R"({"id":")" + export_id +
                                          R"(","stream":"access-staff-7","type":"data.exported","actor":"staff-7","occurred_at":")" +
                                          an_hour_ago +
                                          R"(","source":"crm","data":{"customers":["customer-1001","customer-1002","customer-1004"],"records":30,"format":"csv","scope":"portfolio","export_id":"exp-900","interface":"web"}})"});
  INFO(append.err);
  REQUIRE(append.exit_code == 0);

  CliResult alerts = c.Cli({"alerts", "--json"});
  INFO(alerts.err);
  REQUIRE(alerts.exit_code == 0);
  std::vector<json::object> about_7;
  for (json::object& a : JsonLines(alerts.out)) {
    if (Str(a, "staff") == "staff-7") about_7.push_back(std::move(a));
  }
  REQUIRE(about_7.size() == 1);
  const json::object& alert = about_7[0];
  const std::string alert_id = Str(alert, "alert_id");
  CHECK(Str(alert, "rule") == "mass_export");
  CHECK(Int(alert, "count") == 3);
  CHECK(Int(alert, "threshold") == 2);
  CHECK(Str(alert, "severity") == "warning");  // staff-7 is not leaving
  CHECK(Strings(alert, "customers") == std::vector<std::string>{"customer-1001", "customer-1002", "customer-1004"});
  CHECK(Strings(alert, "evidence") == std::vector<std::string>{export_id});
  CHECK_THAT(alerts.err, Catch::Contains("ALERT " + alert_id));
  // With the sample's alert-501 about staff-12; the settings change, about staff-20 (compliance, no team), is not
  // staff-3's to see, but the compliance officer's.
  CHECK(JsonLines(alerts.out).size() == 2);
  c.reader = "staff-20";
  CHECK(JsonLines(c.Cli({"alerts", "--json"}).out).size() == 3);
  c.reader = "staff-3";

  posted = hook.Requests();
  REQUIRE(posted.size() == 2);
  CHECK(posted[1].complete);
  CHECK(posted[1].method == "POST");
  CHECK(posted[1].target == "/hook");
  const json::object body = JsonObject(posted[1].body);
  CHECK(Str(body, "type") == "alert.raised");
  CHECK(Str(body, "stream") == "alerts");
  CHECK(Str(Data(body), "alert_id") == alert_id);
  CHECK(Str(Data(body), "rule") == "mass_export");
  CHECK(Str(Data(body), "staff") == "staff-7");
  CHECK(Int(body, "position") == Int(alert, "position"));
  // The stored event, as the log holds it: its version and real recorded_at.
  const std::vector<json::object> stored = ReadStream(c, "alerts");
  const auto it = std::find_if(stored.begin(), stored.end(),
                               [&](const json::object& e) { return Int(e, "position") == Int(body, "position"); });
  REQUIRE(it != stored.end());
  CHECK(body == *it);
  CHECK(Int(body, "version") == static_cast<int64_t>(it - stored.begin()));
  CHECK(Int(body, "version") > 0);
  CHECK(Str(body, "recorded_at") != "1970-01-01T00:00:00Z");
  CHECK(Str(body, "recorded_at").substr(0, 4) >= "2025");

  // Raising again, by alerts or by any other query, adds and posts nothing.
  const size_t alerts_stream = ReadStream(c, "alerts").size();
  CliResult again = c.Cli({"alerts", "--json"});
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(JsonLines(again.out).size() == 2);
  CHECK_THAT(again.err, !Catch::Contains("ALERT"));
  REQUIRE(c.Cli({"customer", "show", "1001"}).exit_code == 0);
  CHECK(ReadStream(c, "alerts").size() == alerts_stream);
  CHECK(hook.Requests().size() == 2);

  // Bad settings are refused and recorded nothing.
  CliResult nonsense = c.Cli({"alerts", "config", "--set", "nonsense=1"});
  CHECK(nonsense.exit_code == 1);
  CHECK_THAT(nonsense.err, Catch::Contains("nonsense"));
  CliResult ftp = c.Cli({"alerts", "config", "--set", "webhook=ftp://x"});
  CHECK(ftp.exit_code == 1);
  CHECK_THAT(ftp.err, Catch::Contains("webhook"));
  CHECK(ReadStream(c, "alerts").size() == alerts_stream);
  CHECK(JsonObject(c.Cli({"alerts", "config", "--json"}).out) == settings);

  hook.Stop();
  CHECK(hook.Requests().size() == 2);
}

// Every file under `dir` (but `except`) whose bytes contain `needle`.
std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle, const std::string& except) {
  std::vector<std::string> found;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename() == except) continue;
    if (Slurp(e.path().string()).find(needle) != std::string::npos) found.push_back(e.path().string());
  }
  return found;
}

// staff-7 exports three customers an hour ago: with mass_export_customers=2, an alert.
void MassExportBy7(SampleCompany& c) {
  const std::string an_hour_ago = FormatRfc3339(Timestamp(SystemClock().Now().value() - 3'600'000'000LL));
  CliResult r = RunCli(c.tmp, c.dir,
                       {"append", R"({"id":")" + testing::RandomId().ToString() +
                                      R"(","stream":"access-staff-7","type":"data.exported","actor":"staff-7",)"
                                      R"("occurred_at":")" + an_hour_ago +
                                      R"(","data":{"customers":["customer-1001","customer-1002","customer-1004"],)"
                                      R"("records":30,"format":"csv"}})"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

TEST_CASE("an https webhook gets each alert over verified TLS, and its credential reaches no output and no file of "
          "the store but the secrets file",
          "[cli][access][webhook]") {
  SampleCompany c;
  JoinComplianceOfficer(c);
  TestCertificate cert("IP:127.0.0.1,DNS:localhost");
  const std::string ca = c.tmp.Sub("hook-ca.pem");
  cert.WritePem(ca);
  ScopedEnv trust("CUSTODIAN_WEBHOOK_CA_FILE", ca.c_str());
  HookServer hook(cert.server());
  const std::string port = std::to_string(hook.port());
  const std::string url = "https://user:secret@127.0.0.1:" + port + "/hook?token=secret-token";
  std::string outputs;  // everything the commands printed

  c.reader = "staff-20";
  CliResult config = c.Cli({"alerts", "config", "--set", "webhook=" + url, "--set", "mass_export_customers=2"});
  outputs += config.out + config.err;
  INFO(config.err);
  REQUIRE(config.exit_code == 0);
  const std::string redacted = "https://***@127.0.0.1:" + port + "/hook?token=***";
  CHECK_THAT(config.out, Catch::Contains(redacted));
  CHECK_THAT(config.out, Catch::Contains("webhook.url"));
  CliResult json_config = c.Cli({"alerts", "config", "--json"});
  outputs += json_config.out + json_config.err;
  const json::object settings = JsonObject(json_config.out);
  CHECK(Str(settings, "webhook") == redacted);
  CHECK(Str(settings, "webhook_fingerprint").starts_with("sha256:"));

  // The settings_changed alert went out at once, over TLS, with the
  // credential as Basic authentication and the token in the query.
  std::vector<HookRequest> posted = hook.Requests();
  REQUIRE(posted.size() == 1);
  CHECK_FALSE(posted[0].handshake_failed);
  CHECK(posted[0].complete);
  CHECK(posted[0].method == "POST");
  CHECK(posted[0].target == "/hook?token=secret-token");
  CHECK_THAT(posted[0].head, Catch::Contains("\r\nauthorization: basic " + Lower(Base64Encode("user:secret")) + "\r\n"));
  CHECK_THAT(posted[0].head, Catch::Contains("\r\nhost: 127.0.0.1:" + port + "\r\n"));
  const json::object change = JsonObject(posted[0].body);
  CHECK(Str(Data(change), "rule") == "settings_changed");
  CHECK_THAT(Str(Data(change), "summary"), Catch::Contains("webhook off -> " + redacted));
  CHECK(posted[0].body.find("secret") == std::string::npos);

  MassExportBy7(c);
  c.reader = "staff-3";
  CliResult alerts = c.Cli({"alerts", "--json"});
  outputs += alerts.out + alerts.err;
  INFO(alerts.err);
  REQUIRE(alerts.exit_code == 0);
  posted = hook.Requests();
  REQUIRE(posted.size() == 2);
  CHECK(Str(Data(JsonObject(posted[1].body)), "rule") == "mass_export");
  CliResult read = c.Cli({"read-all", "--json"});
  outputs += read.out + read.err;
  CHECK_THAT(read.out, Catch::Contains(redacted));

  // The credential: in the secrets file (owner-only), nowhere else.
  hook.Stop();
  c.Cli({"stats"});  // and after the store is closed, in whatever RocksDB flushed
  const std::string secrets = c.dir + "/webhook.url";
  struct stat st;
  REQUIRE(::lstat(secrets.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK_THAT(Slurp(secrets), Catch::Contains(url));
  CHECK(FilesContaining(c.dir, "secret", "webhook.url").empty());
  CHECK(outputs.find("secret") == std::string::npos);
}

TEST_CASE("an https webhook whose certificate does not verify gets nothing, and the warning says why",
          "[cli][access][webhook]") {
  SampleCompany c;
  JoinComplianceOfficer(c);
  c.reader = "staff-20";
  for (const bool trusted : {false, true}) {
    // Self-signed and not trusted; then trusted, but made for another host.
    TestCertificate cert(trusted ? "DNS:soc.example.com" : "IP:127.0.0.1");
    const std::string ca = c.tmp.Sub("hook-ca.pem");
    cert.WritePem(ca);
    std::unique_ptr<ScopedEnv> trust = trusted ? std::make_unique<ScopedEnv>("CUSTODIAN_WEBHOOK_CA_FILE", ca.c_str())
                                               : nullptr;
    HookServer hook(cert.server());
    const std::string url = "https://user:secret@127.0.0.1:" + std::to_string(hook.port()) + "/hook";
    CliResult config = c.Cli({"alerts", "config", "--set", "webhook=" + url});
    INFO(config.err);
    CHECK(config.exit_code == 0);  // the change is made and its alert raised
    CHECK_THAT(config.err, Catch::Contains("ALERT"));
    CHECK_THAT(config.err, Catch::Contains("warning: the alert webhook https://***@127.0.0.1:"));
    CHECK_THAT(config.err, Catch::Contains("certificate verify failed"));
    CHECK(config.err.find("secret") == std::string::npos);
    hook.Stop();
    for (const HookRequest& r : hook.Requests()) {
      CHECK(r.handshake_failed);
      CHECK(r.body.empty());
    }
  }
}

TEST_CASE("a webhook that takes the connection and never answers holds the command no longer than its timeout",
          "[cli][access][webhook]") {
  SampleCompany c;
  JoinComplianceOfficer(c);
  c.reader = "staff-20";
  // Listening, never accepting: the kernel completes the connection and
  // takes the request, and no answer ever comes.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::listen(fd, 16) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/hook";
  CliResult config = c.Cli({"alerts", "config", "--set", "webhook=" + url});  // before: never returned
  ::close(fd);
  INFO(config.err);
  CHECK(config.exit_code == 0);
  CHECK_THAT(config.err, Catch::Contains("warning: the alert webhook " + url) && Catch::Contains("read the answer"));
}

TEST_CASE("alerts config refuses a bad webhook URL, saying what is wrong, and records nothing",
          "[cli][access][webhook]") {
  SampleCompany c;
  JoinComplianceOfficer(c);
  c.reader = "staff-20";
  const size_t alerts_stream = ReadStream(c, "alerts").size();
  struct Case {
    std::string url, message;
  };
  for (const Case& bad : std::vector<Case>{
           {"ftp://soc.example.com/hook", "the scheme 'ftp' is not supported (only http and https"},
           {"https://user:secret@soc.example.com:0/hook", "the port '0' is not a number from 1 to 65535"},
           {"https://user:secret@soc.example.com:65536/hook", "the port '65536' is not a number from 1 to 65535"},
           {"https://soc.example.com:http/hook", "the port 'http' is not a number"},
           {"https://soc_example.com/hook", "the host 'soc_example.com' has the character '_'"},
           {"https://soc.example.com/a hook", "byte 26 is a space"},
           {"https://soc.example.com/hook\r\nX-Injected: 1", "byte 29 is a control character (0x0d)"},
           {"https://user:secret@/hook", "there is no host"},
           {"soc.example.com/hook", "there is no scheme"},
       }) {
    INFO(bad.url);
    CliResult r = c.Cli({"alerts", "config", "--set", "webhook=" + bad.url});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("--set webhook: webhook URL: " + bad.message));
    CHECK(r.err.find("secret") == std::string::npos);
    CHECK(r.out.empty());
  }
  CHECK(ReadStream(c, "alerts").size() == alerts_stream);
  CHECK_FALSE(fs::exists(c.dir + "/webhook.url"));
}

}  // namespace
}  // namespace custodian
