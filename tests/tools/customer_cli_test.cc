// The customer commands on the sample company (docs/examples/sample-events.jsonl).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "storage/event_log.h"
#include "tests/test_util.h"
#include "tests/tools/cli_runner.h"

namespace custodian {
namespace {

using testing::CliResult;
using testing::RunCli;
using testing::SampleCompany;
using testing::Slurp;
using testing::TempDir;
using testing::WriteFile;

TEST_CASE("customer show gives the current owner, open work and orders of a sample customer", "[cli][customer]") {
  SampleCompany c;
  CliResult r = c.Cli({"customer", "show", "1001", "--json"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(R"("name":"Hartmann Logistik GmbH")"));
  CHECK_THAT(r.out, Catch::Contains(R"("owner":"staff-7")"));
  CHECK_THAT(r.out, Catch::Contains(R"("orders":1)"));
  CliResult human = c.Cli({"customer", "show", "customer-1001"});
  CHECK_THAT(human.out, Catch::Contains("owner staff-7 since 2026-03-02 (handover)"));
  CliResult none = c.Cli({"customer", "show", "424242"});
  CHECK(none.exit_code == 6);
  CHECK_THAT(none.err, Catch::Contains("customer-424242 has no events"));
  for (const char* query : {"timeline", "custody"}) {
    INFO(query);
    CliResult missing = c.Cli({"customer", query, "424242"});
    CHECK(missing.exit_code == 6);
    CHECK_THAT(missing.err, Catch::Contains("customer-424242 has no events"));
    CHECK(missing.out.empty());
  }
}

size_t Lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST_CASE("customer show lists each contact's name, role, e-mail and phone, opened for the reader whose read it records",
          "[cli][customer][people]") {
  SampleCompany c;
  testing::AddSamplePeople(c);
  const size_t reads_before = Lines(c.Cli({"read", "access-staff-3", "--json"}).out);
  CliResult text = c.Cli({"customer", "show", "1001"});
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("  CONTACTS\n  con-2001         Petra Hartmann           managing director          "
                                       "+49 40 5550 1234   p.hartmann@hartmann-logistik.de              operations, "
                                       "prefers call, key contact\n"));
  CliResult json = c.Cli({"customer", "show", "1001", "--json"});
  REQUIRE(json.exit_code == 0);
  CHECK_THAT(json.out, Catch::Contains(R"("people":[{"contact_id":"con-2001","role":"managing director","department":"operations","preferred_channel":"call","key_contact":true,"personal":{"name":"Petra Hartmann","email":"p.hartmann@hartmann-logistik.de","phone":"+49 40 5550 1234"},"last_conversation":{"position":)"));
  CHECK_THAT(json.out, Catch::Contains(R"("by":"staff-7","notes":"asked us to call after 3pm, kids' school run"}}])"));
  // The customer's own fields keep where the person's are, not what they say.
  CHECK_THAT(json.out, Catch::Contains(R"("personal_positions":[)"));
  // Each show was recorded as a read before it showed anything.
  const std::string reads = c.Cli({"read", "access-staff-3", "--json"}).out;
  CHECK(Lines(reads) == reads_before + 2);
  CHECK_THAT(reads, Catch::Contains(R"("view":"customer_profile")"));
  // As of a date, the same people are opened from the replayed state.
  CliResult as_of = c.Cli({"customer", "show", "1001", "--as-of-business", "2026-04-01T12:00:00Z"});
  REQUIRE(as_of.exit_code == 0);
  CHECK_THAT(as_of.out, Catch::Contains("Petra Hartmann"));
  CliResult before = c.Cli({"customer", "show", "1001", "--as-of-business", "2026-03-01T00:00:00Z"});
  REQUIRE(before.exit_code == 0);
  CHECK_THAT(before.out, !Catch::Contains("Petra Hartmann"));
  CHECK_THAT(before.out, Catch::Contains("  con-2001         -                        head of fleet operations"));
}

TEST_CASE("after erasure customer show prints the contact as erased at its position with the reason",
          "[cli][customer][people]") {
  SampleCompany c;
  testing::AddSamplePeople(c);
  c.reader = "staff-40";
  CliResult erase = c.Cli({"erase", "--subject", "customer-1001/con-2001", "--reason", "her request of 3 March", "--json"});
  INFO(erase.err);
  REQUIRE(erase.exit_code == 0);
  const size_t at = erase.out.find(R"("position":)") + 11;
  const std::string position = erase.out.substr(at, erase.out.find(',', at) - at);
  c.reader = "staff-3";
  CliResult text = c.Cli({"customer", "show", "1001"});
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("  con-2001         (erased)                 managing director          erased at "
                                       "position " + position + ": her request of 3 March"));
  CliResult json = c.Cli({"customer", "show", "1001", "--json"});
  REQUIRE(json.exit_code == 0);
  CHECK_THAT(json.out, Catch::Contains(R"("personal":{"erased":{"position":)" + position +
                                       R"(,"reason":"her request of 3 March"}})"));
  for (const std::string& out : {text.out, json.out}) {
    CHECK_THAT(out, !Catch::Contains("Petra"));
    CHECK_THAT(out, !Catch::Contains("school run"));
  }
}

TEST_CASE("without the master key customer show prints the contacts sealed, saying why, and everything else",
          "[cli][customer][people]") {
  SampleCompany c;
  testing::AddSamplePeople(c);
  CliResult text = c.Cli({"--master-key", c.tmp.Sub("elsewhere/master.key"), "customer", "show", "1001"});
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("Hartmann Logistik GmbH"));
  CHECK_THAT(text.out, Catch::Contains("  con-2001         (sealed)                 managing director          sealed: "
                                       "the master key of this store"));
  CHECK_THAT(text.out, !Catch::Contains("Petra"));
  CliResult json = c.Cli({"--master-key", c.tmp.Sub("elsewhere/master.key"), "customer", "show", "1001", "--json"});
  REQUIRE(json.exit_code == 0);
  CHECK_THAT(json.out, Catch::Contains(R"("personal":{"unavailable":"the master key of this store)"));
}

TEST_CASE("as of a date before the handover, the customer was still the leaver's", "[cli][customer]") {
  SampleCompany c;
  CliResult before = c.Cli({"customer", "show", "1001", "--as-of-business", "2026-01-01T00:00:00Z", "--json"});
  REQUIRE(before.exit_code == 0);
  CHECK_THAT(before.out, Catch::Contains(R"("owner":"staff-12")"));
  CHECK_THAT(before.out, Catch::Contains(R"("by":"business")"));
  // Everything was imported today: by knowledge time, nothing was known a year ago.
  CliResult known = c.Cli({"customer", "show", "1001", "--as-of", "2025-01-01T00:00:00Z", "--json"});
  REQUIRE(known.exit_code == 0);
  CHECK_THAT(known.out, Catch::Contains(R"("events_folded":0)"));
}

TEST_CASE("as of a date, a load of events from another CRM is said on one line, and fewer events one line each, "
          "never twice",
          "[cli][customer]") {
  SampleCompany c;  // imported today: every event of 2025 was recorded long after it occurred
  auto head = [&](const std::vector<std::string>& as_of) {
    std::vector<std::string> args = {"customer", "show", "1001"};
    args.insert(args.end(), as_of.begin(), as_of.end());
    CliResult r = c.Cli(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out.substr(0, r.out.find("\n\n"));
  };
  const std::string load = head({"--as-of-business", "2025-06-01T00:00:00Z"});
  CHECK_THAT(load, Catch::Contains("\n  NOT KNOWN THEN: 13 events (positions 3 to 15) that occurred 2025-03-10 09:12 to "
                                   "2025-04-22 09:30, all recorded "));
  CHECK_THAT(load, !Catch::Contains("LATE ENTR"));  // late as well, but said once
  CHECK(std::count(load.begin(), load.end(), '\n') == 1);
  const std::string two = head({"--as-of-business", "2025-03-10T09:16:00Z"});
  CHECK_THAT(two, Catch::Contains("\n  NOT KNOWN THEN: position 3 (customer.registered) occurred 2025-03-10 09:12 but "
                                  "was only recorded "));
  CHECK_THAT(two, Catch::Contains("\n  NOT KNOWN THEN: position 4 (customer.owner_assigned) occurred 2025-03-10 09:15"));
  CHECK(std::count(two.begin(), two.end(), '\n') == 2);
  // By knowledge time, the load is late, and said once too.
  const std::string known = head({"--as-of", "2099-01-01T00:00:00Z"});
  CHECK_THAT(known, Catch::Contains("\n  LATE ENTRIES: "));
  CHECK(std::count(known.begin(), known.end(), '\n') == 1);
  // Three notes logged promptly, an hour ago: not known half an hour ago, but not late and not a
  // load: one line each.
  const int64_t now = SystemClock().Now().value(), hour = int64_t{3600} * 1'000'000;
  for (int i = 0; i < 3; ++i) {
    const std::string id = "5b0c7d2e-8f1a-4b3c-9d4e-6f7a8b9c0d1" + std::to_string(i);
    CliResult note = RunCli(c.tmp, c.dir, {"append", R"({"id":")" + id + R"(","stream":"customer-1001","type":"note.added",)"
                                                     R"("actor":"staff-7","occurred_at":")" +
                                                         FormatRfc3339(Timestamp(now - hour + i)) +
                                                         R"(","data":{"text":"prompt"}})"});
    INFO(note.err);
    REQUIRE(note.exit_code == 0);
  }
  const std::string recent = head({"--as-of-business", FormatRfc3339(Timestamp(now - hour / 2))});
  size_t prompt = 0;
  for (size_t at = recent.find("(note.added)"); at != std::string::npos; at = recent.find("(note.added)", at + 1)) ++prompt;
  CHECK(prompt == 3);
  CHECK_THAT(recent, Catch::Contains("all recorded"));  // the sample's load, still one line
}

TEST_CASE("custody lists the owners with reasons and answers who owned it and who had a request at T",
          "[cli][customer]") {
  SampleCompany c;
  CliResult chain = c.Cli({"customer", "custody", "1001", "--json"});
  REQUIRE(chain.exit_code == 0);
  CHECK_THAT(chain.out, Catch::Contains(R"("owner":"staff-12","from":"2025-03-10T09:15:00Z","to":"2026-03-02T09:00:00Z","reason":"initial")"));
  CHECK_THAT(chain.out, Catch::Contains(R"("owner":"staff-7","from":"2026-03-02T09:00:00Z","to":null,"reason":"handover")"));
  CliResult at = c.Cli({"customer", "custody", "1001", "--at", "2025-12-31T00:00:00Z"});
  CHECK_THAT(at.out, Catch::Contains("was owned by staff-12"));
  CliResult request = c.Cli({"customer", "custody", "1001", "--at", "2025-03-20T08:45:00Z", "--request",
                                  "req-9001", "--json"});
  CHECK_THAT(request.out, Catch::Contains(R"("responsible":"staff-12")"));
  CliResult unknown = c.Cli({"customer", "custody", "1001", "--at", "2025-03-20T08:45:00Z", "--request", "req-404"});
  CHECK(unknown.exit_code == 6);
  CHECK_THAT(unknown.err, Catch::Contains("customer-1001 has no request req-404"));
  CliResult untimed = c.Cli({"customer", "custody", "1001", "--request", "req-9001"});
  CHECK(untimed.exit_code == 1);
  CHECK_THAT(untimed.err, Catch::Contains("--request needs --at"));
}

TEST_CASE("the timeline shows a retraction next to the event it retracts", "[cli][customer]") {
  SampleCompany c;
  const std::string note_id = "5e0f6a1b-7c2d-4e3f-8a9b-0c1d2e3f4a5b";
  REQUIRE(c.Cli({"append", R"({"id":")" + note_id +
                                    R"(","stream":"customer-1001","type":"note.added","actor":"staff-7","occurred_at":"2026-03-05T10:00:00Z","data":{"text":"wrong customer, sorry"}})"})
              .exit_code == 0);
  REQUIRE(c.Cli({"append", R"({"id":"5e0f6a1b-7c2d-4e3f-8a9b-0c1d2e3f4a5c","stream":"customer-1001","type":"event.retracted","actor":"staff-7","occurred_at":"2026-03-05T10:05:00Z","data":{"event_id":")" +
                                    note_id + R"(","reason":"logged on the wrong customer"}})"})
              .exit_code == 0);
  CliResult t = c.Cli({"customer", "timeline", "1001"});
  REQUIRE(t.exit_code == 0);
  const size_t note = t.out.find("note: wrong customer, sorry");
  REQUIRE(note != std::string::npos);
  const size_t mark = t.out.find("^ retracted by staff-7", note);
  REQUIRE(mark != std::string::npos);
  CHECK(t.out.find('\n', note) < mark);  // on the line right after the note
  CHECK_THAT(t.out, Catch::Contains("deal deal-5001 WON"));
}

TEST_CASE("rebuild prints the same digest twice and a rule-breaking append changes nothing", "[cli][customer]") {
  SampleCompany c;
  CliResult first = c.Cli({"rebuild", "--json"});
  CliResult second = c.Cli({"rebuild", "customer", "--json"});
  REQUIRE(first.exit_code == 0);
  const size_t at = first.out.find("\"digest\":\"");
  REQUIRE(at != std::string::npos);
  CHECK_THAT(second.out, Catch::Contains(first.out.substr(at, 75)));
  // staff-12 left in the sample: they can no longer act.
  CliResult gone = c.Cli({"append", R"({"id":"5e0f6a1b-7c2d-4e3f-8a9b-0c1d2e3f4a5d","stream":"customer-1001","type":"note.added","actor":"staff-12","occurred_at":"2026-04-05T10:00:00Z","data":{"text":"still here"}})"});
  CHECK(gone.exit_code == 2);
  CHECK_THAT(gone.err, Catch::Contains("staff-12 left on"));
  CHECK(c.Cli({"rebuild", "unknown"}).exit_code == 2);
}

TEST_CASE("queries answer in full while another process holds the store, writes say it is in use",
          "[cli][customer]") {
  SampleCompany c;  // its projections were never built: nothing has queried it yet
  EventLogOptions options;
  Result<std::unique_ptr<EventLog>> holder = EventLog::Open(c.dir, options);  // as a server would
  REQUIRE(holder.ok());
  CliResult show = c.Cli({"customer", "show", "1001", "--json"});
  INFO(show.err);
  REQUIRE(show.exit_code == 0);
  CHECK_THAT(show.out, Catch::Contains(R"("owner":"staff-7")"));
  CliResult portfolio = c.Cli({"staff", "portfolio", "7", "--json"});
  REQUIRE(portfolio.exit_code == 0);
  CHECK_THAT(portfolio.out, Catch::Contains(R"("customer":"customer-1001")"));
  CHECK_THAT(c.Cli({"departures", "--json"}).out, Catch::Contains(R"("staff":"staff-12")"));
  CliResult append = c.Cli({"--wait", "0", "append", R"({"id":"5e0f6a1b-7c2d-4e3f-8a9b-0c1d2e3f4a70","stream":"customer-1001","type":"note.added","actor":"staff-7","occurred_at":"2026-04-05T10:00:00Z","data":{"text":"x"}})"});
  CHECK(append.exit_code == 4);
  CHECK_THAT(append.err, Catch::Contains("another process holds the store at " + c.dir + " read-write"));
}

}  // namespace
}  // namespace custodian
