// A failing disk under the EventLog: a file system whose write-ahead-log files
// fail on command (after LevelDB's fault_injection_test.cc).
#include "storage/event_log.h"
// The header under test comes first, to prove it is self-contained.

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/storage/event_log_test_util.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

using testing::kTestNow;
using testing::MakeEvent;

// What the faulty file system does to WAL files right now.
struct FaultSwitch {
  std::atomic<bool> fail_writes{false};   // Append, Flush, Sync, ... fail
  std::atomic<int> sync_delay_ms{0};      // every Sync first sleeps this long
  std::atomic<int> syncs{0};              // Syncs attempted so far
  std::atomic<int> fail_syncs_after{-1};  // when >= 0, Syncs numbered past it fail
};

rocksdb::IOStatus Injected() { return rocksdb::IOStatus::IOError("injected fault: the disk refused the write"); }

class FaultyWalFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWalFile(std::unique_ptr<rocksdb::FSWritableFile> file, FaultSwitch* faults)
      : FSWritableFileOwnerWrapper(std::move(file)), faults_(faults) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (faults_->fail_writes.load()) return Injected();
    return FSWritableFileOwnerWrapper::Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info, rocksdb::IODebugContext* dbg) override {
    if (faults_->fail_writes.load()) return Injected();
    return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    if (faults_->fail_writes.load()) return Injected();
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info, rocksdb::IODebugContext* dbg) override {
    if (faults_->fail_writes.load()) return Injected();
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, info, dbg);
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (faults_->fail_writes.load()) return Injected();
    return FSWritableFileOwnerWrapper::Flush(options, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (SyncFails()) return Injected();
    return FSWritableFileOwnerWrapper::Sync(options, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (SyncFails()) return Injected();
    return FSWritableFileOwnerWrapper::Fsync(options, dbg);
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    if (faults_->fail_writes.load()) return Injected();
    return FSWritableFileOwnerWrapper::RangeSync(offset, nbytes, options, dbg);
  }

 private:
  bool SyncFails() {
    const int number = faults_->syncs.fetch_add(1) + 1;
    if (int delay = faults_->sync_delay_ms.load(); delay > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
    const int after = faults_->fail_syncs_after.load();
    return faults_->fail_writes.load() || (after >= 0 && number > after);
  }

  FaultSwitch* faults_;
};

// Passes everything through, wrapping the write-ahead-log files (*.log).
class FaultyWalFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  FaultyWalFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target, FaultSwitch* faults)
      : FileSystemWrapper(target), faults_(faults) {}
  const char* Name() const override { return "FaultyWalFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    return Wrap(name, target()->NewWritableFile(name, options, result, dbg), result);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override {
    return Wrap(name, target()->ReopenWritableFile(name, options, result, dbg), result);
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override {
    return Wrap(name, target()->ReuseWritableFile(name, old_name, options, result, dbg), result);
  }

 private:
  rocksdb::IOStatus Wrap(const std::string& name, rocksdb::IOStatus s,
                         std::unique_ptr<rocksdb::FSWritableFile>* result) {
    if (s.ok() && name.ends_with(".log")) {
      *result = std::make_unique<FaultyWalFile>(std::move(*result), faults_);
    }
    return s;
  }

  FaultSwitch* faults_;
};

// An Env whose file system is the faulty one; must outlive every log opened on it.
struct FaultyDisk {
  FaultSwitch faults;
  std::unique_ptr<rocksdb::Env> env =
      rocksdb::NewCompositeEnv(std::make_shared<FaultyWalFileSystem>(rocksdb::FileSystem::Default(), &faults));
};

std::unique_ptr<EventLog> OpenOnDisk(const std::string& dir, FaultyDisk& disk, Clock* clock,
                                     EventLogOptions options = {}) {
  options.env = disk.env.get();
  return testing::OpenTestLog(dir, clock, options);
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Waits (up to 10 s) until the write-ahead log has been synced, or is being
// synced, `n` times in all.
bool WaitForSyncs(const FaultSwitch& faults, int n) {
  for (int i = 0; i < 10'000 && faults.syncs.load() < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return faults.syncs.load() >= n;
}

AppendRequest RequestOf(const Event& e) { return {e.stream, ExpectedVersion::Any(), {e}}; }

TEST_CASE(
    "After a failed write the log reports IoError, then refuses appends until reopened, losing nothing "
    "acknowledged",
    "[fault]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  FaultyDisk disk;
  auto log = OpenOnDisk(tmp.path(), disk, &clock);
  std::vector<Event> acknowledged;
  for (int i = 0; i < 10; ++i) {
    const std::string stream = "customer-" + std::to_string(i % 3);
    std::vector<Event> events = {MakeEvent(stream), MakeEvent(stream)};
    Result<AppendResult> r = log->Append(stream, events);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    acknowledged.insert(acknowledged.end(), events.begin(), events.end());
  }
  REQUIRE(disk.faults.syncs.load() > 0);  // the WAL files really pass through the fault switch

  disk.faults.fail_writes.store(true);
  Result<AppendResult> failed = log->Append("customer-1", {MakeEvent("customer-1")});
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().code() == StatusCode::kIoError);
  CHECK(Contains(failed.status().message(), "injected fault"));

  // The disk is healthy again, but the log cannot know what reached it.
  disk.faults.fail_writes.store(false);
  for (int i = 0; i < 3; ++i) {
    Result<AppendResult> refused = log->Append("customer-2", {MakeEvent("customer-2")});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
    CHECK(Contains(refused.status().message(), "reopen"));
  }
  std::vector<AppendRequest> batch(1);
  batch[0] = {"customer-3", ExpectedVersion::Any(), {MakeEvent("customer-3")}};
  Result<std::vector<AppendResult>> refused_batch = log->AppendBatch(std::move(batch));
  REQUIRE_FALSE(refused_batch.ok());
  CHECK(refused_batch.status().code() == StatusCode::kFailedPrecondition);
  CHECK(log->end() == Position(acknowledged.size()));
  CHECK(testing::ReadEverything(*log).size() == acknowledged.size());

  log.reset();
  log = OpenOnDisk(tmp.path(), disk, &clock);
  std::vector<Event> all = testing::ReadEverything(*log);
  // The failed event may or may not have reached the disk; everything before it did.
  REQUIRE(all.size() >= acknowledged.size());
  REQUIRE(all.size() <= acknowledged.size() + 1);
  for (size_t i = 0; i < all.size(); ++i) CHECK(all[i].position == Position(i));
  for (size_t i = 0; i < acknowledged.size(); ++i) CHECK(testing::SameContent(all[i], acknowledged[i]));
  Status scan = log->ScanAll(Position(0), [](const Event&) { return true; });
  CHECK(scan.ok());

  // And the reopened log takes appends again, right after what is there.
  Result<AppendResult> after = log->Append("customer-1", {MakeEvent("customer-1")});
  INFO(after.status().ToString());
  REQUIRE(after.ok());
  CHECK(after->positions.front() == Position(all.size()));
}

TEST_CASE("Closing a log while its disk fails loses nothing acknowledged", "[fault]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  FaultyDisk disk;
  auto log = OpenOnDisk(tmp.path(), disk, &clock);
  std::vector<Event> acknowledged;
  for (int i = 0; i < 5; ++i) {
    Event e = MakeEvent("customer-1");
    REQUIRE(log->Append("customer-1", {e}).ok());
    acknowledged.push_back(e);
  }
  disk.faults.fail_writes.store(true);
  Result<AppendResult> failed = log->Append("customer-1", {MakeEvent("customer-1")});
  CHECK(failed.status().code() == StatusCode::kIoError);
  log.reset();  // closes with the disk still failing
  disk.faults.fail_writes.store(false);

  log = OpenOnDisk(tmp.path(), disk, &clock);
  std::vector<Event> all = testing::ReadEverything(*log);
  REQUIRE(all.size() >= acknowledged.size());
  for (size_t i = 0; i < acknowledged.size(); ++i) CHECK(all[i].id == acknowledged[i].id);
  std::vector<Event> stream = testing::ReadWholeStream(*log, "customer-1");
  REQUIRE(stream.size() == all.size());
  for (size_t i = 0; i < stream.size(); ++i) CHECK(stream[i].version == StreamVersion(i));
}

TEST_CASE("Appenders caught in a failing group commit are never told their events are safe", "[fault]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  FaultyDisk disk;
  auto log = OpenOnDisk(tmp.path(), disk, &clock);
  REQUIRE(log->Append("customer-1", {MakeEvent("customer-1")}).ok());

  // Slow syncs let the next appenders queue up behind the first into one round,
  // and that round's sync fails.
  disk.faults.sync_delay_ms.store(300);
  disk.faults.fail_syncs_after.store(disk.faults.syncs.load() + 1);
  auto first = std::async(std::launch::async, [&] { return log->Append("customer-1", {MakeEvent("customer-1")}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the first is inside its (good) sync now

  // The same new event from three appenders (a client retrying), and one other.
  const Event same = MakeEvent("customer-2");
  std::vector<std::future<Result<AppendResult>>> racers;
  for (int i = 0; i < 3; ++i) {
    racers.push_back(std::async(std::launch::async, [&] { return log->Append("customer-2", {same}); }));
  }
  racers.push_back(
      std::async(std::launch::async, [&] { return log->Append("customer-3", {MakeEvent("customer-3")}); }));

  Result<AppendResult> first_result = first.get();
  INFO(first_result.status().ToString());
  CHECK(first_result.ok());
  for (auto& racer : racers) {
    Result<AppendResult> r = racer.get();
    INFO("an appender behind the failed sync got: " << (r.ok() ? "success" : r.status().ToString()));
    CHECK_FALSE(r.ok());
    if (!r.ok()) {
      CHECK((r.status().code() == StatusCode::kIoError || r.status().code() == StatusCode::kFailedPrecondition));
    }
  }
  disk.faults.sync_delay_ms.store(0);
  disk.faults.fail_syncs_after.store(-1);
  log.reset();
  log = OpenOnDisk(tmp.path(), disk, &clock);
  std::vector<Event> all = testing::ReadEverything(*log);
  REQUIRE(all.size() >= 2);
  for (size_t i = 0; i < all.size(); ++i) CHECK(all[i].position == Position(i));
}

// Holds the writer inside a round of customer-9 until released, so that
// appends queue behind it: the held round then goes to the syncer, and the
// writer writes the next round while the syncer syncs.
class RoundHold {
 public:
  EventLogOptions options() {
    EventLogOptions options;
    options.rules = [this, released = released_](const Event& e, RuleState&) {
      if (e.stream == "customer-9") {
        entered_.set_value();
        released.wait();
      }
      return Status::Ok();
    };
    return options;
  }
  // Starts the held round and returns once the writer is inside it.
  std::future<Result<std::vector<AppendResult>>> Start(EventLog& log) {
    auto held = log.AppendBatchAsync({RequestOf(MakeEvent("customer-9"))});
    entered_.get_future().wait();
    return held;
  }
  void Release() { release_.set_value(); }

 private:
  std::promise<void> entered_, release_;
  std::shared_future<void> released_ = release_.get_future().share();
};

// A log with one event, whose syncs from here on each take 300 ms.
struct SlowSyncs {
  testing::TempDir tmp;
  testing::FixedClock clock{kTestNow};
  FaultyDisk disk;
  RoundHold hold;
  std::unique_ptr<EventLog> log = OpenOnDisk(tmp.path(), disk, &clock, hold.options());
  int before = 0;  // syncs before the slow ones

  SlowSyncs() {
    REQUIRE(log->Append("customer-1", {MakeEvent("customer-1")}).ok());
    disk.faults.sync_delay_ms.store(300);
    before = disk.faults.syncs.load();
  }
};

TEST_CASE_METHOD(SlowSyncs, "An appended event is readable only once its fsync has returned", "[fault]") {
  auto held = hold.Start(*log);
  auto pending = log->AppendBatchAsync({RequestOf(MakeEvent("customer-1"))});
  hold.Release();
  // The held round's sync, then the pending round's: by then it is written.
  REQUIRE(WaitForSyncs(disk.faults, before + 2));
  // The event is in RocksDB now, but its sync has not returned: no read may
  // show it, since a power loss now would take it.
  CHECK(log->end() == Position(2));
  CHECK(testing::ReadWholeStream(*log, "customer-1").size() == 1);
  Result<std::vector<Event>> newest = log->ReadStream("customer-1", StreamVersion(UINT64_MAX), Direction::kBackward, 5);
  REQUIRE(newest.ok());
  CHECK(newest->size() == 1);
  Result<StreamInfo> info = log->GetStreamInfo("customer-1");
  REQUIRE(info.ok());
  CHECK(info->event_count == 1);
  CHECK(testing::ReadEverything(*log).size() == 2);

  REQUIRE(held.get().ok());
  Result<std::vector<AppendResult>> done = pending.get();
  INFO(done.status().ToString());
  REQUIRE(done.ok());
  CHECK(log->end() == Position(3));
  CHECK(testing::ReadWholeStream(*log, "customer-1").size() == 2);
}

TEST_CASE_METHOD(SlowSyncs,
                 "While a round's fsync runs the writer goes on, and what it answers from that round fails with its "
                 "fsync",
                 "[fault]") {
  disk.faults.fail_syncs_after.store(before + 1);  // the next sync is good (but slow), the later ones fail
  auto held = hold.Start(*log);
  const Event x = MakeEvent("customer-2");
  auto first = log->AppendBatchAsync({RequestOf(x)});
  hold.Release();
  // The writer writes x's round while the syncer syncs the held one; x's
  // round is synced next, and that sync fails.
  REQUIRE(WaitForSyncs(disk.faults, before + 2));
  // A retry of x now finds it written, in a round whose sync has not returned.
  auto retry = log->AppendBatchAsync({RequestOf(x)});

  Result<std::vector<AppendResult>> held_result = held.get();
  INFO(held_result.status().ToString());
  CHECK(held_result.ok());
  Result<std::vector<AppendResult>> first_result = first.get();
  INFO(first_result.status().ToString());
  REQUIRE_FALSE(first_result.ok());
  CHECK(first_result.status().code() == StatusCode::kIoError);
  Result<std::vector<AppendResult>> retry_result = retry.get();
  INFO("the retry got: " << (retry_result.ok() ? "success" : retry_result.status().ToString()));
  REQUIRE_FALSE(retry_result.ok());
  CHECK(retry_result.status().code() == StatusCode::kIoError);
  CHECK(log->end() == Position(2));  // only what was synced is readable

  disk.faults.sync_delay_ms.store(0);
  disk.faults.fail_syncs_after.store(-1);
  log.reset();
  log = OpenOnDisk(tmp.path(), disk, &clock);
  std::vector<Event> all = testing::ReadEverything(*log);
  REQUIRE(all.size() >= 2);
  for (size_t i = 0; i < all.size(); ++i) CHECK(all[i].position == Position(i));
}

// The round after a written one is staged while that round's fsync still
// runs on the syncer, so the log's end is not past the first event yet: the
// rules must still find it (EventLog::FindWritten; reading up to the end
// said "not found", and a correction of an event appended a moment earlier
// could be refused).
TEST_CASE("The rules find an event of the round whose fsync is still running", "[fault][rules]") {
  testing::TempDir tmp;
  testing::FixedClock clock{kTestNow};
  FaultyDisk disk;
  const Event first = MakeEvent("customer-5");
  std::promise<void> staging;        // the writer is staging `first`'s round
  std::promise<void> second_queued;  // the next write is queued behind it
  std::shared_future<void> go = second_queued.get_future().share();
  std::promise<std::string> seen;  // what the rules found for `first`, from the next round
  std::once_flag staged_once, seen_once;
  std::unique_ptr<EventLog> log;
  std::atomic<uint64_t> end_when_asked{UINT64_MAX};
  EventLogOptions options;
  options.rules = [&](const Event& e, RuleState& state) -> Status {
    if (e.id == first.id) {
      std::call_once(staged_once, [&] { staging.set_value(); });
      go.wait();
    } else if (e.stream == "customer-6") {
      Result<std::optional<Event>> found = state.FindEvent(first.id);
      if (!found.ok()) return found.status();
      const std::string what = *found ? (*found)->stream : "not found";
      std::call_once(seen_once, [&] {
        end_when_asked.store(log->end().value());
        seen.set_value(what);
      });
    }
    return Status::Ok();
  };
  log = OpenOnDisk(tmp.path(), disk, &clock, options);
  disk.faults.sync_delay_ms.store(500);
  auto a = log->AppendBatchAsync({RequestOf(first)});
  staging.get_future().wait();
  // Queued while `first`'s round is staged: that round then hands its fsync
  // to the syncer (something is waiting), and the writer stages this one.
  auto b = log->AppendBatchAsync({RequestOf(MakeEvent("customer-6"))});
  second_queued.set_value();
  std::future<std::string> found = seen.get_future();
  REQUIRE(found.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  CHECK(end_when_asked.load() == 0);  // the first round was written, its sync had not returned
  CHECK(found.get() == "customer-5");
  disk.faults.sync_delay_ms.store(0);
  REQUIRE(a.get().ok());
  REQUIRE(b.get().ok());
  CHECK(log->end() == Position(2));
}

}  // namespace
}  // namespace custodian
