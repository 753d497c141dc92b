// handover plan on the sample company (docs/examples/sample-events.jsonl):
// staff-7 owns four customers; staff-12 left holding request req-9001.
#include <catch2/catch.hpp>

#include "tests/test_util.h"
#include "tests/tools/cli_runner.h"

namespace custodian {
namespace {

using testing::CliResult;
using testing::RunCli;
using testing::SampleCompany;
using testing::WithoutAccess;
using testing::TempDir;

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST_CASE("a plan lists what the leaver still holds and records handover.planned", "[cli][handover]") {
  SampleCompany c;
  CliResult plan = c.Cli({"handover", "plan", "--from", "12", "--to", "staff-3", "--json"});
  INFO(plan.err);
  REQUIRE(plan.exit_code == 0);
  CHECK_THAT(plan.out, Catch::Contains(R"("from":"staff-12","mode":"to staff-3")"));
  CHECK_THAT(plan.out, Catch::Contains(R"("customer":"customer-1001","name":"Hartmann Logistik GmbH","group":"hartmann","owned":false,"successor":"staff-3")"));
  CHECK_THAT(plan.out, Catch::Contains(R"("requests_held":["req-9001"])"));
  CHECK(Count(plan.out, R"("customer":")") == 1);
  // The plan is in the log, with what execution needs to refuse a stale plan.
  const size_t id_at = plan.out.find(R"("handover_id":")") + 15;
  const std::string id = plan.out.substr(id_at, plan.out.find('"', id_at) - id_at);
  CliResult system = c.Cli({"read", "system", "--backwards", "--limit", "1", "--json"});
  CHECK_THAT(system.out, Catch::Contains(R"("type":"handover.planned")"));
  CHECK_THAT(system.out, Catch::Contains(R"("handover_id":")" + id + "\""));
  CHECK_THAT(system.out, Catch::Contains(R"("stream_versions":{"customer-1001":)"));
  // Planning moved nothing.
  CHECK_THAT(c.Cli({"orphans", "--json"}).out, Catch::Contains(R"("held_by":"staff-12")"));
  // In words: the customer is not staff-12's, only the request is.
  CliResult text = c.Cli({"handover", "plan", "--from", "12", "--to", "staff-3"});
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("1 customer (0 owned, 1 where only open work is held), 0 open deals, 1 open "
                                       "requests"));
  CliResult owner = c.Cli({"handover", "plan", "--from", "7", "--to", "staff-3"});
  INFO(owner.err);
  REQUIRE(owner.exit_code == 0);
  CHECK_THAT(owner.out, Catch::Contains("4 customers (4 owned, 0 where only open work is held)"));
}

// The successor the plan gives `customer`.
std::string SuccessorOf(const std::string& plan, const std::string& customer) {
  const size_t at = plan.find(R"("customer":")" + customer + "\"");
  REQUIRE(at != std::string::npos);
  const size_t s = plan.find(R"("successor":")", at) + 13;
  return plan.substr(s, plan.find('"', s) - s);
}

TEST_CASE("balancing spreads the customers over the team by open workload and keeps groups together",
          "[cli][handover]") {
  SampleCompany c;
  REQUIRE(c.Cli({"append", R"({"id":"6a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c40","stream":"staff-20","type":"staff.joined","actor":"system:hr-sync","occurred_at":"2026-04-01T08:00:00Z","data":{"role":"account_executive","team":"north"}})"})
              .exit_code == 0);
  CliResult plan = c.Cli({"handover", "plan", "--from", "7", "--balance-team", "north", "--json"});
  INFO(plan.err);
  REQUIRE(plan.exit_code == 0);
  CHECK(Count(plan.out, R"("customer":")") == 4);
  // staff-3 and staff-20 start with nothing: both get work, nobody else does.
  const size_t to_3 = Count(plan.out, R"("successor":"staff-3")"), to_20 = Count(plan.out, R"("successor":"staff-20")");
  CHECK(to_3 >= 1);
  CHECK(to_20 >= 1);
  CHECK(to_3 + to_20 == 4);
  // customer-1002 carries the most work (a customer and an open promise): it
  // goes to whoever ends with fewer customers.
  CHECK(SuccessorOf(plan.out, "customer-1002") == (to_3 < to_20 ? "staff-3" : "staff-20"));

  // Put customer-1004 in customer-1001's group: they now go to the same successor.
  REQUIRE(c.Cli({"append", R"({"id":"6a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c41","stream":"customer-1004","type":"customer.updated","actor":"staff-7","occurred_at":"2026-04-02T08:00:00Z","data":{"group":"hartmann"}})"})
              .exit_code == 0);
  CliResult grouped = c.Cli({"handover", "plan", "--from", "7", "--balance-team", "north", "--json"});
  REQUIRE(grouped.exit_code == 0);
  CHECK(SuccessorOf(grouped.out, "customer-1004") == SuccessorOf(grouped.out, "customer-1001"));
}

TEST_CASE("a plan is refused for a successor who left, the leaver themselves, or a leaver holding nothing",
          "[cli][handover]") {
  SampleCompany c;
  CliResult gone = c.Cli({"handover", "plan", "--from", "7", "--to", "12"});
  CHECK(gone.exit_code == 2);
  CHECK_THAT(gone.err, Catch::Contains("staff-12 cannot take over: not a current member of staff"));
  CHECK_THAT(c.Cli({"handover", "plan", "--from", "7", "--to", "7"}).err,
             Catch::Contains("the successor cannot be the leaver"));
  CliResult nothing = c.Cli({"handover", "plan", "--from", "3", "--to", "7"});
  CHECK(nothing.exit_code == 6);  // not found
  CHECK_THAT(nothing.err, Catch::Contains("staff-3 holds no customers and no open work"));
  CHECK(c.Cli({"handover", "plan", "--from", "7", "--to", "3", "--balance-team", "north"}).exit_code == 1);
  // Nothing was recorded by the refused plans.
  CHECK_THAT(c.Cli({"read", "system", "--backwards", "--limit", "1", "--json"}).out,
             Catch::Contains(R"("type":"handover.completed")"));
}

std::string PlanId(const std::string& plan_json) {
  const size_t at = plan_json.find(R"("handover_id":")") + 15;
  return plan_json.substr(at, plan_json.find('"', at) - at);
}

TEST_CASE("executing a plan moves every customer, request and promise and leaves nothing with the leaver",
          "[cli][handover]") {
  SampleCompany c;
  CliResult plan = c.Cli({"handover", "plan", "--from", "7", "--to", "3", "--json"});
  REQUIRE(plan.exit_code == 0);
  const std::string id = PlanId(plan.out);
  const std::string events_before = WithoutAccess(testing::StoreLines(c.dir));
  CliResult run = c.Cli({"handover", "execute", id, "--json"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains(R"("already_done":false,"customers":4,"owners_changed":4,"requests_moved":0,"commitments_moved":1,"orphans":[])"));
  // The promise moved with its customer; the custody chain names the handover.
  CHECK_THAT(c.Cli({"customer", "show", "1002", "--json"}).out,
             Catch::Contains(R"("com-3002":{"promise":"quarterly service review","owner":"staff-3")"));
  CHECK_THAT(c.Cli({"customer", "custody", "1001", "--json"}).out,
             Catch::Contains(R"("owner":"staff-3")"));
  CHECK_THAT(c.Cli({"customer", "custody", "1001", "--json"}).out, Catch::Contains(R"("handover_id":")" + id + "\""));
  // Credit is not rewritten: who owned the customer then still answers the same.
  CHECK_THAT(c.Cli({"customer", "custody", "1001", "--at", "2025-06-01T00:00:00Z"}).out,
             Catch::Contains("was owned by staff-12"));
  CHECK_THAT(c.Cli({"staff", "portfolio", "7", "--json"}).out, !Catch::Contains(R"("owned":true)"));
  // Running it again changes nothing.
  const std::string events_after = WithoutAccess(testing::StoreLines(c.dir));
  CliResult again = c.Cli({"handover", "execute", id});
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out, Catch::Contains("was already executed; nothing changed"));
  CHECK(WithoutAccess(testing::StoreLines(c.dir)) == events_after);
  CHECK(events_after != events_before);
  CHECK(c.Cli({"verify"}).exit_code == 0);
}

TEST_CASE("executing a plan needs --as, is recorded under that name, and without it moves nothing",
          "[cli][handover]") {
  SampleCompany c;
  CliResult plan = c.Cli({"handover", "plan", "--from", "7", "--to", "3", "--json"});
  REQUIRE(plan.exit_code == 0);
  const std::string before = testing::StoreLines(c.dir);
  c.reader = "";
  CliResult anonymous = c.Cli({"handover", "execute", PlanId(plan.out)});
  CHECK(anonymous.exit_code == 1);
  CHECK_THAT(anonymous.err, Catch::Contains("--as"));
  CHECK(testing::StoreLines(c.dir) == before);
  c.reader = "staff-3";
  REQUIRE(c.Cli({"handover", "execute", PlanId(plan.out)}).exit_code == 0);
  CliResult completed = c.Cli({"read", "system", "--backwards", "--limit", "1", "--json"});
  CHECK_THAT(completed.out, Catch::Contains(R"("type":"handover.completed")"));
  CHECK_THAT(completed.out, Catch::Contains(R"("actor":"staff-3")"));
}

TEST_CASE("a plan made stale by a later event is refused, says what changed, and moves nothing", "[cli][handover]") {
  SampleCompany c;
  CliResult plan = c.Cli({"handover", "plan", "--from", "7", "--to", "3", "--json"});
  REQUIRE(plan.exit_code == 0);
  REQUIRE(c.Cli({"append", R"({"id":"6a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c50","stream":"customer-1003","type":"interaction.logged","actor":"staff-7","occurred_at":"2026-04-03T08:00:00Z","data":{"channel":"call","direction":"inbound"}})"})
              .exit_code == 0);
  const std::string before = WithoutAccess(testing::StoreLines(c.dir));
  CliResult run = c.Cli({"handover", "execute", PlanId(plan.out)});
  CHECK(run.exit_code == 3);
  CHECK_THAT(run.err, Catch::Contains("is stale: customer-1003 changed after it was planned (interaction.logged at position"));
  CHECK(WithoutAccess(testing::StoreLines(c.dir)) == before);
  CliResult unknown = c.Cli({"handover", "execute", "ho-00000000"});
  CHECK(unknown.exit_code == 6);
  CHECK_THAT(unknown.err, Catch::Contains("no handover.planned with handover_id ho-00000000"));
}

TEST_CASE("executing towards a successor who has since left is refused by the rules", "[cli][handover]") {
  SampleCompany c;
  REQUIRE(c.Cli({"append", R"({"id":"6a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c60","stream":"staff-20","type":"staff.joined","actor":"system:hr-sync","occurred_at":"2026-04-01T08:00:00Z","data":{"role":"account_executive","team":"north"}})"})
              .exit_code == 0);
  CliResult plan = c.Cli({"handover", "plan", "--from", "7", "--to", "20", "--json"});
  REQUIRE(plan.exit_code == 0);
  REQUIRE(c.Cli({"append", R"({"id":"6a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c61","stream":"staff-20","type":"staff.departed","actor":"system:hr-sync","occurred_at":"2026-04-02T08:00:00Z","data":{}})"})
              .exit_code == 0);
  CliResult run = c.Cli({"handover", "execute", PlanId(plan.out)});
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.err, Catch::Contains("rule 'assignment'"));
  CHECK_THAT(c.Cli({"customer", "show", "1001", "--json"}).out, Catch::Contains(R"("owner":"staff-7")"));
}

TEST_CASE("the handover report briefs the successor customer by customer, in md, html and json", "[cli][handover]") {
  SampleCompany c;  // the sample's handover ho-1 gave customer-1001 and customer-1003 to staff-7
  CliResult md = c.Cli({"handover", "report", "ho-1"});
  REQUIRE(md.exit_code == 0);
  CHECK_THAT(md.out, Catch::StartsWith("# Handover ho-1: customers of staff-12"));
  CHECK_THAT(md.out, Catch::Contains("## Hartmann Logistik GmbH (customer-1001) -> staff-7"));
  CHECK_THAT(md.out, Catch::Contains("- owners: staff-12 from 2025-03-10 (initial), staff-7 from 2026-03-02 (handover)"));
  CHECK_THAT(md.out, Catch::Contains("- con-2001 (no name recorded), head of fleet operations in operations (key contact, "
                                     "prefers call); no conversation logged with them"));
  CHECK_THAT(md.out, Catch::Contains("deal deal-5002 \"Telematics for 12 excavators\": 19800.00 EUR"));
  // The last conversations come newest first.
  const size_t newest = md.out.find("introduced as new account owner");
  const size_t older = md.out.find("renewal reminder sent");
  REQUIRE(newest != std::string::npos);
  REQUIRE(older != std::string::npos);
  CHECK(newest < older);

  CliResult html = c.Cli({"handover", "report", "ho-1", "--format", "html"});
  REQUIRE(html.exit_code == 0);
  CHECK_THAT(html.out, Catch::StartsWith("<!DOCTYPE html>"));
  CHECK_THAT(html.out, Catch::Contains("Brandt &amp; Söhne Bau KG"));  // escaped
  CHECK_THAT(html.out, Catch::Contains("@media print"));
  CHECK_THAT(html.out, !Catch::Contains("<script"));  // one self-contained file
  CHECK_THAT(html.out, !Catch::Contains("<link"));

  CliResult json = c.Cli({"handover", "report", "ho-1", "--format", "json", "--for", "7"});
  REQUIRE(json.exit_code == 0);
  CHECK(Count(json.out, "\n") == 2);
  CHECK_THAT(json.out, Catch::Contains(R"("customer":"customer-1003","successor":"staff-7")"));
  CliResult nobody = c.Cli({"handover", "report", "ho-1", "--for", "9"});
  CHECK(nobody.exit_code == 6);
  CHECK_THAT(nobody.err, Catch::Contains("handover ho-1 gives staff-9 nothing"));
  CHECK(c.Cli({"handover", "report", "ho-404"}).exit_code == 6);
  CHECK(c.Cli({"handover", "report", "ho-1", "--format", "pdf"}).exit_code == 1);
}

TEST_CASE("a plan lists the people to call with name, role, phone, e-mail and the last conversation, and records "
          "nothing personal",
          "[cli][handover][people]") {
  SampleCompany c;
  testing::AddSamplePeople(c);
  CliResult text = c.Cli({"handover", "plan", "--from", "7", "--to", "3"});
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains(
                           "\n  call        Petra Hartmann, managing director in operations (key contact, prefers call): "
                           "phone +49 40 5550 1234, e-mail p.hartmann@hartmann-logistik.de\n"
                           "              last conversation 2026-04-02 call (outbound) by staff-7: \"asked us to call "
                           "after 3pm, kids' school run\"\n"));
  // The sample's own person (docs/examples/sample-events.jsonl), sealed on import.
  CHECK_THAT(text.out, Catch::Contains("\n  call        Jonas Albers, procurement lead (key contact, prefers email): "
                                       "phone +49 421 555 0190, e-mail jonas.albers@nordwind-energie.example\n"
                                       "              last conversation 2025-04-09 call (outbound) by staff-7: \"Jonas "
                                       "is back from parental leave in May; prefers e-mail before 9am\"\n"));

  CliResult json = c.Cli({"handover", "plan", "--from", "7", "--to", "3", "--json"});
  REQUIRE(json.exit_code == 0);
  CHECK_THAT(json.out, Catch::Contains(R"("people":[{"contact_id":"con-2001","role":"managing director","department":"operations","preferred_channel":"call","key_contact":true,"personal":{"name":"Petra Hartmann","email":"p.hartmann@hartmann-logistik.de","phone":"+49 40 5550 1234"},"last_conversation":{"position":)"));
  CHECK_THAT(json.out, Catch::Contains(R"(,"at":"2026-04-02T15:30:00Z","channel":"call","direction":"outbound","by":"staff-7","notes":"asked us to call after 3pm, kids' school run"}})"));
  // The plan in the log names the customers, never the people.
  CliResult system = c.Cli({"read", "system", "--json"});
  CHECK_THAT(system.out, Catch::Contains(R"("type":"handover.planned")"));
  CHECK_THAT(system.out, !Catch::Contains("Petra"));
  CHECK_THAT(system.out, !Catch::Contains("5550"));
}

TEST_CASE("after erasure the handover plan and report name the contact as erased with position and reason",
          "[cli][handover][people]") {
  SampleCompany c;
  testing::AddSamplePeople(c);
  c.reader = "staff-40";
  CliResult erase = c.Cli({"erase", "--subject", "customer-1001/con-2001", "--reason", "her request of 3 March", "--json"});
  INFO(erase.err);
  REQUIRE(erase.exit_code == 0);
  const size_t at = erase.out.find(R"("position":)") + 11;
  const std::string position = erase.out.substr(at, erase.out.find(',', at) - at);
  c.reader = "staff-3";
  const std::string erased = "con-2001 (erased at position " + position + ": her request of 3 March), managing director";

  // The sample's handover ho-1 gave customer-1001 to staff-7: the successor's briefing.
  CliResult md = c.Cli({"handover", "report", "ho-1"});
  INFO(md.err);
  REQUIRE(md.exit_code == 0);
  CHECK_THAT(md.out, Catch::Contains("### People to call\n\n- " + erased));
  CHECK_THAT(md.out, Catch::Contains("last conversation 2026-04-02 call (outbound) by staff-7 (its notes were erased at "
                                     "position " + position + ")"));
  CliResult json = c.Cli({"handover", "report", "ho-1", "--format", "json"});
  REQUIRE(json.exit_code == 0);
  CHECK_THAT(json.out, Catch::Contains(R"("personal":{"erased":{"position":)" + position +
                                       R"(,"reason":"her request of 3 March"}})"));
  CliResult plan = c.Cli({"handover", "plan", "--from", "7", "--to", "3"});
  REQUIRE(plan.exit_code == 0);
  CHECK_THAT(plan.out, Catch::Contains("  call        " + erased));
  for (const std::string& out : {md.out, json.out, plan.out}) {
    CHECK_THAT(out, !Catch::Contains("Petra"));
    CHECK_THAT(out, !Catch::Contains("school run"));
  }
}

TEST_CASE("the handover report lists the people to call with their last conversation's notes, in md and json",
          "[cli][handover][people]") {
  SampleCompany c;
  testing::AddSamplePeople(c);
  CliResult md = c.Cli({"handover", "report", "ho-1"});
  INFO(md.err);
  REQUIRE(md.exit_code == 0);
  // Markdown: the apostrophe is text; nothing in it is markup.
  CHECK_THAT(md.out, Catch::Contains("### People to call\n\n- Petra Hartmann, managing director in operations (key "
                                     "contact, prefers call): phone +49 40 5550 1234, e-mail "
                                     "p.hartmann@hartmann-logistik.de; last conversation 2026-04-02 call (outbound) by "
                                     "staff-7: \"asked us to call after 3pm, kids' school run\"\n"));
  CliResult json = c.Cli({"handover", "report", "ho-1", "--format", "json"});
  REQUIRE(json.exit_code == 0);
  CHECK_THAT(json.out, Catch::Contains(R"("people":[{"contact_id":"con-2001")"));
  CHECK_THAT(json.out, Catch::Contains(R"("notes":"asked us to call after 3pm, kids' school run"}})"));
  // The last conversations come opened for the reader too, not sealed.
  CHECK_THAT(json.out, Catch::Contains(R"("personal":{"notes":"asked us to call after 3pm, kids' school run"})"));
  CHECK_THAT(json.out, !Catch::Contains("sealed_for"));
}

}  // namespace
}  // namespace custodian
