// End-to-end tests of the HTTP server: the real server (Server::Start on a
// free loopback port) in front of a real store holding the sample company,
// spoken to by a real HTTP client over TCP (tests/server/http_client.h), and
// by raw sockets for the traffic that is not HTTP.
#include "server/server.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/bundle.h"
#include "server/api.h"
#include "server/http.h"
#include "service/store.h"
#include "service/tokens.h"
#include "tests/server/http_client.h"
#include "tests/service/sample_store.h"
#include "tests/raw_store.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

namespace json = boost::json;
using testing::BodyOf;
using testing::CanConnect;
using testing::Fetch;
using testing::HeaderList;
using testing::HttpClient;
using testing::HttpReply;
using testing::RandomId;
using testing::RawConnection;
using testing::SampleStore;
using testing::StatusOf;

constexpr auto kPatience = std::chrono::seconds(10);

// Server options for a test: quick timeouts, so a test that trips one does
// not wait long.
ServerOptions TestOptions() {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.io_threads = 2;
  o.workers = 8;
  o.read_timeout = std::chrono::milliseconds(5'000);
  o.write_timeout = std::chrono::milliseconds(5'000);
  o.drain_timeout = std::chrono::milliseconds(5'000);
  return o;
}

// The sample company (tests/service/sample_store.h) served over HTTP, with
// staff-1 an admin, staff-20 a rep of team south who owns customer-2001,
// staff-21 a rep who owns nothing, staff-900 a registered auditor, and one
// token for each role.
struct ServedStore {
  SampleStore store;
  std::string admin, ingest, rep7, rep20, rep21, manager3, auditor;
  std::string rep21_id, admin_id, ingest_id;
  std::unique_ptr<Api> api;
  std::unique_ptr<Server> server;

  explicit ServedStore(ServerOptions options = TestOptions(), ApiOptions api_options = {}) {
    store.Add("staff-1", "staff.joined", "system:hr-sync", R"({"role":"admin"})");
    store.Add("staff-20", "staff.joined", "system:hr-sync", R"({"role":"account_executive","team":"south"})");
    store.Add("staff-21", "staff.joined", "system:hr-sync", R"({"role":"account_executive","team":"south"})");
    store.Add("customer-2001", "customer.registered", "staff-20",
              R"({"name":"Sud Bau GmbH","segment":"small-business","country":"AT"})");
    store.Add("customer-2001", "customer.owner_assigned", "staff-20",
              R"({"owner":"staff-20","previous_owner":null,"reason":"initial"})");
    Result<uint64_t> p = RegisterPrincipal(
        *store.log, PrincipalRequest{"staff-900", "auditor", "auditor", "Audit GmbH", "system:admin", store.now});
    INFO(p.status().ToString());
    REQUIRE(p.ok());
    NewToken admin_token = Token("admin", "staff-1");
    admin = admin_token.token;
    admin_id = admin_token.info.token_id;
    NewToken ingest_token = Token("ingest", "");
    ingest = ingest_token.token;
    ingest_id = ingest_token.info.token_id;
    rep7 = Token("rep", "staff-7").token;
    rep20 = Token("rep", "staff-20").token;
    NewToken t21 = Token("rep", "staff-21");
    rep21 = t21.token;
    rep21_id = t21.info.token_id;
    manager3 = Token("manager", "staff-3").token;
    auditor = Token("auditor", "staff-900").token;
    api = std::make_unique<Api>(*store.log, api_options);
    Result<std::unique_ptr<Server>> s = Server::Start(*api, options);
    INFO(s.status().ToString());
    REQUIRE(s.ok());
    server = std::move(*s);
    // Queries see the fixture only once the follower has folded it.
    WaitFolded(store.log->end().value());
  }
  ~ServedStore() {
    if (server) server->Stop();
    server.reset();
    api.reset();
  }

  NewToken Token(const std::string& role, const std::string& staff) {
    Result<NewToken> t = CreateToken(*store.log, TokenRequest{role, "test", staff, "staff-1", store.now});
    INFO(t.status().ToString());
    REQUIRE(t.ok());
    return *t;
  }

  void WaitFolded(uint64_t end) const {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (api->folded() < end && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    REQUIRE(api->folded() >= end);
  }

  uint16_t port() const { return server->port(); }
  HttpReply Get(const std::string& target, const std::string& token = "") const {
    return Fetch(port(), "GET", target, token);
  }
  HttpReply Post(const std::string& target, const std::string& token, std::string body,
                 const HeaderList& headers = {}) const {
    return Fetch(port(), "POST", target, token, std::move(body), headers);
  }
  // The server still answers, on a new connection.
  bool Healthy() const { return Get("/healthz").status == 200; }
  size_t StreamSize(const std::string& stream) const { return store.Stream(stream).size(); }
};

json::object Parse(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  INFO(body);
  REQUIRE_FALSE(ec);
  REQUIRE(v.is_object());
  return v.as_object();
}

// The error object of an error answer: {"error":{"status","code","message"}}.
json::object ErrorOf(const HttpReply& r) {
  INFO(r.body);
  CHECK(r.Header("Content-Type") == "application/json");
  json::object o = Parse(r.body);
  REQUIRE(o.contains("error"));
  json::object e = o.at("error").as_object();
  CHECK(e.at("status").as_int64() == r.status);
  return e;
}
std::string MessageOf(const HttpReply& r) { return std::string(ErrorOf(r).at("message").as_string()); }

// The lines of a JSON Lines answer, each parsed.
std::vector<json::object> Lines(const std::string& body) {
  std::vector<json::object> out;
  size_t start = 0;
  while (start < body.size()) {
    const size_t end = body.find('\n', start);
    REQUIRE(end != std::string::npos);  // every line ends with a newline
    out.push_back(Parse(body.substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

// An event as a producer sends it, occurring on 1 April 2026.
std::string EventJson(const std::string& id, const std::string& stream, const std::string& type,
                      const std::string& actor, const std::string& data) {
  return R"({"id":")" + id + R"(","stream":")" + stream + R"(","type":")" + type + R"(","actor":")" + actor +
         R"(","occurred_at":"2026-04-01T10:00:00Z","source":"crm","data":)" + data + "}";
}
std::string Interaction(const std::string& id, const std::string& stream = "customer-1002") {
  return EventJson(id, stream, "interaction.logged", "staff-7",
                   R"({"channel":"call","direction":"outbound","summary":"follow-up call"})");
}
std::string NewId() { return RandomId().ToString(); }
// `event` with a byte sequence that is not UTF-8 in its summary.
std::string NotUtf8(std::string event) { return event.replace(event.find("follow-up"), 1, "\xC3\x28"); }

std::vector<uint64_t> Numbers(const json::value& array) {
  std::vector<uint64_t> out;
  for (const json::value& v : array.as_array()) out.push_back(v.to_number<uint64_t>());
  return out;
}

bool StreamHasId(const ServedStore& s, const std::string& stream, const std::string& id) {
  for (const Event& e : s.store.Stream(stream)) {
    if (e.id.ToString() == id) return true;
  }
  return false;
}

// --- health, tokens, roles ---

TEST_CASE("GET /healthz answers without a token and says how much of the log the projections have folded",
          "[server]") {
  ServedStore s;
  HttpReply r = s.Get("/healthz");
  INFO(r.error);
  REQUIRE(r.status == 200);
  json::object o = Parse(r.body);
  CHECK(o.at("status") == "ok");
  CHECK(o.at("events").to_number<uint64_t>() >= s.store.log->end().value() - 1);
  CHECK(o.at("folded").to_number<uint64_t>() >= 1);
  CHECK(r.Header("Cache-Control") == "no-store");
  // Unknown paths and methods are told apart.
  CHECK(s.Get("/v1/no-such-thing").status == 404);
  HttpReply wrong_method = Fetch(s.port(), "DELETE", "/healthz");
  CHECK(wrong_method.status == 405);
  CHECK(wrong_method.Header("Allow") == "GET, HEAD");
  // The live feed is not a route of the table, yet it is a known path.
  HttpReply post_subscribe = Fetch(s.port(), "POST", "/v1/subscribe");
  CHECK(post_subscribe.status == 405);
  CHECK(post_subscribe.Header("Allow") == "GET");
  CHECK(s.Get("/v1/subscribe/").status == 404);  // not the feed's target: not "GET is not allowed"
}

// RFC 9110, 9.3.2: HEAD is GET without the body, so a monitor or `curl -I`
// gets the GET's status and headers, and a read is a read. Every answer to a
// HEAD, an error's too, comes without a body, or a keep-alive connection
// would read it as the start of the next answer: each HEAD below is followed
// by a GET on the same connection, whose answer must come whole.
TEST_CASE("HEAD answers as GET with the same headers and length and no body, and a HEAD of customer data is recorded",
          "[server]") {
  ServedStore s;
  HttpReply get = s.Get("/v1/verifier-key", s.auditor);
  REQUIRE(get.status == 200);
  HttpClient one(s.port());
  auto then_get = [&](const char* what) {
    INFO(what);
    HttpReply after = one.Send("GET", "/v1/verifier-key", s.auditor);
    CHECK(after.error.empty());
    CHECK(after.status == 200);
    CHECK(after.body == get.body);
  };
  HttpReply head = one.Send("HEAD", "/v1/verifier-key", s.auditor);
  INFO(head.error);
  CHECK(head.status == 200);
  CHECK(head.Header("Content-Length") == std::to_string(get.body.size()));
  CHECK(head.Header("Content-Type") == get.Header("Content-Type"));
  CHECK(head.Header("Cache-Control") == "no-store");
  CHECK(head.keep_alive);
  then_get("after a HEAD answered 200");
  // Without a token, or on a route that takes no GET, as GET would be answered.
  CHECK(one.Send("HEAD", "/v1/verifier-key").status == 401);
  then_get("after a HEAD answered 401");
  HttpReply post_only = one.Send("HEAD", "/v1/erasures", s.admin);
  CHECK(post_only.status == 405);
  CHECK(post_only.Header("Allow") == "POST");
  then_get("after a HEAD answered 405");
  // Not the live feed (it has no length), nor a route whose GET exports: a
  // HEAD would record an export of nothing.
  HttpReply feed = one.Send("HEAD", "/v1/subscribe", s.auditor);
  CHECK(feed.status == 405);
  CHECK(feed.Header("Allow") == "GET");
  then_get("after a HEAD of the feed");
  const size_t exports_before = s.StreamSize("access-staff-900");
  HttpReply bundle = one.Send("HEAD", "/v1/bundles/customer-2001", s.auditor);
  CHECK(bundle.status == 405);
  CHECK(bundle.Header("Allow") == "GET");
  CHECK(s.StreamSize("access-staff-900") == exports_before);
  then_get("after a HEAD of a bundle");
  // A HEAD of a customer reads it: recorded like the GET.
  HttpReply customer = one.Send("HEAD", "/v1/customers/customer-2001", s.auditor);
  CHECK(customer.status == 200);
  CHECK(s.StreamSize("access-staff-900") == exports_before + 1);
  then_get("after a HEAD of a customer");
}

TEST_CASE("a request with no token, a bad one or a revoked one gets 401 and learns nothing of which tokens exist",
          "[server][auth]") {
  ServedStore s;
  HttpReply none = s.Get("/v1/silent");
  REQUIRE(none.status == 401);
  CHECK(ErrorOf(none).at("code") == "unauthorized");
  CHECK(none.Header("WWW-Authenticate").starts_with("Bearer"));
  CHECK(Fetch(s.port(), "GET", "/v1/silent", "", "", {{"Authorization", "Basic c3RhZmYtNzpwdw=="}}).status == 401);

  const std::string id = s.rep21_id;
  std::string wrong_secret = s.rep21;
  wrong_secret.back() = wrong_secret.back() == 'A' ? 'B' : 'A';
  const std::vector<std::string> bad = {"not-a-token", "tok-0000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                        wrong_secret, id};
  std::set<std::string> bodies;
  for (const std::string& token : bad) {
    INFO(token);
    HttpReply r = s.Get("/v1/silent", token);
    CHECK(r.status == 401);
    CHECK(r.Header("WWW-Authenticate").starts_with("Bearer"));
    bodies.insert(r.body);
  }
  // Revoked: the token worked a moment ago, and now answers as any unknown one.
  REQUIRE(s.Get("/v1/silent", s.rep21).status == 200);
  REQUIRE(RevokeToken(*s.store.log, id, "staff-1", "rotated", s.store.now).ok());
  HttpReply revoked = s.Get("/v1/silent", s.rep21);
  CHECK(revoked.status == 401);
  bodies.insert(revoked.body);
  CHECK(bodies.size() == 1);
  CHECK(MessageOf(revoked) == "invalid or revoked token");
}

TEST_CASE("a token stops working at once when its staff member leaves", "[server][auth]") {
  ServedStore s;
  REQUIRE(s.Get("/v1/silent", s.rep21).status == 200);
  HttpReply left = s.Post("/v1/streams/staff-21/events", s.admin,
                          EventJson(NewId(), "staff-21", "staff.departed", "system:hr-sync", R"({"reason":"resignation"})"));
  INFO(left.body);
  REQUIRE(left.status == 201);
  // No wait for the projections: the very next request is refused.
  HttpReply after = s.Get("/v1/silent", s.rep21);
  CHECK(after.status == 401);
  CHECK(after.body == s.Get("/v1/silent", "tok-0000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").body);
  CHECK(s.Get("/v1/silent", s.rep20).status == 200);  // others carry on
}

TEST_CASE("each role may do only what it is for, and a 403 says nothing of whether the thing exists",
          "[server][auth]") {
  ServedStore s;
  auto status = [&](const std::string& target, const std::string& token) {
    HttpReply r = s.Get(target, token);
    INFO(target << ": " << r.body << r.error);
    if (r.status == 403) CHECK(ErrorOf(r).at("code") == "forbidden");
    return r.status;
  };
  // ingest appends and reads nothing.
  CHECK(status("/v1/streams/customer-1001", s.ingest) == 403);
  CHECK(status("/v1/staff/staff-7/portfolio", s.ingest) == 403);
  CHECK(status("/v1/silent", s.ingest) == 403);
  CHECK(status("/metrics", s.ingest) == 403);
  // A rep reads the customers they serve and their own portfolio, nothing else.
  CHECK(status("/v1/streams/customer-1001", s.rep7) == 200);
  CHECK(status("/v1/staff/staff-7/portfolio", s.rep7) == 200);
  CHECK(status("/v1/streams/customer-2001", s.rep7) == 403);
  CHECK(status("/v1/streams/customer-1001", s.rep20) == 403);
  CHECK(status("/v1/staff/staff-7/portfolio", s.rep20) == 403);
  CHECK(status("/v1/streams/staff-7", s.rep7) == 403);
  CHECK(status("/v1/access?staff=staff-7", s.rep7) == 403);
  CHECK(status("/v1/departures", s.rep7) == 403);
  CHECK(status("/v1/tokens", s.rep7) == 403);
  CHECK(status("/metrics", s.rep7) == 403);
  // The same answer for a customer that exists and one that does not.
  CHECK(s.Get("/v1/streams/customer-1001", s.rep20).body == s.Get("/v1/streams/customer-9999", s.rep20).body);
  CHECK(s.Get("/v1/staff/staff-7/portfolio", s.rep20).body == s.Get("/v1/staff/staff-99/portfolio", s.rep20).body);
  // A manager reads their team's portfolios, not another team's.
  CHECK(status("/v1/staff/staff-7/portfolio", s.manager3) == 200);
  CHECK(status("/v1/staff/staff-20/portfolio", s.manager3) == 403);
  CHECK(status("/v1/departures", s.manager3) == 200);
  // An auditor reads everything and writes nothing.
  CHECK(status("/v1/streams/customer-2001", s.auditor) == 200);
  CHECK(status("/v1/streams/staff-7", s.auditor) == 200);
  CHECK(status("/v1/staff/staff-20/portfolio", s.auditor) == 200);
  CHECK(status("/v1/access?customer=customer-1001", s.auditor) == 200);
  CHECK(status("/metrics", s.auditor) == 200);
  CHECK(status("/v1/tokens", s.auditor) == 403);
  const size_t before = s.StreamSize("customer-1002");
  HttpReply append = s.Post("/v1/streams/customer-1002/events", s.auditor, Interaction(NewId()));
  CHECK(append.status == 403);
  CHECK(s.Post("/v1/streams/customer-1002/events", s.rep7, Interaction(NewId())).status == 403);
  CHECK(s.StreamSize("customer-1002") == before);
  // Only an admin lists the tokens, and the list holds no secret.
  HttpReply tokens = s.Get("/v1/tokens", s.admin);
  REQUIRE(tokens.status == 200);
  CHECK(tokens.Header("Content-Type") == "application/x-ndjson");
  CHECK(Lines(tokens.body).size() == 7);
  Result<std::vector<TokenInfo>> listed = ListTokens(*s.store.log);
  REQUIRE(listed.ok());
  CHECK(tokens.body == TokensToJson(*listed));  // the bytes of token list --json
  CHECK(tokens.body.find(s.rep21_id) != std::string::npos);
  CHECK(tokens.body.find(s.rep21.substr(s.rep21.find('.') + 1)) == std::string::npos);
}

// --- appends ---

TEST_CASE("an appended event gets 201 with its position and a retry with the same id writes nothing and gets "
          "the same position",
          "[server][append]") {
  ServedStore s;
  const std::string id = NewId();
  HttpReply first = s.Post("/v1/streams/customer-1002/events", s.ingest, Interaction(id));
  INFO(first.body);
  REQUIRE(first.status == 201);
  json::object a = Parse(first.body);
  CHECK(a.at("stream") == "customer-1002");
  CHECK(a.at("written").to_number<uint64_t>() == 1);
  const std::vector<uint64_t> positions = Numbers(a.at("positions"));
  REQUIRE(positions.size() == 1);
  std::vector<Event> stream = s.store.Stream("customer-1002");
  CHECK(stream.back().id.ToString() == id);
  CHECK(stream.back().position.value() == positions[0]);
  CHECK(Numbers(a.at("versions")) == std::vector<uint64_t>{stream.back().version.value()});

  HttpReply retry = s.Post("/v1/streams/customer-1002/events", s.ingest, Interaction(id));
  INFO(retry.body);
  CHECK(retry.status == 200);
  json::object b = Parse(retry.body);
  CHECK(b.at("written").to_number<uint64_t>() == 0);
  CHECK(Numbers(b.at("positions")) == positions);
  CHECK(s.StreamSize("customer-1002") == stream.size());
  // The same id with other content is not the same event.
  HttpReply other = s.Post("/v1/streams/customer-1002/events", s.ingest,
                           EventJson(id, "customer-1002", "note.added", "staff-7", R"({"text":"something else"})"));
  CHECK(other.status == 409);
  CHECK(s.StreamSize("customer-1002") == stream.size());
}

// The actor is the client's word; recorded_by is the log's: the token that
// appended the event, in its leaf hash (canonical format 2).
TEST_CASE("an appended event records the token that appended it, whatever the event claims, and still verifies",
          "[server][append]") {
  ServedStore s;
  std::string claimed = Interaction(NewId(), "customer-2001");
  claimed.insert(claimed.size() - 1, R"(,"recorded_by":"tok-someone-else")");
  HttpReply by_ingest = s.Post("/v1/streams/customer-2001/events", s.ingest, claimed);
  INFO(by_ingest.body);
  REQUIRE(by_ingest.status == 201);
  const std::string cloud = R"({"specversion":"1.0","id":")" + NewId() +
                            R"(","source":"crm","type":"interaction.logged","subject":"customer-2001",)"
                            R"("time":"2026-04-01T10:00:00Z","actor":"staff-20",)"
                            R"("data":{"channel":"call","direction":"inbound","summary":"asked for a quote"}})";
  HttpReply by_cloud = s.Post("/v1/cloudevents", s.admin, cloud, {{"Content-Type", "application/cloudevents+json"}});
  INFO(by_cloud.body);
  REQUIRE(by_cloud.status == 201);
  std::vector<Event> stream = s.store.Stream("customer-2001");
  REQUIRE(stream.size() == 4);
  CHECK(stream[0].recorded_by.empty());  // written by the fixture in-process, not over the API
  CHECK(stream[2].recorded_by == s.ingest_id);
  CHECK(stream[3].recorded_by == s.admin_id);
  HttpReply read = s.Get("/v1/streams/customer-2001", s.auditor);
  REQUIRE(read.status == 200);
  CHECK(read.body.find(R"("recorded_by":")" + s.ingest_id + R"(")") != std::string::npos);
  CHECK(read.body.find("tok-someone-else") == std::string::npos);
  // The log verifies, and the stream's bundle verifies offline, but not with
  // recorded_by changed: it is in the leaf.
  CHECK(s.store.log->Verify().ok);
  REQUIRE(s.Post("/v1/checkpoints", s.admin, "").status == 201);
  HttpReply bundle = s.Get("/v1/bundles/customer-2001", s.auditor);
  REQUIRE(bundle.status == 200);
  const std::string key(Parse(s.Get("/v1/verifier-key", s.auditor).body).at("verifier_key").as_string());
  BundleVerdict v = VerifyBundle(bundle.body, key);
  INFO(v.problem);
  CHECK(v.ok);
  std::string forged = bundle.body;
  forged.replace(forged.find(s.ingest_id), s.ingest_id.size(), s.admin_id);
  BundleVerdict f = VerifyBundle(forged, key);
  CHECK_FALSE(f.ok);
  CHECK_THAT(f.problem, Catch::Contains("is not in the signed log"));
}

TEST_CASE("appends wait with 503 and Retry-After while the projections are too far behind, and nothing is written",
          "[server][append]") {
  ServedStore s(TestOptions(), ApiOptions{3});
  // Hold the follower back, and let the log run 5 events ahead of it.
  std::unique_lock<std::recursive_mutex> folding = ProjectionLock();
  for (int i = 0; i < 5; ++i) {
    s.store.Add("customer-1002", "note.added", "staff-7", R"({"text":"written behind the follower"})");
  }
  const size_t before = s.StreamSize("customer-1002");
  HttpReply refused = s.Post("/v1/streams/customer-1002/events", s.ingest, Interaction(NewId()));
  INFO(refused.body);
  CHECK(refused.status == 503);
  CHECK(refused.Header("Retry-After") == "1");
  CHECK_THAT(refused.body, Catch::Contains("events behind the log"));
  CHECK(s.Post("/v1/cloudevents", s.ingest, "{}", {{"Content-Type", "application/cloudevents+json"}}).status == 503);
  CHECK(s.StreamSize("customer-1002") == before);
  // Reads still answer, from the state folded so far.
  CHECK(s.Get("/v1/customers/1002", s.rep7).status == 200);

  folding.unlock();
  s.WaitFolded(s.store.log->end().value());
  HttpReply accepted = s.Post("/v1/streams/customer-1002/events", s.ingest, Interaction(NewId()));
  INFO(accepted.body);
  CHECK(accepted.status == 201);
  CHECK(s.StreamSize("customer-1002") == before + 1);
}

TEST_CASE("an array of events is appended together with a position for each", "[server][append]") {
  ServedStore s;
  const std::vector<std::string> ids = {NewId(), NewId(), NewId()};
  const size_t before = s.StreamSize("customer-1004");
  HttpReply r = s.Post("/v1/streams/customer-1004/events", s.ingest,
                       "[" + Interaction(ids[0], "customer-1004") + "," + Interaction(ids[1], "customer-1004") + "," +
                           Interaction(ids[2], "customer-1004") + "]");
  INFO(r.body);
  REQUIRE(r.status == 201);
  json::object o = Parse(r.body);
  CHECK(o.at("written").to_number<uint64_t>() == 3);
  const std::vector<uint64_t> positions = Numbers(o.at("positions"));
  REQUIRE(positions.size() == 3);
  CHECK(positions[1] == positions[0] + 1);
  CHECK(positions[2] == positions[1] + 1);
  std::vector<Event> stream = s.store.Stream("customer-1004");
  REQUIRE(stream.size() == before + 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(stream[before + i].id.ToString() == ids[i]);
    CHECK(stream[before + i].position.value() == positions[i]);
  }
  // Retrying the whole array is idempotent too.
  HttpReply again = s.Post("/v1/streams/customer-1004/events", s.ingest,
                           "[" + Interaction(ids[0], "customer-1004") + "," + Interaction(ids[1], "customer-1004") +
                               "," + Interaction(ids[2], "customer-1004") + "]");
  CHECK(again.status == 200);
  CHECK(Numbers(Parse(again.body).at("positions")) == positions);
  CHECK(s.StreamSize("customer-1004") == before + 3);
}

TEST_CASE("Expected-Version is enforced and a conflict names the stream's current version", "[server][append]") {
  ServedStore s;
  const std::string stream = "customer-3001";
  auto post = [&](const std::string& expected) {
    HttpReply r = s.Post("/v1/streams/" + stream + "/events", s.ingest,
                         EventJson(NewId(), stream, "customer.registered", "staff-7",
                                   R"({"name":"Ost Handel AG","segment":"enterprise","country":"DE"})"),
                         {{"Expected-Version", expected}});
    INFO(r.body);
    return r;
  };
  HttpReply created = post("no-stream");
  REQUIRE(created.status == 201);
  const uint64_t version = Numbers(Parse(created.body).at("versions")).at(0);

  HttpReply exists = post("no-stream");
  CHECK(exists.status == 409);
  json::object e = ErrorOf(exists);
  CHECK(e.at("code") == "conflict");
  CHECK(e.at("current_version").to_number<uint64_t>() == version);

  HttpReply stale = post(std::to_string(version + 5));
  CHECK(stale.status == 409);
  CHECK(ErrorOf(stale).at("current_version").to_number<uint64_t>() == version);

  // On a stream that does not exist, the current version is null.
  HttpReply none = s.Post("/v1/streams/customer-3002/events", s.ingest, Interaction(NewId(), "customer-3002"),
                          {{"Expected-Version", "0"}});
  CHECK(none.status == 409);
  CHECK(ErrorOf(none).at("current_version").is_null());

  CHECK(post("later").status == 400);
  CHECK(s.StreamSize(stream) == 1);

  // The right version goes through.
  HttpReply next = s.Post("/v1/streams/" + stream + "/events", s.ingest, Interaction(NewId(), stream),
                          {{"Expected-Version", std::to_string(version)}});
  INFO(next.body);
  CHECK(next.status == 201);
  CHECK(s.StreamSize(stream) == 2);
}

TEST_CASE("a bad event is refused with the status that fits and nothing of its array is written",
          "[server][append]") {
  ServedStore s;
  const std::string target = "/v1/streams/customer-1002/events";
  const size_t before = s.StreamSize("customer-1002");
  const std::string good_id = NewId();
  const std::string good = Interaction(good_id);
  struct Case {
    std::string what, body;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"not JSON", "{\"id\": ", 400, "not JSON"},
      {"invalid UTF-8 in a string", NotUtf8(Interaction(NewId())), 400, "not JSON"},
      {"an empty array", "[]", 400, "empty array"},
      {"a field missing", R"({"stream":"customer-1002","type":"interaction.logged"})", 400, ""},
      {"a request that was never opened",
       EventJson(NewId(), "customer-1002", "request.assigned", "staff-3",
                 R"({"request_id":"req-404","assignee":"staff-7"})"),
       422, "rule 'reference'"},
      {"a type only the server makes",
       EventJson(NewId(), "customer-1002", "token.created", "staff-1", R"({"token_id":"tok-1"})"), 403,
       "token.created"},
      {"another stream than the URL's", Interaction(NewId(), "customer-1004"), 400, "customer-1004"},
      {"one bad event after a good one", "[" + good + ",{\"id\":1}]", 400, "event #2"},
      {"a rule violation after a good one",
       "[" + good + "," +
           EventJson(NewId(), "customer-1002", "request.assigned", "staff-3",
                     R"({"request_id":"req-404","assignee":"staff-7"})") +
           "]",
       422, "rule 'reference'"},
      {"a reserved type after a good one",
       "[" + good + "," + EventJson(NewId(), "customer-1002", "data.viewed", "staff-7", R"({})") + "]", 403,
       "data.viewed"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    for (const std::string& token : {s.ingest, s.admin}) {
      HttpReply r = s.Post(target, token, c.body);
      INFO(r.body << r.error);
      CHECK(r.status == c.status);
      if (r.status >= 400) CHECK(MessageOf(r).find(c.says) != std::string::npos);
    }
  }
  CHECK(s.StreamSize("customer-1002") == before);
  CHECK_FALSE(StreamHasId(s, "customer-1002", good_id));
  CHECK(s.Healthy());
}

// --- reads ---

TEST_CASE("a read with min_position sees the write that returned that position", "[server][read]") {
  ServedStore s;
  HttpReply w = s.Post(
      "/v1/streams/customer-1005/events", s.ingest,
      "[" +
          EventJson(NewId(), "customer-1005", "customer.registered", "staff-7",
                    R"({"name":"Kessler Kuehltransporte GmbH","segment":"mid-market","country":"DE"})") +
          "," +
          EventJson(NewId(), "customer-1005", "customer.owner_assigned", "staff-3",
                    R"({"owner":"staff-7","previous_owner":null,"reason":"initial"})") +
          "]");
  INFO(w.body);
  REQUIRE(w.status == 201);
  const uint64_t last = Numbers(Parse(w.body).at("positions")).back();
  const std::string min = "?min_position=" + std::to_string(last);

  // The rep may read the new customer at once: the permission is as of the write too.
  HttpReply stream = s.Get("/v1/streams/customer-1005" + min, s.rep7);
  INFO(stream.body);
  REQUIRE(stream.status == 200);
  CHECK(Parse(stream.body).at("events").as_array().size() == 2);

  HttpReply portfolio = s.Get("/v1/staff/staff-7/portfolio" + min, s.rep7);
  REQUIRE(portfolio.status == 200);
  CHECK(portfolio.Header("Content-Type") == "application/x-ndjson");
  bool seen = false;
  for (const json::object& line : Lines(portfolio.body)) seen |= line.at("customer") == "customer-1005";
  CHECK(seen);

  // A position the log does not hold yet, and one that is not a number.
  HttpReply ahead = s.Get("/v1/staff/staff-7/portfolio?min_position=" + std::to_string(last + 1000), s.rep7);
  CHECK(ahead.status == 400);
  CHECK(MessageOf(ahead).find("not in the log yet") != std::string::npos);
  CHECK(s.Get("/v1/silent?min_position=-1", s.rep7).status == 400);
}

TEST_CASE("a stream is read in pages with a link to the next", "[server][read]") {
  ServedStore s;
  const size_t size = s.StreamSize("customer-1001");
  REQUIRE(size > 3);
  HttpReply page = s.Get("/v1/streams/customer-1001?limit=2", s.auditor);
  REQUIRE(page.status == 200);
  json::object o = Parse(page.body);
  REQUIRE(o.at("events").as_array().size() == 2);
  const std::string next(o.at("next").as_string());
  CHECK(next.starts_with("/v1/streams/customer-1001?from="));
  HttpReply rest = s.Get(next, s.auditor);
  REQUIRE(rest.status == 200);
  json::array events = Parse(rest.body).at("events").as_array();
  REQUIRE_FALSE(events.empty());
  CHECK(events[0].at("version").to_number<uint64_t>() ==
        o.at("events").as_array()[1].at("version").to_number<uint64_t>() + 1);
  CHECK(s.Get("/v1/streams/customer-1001?limit=100000", s.auditor).status == 400);
  // A page of nothing is refused, on a stream and on the whole log, and the server stays up
  // (it crashed: a full page of zero events named its last event).
  for (const char* path : {"/v1/streams/customer-1001?limit=0", "/v1/streams/$all?limit=0"}) {
    HttpReply zero = s.Get(path, s.auditor);
    INFO(path << " " << zero.body);
    CHECK(zero.status == 400);
    CHECK_THAT(zero.body, Catch::Contains("limit: 1 to 1000"));
  }
  // Past the end: an empty page without a next link.
  HttpReply past = s.Get("/v1/streams/customer-1001?from=100000&limit=5", s.auditor);
  REQUIRE(past.status == 200);
  CHECK(Parse(past.body).at("events").as_array().empty());
  CHECK_FALSE(Parse(past.body).contains("next"));
  CHECK(s.Get("/healthz", "").status == 200);
}

TEST_CASE("every read of customer data over HTTP is recorded as data.viewed for the token's staff member",
          "[server][read]") {
  ServedStore s;
  struct Read {
    std::string target, token, staff, view;
  };
  const std::vector<Read> reads = {
      {"/v1/streams/customer-1001", s.rep7, "staff-7", "stream"},
      {"/v1/staff/staff-7/portfolio", s.rep7, "staff-7", "portfolio"},
      {"/v1/staff/staff-7/portfolio?as_of=" + FormatRfc3339(SystemClock().Now()), s.manager3, "staff-3",
       "portfolio_as_of"},
      {"/v1/silent", s.manager3, "staff-3", "silent"},
      {"/v1/orphans", s.manager3, "staff-3", "orphans"},
      {"/v1/alerts", s.manager3, "staff-3", "alerts"},
      {"/v1/access?staff=staff-12", s.auditor, "staff-900", "access_log"},
      {"/v1/access?customer=customer-1001", s.auditor, "staff-900", "access_log"},
      // staff-7's access stream names the customers staff-7 read: reading it is a read of them.
      {"/v1/streams/access-staff-7", s.auditor, "staff-900", "stream"},
      {"/v1/streams/$all?limit=1000", s.auditor, "staff-900", "all_events"},
  };
  for (const Read& read : reads) {
    INFO(read.target);
    const std::vector<Event> before = s.store.Stream("access-" + read.staff);
    HttpReply r = s.Get(read.target, read.token);
    INFO(r.body);
    REQUIRE(r.status == 200);
    const std::vector<Event> after = s.store.Stream("access-" + read.staff);
    REQUIRE(after.size() == before.size() + 1);
    const Event& e = after.back();
    CHECK(e.type == "data.viewed");
    CHECK(e.actor == read.staff);
    json::object d = Parse(e.data);
    CHECK(d.at("view") == read.view.c_str());
    CHECK(d.at("interface") == "api");
    if (read.view == "stream" || read.view == "all_events") {
      CHECK(json::serialize(d.at("customers")).find("customer-1001") != std::string::npos);
    }
  }
  // A refused read records nothing.
  const size_t refused_before = s.StreamSize("access-staff-20");
  REQUIRE(s.Get("/v1/streams/customer-1001", s.rep20).status == 403);
  CHECK(s.StreamSize("access-staff-20") == refused_before);
}

TEST_CASE("GET /v1/customers/{id}/dispute answers the dispute folder file by file, and its evidence verifies with "
          "the key alone",
          "[server][dispute]") {
  ServedStore s;
  const std::string at = FormatRfc3339(s.store.now);
  auto temporary = [] {
    size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::temp_directory_path())) {
      n += entry.path().filename().string().starts_with("custodian-dispute-") ? 1 : 0;
    }
    return n;
  };
  const size_t before = temporary();
  const size_t exports_before = s.StreamSize("access-staff-900");
  HttpReply r = s.Get("/v1/customers/1001/dispute?at=" + at, s.auditor);
  INFO(r.body.substr(0, 600));
  REQUIRE(r.status == 200);
  json::object o = Parse(r.body);
  CHECK(o.at("customer") == "customer-1001");
  CHECK(o.at("at") == at.c_str());
  CHECK(o.at("complete") == true);
  CHECK(!o.contains("dir"));
  std::map<std::string, std::string> files;
  for (const json::value& f : o.at("files").as_array()) {
    const json::object& file = f.as_object();
    const std::string content(file.at("content").as_string());
    CHECK(file.at("bytes").to_number<uint64_t>() == content.size());
    files[std::string(file.at("name").as_string())] = content;
  }
  for (const char* name : {"README.md", "customer-as-known.json", "customer-as-happened.json", "responsibilities.json",
                           "timeline.txt", "timeline.jsonl", "custody.jsonl", "evidence.json", "verifier.vkey"}) {
    INFO(name);
    CHECK(files.count(name) == 1);
  }
  // The evidence, as answered, verifies with the published key alone and proves it is complete.
  const std::string key(o.at("verifier_key").as_string());
  BundleVerdict v = VerifyBundle(files["evidence.json"], key);
  INFO(v.problem);
  CHECK(v.ok);
  CHECK(v.complete);
  CHECK(files["verifier.vkey"] == key + "\n");
  // The reads behind it are recorded for the auditor; the temporary folder is gone.
  CHECK(s.StreamSize("access-staff-900") > exports_before);
  CHECK(temporary() == before);

  // The evidence roles only; a time is required; an unknown customer is not found.
  CHECK(s.Get("/v1/customers/1001/dispute?at=" + at, s.rep7).status == 403);
  CHECK(s.Get("/v1/customers/1001/dispute?at=" + at, s.manager3).status == 403);
  HttpReply no_time = s.Get("/v1/customers/1001/dispute", s.auditor);
  CHECK(no_time.status == 400);
  CHECK_THAT(no_time.body, Catch::Contains("query parameter at"));
  CHECK(s.Get("/v1/customers/9999/dispute?at=" + at, s.auditor).status == 404);
  CHECK(temporary() == before);
}

TEST_CASE("an auditor's token reads customers and disputes with every person sealed, while a rep's opens them",
          "[server][dispute][personal]") {
  ServedStore s;
  s.store.Add("customer-1001", "contact.added", "staff-7", R"({"contact_id":"con-77","role":"buyer"})",
              R"({"name":"Marta Quintela","email":"marta@quintela.example","phone":"+351 21 555 0177"})");
  s.WaitFolded(s.store.log->end().value());
  const std::string at = FormatRfc3339(SystemClock().Now());
  const std::vector<std::string> plain = {"Marta Quintela", "marta@quintela.example", "555 0177"};
  auto names_no_one = [&](const HttpReply& r) {
    INFO(r.body.substr(0, 400));
    REQUIRE(r.status == 200);
    for (const std::string& p : plain) CHECK(r.body.find(p) == std::string::npos);
  };
  const HttpReply customer = s.Get("/v1/customers/1001", s.auditor);
  names_no_one(customer);
  CHECK_THAT(customer.body, Catch::Contains("personal data is not opened for this role"));
  const HttpReply dispute = s.Get("/v1/customers/1001/dispute?at=" + at, s.auditor);
  names_no_one(dispute);
  CHECK_THAT(dispute.body, Catch::Contains("customer-1001/contact-con-77"));  // sealed for her
  // The same customer for the rep who serves it: her name is there, so the checks above could fail.
  const HttpReply rep = s.Get("/v1/customers/1001", s.rep7);
  REQUIRE(rep.status == 200);
  CHECK_THAT(rep.body, Catch::Contains("Marta Quintela"));
}

TEST_CASE("/metrics needs a token and counts requests by route pattern with no id in a label", "[server]") {
  ServedStore s;
  REQUIRE(s.Get("/metrics").status == 401);
  for (int i = 0; i < 3; ++i) REQUIRE(s.Get("/v1/streams/customer-1001", s.rep7).status == 200);
  REQUIRE(s.Get("/v1/staff/staff-7/portfolio", s.rep7).status == 200);
  REQUIRE(s.Get("/v1/streams/customer-2001", s.rep7).status == 403);
  REQUIRE(s.Get("/v1/customers/customer-1001/secret-plans", s.rep7).status == 404);
  REQUIRE(s.Post("/v1/streams/customer-1002/events", s.ingest, Interaction(NewId())).status == 201);
  HttpReply m = s.Get("/metrics", s.auditor);
  INFO(m.body);
  REQUIRE(m.status == 200);
  CHECK(m.Header("Content-Type").starts_with("text/plain"));
  CHECK(m.body.find("custodian_http_requests_total{route=\"/v1/streams/{stream}\",status=\"200\"} 3\n") !=
        std::string::npos);
  CHECK(m.body.find("custodian_http_requests_total{route=\"/v1/streams/{stream}\",status=\"403\"} 1\n") !=
        std::string::npos);
  CHECK(m.body.find("custodian_http_requests_total{route=\"/v1/staff/{staff}/portfolio\",status=\"200\"} 1\n") !=
        std::string::npos);
  CHECK(m.body.find("custodian_http_requests_total{route=\"/metrics\",status=\"401\"} 1\n") != std::string::npos);
  CHECK(m.body.find("custodian_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n") != std::string::npos);
  CHECK(m.body.find("custodian_http_appended_events_total 1\n") != std::string::npos);
  CHECK(m.body.find("custodian_http_requests_in_flight 1\n") != std::string::npos);  // this scrape
  CHECK(m.body.find("custodian_log_events ") != std::string::npos);
  for (const char* id : {"customer-", "staff-7", "secret-plans", "tok-"}) {
    INFO(id);
    CHECK(m.body.find(id) == std::string::npos);
  }
}

// --- connections ---

TEST_CASE("several requests share one keep-alive connection", "[server][connection]") {
  ServedStore s;
  HttpClient client(s.port());
  REQUIRE(client.connected());
  for (int i = 0; i < 5; ++i) {
    HttpReply r = i % 2 == 0 ? client.Send("GET", "/healthz")
                             : client.Send("POST", "/v1/streams/customer-1002/events", s.ingest, Interaction(NewId()));
    INFO(i << ": " << r.error << r.body);
    REQUIRE(r.status == (i % 2 == 0 ? 200 : 201));
    CHECK(r.keep_alive);
  }
  // An error answered by the API keeps the connection too.
  CHECK(client.Send("GET", "/v1/silent").status == 401);
  CHECK(client.Send("GET", "/healthz").status == 200);
  // The client may ask to close.
  HttpReply last = client.Send("GET", "/healthz", "", "", {{"Connection", "close"}});
  CHECK(last.status == 200);
  CHECK_FALSE(last.keep_alive);
  CHECK(client.ClosedByServer(std::chrono::seconds(5)));
}

TEST_CASE("a client that sends half a request and goes away writes nothing and the server carries on",
          "[server][malformed]") {
  ServedStore s;
  const size_t before = s.StreamSize("customer-1002");
  const std::string id = NewId();
  const std::string body = Interaction(id);
  {
    RawConnection raw(s.port());
    REQUIRE(raw.connected());
    REQUIRE(raw.Send("POST /v1/streams/customer-1002/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.ingest +
                     "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\n\r\n" + body.substr(0, body.size() / 2)));
    raw.Close();
  }
  {
    // Half of the headers, then gone.
    RawConnection raw(s.port());
    REQUIRE(raw.connected());
    REQUIRE(raw.Send("GET /v1/silent HTTP/1.1\r\nHost: x\r\nAuthor"));
    raw.Close();
  }
  CHECK(s.Healthy());
  CHECK(s.StreamSize("customer-1002") == before);
  CHECK_FALSE(StreamHasId(s, "customer-1002", id));
}

// Sends `request`, a HEAD the HTTP layer itself refuses: its answer is
// `status` with the header alone, Content-Length included (RFC 9110, 9.3.2),
// and the connection closes.
void CheckRefusedHeadHasHeaderAlone(uint16_t port, const std::string& request, int status) {
  RawConnection raw(port);
  REQUIRE(raw.connected());
  REQUIRE(raw.Send(request));
  bool closed = false;
  const std::string answer = raw.ReadUntilClosed(std::chrono::seconds(5), &closed);
  INFO(request.substr(0, 200) << "\n->\n" << answer);
  CHECK(StatusOf(answer) == status);
  CHECK(closed);
  CHECK_THAT(answer, Catch::Contains("Content-Length: "));
  CHECK(answer.ends_with("\r\n\r\n"));  // no body
}

TEST_CASE("a request whose framing RFC 9112 refuses gets 400 and the connection closes, so what follows it is never "
          "taken for a request",
          "[server][malformed]") {
  ServedStore s;
  const std::string smuggled = "GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.admin + "\r\n\r\n";
  const size_t events = s.store.log->end().value();
  struct Case {
    std::string request, why;
  };
  for (const Case& c : {
           Case{"POST /v1/cloudevents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.ingest +
                    "\r\nContent-Type: application/cloudevents+json\r\nTransfer-Encoding: gzip\r\n\r\n" + smuggled,
                "Transfer-Encoding whose last coding is not chunked"},
           Case{"POST /v1/cloudevents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.ingest +
                    "\r\nTransfer-Encoding: chunked, gzip\r\n\r\n" + smuggled,
                "Transfer-Encoding whose last coding is not chunked"},
           Case{"POST /v1/cloudevents HTTP/1.0\r\nConnection: keep-alive\r\nAuthorization: Bearer " + s.ingest +
                    "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
                "or in HTTP/1.0"},
           Case{"GET /v1/me HTTP/1.1\r\nAuthorization: Bearer " + s.admin + "\r\n\r\n" + smuggled, "one Host header"},
           Case{"GET /v1/me HTTP/1.1\r\nHost: x\r\nHost: y\r\nAuthorization: Bearer " + s.admin + "\r\n\r\n",
                "one Host header"},
           Case{"GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.rep7 + "\r\nAuthorization: Bearer " +
                    s.admin + "\r\n\r\n",
                "more than one Authorization header"},
       }) {
    RawConnection raw(s.port());
    REQUIRE(raw.connected());
    REQUIRE(raw.Send(c.request));
    bool closed = false;
    const std::string answer = raw.ReadUntilClosed(std::chrono::seconds(5), &closed);
    INFO(c.request << "\n->\n" << answer);
    CHECK(StatusOf(answer) == 400);
    CHECK_THAT(answer, Catch::Contains(c.why));
    CHECK(closed);
    CHECK(answer.find("HTTP/1.1 200") == std::string::npos);  // the smuggled request got no answer
  }
  CHECK(s.store.log->end().value() == events);
  // A HEAD refused here gets the header alone, as every HEAD (RFC 9110, 9.3.2).
  CheckRefusedHeadHasHeaderAlone(s.port(), "HEAD /v1/me HTTP/1.1\r\nAuthorization: Bearer " + s.admin + "\r\n\r\n",
                                 400);
  CheckRefusedHeadHasHeaderAlone(s.port(), "HEAD /v1/me HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
  // HTTP/1.0 needs no Host.
  RawConnection old(s.port());
  REQUIRE(old.Send("GET /healthz HTTP/1.0\r\n\r\n"));
  bool closed = false;
  CHECK_THAT(old.ReadUntilClosed(std::chrono::seconds(5), &closed), Catch::StartsWith("HTTP/1.0 200"));
  CHECK(s.Healthy());
}

TEST_CASE("headers larger than the limit get 431 and the server carries on", "[server][malformed]") {
  ServerOptions o = TestOptions();
  o.header_limit = 4 * 1024;
  ServedStore s(o);
  RawConnection raw(s.port());
  REQUIRE(raw.connected());
  raw.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(8 * 1024, 'a') + "\r\n\r\n");
  bool closed = false;
  const std::string answer = raw.ReadUntilClosed(std::chrono::seconds(5), &closed);
  INFO(answer);
  CHECK(StatusOf(answer) == 431);
  CHECK(closed);
  CHECK(Parse(BodyOf(answer)).at("error").at("code") == "headers_too_large");
  // A HEAD's gets the header alone.
  CheckRefusedHeadHasHeaderAlone(
      s.port(), "HEAD /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(8 * 1024, 'a') + "\r\n\r\n", 431);
  CHECK(s.Healthy());
}

TEST_CASE("a body larger than the limit gets 413, writes nothing, and the server carries on", "[server][malformed]") {
  ServerOptions o = TestOptions();
  o.body_limit = 1024;
  ServedStore s(o);
  const size_t before = s.StreamSize("customer-1002");
  SECTION("announced by Content-Length") {
    RawConnection raw(s.port());
    REQUIRE(raw.connected());
    raw.Send("POST /v1/streams/customer-1002/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.ingest +
             "\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n");
    bool closed = false;
    const std::string answer = raw.ReadUntilClosed(std::chrono::seconds(5), &closed);
    INFO(answer);
    CHECK(StatusOf(answer) == 413);
    CHECK(closed);
    CHECK(Parse(BodyOf(answer)).at("error").at("code") == "payload_too_large");
  }
  SECTION("a HEAD's, answered with the header alone") {
    CheckRefusedHeadHasHeaderAlone(s.port(), "HEAD /v1/me HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n", 413);
  }
  SECTION("sent in chunks") {
    RawConnection raw(s.port());
    REQUIRE(raw.connected());
    const std::string chunk(800, ' ');
    raw.Send("POST /v1/streams/customer-1002/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.ingest +
             "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n" + chunk + "\r\n320\r\n" +
             chunk + "\r\n0\r\n\r\n");
    bool closed = false;
    const std::string answer = raw.ReadUntilClosed(std::chrono::seconds(5), &closed);
    INFO(answer);
    CHECK(StatusOf(answer) == 413);
  }
  // Within the limit, the same route works.
  CHECK(s.Post("/v1/streams/customer-1002/events", s.ingest, Interaction(NewId())).status == 201);
  CHECK(s.StreamSize("customer-1002") == before + 1);
  CHECK(s.Healthy());
}

TEST_CASE("bytes that are not HTTP get 400 with a JSON error body and the server carries on", "[server][malformed]") {
  ServedStore s;
  const std::vector<std::string> garbage = {
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + "\r\n\r\n",  // a TLS hello on plain HTTP
      "HELLO\r\n\r\n",
      "GET /healthz HTTP/9.9\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nContent-Length: banana\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nBad Header Name: x\r\n\r\n",
  };
  for (const std::string& bytes : garbage) {
    INFO(bytes);
    RawConnection raw(s.port());
    REQUIRE(raw.connected());
    raw.Send(bytes);
    bool closed = false;
    const std::string answer = raw.ReadUntilClosed(std::chrono::seconds(5), &closed);
    INFO(answer);
    CHECK(StatusOf(answer) == 400);
    CHECK(closed);
    CHECK(Parse(BodyOf(answer)).at("error").at("code") == "bad_request");
  }
  // A well-formed request with a target that cannot be decoded is the API's 400.
  HttpReply bad_target = s.Get("/v1/streams/customer-1001%2", s.auditor);
  CHECK(bad_target.status == 400);
  CHECK(ErrorOf(bad_target).at("code") == "bad_request");
  // A stream name that is not UTF-8 gets an answer that is still JSON.
  HttpReply not_utf8 = s.Post("/v1/streams/customer-%FF/events", s.ingest, Interaction(NewId()));
  CHECK(not_utf8.status == 400);
  CHECK(MessageOf(not_utf8).find("customer-\xEF\xBF\xBD") != std::string::npos);
  HttpReply cut = s.Get("/v1/silent?days=%C3%A4%FF%C3", s.rep7);
  CHECK(cut.status == 400);
  CHECK(MessageOf(cut).find("\xC3\xA4\xEF\xBF\xBD\xEF\xBF\xBD") != std::string::npos);
  CHECK(s.Healthy());
}

TEST_CASE("a stream name decoded into a line break or a quote never reaches a header: the evidence bundle's file name "
          "is the stream's, which must be valid",
          "[server][malformed]") {
  ServedStore s;
  for (const std::string& target : {std::string("/v1/bundles/x%0d%0aSet-Cookie:%20pwn=1"),
                                    std::string("/v1/bundles/x%0aContent-Length:%200%0a%0aHELLO"),
                                    std::string("/v1/customers/customer-2001%0d%0a")}) {
    INFO(target);
    HttpReply r = s.Get(target, s.admin);
    CHECK(r.status == 400);
    CHECK(r.Header("Set-Cookie").empty());
    CHECK(r.Header("Content-Disposition").empty());
  }
  HttpReply quoted = s.Get("/v1/bundles/x%22.html", s.admin);
  CHECK(quoted.status == 400);
  CHECK(quoted.Header("Content-Disposition").empty());
  // A real stream's bundle is named after it, and like every answer of the
  // API it may not be sniffed, framed or run as a page.
  REQUIRE(s.Post("/v1/checkpoints", s.admin, "").status == 201);
  HttpReply bundle = s.Get("/v1/bundles/customer-2001", s.auditor);
  INFO(bundle.body);
  REQUIRE(bundle.status == 200);
  CHECK(bundle.Header("Content-Disposition") == "attachment; filename=\"evidence-customer-2001.json\"");
  for (const HttpReply* r : {&bundle, &quoted}) {
    CHECK(r->Header("X-Content-Type-Options") == "nosniff");
    CHECK(r->Header("Content-Security-Policy").find("default-src 'none'") != std::string::npos);
    CHECK(r->Header("Content-Security-Policy").find("sandbox") != std::string::npos);
  }
  CHECK(s.Healthy());
}

TEST_CASE("an answer whose header value holds a line break or NUL is never sent as it is", "[server][malformed]") {
  http::Response r;
  r.headers = {{"Cache-Control", "no-store"}, {"Content-Disposition", "attachment; filename=\"a.json\""}};
  CHECK(http::UnsafeHeader(r).empty());
  for (const std::string& bad : {std::string("x\r\nSet-Cookie: a=1"), std::string("x\ny"), std::string("x\0y", 3)}) {
    r.headers.back().second = bad;
    CHECK(http::UnsafeHeader(r) == "Content-Disposition");
  }
}

TEST_CASE("a client that sends nothing is disconnected after the read timeout", "[server][malformed]") {
  ServerOptions o = TestOptions();
  o.read_timeout = std::chrono::milliseconds(200);
  ServedStore s(o);
  RawConnection silent(s.port());
  RawConnection slow(s.port());
  REQUIRE(silent.connected());
  REQUIRE(slow.connected());
  REQUIRE(slow.Send("GET /healthz HTTP/1.1\r\nHo"));  // then nothing more
  const auto started = std::chrono::steady_clock::now();
  bool closed = false;
  silent.ReadUntilClosed(std::chrono::seconds(5), &closed);
  CHECK(closed);
  slow.ReadUntilClosed(std::chrono::seconds(5), &closed);
  CHECK(closed);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));
  CHECK(s.Healthy());
}

TEST_CASE("connections beyond the limit are closed at once and the next one is accepted when one ends",
          "[server][connection]") {
  ServerOptions o = TestOptions();
  o.max_connections = 2;
  ServedStore s(o);
  auto first = std::make_unique<HttpClient>(s.port());
  HttpClient second(s.port());
  REQUIRE(first->Send("GET", "/healthz").status == 200);
  REQUIRE(second.Send("GET", "/healthz").status == 200);
  HttpClient third(s.port());
  CHECK(third.Send("GET", "/healthz").status == 0);
  first.reset();
  // The server notices the first one went; then a new client gets in.
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (Fetch(s.port(), "GET", "/healthz").status != 200) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(second.Send("GET", "/healthz").status == 200);
}

// --- stopping ---

TEST_CASE("a graceful stop answers the request in flight, refuses new connections and closes the store cleanly",
          "[server][stop]") {
  ServedStore s;
  HttpClient idle(s.port());
  REQUIRE(idle.Send("GET", "/healthz").status == 200);

  // Hold the projections back, so that a read asking for the next write
  // waits in the server until they are let go.
  std::optional<std::unique_lock<std::recursive_mutex>> folding(ProjectionLock());
  HttpReply w = s.Post("/v1/streams/customer-1002/events", s.ingest, Interaction(NewId()));
  REQUIRE(w.status == 201);
  const uint64_t position = Numbers(Parse(w.body).at("positions")).at(0);
  std::future<HttpReply> in_flight = std::async(std::launch::async, [&] {
    return s.Get("/v1/staff/staff-7/portfolio?min_position=" + std::to_string(position), s.rep7);
  });
  // Wait until the server is handling it (this scrape is the other one in flight).
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (s.Get("/metrics", s.auditor).body.find("custodian_http_requests_in_flight 2\n") == std::string::npos) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  std::thread stopper([&] { s.server->Stop(); });
  // New connections are refused, and the idle one is closed.
  while (CanConnect(s.port())) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(idle.ClosedByServer(std::chrono::seconds(5)));
  CHECK(in_flight.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);

  folding.reset();  // the follower folds; the waiting read is answered
  HttpReply answered = in_flight.get();
  INFO(answered.error << answered.body);
  CHECK(answered.status == 200);
  CHECK_FALSE(answered.keep_alive);
  stopper.join();
  s.server->Wait();
  CHECK_FALSE(CanConnect(s.port()));

  // The store closes cleanly and opens again with the write in it.
  const std::string dir = s.store.options.data_dir;
  s.server.reset();
  s.api.reset();
  s.store.log.reset();
  Result<std::unique_ptr<EventLog>> reopened = OpenStore(s.store.options, EventLogOptions::Mode::kReadWrite);
  INFO(reopened.status().ToString());
  REQUIRE(reopened.ok());
  CHECK((*reopened)->end().value() > position);
}

TEST_CASE("a store that cannot answer gets 500 without its details, which go to the server's log, and the server "
          "carries on",
          "[server][malformed]") {
  ServedStore s;
  const Event registered = s.store.Stream("customer-2001").front();
  // Someone with the files spoils one record behind the server's back.
  s.server->Stop();
  s.server.reset();
  s.api.reset();
  s.store.log.reset();
  {
    testing::RawStore raw(s.store.options.data_dir);
    const std::string record = raw.Get(keys::kEventsFamily, keys::EventKey(registered.position));
    raw.Put(keys::kEventsFamily, keys::EventKey(registered.position), record.substr(0, record.size() / 2));
  }
  Result<std::unique_ptr<EventLog>> reopened = OpenStore(s.store.options, EventLogOptions::Mode::kReadWrite);
  INFO(reopened.status().ToString());
  REQUIRE(reopened.ok());
  s.store.log = std::move(*reopened);
  std::mutex warnings_mu;
  std::vector<std::string> warnings;
  SetWarningSink([&](std::string_view w) {
    std::lock_guard lk(warnings_mu);
    warnings.emplace_back(w);
  });
  s.api = std::make_unique<Api>(*s.store.log);
  Result<std::unique_ptr<Server>> started = Server::Start(*s.api, TestOptions());
  INFO(started.status().ToString());
  REQUIRE(started.ok());
  s.server = std::move(*started);

  HttpReply r = s.Get("/v1/streams/customer-2001", s.admin);
  SetWarningSink(nullptr);
  INFO(r.body);
  CHECK(r.status == 500);
  const json::object error = Parse(r.body).at("error").as_object();
  const std::string message(error.at("message").as_string());
  CHECK(message == "corruption: the store could not answer; see the server's log");
  CHECK(message.find(s.store.options.data_dir) == std::string::npos);
  // The log says what the answer did not: which record failed and how.
  std::lock_guard lk(warnings_mu);
  const std::string position = std::to_string(registered.position.value());
  const auto said = std::find_if(warnings.begin(), warnings.end(), [&](const std::string& w) {
    return w.starts_with("answered 500: corruption: event at position " + position);
  });
  INFO(Catch::Detail::stringify(warnings));
  CHECK(said != warnings.end());
  CHECK(s.Healthy());
}

}  // namespace
// The positions of the SSE frames in `text` ("id: <position>" lines), in order.
std::vector<uint64_t> FrameIds(const std::string& text) {
  std::vector<uint64_t> ids;
  for (size_t at = text.find("\nid: "); at != std::string::npos; at = text.find("\nid: ", at + 1)) {
    ids.push_back(std::stoull(text.substr(at + 5)));
  }
  return ids;
}

std::string SubscribeRequest(const std::string& target, const std::string& token, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " + token + "\r\n" + extra + "\r\n";
}

TEST_CASE("a subscription sends a stream's events from a position, then new ones live, resumes after Last-Event-ID "
          "with no gap or duplicate, records the reads, and ends with a graceful stop",
          "[server][sse]") {
  ServedStore s;
  const std::vector<Event> before = s.store.Stream("customer-2001");
  REQUIRE(before.size() == 2);
  // (RawConnection's read ends the connection when its deadline passes:
  // each connection is read once, after what it should see.)
  RawConnection live(s.port());
  REQUIRE(live.Send(SubscribeRequest("/v1/subscribe?stream=customer-2001&from=0", s.auditor)));
  // Live: an append made after the subscription reaches the subscriber too.
  HttpReply appended = s.Post("/v1/streams/customer-2001/events", s.admin,
                              R"({"id":"7a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b","stream":"customer-2001",)"
                              R"("type":"note.added","actor":"staff-20","occurred_at":"2026-02-01T10:00:00Z",)"
                              R"("data":{"text":"live note"}})");
  REQUIRE(appended.status == 201);
  const uint64_t position = Parse(appended.body).at("positions").as_array().at(0).to_number<uint64_t>();
  bool closed = false;
  const std::string got = live.ReadUntilClosed(std::chrono::milliseconds(1000), &closed);
  CHECK_FALSE(closed);
  CHECK(StatusOf(got) == 200);
  CHECK_THAT(got, Catch::Contains("Content-Type: text/event-stream"));
  CHECK_THAT(got, Catch::Contains("event: customer.registered"));
  CHECK_THAT(got, Catch::Contains("live note"));
  const std::vector<uint64_t> ids = FrameIds(got);
  INFO(got);
  REQUIRE(ids.size() == 3);
  CHECK(ids == std::vector<uint64_t>{before[0].position.value(), before[1].position.value(), position});

  // Resumed after the second event: the third comes, once, and nothing before it.
  RawConnection resumed(s.port());
  REQUIRE(resumed.Send(SubscribeRequest("/v1/subscribe?stream=customer-2001&from=0", s.auditor,
                                        "Last-Event-ID: " + std::to_string(ids[1]) + "\r\n")));
  const std::string again = resumed.ReadUntilClosed(std::chrono::milliseconds(400), &closed);
  CHECK(FrameIds(again) == std::vector<uint64_t>{position});

  // Whoever may not read the customer (a rep of another team) gets no subscription to it.
  RawConnection refused(s.port());
  REQUIRE(refused.Send(SubscribeRequest("/v1/subscribe?stream=customer-2001", s.rep7)));
  const std::string answer = refused.ReadUntilClosed(std::chrono::milliseconds(2000), &closed);
  CHECK(StatusOf(answer) == 403);
  CHECK(answer.find("live note") == std::string::npos);
  RawConnection everything(s.port());
  REQUIRE(everything.Send(SubscribeRequest("/v1/subscribe?from=0", s.rep20)));
  CHECK(StatusOf(everything.ReadUntilClosed(std::chrono::milliseconds(2000), &closed)) == 403);

  // Each batch sent was a recorded read of the customer, for the auditor.
  size_t recorded = 0;
  for (const Event& e : s.store.Stream("access-staff-900")) {
    if (e.data.find("\"subscription\"") != std::string::npos && e.data.find("customer-2001") != std::string::npos) {
      ++recorded;
    }
  }
  CHECK(recorded >= 2);

  // A token revoked while it subscribes ends its subscription at the next batch.
  NewToken brief = s.Token("auditor", "staff-900");
  RawConnection revoked(s.port());
  REQUIRE(revoked.Send(SubscribeRequest("/v1/subscribe?stream=customer-2001", brief.token)));
  REQUIRE(RevokeToken(*s.store.log, brief.info.token_id, "staff-1", "audit over", s.store.now).ok());
  REQUIRE(s.Post("/v1/streams/customer-2001/events", s.admin,
                 R"({"id":"8b2d3f4a-5c6e-4f7a-9b8c-1d2e3f4a5b6c","stream":"customer-2001",)"
                 R"("type":"note.added","actor":"staff-20","occurred_at":"2026-02-02T10:00:00Z",)"
                 R"("data":{"text":"after revocation"}})")
              .status == 201);
  const std::string cut = revoked.ReadUntilClosed(std::chrono::milliseconds(3000), &closed);
  CHECK(closed);
  // (Ended by an error frame, or refused outright if the revocation came first.)
  CHECK((cut.find("event: error") != std::string::npos || StatusOf(cut) == 401));
  CHECK(cut.find("after revocation") == std::string::npos);

  // A graceful stop ends the stream.
  RawConnection stopping(s.port());
  REQUIRE(stopping.Send(SubscribeRequest("/v1/subscribe?stream=customer-2001", s.auditor)));
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    s.server->Stop();
  });
  const std::string last = stopping.ReadUntilClosed(std::chrono::milliseconds(5000), &closed);
  stopper.join();
  CHECK(StatusOf(last) == 200);
  CHECK(closed);
}

TEST_CASE("an admin makes and revokes tokens over HTTP while the server holds the store, and a revoked one stops at "
          "once",
          "[server][tokens]") {
  ServedStore s;
  CHECK(s.Post("/v1/tokens", s.auditor, R"({"role":"rep","name":"x","staff":"staff-20"})").status == 403);
  HttpReply made = s.Post("/v1/tokens", s.admin, R"({"role":"rep","name":"field laptop","staff":"staff-20"})");
  INFO(made.body);
  REQUIRE(made.status == 201);
  const json::object t = Parse(made.body);
  const std::string token(t.at("token").as_string());
  const std::string id(t.at("token_id").as_string());
  CHECK(s.Get("/v1/customers/customer-2001", token).status == 200);
  // Only the hash is kept: the listing never shows the secret.
  const std::string secret = token.substr(token.find('.') + 1);
  CHECK(s.Get("/v1/tokens", s.admin).body.find(secret) == std::string::npos);
  CHECK(s.Post("/v1/tokens", s.admin, R"({"role":"superuser","name":"x"})").status == 400);
  CHECK(s.Post("/v1/tokens/" + id + "/revoke", s.rep20, R"({})").status == 403);
  HttpReply revoked = s.Post("/v1/tokens/" + id + "/revoke", s.admin, R"({"reason":"laptop lost"})");
  REQUIRE(revoked.status == 200);
  CHECK(s.Get("/v1/customers/customer-2001", token).status == 401);
  CHECK(s.Post("/v1/tokens/" + id + "/revoke", s.admin, R"({})").status == 422);
  CHECK(s.Post("/v1/tokens/tok-ffffffffffffffff/revoke", s.admin, R"({})").status == 404);
}

TEST_CASE("an ingest token cannot touch anyone's access records, the tokens or the alerts, even claiming to be them",
          "[server]") {
  ServedStore s;
  const size_t before = s.StreamSize("access-staff-20"), alerts = s.StreamSize("alerts");
  for (const std::string& stream : {std::string("access-staff-20"), std::string("alerts"), std::string("tokens")}) {
    INFO(stream);
    HttpReply r = s.Post("/v1/streams/" + stream + "/events", s.ingest,
                         R"({"id":"9c3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f60","stream":")" + stream +
                             R"(","type":"note.added","actor":"staff-20","occurred_at":"2026-02-01T10:00:00Z",)"
                             R"("data":{"text":"x"}})");
    CHECK(r.status == 403);
  }
  HttpReply ce = s.Post("/v1/cloudevents", s.ingest,
                        R"({"specversion":"1.0","id":"r1","source":"/crm","type":"note.added",)"
                        R"("subject":"access-staff-20","time":"2026-02-01T10:00:00Z","actor":"staff-20",)"
                        R"("data":{"text":"x"}})",
                        {{"Content-Type", "application/cloudevents+json"}});
  CHECK((ce.status == 403 || ce.status == 400));
  // A retraction of someone's read, the way to hide an export, is refused outright.
  HttpReply retract = s.Post("/v1/streams/access-staff-20/events", s.ingest,
                             R"({"id":"0d4f5a6b-7c8d-4e9f-8a1b-2c3d4e5f6a70","stream":"access-staff-20",)"
                             R"("type":"event.retracted","actor":"staff-20","occurred_at":"2026-02-01T10:00:00Z",)"
                             R"("data":{"event_id":"9c3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f60","reason":"x"}})");
  CHECK(retract.status == 403);
  CHECK(s.StreamSize("access-staff-20") == before);
  CHECK(s.StreamSize("alerts") == alerts);
}

TEST_CASE("an ingest token may not give roles: role changes, principals and privileged staff need an admin token",
          "[server]") {
  ServedStore s;
  auto event = [](const std::string& id, const std::string& stream, const std::string& type, const std::string& data) {
    return R"({"id":")" + id + R"(","stream":")" + stream + R"(","type":")" + type +
           R"(","actor":"system:hr-sync","occurred_at":"2026-02-01T10:00:00Z","data":)" + data + "}";
  };
  const size_t staff77 = s.StreamSize("staff-77");
  // Making someone admin, or a data protection officer, by the CRM's token: refused, nothing written.
  HttpReply admin = s.Post("/v1/streams/staff-77/events", s.ingest,
                           event("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c01", "staff-77", "staff.joined", R"({"role":"admin"})"));
  CHECK(admin.status == 403);
  CHECK(admin.body.find("carries a duty") != std::string::npos);
  HttpReply dpo = s.Post("/v1/streams/staff-20/events", s.ingest,
                         event("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c02", "staff-20", "staff.role_changed",
                               R"({"role":"data_protection_officer"})"));
  CHECK(dpo.status == 403);
  CHECK(dpo.body.find("gives a role") != std::string::npos);
  HttpReply ce = s.Post("/v1/cloudevents", s.ingest,
                        R"({"specversion":"1.0","id":"r9","source":"/hr","type":"staff.role_changed",)"
                        R"("subject":"staff-20","time":"2026-02-01T10:00:00Z","actor":"system:hr-sync",)"
                        R"("data":{"role":"admin"}})",
                        {{"Content-Type", "application/cloudevents+json"}});
  CHECK(ce.status == 403);
  CHECK(ce.body.find("staff.role_changed gives a role") != std::string::npos);
  CHECK(ce.body.find("event 1") == std::string::npos);  // one event needs no number
  // In a batch, the event at fault is named by its place, and nothing of the batch is written.
  HttpReply batch = s.Post("/v1/cloudevents", s.ingest,
                           R"([{"specversion":"1.0","id":"r10","source":"/hr","type":"staff.joined",)"
                           R"("subject":"staff-78","time":"2026-02-01T10:00:00Z","actor":"system:hr-sync",)"
                           R"("data":{"role":"account_executive","team":"north"}},)"
                           R"({"specversion":"1.0","id":"r11","source":"/hr","type":"staff.role_changed",)"
                           R"("subject":"staff-20","time":"2026-02-01T10:00:00Z","actor":"system:hr-sync",)"
                           R"("data":{"role":"admin"}}])",
                           {{"Content-Type", "application/cloudevents-batch+json"}});
  CHECK(batch.status == 403);
  CHECK(batch.body.find("event 2: staff.role_changed gives a role") != std::string::npos);
  HttpReply batch_of_one = s.Post("/v1/cloudevents", s.ingest,
                                  R"([{"specversion":"1.0","id":"r12","source":"/hr","type":"staff.role_changed",)"
                                  R"("subject":"staff-20","time":"2026-02-01T10:00:00Z","actor":"system:hr-sync",)"
                                  R"("data":{"role":"admin"}}])",
                                  {{"Content-Type", "application/cloudevents-batch+json"}});
  CHECK(batch_of_one.status == 403);
  CHECK(batch_of_one.body.find("event 1: staff.role_changed gives a role") != std::string::npos);
  CHECK(s.StreamSize("staff-78") == 0);
  CHECK(s.StreamSize("staff-77") == staff77);
  // An ordinary member of staff joins through the CRM's token; an admin token may give any role.
  HttpReply rep = s.Post("/v1/streams/staff-77/events", s.ingest,
                         event("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c03", "staff-77", "staff.joined",
                               R"({"role":"account_executive","team":"north"})"));
  INFO(rep.body);
  CHECK(rep.status == 201);
  HttpReply promoted = s.Post("/v1/streams/staff-77/events", s.admin,
                              event("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c04", "staff-77", "staff.role_changed",
                                    R"({"role":"head_of_sales"})"));
  INFO(promoted.body);
  CHECK(promoted.status == 201);

  // Nor by fixing a staff record: staff-77's staff.joined corrected to a duty role, or its role change
  // retracted, by the CRM's token, over either route. Refused, nothing written; an admin token may.
  const std::string joined = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c03";  // its staff.joined above
  const size_t before = s.StreamSize("staff-77");
  HttpReply corrected = s.Post("/v1/streams/staff-77/events", s.ingest,
                               event("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c05", "staff-77", "event.corrected",
                                     R"({"event_id":")" + joined + R"(","reason":"x","corrected":{"role":"head_of_sales"}})"));
  CHECK(corrected.status == 403);
  CHECK_THAT(corrected.body, Catch::Contains("an ingest token fixes customers' records only"));
  HttpReply ce_fix = s.Post("/v1/cloudevents", s.ingest,
                            R"({"specversion":"1.0","id":"r13","source":"/hr","type":"event.retracted",)"
                            R"("subject":"staff-77","time":"2026-02-01T10:00:00Z","actor":"system:hr-sync",)"
                            R"("data":{"event_id":")" + joined + R"(","reason":"x"}})",
                            {{"Content-Type", "application/cloudevents+json"}});
  CHECK(ce_fix.status == 403);
  CHECK(s.StreamSize("staff-77") == before);
  HttpReply by_admin = s.Post("/v1/streams/staff-77/events", s.admin,
                              event("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c06", "staff-77", "event.corrected",
                                    R"({"event_id":")" + joined + R"(","reason":"the team was wrong","corrected":{"team":"south"}})"));
  INFO(by_admin.body);
  CHECK(by_admin.status == 201);

  // Nor may it end, announce or restart the employment of someone whose role carries a duty, or of a
  // registered principal: a CRM could lock every admin out (a departed admin's token stops working).
  const struct {
    const char* stream;
    const char* type;
    const char* data;
    const char* says;
  } lifecycle[] = {
      {"staff-1", "staff.departed", "{}", "whose role admin carries a duty"},
      {"staff-1", "staff.departure_announced", R"({"effective_at":"2026-03-01T00:00:00Z"})", "carries a duty"},
      {"staff-77", "staff.departed", "{}", "whose role head_of_sales carries a duty"},
      {"staff-900", "staff.departed", "{}", "a registered principal"},
  };
  int n = 10;
  for (const auto& c : lifecycle) {
    INFO(c.stream << " " << c.type);
    const size_t size = s.StreamSize(c.stream);
    HttpReply r = s.Post(std::string("/v1/streams/") + c.stream + "/events", s.ingest,
                         event("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c" + std::to_string(n++), c.stream, c.type, c.data));
    CHECK(r.status == 403);
    CHECK_THAT(r.body, Catch::Contains(c.says) && Catch::Contains("an admin token may"));
    CHECK(s.StreamSize(c.stream) == size);
  }
  CHECK(s.Get("/v1/me", s.admin).status == 200);
  // An ordinary member of staff's departure still comes from the CRM's token.
  HttpReply rep_leaves = s.Post("/v1/streams/staff-21/events", s.ingest,
                                event("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c20", "staff-21", "staff.departure_announced",
                                      R"({"effective_at":"2026-03-01T00:00:00Z"})"));
  INFO(rep_leaves.body);
  CHECK(rep_leaves.status == 201);

  // No token fixes its own holder's staff record (the actor is the client's
  // word), and a leaving holder's token fixes none: a leaver would withdraw
  // the announcement and have back what it took. (The log's rule 'fix' holds
  // the same at the writer from recorded_by: tests/core/rules_test.cc.)
  HttpReply announced = s.Post("/v1/streams/staff-1/events", s.admin,
                               event("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c30", "staff-1", "staff.departure_announced",
                                     R"({"effective_at":"2026-06-01T00:00:00Z"})"));
  INFO(announced.body);
  REQUIRE(announced.status == 201);
  const size_t staff1 = s.StreamSize("staff-1");
  HttpReply own = s.Post("/v1/streams/staff-1/events", s.admin,
                         event("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c31", "staff-1", "event.retracted",
                               R"({"event_id":"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c30","reason":"changed my mind"})"));
  CHECK(own.status == 403);
  CHECK_THAT(own.body, Catch::Contains("may not fix their own staff record"));
  CHECK(s.StreamSize("staff-1") == staff1);
  const size_t staff21 = s.StreamSize("staff-21");
  HttpReply others = s.Post("/v1/streams/staff-21/events", s.admin,
                            event("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c32", "staff-21", "event.retracted",
                                  R"({"event_id":"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c20","reason":"x"})"));
  CHECK(others.status == 403);
  CHECK_THAT(others.body, Catch::Contains("announced their departure and may not fix staff records"));
  CHECK(s.StreamSize("staff-21") == staff21);
}

TEST_CASE("a manager plans, carries out and reads the handovers of the staff they oversee, and nobody else's",
          "[server][handover]") {
  ServedStore s;
  // staff-20 is in team south, which staff-3 (north's manager) does not oversee.
  const size_t system = s.StreamSize("system");
  HttpReply theirs = s.Post("/v1/handovers", s.manager3, R"({"from":"staff-20","to":"staff-21"})");
  INFO(theirs.body);
  CHECK(theirs.status == 403);
  CHECK(s.StreamSize("system") == system);  // no plan recorded
  // An admin plans it; the manager may neither carry it out nor read its report.
  HttpReply planned = s.Post("/v1/handovers", s.admin, R"({"from":"staff-20","to":"staff-21"})");
  INFO(planned.body);
  REQUIRE(planned.status == 201);
  const std::string id(Parse(planned.body).at("handover_id").as_string());
  CHECK(s.Post("/v1/handovers/" + id + "/execute", s.manager3, "").status == 403);
  CHECK(s.Get("/v1/handovers/" + id + "/report", s.manager3).status == 403);
  CHECK(s.Get("/v1/customers/customer-2001", s.manager3).status == 403);  // still not theirs
  // The successor, a rep, reads their own briefing of customers they serve (staff-21 is of
  // staff-20's team), and no one else's part of it.
  HttpReply done = s.Post("/v1/handovers/" + id + "/execute", s.admin, "");
  INFO(done.body);
  CHECK(done.status == 200);
  HttpReply briefing = s.Get("/v1/handovers/" + id + "/report", s.rep21);
  INFO(briefing.body);
  CHECK(briefing.status == 200);
  CHECK_THAT(briefing.body, Catch::Contains("customer-2001"));
  CHECK(s.Get("/v1/handovers/" + id + "/report?for=staff-20", s.rep21).status == 403);
  CHECK(s.Get("/v1/handovers/" + id + "/report", s.rep7).status == 404);  // gives staff-7 nothing
  // A successor of another team does not read customers they do not serve yet (the plan not
  // carried out).
  HttpReply onward = s.Post("/v1/handovers", s.admin, R"({"from":"staff-21","to":"staff-7"})");
  INFO(onward.body);
  REQUIRE(onward.status == 201);
  const std::string onward_id(Parse(onward.body).at("handover_id").as_string());
  CHECK(s.Get("/v1/handovers/" + onward_id + "/report", s.rep7).status == 403);
  CHECK(s.Get("/v1/handovers/" + onward_id + "/report", s.admin).status == 200);
  // staff-7 is in north: the manager's own.
  HttpReply own = s.Post("/v1/handovers", s.manager3, R"({"from":"staff-7","to":"staff-3"})");
  INFO(own.body);
  CHECK(own.status == 201);
  const std::string own_id(Parse(own.body).at("handover_id").as_string());
  CHECK(s.Get("/v1/handovers/" + own_id + "/report", s.manager3).status == 200);
}

// --- what the web UI needs: who am I, finding people, its own files ---

TEST_CASE("GET /v1/me says which token, role and member of staff the caller is, for every role", "[server][web]") {
  ServedStore s;
  struct Case {
    std::string token, role, staff, personal;
  };
  for (const Case& c : {Case{s.admin, "admin", "staff-1", "open"}, Case{s.rep20, "rep", "staff-20", "open"},
                        Case{s.manager3, "manager", "staff-3", "open"}, Case{s.auditor, "auditor", "staff-900", "sealed"}}) {
    HttpReply r = s.Get("/v1/me", c.token);
    INFO(c.role << ": " << r.body);
    REQUIRE(r.status == 200);
    json::object me = Parse(r.body);
    CHECK(me.at("role").as_string() == c.role);
    CHECK(me.at("staff").as_string() == c.staff);
    CHECK(me.at("personal_data").as_string() == c.personal);
    CHECK(me.at("token_id").as_string().starts_with("tok-"));
    CHECK(r.body.find(c.token.substr(c.token.find('.') + 1)) == std::string::npos);  // never the secret
  }
  json::object ingest = Parse(s.Get("/v1/me", s.ingest).body);
  CHECK(ingest.at("role").as_string() == "ingest");
  CHECK(ingest.at("staff").is_null());
  CHECK(s.Get("/v1/me").status == 401);
  CHECK(s.Get("/v1/me", "tok-0000000000000000.nope").status == 401);
}

TEST_CASE("GET /v1/pipeline sums the open deals by stage, exactly, for the staff the caller oversees, and records the read",
          "[server][web]") {
  ServedStore s;
  s.store.Add("customer-2001", "deal.opened", "staff-20",
              R"({"deal_id":"deal-1","title":"Roof","value":84000,"currency":"EUR","stage":"qualification","probability":20})");
  s.store.Add("customer-2001", "deal.opened", "staff-20",
              R"({"deal_id":"deal-2","title":"Walls","value":1176.49,"currency":"EUR","stage":"qualification","probability":30})");
  s.store.Add("customer-2001", "deal.opened", "staff-20",
              R"({"deal_id":"deal-3","title":"Cellar","value":999.99,"currency":"CHF","stage":"proposal","probability":60})");
  s.store.Add("customer-2001", "deal.opened", "staff-20",
              R"({"deal_id":"deal-4","title":"Lost one","value":5,"currency":"EUR","stage":"proposal"})");
  s.store.Add("customer-2001", "deal.lost", "staff-20", R"({"deal_id":"deal-4"})");
  s.WaitFolded(s.store.log->end().value());

  auto stages = [&](const std::string& token) {
    HttpReply r = s.Get("/v1/pipeline", token);
    INFO(r.body);
    REQUIRE(r.status == 200);
    std::map<std::string, json::object> by_stage;
    const json::object answer = Parse(r.body);
    for (const json::value& st : answer.at("stages").as_array()) {
      by_stage[std::string(st.at("stage").as_string())] = st.as_object();
    }
    return by_stage;
  };
  const size_t rep_reads = s.StreamSize("access-staff-20");
  std::map<std::string, json::object> rep = stages(s.rep20);
  REQUIRE(rep.count("qualification") == 1);
  CHECK(rep["qualification"].at("deals").to_number<uint64_t>() == 2);
  CHECK(rep["qualification"].at("value").at("EUR").as_string() == "85176.49");  // exact, not 85176.48999
  CHECK(rep["qualification"].at("mean_probability").to_number<int64_t>() == 25);
  REQUIRE(rep.count("proposal") == 1);
  CHECK(rep["proposal"].at("deals").to_number<uint64_t>() == 1);  // the lost deal is not open
  CHECK(rep["proposal"].at("value").at("CHF").as_string() == "999.99");
  CHECK_FALSE(rep["proposal"].at("value").as_object().contains("EUR"));
  // The funnel's order: the lower mean probability first.
  CHECK(Parse(s.Get("/v1/pipeline", s.rep20).body).at("stages").as_array()[0].at("stage").as_string() ==
        "qualification");
  REQUIRE(s.StreamSize("access-staff-20") > rep_reads);
  const Event read = s.store.Stream("access-staff-20").back();
  CHECK_THAT(read.data, Catch::Contains("\"view\":\"pipeline\""));
  CHECK_THAT(read.data, Catch::Contains("customer-2001"));

  // staff-7 oversees only themselves: staff-20's deals are not theirs to see.
  std::map<std::string, json::object> other = stages(s.rep7);
  CHECK((other.count("qualification") == 0 ||
         other["qualification"].at("value").at("EUR").as_string() != "85176.49"));
  CHECK_FALSE((other.count("proposal") == 1 && other["proposal"].at("value").as_object().contains("CHF")));
  // Nor is customer-2001 among the customers recorded as read for them.
  bool recorded = false;
  for (const Event& e : s.store.Stream("access-staff-7")) {
    if (e.data.find("\"view\":\"pipeline\"") == std::string::npos) continue;
    recorded = true;
    CHECK(e.data.find("customer-2001") == std::string::npos);
  }
  CHECK(recorded);
  // An admin sees the company; ?team= keeps one team.
  CHECK(stages(s.admin).count("proposal") == 1);
  CHECK(stages(s.admin).at("proposal").at("value").at("CHF").as_string() == "999.99");
  HttpReply south = s.Get("/v1/pipeline?team=south", s.admin);
  CHECK(Parse(south.body).at("customers").to_number<uint64_t>() == 1);
  CHECK(Parse(s.Get("/v1/pipeline?team=nowhere", s.admin).body).at("stages").as_array().empty());
  CHECK(s.Get("/v1/pipeline", s.ingest).status == 403);
  CHECK(s.Get("/v1/pipeline").status == 401);
  // Who am I: a rep's team comes with it.
  CHECK(Parse(s.Get("/v1/me", s.rep20).body).at("team").as_string() == "south");
  CHECK(Parse(s.Get("/v1/me", s.ingest).body).at("team").is_null());
}

TEST_CASE("GET /v1/customers finds customers by any word of their id or name, of those the caller serves",
          "[server][web]") {
  ServedStore s;
  auto ids = [&](const std::string& target, const std::string& token) {
    HttpReply r = s.Get(target, token);
    INFO(target << ": " << r.body);
    REQUIRE(r.status == 200);
    std::vector<std::string> out;
    const json::object answer = Parse(r.body);
    for (const json::value& c : answer.at("customers").as_array()) out.emplace_back(c.at("id").as_string());
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(ids("/v1/customers?q=sud", s.admin) == V{"customer-2001"});
  CHECK(ids("/v1/customers?q=BAU%20sud", s.admin) == V{"customer-2001"});  // every word, any order and case
  CHECK(ids("/v1/customers?q=2001", s.admin) == V{"customer-2001"});
  CHECK(ids("/v1/customers?q=sud%20nowhere", s.admin).empty());
  HttpReply one = s.Get("/v1/customers?q=sud", s.admin);
  const json::object first = Parse(one.body).at("customers").as_array()[0].as_object();
  CHECK(first.at("name").as_string() == "Sud Bau GmbH");
  CHECK(first.at("owner").as_string() == "staff-20");

  // staff-20 serves it, staff-7 does not: for them it does not exist.
  const size_t rep_reads = s.StreamSize("access-staff-20");
  CHECK(ids("/v1/customers?q=sud", s.rep20) == V{"customer-2001"});
  REQUIRE(s.StreamSize("access-staff-20") == rep_reads + 1);
  CHECK_THAT(s.store.Stream("access-staff-20").back().data, Catch::Contains("\"view\":\"customer_search\""));
  CHECK(ids("/v1/customers?q=sud", s.rep7).empty());
  CHECK(ids("/v1/customers?q=customer", s.rep20) == V{"customer-2001"});

  CHECK_THAT(MessageOf(s.Get("/v1/customers", s.admin)), Catch::Contains("a customer's id or a word of its name"));
  CHECK(s.Get("/v1/customers?q=%20%20", s.admin).status == 400);
  CHECK(s.Get("/v1/customers?q=sud", s.ingest).status == 403);
}

TEST_CASE("GET /v1/people finds people through the blind index, cut to the customers a rep serves, and records the read",
          "[server][web][personal]") {
  ServedStore s;
  s.store.Add("customer-2001", "contact.added", "staff-20", R"({"contact_id":"con-88","role":"owner"})",
              R"({"name":"Lena Sud","email":"lena@sudbau.example","phone":"+43 1 555 0188"})");
  s.WaitFolded(s.store.log->end().value());
  const size_t admin_reads = s.StreamSize("access-staff-1");

  // An admin finds Jonas Albers (customer-1002, the sample company) by his e-mail in any case.
  HttpReply r = s.Get("/v1/people?email=JONAS.ALBERS%40nordwind-energie.example", s.admin);
  INFO(r.body);
  REQUIRE(r.status == 200);
  json::object found = Parse(r.body);
  CHECK(found.at("by").as_string() == "email");
  REQUIRE(found.at("people").as_array().size() == 1);
  CHECK_THAT(r.body, Catch::Contains("customer-1002"));
  CHECK_THAT(r.body, Catch::Contains("Jonas Albers"));
  REQUIRE(s.StreamSize("access-staff-1") == admin_reads + 1);
  const Event read = s.store.Stream("access-staff-1").back();
  CHECK_THAT(read.data, Catch::Contains("\"view\":\"find\""));
  CHECK_THAT(read.data, Catch::Contains("customer-1002"));

  // staff-20 serves customer-2001 only: Lena by name, not Jonas.
  HttpReply lena = s.Get("/v1/people?name=lena", s.rep20);
  REQUIRE(lena.status == 200);
  CHECK(Parse(lena.body).at("people").as_array().size() == 1);
  const size_t rep_reads = s.StreamSize("access-staff-20");
  HttpReply jonas = s.Get("/v1/people?email=jonas.albers%40nordwind-energie.example", s.rep20);
  REQUIRE(jonas.status == 200);
  CHECK(Parse(jonas.body).at("people").as_array().empty());
  CHECK(jonas.body.find("customer-1002") == std::string::npos);
  CHECK(s.StreamSize("access-staff-20") == rep_reads);  // nothing shown, nothing recorded

  // An auditor's token opens no one, so it may not search people; an ingest token reads nothing.
  CHECK(s.Get("/v1/people?name=lena", s.auditor).status == 403);
  CHECK(s.Get("/v1/people?name=lena", s.ingest).status == 403);
  // One of the three, exactly.
  CHECK_THAT(MessageOf(s.Get("/v1/people", s.admin)), Catch::Contains("email, phone or name"));
  CHECK(s.Get("/v1/people?email=a%40b.example&name=x", s.admin).status == 400);
}

namespace {

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

// A folder of built UI files: index.html and app.js.
std::string WebFolder(const testing::TempDir& tmp) {
  const std::string dir = tmp.Sub("web");
  std::filesystem::create_directories(dir);
  WriteText(dir + "/index.html", R"(<!doctype html><title>Custodian</title><script src="/app.js"></script>)");
  WriteText(dir + "/app.js", "console.log('custodian');");
  return dir;
}

}  // namespace

TEST_CASE("The web UI's files are served at / with a strict Content-Security-Policy, and nothing else of the disk is",
          "[server][web]") {
  testing::TempDir tmp;
  Result<WebFiles> web = WebFiles::Load(WebFolder(tmp));
  INFO(web.status().ToString());
  REQUIRE(web.ok());
  CHECK(web->size() == 2);
  ServedStore s(TestOptions(), ApiOptions{1'000'000, std::move(*web)});
  HttpReply index = s.Get("/");
  REQUIRE(index.status == 200);
  CHECK(index.Header("Content-Type") == "text/html; charset=utf-8");
  CHECK_THAT(index.body, Catch::Contains("<title>Custodian</title>"));
  const std::string csp = index.Header("Content-Security-Policy");
  CHECK_THAT(csp, Catch::Contains("default-src 'none'"));
  CHECK_THAT(csp, Catch::Contains("script-src 'self'"));
  CHECK_THAT(csp, Catch::Contains("frame-ancestors 'none'"));
  CHECK(csp.find("unsafe") == std::string::npos);
  // One policy only: the API's (a sandbox, no scripts) would stop the UI.
  CHECK(std::count_if(index.headers.begin(), index.headers.end(), [](const auto& h) {
          return ::strcasecmp(h.first.c_str(), "Content-Security-Policy") == 0;
        }) == 1);
  CHECK(index.Header("X-Content-Type-Options") == "nosniff");
  CHECK(s.Get("/index.html").body == index.body);
  CHECK(s.Get("/?anything=1").status == 200);
  HttpReply app = s.Get("/app.js");
  CHECK(app.status == 200);
  CHECK(app.Header("Content-Type") == "text/javascript; charset=utf-8");
  // Only the files loaded at start: no path reaches the disk.
  std::filesystem::remove(tmp.Sub("web/app.js"));
  CHECK(s.Get("/app.js").status == 200);
  WriteText(tmp.Sub("web/later.js"), "x");
  for (const char* target : {"/later.js", "/../web/index.html", "/%2e%2e/%2e%2e/etc/passwd", "/web/index.html",
                             "/INDEX.HTML", "/app.js/"}) {
    INFO(target);
    CHECK(s.Get(target).status >= 400);
  }
  // The API is untouched: no token, no data.
  CHECK(s.Get("/v1/silent").status == 401);
  CHECK(s.Post("/", "", "x").status >= 400);
}

TEST_CASE("A web folder the UI was not built into is refused, saying what is wrong", "[server][web]") {
  testing::TempDir tmp;
  Result<WebFiles> missing = WebFiles::Load(tmp.Sub("nowhere"));
  CHECK_THAT(missing.status().message(), Catch::Contains("no such directory"));
  const std::string dir = WebFolder(tmp);
  std::filesystem::remove(dir + "/index.html");
  CHECK_THAT(WebFiles::Load(dir).status().message(), Catch::Contains("no index.html"));
  WriteText(dir + "/index.html", "<!doctype html>");
  WriteText(dir + "/master.key", "secret");
  Result<WebFiles> key = WebFiles::Load(dir);
  CHECK(key.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(key.status().message(), Catch::Contains("master.key is not a file type the UI is built into"));
  std::filesystem::remove(dir + "/master.key");
  CHECK(WebFiles::Load(dir).ok());
  // Without a UI, / is simply not a route.
  ServedStore s;
  CHECK(s.Get("/").status == 404);
}

}  // namespace custodian
