#include "server/server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/core.h>

#include <atomic>
#include <condition_variable>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

#include "server/api.h"
#include "server/http.h"
#include "service/store.h"

namespace custodian {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// Appends with bodies up to this size are parsed and queued on the I/O
// thread itself (a few microseconds); larger ones on the workers.
constexpr size_t kAppendOnIoThreadAtMost = 64 * 1024;

// What RFC 9112 says a server must refuse (400, then close) in a request's
// headers, which Beast reads without complaint: a Transfer-Encoding whose
// last coding is not chunked (its body has no length: read as empty, the
// rest of it would be taken for the next request), an HTTP/1.1 request
// without exactly one Host; and, for the API, more than one Authorization.
std::optional<std::string> HeaderProblem(const bhttp::request<bhttp::string_body>& req, bool chunked) {
  if (req.count(bhttp::field::transfer_encoding) > 0 && (!chunked || req.version() < 11)) {
    return "a Transfer-Encoding whose last coding is not chunked, or in HTTP/1.0, is not accepted (RFC 9112, 6.1 "
           "and 6.3)";
  }
  if (req.version() >= 11 && req.count(bhttp::field::host) != 1) return "an HTTP/1.1 request has one Host header";
  if (req.count(bhttp::field::authorization) > 1) return "more than one Authorization header";
  return std::nullopt;
}

class ServerImpl;

// What Stop needs of a session, whatever its stream.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void CloseIfIdle() = 0;
};

std::string ErrorBody(int status, std::string_view code, std::string_view message) {
  return fmt::format("{{\"error\":{{\"status\":{},\"code\":\"{}\",\"message\":\"{}\"}}}}\n", status, code, message);
}

class ServerImpl final : public Server {
 public:
  ServerImpl(Api& api, const ServerOptions& options)
      : api_(api), options_(options), acceptor_(ioc_), workers_(static_cast<size_t>(std::max(1, options.workers))) {}
  ~ServerImpl() override {
    Stop();
    Wait();
  }

  Status Init() {
    const size_t colon = options_.listen.rfind(':');
    if (colon == std::string::npos) {
      return Status::InvalidArgument("--listen: \"" + options_.listen + "\" is not HOST:PORT, e.g. 127.0.0.1:8080");
    }
    std::string host = options_.listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string port_text = options_.listen.substr(colon + 1);
    unsigned long port = 0;
    try {
      size_t used = 0;
      port = std::stoul(port_text, &used);
      if (used != port_text.size() || port > 65535) throw std::out_of_range("port");
    } catch (const std::exception&) {
      return Status::InvalidArgument("--listen: \"" + port_text + "\" is not a port number (0-65535)");
    }
    boost::system::error_code ec;
    const asio::ip::address address = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
    if (ec) return Status::InvalidArgument("--listen: \"" + host + "\" is not an IP address: " + ec.message());
    if (!options_.tls_cert.empty() || !options_.tls_key.empty()) {
      if (options_.tls_cert.empty() || options_.tls_key.empty()) {
        return Status::InvalidArgument("HTTPS needs both --tls-cert and --tls-key");
      }
      ssl_.emplace(ssl::context::tls_server);
      ssl_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      ssl_->use_certificate_chain_file(options_.tls_cert, ec);
      if (ec) return Status::InvalidArgument("--tls-cert " + options_.tls_cert + ": " + ec.message());
      ssl_->use_private_key_file(options_.tls_key, ssl::context::pem, ec);
      if (ec) return Status::InvalidArgument("--tls-key " + options_.tls_key + ": " + ec.message());
    }
    const tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (ec) {
      return ec == asio::error::address_in_use
                 ? Status::Unavailable("--listen " + options_.listen + ": the address is in use")
                 : Status::InvalidArgument("--listen " + options_.listen + ": " + ec.message());
    }
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::InvalidArgument("--listen " + options_.listen + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (int i = 0; i < std::max(1, options_.io_threads); ++i) threads_.emplace_back([this] { ioc_.run(); });
    return Status::Ok();
  }

  uint16_t port() const override { return port_; }
  bool tls() const override { return ssl_.has_value(); }

  void Stop() override {
    if (stopping_.exchange(true)) return;
    asio::post(acceptor_.get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
    });
    std::vector<std::shared_ptr<SessionBase>> live;
    {
      std::lock_guard lk(mu_);
      for (const std::weak_ptr<SessionBase>& w : sessions_) {
        if (std::shared_ptr<SessionBase> s = w.lock()) live.push_back(std::move(s));
      }
      sessions_.clear();
    }
    for (const std::shared_ptr<SessionBase>& s : live) s->CloseIfIdle();
    live.clear();  // a session ends (and says so) when its last handler lets go
    {
      std::unique_lock lk(mu_);
      drained_.wait_for(lk, options_.drain_timeout, [&] { return connections_ == 0; });
    }
    work_.reset();
    ioc_.stop();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    workers_.join();
    {
      std::lock_guard lk(done_mu_);
      done_ = true;
    }
    done_cv_.notify_all();
  }

  void Wait() override {
    std::unique_lock lk(done_mu_);
    done_cv_.wait(lk, [&] { return done_; });
  }

  // For sessions.
  Api& api() { return api_; }
  const ServerOptions& options() const { return options_; }
  bool stopping() const { return stopping_.load(); }
  asio::thread_pool& workers() { return workers_; }
  void Register(const std::shared_ptr<SessionBase>& s) {
    std::lock_guard lk(mu_);
    for (auto it = sessions_.begin(); it != sessions_.end();) it = it->expired() ? sessions_.erase(it) : std::next(it);
    sessions_.push_back(s);
  }
  void Ended() {
    std::lock_guard lk(mu_);
    --connections_;
    drained_.notify_all();
  }

 private:
  void Accept();

  // Declared first, destroyed last: a session still queued in ioc_ when it
  // is destroyed says it ended.
  std::mutex mu_;
  std::condition_variable drained_;
  size_t connections_ = 0;
  std::list<std::weak_ptr<SessionBase>> sessions_;
  Api& api_;
  const ServerOptions options_;
  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{ioc_.get_executor()};
  tcp::acceptor acceptor_;
  std::optional<ssl::context> ssl_;
  asio::thread_pool workers_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  bool done_ = false;
};

// One connection. `Stream` is beast::tcp_stream or an ssl_stream over it.
template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(ServerImpl& server, Stream stream)
      : server_(server), stream_(std::move(stream)), timer_(stream_.get_executor()) {}
  ~Session() override { server_.Ended(); }

  void Start() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      Read();
    } else {
      beast::get_lowest_layer(stream_).expires_after(server_.options().read_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (!ec) self->Read();
                              });
    }
  }

  void CloseIfIdle() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (!self->busy_) {
        boost::system::error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(self->stream_).close();
      }
    });
  }

 private:
  void Read() {
    if (server_.stopping()) return Close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options().header_limit));
    parser_->body_limit(server_.options().body_limit);
    beast::get_lowest_layer(stream_).expires_after(server_.options().read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof || ec == ssl::error::stream_truncated) {
      return Close();
    }
    // A HEAD's answer goes without its body, this layer's errors' too (once
    // its request line was read: bytes that are not HTTP are answered in full).
    const bool head = parser_->get().method() == bhttp::verb::head;
    if (ec) {
      // Malformed or too large: answered, then the connection closes (its
      // bytes cannot be trusted to frame another request).
      int status = 400;
      std::string message = "malformed HTTP request: " + ec.message();
      if (ec == bhttp::error::body_limit) {
        status = 413;
        message = "the body is larger than " + std::to_string(server_.options().body_limit) + " bytes";
      } else if (ec == bhttp::error::header_limit) {
        status = 431;
        message = "the request's headers are larger than " + std::to_string(server_.options().header_limit) + " bytes";
      }
      auto res = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(status), 11);
      res->set(bhttp::field::content_type, "application/json");
      res->body() = ErrorBody(status, status == 413 ? "payload_too_large" : status == 431 ? "headers_too_large" : "bad_request",
                              message);
      return Write(res, /*keep_alive=*/false, head);
    }
    if (std::optional<std::string> why = HeaderProblem(parser_->get(), parser_->chunked())) {
      auto res = std::make_shared<bhttp::response<bhttp::string_body>>(bhttp::status::bad_request, 11);
      res->set(bhttp::field::content_type, "application/json");
      res->body() = ErrorBody(400, "bad_request", *why);
      return Write(res, /*keep_alive=*/false, head);  // the bytes after it cannot be trusted to frame a request
    }
    bhttp::request<bhttp::string_body> req = parser_->release();
    http::Request request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    for (const auto& field : req) request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    request.body = std::move(req.body());
    // HEAD is GET without the body (RFC 9110, 9.3.2): the API answers it as
    // GET (Api::Dispatch), and every answer to it, an error's too, goes
    // without its body, so a keep-alive connection stays framed.
    if (Api::IsSubscription(request)) return Subscribe(std::move(request), req.version());
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    busy_ = true;
    server_.api().metrics().InFlight(+1);
    auto respond = [self = this->shared_from_this(), keep_alive, version, head](http::Response response) {
      self->server_.api().metrics().InFlight(-1);
      asio::post(self->stream_.get_executor(),
                 [self, response = std::move(response), keep_alive, version, head]() mutable {
                   self->Respond(std::move(response), keep_alive, version, head);
                 });
    };
    if (Api::IsAppend(request) && request.body.size() <= kAppendOnIoThreadAtMost) {
      // Checked and queued here; answered from the log's thread once the
      // group commit is durable: no thread waits for the fsync.
      return server_.api().HandleAsync(request, std::move(respond));
    }
    // Everything else on the workers: a query may take a while, and a
    // large batch's parsing should not hold up the other connections.
    asio::post(server_.workers(), [self = this->shared_from_this(), request = std::move(request),
                                   respond = std::move(respond)]() mutable {
      self->server_.api().HandleAsync(request, std::move(respond));
    });
  }

  void Respond(http::Response response, bool keep_alive, unsigned version, bool head) {
    if (const std::string unsafe = http::UnsafeHeader(response); !unsafe.empty()) {
      Warn("an answer's header " + unsafe + " held a line break or NUL; answered 500 instead");
      response = http::Response{500, "application/json",
                                R"({"error":{"status":500,"code":"internal","message":"the answer could not be sent"}})", {}};
    }
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(response.status), version);
    res->set(bhttp::field::content_type, response.content_type);
    for (const auto& [k, v] : response.headers) res->set(k, v);
    res->body() = std::move(response.body);
    Write(res, keep_alive && !server_.stopping(), head);
  }

  // --- Server-sent events (GET /v1/subscribe) ---
  // The answer's header, then frames as the log grows, until the client
  // goes, the server stops, or a read cannot be recorded. The body ends with
  // the connection (no Content-Length), as HTTP/1.1 allows.
  void Subscribe(http::Request request, unsigned version) {
    busy_ = true;
    asio::post(server_.workers(), [self = this->shared_from_this(), request = std::move(request), version] {
      auto sub = self->server_.api().Subscribe(request);
      asio::post(self->stream_.get_executor(), [self, sub = std::move(sub), version]() mutable {
        if (auto* error = std::get_if<http::Response>(&sub)) {
          auto res = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(error->status),
                                                                           version);
          res->set(bhttp::field::content_type, error->content_type);
          for (const auto& [k, v] : error->headers) res->set(k, v);
          res->body() = std::move(error->body);
          return self->Write(res, false);
        }
        self->subscription_.emplace(std::move(std::get<Api::Subscription>(sub)));
        self->pending_ = std::make_shared<std::string>(
            "HTTP/1.1 200 OK\r\nServer: custodian\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
            "Connection: close\r\nX-Accel-Buffering: no\r\n\r\n: subscribed from position " +
            std::to_string(self->subscription_->next) + "\n\n");
        self->SendPending();
      });
    });
  }

  void SendPending() {
    beast::get_lowest_layer(stream_).expires_after(server_.options().write_timeout);
    asio::async_write(stream_, asio::buffer(*pending_),
                      [self = this->shared_from_this(), keep = pending_](beast::error_code ec, size_t) {
                        if (ec) return self->Close();
                        self->NextFrames();
                      });
  }

  void NextFrames() {
    if (server_.stopping()) return Close();
    asio::post(server_.workers(), [self = this->shared_from_this()] {
      Result<std::string> frames = self->server_.api().Poll(*self->subscription_, 500);
      asio::post(self->stream_.get_executor(), [self, frames = std::move(frames)]() mutable {
        if (!frames.ok()) {
          self->pending_ = std::make_shared<std::string>("event: error\ndata: " + frames.status().message() + "\n\n");
          self->subscription_.reset();
          asio::async_write(self->stream_, asio::buffer(*self->pending_),
                            [self, keep = self->pending_](beast::error_code, size_t) { self->Close(); });
          return;
        }
        if (!frames->empty()) {
          self->idle_polls_ = 0;
          self->pending_ = std::make_shared<std::string>(std::move(*frames));
          return self->SendPending();
        }
        // Nothing new: look again shortly; a comment now and then keeps
        // proxies from closing a quiet stream and finds a client that left.
        if (++self->idle_polls_ % kPollsPerHeartbeat == 0) {
          self->pending_ = std::make_shared<std::string>(": keep-alive\n\n");
          return self->SendPending();
        }
        self->timer_.expires_after(kPollEvery);
        self->timer_.async_wait([self](beast::error_code ec) {
          if (ec) return self->Close();
          self->NextFrames();
        });
      });
    });
  }

  static constexpr auto kPollEvery = std::chrono::milliseconds(100);
  static constexpr int kPollsPerHeartbeat = 150;  // 15 s

  void Write(const std::shared_ptr<bhttp::response<bhttp::string_body>>& res, bool keep_alive, bool head = false) {
    res->set(bhttp::field::server, "custodian");
    res->keep_alive(keep_alive);
    res->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(server_.options().write_timeout);
    if (!head) return Send(res, keep_alive);
    // The header as the GET's, Content-Length included; no body.
    Send(std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::response_header<>(res->base())), keep_alive);
  }

  template <class Message>
  void Send(std::shared_ptr<Message> message, bool keep_alive) {
    bhttp::async_write(stream_, *message,
                       [self = this->shared_from_this(), message, keep_alive](beast::error_code ec, size_t) {
                         self->busy_ = false;
                         if (ec || !keep_alive) return self->Close();
                         self->Read();
                       });
  }

  void Close() {
    beast::error_code ignored;
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(1));
    }
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  ServerImpl& server_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  asio::steady_timer timer_;
  std::optional<Api::Subscription> subscription_;
  std::shared_ptr<std::string> pending_;  // the bytes being written to a subscriber
  int idle_polls_ = 0;
  bool busy_ = false;  // a request is being handled or answered (the session's strand only)
};

void ServerImpl::Accept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) {
      if (!stopping_ && ec != asio::error::operation_aborted) Accept();
      return;
    }
    bool full = false;
    {
      std::lock_guard lk(mu_);
      full = connections_ >= options_.max_connections || stopping_;
      if (!full) ++connections_;
    }
    if (full) {
      boost::system::error_code ignored;
      socket.close(ignored);
    } else if (ssl_) {
      auto s = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
          *this, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *ssl_));
      Register(s);
      s->Start();
    } else {
      auto s = std::make_shared<Session<beast::tcp_stream>>(*this, beast::tcp_stream(std::move(socket)));
      Register(s);
      s->Start();
    }
    if (!stopping_) Accept();
  });
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(Api& api, const ServerOptions& options) {
  auto server = std::make_unique<ServerImpl>(api, options);
  CUSTODIAN_RETURN_IF_ERROR(server->Init());
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace custodian
