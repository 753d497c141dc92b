// Damage to a store's files that RocksDB would pass over or word in its own
// terms (storage/store_files.h): each makes Open refuse, in both modes, with
// the file named, and the refused open changes nothing.
#include "storage/store_files.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "storage/event_log.h"
#include "tests/raw_store.h"
#include "tests/storage/event_log_test_util.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

namespace fs = std::filesystem;
using testing::FixedClock;
using testing::kTestNow;
using testing::MakeEvent;
using testing::OpenTestLog;
using testing::TempDir;

// Opens `dir` in `mode` (no creation) and returns why it was refused.
Status OpenRefusal(const std::string& dir, EventLogOptions::Mode mode) {
  EventLogOptions options;
  options.mode = mode;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(dir, options);
  REQUIRE_FALSE(log.ok());
  return log.status();
}

// A closed store of two sessions: the first one's events in table files, the
// second one's three still in its write-ahead log.
struct ClosedStore {
  TempDir tmp;
  FixedClock clock{kTestNow};
  std::string dir = tmp.Sub("store");
  ClosedStore() {
    for (int session = 0; session < 2; ++session) {
      auto log = OpenTestLog(dir, &clock);  // opening replays the last session's log into table files
      for (int i = 0; i < 3; ++i) REQUIRE(log->Append("customer-42", {MakeEvent("customer-42")}).ok());
    }
  }
  std::string Wal() const {
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".log" && entry.file_size() > 0) return entry.path().string();
    }
    FAIL("no write-ahead log holds anything");
    return "";
  }
};

TEST_CASE("Open refuses a store whose write-ahead log was cut short after it closed, and changes nothing",
          "[store_files][damage]") {
  ClosedStore store;
  const std::string wal = store.Wal();
  const uintmax_t full = fs::file_size(wal);
  fs::resize_file(wal, full - 1);
  const auto before = testing::SnapshotDirectory(store.dir);
  for (auto mode : {EventLogOptions::Mode::kReadOnly, EventLogOptions::Mode::kReadWrite}) {
    Status s = OpenRefusal(store.dir, mode);
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK_THAT(s.message(), Catch::Contains("the store at " + store.dir + " is damaged: its write-ahead log " +
                                            fs::path(wal).filename().string() + " is cut short to " +
                                            std::to_string(full - 1) + " bytes, but held " + std::to_string(full)));
    CHECK(testing::SnapshotDirectory(store.dir) == before);
  }
  fs::remove(wal);
  CHECK_THAT(OpenRefusal(store.dir, EventLogOptions::Mode::kReadOnly).message(),
             Catch::Contains("its write-ahead log " + fs::path(wal).filename().string() + " is missing"));
}

TEST_CASE("Open refuses a store whose table file is missing or changed in size after it closed",
          "[store_files][damage]") {
  ClosedStore store;
  std::vector<testing::TableFile> tables = testing::LiveTableFiles(store.dir);
  auto events = std::find_if(tables.begin(), tables.end(), [](const auto& f) { return f.family == "events"; });
  REQUIRE(events != tables.end());
  const std::string path = store.dir + "/" + events->name;
  fs::resize_file(path, events->size + 10);
  CHECK_THAT(OpenRefusal(store.dir, EventLogOptions::Mode::kReadOnly).message(),
             Catch::Contains("its table file " + events->name + " (events family) is now " +
                             std::to_string(events->size + 10) + " bytes, but was " + std::to_string(events->size)));
  fs::remove(path);
  for (auto mode : {EventLogOptions::Mode::kReadOnly, EventLogOptions::Mode::kReadWrite}) {
    Status s = OpenRefusal(store.dir, mode);
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK_THAT(s.message(), Catch::Contains("its table file " + events->name + " (events family) is missing"));
  }
}

TEST_CASE("Open refuses a store whose MANIFEST is missing, saying so", "[store_files][damage]") {
  ClosedStore store;
  std::ifstream current(store.dir + "/CURRENT");
  std::string manifest;
  std::getline(current, manifest);
  REQUIRE(manifest.starts_with("MANIFEST-"));
  fs::remove(store.dir + "/" + manifest);
  for (auto mode : {EventLogOptions::Mode::kReadOnly, EventLogOptions::Mode::kReadWrite}) {
    Status s = OpenRefusal(store.dir, mode);
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK_THAT(s.message(), Catch::Contains("the store at " + store.dir + " is damaged: its MANIFEST (" + manifest));
    CHECK_THAT(s.message(), Catch::Contains("is missing; restore it from a backup"));
  }
}

TEST_CASE("A store that RocksDB opened directly since it closed is not taken for damaged", "[store_files][damage]") {
  ClosedStore store;
  const std::string wal = store.Wal();
  { testing::RawStore raw(store.dir); }  // replays the log into table files and deletes it
  REQUIRE_FALSE(fs::exists(wal));
  EventLogOptions options;
  options.mode = EventLogOptions::Mode::kReadOnly;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(store.dir, options);
  INFO(log.status().ToString());
  REQUIRE(log.ok());
  CHECK((*log)->end() == Position(6));
}

TEST_CASE("A store that was not closed (a crash) has no record to check and opens", "[store_files][damage]") {
  ClosedStore store;
  auto log = OpenTestLog(store.dir, &store.clock);
  REQUIRE(log->Append("customer-42", {MakeEvent("customer-42")}).ok());
  // While it is open the record is gone: a crash now leaves nothing that a
  // torn last write could be measured against.
  CHECK_FALSE(fs::exists(store.dir + "/" + store_files::kCleanCloseFile));
  EventLogOptions options;
  options.mode = EventLogOptions::Mode::kReadOnly;
  Result<std::unique_ptr<EventLog>> reader = EventLog::Open(store.dir, options);
  REQUIRE(reader.ok());
  CHECK((*reader)->end() == Position(7));
}

}  // namespace
}  // namespace custodian
