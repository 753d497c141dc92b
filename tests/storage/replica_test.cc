// One node's store as a copy of a log of record (EventLogOptions::replica,
// storage/replicated_round.h): the writer publishes each round before writing
// it, a follower applies the rounds and computes the same tree; a follower
// refuses a round that does not come out as the writer said. The log of
// record here is a vector of published rounds (the cluster tests run the
// real one, NATS JetStream, in tests/cluster/); the faults are injected
// through the replicator.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "core/record.h"
#include "core/rules.h"
#include "core/time.h"
#include "storage/event_log.h"
#include "storage/replicated_round.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

using testing::EventBy;
using testing::FixedClock;
using testing::TempDir;


// The published rounds, in sequence order (sequence = index + 1).
struct Published {
  std::mutex mu;
  std::vector<std::string> rounds;
  EventLog::Replicator Replicator() {
    return [this](std::string_view round, uint64_t after) -> Result<uint64_t> {
      std::lock_guard lk(mu);
      if (after != rounds.size()) {
        return Status::Unavailable("expected last sequence " + std::to_string(after) + ", the log holds " +
                                   std::to_string(rounds.size()));
      }
      rounds.emplace_back(round);
      return rounds.size();
    };
  }
};

struct Node {
  TempDir tmp;
  FixedClock clock{*ParseRfc3339("2026-02-01T00:00:00Z")};
  std::unique_ptr<EventLog> log;
  std::string master_key_file;  // empty: a key directory of its own
  std::function<Status(const Event&, RuleState&)> rules = CheckRules;
  Node() { Open(); }
  explicit Node(std::string master) : master_key_file(std::move(master)) { Open(); }
  void Open() {
    log.reset();
    EventLogOptions options;
    options.create = CreateIfMissing::kYes;
    options.clock = &clock;
    options.rules = rules;
    options.replica = true;
    options.master_key_file = master_key_file.empty() ? tmp.Sub("keys/master.key") : master_key_file;
    Result<std::unique_ptr<EventLog>> r = EventLog::Open(tmp.Sub("store"), options);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    log = std::move(*r);
  }
};

void ApplyAll(Node& node, const std::vector<std::string>& rounds) {
  for (size_t i = 0; i < rounds.size(); ++i) {
    Status s = node.log->ApplyRound(rounds[i], i + 1);
    INFO("sequence " << i + 1 << ": " << s.ToString());
    REQUIRE(s.ok());
  }
}

void Seed(EventLog& log) {
  REQUIRE(log.Append("staff-1", {EventBy("staff-1", "staff.joined", "system:hr", R"({"role":"account_executive"})")}).ok());
  REQUIRE(log.Append("staff-2", {EventBy("staff-2", "staff.joined", "system:hr", R"({"role":"account_executive"})")}).ok());
}

TEST_CASE("a follower applying the writer's rounds holds the same log, tree and rule state", "[replica]") {
  Published published;
  Node writer, follower;
  writer.log->SetReplicator(published.Replicator());
  Seed(*writer.log);
  // Concurrent appenders, so that rounds carry several writes; some with
  // personal parts (sealed by the writer), some retried, some refused.
  // Catch2's assertions are not thread-safe: the threads count, the test checks.
  std::vector<std::thread> threads;
  std::atomic<int> refused{0}, failed{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string customer = "customer-" + std::to_string(t * 100 + i);
        Event reg = EventBy(customer, "customer.registered", "staff-1", R"({"name":"Acme )" + std::to_string(i) + "\"}");
        Event contact = EventBy(customer, "contact.added", "staff-2", R"({"contact_id":"c-1"})",
                           R"({"name":"Ana Lima","email":"ana)" + std::to_string(i) + R"(@acme.example"})");
        if (!writer.log->Append(customer, {reg, contact}, ExpectedVersion::NoStream()).ok()) ++failed;
        // The same write again: idempotent, nothing new.
        if (!writer.log->Append(customer, {reg, contact}, ExpectedVersion::NoStream()).ok()) ++failed;
        // An actor who never joined: refused by the rules, on the writer only.
        if (!writer.log->Append(customer, {EventBy(customer, "note.added", "staff-9", R"({"text":"x"})")}).ok()) ++refused;
      }
    });
  }
  for (auto& th : threads) th.join();
  REQUIRE(failed == 0);
  CHECK(refused == 100);
  REQUIRE(writer.log->end().value() == 2 + 200);
  CHECK(writer.log->applied_sequence() == published.rounds.size());
  CHECK(published.rounds.size() < 2 + 100);  // group commit: fewer rounds than writes

  ApplyAll(follower, published.rounds);
  CHECK(follower.log->end() == writer.log->end());
  CHECK(follower.log->applied_sequence() == writer.log->applied_sequence());
  Result<TreeHead> a = writer.log->Head(), b = follower.log->Head();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->root == b->root);
  CHECK(a->size == b->size);
  // The same records, byte for byte, and the same stream versions.
  Result<std::vector<Event>> wa = writer.log->ReadAll(Position(0), 1000), fa = follower.log->ReadAll(Position(0), 1000);
  REQUIRE(wa.ok());
  REQUIRE(fa.ok());
  REQUIRE(wa->size() == fa->size());
  for (size_t i = 0; i < wa->size(); ++i) {
    CHECK((*wa)[i].id == (*fa)[i].id);
    CHECK((*wa)[i].version == (*fa)[i].version);
    CHECK((*wa)[i].recorded_at == (*fa)[i].recorded_at);
    CHECK((*wa)[i].personal == (*fa)[i].personal);
  }
  VerifyReport report = follower.log->Verify();
  INFO(report.problem);
  CHECK(report.ok);
  // The rule state came along: staff-9 is still unknown on the follower, and
  // a personal part the follower holds no key for says so instead of failing.
  Result<std::optional<std::string>> staff = follower.log->RuleRecord("staff/staff-1");
  REQUIRE(staff.ok());
  CHECK(staff->has_value());
  const Event& contact = (*fa)[3];
  REQUIRE(!contact.personal.empty());
  Result<EventLog::PersonalView> view = follower.log->OpenPersonal(contact);
  REQUIRE(view.ok());
  CHECK(view->state == EventLog::PersonalView::State::kUnavailable);
  CHECK_THAT(view->why, Catch::Contains("holds no key"));
  Result<EventLog::PersonalView> on_writer = writer.log->OpenPersonal((*wa)[3]);
  REQUIRE(on_writer.ok());
  CHECK(on_writer->state == EventLog::PersonalView::State::kOpen);

  // Opened as a store of its own (not a replica), it refuses appends that would fork it.
  {
    follower.log.reset();
    EventLogOptions plain;
    plain.clock = &follower.clock;
    plain.rules = CheckRules;
    plain.master_key_file = follower.tmp.Sub("keys/master.key");
    Result<std::unique_ptr<EventLog>> alone = EventLog::Open(follower.tmp.Sub("store"), plain);
    REQUIRE(alone.ok());
    Result<AppendResult> fork =
        (*alone)->Append("staff-7", {EventBy("staff-7", "staff.joined", "system:hr", R"({"role":"account_executive"})")});
    REQUIRE_FALSE(fork.ok());
    CHECK(fork.status().code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(fork.status().message(), Catch::Contains("would fork it"));
    alone->reset();
    follower.Open();
  }
  // Applying a round again changes nothing; the sequence survives a reopen.
  const auto end = follower.log->end();
  REQUIRE(follower.log->ApplyRound(published.rounds.front(), 1).ok());
  CHECK(follower.log->end() == end);
  follower.Open();
  CHECK(follower.log->applied_sequence() == published.rounds.size());
  CHECK(follower.log->end() == end);
}

// The cluster's key share (cluster/jetstream.cc keeps it in a stream; here a
// map that keeps each subject's first record, as that stream does, and that
// can be unreachable).
struct SharedKeys {
  std::mutex mu;
  std::map<std::string, std::string> last;
  bool down = false;
  std::shared_ptr<const EventLog::KeyShare> Share() {
    auto share = std::make_shared<EventLog::KeyShare>();
    share->put = [this](const std::vector<std::pair<std::string, std::string>>& records) {
      std::lock_guard lk(mu);
      if (down) return Status::Unavailable("the key share answers nothing");
      // Every record it can take (a share may also stop at the first conflict).
      bool conflict = false;
      for (const auto& [subject, record] : records) {
        auto [it, first] = last.try_emplace(subject, record);
        conflict = conflict || (!first && it->second != record);
      }
      return conflict ? Status::Conflict("another data key for a person of this round") : Status::Ok();
    };
    share->get = [this](const std::string& subject) -> Result<std::optional<std::string>> {
      std::lock_guard lk(mu);
      auto it = last.find(subject);
      return it == last.end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
    };
    share->erase = [this](const std::string& subject) {
      std::lock_guard lk(mu);
      last.erase(subject);
      return Status::Ok();
    };
    return share;
  }
};

// Applies the newest published round on `node`, which must take it.
void ApplyNewest(Node& node, const Published& published) {
  Status applied = node.log->ApplyRound(published.rounds.back(), published.rounds.size());
  INFO(applied.ToString());
  REQUIRE(applied.ok());
}

// The personal parts of `stream`'s events from version `from` on open on `node`.
void ExpectPartsOpen(Node& node, const std::string& stream, uint64_t from, size_t events) {
  Result<std::vector<Event>> read = node.log->ReadStream(stream, StreamVersion(0), Direction::kForward, 100);
  REQUIRE(read.ok());
  REQUIRE(read->size() == events);
  for (size_t i = from; i < events; ++i) {
    Result<EventLog::PersonalView> view = node.log->OpenPersonal((*read)[i]);
    REQUIRE(view.ok());
    INFO(view->why);
    CHECK(view->state == EventLog::PersonalView::State::kOpen);
  }
}

// A writer of a build before the token rules (or one whose view raced a
// revocation) wrote an event through a token revoked before it. A follower
// of this build does not check the token again (RuleState::Applying): the
// history the writer took never stops a node.
TEST_CASE("a follower applies a round with an event through a token revoked before it, as an earlier writer wrote it",
          "[replica]") {
  Published published;
  Node writer, follower;
  writer.rules = [](const Event& e, RuleState& state) {  // no token checks, as before recorded_by had rules
    Event without = e;
    without.recorded_by.clear();
    return CheckRules(without, state);
  };
  writer.Open();
  writer.log->SetReplicator(published.Replicator());
  const std::string hash = "sha256:" + std::string(64, 'a');
  REQUIRE(writer.log->Append("staff-1", {EventBy("staff-1", "staff.joined", "system:hr", R"({"role":"admin"})")}).ok());
  REQUIRE(writer.log
              ->Append("tokens",
                       {EventBy("tokens", "token.created", "staff-1",
                                R"({"token_id":"tok-1","role":"admin","name":"n","staff":"staff-1","secret_hash":")" +
                                    hash + R"("})"),
                        EventBy("tokens", "token.revoked", "staff-1", R"({"token_id":"tok-1"})")})
              .ok());
  Event late = EventBy("customer-1", "customer.registered", "staff-1", R"({"name":"Acme"})");
  late.recorded_by = "tok-1";
  REQUIRE(writer.log->Append("customer-1", {late}).ok());
  ApplyAll(follower, published.rounds);
  CHECK(follower.log->end() == writer.log->end());
  // This build's rules would refuse it from a client: the follower applied what it would not take.
  Event again = late;
  again.id = testing::RandomId();
  Status own = follower.log->CheckRules(std::span<const Event>(&again, 1));
  CHECK(own.code() == StatusCode::kRuleViolation);
  CHECK_THAT(own.message(), Catch::Contains("tok-1, revoked at position"));
  Result<TreeHead> a = writer.log->Head(), b = follower.log->Head();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->root == b->root);
}

TEST_CASE("a writer that lost its term keeps no data key it made: the next writer's key is the one in force on it",
          "[replica]") {
  TempDir keys;  // one key directory, as every node of a cluster has
  const std::string master = keys.Sub("master.key");
  Published published;
  SharedKeys shared;
  Node a(master);
  a.log->SetKeyShare(shared.Share());
  a.log->SetReplicator(published.Replicator());
  Seed(*a.log);
  REQUIRE(a.log->Append("customer-1", {EventBy("customer-1", "customer.registered", "staff-1", R"({"name":"Acme"})")})
              .ok());
  Node b(master);
  b.log->SetKeyShare(shared.Share());
  ApplyAll(b, published.rounds);

  // A seals a contact's part with a key of its own, but its round goes
  // nowhere (the key share does not answer, its term is over); the key
  // stays unshared.
  const std::string contact = R"({"contact_id":"c-1"})";
  shared.down = true;
  Result<AppendResult> lost =
      a.log->Append("customer-1", {EventBy("customer-1", "contact.added", "staff-2", contact, R"({"name":"Ana Lima"})")});
  REQUIRE_FALSE(lost.ok());
  CHECK(lost.status().code() == StatusCode::kUnavailable);
  a.log->SetReplicator(nullptr);  // A follows now
  shared.down = false;

  // B writes: it makes the contact's key, shares it and publishes the round.
  b.log->SetReplicator(published.Replicator());
  Event added = EventBy("customer-1", "contact.added", "staff-2", contact, R"({"name":"Ana Lima","phone":"+49 30 1"})");
  REQUIRE(b.log->Append("customer-1", {added}).ok());
  REQUIRE(shared.last.size() == 1);

  // A applies B's round and opens B's part with B's key.
  ApplyNewest(a, published);
  CHECK(a.log->key_share_problem().empty());
  ExpectPartsOpen(a, "customer-1", 1, 2);
  // ... also from its own store, once its memory is gone.
  a.Open();
  ExpectPartsOpen(a, "customer-1", 1, 2);
}

TEST_CASE("a writer behind the cluster that seals with a key of its own is refused by the key share, then seals "
          "with the cluster's key",
          "[replica]") {
  TempDir keys;
  const std::string master = keys.Sub("master.key");
  Published published;
  SharedKeys shared;
  Node a(master), b(master);
  a.log->SetKeyShare(shared.Share());
  b.log->SetKeyShare(shared.Share());
  a.log->SetReplicator(published.Replicator());
  Seed(*a.log);
  REQUIRE(a.log->Append("customer-1", {EventBy("customer-1", "customer.registered", "staff-1", R"({"name":"Acme"})")})
              .ok());
  ApplyAll(b, published.rounds);

  // B takes over and writes the contact, sealed with its key K1; A has not
  // applied that round and still thinks it writes.
  const std::string contact = R"({"contact_id":"c-1"})";
  b.log->SetReplicator(published.Replicator());
  REQUIRE(b.log->Append("customer-1", {EventBy("customer-1", "contact.added", "staff-2", contact,
                                                R"({"name":"Ana Lima"})")})
              .ok());
  const std::map<std::string, std::string> before = shared.last;
  REQUIRE(before.size() == 1);

  // A seals the same person's part with its own key K2, and another
  // person's with a key K3 nobody has: the key share keeps K1 (and takes
  // K3), so the round is refused, and A takes K1 in K2's place and keeps K3.
  Event late = EventBy("customer-1", "note.added", "staff-2", R"({"text":"call back","contact_id":"c-1"})",
                       R"({"notes":"Ana asked to be called on Monday"})");
  Event other = EventBy("customer-1", "contact.added", "staff-2", R"({"contact_id":"c-2"})", R"({"name":"Ben Ode"})");
  Result<AppendResult> refused = a.log->Append("customer-1", {late, other});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(refused.status().message(), Catch::Contains("another data key"));
  REQUIRE(shared.last.size() == 2);
  CHECK(shared.last.begin()->second == before.begin()->second);
  const std::map<std::string, std::string> after = shared.last;
  // Sent again at once: sealed with K1 and K3 now, which the key share
  // holds; the round is refused only because A is behind the log of record.
  refused = a.log->Append("customer-1", {late, other});
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.status().message(), !Catch::Contains("another data key"));
  CHECK_THAT(refused.status().message(), Catch::Contains("expected last sequence"));

  // Caught up, A writes the parts again: sealed with K1 and K3, and B opens them.
  ApplyNewest(a, published);
  b.log->SetReplicator(nullptr);
  REQUIRE(a.log->Append("customer-1", {late, other}).ok());
  CHECK(shared.last == after);
  ApplyNewest(b, published);
  CHECK(b.log->key_share_problem().empty());
  ExpectPartsOpen(b, "customer-1", 2, 4);
}

TEST_CASE("a follower refuses appends, and a writer whose log of record refuses writes nothing", "[replica]") {
  Node node;
  Result<AppendResult> r = node.log->Append("staff-1", {EventBy("staff-1", "staff.joined", "system:hr", R"({"role":"x"})")});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(r.status().message(), Catch::Contains("follower"));
  CHECK(node.log->end().value() == 0);

  // Certainly not published (another writer got there first): refused, nothing written, the log goes on.
  bool refuse = true;
  Published published;
  auto inner = published.Replicator();
  node.log->SetReplicator([&](std::string_view round, uint64_t after) -> Result<uint64_t> {
    if (refuse) return Status::Unavailable("wrong last sequence");
    return inner(round, after);
  });
  r = node.log->Append("staff-1", {EventBy("staff-1", "staff.joined", "system:hr", R"({"role":"account_executive"})")});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kUnavailable);
  CHECK(node.log->end().value() == 0);
  refuse = false;
  REQUIRE(node.log->Append("staff-1", {EventBy("staff-1", "staff.joined", "system:hr", R"({"role":"account_executive"})")})
              .ok());
  CHECK(node.log->end().value() == 1);
  CHECK(node.log->applied_sequence() == 1);

  // Maybe published (a timeout): the log stops, as after a failed write.
  node.log->SetReplicator([](std::string_view, uint64_t) -> Result<uint64_t> {
    return Status::IoError("no acknowledgement within 5 s");
  });
  r = node.log->Append("staff-2", {EventBy("staff-2", "staff.joined", "system:hr", R"({"role":"account_executive"})")});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kIoError);
  node.log->SetReplicator(published.Replicator());
  r = node.log->Append("staff-3", {EventBy("staff-3", "staff.joined", "system:hr", R"({"role":"account_executive"})")});
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("may or may not hold"));
  CHECK(node.log->end().value() == 1);
}

TEST_CASE("a follower refuses a round that does not apply as the writer said, and stops", "[replica]") {
  Published published;
  Node writer;
  writer.log->SetReplicator(published.Replicator());
  Seed(*writer.log);
  REQUIRE(writer.log->Append("customer-1", {EventBy("customer-1", "customer.registered", "staff-1", R"({"name":"A"})")}).ok());
  REQUIRE(published.rounds.size() == 3);

  SECTION("a gap: round 2 before round 1") {
    Node follower;
    Status s = follower.log->ApplyRound(published.rounds[1], 2);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains("this store holds sequence 0"));
    // Stopped: not even the right round applies now.
    CHECK_FALSE(follower.log->ApplyRound(published.rounds[0], 1).ok());
    CHECK(follower.log->end().value() == 0);
  }
  SECTION("an altered event: the tree does not come out as the writer's") {
    Node follower;
    ApplyAll(follower, {published.rounds[0], published.rounds[1]});
    std::string forged = published.rounds[2];
    const size_t at = forged.find("\"A\"");
    REQUIRE(at != std::string::npos);
    forged[at + 1] = 'B';
    Status s = follower.log->ApplyRound(forged, 3);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains("on the writer"));
    CHECK(follower.log->end().value() == 2);
  }
  SECTION("a round the rules refuse here (the follower is a witness, not a copier)") {
    Node follower;
    // A round by someone who never joined, at the right place.
    Event e = EventBy("customer-1", "note.added", "staff-9", R"({"text":"x"})");
    e.position = Position(0);
    e.recorded_at = *ParseRfc3339("2026-02-01T00:00:00Z");
    std::vector<AppendRequest> requests{{"customer-1", ExpectedVersion::Any(), {e}}};
    std::string round = EncodeRoundHeader(0, 0, 1, e.recorded_at, Hash256{}, 1);
    EncodeRoundWrite(requests, {EncodeRecord(e)}, &round);
    Status s = follower.log->ApplyRound(round, 1);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(s.message(), Catch::Contains("refused here"));
    CHECK_THAT(s.message(), Catch::Contains("staff-9"));
    CHECK(follower.log->end().value() == 0);
  }
  SECTION("bytes that are not a round") {
    Node follower;
    Status s = follower.log->ApplyRound("not a round at all", 1);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == StatusCode::kCorruption);
    Result<ReplicatedRound> cut = DecodeRound(std::string_view(published.rounds[0]).substr(0, 40));
    CHECK_FALSE(cut.ok());
    // A header that claims 2^24 writes, each of 2^24 requests, in a few
    // bytes: refused where the bytes end, having allocated nothing for them
    // (sizing by the counts took gigabytes and aborted the node).
    Hash256 root{};
    std::string claims = EncodeRoundHeader(1, 0, 1, Timestamp(0), root, 1u << 24);
    claims.append("\x00\x00\x00\x01", 4);
    for (int i = 0; i < 4; ++i) claims.append("\x00\x00\x00\x01", 4);
    Result<ReplicatedRound> greedy = DecodeRound(claims);
    REQUIRE_FALSE(greedy.ok());
    CHECK(greedy.status().code() == StatusCode::kCorruption);
    CHECK(testing::WithinMemory(size_t{64} << 20, [&] { return !DecodeRound(claims).ok(); }));
    // A clean refusal before the writer thread: the follower goes on.
    REQUIRE(follower.log->ApplyRound(published.rounds[0], 1).ok());
  }
}

TEST_CASE("a round of an older writer's epoch is void on every node, and a writer of an older epoch publishes nothing",
          "[replica]") {
  Published published;
  Node first;  // the writer of epoch 2, then (paused, resumed) thinking it still is
  first.log->SetReplicator(published.Replicator(), 2);
  Seed(*first.log);
  Node newer;  // the writer of epoch 3, after catching up
  ApplyAll(newer, published.rounds);
  newer.log->SetReplicator(published.Replicator(), 3);
  REQUIRE(newer.log->Append("customer-1", {EventBy("customer-1", "customer.registered", "staff-1", R"({"name":"A"})")}).ok());
  // The stale writer's round lands in the log of record behind it (as two
  // racing publishes can on nats-server 2.9.10): here, by hand.
  Node stale_source;
  ApplyAll(stale_source, {published.rounds[0], published.rounds[1]});
  Published stale;
  stale.rounds = {published.rounds[0], published.rounds[1]};
  stale_source.log->SetReplicator(stale.Replicator(), 2);
  REQUIRE(stale_source.log->Append("customer-2", {EventBy("customer-2", "customer.registered", "staff-1", R"({"name":"B"})")})
              .ok());
  published.rounds.push_back(stale.rounds.back());  // sequence 4: epoch 2, after epoch 3's sequence 3

  // Every follower applies sequence 4 as void: the same log everywhere.
  Node follower;
  ApplyAll(follower, published.rounds);
  CHECK(follower.log->end().value() == 3);
  CHECK(follower.log->applied_sequence() == 4);
  Result<std::vector<Event>> none = follower.log->ReadStream("customer-2", StreamVersion(0), Direction::kForward, 10);
  REQUIRE(none.ok());
  CHECK(none->empty());
  REQUIRE(newer.log->ApplyRound(published.rounds[3], 4).ok());
  CHECK(newer.log->end().value() == 3);
  Result<TreeHead> a = follower.log->Head(), b = newer.log->Head();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->root == b->root);
  // A writer whose epoch is older than one its store holds publishes nothing.
  const size_t before = published.rounds.size();
  follower.log->SetReplicator(published.Replicator(), 2);
  Result<AppendResult> r = follower.log->Append("customer-3", {EventBy("customer-3", "customer.registered", "staff-1", R"({"name":"C"})")});
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("older than epoch 3"));
  CHECK(published.rounds.size() == before);
}

}  // namespace
}  // namespace custodian
