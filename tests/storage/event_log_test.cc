#include "storage/event_log.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "storage/keys.h"
#include "tests/raw_store.h"
#include "tests/storage/event_log_test_util.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

namespace fs = std::filesystem;
using testing::kTestNow;
using testing::MakeEvent;
using testing::OpenTestLog;
using testing::ReadEverything;
using testing::ReadWholeStream;
using testing::SameContent;

std::vector<uint64_t> PositionsOf(const std::vector<Event>& events) {
  std::vector<uint64_t> out;
  for (const Event& e : events) out.push_back(e.position.value());
  return out;
}

std::vector<uint64_t> VersionsOf(const std::vector<Event>& events) {
  std::vector<uint64_t> out;
  for (const Event& e : events) out.push_back(e.version.value());
  return out;
}

std::vector<uint64_t> Values(const std::vector<Position>& ps) {
  std::vector<uint64_t> out;
  for (Position p : ps) out.push_back(p.value());
  return out;
}

std::vector<uint64_t> Values(const std::vector<StreamVersion>& vs) {
  std::vector<uint64_t> out;
  for (StreamVersion v : vs) out.push_back(v.value());
  return out;
}

// Appends one fresh event to `stream` and fails the test unless it lands.
AppendResult AppendOne(EventLog& log, const std::string& stream, ExpectedVersion expected = ExpectedVersion::Any()) {
  Result<AppendResult> r = log.Append(stream, {MakeEvent(stream)}, expected);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return std::move(*r);
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// --- Opening ---

TEST_CASE("Open refuses a missing directory unless asked to create a store there", "[event_log][open]") {
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("store");
  EventLogOptions options;
  options.create = CreateIfMissing::kNo;
  Result<std::unique_ptr<EventLog>> refused = EventLog::Open(dir, options);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kNotFound);
  CHECK_FALSE(fs::exists(dir));

  options.create = CreateIfMissing::kYes;
  Result<std::unique_ptr<EventLog>> created = EventLog::Open(dir, options);
  INFO(created.status().ToString());
  REQUIRE(created.ok());
  CHECK((*created)->end() == Position(0));
  CHECK(fs::exists(fs::path(dir) / "CUSTODIAN"));
}

TEST_CASE("Open refuses an empty directory without create and makes a store in it with create", "[event_log][open]") {
  testing::TempDir tmp;
  EventLogOptions options;
  Result<std::unique_ptr<EventLog>> refused = EventLog::Open(tmp.path(), options);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kNotFound);
  CHECK(fs::is_empty(tmp.path()));

  options.create = CreateIfMissing::kYes;
  Result<std::unique_ptr<EventLog>> created = EventLog::Open(tmp.path(), options);
  INFO(created.status().ToString());
  REQUIRE(created.ok());
  CHECK(fs::exists(fs::path(tmp.path()) / "CUSTODIAN"));
}

TEST_CASE("Open refuses a directory of other files and leaves it byte-for-byte untouched", "[event_log][open]") {
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("not-a-store");
  fs::create_directories(fs::path(dir) / "sub");
  testing::WriteFile(dir + "/notes.txt", "quarterly figures\n");
  testing::WriteFile(dir + "/sub/data.bin", std::string("\x00\x01\x02\xff", 4));
  testing::WriteFile(dir + "/CURRENT", "MANIFEST-000001\n");  // looks like RocksDB, but no marker
  const auto before = testing::SnapshotDirectory(dir);

  for (CreateIfMissing create : {CreateIfMissing::kYes, CreateIfMissing::kNo}) {
    EventLogOptions options;
    options.create = create;
    Result<std::unique_ptr<EventLog>> refused = EventLog::Open(dir, options);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == StatusCode::kUnsupported);
    CHECK(Contains(refused.status().message(), "not a Custodian store"));
  }
  EventLogOptions read_only;
  read_only.mode = EventLogOptions::Mode::kReadOnly;
  Result<std::unique_ptr<EventLog>> refused = EventLog::Open(dir, read_only);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kUnsupported);

  CHECK(testing::SnapshotDirectory(dir) == before);
}

// A closed store at `dir` holding one event.
void WriteStoreOfOneEvent(const std::string& dir, testing::FixedClock& clock) {
  auto log = OpenTestLog(dir, &clock);
  AppendOne(*log, "customer-1");
}

TEST_CASE("Open refuses a store whose marker names a newer format and leaves it untouched", "[event_log][open]") {
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("store");
  testing::FixedClock clock(kTestNow);
  WriteStoreOfOneEvent(dir, clock);
  testing::WriteFile(dir + "/CUSTODIAN", "Custodian store, format 3\nDo not edit or delete this file.\n");
  const auto before = testing::SnapshotDirectory(dir);

  EventLogOptions options;
  Result<std::unique_ptr<EventLog>> refused = EventLog::Open(dir, options);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kUnsupported);
  CHECK(Contains(refused.status().message(), "newer"));
  CHECK(Contains(refused.status().message(), "format 3"));

  options.mode = EventLogOptions::Mode::kReadOnly;
  refused = EventLog::Open(dir, options);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kUnsupported);

  CHECK(testing::SnapshotDirectory(dir) == before);
}

// Store format 2 may hold record version 2, which a build before it cannot
// read: a read-write open raises a format-1 store's meta["format"], so such
// a build refuses the store at open (its check) rather than at some record.
TEST_CASE("A read-write open raises a format-1 store to format 2, a read-only open leaves it", "[event_log][open]") {
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("store");
  testing::FixedClock clock(kTestNow);
  WriteStoreOfOneEvent(dir, clock);
  const std::string format1("\0\0\0\0\0\0\0\1", 8), format2("\0\0\0\0\0\0\0\2", 8);
  {
    testing::RawStore raw(dir);
    CHECK(raw.Get("meta", "format") == format2);  // a new store is format 2
    raw.Put("meta", "format", format1);           // as a build before it wrote it
  }
  EventLogOptions read_only;
  read_only.mode = EventLogOptions::Mode::kReadOnly;
  {
    Result<std::unique_ptr<EventLog>> reader = EventLog::Open(dir, read_only);
    REQUIRE(reader.ok());
    CHECK((*reader)->end() == Position(1));
  }
  {
    testing::RawStore raw(dir);
    CHECK(raw.Get("meta", "format") == format1);
  }
  testing::WriteFile(dir + "/CUSTODIAN", "Custodian store, format 1\nDo not edit or delete this file.\n");
  { auto log = OpenTestLog(dir, &clock); }
  // Raised in both places: a build before format 2 reads the marker first and touches nothing.
  std::string marker;
  std::getline(std::ifstream(dir + "/CUSTODIAN"), marker);
  CHECK(marker == "Custodian store, format 2");
  testing::RawStore raw(dir);
  CHECK(raw.Get("meta", "format") == format2);
}

TEST_CASE("A store whose creation stopped right after its marker was written is created by the next creating open",
          "[event_log][open]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  // What a kill between writing the marker and RocksDB's first files leaves.
  testing::WriteFile(tmp.path() + "/CUSTODIAN", "Custodian store, format 1\nDo not edit or delete this file.\n");
  auto log = OpenTestLog(tmp.path(), &clock);
  CHECK(log->end() == Position(0));
  AppendOne(*log, "customer-1");
  log.reset();
  log = OpenTestLog(tmp.path(), &clock);
  CHECK(log->end() == Position(1));
}

TEST_CASE("Reopening a store sees every event and continues positions and versions densely", "[event_log][open]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  std::vector<Event> appended;
  {
    auto log = OpenTestLog(tmp.path(), &clock);
    for (int i = 0; i < 5; ++i) {
      const std::string stream = i % 2 == 0 ? "customer-1" : "staff-7";
      Event e = MakeEvent(stream);
      appended.push_back(e);
      Result<AppendResult> r = log->Append(stream, {e});
      REQUIRE(r.ok());
    }
  }
  auto log = OpenTestLog(tmp.path(), &clock);
  CHECK(log->end() == Position(5));
  std::vector<Event> all = ReadEverything(*log);
  REQUIRE(all.size() == 5);
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].position == Position(i));
    CHECK(SameContent(all[i], appended[i]));
  }

  AppendResult next = AppendOne(*log, "customer-1", ExpectedVersion::Exactly(StreamVersion(2)));
  CHECK(Values(next.positions) == std::vector<uint64_t>{5});
  CHECK(Values(next.versions) == std::vector<uint64_t>{3});
  AppendResult other = AppendOne(*log, "staff-7");
  CHECK(Values(other.positions) == std::vector<uint64_t>{6});
  CHECK(Values(other.versions) == std::vector<uint64_t>{2});
  CHECK(PositionsOf(ReadEverything(*log)) == std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6});
}

// --- Expected versions ---

TEST_CASE("Append honours the expected version: any, no stream and exactly N", "[event_log][append]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);

  AppendResult first = AppendOne(*log, "customer-1", ExpectedVersion::NoStream());
  CHECK(Values(first.versions) == std::vector<uint64_t>{0});
  AppendResult second = AppendOne(*log, "customer-1", ExpectedVersion::Exactly(StreamVersion(0)));
  CHECK(Values(second.versions) == std::vector<uint64_t>{1});
  AppendResult third = AppendOne(*log, "customer-1", ExpectedVersion::Any());
  CHECK(Values(third.versions) == std::vector<uint64_t>{2});
  CHECK(Values(third.positions) == std::vector<uint64_t>{2});
  CHECK(third.written == 1);
}

TEST_CASE("Append with a stale expected version is rejected, names the current version and writes nothing",
          "[event_log][append]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  for (int i = 0; i < 3; ++i) AppendOne(*log, "customer-1");  // versions 0..2
  const std::vector<Event> stream_before = ReadWholeStream(*log, "customer-1");

  SECTION("exactly an older version") {
    Result<AppendResult> r =
        log->Append("customer-1", {MakeEvent("customer-1")}, ExpectedVersion::Exactly(StreamVersion(1)));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kConflict);
    CHECK(Contains(r.status().message(), "at version 2"));
    CHECK(Contains(r.status().message(), "expected version 1"));
  }
  SECTION("exactly a version not reached yet") {
    Result<AppendResult> r =
        log->Append("customer-1", {MakeEvent("customer-1")}, ExpectedVersion::Exactly(StreamVersion(3)));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kConflict);
    CHECK(Contains(r.status().message(), "at version 2"));
  }
  SECTION("no stream, when it exists") {
    Result<AppendResult> r =
        log->Append("customer-1", {MakeEvent("customer-1"), MakeEvent("customer-1")}, ExpectedVersion::NoStream());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kConflict);
    CHECK(Contains(r.status().message(), "last version is 2"));
  }
  SECTION("exactly a version of a stream that does not exist") {
    Result<AppendResult> r =
        log->Append("customer-2", {MakeEvent("customer-2")}, ExpectedVersion::Exactly(StreamVersion(0)));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kConflict);
    CHECK(Contains(r.status().message(), "does not exist"));
    CHECK(ReadWholeStream(*log, "customer-2").empty());
  }
  CHECK(log->end() == Position(3));
  CHECK(PositionsOf(ReadWholeStream(*log, "customer-1")) == PositionsOf(stream_before));
  CHECK(ReadEverything(*log).size() == 3);
  // The rejection left no trace that a later append could trip over.
  AppendResult next = AppendOne(*log, "customer-1", ExpectedVersion::Exactly(StreamVersion(2)));
  CHECK(Values(next.positions) == std::vector<uint64_t>{3});
  CHECK(Values(next.versions) == std::vector<uint64_t>{3});
}

TEST_CASE("An AppendBatch with one stale request writes nothing of any request", "[event_log][append]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  AppendOne(*log, "customer-1");
  AppendOne(*log, "customer-2");

  std::vector<AppendRequest> requests(3);
  requests[0] = {"customer-1", ExpectedVersion::Exactly(StreamVersion(0)), {MakeEvent("customer-1")}};
  requests[1] = {"customer-3", ExpectedVersion::NoStream(), {MakeEvent("customer-3"), MakeEvent("customer-3")}};
  requests[2] = {"customer-2", ExpectedVersion::Exactly(StreamVersion(5)), {MakeEvent("customer-2")}};
  std::vector<AppendRequest> retry = requests;
  Result<std::vector<AppendResult>> r = log->AppendBatch(std::move(requests));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kConflict);
  CHECK(log->end() == Position(2));
  CHECK(ReadWholeStream(*log, "customer-1").size() == 1);
  CHECK(ReadWholeStream(*log, "customer-3").empty());
  CHECK(ReadWholeStream(*log, "customer-2").size() == 1);

  // The same batch with a correct expected version lands whole.
  retry[2].expected = ExpectedVersion::Exactly(StreamVersion(0));
  Result<std::vector<AppendResult>> ok = log->AppendBatch(std::move(retry));
  INFO(ok.status().ToString());
  REQUIRE(ok.ok());
  REQUIRE(ok->size() == 3);
  CHECK(Values((*ok)[0].positions) == std::vector<uint64_t>{2});
  CHECK(Values((*ok)[1].positions) == std::vector<uint64_t>{3, 4});
  CHECK(Values((*ok)[1].versions) == std::vector<uint64_t>{0, 1});
  CHECK(Values((*ok)[2].positions) == std::vector<uint64_t>{5});
  CHECK(log->end() == Position(6));
}

TEST_CASE("An AppendBatch may append to one stream twice, the second request seeing the first", "[event_log][append]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  std::vector<AppendRequest> requests(2);
  requests[0] = {"customer-1", ExpectedVersion::NoStream(), {MakeEvent("customer-1")}};
  requests[1] = {"customer-1", ExpectedVersion::Exactly(StreamVersion(0)), {MakeEvent("customer-1")}};
  Result<std::vector<AppendResult>> r = log->AppendBatch(std::move(requests));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(Values((*r)[1].versions) == std::vector<uint64_t>{1});
  CHECK(VersionsOf(ReadWholeStream(*log, "customer-1")) == std::vector<uint64_t>{0, 1});
}

// Holds the writer thread inside a round, so that writes queued meanwhile
// are staged together in the next one: Start appends to customer-9, whose
// rule hook waits until Release.
class WriterHold {
 public:
  EventLogOptions options() const {
    EventLogOptions options;
    options.rules = [released = released_](const Event& e, RuleState&) {
      if (e.stream == "customer-9") released.wait();
      return Status::Ok();
    };
    return options;
  }
  std::future<Result<std::vector<AppendResult>>> Start(EventLog& log) {
    return log.AppendBatchAsync({{"customer-9", ExpectedVersion::Any(), {MakeEvent("customer-9")}}});
  }
  void Release() { release_.set_value(); }

 private:
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
};

// A log whose writer a WriterHold can hold, so that the writes queued
// meanwhile are staged in one round.
struct HeldWriterLog {
  testing::TempDir tmp;
  testing::FixedClock clock{kTestNow};
  WriterHold hold;
  std::unique_ptr<EventLog> log = OpenTestLog(tmp.path(), &clock, hold.options());
};

TEST_CASE_METHOD(HeldWriterLog,
                 "A rejected write leaves no trace in its group commit: the next write in the same round sees the "
                 "stream as it was",
                 "[event_log][append]") {
  AppendOne(*log, "customer-1");  // version 0

  auto blocker = hold.Start(*log);
  // Stages customer-1 (as version 1), then fails on its stale second request.
  std::vector<AppendRequest> stale(2);
  stale[0] = {"customer-1", ExpectedVersion::Any(), {MakeEvent("customer-1")}};
  stale[1] = {"customer-2", ExpectedVersion::Exactly(StreamVersion(5)), {MakeEvent("customer-2")}};
  auto rejected = log->AppendBatchAsync(std::move(stale));
  auto next = log->AppendBatchAsync(
      {{"customer-1", ExpectedVersion::Exactly(StreamVersion(0)), {MakeEvent("customer-1")}}});
  // Both are queued (AppendBatchAsync queues before it returns). However the
  // writer grouped the three, the rejected write shares a round with an
  // accepted one, so a version it left behind would reach the next write,
  // through the round or through the writer's memory after the commit.
  hold.Release();

  REQUIRE(blocker.get().ok());
  Result<std::vector<AppendResult>> r = rejected.get();
  CHECK(r.status().code() == StatusCode::kConflict);
  Result<std::vector<AppendResult>> n = next.get();
  INFO(n.status().ToString());
  REQUIRE(n.ok());
  CHECK(Values((*n)[0].versions) == std::vector<uint64_t>{1});
  CHECK(VersionsOf(ReadWholeStream(*log, "customer-1")) == std::vector<uint64_t>{0, 1});
  CHECK(ReadWholeStream(*log, "customer-2").empty());
  // And the writer's memory of the stream agrees with the log.
  CHECK(log->Append("customer-1", {MakeEvent("customer-1")}, ExpectedVersion::Exactly(StreamVersion(1))).ok());
}

TEST_CASE_METHOD(HeldWriterLog,
                 "Appends completed in one group commit each get their own outcome, whether they wait on the log or "
                 "on a future",
                 "[event_log][append]") {
  AppendOne(*log, "customer-1");  // version 0

  auto blocker = hold.Start(*log);
  // While the writer is held, synchronous appenders (one of them stale) and
  // asynchronous ones queue up, to be completed together.
  constexpr int kThreads = 8;
  std::vector<Result<AppendResult>> sync_results(kThreads, Status::FailedPrecondition("not run"));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string stream = "customer-" + std::to_string(100 + t);
      const ExpectedVersion expected = t == 3 ? ExpectedVersion::Exactly(StreamVersion(7)) : ExpectedVersion::NoStream();
      std::vector<Event> events;
      for (int i = 0; i <= t % 3; ++i) events.push_back(MakeEvent(stream));
      sync_results[t] = log->Append(stream, std::move(events), expected);
    });
  }
  auto async_ok = log->AppendBatchAsync({{"customer-1", ExpectedVersion::Exactly(StreamVersion(0)), {MakeEvent("customer-1")}}});
  auto async_stale = log->AppendBatchAsync({{"customer-1", ExpectedVersion::Exactly(StreamVersion(0)), {MakeEvent("customer-1")}}});
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the threads queue; the checks hold however they group
  hold.Release();
  for (std::thread& t : threads) t.join();

  REQUIRE(blocker.get().ok());
  for (int t = 0; t < kThreads; ++t) {
    INFO("appender " << t << ": " << sync_results[t].status().ToString());
    if (t == 3) {
      CHECK(sync_results[t].status().code() == StatusCode::kConflict);
      CHECK(ReadWholeStream(*log, "customer-103").empty());
      continue;
    }
    REQUIRE(sync_results[t].ok());
    const std::string stream = "customer-" + std::to_string(100 + t);
    const std::vector<Event> stored = ReadWholeStream(*log, stream);
    REQUIRE(stored.size() == static_cast<size_t>(t % 3 + 1));
    CHECK(sync_results[t]->written == stored.size());
    std::vector<uint64_t> positions;
    for (const Event& e : stored) positions.push_back(e.position.value());
    CHECK(Values(sync_results[t]->positions) == positions);  // its own events, not another appender's
    CHECK(Values(sync_results[t]->versions) == VersionsOf(stored));
  }
  Result<std::vector<AppendResult>> ok = async_ok.get();
  REQUIRE(ok.ok());
  CHECK(Values((*ok)[0].versions) == std::vector<uint64_t>{1});
  CHECK(async_stale.get().status().code() == StatusCode::kConflict);
}

TEST_CASE_METHOD(HeldWriterLog,
                 "AppendBatchThen hands each write its own outcome once its group commit is durable, and a write "
                 "refused before queueing at once on the caller's thread",
                 "[event_log][append]") {
  AppendOne(*log, "customer-1");  // version 0
  auto blocker = hold.Start(*log);
  struct Outcome {
    std::promise<Result<std::vector<AppendResult>>> result;
    std::promise<std::thread::id> thread;
  };
  auto then = [](Outcome& o) {
    return [&o](Result<std::vector<AppendResult>> r) {
      o.thread.set_value(std::this_thread::get_id());
      o.result.set_value(std::move(r));
    };
  };
  Outcome ok, stale, invalid;
  log->AppendBatchThen({{"customer-1", ExpectedVersion::Exactly(StreamVersion(0)), {MakeEvent("customer-1")}}},
                       then(ok));
  log->AppendBatchThen({{"customer-1", ExpectedVersion::Exactly(StreamVersion(0)), {MakeEvent("customer-1")}}},
                       then(stale));
  // Not a valid stream name: refused before it is queued, so answered now.
  log->AppendBatchThen({{"bad stream", ExpectedVersion::Any(), {MakeEvent("bad stream")}}}, then(invalid));
  auto invalid_thread = invalid.thread.get_future();
  REQUIRE(invalid_thread.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  CHECK(invalid_thread.get() == std::this_thread::get_id());
  CHECK(invalid.result.get_future().get().status().code() == StatusCode::kInvalidArgument);

  // The held writer has completed nothing yet.
  auto ok_result = ok.result.get_future();
  CHECK(ok_result.wait_for(std::chrono::milliseconds(50)) == std::future_status::timeout);
  hold.Release();
  REQUIRE(blocker.get().ok());
  Result<std::vector<AppendResult>> r = ok_result.get();
  REQUIRE(r.ok());
  CHECK(Values((*r)[0].versions) == std::vector<uint64_t>{1});
  CHECK(ok.thread.get_future().get() != std::this_thread::get_id());
  CHECK(stale.result.get_future().get().status().code() == StatusCode::kConflict);
  // What the callback was told is what the log holds.
  const std::vector<Event> stored = ReadWholeStream(*log, "customer-1");
  REQUIRE(stored.size() == 2);
  CHECK(stored[1].position == (*r)[0].positions[0]);
}

TEST_CASE_METHOD(HeldWriterLog,
                 "An id repeated by another write of the same group commit is the same event only with the same "
                 "content",
                 "[event_log][append]") {
  auto blocker = hold.Start(*log);
  // Queued while the writer is held: staged together in its next round.
  const Event x = MakeEvent("customer-5");
  Event other = x;
  other.data = R"({"text":"not what was first sent"})";
  auto first = log->AppendBatchAsync({{"customer-5", ExpectedVersion::Any(), {x}}});
  auto changed = log->AppendBatchAsync({{"customer-5", ExpectedVersion::Any(), {other}}});
  auto again = log->AppendBatchAsync({{"customer-5", ExpectedVersion::Any(), {x}}});
  hold.Release();

  REQUIRE(blocker.get().ok());
  Result<std::vector<AppendResult>> a = first.get();
  INFO(a.status().ToString());
  REQUIRE(a.ok());
  CHECK((*a)[0].written == 1);
  Result<std::vector<AppendResult>> b = changed.get();
  CHECK(b.status().code() == StatusCode::kConflict);
  Result<std::vector<AppendResult>> c = again.get();
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  CHECK((*c)[0].written == 0);
  CHECK((*c)[0].positions == (*a)[0].positions);
  const std::vector<Event> stored = ReadWholeStream(*log, "customer-5");
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].data == x.data);
}

TEST_CASE("The rules find an event accepted in another write of the same group commit, as the writer staged it",
          "[event_log][append][rules]") {
  testing::TempDir tmp;
  testing::FixedClock clock{kTestNow};
  WriterHold hold;
  const Event first = MakeEvent("customer-5");
  std::promise<std::string> seen;  // what the rules found for `first`, asked from a later write
  EventLogOptions options = hold.options();
  options.rules = [held = hold.options().rules, &first, &seen](const Event& e, RuleState& state) -> Status {
    CUSTODIAN_RETURN_IF_ERROR(held(e, state));
    if (e.stream != "customer-6") return Status::Ok();
    Result<std::optional<Event>> found = state.FindEvent(first.id);
    if (!found.ok()) return found.status();
    seen.set_value(*found ? (*found)->stream + " " + (*found)->data : "not found");
    return Status::Ok();
  };
  std::unique_ptr<EventLog> log = OpenTestLog(tmp.path(), &clock, options);
  auto blocker = hold.Start(*log);
  // Queued while the writer is held: staged together in its next round, as two writes.
  auto a = log->AppendBatchAsync({{"customer-5", ExpectedVersion::Any(), {first}}});
  auto b = log->AppendBatchAsync({{"customer-6", ExpectedVersion::Any(), {MakeEvent("customer-6")}}});
  hold.Release();
  REQUIRE(blocker.get().ok());
  REQUIRE(a.get().ok());
  REQUIRE(b.get().ok());
  CHECK(seen.get_future().get() == "customer-5 " + first.data);
}

// --- Idempotency ---

TEST_CASE("Appending an event again with the same id and content returns its original position and writes nothing",
          "[event_log][idempotency]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  AppendOne(*log, "customer-1");
  const Event e = MakeEvent("customer-1");
  Result<AppendResult> original = log->Append("customer-1", {e});
  REQUIRE(original.ok());
  AppendOne(*log, "customer-1");
  AppendOne(*log, "customer-2");

  for (int round = 0; round < 2; ++round) {
    Result<AppendResult> again = log->Append("customer-1", {e});
    INFO(again.status().ToString());
    REQUIRE(again.ok());
    CHECK(again->written == 0);
    CHECK(Values(again->positions) == std::vector<uint64_t>{1});
    CHECK(Values(again->versions) == std::vector<uint64_t>{1});
    CHECK(log->end() == Position(4));
    CHECK(ReadWholeStream(*log, "customer-1").size() == 3);
    // Also after the writer's memory of recent streams is gone.
    log.reset();
    log = OpenTestLog(tmp.path(), &clock);
  }
}

TEST_CASE("Reusing an event id with other content is a Conflict and writes nothing", "[event_log][idempotency]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  Event e = MakeEvent("customer-1");
  REQUIRE(log->Append("customer-1", {e}).ok());

  Event changed = e;
  changed.data = R"({"text":"something else"})";
  Result<AppendResult> r = log->Append("customer-1", {changed});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kConflict);
  CHECK(Contains(r.status().message(), e.id.ToString()));
  CHECK(Contains(r.status().message(), "position 0"));

  // In another stream, and alongside a new event: still a conflict, nothing written.
  Event moved = e;
  moved.stream = "customer-2";
  r = log->Append("customer-2", {MakeEvent("customer-2"), moved});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kConflict);
  CHECK(log->end() == Position(1));
  CHECK(ReadWholeStream(*log, "customer-2").empty());
  CHECK(ReadEverything(*log)[0].data == e.data);
}

TEST_CASE("A batch that repeats an event id is InvalidArgument and writes nothing", "[event_log][idempotency]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  const Event e = MakeEvent("customer-1");

  SECTION("within one append") {
    Result<AppendResult> r = log->Append("customer-1", {e, MakeEvent("customer-1"), e});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(Contains(r.status().message(), e.id.ToString()));
  }
  SECTION("across the requests of one AppendBatch") {
    Event other_stream = e;
    other_stream.stream = "customer-2";
    std::vector<AppendRequest> requests(2);
    requests[0] = {"customer-1", ExpectedVersion::Any(), {e}};
    requests[1] = {"customer-2", ExpectedVersion::Any(), {other_stream}};
    Result<std::vector<AppendResult>> r = log->AppendBatch(std::move(requests));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
  }
  CHECK(log->end() == Position(0));
  CHECK(ReadEverything(*log).empty());
  // The id was not taken: it can still be appended.
  Result<AppendResult> later = log->Append("customer-1", {e});
  REQUIRE(later.ok());
  CHECK(later->written == 1);
}

TEST_CASE("Retrying a whole batch with its expected version returns the original positions",
          "[event_log][idempotency]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  AppendOne(*log, "customer-9");
  const std::vector<Event> batch = {MakeEvent("customer-1"), MakeEvent("customer-1")};
  Result<AppendResult> first = log->Append("customer-1", batch, ExpectedVersion::NoStream());
  REQUIRE(first.ok());
  CHECK(Values(first->positions) == std::vector<uint64_t>{1, 2});
  AppendOne(*log, "customer-1");  // the stream moved on to version 2

  Result<AppendResult> retry = log->Append("customer-1", batch, ExpectedVersion::NoStream());
  INFO(retry.status().ToString());
  REQUIRE(retry.ok());
  CHECK(Values(retry->positions) == std::vector<uint64_t>{1, 2});
  CHECK(Values(retry->versions) == std::vector<uint64_t>{0, 1});
  CHECK(retry->written == 0);
  CHECK(log->end() == Position(4));

  // Half of the batch with a new event is not a retry: the expected version is checked.
  Result<AppendResult> mixed =
      log->Append("customer-1", {batch[0], MakeEvent("customer-1")}, ExpectedVersion::NoStream());
  REQUIRE_FALSE(mixed.ok());
  CHECK(mixed.status().code() == StatusCode::kConflict);
  CHECK(log->end() == Position(4));
}

// --- Validation ---

TEST_CASE("An invalid event is rejected with InvalidArgument and nothing of its batch is written",
          "[event_log][validation]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  Event bad = MakeEvent("customer-1");
  std::string stream = "customer-1";
  SECTION("a stream name that is not one") {
    stream = "Customer 42";
    bad.stream = stream;
  }
  SECTION("a type that is not one") { bad.type = "Interaction"; }
  SECTION("no actor") { bad.actor.clear(); }
  SECTION("the nil id") { bad.id = EventId(); }
  SECTION("data that is not a JSON object") { bad.data = "[1,2"; }
  SECTION("a type that is not in the catalogue") { bad.type = "note.deleted"; }
  SECTION("a payload the catalogue refuses") { bad.data = R"({"txt":"the required text field is misspelt"})"; }
  SECTION("occurred_at an hour after the clock") { bad.occurred_at = Timestamp(kTestNow.value() + 3'600'000'000LL); }
  SECTION("personal data, which cannot be sealed yet") {
    bad.personal.scheme = PersonalSection::Scheme::kAes256Gcm;
    bad.personal.subject = "customer-1";
  }
  Event good = MakeEvent(stream);
  good.stream = stream;
  Result<AppendResult> r = log->Append(stream, {good, bad});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  if (stream == "customer-1") CHECK(Contains(r.status().message(), "event #2"));
  CHECK(log->end() == Position(0));
  CHECK(ReadEverything(*log).empty());
  CHECK(ReadWholeStream(*log, stream).empty());
}

TEST_CASE("An event naming another stream than its request is rejected", "[event_log][validation]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  Result<AppendResult> r = log->Append("customer-1", {MakeEvent("customer-1"), MakeEvent("customer-2")});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(Contains(r.status().message(), "customer-2"));
  CHECK(log->end() == Position(0));
  CHECK(ReadWholeStream(*log, "customer-1").empty());
  CHECK(ReadWholeStream(*log, "customer-2").empty());
}

// --- recorded_at ---

TEST_CASE("recorded_at comes from the log's clock and never decreases when the clock goes back", "[event_log][time]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  AppendOne(*log, "customer-1");
  clock.Advance(10'000'000);
  AppendOne(*log, "customer-1");
  clock.Set(Timestamp(kTestNow.value() - 3'600'000'000LL));  // an hour back
  AppendOne(*log, "customer-2");
  clock.Set(Timestamp(kTestNow.value() + 20'000'000));
  AppendOne(*log, "customer-2");

  std::vector<Event> all = ReadEverything(*log);
  REQUIRE(all.size() == 4);
  CHECK(all[0].recorded_at == kTestNow);
  CHECK(all[1].recorded_at == Timestamp(kTestNow.value() + 10'000'000));
  CHECK(all[2].recorded_at == Timestamp(kTestNow.value() + 10'000'000));
  CHECK(all[3].recorded_at == Timestamp(kTestNow.value() + 20'000'000));

  // The floor survives a reopen, which learns it from the last event.
  log.reset();
  clock.Set(kTestNow);
  log = OpenTestLog(tmp.path(), &clock);
  AppendOne(*log, "customer-3");
  CHECK(ReadEverything(*log)[4].recorded_at == Timestamp(kTestNow.value() + 20'000'000));
}

// --- Reads ---

TEST_CASE("ReadStream reads forwards and backwards from a version, up to a limit", "[event_log][read]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  std::vector<Event> appended;
  for (int i = 0; i < 6; ++i) {
    Event e = MakeEvent("customer-1", "note.added", R"({"text":"note )" + std::to_string(i) + R"("})");
    appended.push_back(e);
    REQUIRE(log->Append("customer-1", {e}).ok());
    AppendOne(*log, "customer-2");  // interleaved, so versions and positions differ
  }
  auto read = [&](uint64_t from, Direction d, size_t limit) {
    Result<std::vector<Event>> r = log->ReadStream("customer-1", StreamVersion(from), d, limit);
    REQUIRE(r.ok());
    return *r;
  };
  std::vector<Event> forward = read(2, Direction::kForward, 3);
  CHECK(VersionsOf(forward) == std::vector<uint64_t>{2, 3, 4});
  CHECK(PositionsOf(forward) == std::vector<uint64_t>{4, 6, 8});
  CHECK(SameContent(forward[0], appended[2]));
  CHECK(SameContent(forward[2], appended[4]));
  CHECK(VersionsOf(read(4, Direction::kForward, 100)) == std::vector<uint64_t>{4, 5});
  CHECK(VersionsOf(read(3, Direction::kBackward, 2)) == std::vector<uint64_t>{3, 2});
  CHECK(VersionsOf(read(1, Direction::kBackward, 100)) == std::vector<uint64_t>{1, 0});
  CHECK(VersionsOf(read(UINT64_MAX, Direction::kBackward, 2)) == std::vector<uint64_t>{5, 4});
  CHECK(read(6, Direction::kForward, 10).empty());
  CHECK(read(0, Direction::kForward, 0).empty());
  CHECK(ReadWholeStream(*log, "customer-77").empty());
  for (const Event& e : read(0, Direction::kForward, 100)) CHECK(e.stream == "customer-1");
}

TEST_CASE("ReadAll reads from a position, in log order, up to a limit", "[event_log][read]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  std::vector<Event> appended;
  for (int i = 0; i < 10; ++i) {
    Event e = MakeEvent(i % 3 == 0 ? "staff-1" : "customer-1");
    appended.push_back(e);
    REQUIRE(log->Append(e.stream, {e}).ok());
  }
  Result<std::vector<Event>> some = log->ReadAll(Position(3), 4);
  REQUIRE(some.ok());
  CHECK(PositionsOf(*some) == std::vector<uint64_t>{3, 4, 5, 6});
  for (size_t i = 0; i < some->size(); ++i) CHECK(SameContent((*some)[i], appended[3 + i]));
  Result<std::vector<Event>> tail = log->ReadAll(Position(8), 100);
  REQUIRE(tail.ok());
  CHECK(PositionsOf(*tail) == std::vector<uint64_t>{8, 9});
  Result<std::vector<Event>> past = log->ReadAll(Position(10), 100);
  REQUIRE(past.ok());
  CHECK(past->empty());
  Result<std::vector<Event>> none = log->ReadAll(Position(0), 0);
  REQUIRE(none.ok());
  CHECK(none->empty());

  std::vector<uint64_t> scanned;
  Status s = log->ScanAll(Position(5), [&](const Event& e) {
    scanned.push_back(e.position.value());
    return scanned.size() < 3;
  });
  REQUIRE(s.ok());
  CHECK(scanned == std::vector<uint64_t>{5, 6, 7});
}

TEST_CASE("GetStreamInfo reports a stream's count, last version, positions and times", "[event_log][read]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  AppendOne(*log, "customer-2");
  Event first = MakeEvent("customer-1");
  first.occurred_at = Timestamp(kTestNow.value() - 7'000'000);
  REQUIRE(log->Append("customer-1", {first}).ok());
  clock.Advance(5'000'000);
  AppendOne(*log, "customer-2");
  Event last = MakeEvent("customer-1");
  last.occurred_at = Timestamp(kTestNow.value() - 2'000'000);
  REQUIRE(log->Append("customer-1", {MakeEvent("customer-1"), last}).ok());

  Result<StreamInfo> info = log->GetStreamInfo("customer-1");
  INFO(info.status().ToString());
  REQUIRE(info.ok());
  CHECK(info->stream == "customer-1");
  CHECK(info->event_count == 3);
  CHECK(info->last_version == StreamVersion(2));
  CHECK(info->first_position == Position(1));
  CHECK(info->last_position == Position(4));
  CHECK(info->first_recorded_at == kTestNow);
  CHECK(info->last_recorded_at == Timestamp(kTestNow.value() + 5'000'000));
  CHECK(info->first_occurred_at == first.occurred_at);
  CHECK(info->last_occurred_at == last.occurred_at);

  Result<StreamInfo> missing = log->GetStreamInfo("customer-3");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
}

TEST_CASE("Stats counts events and streams and measures the store on disk", "[event_log][read]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  Result<LogStats> empty = log->Stats();
  REQUIRE(empty.ok());
  CHECK(empty->event_count == 0);
  CHECK(empty->stream_count == 0);

  AppendOne(*log, "customer-1");
  clock.Advance(1'000'000);
  std::vector<AppendRequest> requests(2);
  requests[0] = {"customer-1", ExpectedVersion::Any(), {MakeEvent("customer-1")}};
  requests[1] = {"customer-2", ExpectedVersion::Any(), {MakeEvent("customer-2"), MakeEvent("customer-2")}};
  REQUIRE(log->AppendBatch(std::move(requests)).ok());
  AppendOne(*log, "staff-7");

  Result<LogStats> stats = log->Stats();
  REQUIRE(stats.ok());
  CHECK(stats->event_count == 5);
  CHECK(stats->stream_count == 3);
  CHECK(stats->first_recorded_at == kTestNow);
  CHECK(stats->last_recorded_at == Timestamp(kTestNow.value() + 1'000'000));
  CHECK(stats->disk_bytes > 0);

  log.reset();
  log = OpenTestLog(tmp.path(), &clock);
  AppendOne(*log, "staff-7");
  AppendOne(*log, "staff-8");
  stats = log->Stats();
  REQUIRE(stats.ok());
  CHECK(stats->event_count == 7);
  CHECK(stats->stream_count == 4);
}

TEST_CASE("Streams whose names share a prefix never mix", "[event_log][read]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  AppendOne(*log, "customer-42", ExpectedVersion::NoStream());
  AppendOne(*log, "customer-42");
  AppendOne(*log, "customer-40", ExpectedVersion::NoStream());
  // Reopen so the writer must find each stream's head on disk.
  log.reset();
  log = OpenTestLog(tmp.path(), &clock);
  AppendOne(*log, "customer-4", ExpectedVersion::NoStream());
  AppendOne(*log, "customer-42", ExpectedVersion::Exactly(StreamVersion(1)));
  AppendOne(*log, "customer-4", ExpectedVersion::Exactly(StreamVersion(0)));
  AppendOne(*log, "customer-4");

  const std::vector<Event> four = ReadWholeStream(*log, "customer-4");
  CHECK(PositionsOf(four) == std::vector<uint64_t>{3, 5, 6});
  CHECK(VersionsOf(four) == std::vector<uint64_t>{0, 1, 2});
  for (const Event& e : four) CHECK(e.stream == "customer-4");
  const std::vector<Event> forty_two = ReadWholeStream(*log, "customer-42");
  CHECK(PositionsOf(forty_two) == std::vector<uint64_t>{0, 1, 4});
  CHECK(VersionsOf(forty_two) == std::vector<uint64_t>{0, 1, 2});

  Result<std::vector<Event>> back = log->ReadStream("customer-4", StreamVersion(UINT64_MAX), Direction::kBackward, 10);
  REQUIRE(back.ok());
  CHECK(PositionsOf(*back) == std::vector<uint64_t>{6, 5, 3});
  Result<StreamInfo> info = log->GetStreamInfo("customer-4");
  REQUIRE(info.ok());
  CHECK(info->event_count == 3);
  CHECK(info->last_position == Position(6));
  Result<StreamInfo> forty = log->GetStreamInfo("customer-40");
  REQUIRE(forty.ok());
  CHECK(forty->event_count == 1);
  // A stream that is only a prefix of others has no events.
  CHECK(log->GetStreamInfo("customer-").status().code() == StatusCode::kNotFound);
  CHECK(ReadWholeStream(*log, "customer-420").empty());
}

// --- Modes ---

TEST_CASE("A read-only log sees stored events, sees new ones after CatchUp and refuses appends", "[event_log][modes]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto writer = OpenTestLog(tmp.path(), &clock);
  AppendOne(*writer, "customer-1");
  AppendOne(*writer, "customer-2");

  EventLogOptions options;
  options.mode = EventLogOptions::Mode::kReadOnly;
  options.clock = &clock;
  Result<std::unique_ptr<EventLog>> opened = EventLog::Open(tmp.path(), options);
  INFO(opened.status().ToString());
  REQUIRE(opened.ok());
  EventLog& reader = **opened;
  CHECK(reader.read_only());
  CHECK(reader.end() == Position(2));
  CHECK(ReadEverything(reader).size() == 2);

  AppendOne(*writer, "customer-1");
  AppendOne(*writer, "customer-3");
  REQUIRE(reader.CatchUp().ok());
  CHECK(reader.end() == Position(4));
  CHECK(PositionsOf(ReadEverything(reader)) == std::vector<uint64_t>{0, 1, 2, 3});
  CHECK(VersionsOf(ReadWholeStream(reader, "customer-1")) == std::vector<uint64_t>{0, 1});
  Result<StreamInfo> info = reader.GetStreamInfo("customer-3");
  REQUIRE(info.ok());
  CHECK(info->last_position == Position(3));

  Result<AppendResult> refused = reader.Append("customer-1", {MakeEvent("customer-1")});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
  CHECK(Contains(refused.status().message(), "read-only"));
  CHECK(writer->end() == Position(4));
}

TEST_CASE("A read-only open of a missing store is refused as not found", "[event_log][modes]") {
  testing::TempDir tmp;
  EventLogOptions options;
  options.mode = EventLogOptions::Mode::kReadOnly;
  options.create = CreateIfMissing::kYes;  // a reader never creates
  Result<std::unique_ptr<EventLog>> refused = EventLog::Open(tmp.Sub("store"), options);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kNotFound);
  CHECK_FALSE(fs::exists(tmp.Sub("store")));
}

TEST_CASE("A second read-write open of a store in use is refused, saying it is in use", "[event_log][modes]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto first = OpenTestLog(tmp.path(), &clock);
  AppendOne(*first, "customer-1");

  EventLogOptions options;
  options.clock = &clock;
  Result<std::unique_ptr<EventLog>> second = EventLog::Open(tmp.path(), options);
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == StatusCode::kUnavailable);
  CHECK(Contains(second.status().message(), "another process holds the store at " + tmp.path() + " read-write"));

  // The first is unharmed and the store opens again once it is closed.
  AppendOne(*first, "customer-1");
  first.reset();
  auto again = OpenTestLog(tmp.path(), &clock);
  CHECK(again->end() == Position(2));
}


// --- The id index behind the log (storage/id_index.h) ---

TEST_CASE("Ids spilled to the ids family, held in memory or rebuilt on open all keep appends idempotent",
          "[event_log][idempotency]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  EventLogOptions options;
  options.id_spill_at = 16;  // many spills as ingested table files
  auto log = OpenTestLog(tmp.path(), &clock, options);
  std::vector<Event> events;
  for (int batch = 0; batch < 25; ++batch) {
    std::vector<AppendRequest> requests;
    for (int i = 0; i < 1 + batch % 7; ++i) {
      const std::string stream = "customer-" + std::to_string((batch + i) % 5);
      requests.push_back({stream, ExpectedVersion::Any(), {MakeEvent(stream)}});
      events.push_back(requests.back().events.back());
    }
    REQUIRE(log->AppendBatch(std::move(requests)).ok());
  }
  REQUIRE(events.size() > 64);
  auto check = [&](EventLog& l, const std::string& when) {
    INFO(when);
    for (size_t p : {size_t{0}, size_t{17}, events.size() / 2, events.size() - 1}) {
      INFO("event at position " << p);
      Result<bool> has = l.Contains(events[p].id);
      REQUIRE(has.ok());
      CHECK(*has);
      Result<AppendResult> again = l.Append(events[p].stream, {events[p]});
      REQUIRE(again.ok());
      CHECK(again->written == 0);
      CHECK(again->positions == std::vector<Position>{Position(p)});
      Event changed = events[p];
      changed.data = R"({"text":"something else"})";
      Result<AppendResult> conflict = l.Append(changed.stream, {changed});
      REQUIRE_FALSE(conflict.ok());
      CHECK(conflict.status().code() == StatusCode::kConflict);
      CHECK(Contains(conflict.status().message(), "position " + std::to_string(p)));
    }
    Result<bool> unknown = l.Contains(MakeEvent("customer-1").id);
    REQUIRE(unknown.ok());
    CHECK_FALSE(*unknown);
    CHECK(l.end() == Position(events.size()));
    Result<VerifyReport> report = l.Verify();
    REQUIRE(report.ok());
    INFO(report->problem);
    CHECK(report->ok);
  };
  check(*log, "while open");
  log.reset();
  {
    // Closing wrote everything: the watermark covers the whole log.
    testing::RawStore raw(tmp.path());
    uint64_t indexed_to = 0;
    REQUIRE(keys::DecodeU64(raw.Get(keys::kMetaFamily, keys::kMetaIdsIndexedToKey), &indexed_to));
    CHECK(indexed_to == events.size());
    CHECK(raw.Keys(keys::kIdsFamily).size() == events.size());
  }
  log = OpenTestLog(tmp.path(), &clock, options);
  check(*log, "after a reopen");
  log.reset();
  {
    // As after a crash: the family behind by 40 events, which the open rebuilds from the events.
    testing::RawStore raw(tmp.path());
    for (size_t p = events.size() - 40; p < events.size(); ++p) raw.Delete(keys::kIdsFamily, keys::IdKey(events[p].id));
    raw.Put(keys::kMetaFamily, keys::kMetaIdsIndexedToKey, keys::EncodeU64(events.size() - 40));
  }
  log = OpenTestLog(tmp.path(), &clock, options);
  check(*log, "after the family fell behind");
  EventLogOptions read_only;
  read_only.mode = EventLogOptions::Mode::kReadOnly;
  Result<std::unique_ptr<EventLog>> reader = EventLog::Open(tmp.path(), read_only);
  REQUIRE(reader.ok());
  for (const Event& e : events) {
    Result<bool> has = (*reader)->Contains(e.id);
    REQUIRE(has.ok());
    CHECK(*has);
  }
}

TEST_CASE("Verify names a rollback that kept the id index's watermark", "[event_log][tamper]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  std::vector<Event> events;
  {
    auto log = OpenTestLog(tmp.path(), &clock);
    for (int i = 0; i < 10; ++i) events.push_back(MakeEvent("customer-1"));
    REQUIRE(log->Append("customer-1", events).ok());
  }
  {
    testing::RawStore raw(tmp.path());
    const Event last = events.back();
    raw.Delete(keys::kEventsFamily, keys::EventKey(Position(9)));
    raw.Delete(keys::kStreamsFamily, keys::StreamKey("customer-1", StreamVersion(9)));
    raw.Delete(keys::kIdsFamily, keys::IdKey(last.id));
    raw.TruncateTree(9);
  }
  auto log = OpenTestLog(tmp.path(), &clock);
  Result<VerifyReport> report = log->Verify();
  REQUIRE(report.ok());
  INFO(report->problem);
  CHECK_FALSE(report->ok);
  CHECK(Contains(report->problem, "the id index holds the ids of 10 events but the log holds 9"));
}


TEST_CASE("The same event sent by several threads at once is written once, and all get its position",
          "[event_log][idempotency]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  EventLogOptions options;
  options.id_spill_at = 8;  // spills finish while lookups made by callers are in flight
  auto log = OpenTestLog(tmp.path(), &clock, options);
  constexpr int kEvents = 200, kThreads = 4;
  std::vector<Event> events;
  for (int i = 0; i < kEvents; ++i) events.push_back(MakeEvent("customer-" + std::to_string(i % 7)));
  std::vector<std::vector<Position>> got(kThreads, std::vector<Position>(kEvents));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEvents; ++i) {
        Result<AppendResult> r = log->Append(events[i].stream, {events[i]});
        if (!r.ok() || r->positions.size() != 1) {
          ++failures;
          continue;
        }
        got[t][i] = r->positions[0];
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
  CHECK(log->end() == Position(kEvents));  // each written once
  const std::vector<Event> stored = ReadEverything(*log);
  REQUIRE(stored.size() == kEvents);
  for (int i = 0; i < kEvents; ++i) {
    INFO("event " << i);
    for (int t = 0; t < kThreads; ++t) CHECK(got[t][i] == got[0][i]);
    CHECK(stored[got[0][i].value()].id == events[i].id);
  }
}

}  // namespace
}  // namespace custodian
