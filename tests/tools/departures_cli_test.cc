// departures and orphans on the sample company: staff-12 left after a
// handover of their customers, but request req-9001 stayed assigned to them.
#include <catch2/catch.hpp>

#include "tests/test_util.h"
#include "tests/tools/cli_runner.h"

namespace custodian {
namespace {

using testing::CliResult;
using testing::RunCli;
using testing::SampleCompany;
using testing::TempDir;

TEST_CASE("a departure is incomplete while the leaver still holds work, and the orphan is named", "[cli][departure]") {
  SampleCompany c;
  CliResult d = c.Cli({"departures", "--json"});
  REQUIRE(d.exit_code == 0);
  CHECK_THAT(d.out, Catch::Contains(R"("staff":"staff-12","announced_at":"2026-02-16T08:00:00Z")"));
  CHECK_THAT(d.out, Catch::Contains(R"("departed_at":"2026-03-31T00:00:00Z","successor":"staff-7","customers":0,"requests":1,"commitments":0,"complete":false)"));
  CliResult o = c.Cli({"orphans", "--json"});
  REQUIRE(o.exit_code == 0);
  CHECK(o.out == std::string(R"({"customer":"customer-1001","held_by":"staff-12","departed_at":"2026-03-31T00:00:00Z","owned":false,"requests":1,"commitments":0})") + "\n");
  CHECK_THAT(c.Cli({"departures"}).out, Catch::Contains("INCOMPLETE: left after departure"));
}

TEST_CASE("once the leaver's last request is reassigned the departure is complete and nothing is orphaned",
          "[cli][departure]") {
  SampleCompany c;
  REQUIRE(c.Cli({"append", R"({"id":"6a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d","stream":"customer-1001","type":"request.assigned","actor":"staff-3","occurred_at":"2026-04-01T09:00:00Z","data":{"request_id":"req-9001","assignee":"staff-7","previous_assignee":"staff-12"}})"})
              .exit_code == 0);
  CHECK_THAT(c.Cli({"departures"}).out, Catch::Contains("no open departures"));
  CHECK_THAT(c.Cli({"departures", "--all", "--json"}).out, Catch::Contains(R"("staff":"staff-12")"));
  CHECK_THAT(c.Cli({"departures", "--all", "--json"}).out, Catch::Contains(R"("complete":true)"));
  CHECK(c.Cli({"orphans", "--json"}).out.empty());
  CHECK_THAT(c.Cli({"orphans"}).out, Catch::Contains("none: nothing is held by anyone who has left"));
}

}  // namespace
}  // namespace custodian
