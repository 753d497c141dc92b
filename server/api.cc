#include "server/api.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <chrono>
#include <functional>
#include <set>

#include "core/json.h"
#include "core/time.h"
#include "core/validation.h"
#include "replay/alerts.h"
#include "service/access.h"
#include "service/staff.h"
#include "service/store.h"
#include "service/tokens.h"

namespace custodian {

namespace json = boost::json;
using http::Request;
using http::Response;
using http::Target;

int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnsupported: return 400;
    case StatusCode::kRuleViolation: return 422;
    case StatusCode::kConflict: return 409;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kIoError:
    case StatusCode::kCorruption: return 500;
  }
  return 500;
}

namespace {

constexpr auto kMaxWaitForPosition = std::chrono::seconds(10);
constexpr auto kFollowEvery = std::chrono::milliseconds(200);
constexpr uint64_t kMaxPage = 1000;

// Types a client may not append through the API: each is made by the
// operation that owns it (tokens, reads, alerts, settings, erasure, holds,
// handovers), which checks who asks.
const std::set<std::string, std::less<>> kNotIngested = {
    "token.created",       "token.revoked",       "data.viewed",    "data.exported",
    "alert.raised",        "alerts.configured",   "subject.erased", "subject.hold_placed",
    "subject.hold_released", "handover.planned", "handover.completed"};

Response Json(int status, std::string body, std::string content_type = "application/json") {
  Response r;
  r.status = status;
  r.body = std::move(body);
  if (!r.body.empty() && r.body.back() != '\n') r.body.push_back('\n');
  r.content_type = std::move(content_type);
  return r;
}

std::string_view CodeWord(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 413: return "payload_too_large";
    case 422: return "rule_violation";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal" : "error";
  }
}

// `text` with each byte that does not belong to well-formed UTF-8 replaced
// by U+FFFD: messages quote what the client sent (a path, a header, a cut
// prefix), and the error body must stay valid JSON.
std::string WellFormed(std::string_view text) {
  if (IsValidUtf8(text)) return std::string(text);
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const size_t len = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (i + len <= text.size() && IsValidUtf8(text.substr(i, len))) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

Response Error(int status, std::string_view message) {
  Response r = Json(status, json::serialize(json::object{
                                {"error", json::object{{"status", status}, {"code", CodeWord(status)}, {"message", WellFormed(message)}}}}));
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"custodian\"");
  if (status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

Response Error(const Status& s) {
  // Storage failures say what failed without the store's paths.
  const int status = HttpStatusFor(s);
  return Error(status, status >= 500 ? std::string(StatusCodeName(s.code())) + ": the store could not answer; see the "
                                                                                 "server's log"
                                     : s.message());
}

Result<std::optional<Timestamp>> TimeParam(const Target& t, const char* name) {
  const std::string v = t.Query(name);
  if (v.empty()) return std::optional<Timestamp>();
  Result<Timestamp> ts = ParseRfc3339(v);
  if (!ts.ok()) return ts.status().WithContext(std::string("query parameter ") + name);
  return std::optional<Timestamp>(*ts);
}

Result<uint64_t> NumberParam(const Target& t, const char* name, uint64_t fallback, uint64_t max) {
  const std::string v = t.Query(name);
  if (v.empty()) return fallback;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9' || n > (UINT64_MAX - 9) / 10) {
      return Status::InvalidArgument(std::string("query parameter ") + name + ": \"" + v.substr(0, 40) +
                                     "\" is not a whole number");
    }
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > max) {
    return Status::InvalidArgument(std::string("query parameter ") + name + ": at most " + std::to_string(max));
  }
  return n;
}

Result<ExpectedVersion> ExpectedParam(const std::string& text) {
  if (text.empty() || text == "any") return ExpectedVersion::Any();
  if (text == "no-stream") return ExpectedVersion::NoStream();
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10) {
      return Status::InvalidArgument("header Expected-Version: \"" + text.substr(0, 40) +
                                     "\" is not any, no-stream or a version number");
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return ExpectedVersion::Exactly(StreamVersion(v));
}

bool IsCustomerStream(std::string_view stream) { return stream.starts_with("customer-"); }

}  // namespace

struct Api::Route {
  std::string method;
  std::string pattern;               // "/v1/customers/{id}": also the metric's label
  std::set<std::string> roles;       // empty: no token needed
  bool waits_for_position = false;   // honours ?min_position=
  std::function<Response(Api&, Call&)> handle;

  bool Match(const std::string& m, const std::vector<std::string>& segments, std::vector<std::string>* params) const {
    std::vector<std::string> parts;
    for (size_t start = 1; start <= pattern.size();) {
      const size_t end = std::min(pattern.find('/', start), pattern.size());
      if (end > start) parts.push_back(pattern.substr(start, end - start));
      start = end + 1;
    }
    if (parts.size() != segments.size()) return false;
    params->clear();
    for (size_t i = 0; i < parts.size(); ++i) {
      if (parts[i].starts_with("{")) {
        params->push_back(segments[i]);
      } else if (parts[i] != segments[i]) {
        return false;
      }
    }
    return method.empty() || method == m;
  }
};

namespace {

// Whether the caller's token may read `customer`: roles with a company-wide
// duty read every customer; a rep or manager the customers they serve.
Result<bool> MayReadCustomer(const EventLog& log, const TokenInfo& token, const std::string& customer) {
  if (token.role == "auditor" || token.role == "admin") return true;
  if (token.role != "rep" && token.role != "manager") return false;
  Result<ServiceScope> scope = ReaderScope(log, token.staff);
  if (!scope.ok()) return scope.status();
  return scope->Serves(customer, SystemClock().Now());
}

Response Forbidden() { return Error(403, "this token's role may not do that"); }

std::vector<Api::Route> Routes();

}  // namespace

Api::Api(EventLog& log) : log_(log) {
  follower_ = std::thread([this] { Follow(); });
}

Api::~Api() {
  {
    std::lock_guard lk(follow_mu_);
    stopping_ = true;
  }
  follow_cv_.notify_all();
  follower_.join();
}

void Api::Nudge() {
  {
    std::lock_guard lk(follow_mu_);
    nudged_ = true;
  }
  follow_cv_.notify_all();
}

void Api::Follow() {
  std::unique_lock lk(follow_mu_);
  while (!stopping_) {
    nudged_ = false;
    lk.unlock();
    const uint64_t end = log_.end().value();
    Status s = CatchUpProjections(log_);
    lk.lock();
    if (s.ok()) {
      follow_error_.clear();
      if (end > folded_.load()) folded_.store(end);
    } else {
      follow_error_ = s.ToString();
      Warn("the projections could not follow the log: " + s.ToString());
    }
    follow_cv_.notify_all();
    if (!nudged_ && !stopping_) follow_cv_.wait_for(lk, kFollowEvery);
  }
}

bool Api::WaitFolded(uint64_t position) {
  std::unique_lock lk(follow_mu_);
  nudged_ = true;
  follow_cv_.notify_all();
  return follow_cv_.wait_for(lk, kMaxWaitForPosition, [&] { return folded_.load() > position || stopping_; }) &&
         !stopping_;
}

Response Api::Handle(const Request& request) {
  const auto started = std::chrono::steady_clock::now();
  static const std::vector<Route> routes = Routes();
  std::string label = "unmatched";
  Response response = [&]() -> Response {
    Target target;
    if (!http::ParseTarget(request.target, &target)) {
      return Error(400, "the request target is not a valid path: a bad percent escape, or an encoded '/' or NUL");
    }
    bool path_known = false;
    for (const Route& route : routes) {
      std::vector<std::string> params;
      Route any_method = route;
      any_method.method.clear();
      if (!any_method.Match(request.method, target.segments, &params)) continue;
      path_known = true;
      if (route.method != request.method) continue;
      label = route.pattern;
      Call call{request, target, params, {}, {}};
      if (!route.roles.empty()) {
        const std::string auth = request.Header("Authorization");
        if (!auth.starts_with("Bearer ")) return Error(401, "a valid bearer token is required (Authorization: Bearer <token>)");
        Result<TokenInfo> who = Authenticate(log_, std::string_view(auth).substr(7));
        if (!who.ok()) {
          return who.status().code() == StatusCode::kFailedPrecondition ? Error(401, "invalid or revoked token")
                                                                         : Error(who.status());
        }
        if (!route.roles.contains(who->role)) return Forbidden();
        call.token = std::move(*who);
        call.caller = Caller{call.token.staff, "api", log_.dir()};
      }
      if (route.waits_for_position && target.Has("min_position")) {
        Result<uint64_t> p = NumberParam(target, "min_position", 0, UINT64_MAX - 1);
        if (!p.ok()) return Error(p.status());
        if (*p >= log_.end().value()) {
          return Error(400, "min_position " + std::to_string(*p) + " is not in the log yet (it holds " +
                                std::to_string(log_.end().value()) + " events)");
        }
        if (!WaitFolded(*p)) return Error(503, "the projections have not reached position " + std::to_string(*p) + " yet");
      }
      return route.handle(*this, call);
    }
    return path_known ? Error(405, "method " + request.method.substr(0, 16) + " is not allowed here")
                      : Error(404, "no such route (see docs/http-api.md)");
  }();
  response.headers.emplace_back("Cache-Control", "no-store");
  metrics_.Request(label, response.status,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return response;
}

namespace {

const std::set<std::string> kReaders = {"rep", "manager", "auditor", "admin"};
const std::set<std::string> kCompanyReaders = {"auditor", "admin"};

Response Health(Api& api, EventLog& log) {
  return Json(200, json::serialize(json::object{{"status", "ok"}, {"events", log.end().value()}, {"folded", api.folded()}}));
}

Response Append(Api& api, EventLog& log, Api::Call& call) {
  const std::string& stream = call.params[0];
  Result<ExpectedVersion> expected = ExpectedParam(call.request.Header("Expected-Version"));
  if (!expected.ok()) return Error(expected.status());
  boost::system::error_code ec;
  json::value body = json::parse(call.request.body, ec);
  if (ec) return Error(400, "the body is not JSON: " + ec.message());
  std::vector<std::string> texts;
  if (body.is_array()) {
    if (body.get_array().empty()) return Error(400, "the body is an empty array: give one event or a non-empty array");
    for (const json::value& v : body.get_array()) texts.push_back(json::serialize(v));
  } else {
    texts.push_back(json::serialize(body));
  }
  std::vector<Event> events;
  const Timestamp now = SystemClock().Now();
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string where = texts.size() > 1 ? "event #" + std::to_string(i + 1) : "the event";
    Result<Event> e = ParseEventJson(texts[i]);
    if (!e.ok()) return Error(e.status().WithContext(where));
    if (e->stream != stream) {
      return Error(400, where + ": field 'stream' is \"" + e->stream.substr(0, 80) + "\" but the URL names " + stream);
    }
    if (kNotIngested.contains(e->type)) {
      return Error(403, where + ": " + e->type + " is not appended through this route; the operation that makes it "
                                                 "does (docs/http-api.md)");
    }
    if (Status s = ValidateEvent(*e, now); !s.ok()) return Error(s.WithContext(where));
    events.push_back(std::move(*e));
  }
  const size_t count = events.size();
  Result<AppendResult> r = log.Append(stream, std::move(events), *expected);
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kConflict) {
      Result<std::vector<Event>> last = log.ReadStream(stream, StreamVersion(UINT64_MAX), Direction::kBackward, 1);
      Response resp = Error(r.status());
      if (last.ok()) {
        json::value v = json::parse(resp.body);
        v.as_object()["error"].as_object()["current_version"] =
            last->empty() ? json::value(nullptr) : json::value(last->front().version.value());
        resp.body = json::serialize(v) + "\n";
      }
      return resp;
    }
    return Error(r.status());
  }
  api.metrics().Appended(r->written, 1);
  api.Nudge();
  json::array positions, versions;
  for (const Position& p : r->positions) positions.push_back(p.value());
  for (const StreamVersion& v : r->versions) versions.push_back(v.value());
  (void)count;
  return Json(r->written > 0 ? 201 : 200,
              json::serialize(json::object{{"stream", stream},
                                           {"positions", std::move(positions)},
                                           {"versions", std::move(versions)},
                                           {"written", r->written}}));
}

Response ReadStreamRoute(EventLog& log, Api::Call& call) {
  const std::string& stream = call.params[0];
  Result<uint64_t> from = NumberParam(call.target, "from", 0, UINT64_MAX - 1);
  Result<uint64_t> limit = NumberParam(call.target, "limit", 100, kMaxPage);
  if (!from.ok()) return Error(from.status());
  if (!limit.ok()) return Error(limit.status());
  if (IsCustomerStream(stream)) {
    Result<bool> may = MayReadCustomer(log, call.token, stream);
    if (!may.ok()) return Error(may.status());
    if (!*may) return Forbidden();
  } else if (!kCompanyReaders.contains(call.token.role)) {
    return Forbidden();
  }
  Result<std::vector<Event>> events = log.ReadStream(stream, StreamVersion(*from), Direction::kForward, *limit);
  if (!events.ok()) return Error(events.status());
  if (IsCustomerStream(stream) && !events->empty()) {
    Access a;
    a.view = "stream";
    a.customers = {stream};
    a.records = events->size();
    if (Status s = RecordRead(log, call.caller, a); !s.ok()) return Error(s);
  }
  json::array items;
  for (const Event& e : *events) items.push_back(json::parse(EventToJson(e, JsonFields::kWithLogFields)));
  json::object out{{"stream", stream}, {"events", std::move(items)}};
  if (events->size() == *limit) {
    out["next"] = "/v1/streams/" + stream + "?from=" + std::to_string(events->back().version.value() + 1) +
                  "&limit=" + std::to_string(*limit);
  }
  return Json(200, json::serialize(out));
}

Response Ndjson(std::string body) { return Json(200, std::move(body), "application/x-ndjson"); }

Response Portfolio(EventLog& log, Api::Call& call) {
  const std::string staff = call.params[0];
  if (call.token.role == "rep" && staff != call.token.staff) return Forbidden();
  if (call.token.role == "manager" && staff != call.token.staff) {
    Result<ServiceScope> scope = ReaderScope(log, call.token.staff);
    if (!scope.ok()) return Error(scope.status());
    Result<bool> oversees = scope->Oversees(staff);
    if (!oversees.ok()) return Error(oversees.status());
    if (!*oversees) return Forbidden();
  }
  Result<std::optional<Timestamp>> as_of = TimeParam(call.target, "as_of");
  if (!as_of.ok()) return Error(as_of.status());
  Result<PortfolioView> v = StaffPortfolio(log, call.caller, staff, *as_of);
  if (!v.ok()) return Error(v.status());
  return Ndjson(PortfolioViewToJson(*v));
}

Response Silent(EventLog& log, Api::Call& call) {
  Result<uint64_t> days = NumberParam(call.target, "days", 30, 3650);
  if (!days.ok()) return Error(days.status());
  Result<std::optional<Timestamp>> as_of = TimeParam(call.target, "as_of");
  if (!as_of.ok()) return Error(as_of.status());
  Result<SilentView> v = SilentCustomers(log, call.caller, static_cast<int>(*days), *as_of, SystemClock().Now());
  if (!v.ok()) return Error(v.status());
  return Ndjson(SilentViewToJson(*v));
}

Response OrphansRoute(EventLog& log, Api::Call& call) {
  Result<OrphanList> v = Orphans(log, call.caller, SystemClock().Now());
  if (!v.ok()) return Error(v.status());
  return Ndjson(OrphanListToJson(*v));
}

Response DeparturesRoute(EventLog& log, Api::Call& call) {
  const bool all = call.target.Query("all") == "1" || call.target.Query("all") == "true";
  Result<DepartureList> v = Departures(log, all ? CompletedDepartures::kInclude : CompletedDepartures::kLeaveOut);
  if (!v.ok()) return Error(v.status());
  return Ndjson(DepartureListToJson(*v));
}

Response AlertsRoute(EventLog& log, Api::Call& call) {
  Result<AlertListing> v = ListAlertsFor(log, call.caller, call.target.Query("staff"));
  if (!v.ok()) return Error(v.status());
  return Ndjson(AlertListingToJson(*v));
}

Response AccessRoute(EventLog& log, Api::Call& call) {
  Result<std::optional<Timestamp>> from = TimeParam(call.target, "from");
  Result<std::optional<Timestamp>> to = TimeParam(call.target, "to");
  if (!from.ok()) return Error(from.status());
  if (!to.ok()) return Error(to.status());
  const std::string staff = call.target.Query("staff"), customer = call.target.Query("customer");
  if (staff.empty() == customer.empty()) return Error(400, "give one of the query parameters staff or customer");
  if (!staff.empty()) {
    Result<StaffAccessLog> l = AccessByStaff(log, call.caller, staff, *from, *to);
    if (!l.ok()) return Error(l.status());
    return Ndjson(StaffAccessLogToJson(*l));
  }
  Result<CustomerAccessLog> l = AccessToCustomer(log, call.caller, customer, *from, *to);
  if (!l.ok()) return Error(l.status());
  return Ndjson(CustomerAccessLogToJson(*l));
}

Response TokensRoute(EventLog& log, Api::Call&) {
  Result<std::vector<TokenInfo>> tokens = ListTokens(log);
  if (!tokens.ok()) return Error(tokens.status());
  return Ndjson(TokensToJson(*tokens));
}

std::vector<Api::Route> Routes() {
  using R = Api::Route;
  std::vector<R> routes;
  auto add = [&](std::string method, std::string pattern, std::set<std::string> roles, bool waits,
                 std::function<Response(Api&, Api::Call&)> f) {
    routes.push_back(R{std::move(method), std::move(pattern), std::move(roles), waits, std::move(f)});
  };
  const std::set<std::string> none, all_readers = kReaders, company = kCompanyReaders;
  add("GET", "/healthz", none, false, [](Api& api, Api::Call&) { return Health(api, api.log()); });
  add("GET", "/metrics", company, false, [](Api& api, Api::Call&) {
    const uint64_t end = api.log().end().value();
    Result<LogStats> stats = api.log().Stats();
    std::vector<std::pair<std::string, double>> gauges = {
        {"custodian_log_events", static_cast<double>(end)},
        {"custodian_projection_lag_events", static_cast<double>(end - std::min(end, api.folded()))},
    };
    if (stats.ok()) {
      gauges.emplace_back("custodian_log_streams", static_cast<double>(stats->stream_count));
      gauges.emplace_back("custodian_store_bytes", static_cast<double>(stats->disk_bytes));
    }
    return Json(200, api.metrics().Render(gauges), "text/plain; version=0.0.4");
  });
  add("POST", "/v1/streams/{stream}/events", {"ingest", "admin"}, false,
      [](Api& api, Api::Call& c) { return Append(api, api.log(), c); });
  add("GET", "/v1/streams/{stream}", all_readers, true,
      [](Api& api, Api::Call& c) { return ReadStreamRoute(api.log(), c); });
  add("GET", "/v1/staff/{staff}/portfolio", all_readers, true,
      [](Api& api, Api::Call& c) { return Portfolio(api.log(), c); });
  add("GET", "/v1/silent", all_readers, true, [](Api& api, Api::Call& c) { return Silent(api.log(), c); });
  add("GET", "/v1/orphans", all_readers, true, [](Api& api, Api::Call& c) { return OrphansRoute(api.log(), c); });
  add("GET", "/v1/departures", {"manager", "auditor", "admin"}, true,
      [](Api& api, Api::Call& c) { return DeparturesRoute(api.log(), c); });
  add("GET", "/v1/alerts", all_readers, true, [](Api& api, Api::Call& c) { return AlertsRoute(api.log(), c); });
  add("GET", "/v1/access", company, true, [](Api& api, Api::Call& c) { return AccessRoute(api.log(), c); });
  add("GET", "/v1/tokens", {"admin"}, false, [](Api& api, Api::Call& c) { return TokensRoute(api.log(), c); });
  return routes;
}

}  // namespace

}  // namespace custodian
