// Verify, tree heads and checkpoints on intact stores of several shapes
// (tamper_test.cc covers damaged ones).
#include "storage/event_log.h"

#include <catch2/catch.hpp>

#include "core/canonical.h"
#include "core/merkle.h"
#include "tests/storage/event_log_test_util.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

using testing::FixedClock;
using testing::MakeEvent;
using testing::TempDir;
using testing::kTestNow;
using testing::OpenTestLog;
using testing::TestOptions;

void AppendMany(EventLog& log, int n, int streams) {
  std::vector<AppendRequest> batch;
  for (int i = 0; i < n; ++i) {
    const std::string stream = "customer-" + std::to_string(i % streams);
    batch.push_back({stream, ExpectedVersion::Any(), {MakeEvent(stream)}});
    if (batch.size() == 500 || i + 1 == n) {
      REQUIRE(log.AppendBatch(std::move(batch)).ok());
      batch.clear();
    }
  }
}

TEST_CASE("verify accepts an intact store whose indexes span memtables and files, across reopens", "[verify]") {
  TempDir tmp;
  FixedClock clock(kTestNow);
  {
    auto log = OpenTestLog(tmp.path(), &clock);
    AppendMany(*log, 6000, 97);
    REQUIRE(log->SignCheckpoint().ok());
    Result<VerifyReport> r = log->Verify();
    REQUIRE(r.ok());
    CHECK(r->ok);
    CHECK(r->events == 6000);
  }
  auto log = OpenTestLog(tmp.path(), &clock);
  AppendMany(*log, 5000, 131);
  REQUIRE(log->SignCheckpoint().ok());
  Result<VerifyReport> r = log->Verify();
  REQUIRE(r.ok());
  INFO(r->problem);
  CHECK(r->ok);
  CHECK(r->events == 11000);
  CHECK(r->streams == 131);
  CHECK(r->checkpoints == 2);
  Result<TreeHead> head = log->Head();
  REQUIRE(head.ok());
  CHECK(r->head.size == head->size);
  CHECK(r->head.root == head->root);
}

TEST_CASE("the stored tree's root equals the root recomputed from the events at every size", "[verify]") {
  TempDir tmp;
  FixedClock clock(kTestNow);
  auto log = OpenTestLog(tmp.path(), &clock);
  std::vector<Hash256> leaves;
  for (int i = 0; i < 37; ++i) {
    const std::string stream = "customer-" + std::to_string(i % 5);
    REQUIRE(log->Append(stream, {MakeEvent(stream)}).ok());
    Result<std::vector<Event>> e = log->ReadAll(Position(i), 1);
    REQUIRE(e.ok());
    leaves.push_back(LeafHash(e->front()));
    // The reference root, folded by RFC 9162's definition from the leaves.
    std::function<Hash256(size_t, size_t)> mth = [&](size_t b, size_t n) -> Hash256 {
      if (n == 1) return leaves[b];
      const size_t k = merkle::SplitPoint(n);
      return merkle::HashChildren(mth(b, k), mth(b + k, n - k));
    };
    Result<Hash256> root = log->RootAt(leaves.size());
    REQUIRE(root.ok());
    CHECK(*root == mth(0, leaves.size()));
  }
  CHECK(*log->RootAt(0) == merkle::EmptyRoot());
  CHECK_FALSE(log->RootAt(38).ok());
}

TEST_CASE("a checkpoint is signed by the store's key and names its origin, size and root", "[verify]") {
  TempDir tmp;
  FixedClock clock(kTestNow);
  EventLogOptions options = TestOptions(&clock);
  options.create = CreateIfMissing::kYes;
  options.origin = "crm.example.com/audit";
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(tmp.path(), options);
  REQUIRE(log.ok());
  AppendMany(**log, 10, 3);
  Result<std::string> signed_note = (*log)->SignCheckpoint();
  REQUIRE(signed_note.ok());
  REQUIRE((*log)->verifier() != nullptr);
  CHECK((*log)->verifier()->name() == "crm.example.com/audit");
  Result<std::string> body = (*log)->verifier()->Open(*signed_note);
  REQUIRE(body.ok());
  Result<note::Checkpoint> c = note::ParseCheckpoint(*body);
  REQUIRE(c.ok());
  CHECK(c->origin == "crm.example.com/audit");
  CHECK(c->size == 10);
  CHECK(c->root == (*log)->Head()->root);
  Result<std::vector<std::string>> all = (*log)->Checkpoints();
  REQUIRE(all.ok());
  CHECK(*all == std::vector<std::string>{*signed_note});
}

TEST_CASE("a periodic checkpoint is signed while the log grows", "[verify]") {
  TempDir tmp;
  FixedClock clock(kTestNow);
  EventLogOptions options = TestOptions(&clock);
  options.create = CreateIfMissing::kYes;
  options.checkpoint_interval = std::chrono::milliseconds(20);
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(tmp.path(), options);
  REQUIRE(log.ok());
  AppendMany(**log, 5, 2);
  // Wait (bounded) for the writer's timer to sign the head.
  std::vector<std::string> notes;
  for (int i = 0; i < 200 && notes.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    notes = *(*log)->Checkpoints();
  }
  REQUIRE(notes.size() == 1);
  Result<note::Checkpoint> c = note::ParseCheckpoint(*(*log)->verifier()->Open(notes[0]));
  REQUIRE(c.ok());
  CHECK(c->size == 5);
}

TEST_CASE("with periodic checkpoints, closing signs one for events that came after the last", "[verify]") {
  TempDir tmp;
  FixedClock clock(kTestNow);
  EventLogOptions options = TestOptions(&clock);
  options.checkpoint_interval = std::chrono::hours(1);  // never fires during the test
  {
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(tmp.path(), options);
    REQUIRE(log.ok());
    AppendMany(**log, 7, 2);
    CHECK((*log)->Checkpoints()->empty());
  }
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(tmp.path(), options);
  REQUIRE(log.ok());
  std::vector<std::string> notes = *(*log)->Checkpoints();
  REQUIRE(notes.size() == 1);
  CHECK(note::ParseCheckpoint(*(*log)->verifier()->Open(notes[0]))->size == 7);
}

}  // namespace
}  // namespace custodian
