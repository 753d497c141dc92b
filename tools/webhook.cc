// The alert webhook: one HTTP/1.1 POST with Boost.Beast. Beast stays in this
// translation unit (STYLE.md: heavy headers in few places).
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <string>

#include "tools/cli.h"

namespace custodian::cli {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

Status PostJson(const std::string& url, const std::string& body) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return Status::InvalidArgument("webhook " + url + ": only http:// URLs are supported");
  const std::string rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string host = authority, port = "80";
  if (const size_t colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return Status::InvalidArgument("webhook " + url + ": no host");
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(5));
    stream.connect(resolver.resolve(host, port));
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, authority);
    req.set(http::field::user_agent, "custodian-alerts");
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    stream.expires_after(std::chrono::seconds(5));
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    beast::error_code ec;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    const unsigned code = res.result_int();
    if (code < 200 || code >= 300) return Status::IoError("webhook " + url + " answered HTTP " + std::to_string(code));
  } catch (const std::exception& e) {
    return Status::IoError("webhook " + url + ": " + e.what());
  }
  return Status::Ok();
}

}  // namespace custodian::cli
