// The alert webhook: one HTTP/1.1 POST over http or https with Boost.Beast.
// Beast, Asio and OpenSSL stay in this translation unit (STYLE.md: heavy
// headers in few places).
//
// https verifies the server's certificate chain against the system's CA
// store (or only the CA file named by $CUSTODIAN_WEBHOOK_CA_FILE, e.g. a
// private CA or a test's self-signed certificate) and its name against the
// URL's host, and sends the host as SNI. A user and password in the URL are
// sent as HTTP Basic authentication. Messages name the URL redacted.
#include "service/webhook.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <cstdlib>
#include <string>

#include "core/base64.h"
#include "core/webhook_url.h"

namespace custodian {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
namespace ssl = asio::ssl;

namespace {

constexpr std::chrono::seconds kTimeout(5);

http::request<http::string_body> MakeRequest(const WebhookUrl& url, const std::string& body) {
  http::request<http::string_body> req{http::verb::post, url.Target(), 11};
  req.set(http::field::host, url.HostHeader());
  req.set(http::field::user_agent, "custodian-alerts");
  req.set(http::field::content_type, "application/json");
  if (!url.userinfo.empty()) req.set(http::field::authorization, "Basic " + Base64Encode(url.DecodedUserinfo()));
  req.body() = body;
  req.prepare_payload();
  return req;
}

// Runs `io` until the operation it holds completes, and throws its error.
// Every step is asynchronous: a beast::tcp_stream's expiry (kTimeout) ends an
// asynchronous operation with error::timeout, but a blocking call ignores
// it, and a receiver that accepts and never answers would hang the caller.
void Await(asio::io_context& io, const beast::error_code& ec, const char* what) {
  io.restart();
  io.run();
  if (ec) throw beast::system_error(ec, what);
}

// Connects the stream's TCP layer to the URL's host, within kTimeout.
template <typename Stream>
void Connect(asio::io_context& io, Stream& stream, const WebhookUrl& url) {
  asio::ip::tcp::resolver resolver(io);
  beast::error_code ec;
  beast::get_lowest_layer(stream).expires_after(kTimeout);
  beast::get_lowest_layer(stream).async_connect(resolver.resolve(url.host, std::to_string(url.port)),
                                                [&](beast::error_code e, const asio::ip::tcp::endpoint&) { ec = e; });
  Await(io, ec, "connect");
}

// Sends `req` on a connected stream and reads the answer's status code, each
// within kTimeout.
template <typename Stream>
unsigned Exchange(asio::io_context& io, Stream& stream, http::request<http::string_body>& req) {
  beast::error_code ec;
  beast::get_lowest_layer(stream).expires_after(kTimeout);
  http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
  Await(io, ec, "send");
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  beast::get_lowest_layer(stream).expires_after(kTimeout);
  http::async_read(stream, buffer, res, [&](beast::error_code e, size_t) { ec = e; });
  Await(io, ec, "read the answer");
  return res.result_int();
}

unsigned PostHttp(asio::io_context& io, const WebhookUrl& url, http::request<http::string_body>& req) {
  beast::tcp_stream stream(io);
  Connect(io, stream, url);
  const unsigned code = Exchange(io, stream, req);
  beast::error_code ec;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  return code;
}

unsigned PostHttps(asio::io_context& io, const WebhookUrl& url, http::request<http::string_body>& req) {
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (const char* ca = std::getenv("CUSTODIAN_WEBHOOK_CA_FILE"); ca != nullptr && *ca != 0) {
    ctx.load_verify_file(ca);
  } else {
    ctx.set_default_verify_paths();
  }
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  stream.set_verify_callback(ssl::host_name_verification(url.host));
  // SNI names a host, never an address (RFC 6066).
  boost::system::error_code not_an_address;
  (void)asio::ip::make_address(url.host, not_an_address);
  if (not_an_address && !SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str())) {
    throw beast::system_error(beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()),
                              "setting SNI");
  }
  Connect(io, stream, url);
  beast::error_code ec;
  beast::get_lowest_layer(stream).expires_after(kTimeout);
  stream.async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
  Await(io, ec, "TLS handshake");
  const unsigned code = Exchange(io, stream, req);
  // The answer was read whole: the connection is closed without a TLS
  // close_notify, which a receiver that never answers it would hold for
  // another kTimeout.
  beast::get_lowest_layer(stream).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  return code;
}

}  // namespace

Status PostJson(const std::string& url_text, const std::string& body) {
  Result<WebhookUrl> url = ParseWebhookUrl(url_text);
  if (!url.ok()) return url.status();
  const std::string shown = url->Redacted();
  try {
    asio::io_context io;
    http::request<http::string_body> req = MakeRequest(*url, body);
    const unsigned code = url->https() ? PostHttps(io, *url, req) : PostHttp(io, *url, req);
    if (code < 200 || code >= 300) return Status::IoError("webhook " + shown + " answered HTTP " + std::to_string(code));
  } catch (const std::exception& e) {
    return Status::IoError("webhook " + shown + ": " + e.what());
  }
  return Status::Ok();
}

}  // namespace custodian
