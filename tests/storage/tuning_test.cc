// The RocksDB settings of storage/tuning.h, as a real store carries them:
// RocksDB's own log (CUSTODIAN_ROCKSDB_LOG=info) prints the options it opened
// the store with, so the bounds that storage/README.md and
// docs/performance.md promise are read back from the store itself.
#include "storage/tuning.h"

#include <catch2/catch.hpp>
#include <rocksdb/cache.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/write_buffer_manager.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "storage/event_log.h"
#include "storage/keys.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Opens and closes a new store in `dir`, with CUSTODIAN_ROCKSDB_LOG set to
// `log_level` (or unset), and returns RocksDB's LOG file.
std::string OpenAndReadLog(const std::string& dir, const char* log_level) {
  if (log_level != nullptr) {
    ::setenv("CUSTODIAN_ROCKSDB_LOG", log_level, 1);
  } else {
    ::unsetenv("CUSTODIAN_ROCKSDB_LOG");
  }
  {
    EventLogOptions options;
    options.create = CreateIfMissing::kYes;
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(dir, options);
    INFO(log.status().ToString());
    REQUIRE(log.ok());
  }
  ::unsetenv("CUSTODIAN_ROCKSDB_LOG");
  return ReadFile(std::filesystem::path(dir) / "LOG");
}

TEST_CASE("A store opens with the memory and WAL bounds of storage/tuning.h", "[tuning]") {
  testing::TempDir tmp;
  const std::string log = OpenAndReadLog(tmp.Sub("store"), "info");
  CHECK(log.find("Options.max_total_wal_size: 268435456") != std::string::npos);
  CHECK(log.find("Options.allow_concurrent_memtable_write: 0") != std::string::npos);
  // The stream index's 32 MiB memtables; every other family keeps 64 MiB.
  CHECK(log.find("Options.write_buffer_size: 33554432") != std::string::npos);
  // One 128 MiB block cache in four shards, so that filter blocks fit.
  CHECK(log.find("capacity : 134217728") != std::string::npos);
  CHECK(log.find("num_shard_bits : 2") != std::string::npos);
  CHECK(log.find("num_shard_bits : 6") == std::string::npos);
}

TEST_CASE("RocksDB's own log stays quiet unless CUSTODIAN_ROCKSDB_LOG=info", "[tuning]") {
  testing::TempDir tmp;
  CHECK(OpenAndReadLog(tmp.Sub("quiet"), nullptr).find("Options.") == std::string::npos);
  CHECK(OpenAndReadLog(tmp.Sub("other"), "debug").find("Options.") == std::string::npos);
  CHECK(OpenAndReadLog(tmp.Sub("info"), "info").find("Options.") != std::string::npos);
}

TEST_CASE("The budgets of storage/tuning.h are shared by every family", "[tuning]") {
  rocksdb::DBOptions db = StoreDbOptions();
  REQUIRE(db.write_buffer_manager != nullptr);
  CHECK(db.write_buffer_manager->buffer_size() == size_t{192} << 20);
  std::shared_ptr<rocksdb::Cache> cache = NewStoreBlockCache();
  CHECK(cache->GetCapacity() == size_t{128} << 20);
}

TEST_CASE("Memtable insert hints group stream-index keys by stream and the growing families as one", "[tuning]") {
  std::shared_ptr<rocksdb::Cache> cache = NewStoreBlockCache();
  auto streams = StoreFamilyOptions(keys::kStreamsFamily, cache).memtable_insert_with_hint_prefix_extractor;
  REQUIRE(streams != nullptr);
  const std::string a0 = keys::StreamKey("customer-4", StreamVersion(0));
  const std::string a9 = keys::StreamKey("customer-4", StreamVersion(9));
  const std::string b0 = keys::StreamKey("customer-42", StreamVersion(0));
  CHECK(streams->InDomain(a0));
  CHECK(streams->Transform(a0).ToString() == std::string("customer-4\0", 11));
  CHECK(streams->Transform(a0) == streams->Transform(a9));
  CHECK(streams->Transform(a0) != streams->Transform(b0));  // a stream name that is a prefix of another

  for (const char* family : {keys::kEventsFamily, keys::kMerkleFamily}) {
    INFO(family);
    auto whole = StoreFamilyOptions(family, cache).memtable_insert_with_hint_prefix_extractor;
    REQUIRE(whole != nullptr);
    CHECK(whole->Transform("\x00\x00\x00\x00\x00\x00\x00\x07").size() == 0);
  }
  // Ids are random: a hint would only cost.
  CHECK(StoreFamilyOptions(keys::kIdsFamily, cache).memtable_insert_with_hint_prefix_extractor == nullptr);
}

}  // namespace
}  // namespace custodian
