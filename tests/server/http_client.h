// A small synchronous HTTP/1.1 client for the end-to-end tests of the server
// (tests/server/server_test.cc), over loopback with Boost.Beast, and a raw
// TCP connection for the bytes that are not HTTP. Beast and Asio stay in
// this header, so the tests read as requests and answers.
//
// Every operation has a deadline (kClientDeadline, or the one given): a
// server that never answers fails the test instead of hanging it. Not
// thread-safe: one object per thread.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <strings.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace custodian::testing {

inline constexpr std::chrono::milliseconds kClientDeadline{15'000};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// What the server answered. status 0: no answer (error says why).
struct HttpReply {
  int status = 0;
  std::string body;
  HeaderList headers;
  bool keep_alive = false;
  std::string error;

  // The first header named `name` (any case); empty when absent.
  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), name.size()) == 0) return v;
    }
    return std::string();
  }
};

namespace client_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;

// Runs the io_context until the operation started on it completes; the
// stream's expiry bounds it.
inline void RunToCompletion(asio::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

}  // namespace client_detail

// One connection to 127.0.0.1:port, kept alive across Send calls.
class HttpClient {
 public:
  explicit HttpClient(uint16_t port) : stream_(ioc_) {
    namespace asio = boost::asio;
    boost::system::error_code result = asio::error::would_block;
    stream_.expires_after(kClientDeadline);
    stream_.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                          [&](boost::system::error_code ec) { result = ec; });
    client_detail::RunToCompletion(ioc_);
    connected_ = !result;
    connect_error_ = result.message();
  }
  ~HttpClient() {
    boost::system::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  bool connected() const { return connected_; }

  // Sends one request on this connection and reads the answer. A non-empty
  // `token` goes in Authorization: Bearer.
  HttpReply Send(std::string_view method, std::string_view target, const std::string& token = "",
                 std::string body = "", const HeaderList& headers = {},
                 std::string_view content_type = "application/json") {
    namespace bhttp = boost::beast::http;
    HttpReply reply;
    if (!connected_) {
      reply.error = "not connected: " + connect_error_;
      return reply;
    }
    bhttp::request<bhttp::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(bhttp::field::host, "127.0.0.1");
    if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
    if (!body.empty()) req.set(bhttp::field::content_type, content_type);
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = std::move(body);
    req.prepare_payload();
    boost::system::error_code result;
    stream_.expires_after(kClientDeadline);
    bhttp::async_write(stream_, req, [&](boost::system::error_code ec, size_t) { result = ec; });
    client_detail::RunToCompletion(ioc_);
    if (result) {
      reply.error = "write: " + result.message();
      return reply;
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(method == "HEAD");  // an answer to HEAD has no body, whatever its Content-Length says
    stream_.expires_after(kClientDeadline);
    bhttp::async_read(stream_, buffer_, parser, [&](boost::system::error_code ec, size_t) { result = ec; });
    client_detail::RunToCompletion(ioc_);
    if (result) {
      reply.error = "read: " + result.message();
      return reply;
    }
    bhttp::response<bhttp::string_body> res = parser.release();
    reply.status = static_cast<int>(res.result_int());
    reply.keep_alive = res.keep_alive();
    for (const auto& field : res) reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    reply.body = std::move(res.body());
    return reply;
  }

  // Whether the server closed this connection: waits up to `deadline` for
  // end of stream (bytes the server sends meanwhile are dropped).
  bool ClosedByServer(std::chrono::milliseconds deadline) {
    boost::system::error_code result = boost::asio::error::would_block;
    char byte;
    stream_.expires_after(deadline);
    stream_.async_read_some(boost::asio::buffer(&byte, 1), [&](boost::system::error_code ec, size_t) { result = ec; });
    client_detail::RunToCompletion(ioc_);
    return result == boost::asio::error::eof || result == boost::asio::error::connection_reset;
  }

 private:
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
  std::string connect_error_;
};

// One request on a connection of its own.
inline HttpReply Fetch(uint16_t port, std::string_view method, std::string_view target, const std::string& token = "",
                       std::string body = "", const HeaderList& headers = {}) {
  HttpClient client(port);
  return client.Send(method, target, token, std::move(body), headers);
}

// A TCP connection that sends whatever bytes it is given: for truncated,
// oversized and garbage requests.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) : stream_(ioc_) {
    namespace asio = boost::asio;
    boost::system::error_code result = asio::error::would_block;
    stream_.expires_after(kClientDeadline);
    stream_.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                          [&](boost::system::error_code ec) { result = ec; });
    client_detail::RunToCompletion(ioc_);
    connected_ = !result;
  }
  ~RawConnection() { Close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }

  // Sends `bytes`; false when the server closed the connection first.
  bool Send(std::string_view bytes) {
    boost::system::error_code result;
    stream_.expires_after(kClientDeadline);
    boost::asio::async_write(stream_, boost::asio::buffer(bytes.data(), bytes.size()),
                             [&](boost::system::error_code ec, size_t) { result = ec; });
    client_detail::RunToCompletion(ioc_);
    return !result;
  }

  // Reads until the server closes the connection (*closed = true) or
  // `deadline` passes (*closed = false); returns what came.
  std::string ReadUntilClosed(std::chrono::milliseconds deadline, bool* closed) {
    std::string out;
    char chunk[4096];
    *closed = false;
    stream_.expires_after(deadline);
    for (;;) {
      boost::system::error_code result;
      size_t n = 0;
      stream_.async_read_some(boost::asio::buffer(chunk), [&](boost::system::error_code ec, size_t got) {
        result = ec;
        n = got;
      });
      client_detail::RunToCompletion(ioc_);
      out.append(chunk, n);
      if (result == boost::asio::error::eof || result == boost::asio::error::connection_reset) {
        *closed = true;
        return out;
      }
      if (result) return out;  // the deadline passed
    }
  }

  // Closes at once, as a client that goes away mid-request.
  void Close() {
    boost::system::error_code ignored;
    stream_.socket().close(ignored);
  }

 private:
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  bool connected_ = false;
};

// Whether a TCP connection to 127.0.0.1:port is accepted.
inline bool CanConnect(uint16_t port) { return RawConnection(port).connected(); }

// The status code in the first line of a raw answer ("HTTP/1.1 431 ..."); 0 when there is none.
inline int StatusOf(std::string_view raw) {
  if (!raw.starts_with("HTTP/1.1 ") || raw.size() < 12) return 0;
  return std::stoi(std::string(raw.substr(9, 3)));
}

// The body of a raw answer: what follows the blank line.
inline std::string BodyOf(std::string_view raw) {
  const size_t end = raw.find("\r\n\r\n");
  return end == std::string_view::npos ? std::string() : std::string(raw.substr(end + 4));
}

}  // namespace custodian::testing
