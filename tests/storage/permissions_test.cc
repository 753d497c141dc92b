#include "storage/permissions.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include "storage/event_log.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

using testing::TempDir;

mode_t ModeOf(const std::string& path) {
  struct stat st;
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

TEST_CASE("A new store's directory is owner-only whatever the umask, and so are the files the log writes itself",
          "[storage][permissions]") {
  TempDir tmp;
  const mode_t old = ::umask(022);
  EventLogOptions options;
  options.create = CreateIfMissing::kYes;
  {
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(tmp.Sub("store"), options);
    REQUIRE(log.ok());
  }
  ::umask(old);
  CHECK(ModeOf(tmp.Sub("store")) == 0700);
  CHECK(ModeOf(tmp.Sub("store") + "/log.key") == 0600);
  CHECK(ModeOf(tmp.Sub("store") + "/log.vkey") == 0600);
  // An empty directory made by someone else is made owner-only when a store is created in it.
  std::filesystem::create_directories(tmp.Sub("empty"));
  ::chmod(tmp.Sub("empty").c_str(), 0755);
  REQUIRE(EventLog::Open(tmp.Sub("empty"), options).ok());
  CHECK(ModeOf(tmp.Sub("empty")) == 0700);
}

TEST_CASE("Loose paths are found at any depth and tightened to owner-only", "[storage][permissions]") {
  TempDir tmp;
  const std::string dir = tmp.Sub("store");
  std::filesystem::create_directories(dir + "/access-spool");
  std::ofstream(dir + "/000001.sst") << "x";
  std::ofstream(dir + "/access-spool/a.jsonl") << "y";
  ::chmod(dir.c_str(), 0700);
  ::chmod((dir + "/000001.sst").c_str(), 0600);
  ::chmod((dir + "/access-spool").c_str(), 0750);
  ::chmod((dir + "/access-spool/a.jsonl").c_str(), 0604);
  Result<std::vector<LoosePath>> loose = FindLooseStorePaths(dir);
  REQUIRE(loose.ok());
  REQUIRE(loose->size() == 2);
  std::set<std::string> paths;
  for (const LoosePath& p : *loose) paths.insert(p.path);
  CHECK(paths == std::set<std::string>{dir + "/access-spool", dir + "/access-spool/a.jsonl"});
  Result<std::vector<LoosePath>> fixed = TightenStorePermissions(dir);
  REQUIRE(fixed.ok());
  CHECK(fixed->size() == 2);
  CHECK(ModeOf(dir + "/access-spool") == 0700);
  CHECK(ModeOf(dir + "/access-spool/a.jsonl") == 0600);
  CHECK(FindLooseStorePaths(dir)->empty());
  CHECK(FindLooseStorePaths(tmp.Sub("nowhere")).status().code() == StatusCode::kNotFound);
}

}  // namespace
}  // namespace custodian
