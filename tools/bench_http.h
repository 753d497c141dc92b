// custodian-bench's HTTP workloads (tools/bench.cc lists them): a Custodian
// server in the benchmark's own process (server/api.h over an EventLog,
// server/server.h on 127.0.0.1 and a free port) and real TCP clients over
// loopback: the appending clients are keep-alive connections that one client
// thread drives asynchronously (as wrk does), the reader a synchronous
// Boost.Beast client. Beast and Asio stay in bench_http.cc; bench.cc sees plain values.
//
// The stores are opened with the log's rules (EventLogOptions::rules =
// CheckRules, as the command line and `custodian serve` open them), so the
// benchmark first makes the people the requests need (untimed): the generated
// events' actors (staff-0 .. staff-199) join, an admin joins and makes the
// tokens, and for reads an auditor joins. Then the Api's follower folds the
// store's projections before the clock starts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace custodian::bench {

// What the appending clients do.
struct HttpAppendLoad {
  int threads = 32;                 // clients: keep-alive connections, each one request at a time
  double seconds = 5;               // how long they append
  uint64_t max_events = 0;          // ... or until this many events are sent (0: no limit)
  size_t events_per_request = 1;    // 1: one event as a JSON object; more: an array of events of one stream
  uint64_t seed = 42;               // of the event generator (tools/bench_events.h), one factory per client
  uint64_t streams = 10'000;        // `customer-<n>` streams drawn from
  // The transport's ceiling (http_transport): the same requests, bodies and
  // headers sent to POST /healthz, which the server reads whole, routes and
  // answers 405 without authenticating, parsing the events or appending.
  // What is left is the loopback TCP, HTTP parsing and the client itself:
  // no appending workload over this transport can be faster.
  bool transport_only = false;
  // When set, called every `tick_seconds` while the clients run (on the
  // client thread) with a Tick. For the soak (custodian-bench --soak).
  struct Tick {
    double seconds = 0;      // since the start
    uint64_t requests = 0;   // answered 201 so far
    uint64_t log_end = 0;    // the log's end
    uint64_t folded = 0;     // where the server's projections have folded to
    std::vector<double> latencies_ms;  // of the requests answered since the last tick (then dropped, not kept)
  };
  double tick_seconds = 0;
  std::function<void(const Tick&)> on_tick;
};

// CPU time the whole process has used (user + system, every thread), in seconds.
double ProcessCpuSeconds();

// What they measured.
struct HttpAppendRun {
  uint64_t requests = 0, events = 0;  // answered 201
  double seconds = 0;                 // wall clock from the first request to the last answer
  double cpu_seconds = 0;             // ProcessCpuSeconds over the same time: clients, server and log
                                      // (a fold of the projections still behind at the end is not in it)
  std::vector<double> latencies_ms;   // one per request: write the request, read the whole answer
  std::string setup;                  // what was done before the clock started
  double stop_seconds = 0;            // how long the server and its Api took to stop after the last answer
};

// http_append and http_append_batch: a new store at `dir` (with the log's
// rules), its actors joined and an ingest token made, the server started;
// then load.threads clients POST the generator's events (the JSON that
// ParseEventJson accepts) to /v1/streams/{stream}/events, each waiting for
// its 201 (the event durable) before sending the next. Exits the process with
// a message if any request is not answered 201.
HttpAppendRun RunHttpAppend(const std::string& dir, const HttpAppendLoad& load);

// http_read_customer: the server over an existing store (filled by import),
// an auditor and an auditor token added to it, and one client.
class HttpReader {
 public:
  // Opens the store at `dir`, joins the admin and the auditor (once per
  // store), makes an auditor token, starts the server, and waits until the
  // Api's follower has folded the whole store.
  static std::unique_ptr<HttpReader> Start(const std::string& dir);
  virtual ~HttpReader() = default;
  // One GET of the customer `stream` (see route()); returns the number of
  // events in the answer. Exits the process with a message unless it is a 200.
  virtual size_t Read(const std::string& stream) = 0;
  // The route asked, e.g. "GET /v1/streams/{stream}?limit=100".
  virtual std::string route() const = 0;
  // What was done before the first read (the fold's time, ...).
  virtual std::string setup() const = 0;
};

}  // namespace custodian::bench
