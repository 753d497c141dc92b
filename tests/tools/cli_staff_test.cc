// End-to-end tests of `custodian staff portfolio`, `accountability`,
// `silent`, `pipeline` and `customer find`: the real binary on a real store filled by `import`.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "core/time.h"
#include "tests/test_util.h"
#include "tests/tools/cli_runner.h"

namespace custodian {
namespace {

using testing::CliResult;
using testing::RunCli;
using testing::Slurp;
using testing::TempDir;
using testing::WriteFile;

size_t Lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

// `days_ago` days before the wall clock, in RFC 3339.
std::string DaysAgo(int days_ago, int hours = 0) {
  const int64_t now = SystemClock().Now().value() / kMicrosPerSecond * kMicrosPerSecond;
  return FormatRfc3339(Timestamp(now - (int64_t{days_ago} * 86400 - hours * 3600) * kMicrosPerSecond));
}

std::string Line(const std::string& stream, const std::string& type, const std::string& actor, const std::string& at,
                 const std::string& data) {
  return R"({"id":")" + testing::RandomId().ToString() + R"(","stream":")" + stream + R"(","type":")" + type +
         R"(","actor":")" + actor + R"(","occurred_at":")" + at + R"(","data":)" + data + "}\n";
}

// staff-1 owned customer-1 and customer-2; 30 days ago customer-1 was handed
// over to staff-2. customer-1's last contact was 100 days ago (a request on
// it was answered after 2 hours), customer-2's 10 days ago.
struct Company {
  TempDir tmp;
  std::string dir = tmp.Sub("store");
  Company() {
    std::string lines;
    for (const char* s : {"staff-1", "staff-2", "staff-9"}) {
      lines += Line(s, "staff.joined", "system:hr-sync", DaysAgo(400), R"({"role":"account_executive","team":"north"})");
    }
    lines += Line("customer-1", "customer.registered", "staff-9", DaysAgo(300), R"({"name":"Acme GmbH"})");
    lines += Line("customer-1", "customer.owner_assigned", "staff-9", DaysAgo(300), R"({"owner":"staff-1","reason":"initial"})");
    lines += Line("customer-2", "customer.registered", "staff-9", DaysAgo(300), R"({"name":"Bolt AG"})");
    lines += Line("customer-2", "customer.owner_assigned", "staff-9", DaysAgo(300), R"({"owner":"staff-1","reason":"initial"})");
    lines += Line("customer-1", "request.opened", "staff-9", DaysAgo(100), R"({"request_id":"r1","title":"Price list"})");
    lines += Line("customer-1", "request.assigned", "staff-9", DaysAgo(100), R"({"request_id":"r1","assignee":"staff-1"})");
    lines += Line("customer-1", "interaction.logged", "staff-1", DaysAgo(100, 2), R"({"channel":"call","direction":"outbound"})");
    lines += Line("customer-1", "request.responded", "staff-1", DaysAgo(100, 2), R"({"request_id":"r1"})");
    lines += Line("customer-2", "interaction.logged", "staff-1", DaysAgo(10), R"({"channel":"email","direction":"outbound"})");
    lines += Line("customer-1", "customer.owner_assigned", "staff-9", DaysAgo(30),
                  R"({"owner":"staff-2","previous_owner":"staff-1","reason":"handover","handover_id":"h1"})");
    std::ofstream(tmp.Sub("company.jsonl")) << lines;
    REQUIRE(Cli({"init"}).exit_code == 0);
    CliResult imported = Cli({"import", tmp.Sub("company.jsonl")});
    INFO(imported.err);
    REQUIRE(imported.exit_code == 0);
  }
  CliResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--as", "staff-9"});
    return RunCli(tmp, dir, std::move(args));
  }
};

TEST_CASE("staff portfolio shows the handover in text and JSON Lines, and refuses bad ids", "[cli][staff]") {
  Company company;
  CliResult old_owner = company.Cli({"staff", "portfolio", "1"});
  INFO(old_owner.err);
  REQUIRE(old_owner.exit_code == 0);
  CHECK(old_owner.out.find("staff-1  account_executive, team north") != std::string::npos);
  // customer-2 stays; customer-1 moved, but its request r1 is still assigned to staff-1.
  CHECK(old_owner.out.find("owns 1 customer; open work on 1 customer owned by others") != std::string::npos);
  const size_t others = old_owner.out.find("OPEN WORK ON CUSTOMERS OWNED BY OTHERS");
  REQUIRE(others != std::string::npos);
  CHECK(old_owner.out.find("customer-2") < others);
  CHECK(old_owner.out.find("customer-1") > others);
  CHECK(old_owner.out.find("staff-2", others) != std::string::npos);

  CliResult new_owner = company.Cli({"staff", "portfolio", "staff-2", "--json"});
  REQUIRE(new_owner.exit_code == 0);
  REQUIRE(Lines(new_owner.out) == 1);
  CHECK(new_owner.out.find(R"("customer":"customer-1")") != std::string::npos);
  CHECK(new_owner.out.find(R"("owned":true)") != std::string::npos);
  CHECK(new_owner.out.find(R"("name":"Acme GmbH")") != std::string::npos);

  // As of an hour from now, the replay through the same fold gives the same lines.
  const std::string later = FormatRfc3339(Timestamp(SystemClock().Now().value() + int64_t{3600} * kMicrosPerSecond));
  CHECK(company.Cli({"staff", "portfolio", "2", "--json", "--as-of", later}).out == new_owner.out);
  // As of before anything was recorded, staff-2 is unknown.
  CliResult before = company.Cli({"staff", "portfolio", "2", "--as-of", "2020-01-01T00:00:00Z"});
  CHECK(before.exit_code == 6);
  CHECK(before.err.find("staff-2 owns nothing and has no events recorded by 2020-01-01T00:00:00Z") !=
        std::string::npos);

  CliResult bad = company.Cli({"staff", "portfolio", "seven!"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("is not a staff id") != std::string::npos);
  CHECK(company.Cli({"staff", "portfolio", "404"}).exit_code == 6);
}

TEST_CASE("silent, accountability and rebuild work on the same store", "[cli][staff]") {
  Company company;
  CliResult silent = company.Cli({"silent", "--json"});
  INFO(silent.err);
  REQUIRE(silent.exit_code == 0);
  REQUIRE(Lines(silent.out) == 1);
  CHECK(silent.out.find(R"("kind":"silent","customer":"customer-1")") != std::string::npos);
  CHECK(silent.out.find(R"("owner":"staff-2")") != std::string::npos);
  CHECK(company.Cli({"silent", "--days", "120", "--json"}).out.empty());
  CliResult text = company.Cli({"silent", "--days", "5"});
  CHECK(text.out.find("customer-1") != std::string::npos);
  CHECK(text.out.find("customer-2") != std::string::npos);
  CHECK(company.Cli({"silent", "--days", "-3"}).exit_code == 1);

  CliResult acc = company.Cli({"accountability", "--staff", "1", "--json"});
  INFO(acc.err);
  REQUIRE(acc.exit_code == 0);
  CHECK(acc.out.find(R"("kind":"request","customer":"customer-1","request_id":"r1")") != std::string::npos);
  CHECK(acc.out.find(R"("kind":"staff","staff":"staff-1","requests":1,"answered":1,"unanswered":0)") !=
        std::string::npos);
  CHECK(acc.out.find(R"("kind":"team","team":"north")") != std::string::npos);
  CliResult acc_text = company.Cli({"accountability"});
  CHECK(acc_text.out.find("staff-1") != std::string::npos);
  CHECK(acc_text.out.find("2h00m") != std::string::npos);
  CHECK(company.Cli({"accountability", "--from", "2026-02-01T00:00:00Z", "--to", "2026-01-01T00:00:00Z"}).exit_code ==
        2);

  CliResult rebuild = company.Cli({"rebuild", "--json"});
  REQUIRE(rebuild.exit_code == 0);
  for (const char* name : {"customer", "portfolio", "accountability", "silent"}) {
    CHECK(rebuild.out.find(std::string(R"("projection":")") + name + "\"") != std::string::npos);
  }
}

TEST_CASE("accountability marks a promise's end entered days later than it claims, in text and JSON", "[cli][staff]") {
  Company company;
  // Made now, and said to be fulfilled three days ago: a record entered at
  // once that claims a time three days before the promise's own record.
  std::string lines = Line("customer-2", "commitment.made", "staff-1", DaysAgo(0),
                           R"({"commitment_id":"m1","promise":"Offer","due_at":")" + DaysAgo(-7) + R"("})");
  lines += Line("customer-2", "commitment.fulfilled", "staff-1", DaysAgo(3), R"({"commitment_id":"m1"})");
  testing::WriteFile(company.tmp.Sub("late.jsonl"), lines);
  CliResult imported = company.Cli({"import", company.tmp.Sub("late.jsonl")});
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);

  CliResult text = company.Cli({"accountability"});
  INFO(text.out);
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("ENTERED LATE") != std::string::npos);
  CliResult detail = company.Cli({"accountability", "--staff", "1"});
  INFO(detail.out);
  CHECK(detail.out.find("3d00h late") != std::string::npos);
  CliResult json = company.Cli({"accountability", "--staff", "1", "--json"});
  CHECK(json.out.find(R"("outcome":"kept_on_time","closed_entered_late_seconds":2592)") != std::string::npos);
  CHECK(json.out.find(R"("entered_late":1)") != std::string::npos);
  // The request answered two hours after it opened, both loaded together, is not marked.
  CHECK(json.out.find(R"("response_entered_late_seconds":null)") != std::string::npos);
}

TEST_CASE(
    "accountability judges a promise whose due date a correction moved after it had passed against the date "
    "that passed, in text and JSON",
    "[cli][staff]") {
  Company company;
  // Made now, already due three days ago (a promise recorded as due before it
  // was made counts as passed at once); then its due date moved a month on.
  const std::string due = DaysAgo(3);
  std::string made = Line("customer-2", "commitment.made", "staff-1", DaysAgo(0),
                          R"({"commitment_id":"m9","promise":"Offer","due_at":")" + due + R"("})");
  const std::string id = made.substr(7, 36);
  std::string lines = made + Line("customer-2", "event.corrected", "staff-1", DaysAgo(0),
                                  R"({"event_id":")" + id + R"(","reason":"new date","corrected":{"due_at":")" +
                                      DaysAgo(-30) + R"("}})");
  testing::WriteFile(company.tmp.Sub("moved.jsonl"), lines);
  CliResult imported = company.Cli({"import", company.tmp.Sub("moved.jsonl")});
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);

  CliResult text = company.Cli({"accountability"});
  INFO(text.out);
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("DUE MOVED: 1 commitment whose due date") != std::string::npos);
  CliResult detail = company.Cli({"accountability", "--staff", "1"});
  INFO(detail.out);
  CHECK(detail.out.find("from " + due.substr(0, 10)) != std::string::npos);
  CliResult json = company.Cli({"accountability", "--staff", "1", "--json"});
  INFO(json.out);
  CHECK(json.out.find(R"("outcome":"overdue")") != std::string::npos);  // open, and judged against 3 days ago
  CHECK(json.out.find(R"("due_moved_from":")" + due + "\"") != std::string::npos);
  CHECK(json.out.find(R"("due_moved":1)") != std::string::npos);

  // The customer view judges it the same way: overdue, with the date that passed.
  CliResult shown = company.Cli({"customer", "show", "2"});
  INFO(shown.out);
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.out.find("(moved from " + due.substr(0, 10) + " after it passed) OVERDUE") != std::string::npos);
  CliResult shown_json = company.Cli({"customer", "show", "2", "--json"});
  INFO(shown_json.out);
  CHECK(shown_json.out.find(R"("due_moved_from":")" + due + "\"") != std::string::npos);
}

TEST_CASE("pipeline sums open deals by stage and customer find matches every word, for the reader's scope, recorded",
          "[cli][staff]") {
  Company company;
  std::string lines;
  lines += Line("staff-5", "staff.joined", "system:hr-sync", DaysAgo(400), R"({"role":"account_executive","team":"south"})");
  lines += Line("customer-2", "deal.opened", "staff-1", DaysAgo(5),
                R"({"deal_id":"deal-1","title":"Roof","value":1000.5,"currency":"EUR","stage":"qualification","probability":20})");
  lines += Line("customer-2", "deal.opened", "staff-1", DaysAgo(5),
                R"({"deal_id":"deal-2","title":"Walls","value":2000,"currency":"EUR","stage":"proposal","probability":60})");
  lines += Line("customer-2", "deal.opened", "staff-1", DaysAgo(5),
                R"({"deal_id":"deal-3","title":"Lost","value":5,"currency":"EUR","stage":"proposal"})");
  lines += Line("customer-2", "deal.lost", "staff-1", DaysAgo(4), R"({"deal_id":"deal-3"})");
  std::ofstream(company.tmp.Sub("deals.jsonl")) << lines;
  REQUIRE(company.Cli({"import", company.tmp.Sub("deals.jsonl")}).exit_code == 0);

  // staff-9 is in staff-1's team: customer-2's open deals are counted.
  CliResult json = company.Cli({"pipeline", "--json"});
  INFO(json.err);
  REQUIRE(json.exit_code == 0);
  CHECK(json.out.find(R"("customers":1)") != std::string::npos);
  CHECK(json.out.find(R"({"stage":"qualification","deals":1,"mean_probability":20,"value":{"EUR":"1000.50"}})") !=
        std::string::npos);
  CHECK(json.out.find(R"({"stage":"proposal","deals":1,"mean_probability":60,"value":{"EUR":"2000.00"}})") !=
        std::string::npos);  // the lost deal is not open
  CliResult text = company.Cli({"pipeline", "--team", "north"});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("team north") != std::string::npos);
  CHECK(text.out.find("1000.50 EUR") != std::string::npos);
  CHECK(text.out.find("60%") != std::string::npos);
  CHECK(company.Cli({"pipeline", "--team", "south", "--json"}).out.find(R"("stages":[])") != std::string::npos);

  // staff-5, in another team, oversees none of it, and is told so.
  CliResult other = RunCli(company.tmp, company.dir, {"--as", "staff-5", "pipeline"});
  INFO(other.err);
  REQUIRE(other.exit_code == 0);
  CHECK(other.out.find("none") != std::string::npos);
  CHECK(other.out.find("1000.50") == std::string::npos);
  CHECK(other.out.find("left out") != std::string::npos);

  CliResult acme = company.Cli({"customer", "find", "ACME", "--json"});
  INFO(acme.err);
  REQUIRE(acme.exit_code == 0);
  CHECK(acme.out == R"({"query":"ACME","customers":[{"id":"customer-1","name":"Acme GmbH","owner":"staff-2","team":"","status":"active"}],"more":0,"not_searched":[]})"
                    "\n");
  // One-letter words are not searched, and the reader is told which.
  CliResult short_word = company.Cli({"customer", "find", "a", "acme", "J."});
  INFO(short_word.err);
  REQUIRE(short_word.exit_code == 0);
  CHECK(short_word.out.find("customer-1 ") != std::string::npos);
  CHECK(short_word.out.find("(not searched, one letter matches too much: a j)") != std::string::npos);
  CHECK(company.Cli({"customer", "find", "a", "acme", "--json"}).out.find(R"("not_searched":["a"])") !=
        std::string::npos);
  CliResult only_short = company.Cli({"customer", "find", "a"});
  CHECK(only_short.exit_code == 2);
  CHECK(only_short.err.find("no word of two letters or more") != std::string::npos);
  CliResult every_word = company.Cli({"customer", "find", "gmbh", "bolt"});  // no name holds both
  REQUIRE(every_word.exit_code == 0);
  CHECK(every_word.out.find("no customer you serve matches") != std::string::npos);
  CliResult limited = company.Cli({"customer", "find", "customer", "--limit", "1"});
  REQUIRE(limited.exit_code == 0);
  CHECK(limited.out.find("customer-1 ") != std::string::npos);
  CHECK(limited.out.find("customer-2") == std::string::npos);
  CHECK(limited.out.find("(1 more") != std::string::npos);
  CHECK(RunCli(company.tmp, company.dir, {"--as", "staff-5", "customer", "find", "acme", "--json"}).out.find(
            R"("customers":[])") != std::string::npos);
  CHECK(RunCli(company.tmp, company.dir, {"customer", "find", "acme"}).exit_code == 1);  // who reads?
  CHECK(company.Cli({"customer", "find", "acme", "--limit", "0"}).exit_code == 1);

  // A customer nobody owns, with an open deal: in the pipeline of every team
  // for a company-wide reader, said apart; not in a team's, nor for a rep
  // who does not serve it.
  std::string unowned;
  unowned += Line("staff-7", "staff.joined", "system:hr-sync", DaysAgo(400), R"({"role":"head_of_sales"})");
  unowned += Line("customer-3", "customer.registered", "staff-9", DaysAgo(20), R"({"name":"Cobalt SE"})");
  unowned += Line("customer-3", "deal.opened", "staff-9", DaysAgo(5),
                  R"({"deal_id":"deal-9","title":"Fleet","value":700,"currency":"EUR","stage":"negotiation","probability":80})");
  std::ofstream(company.tmp.Sub("unowned.jsonl")) << unowned;
  REQUIRE(company.Cli({"import", company.tmp.Sub("unowned.jsonl")}).exit_code == 0);
  CliResult head = RunCli(company.tmp, company.dir, {"--as", "staff-7", "pipeline", "--json"});
  INFO(head.err);
  REQUIRE(head.exit_code == 0);
  CHECK(head.out.find(R"("customers":2,"unowned_customers":1)") != std::string::npos);
  CHECK(head.out.find(R"({"stage":"negotiation","deals":1,"mean_probability":80,"value":{"EUR":"700.00"}})") !=
        std::string::npos);
  CliResult head_text = RunCli(company.tmp, company.dir, {"--as", "staff-7", "pipeline"});
  REQUIRE(head_text.exit_code == 0);
  CHECK(head_text.out.find("2 customers, 1 of them owned by nobody") != std::string::npos);
  CHECK(RunCli(company.tmp, company.dir, {"--as", "staff-7", "pipeline", "--team", "north", "--json"})
            .out.find("negotiation") == std::string::npos);
  // staff-1 never worked on customer-3: not theirs to see.
  CliResult rep = RunCli(company.tmp, company.dir, {"--as", "staff-1", "pipeline", "--json"});
  REQUIRE(rep.exit_code == 0);
  CHECK(rep.out.find(R"("unowned_customers":0)") != std::string::npos);
  CHECK(rep.out.find("negotiation") == std::string::npos);
  // staff-9 registered it and opened the deal, so serves it (replay/alerts.h: ServiceScope::Serves).
  CHECK(company.Cli({"pipeline", "--json"}).out.find(R"("unowned_customers":1)") != std::string::npos);

  // Both reads are recorded on the reader's access stream.
  CliResult reads = company.Cli({"access", "--staff", "9", "--json"});
  REQUIRE(reads.exit_code == 0);
  CHECK(reads.out.find(R"("view":"pipeline")") != std::string::npos);
  CHECK(reads.out.find(R"("view":"customer_search")") != std::string::npos);
}

}  // namespace
}  // namespace custodian
