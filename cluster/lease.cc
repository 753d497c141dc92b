#include "cluster/lease.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <algorithm>

#include "core/base64.h"
#include "core/text.h"
#include "storage/permissions.h"

namespace custodian::cluster {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

// etcd's answer to one call: its HTTP status and body.
struct Answer {
  unsigned status = 0;
  std::string body;
};

// Runs `ioc` until the operation it holds completes; an operation of a
// beast::tcp_stream ends with error::timeout when the stream's expiry
// passes. (A blocking call ignores the expiry: a half-open etcd would hang
// the keep-alive, then the node's stop.)
void Await(boost::asio::io_context& ioc, const beast::error_code& ec, const char* what) {
  ioc.restart();
  ioc.run();
  if (ec) throw beast::system_error(ec, what);
}

constexpr auto kStep = std::chrono::seconds(3);

// Sends `req` on a connected stream and reads the answer, each within kStep.
template <typename Stream>
Answer Exchange(boost::asio::io_context& ioc, Stream& stream, http::request<http::string_body>& req) {
  beast::error_code ec;
  beast::get_lowest_layer(stream).expires_after(kStep);
  http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
  Await(ioc, ec, "write");
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  beast::get_lowest_layer(stream).expires_after(kStep);
  http::async_read(stream, buffer, res, [&](beast::error_code e, size_t) { ec = e; });
  Await(ioc, ec, "read");
  return Answer{res.result_int(), std::move(res.body())};
}

// etcd's client URL in parts: http:// or https://, a host and a port.
struct Endpoint {
  bool tls = false;
  std::string host, port;  // an IPv6 address without its brackets
  std::string HostHeader() const {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
  }
};

// SCHEME://HOST:PORT, optionally with a trailing "/". A user or password in
// the URL is refused without showing it (they go in --lease-credentials, and
// the URL appears in messages).
Result<Endpoint> ParseEndpoint(const std::string& endpoint) {
  if (endpoint.find('@') != std::string::npos) {
    return Status::InvalidArgument(
        "the etcd endpoint holds a user or password (not shown): give them in a file with --lease-credentials");
  }
  const Status bad = Status::InvalidArgument("the etcd endpoint must be http://HOST:PORT or https://HOST:PORT, got " +
                                             QuotedText(endpoint, 200));
  Endpoint e;
  std::string_view rest = endpoint;
  if (rest.starts_with("https://")) {
    e.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return bad;
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return bad;
  std::string_view host = rest.substr(0, colon), port = rest.substr(colon + 1);
  if (host.starts_with('[') && host.ends_with(']')) {
    host = host.substr(1, host.size() - 2);
    boost::system::error_code ec;
    (void)boost::asio::ip::make_address_v6(host, ec);
    if (ec) return bad;
  } else if (host.empty() || !std::all_of(host.begin(), host.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                      c == '_';  // container names (etcd_1) resolve too
             })) {
    return bad;  // a name or IPv4 address; an IPv6 address goes in brackets
  }
  const bool digits = !port.empty() && port.size() <= 5 &&
                      std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (host.empty() || host.find_first_of("/?# ") != std::string_view::npos || !digits) return bad;
  if (const int n = std::stoi(std::string(port)); n < 1 || n > 65535) return bad;
  e.host = std::string(host);
  e.port = std::string(port);
  return e;
}

// The TLS settings of calls to an https etcd: TLS 1.2 or later, etcd's
// certificate verified against `ca_file` (empty: the system's CAs). Made
// once, so that a CA file that cannot be used stops the node at start.
Result<std::shared_ptr<ssl::context>> ClientTls(const std::string& ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  if (ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
  } else {
    ctx->load_verify_file(ca_file, ec);
  }
  if (ec) {
    return Status::InvalidArgument("--lease-ca " + QuotedText(ca_file, 200) +
                                   ": no PEM certificate OpenSSL can read (" + ec.message() + ")");
  }
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

// A call that failed: FailedPrecondition for a certificate that does not
// verify (a fault to fix, not to retry), else Unavailable (the campaign
// tries again).
Status CallFailed(const std::string& shown, const std::string& what) {
  if (what.find("certificate verify failed") != std::string::npos) {
    return Status::FailedPrecondition("etcd at " + shown + " shows a certificate that does not verify (" + what +
                                      "): give the CA that signed it with --lease-ca FILE, and use the host name "
                                      "or address the certificate names");
  }
  return Status::Unavailable("etcd at " + shown + ": " + what);
}

// POST `body` to etcd's JSON gateway at `path`, with `token` (a sign-in's)
// when there is one; each step within kStep (the name's look-up is the
// system resolver's, which the step does not bound). Over https (`tls` not
// null), etcd's certificate must verify and name the host. `shown`: the
// endpoint as messages name it.
Result<Answer> Send(const std::string& shown, const Endpoint& at, ssl::context* tls, const std::string& path,
                    const json::object& body, const std::string& token) {
  http::request<http::string_body> req{http::verb::post, path, 11};
  req.set(http::field::host, at.HostHeader());
  req.set(http::field::content_type, "application/json");
  if (!token.empty()) req.set(http::field::authorization, token);
  req.body() = json::serialize(body);
  req.prepare_payload();
  bool handshaking = false;
  try {
    boost::asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto connect = [&](beast::tcp_stream& tcp) {
      tcp.expires_after(kStep);
      tcp.async_connect(resolver.resolve(at.host, at.port), [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
      Await(ioc, ec, "connect");
    };
    // The answer is read whole (its length is given), so the connection is
    // closed without waiting for anything more: no TLS close_notify, which a
    // peer that never answers it could hold for another step.
    if (tls == nullptr) {
      beast::tcp_stream stream(ioc);
      connect(stream);
      Answer a = Exchange(ioc, stream, req);
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      return a;
    }
    beast::ssl_stream<beast::tcp_stream> stream(ioc, *tls);
    stream.set_verify_callback(ssl::host_name_verification(at.host));
    boost::system::error_code not_an_address;  // SNI names a host, never an address (RFC 6066)
    (void)boost::asio::ip::make_address(at.host, not_an_address);
    if (not_an_address) (void)SSL_set_tlsext_host_name(stream.native_handle(), at.host.c_str());
    connect(beast::get_lowest_layer(stream));
    beast::get_lowest_layer(stream).expires_after(kStep);
    handshaking = true;
    stream.async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
    Await(ioc, ec, "TLS handshake");
    handshaking = false;
    Answer a = Exchange(ioc, stream, req);
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
    return a;
  } catch (const beast::system_error& e) {
    // The handshake refused by TLS itself, or cut short by a peer that took
    // the connection (a plain-http etcd closes on a ClientHello): the other
    // end does not speak TLS, or not this TLS; trying again would not help.
    // (It closes or resets: which one varies from run to run.)
    const bool tls_error = e.code().category() == boost::asio::error::get_ssl_category() ||
                           e.code() == ssl::error::stream_truncated || e.code() == boost::asio::error::connection_reset ||
                           e.code() == boost::asio::error::eof;
    if (handshaking && tls_error &&
        std::string_view(e.what()).find("certificate verify failed") == std::string_view::npos) {
      return Status::FailedPrecondition("etcd at " + shown + " did not complete a TLS handshake (" + e.what() +
                                        "): does it serve https on that port (etcd --cert-file, https client URLs)?");
    }
    return CallFailed(shown, e.what());
  } catch (const std::exception& e) {
    return CallFailed(shown, e.what());
  }
}

// The JSON object of a 200 answer. etcd wraps streamed answers (keepalive)
// in {"result": ...}: unwrapped here.
Result<json::object> Parsed(const std::string& path, const Answer& a) {
  boost::system::error_code jec;
  json::value v = json::parse(a.body, jec);
  if (jec || !v.is_object()) return Status::Unavailable("etcd " + path + ": not JSON: " + OneLineText(a.body, 200));
  json::object o = std::move(v.as_object());
  if (auto* r = o.if_contains("result"); r && r->is_object()) return json::object(r->as_object());
  return o;
}

// What etcd said when it refused a call: its gRPC error's text, on one line
// (the answer came over plain HTTP: it could carry terminal escapes). Else
// the body, unless `echo_body` is false (the answer to a sign-in, which a
// wrong endpoint might have built from the request, password included).
std::string ErrorText(const Answer& a, bool echo_body = true) {
  boost::system::error_code jec;
  json::value v = json::parse(a.body, jec);
  if (!jec && v.is_object()) {
    if (const json::value* e = v.as_object().if_contains("error"); e && e->is_string()) {
      return OneLineText(std::string_view(e->as_string()), 200);
    }
  }
  return echo_body ? OneLineText(a.body, 200) : "an answer that is not etcd's";
}

}  // namespace

// etcd's JSON gateway, signed in as the credentials' user when there are
// any: the token of a sign-in goes with every call, and a call refused
// because its token expired (etcd's simple tokens last 5 minutes unless
// used) or predates a change of etcd's users and roles signs in again once.
// Shared by a lease's threads, which never call at the same time; mu_ keeps
// the token consistent all the same.
class WriterLease::Etcd {
 public:
  // Checks the endpoint and makes the TLS settings; reads the credentials
  // file, if any. InvalidArgument or FailedPrecondition for a bad one,
  // without its contents.
  static Result<std::shared_ptr<Etcd>> Make(const LeaseOptions& options) {
    Result<Endpoint> at = ParseEndpoint(options.endpoint);
    if (!at.ok()) return at.status();
    if (!options.ca_file.empty() && !at->tls) {
      return Status::InvalidArgument("a CA for etcd (--lease-ca) needs an https:// endpoint, not " + options.endpoint);
    }
    std::shared_ptr<ssl::context> tls;
    if (at->tls) {
      Result<std::shared_ptr<ssl::context>> made = ClientTls(options.ca_file);
      if (!made.ok()) return made.status();
      tls = std::move(*made);
    }
    auto etcd = std::shared_ptr<Etcd>(new Etcd(options.endpoint, std::move(*at), std::move(tls), options.credentials_file));
    if (options.credentials_file.empty()) return etcd;
    Result<std::string> text = ReadOwnerOnlyFile(options.credentials_file, "etcd credentials file");
    if (!text.ok()) return text.status();
    while (!text->empty() && (text->back() == '\n' || text->back() == '\r' || text->back() == ' ')) text->pop_back();
    const size_t colon = text->find(':');
    if (colon == 0 || colon == std::string::npos || text->find('\n') != std::string::npos) {
      return Status::InvalidArgument("the etcd credentials file " + options.credentials_file +
                                     " does not hold one line, USER:PASSWORD");
    }
    etcd->user_ = text->substr(0, colon);
    etcd->password_ = text->substr(colon + 1);
    return etcd;
  }

  // POST `body` to `path`: the answer's JSON; Unavailable when etcd cannot
  // be reached, FailedPrecondition when it refuses, saying why and what to do.
  Result<json::object> Call(const std::string& path, const json::object& body) {
    Result<std::string> token = Token(/*fresh=*/false);
    if (!token.ok()) return token.status();
    Result<Answer> a = Send(endpoint_, at_, tls_.get(), path, body, *token);
    if (!a.ok()) return a.status();
    // The token expired, or was signed before a change of etcd's users or
    // roles ("revision of auth store is old"): sign in again, once.
    if (!user_.empty() && (a->status == 401 || ErrorText(*a).find("auth store is old") != std::string::npos)) {
      token = Token(/*fresh=*/true);
      if (!token.ok()) return token.status();
      a = Send(endpoint_, at_, tls_.get(), path, body, *token);
      if (!a.ok()) return a.status();
    }
    if (a->status == 200) return Parsed(path, *a);
    return Refused(path, *a, /*echo_body=*/token->empty());
  }

 private:
  Etcd(std::string endpoint, Endpoint at, std::shared_ptr<ssl::context> tls, std::string file)
      : endpoint_(std::move(endpoint)), at_(std::move(at)), tls_(std::move(tls)), file_(std::move(file)) {}

  // The token to send: none without credentials; else the last sign-in's,
  // or a new one.
  Result<std::string> Token(bool fresh) {
    if (user_.empty()) return std::string();
    std::lock_guard lk(mu_);
    if (!fresh && !token_.empty()) return token_;
    // Nothing of the answer is quoted unless it is etcd's own error text: a
    // wrong endpoint might answer with the request, password included.
    Result<Answer> a =
        Send(endpoint_, at_, tls_.get(), "/v3/auth/authenticate", {{"name", user_}, {"password", password_}}, "");
    if (!a.ok()) return a.status();
    if (a->status != 200) {
      const std::string why = ErrorText(*a, /*echo_body=*/false);
      if (why.find("not enabled") != std::string::npos) {
        return Status::FailedPrecondition("etcd at " + endpoint_ + " has authentication off, so the sign-in in " +
                                          file_ + " protects nothing; turn it on (etcdctl auth enable) or leave "
                                          "out the credentials");
      }
      if (why.find("authentication failed") != std::string::npos) {
        return Status::FailedPrecondition("etcd at " + endpoint_ + " refused the user and password in " + file_ +
                                          " (" + why + ")");
      }
      return Status::Unavailable("etcd at " + endpoint_ + " could not sign this node in: HTTP " +
                                 std::to_string(a->status) + " (" + why + ")");
    }
    boost::system::error_code jec;
    json::value v = json::parse(a->body, jec);
    const json::value* t = !jec && v.is_object() ? v.as_object().if_contains("token") : nullptr;
    if (t == nullptr || !t->is_string() || t->as_string().empty()) {
      return Status::Unavailable("etcd at " + endpoint_ + " answered the sign-in without a token (is " + endpoint_ +
                                 " etcd?)");
    }
    token_ = std::string(t->as_string());
    return token_;
  }

  // A call's answer other than 200: FailedPrecondition when etcd refuses
  // this node (no sign-in where one is needed, no right to the key, a sign-in
  // it no longer takes), saying what to do; else Unavailable (a lease that
  // expired meanwhile, a busy or failing server: the campaign tries again).
  // `echo_body`: false when the call carried a token, which a wrong endpoint
  // might have put in its answer.
  Status Refused(const std::string& path, const Answer& a, bool echo_body) const {
    const std::string why = ErrorText(a, echo_body);
    const std::string said = "etcd " + path + " refused (HTTP " + std::to_string(a.status) + ": " + why + ")";
    if (why.find("user name is empty") != std::string::npos) {
      return Status::FailedPrecondition(said + "; etcd has authentication on: give the node a user that may write "
                                               "the lease's key with --lease-credentials FILE (one line, USER:PASSWORD)");
    }
    if (why.find("permission denied") != std::string::npos || a.status == 403) {
      return Status::FailedPrecondition(said + "; the user in " + file_ +
                                        " may not write the lease's key: grant its role readwrite on it");
    }
    if (a.status == 401) return Status::FailedPrecondition(said);
    return Status::Unavailable(said);
  }

  const std::string endpoint_;               // as given, for messages
  const Endpoint at_;
  const std::shared_ptr<ssl::context> tls_;  // https: TLS settings; null: plain http
  const std::string file_;
  std::string user_, password_;
  std::mutex mu_;
  std::string token_;  // the last sign-in's
};

namespace {

// etcd's gateway prints 64-bit numbers as strings.
int64_t Int(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  if (v->is_string()) return std::atoll(v->as_string().c_str());
  return 0;
}

}  // namespace

WriterLease::WriterLease(LeaseOptions options, std::shared_ptr<Etcd> etcd, int64_t id, uint64_t epoch)
    : options_(std::move(options)), etcd_(std::move(etcd)), id_(id), epoch_(epoch), deadline_ms_(0) {}

Result<std::shared_ptr<WriterLease::Etcd>> WriterLease::Connect(const LeaseOptions& options) {
  if (options.ttl.count() < 2) return Status::InvalidArgument("the writer lease's TTL is at least 2 s");
  return Etcd::Make(options);
}

Result<std::unique_ptr<WriterLease>> WriterLease::Acquire(const LeaseOptions& options, std::chrono::milliseconds timeout,
                                                          const std::atomic<bool>* cancelled) {
  Result<std::shared_ptr<Etcd>> etcd = Connect(options);
  if (!etcd.ok()) return etcd.status();
  return Acquire(options, *etcd, timeout, cancelled);
}

Result<std::unique_ptr<WriterLease>> WriterLease::Acquire(const LeaseOptions& options, std::shared_ptr<Etcd> etcd,
                                                          std::chrono::milliseconds timeout,
                                                          const std::atomic<bool>* cancelled) {
  const auto give_up = Clock::now() + timeout;
  const std::string key = Base64Encode(options.key);
  Status last = Status::Unavailable("not tried");
  while (Clock::now() < give_up && !(cancelled && cancelled->load())) {
    // The deadline counts from before the grant was asked for.
    const int64_t asked = NowMs();
    Result<json::object> grant = etcd->Call("/v3/lease/grant", {{"TTL", options.ttl.count()}});
    if (!grant.ok()) {
      last = grant.status();
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      continue;
    }
    const int64_t id = Int(*grant, "ID");
    json::object txn{
        {"compare", json::array{json::object{{"key", key}, {"target", "CREATE"}, {"result", "EQUAL"},
                                             {"create_revision", "0"}}}},
        {"success", json::array{json::object{{"request_put", json::object{{"key", key},
                                                                          {"value", Base64Encode(options.holder)},
                                                                          {"lease", std::to_string(id)}}}},
                                json::object{{"request_range", json::object{{"key", key}}}}}},
        {"failure", json::array{json::object{{"request_range", json::object{{"key", key}}}}}}};
    Result<json::object> r = etcd->Call("/v3/kv/txn", txn);
    if (r.ok() && r->if_contains("succeeded") && r->at("succeeded").is_bool() && r->at("succeeded").as_bool()) {
      uint64_t epoch = 0;
      try {
        const json::object& range = r->at("responses").as_array().at(1).as_object().at("response_range").as_object();
        epoch = static_cast<uint64_t>(Int(range.at("kvs").as_array().at(0).as_object(), "create_revision"));
      } catch (const std::exception&) {  // boost::json's at(): not the answer etcd gives
      }
      if (epoch == 0) {
        // Held, but with no epoch to fence with: given back, and not written under.
        (void)etcd->Call("/v3/lease/revoke", {{"ID", std::to_string(id)}});
        return Status::Unavailable("etcd's answer to the writer lease's transaction has no create_revision for " +
                                   options.key);
      }
      std::unique_ptr<WriterLease> lease(new WriterLease(options, etcd, id, epoch));
      lease->deadline_ms_ = asked + options.ttl.count() * 1000;
      lease->keeper_ = std::thread([l = lease.get()] { l->KeepAlive(); });
      return lease;
    }
    // Someone holds it: give our grant back, wait a little, try again.
    (void)etcd->Call("/v3/lease/revoke", {{"ID", std::to_string(id)}});
    last = r.ok() ? Status::Conflict("another node holds the writer lease") : r.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return last.WithContext("the writer lease " + options.key);
}

WriterLease::~WriterLease() {
  stopping_ = true;
  if (keeper_.joinable()) keeper_.join();
  if (!lost_) (void)etcd_->Call("/v3/lease/revoke", {{"ID", std::to_string(id_)}});
}

Status WriterLease::Check() const {
  // A publish takes at most a few seconds to reach the servers; keep a
  // margin of a third of the TTL before the deadline.
  const int64_t margin = options_.ttl.count() * 1000 / 3;
  if (lost_ || NowMs() + margin >= deadline_ms_.load()) {
    return Status::Unavailable("this node lost the writer lease (epoch " + std::to_string(epoch_) +
                               "); another node may be the partition writer now");
  }
  return Status::Ok();
}

void WriterLease::StopKeepingAlive() { paused_ = true; }

void WriterLease::KeepAlive() {
  const auto every = std::chrono::milliseconds(options_.ttl.count() * 1000 / 3);
  while (!stopping_) {
    for (auto waited = std::chrono::milliseconds(0); waited < every && !stopping_;
         waited += std::chrono::milliseconds(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (stopping_ || paused_ || lost_) continue;
    const int64_t asked = NowMs();
    Result<json::object> r = etcd_->Call("/v3/lease/keepalive", {{"ID", std::to_string(id_)}});
    if (!r.ok()) continue;  // etcd unreachable: the deadline runs out by itself
    const int64_t ttl = Int(*r, "TTL");
    if (ttl <= 0) {
      lost_ = true;  // expired: etcd let the key go
      continue;
    }
    // Renewing the grant keeps nothing if the key is no longer ours (deleted
    // by hand, then taken by another node): two writers at once. Ours is the
    // key this grant holds at the revision that made it.
    Result<json::object> held = etcd_->Call("/v3/kv/range", {{"key", Base64Encode(options_.key)}});
    if (!held.ok()) continue;  // unknown: the deadline runs out by itself
    bool ours = false;
    if (const json::value* kvs = held->if_contains("kvs"); kvs && kvs->is_array() && !kvs->as_array().empty() &&
                                                           kvs->as_array().front().is_object()) {
      const json::object& kv = kvs->as_array().front().as_object();
      ours = static_cast<uint64_t>(Int(kv, "create_revision")) == epoch_ && Int(kv, "lease") == id_;
    }
    if (!ours) {
      lost_ = true;
      continue;
    }
    // Never longer than asked for, whatever the answer says.
    deadline_ms_ = asked + std::min<int64_t>(ttl, options_.ttl.count()) * 1000;
  }
}

}  // namespace custodian::cluster
