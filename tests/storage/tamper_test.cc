// Tampering with a real store behind the log's back, through RocksDB directly,
// and checking that Verify (storage/event_log.h) detects each change and names
// it (DESIGN.md, Tamper evidence): a changed byte, a deleted record, swapped
// records, a record rewritten with its leaf but not the tree above it, a log
// rolled back to an earlier size, damaged indexes and forged checkpoints.
#include "storage/event_log.h"

#include <rocksdb/db.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/canonical.h"
#include "core/merkle.h"
#include "core/note.h"
#include "core/record.h"
#include "storage/keys.h"
#include "storage/merkle_tree.h"
#include "tests/raw_store.h"
#include "tests/storage/event_log_test_util.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

using testing::FixedClock;
using testing::kTestNow;
using testing::MakeEvent;
using testing::OpenTestLog;
using testing::ReadEverything;
using testing::RawStore;
using testing::TempDir;

constexpr uint64_t kEvents = 60;
constexpr uint64_t kStreams = 4;
constexpr uint64_t kEarlyCheckpoint = 40;  // a checkpoint is signed at 40 events, and one at kEvents

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string StreamOf(uint64_t i) { return "customer-" + std::to_string(i % kStreams); }

// The data of the event at position i: its text names the position, so a
// test can find it inside the record's bytes.
std::string DataOf(uint64_t i) { return R"({"text":"note )" + std::to_string(1000 + i) + R"("})"; }

// The store opened with raw RocksDB: every column family the directory holds,
// with default options, for editing behind the log's back.
Event DecodeOrFail(const std::string& record) {
  Event e;
  Status s = DecodeRecord(record, &e);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return e;
}


// A store of kEvents events over kStreams streams, with checkpoints signed at
// kEarlyCheckpoint and kEvents events, closed; and what it held when closed.
struct TamperedStore {
  TempDir tmp;
  std::string dir = tmp.Sub("store");
  FixedClock clock{kTestNow};
  std::vector<Event> events;        // as read back
  std::vector<std::string> notes;   // the signed checkpoints, oldest first
  TreeHead head;

  TamperedStore() {
    std::unique_ptr<EventLog> log = OpenTestLog(dir, &clock);
    for (uint64_t i = 0; i < kEvents; ++i) {
      clock.Advance(1'000);
      Result<AppendResult> r = log->Append(StreamOf(i), {MakeEvent(StreamOf(i), "note.added", DataOf(i))});
      INFO(r.status().ToString());
      REQUIRE(r.ok());
      REQUIRE(r->positions[0].value() == i);
      if (i + 1 == kEarlyCheckpoint || i + 1 == kEvents) {
        Result<std::string> note = log->SignCheckpoint();
        INFO(note.status().ToString());
        REQUIRE(note.ok());
        notes.push_back(*note);
      }
    }
    events = ReadEverything(*log);
    REQUIRE(events.size() == kEvents);
    Result<TreeHead> h = log->Head();
    REQUIRE(h.ok());
    head = *h;
  }

  std::unique_ptr<EventLog> OpenReadOnly() const {
    EventLogOptions options;
    options.mode = EventLogOptions::Mode::kReadOnly;
    Result<std::unique_ptr<EventLog>> log = EventLog::Open(dir, options);
    INFO(log.status().ToString());
    REQUIRE(log.ok());
    return std::move(*log);
  }

  // The store's private checkpoint key (log.key), as someone holding it would use it.
  std::optional<note::SigningKey> SigningKey() const {
    std::ifstream in(dir + "/" + keys::kSignerKeyFile);
    std::string line;
    std::getline(in, line);
    Result<note::SigningKey> key = note::SigningKey::Parse(line);
    REQUIRE(key.ok());
    return *key;
  }

  VerifyReport Verify() const {
    std::unique_ptr<EventLog> log = OpenReadOnly();
    Result<VerifyReport> report = log->Verify();
    INFO(report.status().ToString());
    REQUIRE(report.ok());
    return *report;
  }
};

note::Checkpoint OpenCheckpoint(const note::VerifierKey& key, const std::string& signed_note) {
  Result<std::string> body = key.Open(signed_note);
  INFO(body.status().ToString());
  REQUIRE(body.ok());
  Result<note::Checkpoint> c = note::ParseCheckpoint(*body);
  REQUIRE(c.ok());
  return *c;
}

merkle::Proof ProofBytes(const std::vector<Hash256>& hashes) {
  merkle::Proof out;
  for (const Hash256& h : hashes) out.push_back(merkle::ToBytes(h));
  return out;
}

// Removes the events from `new_size` on, with their index entries and every
// Merkle node that covers one of them: a store that is self-consistent at
// `new_size` events except for what was signed.
void RollBack(RawStore& raw, const std::vector<Event>& events, uint64_t new_size) {
  for (uint64_t p = new_size; p < events.size(); ++p) {
    const Event& e = events[p];
    raw.Delete(keys::kEventsFamily, keys::EventKey(e.position));
    raw.Delete(keys::kStreamsFamily, keys::StreamKey(e.stream, e.version));
    raw.Delete(keys::kIdsFamily, keys::IdKey(e.id));
  }
  raw.Put(keys::kMetaFamily, keys::kMetaIdsIndexedToKey, keys::EncodeU64(new_size));
  const size_t removed = raw.TruncateTree(new_size);
  REQUIRE(removed >= events.size() - new_size);  // at least the leaves
}

// --- An intact store ---

TEST_CASE("Verify passes an untouched store, counting its events and streams and returning Head's root",
          "[tamper]") {
  TamperedStore store;
  const bool reopened_raw = GENERATE(false, true);
  if (reopened_raw) {
    RawStore raw(store.dir);  // opening and closing it with RocksDB alone changes nothing
    REQUIRE(raw.Keys(keys::kEventsFamily).size() == kEvents);
  }
  std::unique_ptr<EventLog> log = store.OpenReadOnly();
  Result<VerifyReport> report = log->Verify();
  REQUIRE(report.ok());
  INFO("after a raw RocksDB open: " << reopened_raw << "; " << report->problem);
  CHECK(report->ok);
  CHECK(report->problem.empty());
  CHECK(report->events == kEvents);
  CHECK(report->streams == kStreams);
  CHECK(report->checkpoints == 2);
  CHECK(report->head.size == kEvents);
  Result<TreeHead> head = log->Head();
  REQUIRE(head.ok());
  CHECK(report->head.root == head->root);
  CHECK(report->head.root == store.head.root);
  // The root is the RFC 6962 root of the events' leaf hashes.
  MerkleFrontier frontier;
  for (const Event& e : store.events) frontier.Append(LeafHash(e), [](uint8_t, uint64_t, const Hash256&) {});
  CHECK(report->head.root == frontier.Root());
}

// --- The records ---

TEST_CASE("Verify names the position and both leaf hashes when one byte of one record is changed", "[tamper]") {
  TamperedStore store;
  const uint64_t p = 17;
  const Hash256 stored_leaf = LeafHash(store.events[p]);
  Event tampered;
  {
    RawStore raw(store.dir);
    std::string record = raw.Get(keys::kEventsFamily, keys::EventKey(Position(p)));
    const size_t at = record.find("note " + std::to_string(1000 + p));
    REQUIRE(at != std::string::npos);
    record[at + 5] ^= 0x01;  // "note 1017" -> "note 0017"
    raw.Put(keys::kEventsFamily, keys::EventKey(Position(p)), record);
    tampered = DecodeOrFail(record);
    REQUIRE(tampered.data != store.events[p].data);
    CHECK(raw.Node(0, p) == stored_leaf);
  }
  VerifyReport report = store.Verify();
  INFO(report.problem);
  CHECK_FALSE(report.ok);
  CHECK(Contains(report.problem, "event at position 17:"));
  CHECK(Contains(report.problem, HexOf(LeafHash(tampered))));  // recomputed from the record
  CHECK(Contains(report.problem, HexOf(stored_leaf)));         // what the tree holds
}

TEST_CASE("Verify names the missing position when a record in the middle is deleted", "[tamper]") {
  TamperedStore store;
  {
    RawStore raw(store.dir);
    raw.Delete(keys::kEventsFamily, keys::EventKey(Position(30)));
  }
  VerifyReport report = store.Verify();
  INFO(report.problem);
  CHECK_FALSE(report.ok);
  CHECK(Contains(report.problem, "position 30 is missing"));
  CHECK(Contains(report.problem, "next stored event is at 31"));
}

TEST_CASE("Verify names the first of two records whose values were swapped", "[tamper]") {
  TamperedStore store;
  {
    RawStore raw(store.dir);
    const std::string a = raw.Get(keys::kEventsFamily, keys::EventKey(Position(10)));
    const std::string b = raw.Get(keys::kEventsFamily, keys::EventKey(Position(20)));
    raw.Put(keys::kEventsFamily, keys::EventKey(Position(10)), b);
    raw.Put(keys::kEventsFamily, keys::EventKey(Position(20)), a);
  }
  VerifyReport report = store.Verify();
  INFO(report.problem);
  CHECK_FALSE(report.ok);
  CHECK(Contains(report.problem, "stored at position 10 says it is at position 20"));
}

TEST_CASE("Verify names the tree node above a record that was rewritten together with its leaf", "[tamper]") {
  TamperedStore store;
  const uint64_t p = 12;  // even: its sibling leaf 13 completes node (level 1, index 6)
  Event rewritten = store.events[p];
  rewritten.data = R"({"text":"the customer never called"})";
  Hash256 stored_parent;
  {
    RawStore raw(store.dir);
    raw.Put(keys::kEventsFamily, keys::EventKey(Position(p)), EncodeRecord(rewritten));
    raw.PutNode(0, p, LeafHash(rewritten));
    stored_parent = raw.Node(1, p / 2);
  }
  const Hash256 recomputed_parent = merkle::HashChildren(LeafHash(rewritten), LeafHash(store.events[p + 1]));
  REQUIRE(recomputed_parent != stored_parent);
  VerifyReport report = store.Verify();
  INFO(report.problem);
  CHECK_FALSE(report.ok);
  CHECK(Contains(report.problem, "Merkle node (level 1, index 6)"));
  CHECK(Contains(report.problem, HexOf(recomputed_parent)));
  CHECK(Contains(report.problem, HexOf(stored_parent)));
  CHECK_FALSE(Contains(report.problem, "leaf hash"));  // the leaf itself agrees
}

TEST_CASE("Verify catches a record rewritten with the whole tree and its id entry by the signed checkpoint",
          "[tamper]") {
  TamperedStore store;
  const uint64_t p = 5;
  std::vector<Event> events = store.events;
  events[p].data = R"({"text":"the customer never called"})";
  {
    RawStore raw(store.dir);
    raw.Put(keys::kEventsFamily, keys::EventKey(Position(p)), EncodeRecord(events[p]));
    raw.Put(keys::kIdsFamily, keys::IdKey(events[p].id), keys::IdValue(events[p].position));
    std::vector<Hash256> leaves;
    for (const Event& e : events) leaves.push_back(LeafHash(e));
    raw.RewriteTree(leaves);  // every stored node rewritten
  }
  MerkleFrontier early;
  for (uint64_t i = 0; i < kEarlyCheckpoint; ++i) early.Append(LeafHash(events[i]), [](uint8_t, uint64_t, const Hash256&) {});
  VerifyReport report = store.Verify();
  INFO(report.problem);
  CHECK_FALSE(report.ok);
  CHECK(Contains(report.problem, "signed checkpoint of size 40"));
  CHECK(Contains(report.problem, HexOf(early.Root())));  // what the rewritten events give
  std::unique_ptr<EventLog> log = store.OpenReadOnly();
  REQUIRE(log->verifier() != nullptr);
  CHECK(Contains(report.problem, HexOf(OpenCheckpoint(*log->verifier(), store.notes[0]).root)));  // what was signed
}

// --- Rolling back ---

TEST_CASE("Verify detects a log rolled back to an earlier size by the stored checkpoint", "[tamper]") {
  TamperedStore store;
  const uint64_t new_size = 52;
  {
    RawStore raw(store.dir);
    RollBack(raw, store.events, new_size);
  }
  VerifyReport report = store.Verify();
  INFO(report.problem);
  CHECK_FALSE(report.ok);
  CHECK(Contains(report.problem, "covers 60 events but the log holds 52"));
  CHECK(Contains(report.problem, "rolled back"));
}

TEST_CASE("Verify detects events removed from the end when their tree nodes are left behind", "[tamper]") {
  TamperedStore store;
  {
    RawStore raw(store.dir);
    for (uint64_t p = 55; p < kEvents; ++p) raw.Delete(keys::kEventsFamily, keys::EventKey(Position(p)));
  }
  VerifyReport report = store.Verify();
  INFO(report.problem);
  CHECK_FALSE(report.ok);
  CHECK(Contains(report.problem, "beyond the log's 55 events"));
  CHECK(Contains(report.problem, "rolled back"));
}

TEST_CASE("A rollback that also deletes the stored checkpoints is caught only by a checkpoint an auditor kept",
          "[tamper]") {
  TamperedStore store;
  const std::string kept_early = store.notes[0], kept_last = store.notes[1];  // the auditor's copies
  const uint64_t new_size = 52;
  {
    RawStore raw(store.dir);
    RollBack(raw, store.events, new_size);
    for (uint64_t size : {kEarlyCheckpoint, kEvents}) {
      raw.Delete(keys::kMetaFamily, keys::CheckpointKey(size));
      raw.Delete(keys::kMetaFamily, "mapnote/" + keys::EncodeU64(size));  // and the stream map notes beside them
    }
  }
  // The store alone now looks fine.
  VerifyReport report = store.Verify();
  INFO(report.problem);
  REQUIRE(report.ok);
  CHECK(report.events == new_size);
  CHECK(report.checkpoints == 0);

  std::unique_ptr<EventLog> log = store.OpenReadOnly();
  REQUIRE(log->verifier() != nullptr);
  const note::Checkpoint last = OpenCheckpoint(*log->verifier(), kept_last);
  CHECK(last.size == kEvents);
  CHECK(last.size > report.head.size);  // the kept checkpoint is longer than the log
  // No proof reaches past the log's end.
  Result<std::vector<Hash256>> proof = log->ConsistencyProof(last.size, last.size);
  CHECK(proof.status().code() == StatusCode::kInvalidArgument);
  CHECK(log->RootAt(last.size).status().code() == StatusCode::kInvalidArgument);

  // The earlier kept checkpoint is still a prefix of what remains.
  const note::Checkpoint early = OpenCheckpoint(*log->verifier(), kept_early);
  Result<std::vector<Hash256>> early_proof = log->ConsistencyProof(early.size, report.head.size);
  REQUIRE(early_proof.ok());
  CHECK(merkle::VerifyConsistency(early.size, report.head.size, ProofBytes(*early_proof), merkle::ToBytes(early.root),
                                  merkle::ToBytes(report.head.root))
            .ok());
}

TEST_CASE("A log rolled back and grown past a kept checkpoint with other events fails its consistency proof",
          "[tamper]") {
  TamperedStore store;
  const std::string kept = store.notes[1];
  {
    RawStore raw(store.dir);
    RollBack(raw, store.events, 52);
    for (uint64_t size : {kEarlyCheckpoint, kEvents}) {
      raw.Delete(keys::kMetaFamily, keys::CheckpointKey(size));
      raw.Delete(keys::kMetaFamily, "mapnote/" + keys::EncodeU64(size));  // and the stream map notes beside them
    }
  }
  {
    std::unique_ptr<EventLog> log = OpenTestLog(store.dir, &store.clock);
    for (int i = 0; i < 15; ++i) {
      Result<AppendResult> r = log->Append("customer-9", {MakeEvent("customer-9")});
      REQUIRE(r.ok());
    }
    REQUIRE(log->end().value() == 67);
  }
  VerifyReport report = store.Verify();
  INFO(report.problem);
  REQUIRE(report.ok);  // self-consistent: the store alone cannot tell
  REQUIRE(report.head.size == 67);

  std::unique_ptr<EventLog> log = store.OpenReadOnly();
  const note::Checkpoint c = OpenCheckpoint(*log->verifier(), kept);
  Result<std::vector<Hash256>> proof = log->ConsistencyProof(c.size, report.head.size);
  REQUIRE(proof.ok());
  Status s = merkle::VerifyConsistency(c.size, report.head.size, ProofBytes(*proof), merkle::ToBytes(c.root),
                                       merkle::ToBytes(report.head.root));
  INFO(s.ToString());
  CHECK_FALSE(s.ok());
  CHECK(s.code() == StatusCode::kInvalidArgument);
}

// --- The indexes ---

TEST_CASE("Verify names a stream index entry that points at the wrong position", "[tamper]") {
  TamperedStore store;
  const Event& e = store.events[21];  // customer-1 version 5
  REQUIRE(e.stream == "customer-1");
  REQUIRE(e.version.value() == 5);
  {
    RawStore raw(store.dir);
    raw.Put(keys::kStreamsFamily, keys::StreamKey(e.stream, e.version), keys::EncodeU64(25));
  }
  VerifyReport report = store.Verify();
  INFO(report.problem);
  CHECK_FALSE(report.ok);
  CHECK(Contains(report.problem, "stream index entry for customer-1 version 5 points at position 25"));
  CHECK(Contains(report.problem, "the event is at position 21"));
}

TEST_CASE("Verify names a missing stream index entry", "[tamper]") {
  TamperedStore store;
  const Event& e = store.events[22];  // customer-2 version 5
  {
    RawStore raw(store.dir);
    raw.Delete(keys::kStreamsFamily, keys::StreamKey(e.stream, e.version));
  }
  VerifyReport report = store.Verify();
  INFO(report.problem);
  CHECK_FALSE(report.ok);
  CHECK(Contains(report.problem, "stream index entry for customer-2 version 5 is missing"));
}

TEST_CASE("Verify names an id index entry that points at the wrong position", "[tamper]") {
  TamperedStore store;
  const Event& e = store.events[33];
  {
    RawStore raw(store.dir);
    raw.Put(keys::kIdsFamily, keys::IdKey(e.id), keys::IdValue(Position(34)));
  }
  VerifyReport report = store.Verify();
  INFO(report.problem);
  CHECK_FALSE(report.ok);
  CHECK(Contains(report.problem, "id index entry for event " + e.id.ToString() + " (position 33) is wrong"));
}

TEST_CASE("A store whose id index entries still carry content hashes (written before 2026-11-23) verifies and "
          "takes retries",
          "[tamper]") {
  TamperedStore store;
  {
    RawStore raw(store.dir);
    for (const Event& e : store.events) {
      raw.Put(keys::kIdsFamily, keys::IdKey(e.id), keys::IdValue(e.position) + std::string(32, '\x5a'));
    }
  }
  VerifyReport report = store.Verify();
  INFO(report.problem);
  CHECK(report.ok);

  std::unique_ptr<EventLog> log = OpenTestLog(store.dir, &store.clock);
  const Event& original = store.events[8];
  Result<AppendResult> retry = log->Append(original.stream, {original});
  INFO(retry.status().ToString());
  REQUIRE(retry.ok());
  CHECK(retry->positions == std::vector<Position>{Position(8)});
  CHECK(retry->written == 0);
  Event changed = original;
  changed.data = R"({"text":"another event under the same id"})";
  Result<AppendResult> conflict = log->Append(changed.stream, {changed});
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.status().code() == StatusCode::kConflict);
}

TEST_CASE("Verify names a missing id index entry", "[tamper]") {
  TamperedStore store;
  const Event& e = store.events[44];
  {
    RawStore raw(store.dir);
    raw.Delete(keys::kIdsFamily, keys::IdKey(e.id));
  }
  VerifyReport report = store.Verify();
  INFO(report.problem);
  CHECK_FALSE(report.ok);
  CHECK(Contains(report.problem, "id index entry for event " + e.id.ToString() + " (position 44) is missing"));
}

// --- The checkpoints ---

TEST_CASE("Verify refuses a stored checkpoint signed by another key with the same name", "[tamper]") {
  TamperedStore store;
  Result<note::SigningKey> other = note::SigningKey::Generate("custodian.local/log");
  REQUIRE(other.ok());
  std::unique_ptr<EventLog> log = store.OpenReadOnly();
  REQUIRE(log->verifier() != nullptr);
  REQUIRE(log->verifier()->name() == "custodian.local/log");
  note::Checkpoint c = OpenCheckpoint(*log->verifier(), store.notes[0]);
  log.reset();
  Result<std::string> forged = other->Sign(note::CheckpointBody(c));  // the right size and root, the wrong key
  REQUIRE(forged.ok());
  {
    RawStore raw(store.dir);
    raw.Put(keys::kMetaFamily, keys::CheckpointKey(c.size), *forged);
  }
  VerifyReport report = store.Verify();
  INFO(report.problem);
  CHECK_FALSE(report.ok);
  CHECK(Contains(report.problem, "stored checkpoint does not verify"));
}

TEST_CASE("Verify refuses a stored checkpoint whose text was edited after signing", "[tamper]") {
  TamperedStore store;
  std::string edited = store.notes[0];
  const size_t at = edited.find("\n40\n");
  REQUIRE(at != std::string::npos);
  edited.replace(at, 4, "\n41\n");
  {
    RawStore raw(store.dir);
    raw.Put(keys::kMetaFamily, keys::CheckpointKey(kEarlyCheckpoint), edited);
  }
  VerifyReport report = store.Verify();
  INFO(report.problem);
  CHECK_FALSE(report.ok);
  CHECK(Contains(report.problem, "stored checkpoint does not verify"));
}

TEST_CASE("Verify refuses a validly signed checkpoint whose root the events do not give", "[tamper]") {
  TamperedStore store;
  // Someone holding the key signs a root for size 40 that is not the log's.
  const std::optional<note::SigningKey> key = store.SigningKey();
  note::Checkpoint c{"custodian.local/log", kEarlyCheckpoint, LeafHash(store.events[0])};
  Result<std::string> signed_note = key->Sign(note::CheckpointBody(c));
  REQUIRE(signed_note.ok());
  {
    RawStore raw(store.dir);
    raw.Put(keys::kMetaFamily, keys::CheckpointKey(kEarlyCheckpoint), *signed_note);
  }
  VerifyReport report = store.Verify();
  INFO(report.problem);
  CHECK_FALSE(report.ok);
  CHECK(Contains(report.problem, "signed checkpoint of size 40 has root " + HexOf(c.root)));
}

}  // namespace
}  // namespace custodian

namespace custodian {
namespace {

TEST_CASE("cosignature lines kept with a checkpoint are bounded: anyone answering cosign requests cannot grow a note "
          "without end",
          "[tamper]") {
  TempDir tmp;
  FixedClock clock(kTestNow);
  std::unique_ptr<EventLog> log = OpenTestLog(tmp.Sub("store"), &clock);
  REQUIRE(log->Append("customer-1", {MakeEvent("customer-1")}).ok());
  REQUIRE(log->SignCheckpoint().ok());
  std::vector<std::string> lines;
  for (int i = 0; i < 400; ++i) lines.push_back("\u2014 witness-" + std::to_string(i) + " " + std::string(80, 'A') + "\n");
  Result<size_t> added = log->AddCosignatures(1, lines);
  REQUIRE(added.ok());
  CHECK(*added > 0);
  CHECK(*added < lines.size());
  Result<std::optional<std::string>> note = log->LatestCheckpoint();
  REQUIRE(note.ok());
  REQUIRE(note->has_value());
  CHECK((*note)->size() <= EventLog::kMaxCosignedNoteBytes);
  Result<size_t> more = log->AddCosignatures(1, {"\u2014 one-more " + std::string(80, 'B') + "\n"});
  CHECK(more.status().code() == StatusCode::kFailedPrecondition);
  // A line kept already is no news, however full the note.
  Result<size_t> again = log->AddCosignatures(1, {lines.front()});
  REQUIRE(again.ok());
  CHECK(*again == 0);
}

TEST_CASE("Verify on a log that is being appended to reports no tampering", "[tamper]") {
  TempDir tmp;
  FixedClock clock(kTestNow);
  EventLogOptions options;
  options.sync = Sync::kNo;
  std::unique_ptr<EventLog> log = OpenTestLog(tmp.Sub("store"), &clock, options);
  for (int i = 0; i < 200; ++i) REQUIRE(log->Append(StreamOf(static_cast<uint64_t>(i)), {MakeEvent(StreamOf(static_cast<uint64_t>(i)))}).ok());
  REQUIRE(log->SignCheckpoint().ok());
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (uint64_t i = 0; i < 2000; ++i) {
      if (!log->Append(StreamOf(i), {MakeEvent(StreamOf(i))}).ok()) break;
    }
    done.store(true);
  });
  std::vector<std::string> problems;
  int rounds = 0;
  for (; !done.load() && rounds < 50; ++rounds) {
    Result<VerifyReport> report = log->Verify();
    REQUIRE(report.ok());
    if (!report->ok) problems.push_back(report->problem);
  }
  writer.join();
  REQUIRE(rounds > 0);
  INFO(problems.size() << " false alarms, the first: " << (problems.empty() ? "" : problems[0]));
  CHECK(problems.empty());
}

}  // namespace
}  // namespace custodian

// --- The stream map (core/stream_map.h) ---

namespace custodian {
namespace {

TEST_CASE("Each signed checkpoint comes with a signed stream map note that Verify rebuilds and checks",
          "[tamper][stream_map]") {
  TamperedStore store;
  std::unique_ptr<EventLog> log = store.OpenReadOnly();
  Result<std::vector<std::string>> notes = log->MapNotes();
  REQUIRE(notes.ok());
  REQUIRE(notes->size() == 2);
  VerifyReport report = store.Verify();
  INFO(report.problem);
  CHECK(report.ok);
  CHECK(report.map_notes == 2);
  // The proofs of the stream map at size 40 give each stream's count then.
  for (uint64_t s = 0; s < kStreams; ++s) {
    Result<streammap::Proof> p = log->StreamMapProof(StreamOf(s), kEarlyCheckpoint);
    REQUIRE(p.ok());
    CHECK(p->end == streammap::Proof::End::kStream);
    CHECK(p->summary.count == kEarlyCheckpoint / kStreams);
    CHECK(p->summary.last_position == kEarlyCheckpoint - kStreams + s);
    streammap::Summary expected;
    for (uint64_t i = s; i < kEarlyCheckpoint; i += kStreams) streammap::Add(expected, i, LeafHash(store.events[i]));
    CHECK(p->summary == expected);
    Result<std::string> body = log->verifier()->Open(*log->MapNote(kEarlyCheckpoint).value());
    REQUIRE(body.ok());
    Result<streammap::MapNote> n = streammap::ParseMapNote(*body);
    REQUIRE(n.ok());
    CHECK(*streammap::RootFromProof(StreamOf(s), *p) == n->map_root);
  }
  Result<streammap::Proof> absent = log->StreamMapProof("customer-99", kEvents);
  REQUIRE(absent.ok());
  CHECK(absent->end != streammap::Proof::End::kStream);
  CHECK(log->StreamMapProof(StreamOf(0), 41).status().code() == StatusCode::kNotFound);
}

TEST_CASE("Verify refuses a validly signed stream map note over a map that leaves an event out", "[tamper][stream_map]") {
  TamperedStore store;
  const std::optional<note::SigningKey> key = store.SigningKey();
  // The map of the first 40 events without the newest event of customer-3:
  // what a log that hides an awkward event would sign.
  std::map<std::string, streammap::Summary> summaries;
  for (uint64_t i = 0; i < kEarlyCheckpoint; ++i) {
    if (i == kEarlyCheckpoint - 1) continue;
    streammap::Add(summaries[StreamOf(i)], i, LeafHash(store.events[i]));
  }
  streammap::MemoryNodes nodes;
  std::vector<streammap::Change> changes;
  for (const auto& [stream, s] : summaries) changes.push_back({streammap::KeyOf(stream), s});
  Result<Hash256> lying_root = streammap::Update(nodes, streammap::kEmpty, changes);
  REQUIRE(lying_root.ok());
  const note::Checkpoint cp = OpenCheckpoint(key->verifier(), store.notes[0]);
  Result<std::string> signed_note =
      key->Sign(streammap::MapNoteBody({"custodian.local/log", kEarlyCheckpoint, cp.root, *lying_root}));
  REQUIRE(signed_note.ok());
  {
    RawStore raw(store.dir);
    raw.Put(keys::kMetaFamily, "mapnote/" + keys::EncodeU64(kEarlyCheckpoint), *signed_note);
  }
  VerifyReport report = store.Verify();
  INFO(report.problem);
  CHECK_FALSE(report.ok);
  CHECK(Contains(report.problem, "signed stream map note of size 40 has map root " + HexOf(*lying_root)));
}

TEST_CASE("Streams written in one group commit are each in the stream map with their own counts",
          "[tamper][stream_map]") {
  TempDir tmp;
  FixedClock clock(kTestNow);
  std::unique_ptr<EventLog> log = OpenTestLog(tmp.Sub("store"), &clock);
  std::vector<AppendRequest> batch;
  for (int i = 0; i < 9; ++i) {
    const std::string stream = "customer-" + std::to_string(i % 3);
    batch.push_back({stream, ExpectedVersion::Any(), {MakeEvent(stream, "note.added", DataOf(i))}});
  }
  Result<std::vector<AppendResult>> r = log->AppendBatch(std::move(batch));
  REQUIRE(r.ok());
  REQUIRE(log->SignCheckpoint().ok());
  for (int s = 0; s < 3; ++s) {
    Result<streammap::Proof> p = log->StreamMapProof("customer-" + std::to_string(s), 9);
    REQUIRE(p.ok());
    CHECK(p->end == streammap::Proof::End::kStream);
    CHECK(p->summary.count == 3);
    CHECK(p->summary.last_position == static_cast<uint64_t>(6 + s));
  }
  // Signing again with nothing new gives the same map; a new event moves only its stream.
  REQUIRE(log->SignCheckpoint().ok());
  REQUIRE(log->Append("customer-1", {MakeEvent("customer-1", "note.added", DataOf(9))}).ok());
  REQUIRE(log->SignCheckpoint().ok());
  CHECK(log->StreamMapProof("customer-1", 10)->summary.count == 4);
  CHECK(log->StreamMapProof("customer-0", 10)->summary == log->StreamMapProof("customer-0", 9)->summary);
  Result<VerifyReport> report = log->Verify();
  REQUIRE(report.ok());
  INFO(report->problem);
  CHECK(report->ok);
  CHECK(report->map_notes == 2);
}

}  // namespace
}  // namespace custodian
