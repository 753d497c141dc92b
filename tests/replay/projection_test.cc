#include "replay/projection.h"

#include <catch2/catch.hpp>

#include <random>

#include "core/time.h"
#include "replay/customer.h"
#include "replay/portfolio.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

using testing::FixedClock;
using testing::RandomId;
using testing::TempDir;

std::unique_ptr<EventLog> OpenLog(const std::string& dir, Clock* clock) {
  EventLogOptions options;
  options.create = CreateIfMissing::kYes;
  options.clock = clock;
  Result<std::unique_ptr<EventLog>> r = EventLog::Open(dir, options);
  REQUIRE(r.ok());
  return std::move(*r);
}

// Random but valid customer events over a few customers.
std::vector<AppendRequest> RandomBatch(std::mt19937_64& rng, int n) {
  std::vector<AppendRequest> batch;
  for (int i = 0; i < n; ++i) {
    const std::string c = "customer-" + std::to_string(rng() % 7);
    Event e;
    e.id = RandomId();
    e.stream = c;
    e.actor = "staff-" + std::to_string(1 + rng() % 4);
    e.occurred_at = Timestamp(1'700'000'000'000'000LL + static_cast<int64_t>(rng() % 1'000'000'000'000LL));
    const std::string item = std::to_string(rng() % 5);
    switch (rng() % 6) {
      case 0:
        e.type = "interaction.logged";
        e.data = R"({"channel":"call","direction":"inbound"})";
        break;
      case 1:
        e.type = "deal.opened";
        e.data = R"({"deal_id":"d)" + item + R"(","title":"t","value":)" + std::to_string(rng() % 1000) +
                 R"(,"currency":"EUR","stage":"s"})";
        break;
      case 2:
        e.type = "deal.won";
        e.data = R"({"deal_id":"d)" + item + R"("})";
        break;
      case 3:
        e.type = "customer.owner_assigned";
        e.data = R"({"owner":"staff-)" + std::to_string(1 + rng() % 4) + R"(","reason":"initial"})";
        break;
      case 4:
        e.type = "request.opened";
        e.data = R"({"request_id":"r)" + item + R"(","title":"q"})";
        break;
      default:
        e.type = "order.placed";
        e.data = R"({"order_id":"o)" + std::to_string(rng()) + R"(","value":5,"currency":"EUR"})";
    }
    batch.push_back({c, ExpectedVersion::Any(), {std::move(e)}});
  }
  return batch;
}

TEST_CASE("a rebuilt projection is identical to the incrementally built one after random workloads", "[replay]") {
  for (uint64_t seed : {1u, 2u, 3u}) {
    TempDir tmp;
    FixedClock clock(*ParseRfc3339("2026-01-01T00:00:00Z"));
    auto log = OpenLog(tmp.path(), &clock);
    ProjectionEngine engine(*log, 97);  // many chunks: the cache carries state between them
    engine.Add(MakeCustomerProjection(engine.log()));
    std::mt19937_64 rng(seed);
    for (int round = 0; round < 6; ++round) {
      Result<std::vector<AppendResult>> r = log->AppendBatch(RandomBatch(rng, 1 + static_cast<int>(rng() % 400)));
      INFO(r.status().ToString());
      REQUIRE(r.ok());
      REQUIRE(engine.CatchUp().ok());  // incremental, in uneven steps
    }
    Result<std::string> incremental = engine.Digest(kCustomerProjection);
    REQUIRE(engine.Rebuild(kCustomerProjection).ok());
    Result<std::string> rebuilt = engine.Digest(kCustomerProjection);
    REQUIRE(incremental.ok());
    REQUIRE(rebuilt.ok());
    CHECK(*incremental == *rebuilt);
    CHECK(log->ProjectionCheckpoint(kCustomerProjection)->value() == log->end().value());
    // And the digest changes when the state does, so the comparison means something.
    REQUIRE(log->AppendBatch(RandomBatch(rng, 3)).ok());
    REQUIRE(engine.CatchUp().ok());
    CHECK(*engine.Digest(kCustomerProjection) != *rebuilt);
  }
}

TEST_CASE("projections at one checkpoint share one scan, and projections at different checkpoints each fold from "
          "their own", "[replay]") {
  constexpr size_t kChunk = 500;
  TempDir tmp;
  FixedClock clock(*ParseRfc3339("2026-01-01T00:00:00Z"));
  std::mt19937_64 rng(7);
  auto log = OpenLog(tmp.path(), &clock);
  REQUIRE(log->AppendBatch(RandomBatch(rng, 2 * kChunk)).ok());
  {
    // Only the customer projection is folded: portfolio stays at 0.
    ProjectionEngine engine(*log, kChunk);
    engine.Add(MakeCustomerProjection(engine.log()));
    REQUIRE(engine.CatchUp().ok());
  }
  REQUIRE(log->AppendBatch(RandomBatch(rng, kChunk + 10)).ok());
  ProjectionEngine engine(*log, kChunk);
  engine.Add(MakeCustomerProjection(engine.log()));
  engine.Add(MakePortfolioProjection());
  std::vector<uint64_t> reported;
  REQUIRE(engine.CatchUp([&](uint64_t done, uint64_t) { reported.push_back(done); }).ok());
  // Portfolio from 0 (chunks ending at 500, 1000, 1500, 1510), customer
  // from 1000 (1500, 1510): two scans, each reporting its own chunks.
  CHECK(reported == std::vector<uint64_t>{500, 1000, 1500, 1510, 1500, 1510});
  for (const char* name : {kCustomerProjection, kPortfolioProjection}) {
    INFO(name);
    CHECK(log->ProjectionCheckpoint(name)->value() == log->end().value());
  }
  const std::string customer = *engine.Digest(kCustomerProjection), portfolio = *engine.Digest(kPortfolioProjection);

  // Now both are at the end: more events are folded in one shared scan.
  REQUIRE(log->AppendBatch(RandomBatch(rng, kChunk + 1)).ok());
  reported.clear();
  REQUIRE(engine.CatchUp([&](uint64_t done, uint64_t) { reported.push_back(done); }).ok());
  CHECK(reported == std::vector<uint64_t>{2010, 2011});
  const std::string customer_after = *engine.Digest(kCustomerProjection);
  const std::string portfolio_after = *engine.Digest(kPortfolioProjection);
  CHECK(customer_after != customer);
  (void)portfolio;
  // The same state as folding each from scratch alone.
  REQUIRE(engine.Rebuild(kCustomerProjection).ok());
  REQUIRE(engine.Rebuild(kPortfolioProjection).ok());
  CHECK(*engine.Digest(kCustomerProjection) == customer_after);
  CHECK(*engine.Digest(kPortfolioProjection) == portfolio_after);
}

TEST_CASE("an engine kept between catch-ups drops what its projections cached when another engine folded meanwhile",
          "[replay]") {
  TempDir tmp;
  FixedClock clock(*ParseRfc3339("2026-01-01T00:00:00Z"));
  std::mt19937_64 rng(11);
  auto log = OpenLog(tmp.path(), &clock);
  ProjectionEngine kept(*log);  // as the server's follower keeps one
  kept.Add(MakeCustomerProjection(kept.log()));
  REQUIRE(log->AppendBatch(RandomBatch(rng, 300)).ok());
  REQUIRE(kept.CatchUp().ok());  // its projection now caches the 7 customers
  REQUIRE(log->AppendBatch(RandomBatch(rng, 300)).ok());
  {
    ProjectionEngine other(*log);  // an operation that catches up itself
    other.Add(MakeCustomerProjection(other.log()));
    REQUIRE(other.CatchUp().ok());
  }
  REQUIRE(log->AppendBatch(RandomBatch(rng, 300)).ok());
  REQUIRE(kept.CatchUp().ok());
  const std::string folded = *kept.Digest(kCustomerProjection);
  REQUIRE(kept.Rebuild(kCustomerProjection).ok());
  // Folding on from its stale cache would have lost the other engine's 300.
  CHECK(*kept.Digest(kCustomerProjection) == folded);
}

TEST_CASE("an interrupted catch-up stops after the chunk in hand, keeps what it committed, and folds no more",
          "[replay]") {
  constexpr size_t kChunk = 100;
  TempDir tmp;
  FixedClock clock(*ParseRfc3339("2026-01-01T00:00:00Z"));
  std::mt19937_64 rng(5);
  auto log = OpenLog(tmp.path(), &clock);
  REQUIRE(log->AppendBatch(RandomBatch(rng, 10 * kChunk)).ok());
  ProjectionEngine engine(*log, kChunk);
  engine.Add(MakeCustomerProjection(engine.log()));
  engine.Add(MakePortfolioProjection());
  std::vector<uint64_t> reported;
  // Interrupted (as a server's shutdown does, from another thread) while the
  // second chunk is folded.
  REQUIRE(engine
              .CatchUp([&](uint64_t done, uint64_t) {
                reported.push_back(done);
                if (done == 2 * kChunk) engine.Interrupt();
              })
              .ok());
  CHECK(reported == std::vector<uint64_t>{100, 200});
  for (const char* name : {kCustomerProjection, kPortfolioProjection}) {
    INFO(name);
    CHECK(log->ProjectionCheckpoint(name)->value() == 2 * kChunk);
  }
  REQUIRE(engine.CatchUp().ok());  // interrupted for good
  CHECK(log->ProjectionCheckpoint(kCustomerProjection)->value() == 2 * kChunk);
  // A new engine goes on from the checkpoint, to the same state as one fold.
  ProjectionEngine next(*log, kChunk);
  next.Add(MakeCustomerProjection(next.log()));
  REQUIRE(next.CatchUp().ok());
  CHECK(log->ProjectionCheckpoint(kCustomerProjection)->value() == 10 * kChunk);
  const std::string folded = *next.Digest(kCustomerProjection);
  REQUIRE(next.Rebuild(kCustomerProjection).ok());
  CHECK(*next.Digest(kCustomerProjection) == folded);
}

TEST_CASE("a restart in the middle of projecting loses and doubles nothing", "[replay]") {
  constexpr size_t kChunk = 1000;
  TempDir tmp;
  FixedClock clock(*ParseRfc3339("2026-01-01T00:00:00Z"));
  std::mt19937_64 rng(42);
  std::string digest_after_restart;
  {
    auto log = OpenLog(tmp.path(), &clock);
    REQUIRE(log->AppendBatch(RandomBatch(rng, 3 * kChunk + 100)).ok());
    ProjectionEngine engine(*log, kChunk);
    engine.Add(MakeCustomerProjection(engine.log()));
    // Stop after the first committed chunk, as if the process died there.
    // (Progress is reported after each commit: throwing from it stops the
    // fold right after the first chunk was committed, the rest not.)
    uint64_t commits = 0;
    CHECK_THROWS_AS(engine.CatchUp([&](uint64_t, uint64_t) {
                      if (++commits == 1) throw std::runtime_error("crash");
                    }),
                    std::runtime_error);
  }
  auto log = OpenLog(tmp.path(), &clock);
  Result<Position> checkpoint = log->ProjectionCheckpoint(kCustomerProjection);
  REQUIRE(checkpoint.ok());
  CHECK(checkpoint->value() == kChunk);
  REQUIRE(log->AppendBatch(RandomBatch(rng, 50)).ok());
  ProjectionEngine engine(*log, kChunk);
  engine.Add(MakeCustomerProjection(engine.log()));
  REQUIRE(engine.CatchUp().ok());
  digest_after_restart = *engine.Digest(kCustomerProjection);
  REQUIRE(engine.Rebuild(kCustomerProjection).ok());
  CHECK(*engine.Digest(kCustomerProjection) == digest_after_restart);
  // Every event counted exactly once.
  uint64_t events = 0;
  REQUIRE(log->ProjectionScan(kCustomerProjection, "", [&](std::string_view, std::string_view v) {
                 events += CustomerFromJson(v)->events;
                 return true;
               }).ok());
  CHECK(events == log->end().value());
}

// Counts the events it folds under the key "n", in an encoding that names its
// version ("v<version>:<count>"), and remembers how many events it was given.
class CountingProjection final : public Projection {
 public:
  explicit CountingProjection(uint32_t version) : version_(version) {}
  std::string_view name() const override { return "counting"; }
  uint32_t state_version() const override { return version_; }
  Status Apply(std::span<const Event> events, StateView& state) const override {
    Result<std::optional<std::string>> stored = state.Get("n");
    if (!stored.ok()) return stored.status();
    uint64_t n = 0;
    if (*stored) {
      const std::string prefix = "v" + std::to_string(version_) + ":";
      // State in another encoding is what the engine must never hand over.
      if (!(*stored)->starts_with(prefix)) return Status::Corruption("folded on state of another version: " + **stored);
      n = std::stoull((*stored)->substr(prefix.size()));
    }
    n += events.size();
    folded += events.size();
    state.Put("n", "v" + std::to_string(version_) + ":" + std::to_string(n));
    return Status::Ok();
  }
  mutable uint64_t folded = 0;

 private:
  uint32_t version_;
};

TEST_CASE("A projection whose state version changed is folded again from position 0, never on the old state",
          "[replay]") {
  TempDir tmp;
  FixedClock clock(*ParseRfc3339("2026-01-01T00:00:00Z"));
  auto log = OpenLog(tmp.path(), &clock);
  std::mt19937_64 rng(5);
  REQUIRE(log->AppendBatch(RandomBatch(rng, 40)).ok());
  {
    ProjectionEngine engine(*log);
    engine.Add(std::make_unique<CountingProjection>(1));
    REQUIRE(engine.CatchUp().ok());
  }
  CHECK(**log->ProjectionGet("counting", "n") == "v1:40");
  CHECK(*log->ProjectionStateVersion("counting") == 1);
  REQUIRE(log->AppendBatch(RandomBatch(rng, 10)).ok());

  auto v2 = std::make_unique<CountingProjection>(2);
  const CountingProjection* counting = v2.get();
  ProjectionEngine engine(*log);
  engine.Add(std::move(v2));
  REQUIRE(engine.CatchUp().ok());
  CHECK(counting->folded == 50);  // all of the log, not the 10 new events
  CHECK(**log->ProjectionGet("counting", "n") == "v2:50");
  CHECK(*log->ProjectionStateVersion("counting") == 2);
  CHECK(log->ProjectionCheckpoint("counting")->value() == 50);
  // Once in the new encoding, it goes on from its checkpoint.
  REQUIRE(log->AppendBatch(RandomBatch(rng, 5)).ok());
  REQUIRE(engine.CatchUp().ok());
  CHECK(counting->folded == 55);
  CHECK(**log->ProjectionGet("counting", "n") == "v2:55");
  // And a program of the older version rebuilds it in its own again.
  ProjectionEngine older(*log);
  older.Add(std::make_unique<CountingProjection>(1));
  REQUIRE(older.CatchUp().ok());
  CHECK(**log->ProjectionGet("counting", "n") == "v1:55");
  CHECK(*log->ProjectionStateVersion("counting") == 1);
}

TEST_CASE("a reader can wait until the background engine has folded its own write", "[replay]") {
  TempDir tmp;
  FixedClock clock(*ParseRfc3339("2026-01-01T00:00:00Z"));
  auto log = OpenLog(tmp.path(), &clock);
  ProjectionEngine engine(*log);
  engine.Add(MakeCustomerProjection(engine.log()));
  engine.Start();
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5; ++i) {
    Result<std::vector<AppendResult>> r = log->AppendBatch(RandomBatch(rng, 20));
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    const Position written = r->back().positions.back();
    REQUIRE(engine.WaitFor(Position(written.value() + 1), std::chrono::seconds(30)).ok());
    CHECK(log->ProjectionCheckpoint(kCustomerProjection)->value() > written.value());
  }
  engine.Stop();
  CHECK_FALSE(engine.WaitFor(Position(log->end().value() + 1), std::chrono::milliseconds(50)).ok());
}

}  // namespace
}  // namespace custodian
