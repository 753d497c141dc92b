#include "server/api.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <stdlib.h>
#include <strings.h>

#include <algorithm>
#include <optional>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <functional>
#include <set>

#include "core/json.h"
#include "core/roles.h"
#include "core/text.h"
#include "core/time.h"
#include "core/validation.h"
#include "replay/access.h"
#include "replay/alerts.h"
#include "server/cloudevents.h"
#include "service/access.h"
#include "service/customer.h"
#include "service/dispute.h"
#include "service/evidence.h"
#include "service/handover.h"
#include "service/log_queries.h"
#include "service/personal.h"
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
constexpr auto kFoldAtMostEvery = std::chrono::milliseconds(50);
constexpr auto kDrainSpoolEvery = std::chrono::seconds(2);
constexpr uint64_t kMaxPage = 1000;

// Types a client may not append through the API: each is made by the
// operation that owns it (tokens, reads, alerts, settings, erasure, holds,
// handovers), which checks who asks.
const std::set<std::string, std::less<>> kNotIngested = {
    "token.created",       "token.revoked",       "data.viewed",    "data.exported",
    "alert.raised",        "alerts.configured",   "subject.erased", "subject.hold_placed",
    "subject.hold_released", "handover.planned", "handover.completed"};

// Whether a client may append `e` through the API: not a type only its own
// operation makes, and nothing on a stream the API's ingest must never
// touch: an access-<staff> stream (an ingest token could otherwise correct or
// retract anyone's recorded reads, claiming to be them), tokens or alerts.
bool IngestedOverApi(const Event& e) {
  return !kNotIngested.contains(e.type) && !e.stream.starts_with("access-") && e.stream != "tokens" &&
         e.stream != "alerts";
}

// Why a token of `role` may not append `e` (nothing: it may). A CRM's ingest
// token feeds customer work and ordinary staff: giving or changing a role,
// registering a principal, making anyone a member of staff whose role
// carries a duty (the company-wide, settings and privacy roles, core/roles.h)
// or fixing anything but a customer's record takes an admin token. No token
// fixes its own holder's staff record, nor does the token of a holder who
// announced their departure fix any (the event's actor is the client's word:
// a leaver would withdraw the announcement and have back what it took). The
// log's rule 'fix' holds the same at the writer, in log order, from the token
// the event came through (recorded_by); this answers early, and also for a
// writer of an earlier build.
std::optional<std::string> RefusedForRole(const EventLog& log, const Event& e, std::string_view role,
                                          std::string_view holder) {
  if (!IngestedOverApi(e)) {
    return e.type + " on " + OneLineText(e.stream, 80) +
           " is not appended through the API; the operation that makes it does (docs/http-api.md)";
  }
  if ((e.type == "event.corrected" || e.type == "event.retracted") && e.stream.starts_with("staff-")) {
    if (e.stream == holder) {
      return e.type + " on " + OneLineText(e.stream, 80) +
             ": this token's holder may not fix their own staff record; someone else's token does";
    }
    Result<std::optional<std::string>> leaving = log.RuleRecord("leaving/" + std::string(holder));
    if (!leaving.ok() || (*leaving && !(*leaving)->empty())) {
      return e.type + " on " + OneLineText(e.stream, 80) +
             ": this token's holder announced their departure and may not fix staff records";
    }
  }
  if (role != "ingest") return std::nullopt;
  // Nor may it end, announce or restart the employment of someone whose
  // role carries a duty, or of a registered principal: a CRM could lock the
  // admins out (a departed admin's token stops) or demote them by a re-hire.
  if (e.stream.starts_with("staff-") && e.type.starts_with("staff.")) {
    Result<std::optional<std::string>> held = log.RuleRecord("role/" + e.stream);
    Result<std::optional<std::string>> principal = log.RuleRecord("principal/" + e.stream);
    const std::string current = held.ok() && *held ? **held : std::string();
    const bool is_principal = principal.ok() && *principal && !(*principal)->empty();
    if (!held.ok() || !principal.ok() || is_principal || ServesEveryCustomer(current) ||
        ChangesAlertSettings(current) || HandlesPersonalData(current)) {
      return e.type + " on " + OneLineText(e.stream, 80) + ", " +
             (is_principal ? std::string("a registered principal")
                           : "whose role " + OneLineText(current, 40) + " carries a duty") +
             ": an ingest token may not change their employment; an admin token may";
    }
  }
  if (e.type == "staff.role_changed" || e.type == "principal.registered") {
    return e.type + " gives a role: an ingest token may not; an admin token may";
  }
  // A fix of a staff record could give a role too (a staff.joined corrected
  // to head_of_sales): an ingest token fixes customers' records only.
  if ((e.type == "event.corrected" || e.type == "event.retracted") && !e.stream.starts_with("customer-")) {
    return e.type + " on " + OneLineText(e.stream, 80) +
           ": an ingest token fixes customers' records only; a fix of anything else (a member of staff's role, "
           "team or departure) takes an admin token";
  }
  if (e.type == "staff.joined") {
    std::string given(JsonMemberText(e.data, "role").value_or(""));
    if (given.size() >= 2 && given.front() == '"') given = given.substr(1, given.size() - 2);
    if (ServesEveryCustomer(given) || ChangesAlertSettings(given) || HandlesPersonalData(given)) {
      return "staff.joined as " + OneLineText(given, 40) +
             ", a role that carries a duty: an ingest token may not make anyone that; an admin token may";
    }
  }
  return std::nullopt;
}

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
    case 415: return "unsupported_media_type";
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
  // Storage failures say what failed without the store's paths to the client,
  // and all of it to the server's log, which the answer points to.
  const int status = HttpStatusFor(s);
  if (status < 500) return Error(status, s.message());
  Warn(fmt::format("answered {}: {}", status, s.ToString()));
  return Error(status, std::string(StatusCodeName(s.code())) + ": the store could not answer; see the server's log");
}

Result<std::optional<Timestamp>> TimeParam(const Target& t, const char* name) {
  const std::string v = t.Query(name);
  if (v.empty()) return std::optional<Timestamp>();
  Result<Timestamp> ts = ParseRfc3339(v);
  if (!ts.ok()) return ts.status().WithContext(std::string("query parameter ") + name);
  return std::optional<Timestamp>(*ts);
}

// ?as_of=T (what was recorded by then) or ?as_of_business=T (what had
// happened by then), at most one; none for now.
Result<std::optional<AsOfTime>> AsOfParam(const Target& t) {
  Result<std::optional<Timestamp>> knowledge = TimeParam(t, "as_of");
  if (!knowledge.ok()) return knowledge.status();
  Result<std::optional<Timestamp>> business = TimeParam(t, "as_of_business");
  if (!business.ok()) return business.status();
  if (*knowledge && *business) return Status::InvalidArgument("give as_of or as_of_business, not both");
  if (*knowledge) return std::optional<AsOfTime>(AsOfTime{**knowledge, AsOf::kKnowledge});
  if (*business) return std::optional<AsOfTime>(AsOfTime{**business, AsOf::kBusiness});
  return std::optional<AsOfTime>();
}

Result<uint64_t> NumberParam(const Target& t, const char* name, uint64_t fallback, uint64_t max) {
  const std::string v = t.Query(name);
  if (v.empty()) return fallback;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9' || n > (UINT64_MAX - 9) / 10) {
      return Status::InvalidArgument(std::string("query parameter ") + name + ": " + QuotedText(v, 40) +
                                     " is not a whole number");
    }
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > max) {
    return Status::InvalidArgument(std::string("query parameter ") + name + ": at most " + std::to_string(max));
  }
  return n;
}

// A page's size: 1 to kMaxPage, 100 when not given.
Result<uint64_t> PageLimit(const Target& t) {
  Result<uint64_t> limit = NumberParam(t, "limit", 100, kMaxPage);
  if (limit.ok() && *limit == 0) {
    return Status::InvalidArgument("query parameter limit: 1 to " + std::to_string(kMaxPage));
  }
  return limit;
}

Result<ExpectedVersion> ExpectedParam(const std::string& text) {
  if (text.empty() || text == "any") return ExpectedVersion::Any();
  if (text == "no-stream") return ExpectedVersion::NoStream();
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10) {
      return Status::InvalidArgument("header Expected-Version: " + QuotedText(text, 40) +
                                     " is not any, no-stream or a version number");
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return ExpectedVersion::Exactly(StreamVersion(v));
}

bool IsCustomerStream(std::string_view stream) { return stream.starts_with("customer-"); }

// "Bearer <token>", the scheme in any case (RFC 9110 11.1).
bool IsBearer(std::string_view auth) {
  return auth.size() > 7 && ::strncasecmp(auth.data(), "Bearer ", 7) == 0;
}

const std::set<std::string> kReaders = {"rep", "manager", "auditor", "admin"};
const std::set<std::string> kCompanyReaders = {"auditor", "admin"};

}  // namespace

struct Api::Route {
  std::string method;
  std::string pattern;               // "/v1/customers/{id}": also the metric's label
  std::set<std::string> roles;       // empty: no token needed
  bool waits_for_position = false;   // honours ?min_position=
  // A GET whose answer is recorded as an export (data.exported): it takes no
  // HEAD (405), which would record an export of nothing; were one left
  // unmarked, its HEAD would be refused all the same (Caller::may_export).
  bool exports = false;
  std::function<Reply(Api&, Call&)> handle;
  std::vector<std::string> parts;    // the pattern's segments

  // Whether the path matches (any method); its {parameters} go to `params`.
  bool MatchPath(const std::vector<std::string>& segments, std::vector<std::string>* params) const {
    if (parts.size() != segments.size()) return false;
    params->clear();
    for (size_t i = 0; i < parts.size(); ++i) {
      if (parts[i].starts_with("{")) {
        params->push_back(segments[i]);
      } else if (parts[i] != segments[i]) {
        return false;
      }
    }
    return true;
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

// Appends wait while the projections are too far behind (ApiOptions).
std::optional<Response> TooFarBehind(const Api& api) {
  const uint64_t bound = api.options().max_projection_lag, lag = api.lag();
  if (bound == 0 || lag <= bound) return std::nullopt;
  Response r = Error(503, "the projections are " + std::to_string(lag) + " events behind the log (at most " +
                              std::to_string(bound) + " are allowed before appends wait); retry shortly");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

std::vector<Api::Route> Routes();

}  // namespace

Api::Api(EventLog& log, ApiOptions options)
    : log_(log), options_(options), engine_(std::make_unique<ProjectionEngine>(log)) {
  AddProjections(*engine_);
  follower_ = std::thread([this] { Follow(); });
}

Api::~Api() {
  {
    std::lock_guard lk(follow_mu_);
    stopping_ = true;
  }
  // A fold through a backlog (the follower falls behind under a sustained
  // load at the group-commit limit) stops after its current chunk.
  engine_->Interrupt();
  follow_cv_.notify_all();
  follower_.join();
}

void Api::Nudge() {
  std::lock_guard lk(follow_mu_);
  nudged_ = true;  // folded at the next turn; a reader waiting for a position wakes the follower itself
}

void Api::Follow() {
  std::unique_lock lk(follow_mu_);
  while (!stopping_) {
    nudged_ = false;
    lk.unlock();
    const uint64_t end = log_.end().value();
    if (log_.replica()) DrainSpool();
    Status s = CatchUpProjections(log_, *engine_);
    lk.lock();
    if (s.ok()) {
      follow_error_.clear();
      if (end > folded_.load()) folded_.store(end);
    } else {
      follow_error_ = s.ToString();
      Warn("the projections could not follow the log: " + s.ToString());
    }
    follow_cv_.notify_all();
    // Folds come at most every kFoldAtMostEvery under appends (a fold per
    // append would cost more than the appends), sooner when a reader waits
    // for a position (urgent_), and every kFollowEvery when quiet.
    follow_cv_.wait_for(lk, kFoldAtMostEvery, [&] { return stopping_ || urgent_; });
    if (!nudged_ && !urgent_ && !stopping_) {
      follow_cv_.wait_for(lk, kFollowEvery - kFoldAtMostEvery, [&] { return stopping_ || urgent_ || nudged_; });
    }
    urgent_ = false;
  }
}

void Api::DrainSpool() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_drain_) return;
  next_drain_ = now + kDrainSpoolEvery;
  Result<SpoolDrain> drained = DrainAccessSpool(log_, log_.dir(), EventLog::ForwardWait::kBrief);
  if (!drained.ok()) {
    // No writer yet: the files stay for the next turn.
    if (drained.status().code() != StatusCode::kUnavailable) Warn("the access spool: " + drained.status().ToString());
    return;
  }
  for (const std::string& p : drained->problems) Warn("refused from the access spool: " + p);
}

bool Api::WaitFolded(uint64_t position) {
  std::unique_lock lk(follow_mu_);
  urgent_ = true;
  follow_cv_.notify_all();
  return follow_cv_.wait_for(lk, kMaxWaitForPosition, [&] { return folded_.load() > position || stopping_; }) &&
         !stopping_;
}

bool Api::IsSubscription(const Request& request) {
  return request.method == "GET" && (request.target == "/v1/subscribe" || request.target.starts_with("/v1/subscribe?"));
}

std::variant<Api::Subscription, Response> Api::Subscribe(const Request& request) {
  const auto started = std::chrono::steady_clock::now();
  auto done = [&](Response r) {
    metrics_.Request("/v1/subscribe", r.status,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return r;
  };
  Target target;
  if (!http::ParseTarget(request.target, &target)) return done(Error(400, "the request target is not a valid path"));
  const std::string auth = request.Header("Authorization");
  if (!IsBearer(auth)) return done(Error(401, "a valid bearer token is required (Authorization: Bearer <token>)"));
  Result<TokenInfo> who = Authenticate(log_, std::string_view(auth).substr(7));
  if (!who.ok()) return done(Error(401, "invalid or revoked token"));
  Subscription s;
  s.bearer = auth.substr(7);
  s.token = std::move(*who);
  s.caller = Caller{s.token.staff, "api", log_.dir(), PersonalData::kSealed};  // events as stored
  s.stream = target.Query("stream");
  if (s.stream.empty()) {
    if (!kCompanyReaders.contains(s.token.role)) return done(Forbidden());
  } else if (IsCustomerStream(s.stream)) {
    Result<bool> may = MayReadCustomer(log_, s.token, s.stream);
    if (!may.ok()) return done(Error(may.status()));
    if (!*may) return done(Forbidden());
  } else if (!kCompanyReaders.contains(s.token.role)) {
    return done(Forbidden());
  }
  Result<uint64_t> from = NumberParam(target, "from", log_.end().value(), UINT64_MAX - 1);
  if (!from.ok()) return done(Error(from.status()));
  s.next = *from;
  if (const std::string last = request.Header("Last-Event-ID"); !last.empty()) {
    Target t;
    t.query.emplace_back("Last-Event-ID", last);
    Result<uint64_t> resumed = NumberParam(t, "Last-Event-ID", 0, UINT64_MAX - 1);
    if (!resumed.ok()) return done(Error(resumed.status()));
    s.next = *resumed + 1;
  }
  done(Response{});
  return s;
}

Result<std::string> Api::Poll(Subscription& s, size_t max) {
  if (s.next >= log_.end().value()) return std::string();
  if (Result<TokenInfo> still = Authenticate(log_, s.bearer); !still.ok()) {
    return Status::FailedPrecondition("invalid or revoked token");
  }
  std::vector<Event> sent;
  if (s.stream.empty()) {
    Result<std::vector<Event>> events = log_.ReadAll(Position(s.next), max);
    if (!events.ok()) return events.status();
    if (events->empty()) return std::string();
    sent = std::move(*events);
  } else {
    // One stream: read it by version (a page of the whole log may hold none
    // of its events), skipping what lies before `next`.
    for (;;) {
      Result<std::vector<Event>> events =
          log_.ReadStream(s.stream, StreamVersion(s.next_version), Direction::kForward, max);
      if (!events.ok()) return events.status();
      if (events->empty()) return std::string();
      s.next_version = events->back().version.value() + 1;
      for (Event& e : *events) {
        if (e.position.value() >= s.next) sent.push_back(std::move(e));
      }
      if (!sent.empty() || events->size() < max) break;
    }
    if (sent.empty()) return std::string();
  }
  const uint64_t last = sent.back().position.value();
  CUSTODIAN_RETURN_IF_ERROR(RecordLogRead(log_, s.caller, kViewLiveFeed, sent, Follow::kYes));
  std::string frames;
  for (const Event& e : sent) {
    frames += "id: " + std::to_string(e.position.value()) + "\nevent: " + e.type +
              "\ndata: " + EventToJson(e, JsonFields::kWithLogFields) + "\n\n";
  }
  s.next = last + 1;
  return frames;
}

namespace {
const std::string kGet = "GET";
}  // namespace

Api::Dispatched Api::Dispatch(const Request& request) {
  Dispatched d{"unmatched", std::chrono::steady_clock::now(), Response{}};
  static const std::vector<Route> routes = Routes();
  d.reply = [&]() -> Reply {
    Target target;
    if (!http::ParseTarget(request.target, &target)) {
      return Error(400, "the request target is not a valid path: a bad percent escape, or an encoded '/' or NUL");
    }
    // HEAD is answered as GET (the server sends the header alone), but not
    // where a GET exports: a HEAD would record an export that sent nothing.
    const bool head = request.method == "HEAD";
    const std::string& method = head ? kGet : request.method;
    if (method == "GET" && !request.target.starts_with("/v1/")) {
      const std::string_view path = std::string_view(request.target).substr(0, request.target.find('?'));
      if (const Response* file = options_.web.Find(path)) {
        d.label = "/ (web UI)";
        return *file;
      }
    }
    // The methods the path takes, for a 405's Allow header. The live feed is
    // served by the session, not by a route here (IsSubscription).
    // (A GET that reaches here with that path was not a subscription's
    // exact target, e.g. "/v1/subscribe/": 404 as before.)
    std::string allowed =
        request.method != "GET" && target.segments == std::vector<std::string>{"v1", "subscribe"} ? "GET" : "";
    std::vector<std::string> params;
    for (const Route& route : routes) {
      if (!route.MatchPath(target.segments, &params)) continue;
      if (route.method != method || (head && route.exports)) {
        // A GET route answers HEAD too, unless it exports.
        for (const std::string& m : route.method == "GET" && !route.exports ? std::vector<std::string>{"GET", "HEAD"}
                                                                            : std::vector<std::string>{route.method}) {
          if (allowed.find(m) == std::string::npos) allowed += (allowed.empty() ? "" : ", ") + m;
        }
        continue;
      }
      d.label = route.pattern;
      Call call{request, target, std::move(params), {}, {}};
      if (!route.roles.empty()) {
        const std::string auth = request.Header("Authorization");
        if (!IsBearer(auth)) return Error(401, "a valid bearer token is required (Authorization: Bearer <token>)");
        Result<TokenInfo> who = Authenticate(log_, std::string_view(auth).substr(7));
        if (!who.ok()) {
          return who.status().code() == StatusCode::kFailedPrecondition ? Error(401, "invalid or revoked token")
                                                                         : Error(who.status());
        }
        if (!route.roles.contains(who->role)) return Forbidden();
        call.token = std::move(*who);
        call.caller = Caller{.principal = call.token.staff,
                             .interface = "api",
                             .data_dir = log_.dir(),
                             .personal = call.token.role == "auditor" ? PersonalData::kSealed : PersonalData::kOpen,
                             .may_export = !head};
      }
      if (route.waits_for_position && target.Has("min_position")) {
        Result<uint64_t> p = NumberParam(target, "min_position", 0, UINT64_MAX - 1);
        if (!p.ok()) return Error(p.status());
        // A node of a cluster may be a little behind the writer: it waits.
        if (*p >= log_.end().value() && !(log_.replica() && log_.AwaitPosition(*p, std::chrono::seconds(10)))) {
          return Error(400, "min_position " + std::to_string(*p) + " is not in the log yet (it holds " +
                                std::to_string(log_.end().value()) + " events)");
        }
        if (!WaitFolded(*p)) return Error(503, "the projections have not reached position " + std::to_string(*p) + " yet");
      }
      return route.handle(*this, call);
    }
    if (allowed.empty()) return Error(404, "no such route (see docs/http-api.md)");
    Response r =
        Error(405, "method " + request.method.substr(0, 16) + " is not allowed here (allowed: " + allowed + ")");
    r.headers.emplace_back("Allow", allowed);
    return r;
  }();
  return d;
}

Response Api::Finish(const std::string& label, std::chrono::steady_clock::time_point started, Response response) {
  response.headers.emplace_back("Cache-Control", "no-store");
  // An answer of the API is data, never a page that runs or frames anything,
  // even the handover briefing's HTML: a slip in its escaping could not run a
  // script. The web UI's files carry their own policy (web_files.cc).
  const bool has_policy = std::any_of(response.headers.begin(), response.headers.end(),
                                      [](const auto& h) { return h.first == "Content-Security-Policy"; });
  if (!has_policy) {
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    response.headers.emplace_back("Content-Security-Policy",
                                  "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox");
  }
  metrics_.Request(label, response.status,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return response;
}

Response Api::Handle(const Request& request) {
  Dispatched d = Dispatch(request);
  if (auto* pending = std::get_if<PendingAppend>(&d.reply)) {
    return Finish(d.label, d.started, pending->finish(log_.AppendBatch(std::move(pending->requests))));
  }
  return Finish(d.label, d.started, std::move(std::get<Response>(d.reply)));
}

void Api::HandleAsync(const Request& request, std::function<void(Response)> done) {
  Dispatched d = Dispatch(request);
  auto* pending = std::get_if<PendingAppend>(&d.reply);
  if (pending == nullptr) return done(Finish(d.label, d.started, std::move(std::get<Response>(d.reply))));
  log_.AppendBatchThen(std::move(pending->requests),
                       [this, label = std::move(d.label), started = d.started, finish = std::move(pending->finish),
                        done = std::move(done)](Result<std::vector<AppendResult>> r) mutable {
                         done(Finish(label, started, finish(std::move(r))));
                       });
}

bool Api::IsAppend(const Request& request) {
  if (request.method != "POST") return false;
  const std::string_view path = std::string_view(request.target).substr(0, request.target.find('?'));
  return path == "/v1/cloudevents" || (path.starts_with("/v1/streams/") && path.ends_with("/events"));
}

namespace {


Response Health(Api& api, EventLog& log) {
  const std::string problem = api.follow_error();
  json::object o{{"status", problem.empty() ? "ok" : "degraded"}, {"events", log.end().value()}, {"folded", api.folded()}};
  // What failed, without the store's paths: a monitor needs to know it is failing.
  if (!problem.empty()) o["problem"] = "the projections cannot follow the log; see the server's log";
  bool node_ok = true;
  if (api.options().cluster_status) {
    json::value cluster = json::parse(api.options().cluster_status());
    if (cluster.is_object() && (cluster.as_object().contains("problem") || cluster.as_object().contains("lease_problem"))) {
      node_ok = false;
      o["status"] = "degraded";
    }
    o["cluster"] = std::move(cluster);
  }
  return Json(problem.empty() && node_ok ? 200 : 503, json::serialize(o));
}

Api::Reply Append(Api& api, EventLog& log, Api::Call& call) {
  if (std::optional<Response> wait = TooFarBehind(api)) return std::move(*wait);
  const std::string& stream = call.params[0];
  Result<ExpectedVersion> expected = ExpectedParam(call.request.Header("Expected-Version"));
  if (!expected.ok()) return Error(expected.status());
  const std::string& text = call.request.body;
  const size_t first = text.find_first_not_of(" \t\r\n");
  std::vector<std::string> elements;  // an array's events, each as text
  std::vector<std::string_view> texts;
  if (first != std::string::npos && text[first] == '[') {
    boost::system::error_code ec;
    json::value body = json::parse(text, ec);
    if (ec) return Error(400, "the body is not JSON: " + ec.message());
    if (body.get_array().empty()) return Error(400, "the body is an empty array: give one event or a non-empty array");
    for (const json::value& v : body.get_array()) elements.push_back(json::serialize(v));
    texts.assign(elements.begin(), elements.end());
  } else {
    texts.push_back(text);  // one event: ParseEventJson reads the body itself (one parse, not two)
  }
  std::vector<Event> events;
  const Timestamp now = SystemClock().Now();
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string where = texts.size() > 1 ? "event #" + std::to_string(i + 1) : "the event";
    Result<Event> e = ParseEventJson(texts[i]);
    if (!e.ok()) {
      if (e.status().message().starts_with("invalid JSON")) {
        return Error(400, "the body is not JSON: " + e.status().message());
      }
      return Error(e.status().WithContext(where));
    }
    if (e->stream != stream) {
      return Error(400, where + ": field 'stream' is " + QuotedText(e->stream) + " but the URL names " + stream);
    }
    if (std::optional<std::string> why = RefusedForRole(log, *e, call.token.role, call.token.staff)) {
      return Error(403, where + ": " + *why);
    }
    e->recorded_by = call.token.token_id;  // the actor is the client's word; this is the log's
    if (Status s = ValidateEvent(*e, now); !s.ok()) return Error(s.WithContext(where));
    events.push_back(std::move(*e));
  }
  Api::PendingAppend pending;
  pending.requests.push_back(AppendRequest{stream, *expected, std::move(events)});
  pending.finish = [&api, &log, stream](Result<std::vector<AppendResult>> results) -> Response {
    if (!results.ok()) {
      if (results.status().code() == StatusCode::kConflict) {
        Result<std::vector<Event>> last = log.ReadStream(stream, StreamVersion(UINT64_MAX), Direction::kBackward, 1);
        Response resp = Error(results.status());
        if (last.ok()) {
          json::value v = json::parse(resp.body);
          v.as_object()["error"].as_object()["current_version"] =
              last->empty() ? json::value(nullptr) : json::value(last->front().version.value());
          resp.body = json::serialize(v) + "\n";
        }
        return resp;
      }
      return Error(results.status());
    }
    const AppendResult& r = results->front();
    api.metrics().Appended(r.written, 1);
    api.Nudge();
    json::array positions, versions;
    for (const Position& p : r.positions) positions.push_back(p.value());
    for (const StreamVersion& v : r.versions) versions.push_back(v.value());
    return Json(r.written > 0 ? 201 : 200,
                json::serialize(json::object{{"stream", stream},
                                             {"positions", std::move(positions)},
                                             {"versions", std::move(versions)},
                                             {"written", r.written}}));
  };
  return pending;
}

Response ReadStreamRoute(EventLog& log, Api::Call& call) {
  const std::string& stream = call.params[0];
  Result<uint64_t> from = NumberParam(call.target, "from", 0, UINT64_MAX - 1);
  Result<uint64_t> limit = PageLimit(call.target);
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
  if (Status s = RecordLogRead(log, call.caller, "stream", *events); !s.ok()) return Error(s);
  json::array items;
  for (const Event& e : *events) items.push_back(json::parse(EventToJson(e, JsonFields::kWithLogFields)));
  json::object out{{"stream", stream}, {"events", std::move(items)}};
  if (!events->empty() && events->size() == *limit) {
    out["next"] = "/v1/streams/" + stream + "?from=" + std::to_string(events->back().version.value() + 1) +
                  "&limit=" + std::to_string(*limit);
  }
  return Json(200, json::serialize(out));
}

Response Ndjson(std::string body) { return Json(200, std::move(body), "application/x-ndjson"); }

// For a manager's token: Forbidden unless they oversee `staff` (themselves,
// their team, those they manage, or everyone for a company-wide role);
// nothing for other roles, whose routes admit them or not.
std::optional<Response> UnlessManagerOversees(EventLog& log, const Api::Call& call, const std::string& staff) {
  if (call.token.role != "manager" || staff == call.token.staff) return std::nullopt;
  Result<ServiceScope> scope = ReaderScope(log, call.token.staff);
  if (!scope.ok()) return Error(scope.status());
  Result<bool> oversees = scope->Oversees(staff);
  if (!oversees.ok()) return Error(oversees.status());
  if (!*oversees) return Forbidden();
  return std::nullopt;
}

Response Portfolio(EventLog& log, Api::Call& call) {
  const std::string staff = call.params[0];
  if (call.token.role == "rep" && staff != call.token.staff) return Forbidden();
  if (std::optional<Response> no = UnlessManagerOversees(log, call, staff)) return *no;
  Result<std::optional<AsOfTime>> as_of = AsOfParam(call.target);
  if (!as_of.ok()) return Error(as_of.status());
  Result<PortfolioView> v = StaffPortfolio(log, call.caller, staff, *as_of);
  if (!v.ok()) return Error(v.status());
  return Ndjson(PortfolioViewToJson(*v));
}

Response Silent(EventLog& log, Api::Call& call) {
  Result<uint64_t> days = NumberParam(call.target, "days", 30, 3650);
  if (!days.ok()) return Error(days.status());
  Result<std::optional<AsOfTime>> as_of = AsOfParam(call.target);
  if (!as_of.ok()) return Error(as_of.status());
  Result<SilentView> v = SilentCustomers(log, call.caller, static_cast<int>(*days), *as_of, SystemClock().Now());
  if (!v.ok()) return Error(v.status());
  return Ndjson(SilentViewToJson(*v));
}

// GET /v1/customers?q=WORDS: customers by id or name, of those the caller serves.
Response CustomersRoute(EventLog& log, Api::Call& call) {
  Result<CustomerSearch> found = FindCustomers(log, call.caller, call.target.Query("q"), SystemClock().Now());
  if (!found.ok()) return Error(found.status());
  return Json(200, CustomerSearchToJson(*found));
}

// GET /v1/pipeline?team=T: open deals by stage and value, of the customers
// owned by the staff the caller oversees.
Response PipelineRoute(EventLog& log, Api::Call& call) {
  Result<PipelineView> v = Pipeline(log, call.caller, call.target.Query("team"), SystemClock().Now());
  if (!v.ok()) return Error(v.status());
  return Json(200, PipelineViewToJson(*v));
}

Response OrphansRoute(EventLog& log, Api::Call& call) {
  Result<std::optional<AsOfTime>> as_of = AsOfParam(call.target);
  if (!as_of.ok()) return Error(as_of.status());
  Result<OrphanList> v = Orphans(log, call.caller, SystemClock().Now(), *as_of);
  if (!v.ok()) return Error(v.status());
  return Ndjson(OrphanListToJson(*v));
}

Response DeparturesRoute(EventLog& log, Api::Call& call) {
  const bool all = call.target.Query("all") == "1" || call.target.Query("all") == "true";
  Result<std::optional<AsOfTime>> as_of = AsOfParam(call.target);
  if (!as_of.ok()) return Error(as_of.status());
  Result<DepartureList> v =
      Departures(log, all ? CompletedDepartures::kInclude : CompletedDepartures::kLeaveOut, *as_of);
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

Result<json::object> BodyObject(const Request& request) {
  if (request.body.empty()) return json::object();
  boost::system::error_code ec;
  json::value v = json::parse(request.body, ec);
  if (ec) return Status::InvalidArgument("the body is not JSON: " + ec.message());
  if (!v.is_object()) return Status::InvalidArgument("the body is not a JSON object");
  return std::move(v.as_object());
}

std::string Field(const json::object& o, std::string_view k) {
  auto it = o.find(k);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}

Response CreateTokenRoute(EventLog& log, Api::Call& call) {
  Result<json::object> body = BodyObject(call.request);
  if (!body.ok()) return Error(body.status());
  Result<NewToken> t = CreateToken(
      log, TokenRequest{Field(*body, "role"), Field(*body, "name"), Field(*body, "staff"), call.token.staff,
                        SystemClock().Now()});
  if (!t.ok()) return Error(t.status());
  return Json(201, NewTokenToJson(*t));
}

Response RevokeTokenRoute(EventLog& log, Api::Call& call) {
  Result<json::object> body = BodyObject(call.request);
  if (!body.ok()) return Error(body.status());
  Result<uint64_t> position =
      RevokeToken(log, call.params[0], call.token.staff, Field(*body, "reason"), SystemClock().Now());
  if (!position.ok()) return Error(position.status());
  return Json(200, json::serialize(json::object{{"token_id", call.params[0]}, {"revoked_at", *position}}));
}

// --- CloudEvents ---

Api::Reply CloudEventsRoute(Api& api, Api::Call& call) {
  if (std::optional<Response> wait = TooFarBehind(api)) return std::move(*wait);
  Result<DecodedCloudEvents> decoded = DecodeCloudEvents(call.request, SystemClock().Now());
  if (!decoded.ok()) {
    if (decoded.status().code() == StatusCode::kUnsupported) {
      Response r = Error(415, decoded.status().message());
      r.headers.emplace_back("Accept-Post", std::string(kAcceptedMediaTypes));
      return r;
    }
    return Error(decoded.status());
  }
  for (size_t i = 0; i < decoded->events.size(); ++i) {
    if (std::optional<std::string> why =
            RefusedForRole(api.log(), decoded->events[i], call.token.role, call.token.staff)) {
      // A batch names the event; a single event needs no number.
      return Error(403, decoded->mode != CloudEventsMode::kBatched ? *why
                                                                   : "event " + std::to_string(i + 1) + ": " + *why);
    }
  }
  // One request per event, all in one batch: every stream's events are
  // written together or not at all.
  std::vector<AppendRequest> requests;
  for (Event& e : decoded->events) {
    e.recorded_by = call.token.token_id;  // the actor is the client's word; this is the log's
    std::string stream = e.stream;
    requests.push_back(AppendRequest{std::move(stream), ExpectedVersion::Any(), {std::move(e)}});
  }
  auto answer = [](uint64_t written, json::array positions) {
    Response resp = Json(written > 0 ? 201 : 200,
                         json::serialize(json::object{{"positions", std::move(positions)}, {"written", written}}));
    resp.headers.emplace_back("Accept-Post", std::string(kAcceptedMediaTypes));
    return resp;
  };
  if (requests.empty()) return answer(0, {});
  Api::PendingAppend pending;
  pending.requests = std::move(requests);
  pending.finish = [&api, event_of = std::move(decoded->event_of), answer](Result<std::vector<AppendResult>> r) {
    if (!r.ok()) return Error(r.status());
    uint64_t written = 0;
    std::vector<uint64_t> of_event;
    for (const AppendResult& a : *r) {
      written += a.written;
      of_event.push_back(a.positions.front().value());
    }
    json::array positions;
    for (size_t index : event_of) positions.push_back(of_event[index]);
    api.metrics().Appended(written, 1);
    api.Nudge();
    return answer(written, std::move(positions));
  };
  return pending;
}

// --- Customers ---

// "customer-42" or "42" -> "customer-42".
std::string CustomerOf(const std::string& id) { return id.starts_with("customer-") ? id : "customer-" + id; }

// The customer a route names, when the token may read it; else the answer.
std::variant<std::string, Response> ReadableCustomer(EventLog& log, Api::Call& call) {
  const std::string customer = CustomerOf(call.params[0]);
  Result<bool> may = MayReadCustomer(log, call.token, customer);
  if (!may.ok()) return Error(may.status());
  if (!*may) return Forbidden();
  return customer;
}

Response CustomerRoute(EventLog& log, Api::Call& call) {
  auto customer = ReadableCustomer(log, call);
  if (auto* r = std::get_if<Response>(&customer)) return std::move(*r);
  Result<std::optional<Timestamp>> knowledge = TimeParam(call.target, "as_of");
  Result<std::optional<Timestamp>> business = TimeParam(call.target, "as_of_business");
  if (!knowledge.ok()) return Error(knowledge.status());
  if (!business.ok()) return Error(business.status());
  if (*knowledge && *business) return Error(400, "give as_of or as_of_business, not both");
  std::optional<AsOfTime> as_of;
  if (*knowledge) as_of = AsOfTime{**knowledge, AsOf::kKnowledge};
  if (*business) as_of = AsOfTime{**business, AsOf::kBusiness};
  Result<CustomerView> v = ShowCustomer(log, call.caller, std::get<std::string>(customer), as_of, SystemClock().Now());
  if (!v.ok()) return Error(v.status());
  return Json(200, CustomerViewToJson(*v));
}

Response TimelineRoute(EventLog& log, Api::Call& call) {
  auto customer = ReadableCustomer(log, call);
  if (auto* r = std::get_if<Response>(&customer)) return std::move(*r);
  Result<CustomerTimelineResult> t = CustomerTimeline(log, call.caller, std::get<std::string>(customer));
  if (!t.ok()) return Error(t.status());
  return Ndjson(CustomerTimelineToJson(*t));
}

Response CustodyRoute(EventLog& log, Api::Call& call) {
  auto customer = ReadableCustomer(log, call);
  if (auto* r = std::get_if<Response>(&customer)) return std::move(*r);
  Result<std::optional<Timestamp>> at = TimeParam(call.target, "at");
  if (!at.ok()) return Error(at.status());
  Result<CustodyAnswer> a =
      CustomerCustody(log, call.caller, std::get<std::string>(customer), CustodyQuery{*at, call.target.Query("request")});
  if (!a.ok()) return Error(a.status());
  return Ndjson(CustodyAnswerToJson(*a));
}

Response AccountabilityRoute(EventLog& log, Api::Call& call) {
  AccountabilityFilter filter;
  filter.staff = call.target.Query("staff");
  filter.team = call.target.Query("team");
  Result<std::optional<Timestamp>> from = TimeParam(call.target, "from");
  Result<std::optional<Timestamp>> to = TimeParam(call.target, "to");
  if (!from.ok()) return Error(from.status());
  if (!to.ok()) return Error(to.status());
  filter.from = *from;
  filter.to = *to;
  if (call.token.role == "rep" && filter.staff != call.token.staff) return Forbidden();
  if (call.token.role == "manager" && (!filter.staff.empty() || !filter.team.empty())) {
    // A manager asks about the staff they oversee, or their own team.
    Result<ServiceScope> scope = ReaderScope(log, call.token.staff);
    if (!scope.ok()) return Error(scope.status());
    if (!scope->company_wide()) {
      if (!filter.team.empty() && filter.team != scope->team()) return Forbidden();
      if (!filter.staff.empty() && filter.staff != call.token.staff) {
        Result<bool> oversees = scope->Oversees(filter.staff);
        if (!oversees.ok()) return Error(oversees.status());
        if (!*oversees) return Forbidden();
      }
    }
  }
  Result<std::optional<AsOfTime>> as_of = AsOfParam(call.target);
  if (!as_of.ok()) return Error(as_of.status());
  Result<AccountabilityView> v = Accountability(log, call.caller, filter, SystemClock().Now(), *as_of);
  if (!v.ok()) return Error(v.status());
  return Ndjson(AccountabilityViewToJson(*v));
}

// --- All events, paged ---

Response ReadAllRoute(EventLog& log, Api::Call& call) {
  Result<uint64_t> from = NumberParam(call.target, "from", 0, UINT64_MAX - 1);
  Result<uint64_t> limit = PageLimit(call.target);
  if (!from.ok()) return Error(from.status());
  if (!limit.ok()) return Error(limit.status());
  Result<std::vector<Event>> events = log.ReadAll(Position(*from), *limit);
  if (!events.ok()) return Error(events.status());
  if (Status s = RecordLogRead(log, call.caller, "all_events", *events); !s.ok()) return Error(s);
  json::array items;
  for (const Event& e : *events) items.push_back(json::parse(EventToJson(e, JsonFields::kWithLogFields)));
  json::object out{{"events", std::move(items)}};
  if (!events->empty() && events->size() == *limit) {
    out["next"] = "/v1/streams/$all?from=" + std::to_string(events->back().position.value() + 1) +
                  "&limit=" + std::to_string(*limit);
  }
  return Json(200, json::serialize(out));
}

// --- Tamper evidence ---

Response KeyRoute(EventLog& log, Api::Call&) {
  Result<PublishedKey> k = VerifierKey(log);
  if (!k.ok()) return Error(k.status());
  return Json(200, PublishedKeyToJson(*k));
}

Response CheckpointsRoute(EventLog& log, Api::Call&) {
  Result<std::vector<std::string>> notes = ListCheckpoints(log);
  if (!notes.ok()) return Error(notes.status());
  return Ndjson(CheckpointsToJsonLines(*notes));
}

Response SignRoute(EventLog& log, Api::Call&) {
  Result<SignedCheckpoint> c = SignCheckpoint(log);
  if (!c.ok()) return Error(c.status());
  return Json(201, SignedCheckpointToJson(*c));
}

Response CosignRoute(EventLog& log, Api::Call& call) {
  Result<Cosignature> c = CosignCheckpoint(log, call.request.body);
  if (!c.ok()) return Error(c.status());
  return Json(200, CosignatureToJson(*c));
}

Response InclusionRoute(EventLog& log, Api::Call& call) {
  Result<uint64_t> position = NumberParam(call.target, "position", 0, UINT64_MAX - 1);
  if (!position.ok()) return Error(position.status());
  if (!call.target.Has("position")) return Error(400, "give the query parameter position");
  std::optional<uint64_t> size;
  if (call.target.Has("size")) {
    Result<uint64_t> n = NumberParam(call.target, "size", 0, UINT64_MAX - 1);
    if (!n.ok()) return Error(n.status());
    size = *n;
  }
  Result<InclusionProof> p = ProveInclusion(log, *position, size);
  if (!p.ok()) return Error(p.status());
  return Json(200, InclusionProofToJson(*p));
}

Response ConsistencyRoute(EventLog& log, Api::Call& call) {
  if (!call.target.Has("from")) return Error(400, "give the query parameter from (a tree size)");
  Result<uint64_t> from = NumberParam(call.target, "from", 0, UINT64_MAX - 1);
  if (!from.ok()) return Error(from.status());
  std::optional<uint64_t> to;
  if (call.target.Has("to")) {
    Result<uint64_t> n = NumberParam(call.target, "to", 0, UINT64_MAX - 1);
    if (!n.ok()) return Error(n.status());
    to = *n;
  }
  Result<ConsistencyProof> p = ProveConsistency(log, *from, to);
  if (!p.ok()) return Error(p.status());
  return Json(200, ConsistencyProofToJson(*p));
}

Response VerifyRoute(EventLog& log, Api::Call&) {
  VerifyResult v = VerifyStore(log, std::nullopt);
  return Json(v.error.ok() ? 200 : HttpStatusFor(v.error), VerifyResultToJson(v));
}

// The dispute folder (service/dispute.h) as one JSON answer: made in a
// private temporary folder (0700), read back file by file, byte for byte,
// and removed before the answer is sent.
Response DisputeRoute(EventLog& log, Api::Call& call) {
  auto customer = ReadableCustomer(log, call);
  if (auto* r = std::get_if<Response>(&customer)) return std::move(*r);
  Result<std::optional<Timestamp>> at = TimeParam(call.target, "at");
  if (!at.ok()) return Error(at.status());
  if (!*at) return Error(400, "query parameter at: the time of the dispute is required (RFC 3339, e.g. 2026-05-01T00:00:00Z)");
  std::string dir = (std::filesystem::temp_directory_path() / "custodian-dispute-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) return Error(Status::IoError("cannot make a temporary folder for the dispute"));
  struct Remove {
    std::string dir;
    ~Remove() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } remove{dir};
  Result<DisputeResult> d =
      MakeDispute(log, call.caller, DisputeRequest{std::get<std::string>(customer), **at, dir}, SystemClock().Now());
  if (!d.ok()) return Error(d.status());
  json::object out = json::parse(DisputeResultToJson(*d)).as_object();
  out.erase("dir");
  json::array files;
  for (const DisputeFile& f : d->files) {
    std::ifstream in(std::filesystem::path(dir) / f.name, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    if (!in.good() && !in.eof()) return Error(Status::IoError("cannot read back " + f.name + " of the dispute"));
    files.push_back(json::object{{"name", f.name}, {"what", f.what}, {"bytes", f.bytes}, {"content", content.str()}});
  }
  out["files"] = std::move(files);
  return Json(200, json::serialize(out));
}

Response BundleRoute(EventLog& log, Api::Call& call) {
  const std::string& stream = call.params[0];
  Result<std::optional<Timestamp>> from = TimeParam(call.target, "from");
  Result<std::optional<Timestamp>> to = TimeParam(call.target, "to");
  if (!from.ok()) return Error(from.status());
  if (!to.ok()) return Error(to.status());
  if (Status valid = ValidateStreamName(stream); !valid.ok()) return Error(valid);
  Result<EvidenceBundle> b = MakeBundle(log, call.caller, BundleRequest{stream, *from, *to});
  if (!b.ok()) return Error(b.status());
  Response r = Json(200, b->bundle.json);
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"evidence-" + stream + ".json\"");
  return r;
}

// --- Handover ---

Response HandoverPlanRoute(EventLog& log, Api::Call& call) {
  Result<json::object> body = BodyObject(call.request);
  if (!body.ok()) return Error(body.status());
  HandoverRequest request{Field(*body, "from"), Field(*body, "to"), Field(*body, "team"), SystemClock().Now()};
  if (request.from.empty()) return Error(400, "field 'from': the leaver's staff id is required");
  if (request.to.empty() == request.balance_team.empty()) return Error(400, "give one of the fields 'to' or 'team'");
  // A manager hands over the work of those they oversee, not anyone's.
  if (std::optional<Response> no = UnlessManagerOversees(log, call, request.from)) return *no;
  Result<PlannedHandover> p = RecordHandoverPlan(log, call.caller, request);
  if (!p.ok()) return Error(p.status());
  return Json(201, PlannedHandoverToJson(*p));
}

// A manager carries out or reads the handovers of those they oversee.
std::optional<Response> UnlessManagerOverseesLeaver(EventLog& log, const Api::Call& call, const std::string& id) {
  if (call.token.role != "manager") return std::nullopt;
  Result<std::string> leaver = HandoverLeaver(log, id);
  if (!leaver.ok()) return Error(leaver.status());
  return UnlessManagerOversees(log, call, *leaver);
}

Response HandoverExecuteRoute(EventLog& log, Api::Call& call) {
  if (std::optional<Response> no = UnlessManagerOverseesLeaver(log, call, call.params[0])) return *no;
  Result<HandoverExecution> run = CarryOutHandover(log, call.caller, call.params[0], SystemClock().Now());
  if (!run.ok()) return Error(run.status());
  return Json(200, HandoverExecutionToJson(*run));
}

Response HandoverReportRoute(EventLog& log, Api::Call& call) {
  HandoverReportRequest request;
  request.handover_id = call.params[0];
  request.successor = call.target.Query("for");
  if (call.token.role == "rep") {
    if (!request.successor.empty() && request.successor != call.token.staff) return Forbidden();
    request.successor = call.token.staff;
  }
  if ((call.token.role == "rep" || call.token.role == "manager") && request.successor == call.token.staff) {
    // Their own briefing: the customers that come to them, while they serve
    // them (their team's, or theirs once the handover is carried out), and
    // not after they no longer do.
    Result<std::vector<std::string>> mine = HandoverCustomersFor(log, request.handover_id, call.token.staff);
    if (!mine.ok()) return Error(mine.status());
    for (const std::string& customer : *mine) {
      Result<bool> may = MayReadCustomer(log, call.token, customer);
      if (!may.ok()) return Error(may.status());
      if (!*may) return Forbidden();
    }
  } else if (std::optional<Response> no = UnlessManagerOverseesLeaver(log, call, request.handover_id)) {
    return *no;
  }
  request.now = SystemClock().Now();
  const std::string format = call.target.Query("format");
  if (!format.empty() && format != "jsonl" && format != "md" && format != "html") {
    return Error(400, "query parameter format: jsonl (default), md or html");
  }
  const BriefingFormat f = format == "md" ? BriefingFormat::kMarkdown
                           : format == "html" ? BriefingFormat::kHtml
                                              : BriefingFormat::kJsonLines;
  if (!format.empty()) request.exported_as = f;
  Result<HandoverReport> r = PrepareHandoverReport(log, call.caller, request);
  if (!r.ok()) return Error(r.status());
  return Json(200, HandoverReportDocument(*r, f),
              f == BriefingFormat::kHtml       ? "text/html; charset=utf-8"
              : f == BriefingFormat::kMarkdown ? "text/markdown; charset=utf-8"
                                               : "application/x-ndjson");
}

// --- People: erasure and holds ---

Response EraseRoute(EventLog& log, Api::Call& call) {
  Result<json::object> body = BodyObject(call.request);
  if (!body.ok()) return Error(body.status());
  Result<SubjectRef> subject = ParseSubjectArg(Field(*body, "subject"));
  if (!subject.ok()) return Error(subject.status().WithContext("field 'subject'"));
  ErasureRequest request{*subject, call.token.staff, Field(*body, "reason_code"), Field(*body, "details"),
                         Field(*body, "request_ref"), SystemClock().Now()};
  if (request.details.empty()) return Error(400, "field 'details': say why the data is erased");
  Result<ErasureResult> r = EraseSubject(log, request);
  if (!r.ok()) return Error(r.status());
  return Json(r->already ? 200 : 201, ErasureResultToJson(*r));
}

Response HoldsRoute(EventLog& log, Api::Call& call) {
  std::optional<SubjectRef> subject;
  if (const std::string text = call.target.Query("subject"); !text.empty()) {
    Result<SubjectRef> s = ParseSubjectArg(text);
    if (!s.ok()) return Error(s.status().WithContext("query parameter subject"));
    subject = *s;
  }
  Result<std::vector<Hold>> holds = ListHolds(log, subject);
  if (!holds.ok()) return Error(holds.status());
  std::vector<std::string> customers;
  for (const Hold& h : *holds) {
    const std::string customer = h.subject.substr(0, h.subject.find('/'));
    if (std::find(customers.begin(), customers.end(), customer) == customers.end()) customers.push_back(customer);
  }
  if (!customers.empty()) {
    Access a;
    a.view = "legal_holds";
    a.customers = customers;
    a.records = holds->size();
    if (Status s = RecordRead(log, call.caller, a); !s.ok()) return Error(s);
  }
  return Json(200, HoldsToJson(*holds));
}

Response HoldRoute(EventLog& log, Api::Call& call, bool place) {
  Result<json::object> body = BodyObject(call.request);
  if (!body.ok()) return Error(body.status());
  Result<SubjectRef> subject = ParseSubjectArg(Field(*body, "subject"));
  if (!subject.ok()) return Error(subject.status().WithContext("field 'subject'"));
  HoldRequest request{*subject, call.token.staff, Field(*body, "hold_id"), Field(*body, "reason"), SystemClock().Now()};
  if (place && request.reason.empty()) return Error(400, "field 'reason': say why the data must be kept");
  if (!place && request.hold_id.empty()) return Error(400, "field 'hold_id': which hold ends");
  Result<std::pair<Hold, uint64_t>> r = place ? PlaceHold(log, request) : ReleaseHold(log, request);
  if (!r.ok()) return Error(r.status());
  return Json(place ? 201 : 200, json::serialize(json::object{{"subject", r->first.subject},
                                                             {"hold_id", r->first.hold_id},
                                                             {"position", r->second}}));
}

// GET /v1/me: who the token is; the UI shows it on every page.
Response MeRoute(const EventLog& log, Api::Call& call) {
  json::object me{{"token_id", call.token.token_id}, {"role", call.token.role}, {"name", call.token.name}};
  me["staff"] = call.token.staff.empty() ? json::value(nullptr) : json::value(call.token.staff);
  me["team"] = nullptr;
  if (!call.token.staff.empty()) {
    Result<ServiceScope> scope = ReaderScope(log, call.token.staff);
    if (!scope.ok()) return Error(scope.status());
    if (!scope->team().empty()) me["team"] = scope->team();
  }
  me["personal_data"] = call.caller.personal == PersonalData::kOpen ? "open" : "sealed";
  return Json(200, json::serialize(me));
}

// GET /v1/people?email=|phone=|name=: the people the blind index finds, cut
// for a rep or manager to the customers they serve; recorded as a read.
Response PeopleRoute(EventLog& log, Api::Call& call) {
  const std::string email = call.target.Query("email"), phone = call.target.Query("phone"),
                    name = call.target.Query("name");
  if ((!email.empty()) + (!phone.empty()) + (!name.empty()) != 1) {
    return Error(400, "give one of the query parameters email, phone or name");
  }
  const BlindKind kind = !email.empty() ? BlindKind::kEmail : !phone.empty() ? BlindKind::kPhone : BlindKind::kName;
  Result<FindResult> found = FindPeople(log, kind, !email.empty() ? email : !phone.empty() ? phone : name);
  if (!found.ok()) return Error(found.status());
  if (call.token.role == "rep" || call.token.role == "manager") {
    Result<ServiceScope> scope = ReaderScope(log, call.token.staff);
    if (!scope.ok()) return Error(scope.status());
    const Timestamp now = SystemClock().Now();
    std::vector<Person> served;
    for (Person& p : found->people) {
      Result<bool> serves = scope->Serves(p.customer, now);
      if (!serves.ok()) return Error(serves.status());
      if (*serves) served.push_back(std::move(p));
    }
    found->people = std::move(served);
  }
  if (!found->people.empty()) {
    Status s = RecordRead(log, call.caller, Access{call.token.staff, false, "find", found->customers(),
                                                   found->people.size(), "", "api"});
    if (!s.ok()) return Error(s);
  }
  return Json(200, FindResultToJson(*found));
}

std::vector<Api::Route> Routes() {
  using R = Api::Route;
  std::vector<R> routes;
  auto add = [&](std::string method, std::string pattern, std::set<std::string> roles, bool waits,
                 std::function<Api::Reply(Api&, Api::Call&)> f) {
    std::vector<std::string> parts;
    for (size_t start = 1; start <= pattern.size();) {
      const size_t end = std::min(pattern.find('/', start), pattern.size());
      if (end > start) parts.push_back(pattern.substr(start, end - start));
      start = end + 1;
    }
    routes.push_back(
        R{std::move(method), std::move(pattern), std::move(roles), waits, false, std::move(f), std::move(parts)});
  };
  // A GET whose answer is recorded as an export (Route::exports).
  auto add_export = [&](std::string pattern, std::set<std::string> roles, bool waits,
                        std::function<Api::Reply(Api&, Api::Call&)> f) {
    add("GET", std::move(pattern), std::move(roles), waits, std::move(f));
    routes.back().exports = true;
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
  add("POST", "/v1/cloudevents", {"ingest", "admin"}, false,
      [](Api& api, Api::Call& c) { return CloudEventsRoute(api, c); });
  add("POST", "/v1/streams/{stream}/events", {"ingest", "admin"}, false,
      [](Api& api, Api::Call& c) { return Append(api, api.log(), c); });
  // Before {stream}: the first route that matches answers.
  add("GET", "/v1/streams/$all", company, true, [](Api& api, Api::Call& c) { return ReadAllRoute(api.log(), c); });
  add("GET", "/v1/streams/{stream}", all_readers, true,
      [](Api& api, Api::Call& c) { return ReadStreamRoute(api.log(), c); });
  add("GET", "/v1/customers/{id}", all_readers, true, [](Api& api, Api::Call& c) { return CustomerRoute(api.log(), c); });
  add("GET", "/v1/customers/{id}/timeline", all_readers, true,
      [](Api& api, Api::Call& c) { return TimelineRoute(api.log(), c); });
  add("GET", "/v1/customers/{id}/custody", all_readers, true,
      [](Api& api, Api::Call& c) { return CustodyRoute(api.log(), c); });
  add("GET", "/v1/accountability", all_readers, true,
      [](Api& api, Api::Call& c) { return AccountabilityRoute(api.log(), c); });
  add("GET", "/v1/staff/{staff}/portfolio", all_readers, true,
      [](Api& api, Api::Call& c) { return Portfolio(api.log(), c); });
  add("GET", "/v1/me", {"ingest", "rep", "manager", "auditor", "admin"}, false,
      [](Api& api, Api::Call& c) { return MeRoute(api.log(), c); });
  add("GET", "/v1/people", {"rep", "manager", "admin"}, false,
      [](Api& api, Api::Call& c) { return PeopleRoute(api.log(), c); });
  add("GET", "/v1/silent", all_readers, true, [](Api& api, Api::Call& c) { return Silent(api.log(), c); });
  add("GET", "/v1/customers", all_readers, true, [](Api& api, Api::Call& c) { return CustomersRoute(api.log(), c); });
  add("GET", "/v1/pipeline", all_readers, true, [](Api& api, Api::Call& c) { return PipelineRoute(api.log(), c); });
  add("GET", "/v1/orphans", all_readers, true, [](Api& api, Api::Call& c) { return OrphansRoute(api.log(), c); });
  add("GET", "/v1/departures", {"manager", "auditor", "admin"}, true,
      [](Api& api, Api::Call& c) { return DeparturesRoute(api.log(), c); });
  add("GET", "/v1/alerts", all_readers, true, [](Api& api, Api::Call& c) { return AlertsRoute(api.log(), c); });
  add("GET", "/v1/access", company, true, [](Api& api, Api::Call& c) { return AccessRoute(api.log(), c); });
  add("GET", "/v1/tokens", {"admin"}, false, [](Api& api, Api::Call& c) { return TokensRoute(api.log(), c); });
  add("POST", "/v1/tokens", {"admin"}, false, [](Api& api, Api::Call& c) { return CreateTokenRoute(api.log(), c); });
  add("POST", "/v1/tokens/{id}/revoke", {"admin"}, false,
      [](Api& api, Api::Call& c) { return RevokeTokenRoute(api.log(), c); });
  const std::set<std::string> evidence = {"auditor", "admin"};
  add("GET", "/v1/verifier-key", evidence, false, [](Api& api, Api::Call& c) { return KeyRoute(api.log(), c); });
  add("GET", "/v1/checkpoints", evidence, false, [](Api& api, Api::Call& c) { return CheckpointsRoute(api.log(), c); });
  add("POST", "/v1/checkpoints", {"admin"}, false, [](Api& api, Api::Call& c) { return SignRoute(api.log(), c); });
  // A witness: this node cosigns a checkpoint of the log that its own tree holds (docs/scale-out.md).
  add("POST", "/v1/checkpoints/cosign", evidence, false,
      [](Api& api, Api::Call& c) { return CosignRoute(api.log(), c); });
  add("GET", "/v1/proofs/inclusion", evidence, false, [](Api& api, Api::Call& c) { return InclusionRoute(api.log(), c); });
  add("GET", "/v1/proofs/consistency", evidence, false,
      [](Api& api, Api::Call& c) { return ConsistencyRoute(api.log(), c); });
  add("GET", "/v1/verify", evidence, false, [](Api& api, Api::Call& c) { return VerifyRoute(api.log(), c); });
  add_export("/v1/bundles/{stream}", evidence, false, [](Api& api, Api::Call& c) { return BundleRoute(api.log(), c); });
  add_export("/v1/customers/{id}/dispute", evidence, true,
             [](Api& api, Api::Call& c) { return DisputeRoute(api.log(), c); });
  add("POST", "/v1/handovers", {"manager", "admin"}, true,
      [](Api& api, Api::Call& c) { return HandoverPlanRoute(api.log(), c); });
  add("POST", "/v1/handovers/{id}/execute", {"manager", "admin"}, true,
      [](Api& api, Api::Call& c) { return HandoverExecuteRoute(api.log(), c); });
  add_export("/v1/handovers/{id}/report", {"rep", "manager", "auditor", "admin"}, true,
             [](Api& api, Api::Call& c) { return HandoverReportRoute(api.log(), c); });
  add("POST", "/v1/erasures", {"admin"}, false, [](Api& api, Api::Call& c) { return EraseRoute(api.log(), c); });
  add("GET", "/v1/holds", {"auditor", "admin"}, false, [](Api& api, Api::Call& c) { return HoldsRoute(api.log(), c); });
  add("POST", "/v1/holds", {"admin"}, false, [](Api& api, Api::Call& c) { return HoldRoute(api.log(), c, true); });
  add("POST", "/v1/holds/release", {"admin"}, false,
      [](Api& api, Api::Call& c) { return HoldRoute(api.log(), c, false); });
  return routes;
}

}  // namespace

}  // namespace custodian
