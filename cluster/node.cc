#include "cluster/node.h"

#include <charconv>
#include <utility>

#include "cluster/forward.h"
#include "cluster/key_share.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/note.h"
#include "core/sha256.h"
#include "core/time.h"

namespace custodian::cluster {

Node::Node(EventLog& log, JetStream& js, const NodeOptions& options) : log_(log), js_(js), options_(options) {}

namespace {
// What each tagged message is for (ClusterKey::Seal's purpose).
constexpr char kRoundPurpose[] = "custodian round";
constexpr char kAppendPurpose[] = "custodian forwarded append";
constexpr char kAppendReplyPurpose[] = "custodian forwarded append reply";
constexpr char kCosignPurpose[] = "custodian cosign request";
constexpr char kCosignReplyPurpose[] = "custodian cosign reply";
constexpr char kKeyCheckPurpose[] = "custodian cluster key check";
// Where the key check lies in the key share (no person's subject looks so).
constexpr char kKeyCheckSubject[] = "cluster key check";

// A round belongs at one sequence of one stream: moved elsewhere, or
// published again later, its tag no longer verifies.
std::string RoundContext(const JetStream& js, uint64_t sequence) {
  return js.options().stream + "\n" + std::to_string(sequence);
}
// A reply answers one request.
std::string ReplyContext(std::string_view request) { return HexOf(Sha256(request)); }

// A forwarded append is fresh: "<nonce> <sent at, microseconds>\n" before
// it, so a genuine one captured (refused then, or never answered) cannot be
// sent again later and be written. The writer takes one sent within
// kForwardFreshMicros of its own clock (the nodes' clocks must agree that
// well), and each nonce once: it remembers them twice that long by its
// steady clock, at most kForwardNoncesKept of them.
constexpr int64_t kForwardFreshMicros = int64_t{60} * 1'000'000;
constexpr size_t kForwardNoncesKept = size_t{1} << 20;
std::string FreshForward(std::string_view body) {
  return HexOf(Sha256(crypto::PooledRandomBytes(16))).substr(0, 32) + " " +
         std::to_string(SystemClock().Now().value()) + "\n" + std::string(body);
}

// Every node holds the same cluster key: the first node puts a check of its
// key in the key share (first wins), every later node compares. A node with
// another key would pass over every round and might even write rounds the
// others pass over.
Status CheckClusterKey(JetStream& js, const ClusterKey& key) {
  const std::string check = key.Seal(kKeyCheckPurpose, js.options().stream, "");
  Status put = js.PublishKey(kKeyCheckSubject, check, 0);
  if (put.code() != StatusCode::kConflict) return put;
  // A check there already: this key's when a node started before (perhaps
  // with junk put beside it).
  bool found = false;
  CUSTODIAN_RETURN_IF_ERROR(js.VisitKeyMessages(kKeyCheckSubject, [&](const StreamMessage& m) {
    found = m.data == check;
    return !found;
  }));
  if (found) return Status::Ok();
  return Status::FailedPrecondition(
      "this node's cluster key (--cluster-key) is not the cluster's: the key share of the stream " +
      js.options().stream +
      " holds the check of another key (give every node the same key file; if every node has it, something else "
      "wrote that check first: docs/scale-out.md)");
}

// The same round always gets the same id, so a retry is recognised.
Result<uint64_t> PublishRound(JetStream& js, const ClusterKey& key, std::string_view round, uint64_t after) {
  const std::string id = "r" + std::to_string(after + 1) + "-" + HexOf(Sha256(round)).substr(0, 32);
  return js.Publish(key.Seal(kRoundPurpose, RoundContext(js, after + 1), round), after, id);
}
// A seeding store's keys into the key share. The share keeps a person's
// first key: another record there already means a key share left over from
// an earlier cluster (or a store whose master key was rotated since).
Status SeedKeys(SharedKeys& share, const std::vector<std::pair<std::string, std::string>>& keys) {
  Status put = share.Put(keys);
  if (put.code() != StatusCode::kConflict) return put;
  return Status::FailedPrecondition(
      "the cluster's key share already holds other data keys for people of this store: it is left over from "
      "another cluster, or this store's master key was rotated since it was shared; seed an empty stream and key "
      "share (docs/scale-out.md)");
}

}  // namespace

Result<std::unique_ptr<Node>> Node::Start(EventLog& log, JetStream& js, const NodeOptions& options) {
  if (log.read_only()) return Status::FailedPrecondition("a cluster node needs its store open read-write");
  if (!options.key) {
    return Status::InvalidArgument("a cluster node needs the cluster's key (custodian keys new-cluster --out FILE, "
                                   "the same file on every node)");
  }
  const ClusterKey& cluster_key = *options.key;
  CUSTODIAN_RETURN_IF_ERROR(CheckClusterKey(js, cluster_key));
  std::shared_ptr<WriterLease::Etcd> etcd;
  if (options.lease) {
    Result<std::shared_ptr<WriterLease::Etcd>> connected = WriterLease::Connect(*options.lease);
    if (!connected.ok()) return connected.status();
    etcd = std::move(*connected);
  }
  std::unique_ptr<Node> node(new Node(log, js, options));
  node->etcd_ = std::move(etcd);
  // Every node shares the data keys through the stream's key share.
  auto shared_keys = std::make_shared<SharedKeys>(
      js, cluster_key,
      [&log](const std::string& subject, std::string_view record) { return log.OpensKeyRecord(subject, record); });
  auto share = std::make_shared<EventLog::KeyShare>();
  share->put = [keys = shared_keys](const std::vector<std::pair<std::string, std::string>>& records) {
    return keys->Put(records);
  };
  share->get = [keys = shared_keys](const std::string& subject) { return keys->Get(subject); };
  share->erase = [keys = shared_keys](const std::string& subject) { return keys->Erase(subject); };
  log.SetKeyShare(share);
  // Every node is a witness of the others' checkpoints: it cosigns one its
  // own tree holds (EventLog::Cosign) and answers with its key and line.
  // Only the nodes ask, and only their answers count (ClusterKey).
  CUSTODIAN_RETURN_IF_ERROR(js.ServeCosign([&log, n = node.get()](std::string request) -> std::optional<std::string> {
    Result<std::string_view> note = n->options_.key->Open(kCosignPurpose, "", request);
    if (!note.ok()) {
      n->Refused("a cosignature request: " + note.status().message());
      return std::nullopt;
    }
    Result<std::string> line = log.Cosign(*note, SystemClock().Now());
    if (!line.ok()) return std::nullopt;  // behind, another tree, or smaller than one it cosigned
    Result<std::string> key = log.CosignerKey();
    if (!key.ok()) return std::nullopt;
    return n->options_.key->Seal(kCosignReplyPurpose, ReplyContext(request), *key + "\n" + *line);
  }));
  std::unique_ptr<WriterLease> lease;
  if (options.writer && log.applied_sequence() == 0 && log.end().value() > 0) {
    // A store that was one machine's, and an empty stream: the store's
    // events become the stream's first rounds (its own tree unchanged).
    if (options.lease) {
      Result<std::unique_ptr<WriterLease>> held = WriterLease::Acquire(*options.lease, options.catch_up_timeout);
      if (!held.ok()) return held.status();
      lease = std::move(*held);
    }
    Result<uint64_t> last = js.LastSequence();
    if (!last.ok()) return last.status();
    if (*last != 0) {
      return Status::FailedPrecondition(
          "the store at " + log.dir() + " holds " + std::to_string(log.end().value()) +
          " events of its own and the stream already holds " + std::to_string(*last) +
          " rounds: a store joins a cluster empty, or as the first writer of an empty stream (docs/scale-out.md)");
    }
    // Its data keys first, so that every round's keys are shared before it.
    std::vector<std::pair<std::string, std::string>> keys;
    CUSTODIAN_RETURN_IF_ERROR(log.ExportKeyRecords([&](const std::string& subject, const std::string& record) {
      keys.emplace_back(subject, record);
      if (keys.size() < 256) return Status::Ok();
      Status put = SeedKeys(*shared_keys, keys);
      keys.clear();
      return put;
    }));
    CUSTODIAN_RETURN_IF_ERROR(SeedKeys(*shared_keys, keys));
    uint64_t sequence = 0;
    CUSTODIAN_RETURN_IF_ERROR(log.ExportRounds(options.seed_round_bytes, [&](std::string_view round,
                                                                              uint64_t after) -> Result<uint64_t> {
      if (lease) CUSTODIAN_RETURN_IF_ERROR(lease->Check());
      Result<uint64_t> got = PublishRound(js, cluster_key, round, after);
      if (got.ok()) sequence = *got;
      return got;
    }));
    CUSTODIAN_RETURN_IF_ERROR(log.MarkApplied(sequence));
  }
  node->follower_ = std::thread([n = node.get()] { n->FollowLoop(); });
  node->witness_ = std::thread([n = node.get()] { n->WitnessLoop(); });
  // Until it writes (and whenever it stops), a node hands appends to the writer.
  log.SetForwarder([n = node.get()](std::vector<AppendRequest>& requests, EventLog::ForwardWait wait) {
    return n->Forward(requests, wait);
  });
  if (!options.writer) return node;
  if (!options.lease) {
    CUSTODIAN_RETURN_IF_ERROR(node->BeginWriting(nullptr));
    return node;
  }
  node->lease_ = std::move(lease);  // held already when it seeded the stream
  node->campaign_ = std::thread([n = node.get()] { n->Campaign(); });
  return node;
}

Status Node::BeginWriting(WriterLease* lease) {
  // Everything the stream holds first, then its own rounds.
  Result<uint64_t> last = js_.LastSequence();
  if (!last.ok()) return last.status();
  if (!AwaitSequence(*last, options_.catch_up_timeout)) {
    Status why = problem();
    return why.ok() ? Status::Unavailable("the writer did not catch up with the stream's " + std::to_string(*last) +
                                          " rounds within " + std::to_string(options_.catch_up_timeout.count() / 1000) +
                                          " s (it holds " + std::to_string(log_.applied_sequence()) + ")")
                    : why;
  }
  JetStream& js = js_;
  const ClusterKey key = *options_.key;  // a handle: copies outlive the node (the log's thread may still call them)
  log_.SetReplicator(
      [&js, key, lease](std::string_view round, uint64_t after) -> Result<uint64_t> {
        // Never publish past the lease's deadline: another node may write then.
        if (lease) CUSTODIAN_RETURN_IF_ERROR(lease->Check());
        return PublishRound(js, key, round, after);
      },
      lease ? lease->epoch() : 0);
  // Appends the followers forward: checked, sealed and written like our own;
  // answered from the log's thread once durable, without blocking NATS.
  // Only the nodes' requests are taken (ClusterKey), and each answer is
  // tagged for the request it answers.
  EventLog& log = log_;
  Status serving = js_.ServeAppends([this, &log, key](std::string request, std::function<void(std::string)> reply) {
    // Counted, so that the node is not destroyed under a handler still
    // running (AwaitAppendHandlers).
    ++append_handlers_;
    struct Leave {
      std::atomic<int>& n;
      ~Leave() { --n; }
    } leave{append_handlers_};
    Result<std::string_view> body = key.Open(kAppendPurpose, "", request);
    auto answer = [key, context = ReplyContext(request), reply = std::move(reply)](
                      const Result<std::vector<AppendResult>>& r) {
      reply(key.Seal(kAppendReplyPurpose, context, EncodeForwardReply(r)));
    };
    bool stale = false;
    if (body.ok()) body = TakeFresh(*body, &stale);
    if (!body.ok()) {
      Refused("a forwarded append: " + body.status().message());
      // A node's, with a time too far from the writer's: it is told why (the
      // answer is bound to the request). Else no answer: the sender is no
      // node, or it was sent before.
      if (stale) answer(body.status());
      return;
    }
    Result<std::vector<AppendRequest>> requests = DecodeForward(*body);
    if (!requests.ok()) {
      answer(requests.status());
      return;
    }
    log.AppendBatchThen(std::move(*requests),
                        [answer = std::move(answer)](Result<std::vector<AppendResult>> r) { answer(r); });
  });
  if (!serving.ok()) {
    log_.SetReplicator(nullptr);
    return serving;
  }
  epoch_ = lease ? lease->epoch() : 0;
  writing_ = true;
  return Status::Ok();
}

void Node::EndWriting() {
  writing_ = false;
  epoch_ = 0;
  log_.SetReplicator(nullptr);  // appends are forwarded again
  js_.StopServingAppends();
  AwaitAppendHandlers();
}

// A candidate: holds the lease, writes while it does, and campaigns again
// once it has lost it.
void Node::Campaign() {
  while (!stopping_) {
    if (!lease_) {
      Result<std::unique_ptr<WriterLease>> held =
          WriterLease::Acquire(*options_.lease, etcd_, std::chrono::seconds(2), &stopping_);
      // Another holder is the campaign's normal course, and says etcd admits
      // this node (it checks the rights of the whole transaction); a refusal
      // is a fault to fix, said once; an unreachable etcd says neither.
      const StatusCode code = held.ok() ? StatusCode::kOk : held.status().code();
      if (code == StatusCode::kOk || code == StatusCode::kConflict) {
        NoteLeaseRefused("");
      } else if (code != StatusCode::kUnavailable) {
        NoteLeaseRefused(held.status().message());
      }
      if (!held.ok()) continue;
      std::lock_guard lk(lease_mu_);
      lease_ = std::move(*held);
    }
    if (Status s = BeginWriting(lease_.get()); !s.ok()) {
      std::unique_lock lk(lease_mu_);
      lease_.reset();  // give it up: another node may do better
      lk.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    while (!stopping_ && lease_->Check().ok()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EndWriting();
    std::lock_guard lk(lease_mu_);
    lease_.reset();
  }
}

void Node::NoteLeaseRefused(const std::string& why) {
  {
    std::lock_guard lk(mu_);
    if (why == lease_refused_) return;
    lease_refused_ = why;
  }
  if (options_.lease_refused) options_.lease_refused(why);
}

void Node::StopKeepingLeaseAlive() {
  // The campaign thread owns lease_; only the keepalive flag is touched here,
  // under lease_mu_, so that the lease is not released meanwhile.
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lk(lease_mu_);
      if (lease_) {
        lease_->StopKeepingAlive();
        return;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Node::~Node() {
  stopping_ = true;
  if (campaign_.joinable()) campaign_.join();
  if (writing_) EndWriting();
  log_.SetReplicator(nullptr);
  log_.SetForwarder(nullptr);
  log_.SetKeyShare(nullptr);
  js_.StopServingAppends();
  AwaitAppendHandlers();
  js_.StopServingCosign();
  if (follower_.joinable()) follower_.join();
  if (witness_.joinable()) witness_.join();
  lease_.reset();
}

std::string Node::StatusJson() const {
  const char* role = writer() ? "writer" : options_.writer ? "candidate" : "follower";
  std::string out = std::string("{\"role\":\"") + role + "\",\"epoch\":" + std::to_string(epoch()) +
                    ",\"sequence\":" + std::to_string(log_.applied_sequence());
  if (const uint64_t n = passed_over_.load(); n > 0) out += ",\"passed_over\":" + std::to_string(n);
  if (Status p = problem(); !p.ok()) out += ",\"problem\":" + JsonQuote(p.message());
  {
    std::lock_guard lk(mu_);
    if (!lease_refused_.empty()) out += ",\"lease_problem\":\"etcd refuses this node the writer's lease; see its log\"";
  }
  if (std::string k = log_.key_share_problem(); !k.empty()) out += ",\"personal_data\":" + JsonQuote(k);
  return out + "}";
}

Status Node::problem() const {
  std::lock_guard lk(mu_);
  return problem_;
}

bool Node::AwaitSequence(uint64_t sequence, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (log_.applied_sequence() < sequence) {
    if (std::chrono::steady_clock::now() > deadline || !problem().ok()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Applies the stream's rounds in order, for as long as the node runs. The
// writer's own rounds come back here too and are skipped (applied already).
void Node::FollowLoop() {
  std::unique_ptr<Follow> follow;
  int quiet = 0;  // Next()s in a row that brought nothing
  while (!stopping_) {
    if (!follow) {
      Result<std::unique_ptr<Follow>> f = js_.FollowFrom(log_.applied_sequence() + 1);
      if (!f.ok()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      follow = std::move(*f);
    }
    Result<std::optional<StreamMessage>> m = follow->Next(std::chrono::milliseconds(200));
    if (!m.ok()) {
      follow.reset();  // followed again from what the store holds
      continue;
    }
    if (!m->has_value()) {
      // Quiet for a while: is the stream ahead of us? A consumer that lived
      // on a server that died delivers nothing until the library notices;
      // following again from what the store holds is quicker.
      if (++quiet >= 10) {
        quiet = 0;
        Result<uint64_t> last = js_.LastSequence();
        if (last.ok() && *last > log_.applied_sequence()) follow.reset();
      }
      continue;
    }
    quiet = 0;
    const StreamMessage& msg = **m;
    // On the writer, its own rounds may arrive before its store has synced
    // them: give it a moment before calling it a gap.
    for (int i = 0; i < 100 && msg.sequence > log_.applied_sequence() + 1; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (msg.sequence <= log_.applied_sequence()) continue;
    if (msg.sequence != log_.applied_sequence() + 1) {
      follow.reset();  // a gap: follow again from the next one the store needs
      continue;
    }
    // A message that is not the writer's (its tag does not verify) is passed
    // over on every node alike: whoever may publish on the subject without
    // the key cannot stop the nodes, nor write.
    Result<std::string_view> round = options_.key->Open(kRoundPurpose, RoundContext(js_, msg.sequence), msg.data);
    if (!round.ok()) {
      ++passed_over_;
      Refused("message " + std::to_string(msg.sequence) + " of the log of record, passed over: " +
              round.status().message());
    }
    Status s = round.ok() ? log_.ApplyRound(*round, msg.sequence) : log_.PassOverMessage(msg.sequence);
    if (!s.ok()) {
      std::lock_guard lk(mu_);
      problem_ = s.WithContext("following the log of record stopped");
      return;
    }
  }
}

Result<std::string_view> Node::TakeFresh(std::string_view forward, bool* stale) {
  *stale = false;
  const size_t space = forward.find(' '), nl = forward.find('\n');
  if (space != 32 || nl == std::string_view::npos || nl <= space + 1) {
    return Status::Corruption("a forwarded append without its nonce and time");
  }
  const std::string nonce(forward.substr(0, space));
  int64_t sent = 0;
  const std::string_view when = forward.substr(space + 1, nl - space - 1);
  const auto [end, ec] = std::from_chars(when.data(), when.data() + when.size(), sent);
  const int64_t now = SystemClock().Now().value();
  if (ec != std::errc() || end != when.data() + when.size()) {
    return Status::Corruption("a forwarded append whose time is not a number");
  }
  if (sent < now - kForwardFreshMicros || sent > now + kForwardFreshMicros) {
    *stale = true;
    return Status::FailedPrecondition(
        "the forwarded append was sent at " + FormatRfc3339(Timestamp(sent)) + " by its node's clock, and it is " +
        FormatRfc3339(Timestamp(now)) + " by the writer's: sent a minute or more ago, or the nodes' clocks differ "
        "by that much (they must agree within a minute)");
  }
  const auto arrived = std::chrono::steady_clock::now();
  std::lock_guard lk(fresh_mu_);
  while (!fresh_order_.empty() &&
         arrived - fresh_order_.front().first > 2 * std::chrono::microseconds(kForwardFreshMicros)) {
    fresh_seen_.erase(fresh_order_.front().second);
    fresh_order_.pop_front();
  }
  if (fresh_seen_.contains(nonce)) return Status::Corruption("a forwarded append sent before (its nonce again)");
  if (fresh_seen_.size() >= kForwardNoncesKept) {
    return Status::Unavailable("more forwarded appends in two minutes than the writer remembers (" +
                               std::to_string(kForwardNoncesKept) + ")");
  }
  fresh_seen_.insert(nonce);
  fresh_order_.emplace_back(arrived, nonce);
  return forward.substr(nl + 1);
}

void Node::AwaitAppendHandlers() {
  // The subscription is gone (drained, or destroyed when the drain did not
  // finish): no handler starts any more; one already running ends soon (it
  // only queues the append).
  while (append_handlers_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void Node::Refused(const std::string& why) {
  if (!options_.refused) return;
  // At most one report every 10 s, saying how many were not told: whoever
  // floods the subjects does not flood the node's log.
  const auto now = std::chrono::steady_clock::now();
  uint64_t untold = 0;
  {
    std::lock_guard lk(mu_);
    if (refused_told_ != std::chrono::steady_clock::time_point() && now - refused_told_ < std::chrono::seconds(10)) {
      ++refused_untold_;
      return;
    }
    refused_told_ = now;
    untold = std::exchange(refused_untold_, 0);
  }
  options_.refused(untold == 0 ? why : why + " (and " + std::to_string(untold) + " more since the last report)");
}

void Node::WitnessLoop() {
  uint64_t size_seen = 0;
  int attempts = 0;  // gatherings for the checkpoint of size_seen
  const Result<std::string> own = log_.CosignerKey();
  while (!stopping_) {
    const auto next = std::chrono::steady_clock::now() + options_.cosign_every;
    while (!stopping_ && std::chrono::steady_clock::now() < next) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (stopping_) return;
    Result<std::optional<std::string>> latest = log_.LatestCheckpoint();
    if (!latest.ok() || !latest->has_value()) continue;
    const std::string& checkpoint = **latest;
    Result<std::string> body = note::NoteText(checkpoint);
    if (!body.ok()) continue;
    Result<note::Checkpoint> c = note::ParseCheckpoint(*body);
    if (!c.ok()) continue;
    if (c->size != size_seen) {
      size_seen = c->size;
      attempts = 0;
    }
    // A few tries per checkpoint: a witness that was behind answers the next time.
    if (attempts >= 3) continue;
    ++attempts;
    const std::string request = options_.key->Seal(kCosignPurpose, "", checkpoint);
    Result<std::vector<std::string>> replies = js_.GatherCosignatures(request, options_.cosign_window);
    if (!replies.ok()) continue;
    std::vector<std::string> lines;
    for (const std::string& tagged : *replies) {
      // "<witness key>\n<cosignature line>" from a node of the cluster, each
      // line checked before it is kept.
      Result<std::string_view> opened = options_.key->Open(kCosignReplyPurpose, ReplyContext(request), tagged);
      if (!opened.ok()) {
        Refused("a cosignature: " + opened.status().message());
        continue;
      }
      const std::string_view reply = *opened;
      const size_t nl = reply.find('\n');
      if (nl == std::string::npos) continue;
      const std::string key_text(reply.substr(0, nl)), line(reply.substr(nl + 1));
      if (own.ok() && key_text == *own) continue;  // its own answer
      Result<note::WitnessKey> key = note::ParseWitnessKey(key_text);
      if (!key.ok()) continue;
      std::string with = checkpoint;
      if (!with.ends_with('\n')) with += '\n';
      if (!note::VerifyCosignature(key->name, key->public_key, with + line).ok()) continue;
      lines.push_back(line);
    }
    Result<size_t> added = log_.AddCosignatures(size_seen, lines);
    if (added.ok() && *added == 0 && !lines.empty()) attempts = 3;  // everyone who answers has cosigned
  }
}

Result<std::vector<AppendResult>> Node::Forward(std::vector<AppendRequest>& requests, EventLog::ForwardWait wait) {
  const std::chrono::milliseconds timeout =
      wait == EventLog::ForwardWait::kBrief ? options_.brief_forward_timeout : options_.forward_timeout;
  const auto deadline = std::chrono::steady_clock::now() + timeout;  // for both framings, if it takes both
  auto forward = [&](ForwardFraming framing) -> Result<std::vector<AppendResult>> {
    const std::string encoded = EncodeForward(requests, framing);
    const auto left =
        std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()),
                 std::chrono::milliseconds(100));
    Result<std::pair<std::string, std::string>> reply =
        js_.RequestAppend([&] { return options_.key->Seal(kAppendPurpose, "", FreshForward(encoded)); }, left);
    Result<std::string_view> body =
        reply.ok() ? options_.key->Open(kAppendReplyPurpose, ReplyContext(reply->first), reply->second)
                   : reply.status();
    if (reply.ok() && !body.ok()) {
      Refused("an answer to a forwarded append: " + body.status().message());
      body = Status::Unavailable("the answer did not come from the cluster's writer");
    }
    if (!body.ok()) {
      return body.status().WithContext(
          "forwarding the append to the partition writer (it may have been written: send it again with the same "
          "event ids, which the log recognises)");
    }
    return DecodeForwardReply(*body);
  };
  Result<std::vector<AppendResult>> r = forward(ForwardFraming::kCurrent);
  // A writer of an earlier build (a rolling upgrade, followers first) knows
  // no recorded_by: it takes the events without it, and writes nothing it
  // refused for the framing.
  if (!r.ok() && RefusedForItsFraming(r.status())) {
    Refused(
        "the writer runs an earlier build (it refused a forward for its framing): appends go to it without "
        "recorded_by, the token that appended them, until it is upgraded");
    r = forward(ForwardFraming::kBefore2);
  }
  if (!r.ok()) return r;
  // Read-your-writes on this node: answer once this store holds them.
  uint64_t last = 0;
  bool any = false;
  for (const AppendResult& a : *r) {
    for (Position p : a.positions) {
      last = std::max(last, p.value());
      any = true;
    }
  }
  if (any && !log_.AwaitPosition(last, timeout)) {
    return Status::Unavailable("the writer wrote the append (up to position " + std::to_string(last) +
                               ") but this node has not applied it yet; read it with min_position");
  }
  return r;
}

}  // namespace custodian::cluster
