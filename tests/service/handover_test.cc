#include "service/handover.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/service/sample_store.h"

namespace custodian {
namespace {

using testing::SampleStore;

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

const std::string kStaff7Customers = R"(["customer-1001","customer-1002","customer-1003","customer-1004"])";

PlannedHandover Plan7To3(SampleStore& s) {
  Result<PlannedHandover> planned = RecordHandoverPlan(*s.log, s.As("staff-3"), {"staff-7", "staff-3", "", s.now});
  INFO(planned.status().ToString());
  REQUIRE(planned.ok());
  return std::move(*planned);
}

TEST_CASE("a recorded plan is made by the caller and records their read of its customers with it", "[handover]") {
  SampleStore s;
  const size_t reads_before = s.Stream("access-staff-3").size();
  const PlannedHandover p = Plan7To3(s);
  CHECK(p.plan.from == "staff-7");
  CHECK(p.plan.mode == "to staff-3");
  REQUIRE(p.plan.items.size() == 4);
  for (const HandoverItem& item : p.plan.items) CHECK(item.successor == "staff-3");

  // The plan, at the position the result names, under the caller's name.
  const std::vector<Event> system = s.Stream("system");
  REQUIRE(!system.empty());
  const Event& planned = system.back();
  CHECK(planned.position.value() == p.position);
  CHECK(planned.type == "handover.planned");
  CHECK(planned.actor == "staff-3");
  CHECK_THAT(planned.data, Catch::Contains(R"("handover_id":")" + p.plan.id + "\""));
  // The read, on the caller's own stream, through the caller's interface.
  const std::vector<Event> reads = s.Stream("access-staff-3");
  REQUIRE(reads.size() == reads_before + 1);
  CHECK(reads.back().type == "data.viewed");
  CHECK(reads.back().data ==
        R"({"customers":)" + kStaff7Customers + R"(,"view":"handover_plan","count":4,"interface":"api"})");
  CHECK(reads.back().position.value() == p.position + 1);  // the same batch

  const std::string json = PlannedHandoverToJson(p);
  CHECK_THAT(json, Catch::StartsWith(R"({"handover_id":")" + p.plan.id + R"(","from":"staff-7","mode":"to staff-3",)"));
  CHECK_THAT(json, Catch::Contains(R"("event_position":)" + std::to_string(p.position) + ","));
  CHECK(Count(json, R"("successor":"staff-3")") == 4);
  // customer-1002's open promise, held by the leaver.
  CHECK_THAT(json, Catch::Contains(R"("customer":"customer-1002")"));
  CHECK_THAT(json, Catch::Contains(R"("commitments_held":["com-3002"])"));
}

TEST_CASE("a plan for a leaver who holds nothing is not found and records nothing", "[handover]") {
  SampleStore s;
  const size_t system_before = s.Stream("system").size(), reads_before = s.Stream("access-staff-7").size();
  Result<PlannedHandover> planned = RecordHandoverPlan(*s.log, s.As("staff-7"), {"staff-3", "staff-7", "", s.now});
  REQUIRE(!planned.ok());
  CHECK(planned.status().code() == StatusCode::kNotFound);
  CHECK_THAT(planned.status().message(), Catch::Contains("staff-3 holds no customers and no open work"));
  CHECK(s.Stream("system").size() == system_before);
  CHECK(s.Stream("access-staff-7").size() == reads_before);
}

TEST_CASE("a plan asked for by someone who has left records neither the plan nor the read", "[handover]") {
  SampleStore s;
  const size_t system_before = s.Stream("system").size(), reads_before = s.Stream("access-staff-12").size();
  Result<PlannedHandover> planned = RecordHandoverPlan(*s.log, s.As("staff-12"), {"staff-7", "staff-3", "", s.now});
  REQUIRE(!planned.ok());
  CHECK(planned.status().code() == StatusCode::kRuleViolation);
  CHECK_THAT(planned.status().message(), Catch::Contains("staff-12"));
  CHECK(s.Stream("system").size() == system_before);
  CHECK(s.Stream("access-staff-12").size() == reads_before);
}

TEST_CASE("carrying out a plan moves everything under the caller's name and leaves nothing behind", "[handover]") {
  SampleStore s;
  const PlannedHandover p = Plan7To3(s);
  Result<HandoverExecution> run = CarryOutHandover(*s.log, s.As("staff-3"), p.plan.id, s.now);
  INFO(run.status().ToString());
  REQUIRE(run.ok());
  CHECK_FALSE(run->already_done);
  CHECK(run->customers == 4);
  CHECK(run->owners_changed == 4);
  CHECK(run->commitments_moved == 1);
  CHECK(run->orphans.empty());
  CHECK(HandoverExecutionToJson(*run) ==
        R"({"handover_id":")" + p.plan.id +
            R"(","from":"staff-7","already_done":false,"customers":4,"owners_changed":4,"requests_moved":0,)"
            R"("commitments_moved":1,"orphans":[]})");
  // The moves and the completion are the caller's.
  const std::vector<Event> moved = s.Stream("customer-1002");
  REQUIRE(moved.size() >= 2);
  CHECK(moved[moved.size() - 2].type == "customer.owner_assigned");
  CHECK(moved.back().type == "commitment.reassigned");
  CHECK(moved.back().actor == "staff-3");
  const Event completed = s.Stream("system").back();
  CHECK(completed.type == "handover.completed");
  CHECK(completed.actor == "staff-3");

  // Again: nothing changes.
  const uint64_t end = s.log->end().value();
  Result<HandoverExecution> again = CarryOutHandover(*s.log, s.As("staff-3"), p.plan.id, s.now);
  REQUIRE(again.ok());
  CHECK(again->already_done);
  CHECK(s.log->end().value() == end);
}

TEST_CASE("carrying out a plan nobody recorded is not found", "[handover]") {
  SampleStore s;
  Result<HandoverExecution> run = CarryOutHandover(*s.log, s.As("staff-3"), "ho-00000000", s.now);
  REQUIRE(!run.ok());
  CHECK(run.status().code() == StatusCode::kNotFound);
  CHECK_THAT(run.status().message(), Catch::Contains("no handover.planned with handover_id ho-00000000"));
}

TEST_CASE("a report briefs the successor asked for and records the read before it returns", "[handover]") {
  SampleStore s;
  const size_t reads_before = s.Stream("access-staff-3").size();
  Result<HandoverReport> r = PrepareHandoverReport(*s.log, s.As("staff-3"), {"ho-1", "staff-7", std::nullopt, s.now});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->from == "staff-12");
  REQUIRE(r->customers.size() == 2);
  CHECK(r->customers[0].customer == "customer-1001");
  CHECK(r->customers[1].customer == "customer-1003");
  const CustomerBriefing& hartmann = r->customers[0];
  CHECK(hartmann.successor == "staff-7");
  CHECK(hartmann.events == s.Stream("customer-1001").size());
  CHECK(hartmann.state.owner == "staff-7");
  REQUIRE(!hartmann.conversations.empty());
  CHECK(hartmann.conversations.size() <= kBriefingConversations);
  for (size_t i = 1; i < hartmann.conversations.size(); ++i) {
    CHECK(hartmann.conversations[i - 1].position.value() > hartmann.conversations[i].position.value());
  }
  for (const Event& e : hartmann.conversations) CHECK(e.type == "interaction.logged");

  const std::vector<Event> reads = s.Stream("access-staff-3");
  REQUIRE(reads.size() == reads_before + 1);
  CHECK(reads.back().type == "data.viewed");
  const uint64_t records = s.Stream("customer-1001").size() + s.Stream("customer-1003").size();
  CHECK(reads.back().data == R"({"customers":["customer-1001","customer-1003"],"view":"handover_report","count":)" +
                                 std::to_string(records) + R"(,"interface":"api"})");

  CHECK(r->Title() == "Handover ho-1: customers of staff-12, briefing for staff-7");
  const std::string md = HandoverReportToMarkdown(*r);
  CHECK_THAT(md, Catch::StartsWith("# Handover ho-1: customers of staff-12, briefing for staff-7\n"));
  CHECK_THAT(md, Catch::Contains("## Hartmann Logistik GmbH (customer-1001) -> staff-7\n"));
  CHECK_THAT(md, Catch::Contains("- owners: staff-12 from 2025-03-10 (initial), staff-7 from 2026-03-02 (handover)\n"));
  const std::string html = HandoverReportToHtml(*r);
  CHECK_THAT(html, Catch::StartsWith("<!DOCTYPE html>"));
  CHECK_THAT(html, Catch::Contains("Brandt &amp; Söhne Bau KG"));
  CHECK(HandoverReportDocument(*r, BriefingFormat::kHtml) == html);
  const std::string json = HandoverReportToJson(*r);
  CHECK(Count(json, "\n") == 2);
  CHECK_THAT(json, Catch::StartsWith(R"({"handover_id":"ho-1","from":"staff-12","customer":"customer-1001",)"
                                     R"("successor":"staff-7","state":{)"));
}

TEST_CASE("a report that leaves the system is recorded as an export in its format", "[handover]") {
  SampleStore s;
  Result<HandoverReport> r =
      PrepareHandoverReport(*s.log, s.As("staff-3"), {"ho-1", "", BriefingFormat::kJsonLines, s.now});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->Title() == "Handover ho-1: customers of staff-12");
  const Event read = s.Stream("access-staff-3").back();
  CHECK(read.type == "data.exported");
  CHECK_THAT(read.data, Catch::Contains(R"("format":"jsonl","scope":"handover_report")"));
}

TEST_CASE("a report of an unknown handover, or for a successor it gives nothing, is not found and records nothing",
          "[handover]") {
  SampleStore s;
  const size_t reads_before = s.Stream("access-staff-3").size();
  Result<HandoverReport> unknown = PrepareHandoverReport(*s.log, s.As("staff-3"), {"ho-404", "", std::nullopt, s.now});
  REQUIRE(!unknown.ok());
  CHECK(unknown.status().code() == StatusCode::kNotFound);
  CHECK_THAT(unknown.status().message(), Catch::Contains("no handover.planned with handover_id ho-404"));
  Result<HandoverReport> nobody =
      PrepareHandoverReport(*s.log, s.As("staff-3"), {"ho-1", "staff-9", std::nullopt, s.now});
  REQUIRE(!nobody.ok());
  CHECK(nobody.status().code() == StatusCode::kNotFound);
  CHECK_THAT(nobody.status().message(), Catch::Contains("handover ho-1 gives staff-9 nothing"));
  CHECK(s.Stream("access-staff-3").size() == reads_before);
}

TEST_CASE("the briefing's documents show event data as text, never as markup", "[handover]") {
  SampleStore s;
  s.Add("customer-1001", "customer.updated", "staff-7",
        R"json({"name":"  # <b>Hartmann</b> [x](javascript:alert(1))"})json");
  s.Add("customer-1001", "interaction.logged", "staff-7",
        R"({"channel":"call","direction":"inbound","summary":"first\n# not a heading <script>"})");
  // A right-to-left override in a promise would turn the rest of its line around.
  s.Add("customer-1001", "commitment.made", "staff-7",
        "{\"commitment_id\":\"c-9\",\"promise\":\"call back\u202e now\",\"due_at\":\"2030-01-01T00:00:00Z\"}");
  Result<HandoverReport> r = PrepareHandoverReport(*s.log, s.As("staff-3"), {"ho-1", "", std::nullopt, s.now});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  const std::string md = HandoverReportToMarkdown(*r);
  CHECK_THAT(md, Catch::Contains("## \\# \\<b\\>Hartmann\\</b\\> \\[x\\](javascript:alert(1)) (customer-1001)"));
  // The name starts the "Who they are" item: a '#' there, after spaces or not, would make a heading of it.
  CHECK_THAT(md, Catch::Contains("\n- \\# \\<b\\>Hartmann"));
  CHECK_THAT(md, Catch::Contains(": inbound call: first\\\\n# not a heading \\<script\\>\n"));
  CHECK_THAT(md, !Catch::Contains("<b>"));
  CHECK_THAT(md, !Catch::Contains("\n# not a heading"));
  const std::string html = HandoverReportToHtml(*r);
  CHECK_THAT(html, Catch::Contains("<h2>  # &lt;b&gt;Hartmann&lt;/b&gt; [x](javascript:alert(1))"));
  CHECK_THAT(html, Catch::Contains("first\\n# not a heading &lt;script&gt;</li>"));
  CHECK_THAT(html, Catch::Contains("c-9: call back\\u202e now, due 2030-01-01"));
  CHECK_THAT(md, Catch::Contains("c-9: call back\\\\u202e now, due 2030-01-01"));  // its backslash escaped
  CHECK_THAT(html, !Catch::Contains("<b>"));
  CHECK_THAT(html, !Catch::Contains("<script"));
}

TEST_CASE("the people to call read as one line each, whatever their data holds", "[handover]") {
  ContactView v;
  v.contact_id = "con-1";
  v.contact.role = "buyer\nRISK fake line";
  v.contact.key_contact = true;
  v.personal.state = OpenedPersonal::State::kOpen;
  v.personal.fields = {{"name", "Ana\x1b[31m Lima"}, {"email", "ana@example.com"}};
  CHECK(PersonToCall(v) == "Ana\\x1b[31m Lima, buyer\\nRISK fake line (key contact): e-mail ana@example.com");
  CHECK(LastConversation(v, 10) == "no conversation logged with them");
  v.personal.state = OpenedPersonal::State::kErased;
  v.personal.erased_position = 41;
  v.personal.erased_reason = "her request";
  CHECK(PersonToCall(v) == "con-1 (erased at position 41: her request), buyer\\nRISK fake line (key contact)");
}

}  // namespace
}  // namespace custodian
