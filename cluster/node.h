// One Custodian node of a cluster (docs/scale-out.md): its own store, a
// replica of the log of record on NATS JetStream. Every node follows the
// stream and applies each round into its store (storage/replicated_round.h),
// so every node serves reads and computes the same tree. The partition
// writer also checks and publishes the appends: its own callers' and those
// the followers forward to it (cluster/forward.h).
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "cluster/cluster_key.h"
#include "cluster/jetstream.h"
#include "cluster/lease.h"
#include "core/status.h"
#include "storage/event_log.h"

namespace custodian::cluster {

struct NodeOptions {
  // The key every node of the cluster holds (cluster/cluster_key.h): rounds,
  // forwarded appends and their replies, and cosignature requests and
  // answers are tagged with it and believed only when the tag verifies.
  // Required.
  std::optional<ClusterKey> key;
  // Told why a message on the cluster's subjects was passed over (its tag
  // did not verify); at most once every 10 s, with how many were not told.
  // May be empty.
  std::function<void(const std::string&)> refused;
  // This node is the partition writer; with a lease, it is a candidate and
  // writes only while it holds the lease (docs/scale-out.md).
  bool writer = false;
  std::optional<LeaseOptions> lease;
  // How long a follower waits for the writer's answer to a forwarded append,
  // and then for its own store to hold it; and the same for a record of a
  // read (EventLog::ForwardWait::kBrief), which is spooled when it times out.
  std::chrono::milliseconds forward_timeout{20000};
  std::chrono::milliseconds brief_forward_timeout{1500};
  // How long the writer waits to catch up with the stream before it writes.
  std::chrono::milliseconds catch_up_timeout{600000};
  // A store that was one machine's seeds an empty stream in rounds of at most this many bytes.
  size_t seed_round_bytes = 512 << 10;
  // Witnesses: how often the node looks for a new checkpoint of its own to
  // have cosigned by the others, and how long it waits for their answers.
  std::chrono::milliseconds cosign_every{5000};
  std::chrono::milliseconds cosign_window{2000};
  // Told each new reason why etcd refuses this candidate the lease (no or
  // wrong sign-in, no right to the key; not "another node holds it" nor
  // "etcd is unreachable"), and "" once etcd answers it as a node it admits
  // (the lease granted, or held by another). May be empty.
  std::function<void(const std::string&)> lease_refused;
};

class Node {
 public:
  // `log` must be a replica store (EventLogOptions::replica) open read-write;
  // both must outlive the node. Starts following the stream from the
  // sequence after the last one the store holds. The writer first catches
  // up with everything the stream holds, then publishes.
  static Result<std::unique_ptr<Node>> Start(EventLog& log, JetStream& js, const NodeOptions& options);
  // Stops following and writing; the store stays open.
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Whether this node writes now (a candidate: while it holds the lease).
  bool writer() const { return writing_.load(); }
  // The fencing epoch this node writes under (0 while it does not).
  uint64_t epoch() const { return epoch_.load(); }
  // Fault injection for tests: the writer stops extending its lease, as a
  // process that is paused would.
  void StopKeepingLeaseAlive();
  // Why following the stream stopped; Ok while it runs.
  Status problem() const;
  // Where this node stands: {"role":"writer"|"candidate"|"follower","epoch":E,
  // "sequence":S} (and "problem" once following stopped; "lease_problem"
  // while etcd refuses this candidate the lease, without the reason, which
  // NodeOptions::lease_refused is told; "passed_over": how many messages of
  // the stream were no rounds of this cluster, when any), as JSON.
  std::string StatusJson() const;
  // Waits until the store holds sequence `sequence` of the stream.
  bool AwaitSequence(uint64_t sequence, std::chrono::milliseconds timeout) const;

 private:
  Node(EventLog& log, JetStream& js, const NodeOptions& options);
  void FollowLoop();
  // Gathers the other nodes' cosignatures of this node's newest checkpoint
  // and keeps them with it (EventLog::AddCosignatures).
  void WitnessLoop();
  void Campaign();
  // Keeps `why` ("" once granted) and tells NodeOptions::lease_refused when it changed.
  void NoteLeaseRefused(const std::string& why);
  // Starts writing (after catching up with the stream); `lease` may be null.
  Status BeginWriting(WriterLease* lease);
  void EndWriting();
  Result<std::vector<AppendResult>> Forward(std::vector<AppendRequest>& requests, EventLog::ForwardWait wait);
  // A message on the cluster's subjects that is not the nodes': counted for
  // StatusJson and told to NodeOptions::refused.
  void Refused(const std::string& why);
  // Waits until no handler of forwarded appends runs (after StopServingAppends).
  void AwaitAppendHandlers();
  // The forwarded append after its nonce and time (FreshForward in node.cc),
  // when it is fresh and its nonce not seen before; an error otherwise,
  // with `stale` set when its time is too far from this node's clock.
  Result<std::string_view> TakeFresh(std::string_view forward, bool* stale);

  EventLog& log_;
  JetStream& js_;
  const NodeOptions options_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> writing_{false};
  std::atomic<uint64_t> epoch_{0};
  std::atomic<uint64_t> passed_over_{0};
  std::atomic<int> append_handlers_{0};  // handlers of forwarded appends running now  // messages of the stream that were no rounds of this cluster
  // The campaign's, while it holds one. Only the campaign thread sets or
  // resets it, under lease_mu_, which other threads hold to look at it.
  std::unique_ptr<WriterLease> lease_;
  std::mutex lease_mu_;
  std::shared_ptr<WriterLease::Etcd> etcd_;  // with a lease: etcd as this node signs in to it
  std::thread campaign_;
  std::thread witness_;
  mutable std::mutex mu_;
  Status problem_;
  std::string lease_refused_;  // why etcd refuses this candidate the lease; "" while it does not
  std::chrono::steady_clock::time_point refused_told_;  // when NodeOptions::refused was last told
  uint64_t refused_untold_ = 0;                          // refusals since, not told
  std::mutex fresh_mu_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> fresh_order_;  // nonces taken, by arrival
  std::unordered_set<std::string> fresh_seen_;
  std::thread follower_;
};

}  // namespace custodian::cluster
