// The log of record past one machine: one NATS JetStream stream (Debian's
// nats-server and libnats; docs/scale-out.md). Each message is one round of
// the partition writer (storage/replicated_round.h); its stream sequence is
// the round's sequence. nats.c stays in jetstream.cc.
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace custodian::cluster {

struct JetStreamOptions {
  std::vector<std::string> servers;   // nats://127.0.0.1:4222, ...
  std::string stream = "CUSTODIAN";   // the stream's name; its subject is "<stream>.rounds"
  int replicas = 3;                   // R3: a round is acknowledged once two of three servers hold it
  std::string name = "custodian";     // this connection's name, as the servers show it
  // How this node signs in to servers that admit only the nodes (docs/scale-out.md,
  // "Who may write"): a file, owner-only, holding either a NATS user
  // credentials file (a JWT and its NKey seed, as `nsc` writes them), or one
  // line, USER:PASSWORD, or a bare token. Kept out of the URLs, which the
  // process list shows. Empty: none (or what the URLs carry).
  std::string credentials_file;
  // Servers that speak TLS: a PEM file of the CA certificates that signed
  // theirs. The node then speaks only TLS, and refuses a server that does
  // not, or whose certificate does not verify: signed by neither a CA of
  // the file nor one of the system's (nats.c adds the file to them), or not
  // for the host of its URL. Empty: TLS only with a server that asks for
  // it, against the system's CAs; when that fails, the node says to give
  // the CA.
  std::string ca_file;
  // How long one publish may take, retries included, before its outcome is
  // called unknown; and how long the first connection may take.
  std::chrono::milliseconds publish_timeout{15000};
  std::chrono::milliseconds connect_timeout{30000};
};

// A message of the stream: its sequence and bytes.
struct StreamMessage {
  uint64_t sequence = 0;
  std::string data;
};

class Follow;

class JetStream {
 public:
  // Connects (retrying until connect_timeout while the servers come up) and
  // makes sure the stream exists as Custodian needs it: file storage,
  // `replicas` copies, no deletes, no purges, no age or size limit. A stream
  // of that name with other settings is Unsupported (its settings named).
  static Result<std::unique_ptr<JetStream>> Connect(const JetStreamOptions& options);
  ~JetStream();
  JetStream(const JetStream&) = delete;
  JetStream& operator=(const JetStream&) = delete;

  // Publishes `data` as the message after sequence `after` (header
  // Nats-Expected-Last-Sequence) with id `id` (Nats-Msg-Id), retrying the
  // same message while no server answers; returns its sequence once the
  // stream's quorum holds it. A retry of a message already stored returns
  // the original sequence. Unavailable when the stream certainly does not
  // hold it (another message took sequence after+1: another writer, or too
  // big); IoError when it may (no answer within publish_timeout).
  Result<uint64_t> Publish(std::string_view data, uint64_t after, const std::string& id);

  // The stream's last sequence (0 when empty).
  Result<uint64_t> LastSequence();
  // The name of the NATS server that leads the stream now (empty without a cluster).
  Result<std::string> Leader();

  // Reads the stream in order from sequence `from` (>= 1) on, following new
  // messages as they come (an ordered consumer).
  Result<std::unique_ptr<Follow>> FollowFrom(uint64_t from);

  // The writer answers appends that followers forward (cluster/forward.h)
  // on "<stream>.append": `handle(request, reply)` runs on a NATS thread and
  // must not block; `reply(bytes)` may be called later, from any thread.
  using AppendHandler = std::function<void(std::string request, std::function<void(std::string)> reply)>;
  Status ServeAppends(AppendHandler handle);
  // Stops answering them (the node is no longer the writer).
  void StopServingAppends();
  // A follower's forwarded append: the writer's reply. Unavailable when no
  // writer answers within `timeout`.
  Result<std::string> RequestAppend(std::string_view request, std::chrono::milliseconds timeout);
  // The same, with each try's request made by `make` (a fresh one each time);
  // the request the reply answers, and the reply.
  Result<std::pair<std::string, std::string>> RequestAppend(const std::function<std::string()>& make,
                                                            std::chrono::milliseconds timeout);

  // Witnesses (cluster/node.h): every node answers "<stream>.cosign"
  // requests, a checkpoint note each, with `handle(note)`'s reply (nothing
  // when it returns nullopt). It runs on a NATS thread.
  using CosignHandler = std::function<std::optional<std::string>(std::string note)>;
  Status ServeCosign(CosignHandler handle);
  // Stops answering them, waiting for an answer in progress.
  void StopServingCosign();
  // Asks every node to cosign `note` and returns the replies that came
  // within `window` (its own included).
  Result<std::vector<std::string>> GatherCosignatures(std::string_view note, std::chrono::milliseconds window);

  // The data keys' share (cluster/key_share.h gives its messages meaning),
  // the stream "<stream>_KEYS": one subject per data key,
  // "<stream>.keys.<SHA-256 of the subject>" (the servers see no subject).
  // Deletes are allowed there, unlike the log of record, so that an erasure
  // erases the key (docs/scale-out.md).
  //
  // Publishes `bytes` on the subject's key subject if its last message is
  // sequence `after` (0: it has none): Conflict when another is last by then.
  Status PublishKey(const std::string& subject, std::string_view bytes, uint64_t after);
  // The last message on the subject's key subject (nullopt: none).
  Result<std::optional<StreamMessage>> LastKeyMessage(const std::string& subject);
  // Visits them in order until `visit` returns false or the last one is
  // visited (Unavailable when they stop coming, e.g. erased meanwhile).
  Status VisitKeyMessages(const std::string& subject, const std::function<bool(const StreamMessage&)>& visit);
  // Erases every message of the subject's key (the servers overwrite it).
  Status EraseKey(const std::string& subject);

  // The largest message the servers take, in bytes.
  int64_t max_payload() const;
  const JetStreamOptions& options() const { return options_; }

  struct Handles;

 private:
  explicit JetStream(JetStreamOptions options);
  Status EnsureKeyStream(std::chrono::steady_clock::time_point deadline);
  // An ordered consumer of `subject` on `stream`, from sequence `from` (>= 1).
  Result<std::unique_ptr<Follow>> OrderedConsumer(const std::string& stream, const std::string& subject, uint64_t from);
  std::string KeySubject(const std::string& subject) const;
  JetStreamOptions options_;
  std::string subject_;
  std::string key_stream_;
  std::unique_ptr<Handles> h_;
  AppendHandler append_handler_;
  CosignHandler cosign_handler_;
};

class Follow {
 public:
  ~Follow();
  // The next message, waiting up to `timeout`; nullopt when none came.
  // With `pending`, how many messages the stream holds after it for this consumer.
  Result<std::optional<StreamMessage>> Next(std::chrono::milliseconds timeout, uint64_t* pending = nullptr);

 private:
  friend class JetStream;
  struct Sub;
  explicit Follow(std::unique_ptr<Sub> sub);
  std::unique_ptr<Sub> sub_;
};

}  // namespace custodian::cluster
