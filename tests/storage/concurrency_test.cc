// Many appenders at once: expected versions under contention and group commit.
#include "storage/event_log.h"
// The header under test comes first, to prove it is self-contained.

#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/storage/event_log_test_util.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

using testing::kTestNow;
using testing::MakeEvent;
using testing::OpenTestLog;

struct Acknowledged {
  EventId id;
  std::string stream;
  Position position;
  StreamVersion version;
};

// What the appender threads saw, checked on the main thread (Catch2's
// assertions are not thread-safe).
struct Outcomes {
  std::mutex mu;
  std::vector<Acknowledged> acked;
  std::vector<std::string> errors;

  void Ack(const std::vector<Event>& events, const AppendResult& r) {
    std::lock_guard lk(mu);
    for (size_t i = 0; i < events.size(); ++i) {
      acked.push_back({events[i].id, events[i].stream, r.positions[i], r.versions[i]});
    }
  }
  void Error(std::string e) {
    std::lock_guard lk(mu);
    errors.push_back(std::move(e));
  }
};

// Every acknowledged event is in the log exactly once, at its position, and
// positions run 0..end-1 with no gap.
void CheckLogHoldsExactly(const EventLog& log, const std::vector<Acknowledged>& acked) {
  std::vector<Event> all = testing::ReadEverything(log);
  REQUIRE(all.size() == acked.size());
  REQUIRE(log.end() == Position(acked.size()));
  size_t out_of_place = 0;
  std::set<EventId> ids;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].position != Position(i)) ++out_of_place;
    ids.insert(all[i].id);
  }
  CHECK(out_of_place == 0);
  CHECK(ids.size() == all.size());  // no id twice
  size_t wrong = 0;
  for (const Acknowledged& a : acked) {
    const Event& e = all[a.position.value()];
    if (e.id != a.id || e.stream != a.stream || e.version != a.version) ++wrong;
  }
  CHECK(wrong == 0);
}

TEST_CASE("Appenders racing on one stream with exact expected versions each win a distinct version", "[concurrency]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20;
  const std::string stream = "customer-1";
  Outcomes outcomes;
  std::atomic<uint64_t> conflicts{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        std::vector<Event> events = {MakeEvent(stream)};
        while (true) {
          // Read the stream's head, then try to append right after it.
          Result<StreamInfo> info = log->GetStreamInfo(stream);
          if (!info.ok() && info.status().code() != StatusCode::kNotFound) {
            return outcomes.Error(info.status().ToString());
          }
          const ExpectedVersion expected =
              info.ok() ? ExpectedVersion::Exactly(info->last_version) : ExpectedVersion::NoStream();
          Result<AppendResult> r = log->Append(stream, events, expected);
          if (r.ok()) {
            const uint64_t want = info.ok() ? info->last_version.value() + 1 : 0;
            if (r->versions.front().value() != want || r->written != 1) {
              outcomes.Error("expected " + expected.ToString() + " but got version " +
                             std::to_string(r->versions.front().value()));
            }
            outcomes.Ack(events, *r);
            break;
          }
          if (r.status().code() != StatusCode::kConflict) return outcomes.Error(r.status().ToString());
          conflicts.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  INFO("conflicts retried: " << conflicts.load());
  REQUIRE(outcomes.errors.empty());
  REQUIRE(outcomes.acked.size() == kThreads * kPerThread);

  // Exactly one appender won each version.
  std::set<uint64_t> versions;
  for (const Acknowledged& a : outcomes.acked) versions.insert(a.version.value());
  CHECK(versions.size() == outcomes.acked.size());
  CHECK(*versions.rbegin() == outcomes.acked.size() - 1);

  std::vector<Event> in_stream = testing::ReadWholeStream(*log, stream);
  REQUIRE(in_stream.size() == outcomes.acked.size());
  size_t out_of_order = 0;
  for (size_t i = 0; i < in_stream.size(); ++i) {
    if (in_stream[i].version != StreamVersion(i)) ++out_of_order;
  }
  CHECK(out_of_order == 0);
  CheckLogHoldsExactly(*log, outcomes.acked);
}

TEST_CASE("Appenders on different streams at once all land, densely and each exactly once", "[concurrency]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  constexpr int kThreads = 8;
  constexpr int kRounds = 40;
  Outcomes outcomes;

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string own = "customer-" + std::to_string(t);
      for (int i = 0; i < kRounds; ++i) {
        if (i % 5 == 4) {
          // An atomic batch over this thread's stream and a shared one.
          std::vector<AppendRequest> requests(2);
          requests[0] = {own, ExpectedVersion::Exactly(StreamVersion(static_cast<uint64_t>(i) - 1)), {MakeEvent(own)}};
          requests[1] = {"staff-1", ExpectedVersion::Any(), {MakeEvent("staff-1"), MakeEvent("staff-1")}};
          std::vector<std::vector<Event>> sent = {requests[0].events, requests[1].events};
          Result<std::vector<AppendResult>> r = log->AppendBatch(std::move(requests));
          if (!r.ok()) return outcomes.Error(r.status().ToString());
          outcomes.Ack(sent[0], (*r)[0]);
          outcomes.Ack(sent[1], (*r)[1]);
        } else {
          // Every event of this thread's stream is version i: nobody else writes it.
          std::vector<Event> events = {MakeEvent(own)};
          Result<AppendResult> r = log->Append(
              own, events, i == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exactly(StreamVersion(i - 1)));
          if (!r.ok()) return outcomes.Error(r.status().ToString());
          outcomes.Ack(events, *r);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  INFO((outcomes.errors.empty() ? "" : outcomes.errors.front()));
  REQUIRE(outcomes.errors.empty());
  const size_t kSharedEvents = kThreads * (kRounds / 5) * 2;
  REQUIRE(outcomes.acked.size() == kThreads * kRounds + kSharedEvents);
  CheckLogHoldsExactly(*log, outcomes.acked);

  for (int t = 0; t < kThreads; ++t) {
    std::vector<Event> own = testing::ReadWholeStream(*log, "customer-" + std::to_string(t));
    REQUIRE(own.size() == kRounds);
    for (size_t i = 0; i < own.size(); ++i) CHECK(own[i].version == StreamVersion(i));
  }
  std::vector<Event> shared = testing::ReadWholeStream(*log, "staff-1");
  REQUIRE(shared.size() == kSharedEvents);
  for (size_t i = 0; i < shared.size(); ++i) CHECK(shared[i].version == StreamVersion(i));
  // The two events of one request sit next to each other: a batch is not interleaved.
  for (size_t i = 0; i < shared.size(); i += 2) {
    CHECK(shared[i + 1].position.value() == shared[i].position.value() + 1);
  }

  Result<LogStats> stats = log->Stats();
  REQUIRE(stats.ok());
  CHECK(stats->stream_count == kThreads + 1);
}

TEST_CASE("Appenders racing to append the same event all get its one position", "[concurrency][idempotency]") {
  testing::TempDir tmp;
  testing::FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  constexpr int kThreads = 8;
  constexpr int kEvents = 30;
  std::vector<Event> events;
  for (int i = 0; i < kEvents; ++i) events.push_back(MakeEvent("customer-" + std::to_string(i % 3)));

  std::mutex mu;
  std::map<EventId, std::set<uint64_t>> positions_seen;
  std::vector<std::string> errors;
  size_t written = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (const Event& e : events) {
        Result<AppendResult> r = log->Append(e.stream, {e});
        std::lock_guard lk(mu);
        if (!r.ok()) {
          errors.push_back(r.status().ToString());
          continue;
        }
        positions_seen[e.id].insert(r->positions.front().value());
        written += r->written;
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(errors.empty());
  CHECK(written == kEvents);  // each event written by exactly one of the racers
  CHECK(log->end() == Position(kEvents));
  for (const Event& e : events) CHECK(positions_seen[e.id].size() == 1);
}

}  // namespace
}  // namespace custodian
