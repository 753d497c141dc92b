// Helpers shared by the EventLog tests: opening a log on a fixed clock,
// comparing what came back with what went in, snapshots of a directory.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "storage/event_log.h"
#include "tests/test_util.h"

namespace Catch {
template <>
struct StringMaker<custodian::StatusCode> {
  static std::string convert(custodian::StatusCode code) { return custodian::StatusCodeName(code); }
};
}  // namespace Catch

namespace custodian::testing {

// 2026-03-02T10:00:00Z: a day after MakeEvent's occurred_at, so events validate.
inline constexpr Timestamp kTestNow(1772445600LL * 1'000'000);

inline EventLogOptions TestOptions(Clock* clock) {
  EventLogOptions options;
  options.create = CreateIfMissing::kYes;
  options.clock = clock;
  return options;
}

// Opens (creating) a read-write log in `dir`; fails the test when it cannot.
inline std::unique_ptr<EventLog> OpenTestLog(const std::string& dir, Clock* clock,
                                             EventLogOptions options = EventLogOptions()) {
  options.create = CreateIfMissing::kYes;
  options.clock = clock;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(dir, options);
  INFO(log.status().ToString());
  REQUIRE(log.ok());
  return std::move(*log);
}

// The producer's fields of two events agree (the log assigns the rest).
inline bool SameContent(const Event& a, const Event& b) {
  return a.id == b.id && a.stream == b.stream && a.type == b.type && a.schema == b.schema && a.actor == b.actor &&
         a.occurred_at == b.occurred_at && a.source == b.source && a.correlation_id == b.correlation_id &&
         a.causation_id == b.causation_id && a.data == b.data && a.personal == b.personal;
}

// Every event of the log, in order, read with ReadAll.
inline std::vector<Event> ReadEverything(const EventLog& log) {
  Result<std::vector<Event>> all = log.ReadAll(Position(0), SIZE_MAX);
  INFO(all.status().ToString());
  REQUIRE(all.ok());
  return std::move(*all);
}

inline std::vector<Event> ReadWholeStream(const EventLog& log, const std::string& stream) {
  Result<std::vector<Event>> events = log.ReadStream(stream, StreamVersion(0), Direction::kForward, SIZE_MAX);
  INFO(events.status().ToString());
  REQUIRE(events.ok());
  return std::move(*events);
}

// Relative path -> contents of every file under `dir` (directories as "<dir>").
// An open store's background work (compaction, obsolete-file deletion) may
// remove a file while the scan runs: a file that is gone by the time it is
// read is left out, since it no longer holds anything.
inline std::map<std::string, std::string> SnapshotDirectory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::map<std::string, std::string> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  REQUIRE(!ec);
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    INFO("scanning " << dir << ": " << ec.message());
    REQUIRE(!ec);
    const fs::directory_entry& entry = *it;
    const std::string rel = entry.path().lexically_relative(dir).string();
    std::error_code type_ec;
    if (entry.is_directory(type_ec)) {
      files[rel] = "<dir>";
      continue;
    }
    if (type_ec) continue;  // removed since it was listed
    std::ifstream in(entry.path(), std::ios::binary);
    if (!in) continue;  // removed since it was listed
    std::ostringstream contents;
    contents << in.rdbuf();
    files[rel] = contents.str();
  }
  return files;
}

// The files under `dir`, recursively, whose bytes hold `needle`.
inline std::vector<std::string> FilesHolding(const std::string& dir, const std::string& needle) {
  REQUIRE(!needle.empty());
  std::vector<std::string> found;
  for (const auto& [name, bytes] : SnapshotDirectory(dir)) {
    if (bytes.find(needle) != std::string::npos) found.push_back(name);
  }
  return found;
}

inline void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  REQUIRE(out.good());
}

}  // namespace custodian::testing
