#include "cluster/lease.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "core/base64.h"

namespace custodian::cluster {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

// POST `body` to etcd's JSON gateway at `path`; the answer's JSON. etcd
// wraps streamed answers (keepalive) in {"result": ...}: unwrapped here.
Result<json::object> Post(const std::string& endpoint, const std::string& path, const json::object& body) {
  std::string_view rest = endpoint;
  if (!rest.starts_with("http://")) {
    return Status::InvalidArgument("the etcd endpoint must be http://HOST:PORT, got " + endpoint);
  }
  rest.remove_prefix(7);
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) rest = rest.substr(0, slash);
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return Status::InvalidArgument("the etcd endpoint has no port: " + endpoint);
  const std::string host(rest.substr(0, colon)), port(rest.substr(colon + 1));
  try {
    boost::asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(3));
    stream.connect(resolver.resolve(host, port));
    http::request<http::string_body> req{http::verb::post, path, 11};
    req.set(http::field::host, host);
    req.set(http::field::content_type, "application/json");
    req.body() = json::serialize(body);
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    if (res.result() != http::status::ok) {
      return Status::Unavailable("etcd " + path + ": HTTP " + std::to_string(res.result_int()) + " " +
                                 res.body().substr(0, 200));
    }
    boost::system::error_code jec;
    json::value v = json::parse(res.body(), jec);
    if (jec || !v.is_object()) return Status::Unavailable("etcd " + path + ": not JSON: " + res.body().substr(0, 200));
    json::object o = std::move(v.as_object());
    if (auto* r = o.if_contains("result"); r && r->is_object()) return json::object(r->as_object());
    return o;
  } catch (const std::exception& e) {
    return Status::Unavailable("etcd at " + endpoint + ": " + e.what());
  }
}

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

WriterLease::WriterLease(LeaseOptions options, int64_t id, uint64_t epoch)
    : options_(std::move(options)), id_(id), epoch_(epoch), deadline_ms_(0) {}

Result<std::unique_ptr<WriterLease>> WriterLease::Acquire(const LeaseOptions& options, std::chrono::milliseconds timeout,
                                                          const std::atomic<bool>* cancelled) {
  if (options.ttl.count() < 2) return Status::InvalidArgument("the writer lease's TTL is at least 2 s");
  const auto give_up = Clock::now() + timeout;
  const std::string key = Base64Encode(options.key);
  Status last = Status::Unavailable("not tried");
  while (Clock::now() < give_up && !(cancelled && cancelled->load())) {
    // The deadline counts from before the grant was asked for.
    const int64_t asked = NowMs();
    Result<json::object> grant = Post(options.endpoint, "/v3/lease/grant", {{"TTL", options.ttl.count()}});
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
    Result<json::object> r = Post(options.endpoint, "/v3/kv/txn", txn);
    if (r.ok() && r->if_contains("succeeded") && r->at("succeeded").is_bool() && r->at("succeeded").as_bool()) {
      const json::object& range = r->at("responses").as_array().at(1).as_object().at("response_range").as_object();
      const uint64_t epoch = static_cast<uint64_t>(Int(range.at("kvs").as_array().at(0).as_object(), "create_revision"));
      std::unique_ptr<WriterLease> lease(new WriterLease(options, id, epoch));
      lease->deadline_ms_ = asked + options.ttl.count() * 1000;
      lease->keeper_ = std::thread([l = lease.get()] { l->KeepAlive(); });
      return lease;
    }
    // Someone holds it: give our grant back, wait a little, try again.
    (void)Post(options.endpoint, "/v3/lease/revoke", {{"ID", std::to_string(id)}});
    last = r.ok() ? Status::Unavailable("another node holds the writer lease") : r.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return last.WithContext("the writer lease " + options.key);
}

WriterLease::~WriterLease() {
  stopping_ = true;
  if (keeper_.joinable()) keeper_.join();
  if (!lost_) (void)Post(options_.endpoint, "/v3/lease/revoke", {{"ID", std::to_string(id_)}});
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
    Result<json::object> r = Post(options_.endpoint, "/v3/lease/keepalive", {{"ID", std::to_string(id_)}});
    if (!r.ok()) continue;  // etcd unreachable: the deadline runs out by itself
    if (Int(*r, "TTL") <= 0) {
      lost_ = true;  // expired: etcd let the key go
      continue;
    }
    deadline_ms_ = asked + Int(*r, "TTL") * 1000;
  }
}

}  // namespace custodian::cluster
