// Verify, tree heads and checkpoints on intact stores of several shapes
// (tamper_test.cc covers damaged ones).
#include "storage/event_log.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

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

TEST_CASE("a log refuses to sign with a log.key that is not log.vkey's or that others can read, and stores nothing",
          "[verify]") {
  TempDir tmp, other;
  FixedClock clock(kTestNow);
  const std::string dir = tmp.Sub("store");
  { auto log = OpenTestLog(dir, &clock); }
  { auto foreign = OpenTestLog(other.path(), &clock); }  // same default origin, another key
  std::ifstream vkey_file(dir + "/log.vkey");
  const std::string published((std::istreambuf_iterator<char>(vkey_file)), std::istreambuf_iterator<char>());
  std::filesystem::copy_file(other.path() + "/log.key", dir + "/log.key",
                             std::filesystem::copy_options::overwrite_existing);
  {
    auto log = OpenTestLog(dir, &clock);  // appends need no signer
    AppendMany(*log, 3, 2);
    REQUIRE(log->verifier() != nullptr);
    CHECK(log->verifier()->ToString() + "\n" == published);  // checked with the published key
    Result<std::string> signed_note = log->SignCheckpoint();
    REQUIRE_FALSE(signed_note.ok());
    CHECK(signed_note.status().code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(signed_note.status().message(),
               Catch::Contains("does not match the published verifier key " + dir + "/log.vkey"));
    CHECK(log->Checkpoints()->empty());
    CHECK(EventLog::CheckSigningKey(dir).code() == StatusCode::kFailedPrecondition);
  }
  EventLogOptions periodic = TestOptions(&clock);
  periodic.checkpoint_interval = std::chrono::seconds(60);
  Result<std::unique_ptr<EventLog>> refused = EventLog::Open(dir, periodic);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.status().message(), Catch::Contains("periodic checkpoints: the checkpoint signing key"));

  std::filesystem::remove(dir + "/log.key");
  CHECK(EventLog::CheckSigningKey(dir).code() == StatusCode::kNotFound);
  CHECK_THAT(EventLog::Open(dir, periodic).status().message(), Catch::Contains("has no checkpoint signing key"));

  // The right key, readable by others: refused until it is owner-only again.
  TempDir fresh;
  { auto log = OpenTestLog(fresh.path(), &clock); }
  const std::string key = fresh.path() + "/log.key";
  REQUIRE(::chmod(key.c_str(), 0644) == 0);
  {
    auto log = OpenTestLog(fresh.path(), &clock);
    Result<std::string> signed_note = log->SignCheckpoint();
    REQUIRE_FALSE(signed_note.ok());
    CHECK_THAT(signed_note.status().message(), Catch::Contains("chmod 600 " + key));
  }
  REQUIRE(::chmod(key.c_str(), 0600) == 0);
  auto log = OpenTestLog(fresh.path(), &clock);
  CHECK(log->SignCheckpoint().ok());
  CHECK(EventLog::CheckSigningKey(fresh.path()).ok());
}

}  // namespace
}  // namespace custodian
