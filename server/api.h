// The HTTP API (docs/http-api.md): routes under /v1, bearer tokens and roles,
// translated to service/ calls and back, nothing more (DESIGN.md,
// Architecture). Api::Handle is a function from a request to a response,
// with no socket: server/server.h does the I/O.
//
// Thread-safe: Handle is called from many threads at once; appends share the
// log's group commit. The Api owns a follower thread that folds the
// projections as the log grows, so queries read state that is at most a
// moment behind; a request with ?min_position=P waits (up to 10 s) until the
// projections have folded position P, so a client reads its own writes.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>

#include "core/status.h"
#include "server/http.h"
#include "service/store.h"
#include "service/tokens.h"
#include "server/metrics.h"
#include "server/web_files.h"
#include "storage/event_log.h"

namespace custodian {

// The one mapping from Status to HTTP status codes.
int HttpStatusFor(const Status& s);

struct ApiOptions {
  // Appends are refused with 503 and Retry-After while the projections are
  // more than this many events behind the log (0: no bound). Under a load at
  // the group-commit limit the follower folds more slowly than appends come
  // (docs/performance.md, "Soak"): this bounds how stale reads get.
  uint64_t max_projection_lag = 1'000'000;
  // The web UI's files, served at "/" (none: no UI, "/" is 404).
  WebFiles web;
  // A node of a cluster (docs/scale-out.md): its place, as a JSON object for
  // /healthz ({"role":"writer","epoch":7,"sequence":1234,...}); null: one machine.
  std::function<std::string()> cluster_status;
};

class Api {
 public:
  // `log` is open read-write and outlives the Api.
  explicit Api(EventLog& log, ApiOptions options = {});
  ~Api();  // stops the follower
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  http::Response Handle(const http::Request& request);

  // As Handle, for a server whose threads must not wait for a group commit:
  // an append is checked and queued on the calling thread and `done` gets
  // the response once it is durable, on the log's thread; every other
  // request is answered at once, on the calling thread.
  void HandleAsync(const http::Request& request, std::function<void(http::Response)> done);
  // Whether `request` is an append (POST /v1/streams/{s}/events or
  // /v1/cloudevents): quick to handle on an I/O thread with HandleAsync.
  static bool IsAppend(const http::Request& request);

  // What an append route gives back once it has checked the request: the
  // appends to queue, and what to answer with their outcome.
  struct PendingAppend {
    std::vector<AppendRequest> requests;
    std::function<http::Response(Result<std::vector<AppendResult>>)> finish;
  };
  using Reply = std::variant<http::Response, PendingAppend>;

  // Tells the follower the log grew (appends made elsewhere than Handle).
  void Nudge();
  // The position below which every event has been folded into the projections.
  uint64_t folded() const { return folded_.load(); }
  // How many events the projections are behind the log.
  uint64_t lag() const {
    const uint64_t end = log_.end().value(), folded = folded_.load();
    return end > folded ? end - folded : 0;
  }
  const ApiOptions& options() const { return options_; }
  // The follower's last failure; empty while it folds (/healthz says degraded otherwise).
  std::string follow_error() const {
    std::lock_guard lk(follow_mu_);
    return follow_error_;
  }
  Metrics& metrics() { return metrics_; }
  EventLog& log() { return log_; }

  // What a route is given: the request, its parsed target, its path
  // parameters, and who asks (the token, and the Caller reads are recorded for).
  struct Call {
    const http::Request& request;
    const http::Target& target;
    std::vector<std::string> params;
    TokenInfo token;
    Caller caller;
  };
  struct Route;

  // --- Live subscriptions (GET /v1/subscribe, server-sent events) ---
  //
  // The session streams them; the Api decides who may and what comes next.
  struct Subscription {
    uint64_t next = 0;   // the next position to send
    std::string stream;  // only this stream's events; empty: every stream the token may read
    uint64_t next_version = 0;  // with a stream: where its reads go on (found from `next` at the first poll)
    TokenInfo token;
    Caller caller;
    std::string bearer;  // the token as presented: checked again before every batch (held in memory only)
  };
  // Whether `request` is a subscription: GET /v1/subscribe.
  static bool IsSubscription(const http::Request& request);
  // The subscription the request asks for (?from=POSITION, &stream=S; a
  // Last-Event-ID header resumes after that position), or the error response
  // to send instead (401, 403, 400).
  std::variant<Subscription, http::Response> Subscribe(const http::Request& request);
  // The events from s.next on (at most `max`; none when the log has no more),
  // as SSE frames ("id: <position>\nevent: <type>\ndata: <event JSON>\n\n"),
  // each customer's read recorded for the token's staff member first; s.next
  // moves past them. The token is checked again first: a subscription ends
  // when its token is revoked or its holder leaves. An error ends the subscription.
  Result<std::string> Poll(Subscription& s, size_t max);

 private:
  struct Dispatched {
    std::string label;  // the route's pattern, for the metrics
    std::chrono::steady_clock::time_point started;
    Reply reply;
  };
  Dispatched Dispatch(const http::Request& request);
  http::Response Finish(const std::string& label, std::chrono::steady_clock::time_point started,
                        http::Response response);
  void Follow();
  // A node of a cluster: appends the reads it spooled while no writer
  // answered (service/store.h, RecordRead), every few seconds.
  void DrainSpool();
  bool WaitFolded(uint64_t position);

  EventLog& log_;
  const ApiOptions options_;
  Metrics metrics_;
  std::atomic<uint64_t> folded_{0};
  mutable std::mutex follow_mu_;
  std::condition_variable follow_cv_;
  bool nudged_ = false, urgent_ = false, stopping_ = false;
  std::string follow_error_;  // the follower's last failure, for /healthz
  std::unique_ptr<ProjectionEngine> engine_;  // the follower's: its projections' caches last between folds
  std::thread follower_;
  std::chrono::steady_clock::time_point next_drain_{};  // the follower's
};

}  // namespace custodian
