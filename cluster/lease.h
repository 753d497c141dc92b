// The partition writer's lease (docs/scale-out.md): one key in etcd (Debian's
// etcd-server, through its JSON gateway), created only while absent, tied to
// a lease that the holder keeps alive. The key's create_revision is the
// fencing epoch: it grows with every new holder. Debian's nats-server 2.9.10
// does not serialize expected-sequence checks of concurrent publishes
// (nats-server#4320), so two writers must never publish at the same time:
// the holder publishes only before its lease's deadline, counted from when
// it last asked etcd to extend it, which is never later than when etcd lets
// another node take the key. Boost.Beast (and its TLS) stays in lease.cc.
//
// Whoever can write the key decides who writes: an etcd whose clients are
// not all nodes should have authentication on, and the nodes sign in
// (LeaseOptions::credentials_file), over https (LeaseOptions::ca_file).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"

namespace custodian::cluster {

struct LeaseOptions {
  std::string endpoint = "http://127.0.0.1:2379";  // etcd's client URL, http:// or https://
  std::string key = "/custodian/CUSTODIAN/writer";
  std::string holder;                              // who holds it, as etcd shows it
  std::chrono::seconds ttl{6};                     // etcd's minimum is 2
  // An etcd with authentication on: an owner-only file of one line,
  // USER:PASSWORD, of a user that may write `key`. The node signs in with it
  // (/v3/auth/authenticate) and sends the token with every call, signing in
  // again when etcd says the token expired. Empty: no sign-in.
  std::string credentials_file;
  // For an https:// endpoint: the PEM of the CA that signed etcd's
  // certificate, which must also name the endpoint's host. Empty: the
  // system's CAs.
  std::string ca_file;
};

class WriterLease {
 public:
  // etcd's JSON gateway as this node signs in to it: the credentials file is
  // read once, and a sign-in's token serves every call until etcd says it
  // expired. A candidate keeps one for all its tries (etcd checks a
  // password slowly, on purpose).
  class Etcd;
  // Whether `options` can be used (TTL, endpoint, the credentials file),
  // without asking etcd: what Acquire would refuse at once. A message never
  // holds the password.
  static Result<std::shared_ptr<Etcd>> Connect(const LeaseOptions& options);
  static Status CheckOptions(const LeaseOptions& options) { return Connect(options).status(); }

  // Waits until this node holds the key (or `timeout` passes), then keeps
  // the lease alive from a thread of its own. When it gives up: Conflict
  // while another node holds the key; FailedPrecondition when etcd refuses
  // this node (no sign-in where one is needed, a wrong password, no right
  // to the key), saying what to do; Unavailable when etcd cannot be
  // reached or fails.
  static Result<std::unique_ptr<WriterLease>> Acquire(const LeaseOptions& options, std::shared_ptr<Etcd> etcd,
                                                      std::chrono::milliseconds timeout,
                                                      const std::atomic<bool>* cancelled = nullptr);
  // The same with an Etcd of its own.
  static Result<std::unique_ptr<WriterLease>> Acquire(const LeaseOptions& options, std::chrono::milliseconds timeout,
                                                      const std::atomic<bool>* cancelled = nullptr);
  // Gives the key up (revokes the lease) when still held.
  ~WriterLease();
  WriterLease(const WriterLease&) = delete;
  WriterLease& operator=(const WriterLease&) = delete;

  // The fencing epoch: the key's create_revision in etcd.
  uint64_t epoch() const { return epoch_; }
  // Ok while the lease's deadline has not passed (with a margin for the
  // publish about to start); else why this node may no longer write.
  Status Check() const;
  // Fault injection for tests: stop extending the lease (as a paused process).
  void StopKeepingAlive();

 private:
  WriterLease(LeaseOptions options, std::shared_ptr<Etcd> etcd, int64_t id, uint64_t epoch);
  void KeepAlive();

  const LeaseOptions options_;
  const std::shared_ptr<Etcd> etcd_;
  const int64_t id_;
  const uint64_t epoch_;
  std::atomic<int64_t> deadline_ms_;  // steady clock, ms: publish only before this
  std::atomic<bool> lost_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> paused_{false};
  std::thread keeper_;
};

}  // namespace custodian::cluster
