// EventLog's write path: validation in the caller's thread, then one writer
// thread with group commit (DESIGN.md, Storage, "Write path").
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <future>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "core/canonical.h"
#include "core/personal.h"
#include "core/record.h"
#include "core/rules.h"
#include "core/validation.h"
#include "storage/event_log.h"
#include "storage/event_log_internal.h"
#include "storage/forward_pool.h"
#include "storage/id_index.h"
#include "storage/key_vault.h"
#include "storage/keys.h"
#include "storage/replicated_round.h"

namespace custodian {

namespace {
// The writer forgets cached stream heads past this many streams (memory bound).
constexpr size_t kMaxCachedStreams = 1'000'000;
// ... and cached rule state past this many records.
constexpr size_t kMaxCachedRules = 1'000'000;
// Writes of at least this many events look their ids up in the caller's thread.
constexpr size_t kCallerLookupAtLeast = 32;
// Rule state lives in the meta family under this prefix (docs/event-format.md).
const std::string kRulePrefix = "rule/";
// What a round's batch holds per event besides its record: the event and
// stream-index entries' framing, keys and value, and the event's ~2 Merkle
// hashes (a generous estimate for stream names of up to ~40 bytes).
constexpr size_t kBatchBytesPerEvent = 160;
}  // namespace

// Everything one group commit adds, before it is known to be on disk.
struct EventLog::RoundState {
  explicit RoundState(size_t reserved_bytes) : batch(reserved_bytes) {}
  rocksdb::WriteBatch batch;
  bool applying = false;  // a round of the log of record another node's writer checked (RuleState::Applying)
  uint64_t next_position = 0;
  Timestamp recorded_at;
  uint64_t new_streams = 0;
  MerkleFrontier frontier;  // the committed tree plus this round's leaves
  std::string merkle_hashes;  // the subtrees this round completes, in order
  StreamNextViews stream_next;  // the streams this round's writes looked at, and their next versions
  struct Written {
    Position position;
    StreamVersion version;
    std::string_view content;  // CanonicalContent, in its op (alive all round)
    const Event* event;        // in its op too: what a later write's rules may look at
  };
  boost::unordered_flat_map<EventId, Written, EventIdHash> ids;
  std::unordered_map<std::string, std::string> rules;  // rule state written this round
  struct Erasure {
    ErasureOf what;
    uint64_t position;
  };
  std::vector<Erasure> erasures;  // subject.erased accepted this round: keys to destroy once written
  // "b/" keys of the round (in their ops): not in its batch; the blind
  // index's tail takes them once the round is written (KeyVault::IndexWritten).
  std::vector<std::string_view> blind;
};

Result<AppendResult> EventLog::Append(std::string stream, std::vector<Event> events, ExpectedVersion expected) {
  std::vector<AppendRequest> requests(1);
  requests[0].stream = std::move(stream);
  requests[0].expected = expected;
  requests[0].events = std::move(events);
  Result<std::vector<AppendResult>> r = Submit(std::move(requests));
  if (!r.ok()) return r.status();
  return std::move(r->front());
}

Result<std::vector<AppendResult>> EventLog::AppendBatch(std::vector<AppendRequest> requests) {
  return Submit(std::move(requests));
}

Result<std::vector<AppendResult>> EventLog::AppendBatch(std::vector<AppendRequest> requests, ForwardWait wait) {
  return Submit(std::move(requests), wait);
}

std::future<Result<std::vector<AppendResult>>> EventLog::AppendBatchAsync(std::vector<AppendRequest> requests) {
  return SubmitAsync(std::move(requests));
}

// A synchronous append waits on the log's one completion condition rather
// than a future of its own: the writer then wakes a whole round's callers with
// one notify_all instead of one promise each (with 32 appenders, a futex
// wake per caller took a fifth of the writer's time).
Result<std::vector<AppendResult>> EventLog::Submit(std::vector<AppendRequest> requests, ForwardWait wait) {
  PendingWrite::Waiter waiter;
  auto op = std::make_unique<PendingWrite>();
  op->waiter = &waiter;
  op->forward_wait = wait;
  if (std::optional<Result<std::vector<AppendResult>>> now = Enqueue(std::move(requests), std::move(op))) {
    return std::move(*now);
  }
  std::unique_lock lk(done_mu_);
  done_cv_.wait(lk, [&] { return waiter.finished; });
  return std::move(*waiter.outcome);
}

void EventLog::AppendBatchThen(std::vector<AppendRequest> requests,
                               std::function<void(Result<std::vector<AppendResult>>)> done) {
  if (forward_pool_ && !failed_.load()) {
    // A follower: the writer checks, seals and writes them, and answers after
    // a round trip at best, so they wait on the pool's threads, not on the
    // caller's.
    std::lock_guard lk(queue_mu_);
    if (!replicator_ && forwarder_) {
      forward_pool_->Post([this, requests = std::move(requests), done = std::move(done)]() mutable {
        // The forwarder as it is now, not as it was when queued: a node that
        // stopped (SetForwarder(nullptr)) refuses at once instead of
        // reaching for the writer, and one that became the writer writes.
        std::shared_ptr<const Forwarder> forward;
        {
          std::lock_guard lk(queue_mu_);
          if (!replicator_) forward = forwarder_;
        }
        if (forward) return done((*forward)(requests, ForwardWait::kWait));
        AppendBatchThen(std::move(requests), std::move(done));  // now written here, or refused
      });
      return;
    }
  }
  auto op = std::make_unique<PendingWrite>();
  op->then = done;
  if (std::optional<Result<std::vector<AppendResult>>> now = Enqueue(std::move(requests), std::move(op))) {
    done(std::move(*now));
  }
}

std::future<Result<std::vector<AppendResult>>> EventLog::SubmitAsync(std::vector<AppendRequest> requests) {
  auto op = std::make_unique<PendingWrite>();
  auto future = op->done.get_future();
  if (std::optional<Result<std::vector<AppendResult>>> now = Enqueue(std::move(requests), std::move(op))) {
    std::promise<Result<std::vector<AppendResult>>> p;
    p.set_value(std::move(*now));
    return p.get_future();
  }
  return future;
}

std::optional<Result<std::vector<AppendResult>>> EventLog::Enqueue(std::vector<AppendRequest> requests,
                                                                   std::unique_ptr<PendingWrite> op) {
  using Outcome = std::optional<Result<std::vector<AppendResult>>>;
  auto ready = [](Result<std::vector<AppendResult>> r) { return Outcome(std::move(r)); };
  if (read_only()) {
    return ready(
        Status::FailedPrecondition("the store at " + dir_ + " is open read-only; appends need a read-write open"));
  }
  if (failed_.load()) {
    std::lock_guard lk(queue_mu_);
    return ready(Status::FailedPrecondition("the log stopped accepting appends after a failed write (" + failure_ +
                                            "); reopen the store"));
  }
  if (!options_.replica && applied_sequence() > 0) {
    return ready(Status::FailedPrecondition(
        "the store at " + dir_ + " is a node of a cluster (it holds sequence " + std::to_string(applied_sequence()) +
        " of the log of record): an append here would fork it; append through the cluster (docs/scale-out.md)"));
  }
  if (options_.replica) {
    std::shared_ptr<const Forwarder> forward;
    {
      std::lock_guard lk(queue_mu_);
      if (!replicator_) forward = forwarder_;
      if (!replicator_ && !forward) {
        return ready(Status::Unavailable(
            "this node is a follower of the log of record (docs/scale-out.md) and reaches no writer; append on the "
            "partition writer"));
      }
    }
    if (forward) return ready((*forward)(requests, op->forward_wait));  // the writer checks, seals and writes them
  }
  const Timestamp now = clock_->Now();
  size_t count = 0;
  for (const AppendRequest& r : requests) count += r.events.size();
  op->contents.reserve(count);
  op->records.reserve(count);
  boost::unordered_flat_map<EventId, size_t, EventIdHash> seen;
  seen.reserve(count);
  size_t index = 0;
  for (AppendRequest& r : requests) {
    if (Status s = ValidateStreamName(r.stream); !s.ok()) return ready(s);
    for (Event& e : r.events) {
      ++index;
      if (e.stream != r.stream) {
        return ready(Status::InvalidArgument("event #" + std::to_string(index) + " (" + e.id.ToString() +
                                             ") names stream " + e.stream + " but is appended to " + r.stream));
      }
      // A personal part is checked as it is sealed, below (once, not twice).
      if (Status s = ValidateEvent(e, now, vault_ ? PersonalCheck::kBySealer : PersonalCheck::kHere); !s.ok()) {
        return ready(s.WithContext("event #" + std::to_string(index) + " (" + e.id.ToString() + ")"));
      }
      auto [it, inserted] = seen.emplace(e.id, index);
      if (!inserted) {
        return ready(Status::InvalidArgument("event id " + e.id.ToString() + " appears twice in this batch (events #" +
                                             std::to_string(it->second) + " and #" + std::to_string(index) +
                                             "); an id names one event"));
      }
      if (e.type == "subject.erased" && !vault_) {
        return ready(vault_problem_.WithContext("event #" + std::to_string(index) + " (" + e.id.ToString() +
                                                ") erases a subject, whose key cannot be destroyed"));
      }
      if (!e.personal_plain.empty()) {
        // Sealed here, in the caller's thread: only the sealed part is ever
        // written, hashed or compared.
        if (!vault_) {
          return ready(vault_problem_.WithContext("event #" + std::to_string(index) + " (" + e.id.ToString() +
                                                  ") has a personal part, which cannot be sealed"));
        }
        uint64_t key_tag = 0;
        Result<std::vector<std::string>> entries = vault_->Seal(e, &key_tag);
        if (!entries.ok()) {
          return ready(entries.status().WithContext("event #" + std::to_string(index) + " (" + e.id.ToString() + ")"));
        }
        op->blind.resize(count);
        op->blind[index - 1] = std::move(*entries);
        op->key_tags.push_back(key_tag);
      }
      op->contents.push_back(CanonicalContent(e));
      op->records.push_back(EncodeRecord(e));
      op->bytes += e.data.size() + e.stream.size() + e.type.size() + e.actor.size() + 96;
    }
  }
  op->events = index;
  if (index == 0) return ready(std::vector<AppendResult>(requests.size()));
  if (index >= kCallerLookupAtLeast) {
    // Looked up here, in the caller's thread; the writer only adds what
    // committed since. (Small writes are looked up by the writer, one
    // MultiGet per round, which costs less than one lookup per caller.)
    op->looked_up = true;
    std::vector<EventId> ids;
    ids.reserve(index);
    for (const AppendRequest& r : requests) {
      for (const Event& e : r.events) ids.push_back(e.id);
    }
    if (Status s = id_index_->Find(ids, &op->stored, &op->ids_generation); !s.ok()) return ready(s);
  }
  op->requests = std::move(requests);
  {
    std::lock_guard lk(queue_mu_);
    if (stopping_) return ready(Status::FailedPrecondition("the log is closing"));
    queue_.push_back(std::move(op));
  }
  queue_cv_.notify_one();
  return std::nullopt;  // queued: the writer completes it
}

void EventLog::WriterLoop() {
  std::vector<std::unique_ptr<PendingWrite>> round;
  std::shared_ptr<const Replicator> publish;
  uint64_t epoch = 0;
  const bool periodic = options_.checkpoint_interval.count() > 0 && signer_ != nullptr;
  writer_state_->last_checkpoint_time = std::chrono::steady_clock::now();
  while (true) {
    if (syncer_) {
      // At most one written round waits for the syncer: running further ahead
      // would take the queue before it has filled, and many small rounds cost
      // more than the fsyncs they share.
      std::unique_lock lk(sync_mu_);
      sync_cv_.wait(lk, [&] { return unsynced_.empty(); });
    }
    {
      std::unique_lock lk(queue_mu_);
      auto ready = [&] { return !queue_.empty() || stopping_; };
      if (periodic) {
        queue_cv_.wait_for(lk, options_.checkpoint_interval, ready);
      } else {
        queue_cv_.wait(lk, ready);
      }
      if (queue_.empty() && stopping_) return;  // everything queued is done
      if (queue_.empty()) {  // the periodic timer fired
        lk.unlock();
        MaybeSignCheckpoint();
        continue;
      }
      // Take as much as one round may carry, and always at least one write.
      // A round of the log of record (ApplyRound) is a round of its own.
      size_t bytes = 0, events = 0, n = 0;
      if (queue_.front()->pinned) {
        n = queue_.front()->pinned->writes;
      } else {
        while (n < queue_.size() && !queue_[n]->pinned &&
               (n == 0 || (bytes + queue_[n]->bytes <= options_.max_batch_bytes &&
                           events + queue_[n]->events <= options_.max_batch_events))) {
          bytes += queue_[n]->bytes;
          events += queue_[n]->events;
          ++n;
        }
      }
      round.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + n));
      queue_.erase(queue_.begin(), queue_.begin() + n);
      publish = round.front()->pinned ? nullptr : replicator_;
      epoch = replicator_epoch_;
    }
    ProcessRound(round, publish.get(), epoch);
    round.clear();
    if (periodic) MaybeSignCheckpoint();
  }
}

void EventLog::MaybeSignCheckpoint() {
  WriterState& ws = *writer_state_;
  const auto now = std::chrono::steady_clock::now();
  if (failed_.load() || end().value() <= ws.last_checkpoint_size ||
      now - ws.last_checkpoint_time < options_.checkpoint_interval) {
    return;
  }
  ws.last_checkpoint_time = now;
  // A failure here leaves the log as it was; the next interval tries again.
  Result<std::string> signed_note = SignCheckpoint();
  if (signed_note.ok()) ws.last_checkpoint_size = end().value();
}

void EventLog::Stop(const std::string& why) {
  {
    std::lock_guard lk(queue_mu_);
    failure_ = why;
  }
  failed_.store(true);
}

void EventLog::ProcessRound(std::vector<std::unique_ptr<PendingWrite>>& ops, const Replicator* publish,
                            uint64_t epoch) {
  WriterState& ws = *writer_state_;
  const PendingWrite::Pinned* pinned = ops.front()->pinned.get();
  auto failure_copy = [&] {
    std::lock_guard lk(queue_mu_);
    return failure_;
  };
  auto refuse_all = [&](const Status& why) {
    std::vector<Result<std::vector<AppendResult>>> refused(ops.size(), why);
    Complete(ops, refused);
  };
  if (pinned && pinned->sequence <= ws.applied_sequence) {  // applied before: nothing to do
    std::vector<Result<std::vector<AppendResult>>> done(ops.size(), std::vector<AppendResult>());
    Complete(ops, done);
    return;
  }
  if (pinned && !failed_.load() && (pinned->passed_over || pinned->epoch < ws.epoch) &&
      pinned->sequence == ws.applied_sequence + 1) {
    // A round of an older writer's term than one already applied (it
    // published after it lost its lease), or a message that is no round of
    // this cluster: void on every node alike. Only its sequence is recorded.
    rocksdb::WriteBatch batch;
    (void)batch.Put(meta_cf_, kMetaAppliedSequenceKey, keys::EncodeU64(pinned->sequence));
    if (Status s = FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "record a void round"); !s.ok()) {
      Stop(s.message());
      refuse_all(s);
      return;
    }
    ws.applied_sequence = pinned->sequence;
    std::vector<Result<std::vector<AppendResult>>> done(ops.size(), std::vector<AppendResult>());
    FinishRound(ops, done, ws.written_end);
    return;
  }
  if (pinned && !failed_.load() &&
      (pinned->sequence != ws.applied_sequence + 1 || pinned->first_position != ws.written_end)) {
    Stop("round " + std::to_string(pinned->sequence) + " of the log of record starts at position " +
         std::to_string(pinned->first_position) + " after sequence " + std::to_string(pinned->sequence - 1) +
         ", but this store holds sequence " + std::to_string(ws.applied_sequence) + " and ends at position " +
         std::to_string(ws.written_end));
  }
  // Not the writer (any more): the data keys made here and never shared may
  // not be the subjects' keys in the cluster (another writer may have made
  // theirs meanwhile), so they go, and writes sealed with them are refused.
  if (!pinned && publish != nullptr && epoch < ws.epoch && !failed_.load()) {
    if (vault_) vault_->DropUnsharedNewKeys();  // first: a write sent again is sealed afresh
    refuse_all(Status::Unavailable("this node's writer epoch " + std::to_string(epoch) + " is older than epoch " +
                                   std::to_string(ws.epoch) + ", which the log of record holds: another node writes"));
    return;
  }
  if (!pinned && options_.replica && publish == nullptr && !failed_.load()) {
    if (vault_) vault_->DropUnsharedNewKeys();
    refuse_all(Status::Unavailable(
        "this node is a follower of the log of record (docs/scale-out.md); append on the partition writer"));
    return;
  }
  if (pinned && vault_) vault_->DropUnsharedNewKeys();  // another writer's round: the cluster's keys hold
  if (failed_.load()) {
    std::string why;
    {
      std::lock_guard lk(queue_mu_);
      why = failure_;
    }
    std::vector<Result<std::vector<AppendResult>>> refused(
        ops.size(),
        Status::FailedPrecondition("the log stopped accepting appends after a failed write (" + why + "); reopen the store"));
    Complete(ops, refused);
    return;
  }
  // Sized up front: growing the batch would copy every record again, and
  // growing the maps would rehash them.
  size_t events = 0, requests = 0, record_bytes = 0;
  for (const auto& op : ops) {
    events += op->events;
    requests += op->requests.size();
    for (const std::string& record : op->records) record_bytes += record.size();
  }
  RoundState round(record_bytes + events * kBatchBytesPerEvent);
  round.applying = pinned != nullptr;
  round.ids.reserve(events);
  round.stream_next.reserve(requests);
  round.merkle_hashes.reserve(2 * events * sizeof(Hash256));
  round.next_position = ws.written_end;
  const uint64_t round_start = round.next_position;
  round.recorded_at = pinned ? pinned->recorded_at : std::max(clock_->Now(), ws.last_recorded_at);  // never decreasing
  if (pinned && round.recorded_at < ws.last_recorded_at) {
    Stop("round " + std::to_string(pinned->sequence) + " of the log of record was recorded at " +
         FormatRfc3339(round.recorded_at) + ", before this store's last event (" + FormatRfc3339(ws.last_recorded_at) + ")");
    refuse_all(Status::FailedPrecondition(failure_copy()));
    return;
  }
  round.frontier = ws.frontier;
  if (Status s = LookUpIds(ops); !s.ok()) {
    std::vector<Result<std::vector<AppendResult>>> failed(ops.size(), s);
    Complete(ops, failed);
    return;
  }

  std::vector<Result<std::vector<AppendResult>>> outcomes;
  std::vector<bool> wrote(ops.size(), false);
  outcomes.reserve(ops.size());
  std::vector<size_t> erasures_of(ops.size(), 0);  // how many of round.erasures each op staged
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!pinned && vault_ && !ops[i]->key_tags.empty() && vault_->SealedWithDropped(ops[i]->key_tags)) {
      outcomes.emplace_back(Status::Unavailable(
          "a personal part of this write was sealed with a data key this node dropped when it stopped writing (the "
          "cluster may hold another key for that person); nothing was written: send it again"));
      continue;
    }
    const uint32_t before = round.batch.Count();
    const size_t erasures_before = round.erasures.size();
    std::vector<AppendResult> results;
    Status s = StageWrite(*ops[i], round, &results);
    erasures_of[i] = round.erasures.size() - erasures_before;
    // An op that only repeats events staged earlier in this round wrote nothing
    // itself, but is no safer than they are if the round's write fails.
    wrote[i] = round.batch.Count() != before || ops[i]->depends_on_round;
    if (s.ok()) {
      outcomes.emplace_back(std::move(results));
    } else {
      outcomes.emplace_back(s);
    }
  }

  // A round of the log of record must come out here exactly as the writer
  // wrote it: every write accepted, the same positions.
  if (pinned) {
    std::string problem;
    for (size_t i = 0; i < outcomes.size() && problem.empty(); ++i) {
      if (!outcomes[i].ok()) problem = "its write " + std::to_string(i + 1) + " is refused here: " + outcomes[i].status().message();
    }
    if (problem.empty() && (round_start != pinned->first_position || round.next_position != pinned->end_position)) {
      problem = "it takes positions " + std::to_string(round_start) + ".." + std::to_string(round.next_position) +
                " here but " + std::to_string(pinned->first_position) + ".." + std::to_string(pinned->end_position) +
                " on the writer";
    }
    if (problem.empty() && round.frontier.Root() != pinned->root) {
      problem = "the tree of " + std::to_string(round.next_position) + " events has root " + HexOf(round.frontier.Root()) +
                " here but " + HexOf(pinned->root) + " on the writer";
    }
    if (!problem.empty()) {
      Stop("round " + std::to_string(pinned->sequence) + " of the log of record does not apply to this store: " + problem);
      refuse_all(Status::FailedPrecondition(failure_copy()));
      return;
    }
  }
  // The writer publishes the round to the log of record before writing it
  // here: the log of record's acknowledgement is the durability point.
  uint64_t sequence = pinned ? pinned->sequence : 0;
  // The writer of a cluster shares the round's new data keys before the
  // round reaches the log of record (KeyShare), then writes them with it.
  std::optional<std::vector<KeyVault::NewKey>> shared_keys;
  if (publish != nullptr && round.batch.Count() > 0 && vault_) {
    shared_keys = vault_->TakeNewKeyRecords();
    std::shared_ptr<const KeyShare> share;
    {
      std::lock_guard lk(key_share_mu_);
      share = key_share_;
    }
    if (share && !shared_keys->empty()) {
      std::vector<std::pair<std::string, std::string>> records;
      records.reserve(shared_keys->size());
      for (const KeyVault::NewKey& k : *shared_keys) records.emplace_back(k.subject, k.record);
      if (Status put = share->put(records); !put.ok()) {
        vault_->ReturnNewKeys(std::move(*shared_keys));
        if (put.code() == StatusCode::kConflict) {
          // Another writer's key for someone of this round is the cluster's
          // (shared first): adopted in place of ours, which go; the writes
          // sealed with them are refused, and sealed with the cluster's when
          // sent again. A key of ours the share took before the conflict is
          // the cluster's too: adopted as it is, so kept.
          for (const auto& [subject, record] : records) {
            Result<std::optional<std::string>> theirs = share->get(subject);
            if (!theirs.ok() || !*theirs) continue;
            if (!vault_->Adopt(subject, **theirs).ok()) {
              // Said without the subject, as every key-share problem (/healthz shows it).
              const std::string why = "a data key in the cluster's key share does not open with this node's master "
                                      "key (give every node the same key directory, docs/scale-out.md)";
              put = Status::FailedPrecondition(why);
              std::lock_guard lk(key_share_mu_);
              key_share_problem_ = why;
            }
          }
          vault_->DropUnsharedNewKeys();
        }
        for (size_t i = 0; i < ops.size(); ++i) {
          if (!wrote[i] || !outcomes[i].ok()) continue;
          outcomes[i] = Status::Unavailable("the cluster's key share did not take the round's new data keys (" +
                                            put.message() + "); nothing was written");
        }
        FinishRound(ops, outcomes, ws.written_end);
        return;
      }
    }
  }
  if (publish != nullptr && round.batch.Count() > 0) {
    uint32_t writes = 0;
    std::string body;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (!wrote[i] || !outcomes[i].ok()) continue;
      EncodeRoundWrite(ops[i]->requests, ops[i]->records, &body);
      ++writes;
    }
    std::string message =
        EncodeRoundHeader(epoch, round_start, round.next_position, round.recorded_at, round.frontier.Root(), writes);
    message += body;
    Result<uint64_t> published = (*publish)(message, ws.applied_sequence);
    if (!published.ok()) {
      const bool maybe = published.status().code() != StatusCode::kUnavailable;
      if (shared_keys) vault_->ReturnNewKeys(std::move(*shared_keys));
      if (maybe) {
        Stop("the log of record may or may not hold positions " + std::to_string(round_start) + ".." +
             std::to_string(round.next_position - 1) + " (" + published.status().message() + ")");
      }
      for (size_t i = 0; i < ops.size(); ++i) {
        if (!wrote[i] || !outcomes[i].ok()) continue;
        outcomes[i] = maybe ? Status::IoError(failure_copy() + "; the log refuses appends until it is reopened")
                            : published.status().WithContext("the log of record did not take the write");
      }
      FinishRound(ops, outcomes, ws.written_end);
      return;
    }
    sequence = *published;
  }

  const uint64_t round_epoch = pinned ? pinned->epoch : epoch;
  if (round.batch.Count() > 0) {
    if (sequence > 0) (void)round.batch.Put(meta_cf_, kMetaAppliedSequenceKey, keys::EncodeU64(sequence));
    if (sequence > 0 && round_epoch > ws.epoch) (void)round.batch.Put(meta_cf_, kMetaEpochKey, keys::EncodeU64(round_epoch));
    if (round.next_position > round_start) {
      // The tree grows in the same batch as the events: one segment per
      // round (docs/event-format.md, "merkle").
      (void)round.batch.Put(merkle_cf_, keys::MerkleSegmentKey(round.next_position),
                            keys::MerkleSegmentValue(round_start, round.merkle_hashes));
    }
    if (round.new_streams > 0) {
      (void)round.batch.Put(meta_cf_, keys::kMetaStreamCountKey, keys::EncodeU64(ws.stream_count + round.new_streams));
    }
    // The data keys sealed with since the last round, with the events.
    if (shared_keys) {
      vault_->PutKeys(*shared_keys, round.batch);
    } else if (vault_) {
      vault_->TakeNewKeys(round.batch, /*adopted_only=*/pinned != nullptr);
    }
    // Not synced here: FinishRound has the write-ahead log synced for this
    // round and any written meanwhile, by the syncer thread (or by this one
    // when nothing else is queued).
    rocksdb::Status s = db_->Write(rocksdb::WriteOptions(), &round.batch);
    if (!s.ok()) {
      const std::string why = "RocksDB write of positions " + std::to_string(ws.written_end) + ".." +
                              std::to_string(round.next_position - 1) + " failed: " + s.ToString();
      {
        std::lock_guard lk(queue_mu_);
        failure_ = why;
      }
      failed_.store(true);
      for (size_t i = 0; i < ops.size(); ++i) {
        if (wrote[i]) {
          outcomes[i] = Status::IoError(why + "; these events may or may not be on disk, and the log refuses "
                                              "appends until it is reopened");
        }
      }
    } else {
      if (ws.stream_next.size() + round.stream_next.size() > kMaxCachedStreams) ws.stream_next.clear();
      for (const auto& [stream, next] : round.stream_next) {
        if (auto it = ws.stream_next.find(stream); it != ws.stream_next.end()) {
          it->second = next;
        } else {
          ws.stream_next.emplace(std::string(stream), next);
        }
      }
      ws.stream_count += round.new_streams;
      ws.last_recorded_at = round.recorded_at;
      ws.frontier = std::move(round.frontier);
      if (ws.rule_cache.size() + round.rules.size() > kMaxCachedRules) ws.rule_cache.clear();
      for (auto& [key, value] : round.rules) ws.rule_cache[key] = std::move(value);
      // The round's ids, before any caller hears of it, so that a retry or
      // Contains finds them. They are in the events already; a spill of them
      // to the ids family syncs the write-ahead log first.
      std::vector<std::pair<EventId, IdIndex::Entry>> ids;
      ids.reserve(round.ids.size());
      for (const auto& [id, w] : round.ids) ids.push_back({id, {w.position}});
      if (Status indexed = id_index_->Add(ids, round.next_position); !indexed.ok()) {
        std::lock_guard lk(queue_mu_);
        failure_ = indexed.message();
        failed_.store(true);  // this round is written; the next ones are refused
      }
      ws.written_end = round.next_position;
      if (sequence > 0) ws.applied_sequence = sequence;  // readers see it with the end, once synced
      if (sequence > 0) ws.epoch = std::max(ws.epoch, round_epoch);
      if (vault_) {
        if (Status indexed = vault_->IndexWritten(round.blind, round.next_position); !indexed.ok()) {
          std::lock_guard lk(queue_mu_);
          failure_ = indexed.message();
          failed_.store(true);  // this round is written; the next ones are refused
        }
        vault_->NewKeysWritten();
      }
      if (!round.erasures.empty() && vault_) DestroyErasedKeys(round, erasures_of, outcomes);
    }
  }
  FinishRound(ops, outcomes, ws.written_end);
}

// A round that erased subjects is written: their keys are destroyed, and
// removed from the files, before any caller hears of it. Should this fail
// (or the process die first), the next read-write open finishes it from the
// rules' "erased/" records (OpenVault).
void EventLog::DestroyErasedKeys(const RoundState& round, const std::vector<size_t>& erasures_of,
                                 std::vector<Result<std::vector<AppendResult>>>& outcomes) {
  const auto& erasures = round.erasures;
  std::shared_ptr<const KeyShare> share;
  {
    std::lock_guard lk(key_share_mu_);
    share = key_share_;
  }
  size_t k = 0;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    Status failed;
    for (size_t n = 0; n < erasures_of[i]; ++n, ++k) {
      const RoundState::Erasure& r = erasures[k];
      vault_->NoteErased(r.what.subject_id, r.position, r.what.reason);  // erased for readers, come what may
      if (Status s = vault_->Erase(r.what.subject_id, r.position, r.what.reason); !s.ok() && failed.ok()) failed = s;
      if (share) {
        if (Status s = share->erase(r.what.subject_id); !s.ok() && failed.ok()) {
          failed = s.WithContext("the key is destroyed here, but the cluster's key share still holds it (every node "
                                 "removes it again as it applies the erasure)");
        }
      }
    }
    if (!failed.ok() && outcomes[i].ok()) {
      outcomes[i] = failed.WithContext("the erasure is recorded but the key is not yet destroyed; reopening the store "
                                       "read-write finishes it");
    }
  }
  if (Status s = vault_->Purge(handles_); !s.ok()) {
    for (size_t i = 0; i < outcomes.size(); ++i) {
      if (erasures_of[i] > 0 && outcomes[i].ok()) {
        outcomes[i] = s.WithContext("the key is destroyed but may remain in the store's files until it is reopened "
                                    "read-write");
      }
    }
  }
}

void EventLog::FinishRound(std::vector<std::unique_ptr<PendingWrite>>& ops,
                           std::vector<Result<std::vector<AppendResult>>>& outcomes, uint64_t end) {
  const uint64_t sequence = writer_state_->applied_sequence;
  if (!syncer_) {  // Sync::kNo
    if (end > end_.load(std::memory_order_relaxed)) PublishEnd(end);
    if (sequence > applied_sequence_.load()) applied_sequence_.store(sequence, std::memory_order_release);
    Complete(ops, outcomes);
    return;
  }
  // With nothing else queued there is nothing to overlap the fsync with: the
  // writer syncs itself (when the syncer is idle), so that a lone append
  // waits for no hand-off between threads.
  bool queued;
  {
    std::lock_guard lk(queue_mu_);
    queued = !queue_.empty();
  }
  std::vector<WrittenRound> mine;
  {
    std::lock_guard lk(sync_mu_);
    unsynced_.push_back(WrittenRound{std::move(ops), std::move(outcomes), end, sequence});
    if (!queued && !syncing_) {
      syncing_ = true;
      mine.swap(unsynced_);
    }
  }
  if (mine.empty()) {
    sync_cv_.notify_all();  // the syncer's turn
    return;
  }
  SyncRounds(mine);
  {
    std::lock_guard lk(sync_mu_);
    syncing_ = false;
  }
}

// While the syncer syncs, the writer stages and writes the next round.
void EventLog::SyncerLoop() {
  std::vector<WrittenRound> rounds;
  while (true) {
    {
      std::unique_lock lk(sync_mu_);
      sync_cv_.wait(lk, [&] { return (!unsynced_.empty() && !syncing_) || syncer_stopping_; });
      if (unsynced_.empty()) return;  // stopping, and every round is answered
      syncing_ = true;
      rounds.swap(unsynced_);
    }
    sync_cv_.notify_all();  // the writer may go on
    SyncRounds(rounds);
    rounds.clear();
    {
      std::lock_guard lk(sync_mu_);
      syncing_ = false;
    }
  }
}

// One fsync of the write-ahead log for all `rounds`; only then are their
// events readable (the published end) and their callers told.
void EventLog::SyncRounds(std::vector<WrittenRound>& rounds) {
  const uint64_t end = rounds.back().end;
  if (end > synced_end_ && sync_failure_.empty()) {
    if (Status s = FromRocks(db_->SyncWAL(), "sync the write-ahead log"); s.ok()) {
      synced_end_ = end;
      PublishEnd(end);
    } else {
      sync_failure_ = "the fsync of positions " + std::to_string(synced_end_) + ".." + std::to_string(end - 1) +
                      " failed: " + s.message();
      {
        std::lock_guard lk(queue_mu_);
        failure_ = sync_failure_;
      }
      failed_.store(true);
    }
  }
  // The sequence of the log of record goes with the end (a void round moves
  // the sequence alone).
  if (sync_failure_.empty() && rounds.back().sequence > applied_sequence_.load()) {
    applied_sequence_.store(rounds.back().sequence, std::memory_order_release);
  }
  for (WrittenRound& r : rounds) {
    // Every position a round's outcomes name is below its end.
    if (r.end > synced_end_) {
      for (auto& outcome : r.outcomes) {
        if (outcome.ok()) {
          outcome = Status::IoError(sync_failure_ + "; these events may or may not be on disk, and the log refuses "
                                                    "appends until it is reopened");
        }
      }
    }
    Complete(r.ops, r.outcomes);
  }
}

void EventLog::Complete(std::vector<std::unique_ptr<PendingWrite>>& ops,
                        std::vector<Result<std::vector<AppendResult>>>& outcomes) {
  bool waiters = false;
  {
    std::lock_guard lk(done_mu_);
    for (size_t i = 0; i < ops.size(); ++i) {
      if (PendingWrite::Waiter* w = ops[i]->waiter) {
        w->outcome = std::move(outcomes[i]);
        w->finished = true;  // from here on `w` may be gone
        waiters = true;
      }
    }
  }
  if (waiters) done_cv_.notify_all();
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i]->waiter != nullptr) continue;
    if (ops[i]->then) {
      ops[i]->then(std::move(outcomes[i]));
    } else {
      ops[i]->done.set_value(std::move(outcomes[i]));
    }
  }
}

// The callers looked their ids up (off the writer's thread); what rounds
// committed since then added is in memory (storage/id_index.h).
Status EventLog::LookUpIds(std::vector<std::unique_ptr<PendingWrite>>& ops) {
  std::vector<EventId> ids, small;
  for (auto& op : ops) {
    ids.clear();
    for (const AppendRequest& r : op->requests) {
      for (const Event& e : r.events) (op->looked_up ? ids : small).push_back(e.id);
    }
    if (op->looked_up) CUSTODIAN_RETURN_IF_ERROR(id_index_->Refresh(ids, op->ids_generation, &op->stored));
  }
  if (small.empty()) return Status::Ok();
  std::vector<std::optional<IdIndex::Entry>> found;
  CUSTODIAN_RETURN_IF_ERROR(id_index_->Find(small, &found));
  size_t i = 0;
  for (auto& op : ops) {
    if (op->looked_up) continue;
    op->stored.assign(found.begin() + i, found.begin() + i + op->events);
    i += op->events;
  }
  return Status::Ok();
}

Result<uint64_t> EventLog::LoadStreamNext(const std::string& stream) {
  WriterState& ws = *writer_state_;
  if (auto it = ws.stream_next.find(stream); it != ws.stream_next.end()) return it->second;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
  it->SeekForPrev(keys::StreamKey(stream, StreamVersion(UINT64_MAX)));
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(it->status(), "find the head of stream " + stream));
  uint64_t next = 0;
  if (it->Valid()) {
    std::string_view name;
    StreamVersion v;
    if (keys::ParseStreamKey(it->key().ToStringView(), &name, &v) && name == stream) next = v.value() + 1;
  }
  ws.stream_next.emplace(stream, next);
  return next;
}

// Checks one caller's write against the log and the rest of the round, and
// adds it to the round's batch only when every request of it is accepted.
Status EventLog::StageWrite(PendingWrite& op, RoundState& round, std::vector<AppendResult>* results) {
  // 1. Which events are already in the log (or earlier in this round), and
  // are they the same events? (An id names one event: same id, same content.)
  struct Known {
    bool present = false;
    bool same = true;  // its content is this event's
    Position position;
    StreamVersion version;
  };
  std::vector<Known> known(op.events);
  std::vector<uint64_t> stored_positions;  // of the events known from the log, read to compare
  std::vector<size_t> stored_indexes;
  {
    size_t k = 0;
    for (const AppendRequest& r : op.requests) {
      for (const Event& e : r.events) {
        if (auto it = round.ids.find(e.id); it != round.ids.end()) {
          known[k] = {true, it->second.content == op.contents[k], it->second.position, it->second.version};
          op.depends_on_round = true;
        } else if (op.stored[k]) {
          known[k] = {true, true, op.stored[k]->position, StreamVersion()};
          stored_positions.push_back(op.stored[k]->position.value());
          stored_indexes.push_back(k);
        }
        ++k;
      }
    }
  }
  if (!stored_positions.empty()) {  // retries: rare
    std::vector<Event> originals;
    CUSTODIAN_RETURN_IF_ERROR(ReadPositions(stored_positions, &originals));
    for (size_t i = 0; i < originals.size(); ++i) {
      Known& kn = known[stored_indexes[i]];
      kn.version = originals[i].version;
      kn.same = CanonicalContent(originals[i]) == op.contents[stored_indexes[i]];
    }
  }

  // The state the append rules see: the store's, then this round's, then
  // this write's own changes (core/rules.h). Nothing reaches the round
  // unless the whole write is accepted.
  class RuleView final : public RuleState {
   public:
    RuleView(EventLog* log, RoundState& round) : log_(log), round_(round) {}
    Result<std::optional<std::string>> Get(std::string_view key) override {
      const std::string k(key);
      if (auto it = mine_.find(k); it != mine_.end()) return std::optional<std::string>(it->second);
      if (auto it = round_.rules.find(k); it != round_.rules.end()) return std::optional<std::string>(it->second);
      auto& cache = log_->writer_state_->rule_cache;
      if (auto it = cache.find(k); it != cache.end()) return it->second;
      std::string value;
      rocksdb::Status s = log_->db_->Get(rocksdb::ReadOptions(), log_->meta_cf_, kRulePrefix + k, &value);
      std::optional<std::string> found;
      if (s.ok()) {
        found = std::move(value);
      } else if (!s.IsNotFound()) {
        return FromRocks(s, "read rule state " + k);
      }
      if (cache.size() >= kMaxCachedRules) cache.clear();
      cache.emplace(k, found);
      return found;
    }
    void Put(std::string key, std::string value) override { mine_[std::move(key)] = std::move(value); }
    Result<bool> EventExists(const EventId& id) override {
      if (mine_ids_.count(id) || round_.ids.count(id)) return true;
      return log_->Contains(id);
    }
    Result<std::optional<Event>> FindEvent(const EventId& id) override {
      if (auto it = mine_ids_.find(id); it != mine_ids_.end()) return std::optional<Event>(*it->second);
      if (auto it = round_.ids.find(id); it != round_.ids.end()) return std::optional<Event>(*it->second.event);
      return log_->FindWritten(id);
    }
    bool Applying() const override { return round_.applying; }
    void Staged(const Event& e) { mine_ids_.emplace(e.id, &e); }
    const std::map<std::string, std::string>& changes() const { return mine_; }

   private:
    EventLog* log_;
    RoundState& round_;
    std::map<std::string, std::string> mine_;
    std::unordered_map<EventId, const Event*, EventIdHash> mine_ids_;  // this write's accepted events
  };
  RuleView rules(this, round);

  // 2. Check each request and assign positions and versions, tentatively:
  // in the round's map of stream versions, with what it held before, so
  // that a rejected write leaves the round as it found it.
  uint64_t next_position = round.next_position;
  struct Undo {
    std::string_view stream;
    std::optional<uint64_t> before;  // nullopt: the round had no entry
  };
  std::vector<Undo> undo;
  auto rejected = [&](Status s) {
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
      if (it->before) {
        round.stream_next[it->stream] = *it->before;
      } else {
        round.stream_next.erase(it->stream);
      }
    }
    return s;
  };
  results->clear();
  results->reserve(op.requests.size());
  size_t k = 0;
  for (AppendRequest& r : op.requests) {
    AppendResult result;
    result.positions.reserve(r.events.size());
    result.versions.reserve(r.events.size());
    size_t present = 0;
    const Known* first_present = nullptr;
    for (size_t i = 0; i < r.events.size(); ++i) {
      const Known& kn = known[k + i];
      if (!kn.present) continue;
      if (!kn.same) {
        return rejected(Status::Conflict("event id " + r.events[i].id.ToString() + " is already in the log at position " +
                                std::to_string(kn.position.value()) +
                                " with other content; an id names one event forever, so give a new event a new id"));
      }
      ++present;
      if (first_present == nullptr) first_present = &kn;
    }
    if (present > 0 && present < r.events.size() && r.expected.kind() != ExpectedVersion::Kind::kAny) {
      return rejected(Status::Conflict(
          std::to_string(present) + " of the " + std::to_string(r.events.size()) + " events for " + r.stream +
          " are already in the log (the first at position " + std::to_string(first_present->position.value()) +
          ") and the others are not; resend the original batch unchanged, or drop those events"));
    }
    auto [slot, fresh] = round.stream_next.try_emplace(r.stream, 0);
    undo.push_back({r.stream, fresh ? std::nullopt : std::optional<uint64_t>(slot->second)});
    if (fresh) {
      Result<uint64_t> loaded = LoadStreamNext(r.stream);
      if (!loaded.ok()) return rejected(loaded.status());
      slot->second = *loaded;  // nothing below inserts into the round's map, so `slot` stays valid
    }
    uint64_t next = slot->second;
    if (present < r.events.size()) {  // a retry of a whole batch skips the expected-version check
      switch (r.expected.kind()) {
        case ExpectedVersion::Kind::kAny:
          break;
        case ExpectedVersion::Kind::kNoStream:
          if (next != 0) {
            return rejected(Status::Conflict("stream " + r.stream + " already exists (its last version is " +
                                             std::to_string(next - 1) + "); expected no stream"));
          }
          break;
        case ExpectedVersion::Kind::kExactly:
          if (next == 0) {
            return rejected(
                Status::Conflict("stream " + r.stream + " does not exist yet; expected " + r.expected.ToString()));
          }
          if (next - 1 != r.expected.version().value()) {
            return rejected(Status::Conflict("stream " + r.stream + " is at version " + std::to_string(next - 1) +
                                             "; expected " + r.expected.ToString()));
          }
          break;
      }
    }
    for (size_t i = 0; i < r.events.size(); ++i) {
      Event& e = r.events[i];
      const Known& kn = known[k + i];
      if (kn.present) {
        result.positions.push_back(kn.position);
        result.versions.push_back(kn.version);
        continue;
      }
      e.position = Position(next_position++);
      e.version = StreamVersion(next++);
      e.recorded_at = round.recorded_at;
      if (options_.rules) {
        // In log order, against the state as of this position.
        if (Status allowed = options_.rules(e, rules); !allowed.ok()) return rejected(allowed);
        rules.Staged(e);
      }
      result.positions.push_back(e.position);
      result.versions.push_back(e.version);
      ++result.written;
    }
    slot->second = next;
    results->push_back(std::move(result));
    k += r.events.size();
  }

  // 3. Accepted: add to the round.
  k = 0;
  for (const AppendRequest& r : op.requests) {
    for (const Event& e : r.events) {
      const size_t idx = k++;
      if (known[idx].present) continue;
      std::string& record = op.records[idx];
      SetRecordLogFields(&record, e.position, e.version, e.recorded_at);
      if (!op.blind.empty() && !op.blind[idx].empty() && !vault_->IsErased(e.personal.subject)) {
        for (const std::string& key : op.blind[idx]) round.blind.push_back(key);  // put in key order, below
      }
      if (e.type == "subject.erased") {
        Result<ErasureOf> what = ErasureIn(e);  // the rules read it already
        if (what.ok()) round.erasures.push_back({std::move(*what), e.position.value()});
      }
      (void)round.batch.Put(events_cf_, keys::EventKey(e.position), record);
      (void)round.batch.Put(streams_cf_, keys::StreamKey(e.stream, e.version), keys::EncodeU64(e.position.value()));
      round.ids[e.id] = {e.position, e.version, op.contents[idx], &e};
      if (e.version.value() == 0) ++round.new_streams;
      const Hash256 leaf = LeafHashOfContent(e.position, e.version, e.recorded_at, e.recorded_by, op.contents[idx]);
      round.frontier.Append(leaf, [&](uint8_t, uint64_t, const Hash256& h) {
        round.merkle_hashes.append(reinterpret_cast<const char*>(h.data()), h.size());
      });
    }
  }
  for (const auto& [key, value] : rules.changes()) {
    (void)round.batch.Put(meta_cf_, kRulePrefix + key, value);
    round.rules[key] = value;
  }
  round.next_position = next_position;
  return Status::Ok();
}

Result<bool> EventLog::Contains(const EventId& id) const {
  Result<std::optional<IdIndex::Entry>> found = id_index_->Find(id);
  if (!found.ok()) return found.status();
  return found->has_value();
}

Result<std::optional<Position>> EventLog::PositionOf(const EventId& id) const {
  Result<std::optional<IdIndex::Entry>> found = id_index_->Find(id);
  if (!found.ok()) return found.status();
  if (!found->has_value()) return std::optional<Position>();
  return std::optional<Position>((*found)->position);
}

Result<std::optional<Event>> EventLog::FindCommitted(const EventId& id) const {
  Result<std::optional<Position>> at = PositionOf(id);
  if (!at.ok()) return at.status();
  if (!*at) return std::optional<Event>();
  Result<std::vector<Event>> read = ReadAll(**at, 1);
  if (!read.ok()) return read.status();
  if (read->empty()) return std::optional<Event>();  // indexed, not yet readable
  return std::optional<Event>(std::move(read->front()));
}

Result<std::optional<Event>> EventLog::FindWritten(const EventId& id) const {
  Result<std::optional<Position>> at = PositionOf(id);
  if (!at.ok()) return at.status();
  if (!*at) return std::optional<Event>();
  // A point read, not ReadAll: that stops at end(), which a round reaches
  // only once synced, while the writer may stage the next one meanwhile.
  std::string record;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), events_cf_, keys::EventKey(**at), &record);
  if (s.IsNotFound()) return std::optional<Event>();
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(s, "read the event at position " + std::to_string((*at)->value())));
  Event e;
  CUSTODIAN_RETURN_IF_ERROR(
      DecodeRecord(record, &e).WithContext("event at position " + std::to_string((*at)->value())));
  return std::optional<Event>(std::move(e));
}

Result<std::vector<std::optional<Position>>> EventLog::PositionsOf(std::span<const EventId> ids) const {
  std::vector<std::optional<IdIndex::Entry>> found;
  CUSTODIAN_RETURN_IF_ERROR(id_index_->Find(ids, &found));
  std::vector<std::optional<Position>> out;
  out.reserve(found.size());
  for (const auto& f : found) out.push_back(f ? std::optional<Position>(f->position) : std::nullopt);
  return out;
}

Result<std::optional<std::string>> EventLog::CommittedRule(std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kRulePrefix + std::string(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(s, "read rule state " + std::string(key)));
  return std::optional<std::string>(std::move(value));
}

// The committed rule state, with the changes of the events accepted so far;
// an event's own changes are kept apart until it is accepted.
class RuleDryRun::State final : public RuleState {
 public:
  State(const EventLog& log, std::function<bool(const EventId&)> checked_before, FindChecked find_checked)
      : log_(log), checked_before_(std::move(checked_before)), find_checked_(std::move(find_checked)) {}

  Result<std::optional<std::string>> Get(std::string_view key) override {
    const std::string k(key);
    for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
      if (it->first == k) return std::optional<std::string>(it->second);
    }
    if (auto it = accepted_.find(k); it != accepted_.end()) return std::optional<std::string>(it->second);
    return log_.CommittedRule(k);
  }
  void Put(std::string key, std::string value) override { pending_.emplace_back(std::move(key), std::move(value)); }
  Result<bool> EventExists(const EventId& id) override {
    if (checked_before_ ? checked_before_(id) : ids_.count(id) > 0) return true;
    return log_.Contains(id);
  }
  // Events accepted earlier in the run come from the caller (the run keeps
  // none): nullopt for them without find_checked.
  Result<std::optional<Event>> FindEvent(const EventId& id) override {
    if (find_checked_) {
      Result<std::optional<Event>> checked = find_checked_(id);
      if (!checked.ok() || *checked) return checked;
    }
    return log_.FindCommitted(id);
  }

  Status Check(const Event& e) {
    if (!log_.options_.rules) return Status::Ok();
    pending_.clear();
    Status s = log_.options_.rules(e, *this);
    if (s.ok()) {
      for (auto& [key, value] : pending_) accepted_[std::move(key)] = std::move(value);
      if (!checked_before_) ids_.insert(e.id);
    }
    pending_.clear();
    return s;
  }

 private:
  const EventLog& log_;
  std::function<bool(const EventId&)> checked_before_;
  FindChecked find_checked_;
  std::vector<std::pair<std::string, std::string>> pending_;  // the event being checked
  std::unordered_map<std::string, std::string> accepted_;
  std::unordered_set<EventId, EventIdHash> ids_;  // when the caller keeps none
};

RuleDryRun::RuleDryRun(const EventLog& log, std::function<bool(const EventId&)> checked_before,
                       FindChecked find_checked)
    : state_(std::make_unique<State>(log, std::move(checked_before), std::move(find_checked))) {}
RuleDryRun::~RuleDryRun() = default;
Status RuleDryRun::Check(const Event& e) { return state_->Check(e); }

Status EventLog::CheckRules(std::span<const Event> events) const {
  RuleDryRun run(*this, nullptr);
  for (const Event& e : events) CUSTODIAN_RETURN_IF_ERROR(run.Check(e));
  return Status::Ok();
}


Status EventLog::ExportRounds(size_t max_bytes, const Replicator& publish) const {
  if (!options_.replica || applied_sequence() != 0) {
    return Status::FailedPrecondition("only a replica store that holds no sequence of a log of record exports rounds");
  }
  std::vector<AppendRequest> requests;
  std::vector<std::string> records;
  uint64_t first = 0, next = 0, sequence = 0;
  size_t bytes = 0;
  Timestamp at;
  Status failed;
  auto flush = [&]() -> Status {
    if (records.empty()) return Status::Ok();
    Result<Hash256> root = RootAt(next);
    if (!root.ok()) return root.status();
    std::string round = EncodeRoundHeader(0, first, next, at, *root, 1);
    EncodeRoundWrite(requests, records, &round);
    Result<uint64_t> got = publish(round, sequence);
    if (!got.ok()) return got.status().WithContext("positions " + std::to_string(first) + ".." + std::to_string(next - 1));
    sequence = *got;
    requests.clear();
    records.clear();
    bytes = 0;
    first = next;
    return Status::Ok();
  };
  Status scanned = ScanAll(Position(0), [&](const Event& e) {
    std::string record = EncodeRecord(e);
    if (!records.empty() && (e.recorded_at != at || bytes + record.size() > max_bytes)) {
      failed = flush();
      if (!failed.ok()) return false;
    }
    if (records.empty()) at = e.recorded_at;
    if (requests.empty() || requests.back().stream != e.stream) {
      requests.push_back({e.stream, ExpectedVersion::Any(), {}});
    }
    requests.back().events.push_back(e);
    bytes += record.size();
    records.push_back(std::move(record));
    next = e.position.value() + 1;
    return true;
  });
  CUSTODIAN_RETURN_IF_ERROR(scanned);
  CUSTODIAN_RETURN_IF_ERROR(failed);
  return flush();
}

Status EventLog::MarkApplied(uint64_t sequence) {
  std::lock_guard lk(queue_mu_);  // the writer is idle: a replica with no replicator takes no appends
  if (writer_state_->applied_sequence != 0) {
    return Status::FailedPrecondition("the store already holds sequence " +
                                      std::to_string(writer_state_->applied_sequence) + " of the log of record");
  }
  rocksdb::WriteOptions sync;
  sync.sync = true;
  CUSTODIAN_RETURN_IF_ERROR(
      FromRocks(db_->Put(sync, meta_cf_, kMetaAppliedSequenceKey, keys::EncodeU64(sequence)), "record the sequence"));
  writer_state_->applied_sequence = sequence;
  applied_sequence_.store(sequence, std::memory_order_release);
  return Status::Ok();
}

void EventLog::SetForwarder(Forwarder forward) {
  {
    std::lock_guard lk(queue_mu_);
    forwarder_ = forward ? std::make_shared<const Forwarder>(std::move(forward)) : nullptr;
  }
  // What the old forwarder uses (its node) may go once this returns: the
  // forwards handed it finish first.
  if (forward_pool_) forward_pool_->Drain();
}

void EventLog::SetKeyShare(std::shared_ptr<const KeyShare> share) {
  std::lock_guard lk(key_share_mu_);
  key_share_ = std::move(share);
}

bool EventLog::OpensKeyRecord(const std::string& subject, std::string_view record) const {
  return vault_ && vault_->Opens(subject, record);
}

std::string EventLog::key_share_problem() const {
  std::lock_guard lk(key_share_mu_);
  return key_share_problem_;
}

Status EventLog::ExportKeyRecords(
    const std::function<Status(const std::string& subject, const std::string& record)>& fn) const {
  if (!vault_) return Status::Ok();
  return vault_->ForEachKeyRecord(fn);
}

void EventLog::SetReplicator(Replicator publish, uint64_t epoch) {
  std::lock_guard lk(queue_mu_);
  replicator_ = publish ? std::make_shared<const Replicator>(std::move(publish)) : nullptr;
  replicator_epoch_ = epoch;
}

Status EventLog::PassOverMessage(uint64_t sequence) {
  if (!options_.replica || read_only()) {
    return Status::FailedPrecondition("the log of record's messages apply only to a replica store open read-write");
  }
  if (sequence <= applied_sequence()) return Status::Ok();
  if (sequence != applied_sequence() + 1) {
    return Status::FailedPrecondition("message " + std::to_string(sequence) + " of the log of record is not the next (" +
                                      std::to_string(applied_sequence() + 1) + ")");
  }
  auto pinned = std::make_shared<PendingWrite::Pinned>();
  pinned->sequence = sequence;
  pinned->writes = 1;
  pinned->passed_over = true;
  std::promise<Status> done;
  std::future<Status> outcome = done.get_future();
  auto op = std::make_unique<PendingWrite>();
  op->then = [&done](Result<std::vector<AppendResult>> r) { done.set_value(r.status()); };
  op->pinned = std::move(pinned);
  {
    std::lock_guard lk(queue_mu_);
    if (stopping_) return Status::FailedPrecondition("the log is closing");
    queue_.push_back(std::move(op));
  }
  queue_cv_.notify_one();
  Status s = outcome.get();
  if (s.ok() && applied_sequence() < sequence) {
    return Status::FailedPrecondition("message " + std::to_string(sequence) + " of the log of record was not passed over" +
                                      (failed_.load() ? " (the log has stopped)" : ""));
  }
  return s;
}

Status EventLog::ApplyRound(std::string_view bytes, uint64_t sequence) {
  if (!options_.replica || read_only()) {
    return Status::FailedPrecondition("rounds of a log of record apply only to a replica store open read-write");
  }
  if (sequence <= applied_sequence()) return Status::Ok();
  Result<ReplicatedRound> round = DecodeRound(bytes);
  if (!round.ok()) return round.status().WithContext("sequence " + std::to_string(sequence) + " of the log of record");
  auto pinned = std::make_shared<PendingWrite::Pinned>();
  pinned->sequence = sequence;
  pinned->epoch = round->epoch;
  pinned->first_position = round->first_position;
  pinned->end_position = round->end_position;
  pinned->recorded_at = round->recorded_at;
  pinned->root = round->root;
  pinned->writes = round->writes.size();
  if (round->writes.empty()) return Status::Corruption("sequence " + std::to_string(sequence) + " is an empty round");

  // Each write as the writer queued it, checked as a caller's would be
  // (every node is a witness), except that its personal parts come sealed.
  struct Shared {
    std::mutex mu;
    size_t left;
    Status first_error;
    std::promise<Status> all;
  };
  auto shared = std::make_shared<Shared>();
  shared->left = round->writes.size();
  std::vector<std::unique_ptr<PendingWrite>> ops;
  ops.reserve(round->writes.size());
  size_t index = 0;
  // Personal parts: the keys this node lacks come from the cluster's key
  // share, and the blind index is made here from the opened parts (the
  // writer's entries are not in the round: they are personal).
  std::shared_ptr<const KeyShare> share;
  {
    std::lock_guard lk(key_share_mu_);
    share = key_share_;
  }
  std::unordered_set<std::string> asked;  // subjects looked up during this round
  auto index_sealed = [&](const Event& e) -> Result<std::vector<std::string>> {
    if (!vault_ || e.personal.empty()) return std::vector<std::string>();
    if (share && asked.insert(e.personal.subject).second) {
      Result<bool> known = vault_->Knows(e.personal.subject);
      if (!known.ok()) return known.status();
      if (!*known) {
        Result<std::optional<std::string>> record = share->get(e.personal.subject);
        Status adopted = record.ok() ? (*record ? vault_->Adopt(e.personal.subject, **record) : Status::Ok())
                                     : record.status();
        if (!adopted.ok()) {
          // Said without the subject: /healthz shows it to anyone.
          std::lock_guard lk(key_share_mu_);
          key_share_problem_ =
              !record.ok() ? "the cluster's key share cannot be read (" + record.status().message() + ")"
                           : "data keys from the cluster's key share do not open with this node's master key (it is "
                             "not the writer's): give every node the same key directory (docs/scale-out.md)";
        }
      }
    }
    // A part that does not open here stays sealed here; the round still applies.
    Result<std::vector<std::string>> entries = vault_->IndexSealed(e);
    if (entries.ok()) return entries;
    std::lock_guard lk(key_share_mu_);
    key_share_problem_ = "a sealed part does not open on this node (" + std::string(StatusCodeName(entries.status().code())) + ")";
    return std::vector<std::string>();
  };
  for (std::vector<AppendRequest>& requests : round->writes) {
    auto op = std::make_unique<PendingWrite>();
    size_t count = 0;
    for (const AppendRequest& r : requests) count += r.events.size();
    op->contents.reserve(count);
    op->records.reserve(count);
    for (AppendRequest& r : requests) {
      CUSTODIAN_RETURN_IF_ERROR(ValidateStreamName(r.stream).WithContext("sequence " + std::to_string(sequence)));
      for (Event& e : r.events) {
        ++index;
        auto where = [&] {
          return "sequence " + std::to_string(sequence) + " of the log of record, event #" + std::to_string(index) +
                 " (" + e.id.ToString() + ")";
        };
        if (e.stream != r.stream) return Status::Corruption(where() + " names stream " + e.stream + ", not " + r.stream);
        PersonalSection sealed = std::move(e.personal);
        e.personal = PersonalSection();
        Status valid = ValidateEvent(e, round->recorded_at, PersonalCheck::kBySealer);
        e.personal = std::move(sealed);
        if (!valid.ok()) return valid.WithContext(where());
        Result<std::vector<std::string>> blind = index_sealed(e);
        if (!blind.ok()) return blind.status().WithContext(where());
        if (!blind->empty()) {
          op->blind.resize(count);
          op->blind[op->records.size()] = std::move(*blind);
        }
        op->contents.push_back(CanonicalContent(e));
        op->records.push_back(EncodeRecord(e));
        op->bytes += e.data.size() + e.stream.size() + e.type.size() + e.actor.size() + 96;
      }
    }
    op->events = count;
    op->requests = std::move(requests);
    op->then = [shared](Result<std::vector<AppendResult>> r) {
      std::lock_guard lk(shared->mu);
      if (!r.ok() && shared->first_error.ok()) shared->first_error = r.status();
      if (--shared->left == 0) shared->all.set_value(shared->first_error);
    };
    ops.push_back(std::move(op));
  }
  ops.front()->pinned = std::move(pinned);
  std::future<Status> done = shared->all.get_future();
  {
    std::lock_guard lk(queue_mu_);
    if (stopping_) return Status::FailedPrecondition("the log is closing");
    for (auto& op : ops) queue_.push_back(std::move(op));
  }
  queue_cv_.notify_one();
  return done.get();
}

}  // namespace custodian
