// Store permissions through the command line: a store is owner-only from its
// creation, a loose one is named on every use and mended by `permissions --fix`.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "tests/test_util.h"
#include "tests/tools/cli_runner.h"

namespace custodian {
namespace {

using testing::CliResult;
using testing::SampleCompany;

TEST_CASE("init makes an owner-only store: no file or directory of it is open to other accounts", "[cli][permissions]") {
  SampleCompany company;  // init and an import, through the real binary
  size_t paths = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(company.dir)) {
    struct stat st;
    REQUIRE(::lstat(entry.path().c_str(), &st) == 0);
    INFO(entry.path().string());
    CHECK((st.st_mode & 077) == 0);
    ++paths;
  }
  CHECK(paths > 5);
  struct stat st;
  REQUIRE(::stat(company.dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CliResult check = company.Cli({"permissions"});
  CHECK(check.exit_code == 0);
  CHECK_THAT(check.out, Catch::Contains("is owner-only"));
}

TEST_CASE("A store others can read is named on every use, and permissions --fix makes it owner-only",
          "[cli][permissions]") {
  SampleCompany company;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(company.dir)) {
    ::chmod(entry.path().c_str(), entry.is_directory() ? 0755 : 0644);
  }
  ::chmod(company.dir.c_str(), 0755);
  CliResult stats = company.Cli({"stats"});
  CHECK(stats.exit_code == 0);
  CHECK_THAT(stats.err, Catch::Contains("warning: other accounts on this machine can read this store: " + company.dir +
                                        " is mode 0755"));
  CHECK_THAT(stats.err, Catch::Contains("permissions --fix"));
  CliResult loose = company.Cli({"permissions", "--json"});
  CHECK(loose.exit_code == 5);
  CHECK_THAT(loose.out, Catch::Contains(R"("owner_only":false,"loose":[)"));
  CliResult fixed = company.Cli({"permissions", "--fix"});
  CHECK(fixed.exit_code == 0);
  CHECK_THAT(fixed.out, Catch::Contains("owner-only"));
  CliResult after = company.Cli({"stats"});
  CHECK(after.exit_code == 0);
  CHECK(after.err.empty());
  CHECK(company.Cli({"permissions"}).exit_code == 0);
}

TEST_CASE("permissions looks at the store's key directory too: others who may write there could replace the master "
          "key, and the store seals its people until --fix",
          "[cli][permissions]") {
  SampleCompany company;
  const std::string keys = company.dir + ".keys";
  REQUIRE(std::filesystem::is_directory(keys));
  ::chmod(keys.c_str(), 0775);
  CliResult loose = company.Cli({"permissions"});
  CHECK(loose.exit_code == 5);
  CHECK_THAT(loose.out, Catch::Contains("0775  " + keys));
  CliResult find = company.Cli({"find", "--name", "anyone"});
  CHECK(find.exit_code != 0);
  CHECK_THAT(find.err, Catch::Contains("other accounts may write in the key directory " + keys));
  CHECK(company.Cli({"permissions", "--fix"}).exit_code == 0);
  struct stat st;
  REQUIRE(::stat(keys.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(company.Cli({"permissions"}).exit_code == 0);
  CHECK(company.Cli({"find", "--name", "anyone"}).exit_code == 0);
}

}  // namespace
}  // namespace custodian
