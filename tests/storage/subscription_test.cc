// Subscriptions are declared in storage/event_log.h.
#include "storage/event_log.h"
// The header under test comes first, to prove it is self-contained.

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "tests/storage/event_log_test_util.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

using std::chrono::milliseconds;
using testing::kTestNow;
using testing::MakeEvent;
using testing::OpenTestLog;

// Long enough that a test waiting this long has failed; never reached when it passes.
constexpr milliseconds kPatience(30'000);

// Reads from `sub` until `count` events arrived or nothing came for kPatience.
std::vector<Event> ReadUntil(Subscription& sub, size_t count, size_t max_events = 512) {
  std::vector<Event> got;
  while (got.size() < count) {
    Result<std::vector<Event>> next = sub.Next(kPatience, max_events);
    INFO(next.status().ToString());
    REQUIRE(next.ok());
    if (next->empty()) break;  // timed out: the caller's size check reports it
    CHECK(next->size() <= max_events);
    got.insert(got.end(), next->begin(), next->end());
  }
  return got;
}

TEST_CASE("A subscription from 0 catches up over stored events, then follows live appends with no gap or duplicate",
          "[subscription]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  constexpr size_t kStored = 300;
  constexpr size_t kLive = 400;
  std::vector<EventId> ids;  // by position
  for (size_t i = 0; i < kStored; i += 3) {
    std::vector<Event> batch = {MakeEvent("customer-1"), MakeEvent("customer-1"), MakeEvent("customer-1")};
    for (const Event& e : batch) ids.push_back(e.id);
    REQUIRE(log->Append("customer-1", batch).ok());
  }

  std::vector<EventId> live_ids(kLive);
  std::promise<Status> writer_done;
  std::thread writer([&] {
    Status status;
    for (size_t i = 0; i < kLive && status.ok(); ++i) {
      const std::string stream = "customer-" + std::to_string(i % 5);
      Event e = MakeEvent(stream);
      live_ids[i] = e.id;
      Result<AppendResult> r = log->Append(stream, {e});
      status = r.status();
      if (r.ok() && r->positions.front() != Position(kStored + i)) {
        status = Status::Corruption("live event " + std::to_string(i) + " got position " +
                                    std::to_string(r->positions.front().value()));
      }
    }
    writer_done.set_value(status);
  });

  auto sub = log->Subscribe(Position(0));
  // Small reads, so the subscriber crosses from stored to live events many times.
  std::vector<Event> got = ReadUntil(*sub, kStored + kLive, 7);
  writer.join();
  Status writer_status = writer_done.get_future().get();
  INFO(writer_status.ToString());
  REQUIRE(writer_status.ok());

  REQUIRE(got.size() == kStored + kLive);
  ids.insert(ids.end(), live_ids.begin(), live_ids.end());
  size_t mismatches = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i].position != Position(i) || got[i].id != ids[i]) ++mismatches;
  }
  CHECK(mismatches == 0);
  CHECK(sub->cursor() == Position(kStored + kLive));
  // Nothing more: a short wait times out empty.
  Result<std::vector<Event>> more = sub->Next(milliseconds(20));
  REQUIRE(more.ok());
  CHECK(more->empty());
}

TEST_CASE("A stream subscription delivers only that stream's events, in order, stored and live", "[subscription]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  for (int i = 0; i < 30; ++i) {
    const std::string stream = i % 3 == 0 ? "customer-4" : "customer-42";
    REQUIRE(log->Append(stream, {MakeEvent(stream)}).ok());
  }
  auto sub = log->Subscribe(Position(0), "customer-4");
  std::vector<Event> stored = ReadUntil(*sub, 10);
  REQUIRE(stored.size() == 10);

  std::thread writer([&] {
    for (int i = 0; i < 60; ++i) {
      const std::string stream = i % 2 == 0 ? "customer-4" : "customer-42";
      if (!log->Append(stream, {MakeEvent(stream)}).ok()) return;
    }
  });
  std::vector<Event> live = ReadUntil(*sub, 30, 4);
  writer.join();
  REQUIRE(live.size() == 30);

  std::vector<Event> all = stored;
  all.insert(all.end(), live.begin(), live.end());
  const std::vector<Event> expected = testing::ReadWholeStream(*log, "customer-4");
  REQUIRE(expected.size() == all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].stream == "customer-4");
    CHECK(all[i].version == StreamVersion(i));
    CHECK(all[i].id == expected[i].id);
    CHECK(all[i].position == expected[i].position);
  }
}

TEST_CASE("A subscription from the middle starts at that position", "[subscription]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  for (int i = 0; i < 20; ++i) {
    const std::string stream = i % 2 == 0 ? "customer-1" : "customer-2";
    REQUIRE(log->Append(stream, {MakeEvent(stream)}).ok());
  }

  auto all = log->Subscribe(Position(13));
  std::vector<Event> got = ReadUntil(*all, 7);
  REQUIRE(got.size() == 7);
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i].position == Position(13 + i));

  // customer-1 holds the even positions; from 13 on that is 14, 16, 18 (versions 7, 8, 9).
  auto one = log->Subscribe(Position(13), "customer-1");
  std::vector<Event> ones = ReadUntil(*one, 3);
  REQUIRE(ones.size() == 3);
  CHECK(ones[0].position == Position(14));
  CHECK(ones[0].version == StreamVersion(7));
  CHECK(ones[2].position == Position(18));

  REQUIRE(log->Append("customer-1", {MakeEvent("customer-1")}).ok());
  std::vector<Event> next = ReadUntil(*one, 1);
  REQUIRE(next.size() == 1);
  CHECK(next[0].position == Position(20));
  CHECK(next[0].version == StreamVersion(10));

  // A subscription past the end waits for the events that will get those positions.
  auto ahead = log->Subscribe(Position(22));
  REQUIRE(log->Append("customer-2", {MakeEvent("customer-2"), MakeEvent("customer-2")}).ok());
  std::vector<Event> later = ReadUntil(*ahead, 1);
  REQUIRE(later.size() == 1);
  CHECK(later[0].position == Position(22));
}

TEST_CASE("A stream subscription for a stream with no events yet delivers its first event", "[subscription]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  REQUIRE(log->Append("customer-2", {MakeEvent("customer-2")}).ok());
  auto sub = log->Subscribe(Position(0), "customer-1");
  Result<std::vector<Event>> none = sub->Next(milliseconds(10));
  REQUIRE(none.ok());
  CHECK(none->empty());
  REQUIRE(log->Append("customer-1", {MakeEvent("customer-1")}).ok());
  std::vector<Event> got = ReadUntil(*sub, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].stream == "customer-1");
  CHECK(got[0].position == Position(1));
}

TEST_CASE("Next times out empty when nothing arrives, and the cursor stays put", "[subscription]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  REQUIRE(log->Append("customer-1", {MakeEvent("customer-1")}).ok());
  auto sub = log->Subscribe(Position(0));
  REQUIRE(ReadUntil(*sub, 1).size() == 1);

  Result<std::vector<Event>> empty = sub->Next(milliseconds(30));
  REQUIRE(empty.ok());
  CHECK(empty->empty());
  CHECK(sub->cursor() == Position(1));
  REQUIRE(log->Append("customer-1", {MakeEvent("customer-1")}).ok());
  std::vector<Event> got = ReadUntil(*sub, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].position == Position(1));
}

TEST_CASE("Cancel wakes a waiting Next, and later calls return empty at once", "[subscription]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  auto sub = log->Subscribe(Position(0));
  // Waits an hour unless Cancel wakes it.
  auto waiting = std::async(std::launch::async, [&] { return sub->Next(std::chrono::hours(1)); });
  std::this_thread::sleep_for(milliseconds(50));
  sub->Cancel();
  if (waiting.wait_for(kPatience) != std::future_status::ready) {
    // Free the waiter so the test can end, then report.
    REQUIRE(log->Append("customer-1", {MakeEvent("customer-1")}).ok());
    FAIL("Cancel did not wake the waiting Next");
  }
  Result<std::vector<Event>> woken = waiting.get();
  REQUIRE(woken.ok());
  CHECK(woken->empty());

  // Events are there now, but a cancelled subscription delivers nothing.
  REQUIRE(log->Append("customer-1", {MakeEvent("customer-1")}).ok());
  auto after = std::async(std::launch::async, [&] { return sub->Next(std::chrono::hours(1)); });
  REQUIRE(after.wait_for(kPatience) == std::future_status::ready);
  Result<std::vector<Event>> r = after.get();
  REQUIRE(r.ok());
  CHECK(r->empty());
}

TEST_CASE("A subscriber that never reads does not hold up writers", "[subscription]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  auto idle = log->Subscribe(Position(0));
  auto idle_stream = log->Subscribe(Position(0), "customer-1");
  REQUIRE(log->Append("customer-1", {MakeEvent("customer-1")}).ok());

  // Far more than any buffer a subscriber could be given.
  constexpr size_t kBatches = 50, kPerBatch = 100;
  for (size_t b = 0; b < kBatches; ++b) {
    std::vector<Event> batch;
    for (size_t i = 0; i < kPerBatch; ++i) batch.push_back(MakeEvent("customer-1"));
    Result<AppendResult> r = log->Append("customer-1", std::move(batch));
    INFO(r.status().ToString());
    REQUIRE(r.ok());
  }
  CHECK(log->end() == Position(1 + kBatches * kPerBatch));

  // The idle subscriber still gets everything, from where it was.
  std::vector<Event> got = ReadUntil(*idle, 1 + kBatches * kPerBatch);
  REQUIRE(got.size() == 1 + kBatches * kPerBatch);
  CHECK(got.front().position == Position(0));
  CHECK(got.back().position == Position(kBatches * kPerBatch));
  CHECK(ReadUntil(*idle_stream, 1 + kBatches * kPerBatch).size() == 1 + kBatches * kPerBatch);
}

TEST_CASE("A subscription on a read-only log follows the writer's appends", "[subscription][modes]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto writer = OpenTestLog(tmp.path(), &clock);
  REQUIRE(writer->Append("customer-1", {MakeEvent("customer-1")}).ok());
  EventLogOptions options;
  options.mode = EventLogOptions::Mode::kReadOnly;
  Result<std::unique_ptr<EventLog>> reader = EventLog::Open(tmp.path(), options);
  INFO(reader.status().ToString());
  REQUIRE(reader.ok());
  auto sub = (*reader)->Subscribe(Position(0));
  REQUIRE(ReadUntil(*sub, 1).size() == 1);

  REQUIRE(writer->Append("customer-2", {MakeEvent("customer-2"), MakeEvent("customer-2")}).ok());
  std::vector<Event> got = ReadUntil(*sub, 2);
  REQUIRE(got.size() == 2);
  CHECK(got[0].position == Position(1));
  CHECK(got[1].position == Position(2));
  CHECK(got[1].stream == "customer-2");
}

}  // namespace
}  // namespace custodian
