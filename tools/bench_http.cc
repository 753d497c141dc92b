#include "tools/bench_http.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/core.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "core/event.h"
#include "core/json.h"
#include "core/rules.h"
#include "core/status.h"
#include "core/time.h"
#include "server/api.h"
#include "server/server.h"
#include "service/tokens.h"
#include "storage/event_log.h"
#include "tools/bench_events.h"

namespace custodian::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// The generator's actors are staff-0 .. staff-199 (tools/bench_events.cc).
constexpr int kGeneratedActors = 200;
// Who makes the tokens (rule 'tokens': an admin) and who reads (an auditor
// reads every customer). Numbers the generator never uses.
constexpr char kAdmin[] = "staff-9000";
constexpr char kAuditor[] = "staff-9001";
constexpr auto kFoldTimeout = std::chrono::minutes(30);
constexpr size_t kAnswerLimit = 64 << 20;

[[noreturn]] void Die(const std::string& what) {
  fmt::print(stderr, "custodian-bench: {}\n", what);
  std::exit(1);
}

void Check(const Status& s, const std::string& context) {
  if (!s.ok()) Die(context + ": " + s.ToString());
}

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// The store as `custodian serve` opens it: read-write, synced, with the log's rules.
std::unique_ptr<EventLog> OpenWithRules(const std::string& dir) {
  EventLogOptions options;
  options.create = CreateIfMissing::kYes;
  options.sync = Sync::kYes;
  options.rules = CheckRules;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(dir, options);
  Check(log.status(), "open the EventLog at " + dir + " with the log's rules");
  return std::move(*log);
}

Event Joined(const std::string& staff, const std::string& role) {
  Event e;
  e.id = EventId::Random();
  e.stream = staff;
  e.type = "staff.joined";
  e.actor = "system:hr-sync";
  e.occurred_at = SystemClock().Now();
  e.source = "bench";
  e.data = fmt::format(R"({{"role":"{}"}})", role);
  return e;
}

bool HasJoined(const EventLog& log, const std::string& staff) {
  Result<std::vector<std::pair<std::string, std::string>>> records = log.RuleRecords("staff/" + staff);
  Check(records.status(), "read the rule records of " + staff);
  return std::any_of(records->begin(), records->end(), [](const auto& r) { return r.first.empty(); });
}

// Joins each (staff, role) that has not joined yet, in one batch.
void Join(EventLog& log, const std::vector<std::pair<std::string, std::string>>& people) {
  std::vector<AppendRequest> batch;
  for (const auto& [staff, role] : people) {
    if (!HasJoined(log, staff)) batch.push_back({staff, ExpectedVersion::Any(), {Joined(staff, role)}});
  }
  if (!batch.empty()) Check(log.AppendBatch(std::move(batch)).status(), "join the benchmark's staff");
}

std::string MakeToken(EventLog& log, const std::string& role, const std::string& staff) {
  Result<NewToken> t = CreateToken(log, TokenRequest{role, "custodian-bench", staff, kAdmin, SystemClock().Now()});
  Check(t.status(), "make a " + role + " token");
  return t->token;
}

// The Api and the server over `log`, on 127.0.0.1 and a free port, once the
// follower has folded everything the log holds (untimed).
struct Served {
  std::unique_ptr<Api> api;
  std::unique_ptr<Server> server;
  double fold_seconds = 0;

  explicit Served(EventLog& log) : api(std::make_unique<Api>(log)) {
    const auto start = SteadyClock::now();
    const uint64_t end = log.end().value();
    while (api->folded() < end) {
      if (SteadyClock::now() - start > kFoldTimeout) Die("the Api's follower did not fold the store in 30 minutes");
      api->Nudge();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    fold_seconds = SecondsSince(start);
    ServerOptions options;  // as `custodian serve` by default: 2 I/O threads, 64 workers
    options.listen = "127.0.0.1:0";
    Result<std::unique_ptr<Server>> s = Server::Start(*api, options);
    Check(s.status(), "start the server on 127.0.0.1");
    server = std::move(*s);
  }

  ~Served() {
    server->Stop();
    server.reset();
    api.reset();  // stops the follower
  }
};

// A synchronous HTTP/1.1 client on one keep-alive connection.
class Client {
 public:
  Client(uint16_t port, std::string token) : socket_(ioc_), token_("Bearer " + std::move(token)) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    socket_.set_option(tcp::no_delay(true));
  }

  ~Client() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  // Sends one request and reads the whole answer; returns its status code.
  // Throws boost::system::system_error when the connection fails.
  int Send(bhttp::verb verb, const std::string& target, std::string body, std::string* answer) {
    bhttp::request<bhttp::string_body> req{verb, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::authorization, token_);
    if (!body.empty()) {
      req.set(bhttp::field::content_type, "application/json");
      req.body() = std::move(body);
    }
    req.keep_alive(true);
    req.prepare_payload();
    bhttp::write(socket_, req);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kAnswerLimit);
    bhttp::read(socket_, buffer_, parser);
    bhttp::response<bhttp::string_body> res = parser.release();
    if (!res.keep_alive()) Die(fmt::format("the server closed the connection after {} {}", res.result_int(), target));
    *answer = std::move(res.body());
    return res.result_int();
  }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  std::string token_;
};

std::string Shorten(const std::string& s) { return s.size() > 300 ? s.substr(0, 300) + "..." : s; }

// How many events an answer holds: every event of a stream read carries its
// "position" (the log's fields). Counting is cheaper than parsing, so the
// client's own work stays out of the latency.
size_t CountEvents(const std::string& body) {
  size_t n = 0;
  for (size_t at = body.find("\"position\":"); at != std::string::npos; at = body.find("\"position\":", at + 1)) ++n;
  return n;
}

class Reader final : public HttpReader {
 public:
  explicit Reader(const std::string& dir) : log_(OpenWithRules(dir)) {
    const uint64_t before = log_->end().value();
    Join(*log_, {{kAdmin, "admin"}, {kAuditor, "auditor"}});
    const std::string token = MakeToken(*log_, "auditor", kAuditor);
    served_.emplace(*log_);
    client_.emplace(served_->server->port(), token);
    // The customer route is being added (issue 16); use it when this
    // build's Api has it, else the stream read the same customer's events.
    std::string answer;
    const int status = client_->Send(bhttp::verb::get, "/v1/customers/customer-0", "", &answer);
    customers_route_ = !(status == 404 && answer.find("no such route") != std::string::npos);
    setup_ = fmt::format("store of {} events; auditor token (staff joined with rules on), projections folded in {:.1f} s",
                         before, served_->fold_seconds);
  }

  ~Reader() override {
    client_.reset();
    served_.reset();
  }

  size_t Read(const std::string& stream) override {
    const std::string target =
        customers_route_ ? "/v1/customers/" + stream : "/v1/streams/" + stream + "?limit=100";
    std::string answer;
    const int status = client_->Send(bhttp::verb::get, target, "", &answer);
    if (status != 200) Die(fmt::format("GET {} answered {}: {}", target, status, Shorten(answer)));
    return CountEvents(answer);
  }

  std::string route() const override {
    return customers_route_ ? "GET /v1/customers/{id}"
                            : "GET /v1/streams/{stream}?limit=100 (no /v1/customers/{id} route in this build)";
  }

  std::string setup() const override { return setup_; }

 private:
  std::unique_ptr<EventLog> log_;
  std::optional<Served> served_;
  std::optional<Client> client_;
  bool customers_route_ = false;
  std::string setup_;
};

}  // namespace

double ProcessCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

HttpAppendRun RunHttpAppend(const std::string& dir, const HttpAppendLoad& load) {
  std::unique_ptr<EventLog> log = OpenWithRules(dir);
  std::vector<std::pair<std::string, std::string>> people = {{kAdmin, "admin"}};
  for (int i = 0; i < kGeneratedActors; ++i) people.emplace_back("staff-" + std::to_string(i), "account_executive");
  Join(*log, people);
  const std::string token = MakeToken(*log, "ingest", "");
  const uint64_t before = log->end().value();

  HttpAppendRun run;
  SteadyClock::time_point stopping;
  {
    Served served(*log);
    const uint16_t port = served.server->port();
    const uint64_t budget = load.max_events == 0 ? UINT64_MAX : load.max_events;
    const size_t per = std::max<size_t>(1, load.events_per_request);
    const unsigned expected_status = load.transport_only ? 405 : 201;
    // One client thread drives every connection, as wrk does: the load
    // generator shares the 2 cores with the server, and 32 threads of
    // blocking clients cost the server a context switch per request.
    asio::io_context ioc;
    uint64_t claimed = 0, events = 0, requests = 0;
    bool stop = false;
    std::string error;
    auto fail = [&](std::string what) {
      if (error.empty()) error = std::move(what);
      stop = true;
    };
    struct Connection {
      Connection(asio::io_context& ioc, uint64_t seed, uint64_t streams)
          : socket(ioc), factory(seed, streams, Mix::kInteractions) {}
      tcp::socket socket;
      beast::flat_buffer buffer;
      EventFactory factory;  // the same events as append_sync_concurrent's thread t
      bhttp::request<bhttp::string_body> request;
      std::optional<bhttp::response_parser<bhttp::string_body>> parser;
      SteadyClock::time_point sent;
      std::vector<double> latencies;
    };
    std::vector<std::unique_ptr<Connection>> connections;
    for (int t = 0; t < load.threads; ++t) {
      auto c = std::make_unique<Connection>(ioc, load.seed + 1 + t, load.streams);
      c->socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
      c->socket.set_option(tcp::no_delay(true));
      connections.push_back(std::move(c));
    }
    std::function<void(Connection&)> next = [&](Connection& c) {
      if (stop || claimed >= budget) return;
      claimed += per;
      std::string stream, body;
      if (per == 1) {
        Event e = c.factory.Next();
        stream = e.stream;
        body = EventToJson(e, JsonFields::kProducer);
      } else {
        body = "[";
        for (size_t i = 0; i < per; ++i) {
          Event e = c.factory.Next();
          if (i == 0) stream = e.stream;
          e.stream = stream;  // one request appends to one stream
          if (i > 0) body += ',';
          body += EventToJson(e, JsonFields::kProducer);
        }
        body += ']';
      }
      c.request = bhttp::request<bhttp::string_body>{
          bhttp::verb::post, load.transport_only ? "/healthz" : "/v1/streams/" + stream + "/events", 11};
      c.request.set(bhttp::field::host, "127.0.0.1");
      c.request.set(bhttp::field::authorization, "Bearer " + token);
      c.request.set(bhttp::field::content_type, "application/json");
      c.request.body() = std::move(body);
      c.request.keep_alive(true);
      c.request.prepare_payload();
      c.sent = SteadyClock::now();
      bhttp::async_write(c.socket, c.request, [&](beast::error_code ec, size_t) {
        if (ec) return fail("an HTTP client could not send: " + ec.message());
        c.parser.emplace();
        c.parser->body_limit(kAnswerLimit);
        bhttp::async_read(c.socket, c.buffer, *c.parser, [&](beast::error_code ec, size_t) {
          if (ec) return fail("an HTTP client could not read the answer: " + ec.message());
          c.latencies.push_back(SecondsSince(c.sent) * 1e3);
          bhttp::response<bhttp::string_body> res = c.parser->release();
          if (res.result_int() != expected_status) {
            return fail(fmt::format("POST {} answered {}: {}", std::string(c.request.target()), res.result_int(),
                                    Shorten(res.body())));
          }
          if (!res.keep_alive()) return fail(fmt::format("the server closed the connection after a {}", expected_status));
          events += per;
          ++requests;
          next(c);
        });
      });
    };
    const auto start = SteadyClock::now();
    const double cpu_start = ProcessCpuSeconds();
    asio::steady_timer deadline(ioc, std::chrono::duration_cast<SteadyClock::duration>(
                                         std::chrono::duration<double>(load.seconds)));
    deadline.async_wait([&](beast::error_code) { stop = true; });
    asio::steady_timer ticker(ioc);
    std::function<void()> tick = [&] {
      ticker.expires_after(std::chrono::duration_cast<SteadyClock::duration>(
          std::chrono::duration<double>(load.tick_seconds)));
      ticker.async_wait([&](beast::error_code ec) {
        if (ec || stop) return;
        HttpAppendLoad::Tick t{SecondsSince(start), requests, log->end().value(), served.api->folded(), {}};
        for (auto& c : connections) {
          t.latencies_ms.insert(t.latencies_ms.end(), c->latencies.begin(), c->latencies.end());
          c->latencies.clear();
        }
        load.on_tick(t);
        tick();
      });
    };
    if (load.on_tick && load.tick_seconds > 0) tick();
    for (auto& c : connections) next(*c);
    // Runs until the deadline (or the budget), then until every
    // connection's last answer.
    while (!stop && claimed < budget) ioc.run_one();
    deadline.cancel();
    ticker.cancel();
    ioc.run();
    std::vector<std::vector<double>> latencies;
    for (auto& c : connections) latencies.push_back(std::move(c->latencies));
    run.seconds = SecondsSince(start);
    run.cpu_seconds = ProcessCpuSeconds() - cpu_start;
    if (!error.empty()) Die(error);
    run.events = events;
    run.requests = requests;
    for (auto& l : latencies) run.latencies_ms.insert(run.latencies_ms.end(), l.begin(), l.end());
    run.setup = fmt::format("{} staff joined and an ingest token made first (rules on)", people.size());
    stopping = SteadyClock::now();
  }
  run.stop_seconds = SecondsSince(stopping);
  // The follower may add events of its own (alert.raised); never fewer than answered.
  const uint64_t written = log->end().value() - before;
  if (load.transport_only) {
    if (written > 0) Die(fmt::format("POST /healthz appended {} events", written));
    run.setup += "; the requests sent to POST /healthz (answered 405, nothing appended)";
    return run;
  }
  if (written < run.events) {
    Die(fmt::format("the clients had {} events answered 201 but the log grew by {}", run.events, written));
  }
  if (written > run.events) run.setup += fmt::format("; the server added {} events of its own", written - run.events);
  return run;
}

std::unique_ptr<HttpReader> HttpReader::Start(const std::string& dir) { return std::make_unique<Reader>(dir); }

}  // namespace custodian::bench
