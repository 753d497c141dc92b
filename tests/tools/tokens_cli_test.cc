// custodian token create / list / revoke and principal add, run as a user would.
#include <catch2/catch.hpp>

#include <string>

#include "tests/test_util.h"
#include "tests/tools/cli_runner.h"

namespace custodian::testing {
namespace {

TEST_CASE("token create prints the token once, token list never shows a secret, and a registered auditor can hold one",
          "[cli][tokens]") {
  TempDir tmp;
  const std::string data = tmp.Sub("store");
  REQUIRE(RunCli(tmp, data, {"init"}).exit_code == 0);
  REQUIRE(RunCli(tmp, data,
                 {"append", R"({"id":"0d7f5f0e-7c38-5a43-9a77-6c2b8e0e3f11","stream":"staff-1","type":"staff.joined",)"
                            R"("actor":"system:hr","occurred_at":"2026-11-02T09:00:00Z","data":{"role":"admin"}})"})
              .exit_code == 0);
  // A token for nobody, but an ingest token: a usage error naming --staff, nothing written.
  CliResult nobody = RunCli(tmp, data, {"--as", "staff-1", "token", "create", "--role", "admin", "--name", "ops"});
  CHECK(nobody.exit_code == 1);
  CHECK_THAT(nobody.err, Catch::Contains("--staff: an admin token acts for a member of staff or principal"));
  // Nobody is staff-900 yet: a token for them is refused, naming the rule.
  CliResult early = RunCli(tmp, data, {"--as", "staff-1", "token", "create", "--role", "auditor", "--name", "audit",
                                       "--staff", "900"});
  CHECK(early.exit_code == 2);
  CHECK_THAT(early.err, Catch::Contains("token holder staff-900 has never joined"));
  // A kind the catalogue does not have: a usage error naming --kind and the kinds, nothing written.
  CliResult typo = RunCli(tmp, data, {"principal", "add", "--id", "900", "--kind", "auditr"});
  CHECK(typo.exit_code == 1);
  CHECK_THAT(typo.err, Catch::Contains("--kind: auditr not in {auditor,data_protection_officer,outside_counsel,"));
  CliResult added = RunCli(tmp, data, {"principal", "add", "--id", "900", "--kind", "auditor", "--organization", "Audit GmbH"});
  INFO(added.err);
  REQUIRE(added.exit_code == 0);
  CHECK_THAT(added.out, Catch::Contains("registered staff-900 (auditor)"));

  CliResult made = RunCli(tmp, data, {"--as", "staff-1", "token", "create", "--role", "auditor", "--name", "audit",
                                      "--staff", "900"});
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  const std::string token = made.out.substr(0, made.out.find('\n'));
  REQUIRE(token.starts_with("tok-"));
  const std::string id = token.substr(0, token.find('.'));
  const std::string secret = token.substr(token.find('.') + 1);
  REQUIRE(secret.size() >= 40);
  CHECK_THAT(made.err, Catch::Contains("shown this once"));

  for (const std::vector<std::string>& args : {std::vector<std::string>{"token", "list"}, {"token", "list", "--json"},
                                               {"--as", "staff-1", "read-all", "--json"}}) {
    CliResult r = RunCli(tmp, data, args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains(id));
    CHECK(r.out.find(secret) == std::string::npos);
  }
  // A member of staff who is not an admin cannot revoke it; the admin can, once.
  CliResult by_auditor = RunCli(tmp, data, {"--as", "staff-900", "token", "revoke", id});
  CHECK(by_auditor.exit_code == 2);
  CHECK_THAT(by_auditor.err, Catch::Contains("only by an admin"));
  CliResult revoked = RunCli(tmp, data, {"--as", "staff-1", "token", "revoke", id, "--reason", "done", "--json"});
  REQUIRE(revoked.exit_code == 0);
  CHECK_THAT(revoked.out, Catch::Contains("\"revoked_at\":"));
  CHECK(RunCli(tmp, data, {"--as", "staff-1", "token", "revoke", "tok-ffffffffffffffff"}).exit_code == 6);
  CHECK_THAT(RunCli(tmp, data, {"token", "list"}).out, Catch::Contains("[revoked at position"));
}

}  // namespace
}  // namespace custodian::testing
