// Fuzz target: the request path of the server, from bytes on the socket to
// what the API reads (server/server.cc, Session::Read and OnRead).
//
// Input: the bytes a client sends on one connection. They are parsed as the
// session parses them: a Beast request_parser<string_body> per request with
// the server's limits (ServerOptions: 16 KiB of headers, 8 MiB of body),
// fed from one buffer, the next request parsed from what is left while the
// client keeps the connection alive. Each whole request is converted to an
// http::Request exactly as OnRead does, then routed the way the API begins:
// IsSubscription, ParseTarget, and DecodeCloudEvents (the one decoder that
// reads headers as well as the body).
// Properties:
//  - nothing crashes, whatever the bytes;
//  - the bytes arriving in small pieces give the same requests, and the same
//    answer to a read error (400, 413 or 431), as the bytes arriving at once
//    (the socket decides the pieces; what the client gets must not depend
//    on them);
//  - an accepted target has no empty segment, and no '/' or NUL inside a
//    segment; an accepted query has no empty key and no NUL.
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "server/api.h"
#include "server/cloudevents.h"
#include "server/http.h"
#include "server/server.h"
#include "tests/fuzz/fuzz_properties.h"

namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using custodian::http::Request;

constexpr size_t kMaxRequestsPerConnection = 16;

struct Connection {
  std::vector<Request> requests;  // each whole request, in order
  beast::error_code error;        // why reading stopped; none when the bytes ran out between requests
};

// The requests in `bytes`, made available `piece` bytes at a time (a read
// from the socket), as Session::Read/OnRead see them.
Connection ReadConnection(std::string_view bytes, size_t piece) {
  static const custodian::ServerOptions options;  // the limits a session reads under
  Connection out;
  size_t available = 0;  // bytes read from the "socket" so far
  size_t used = 0;       // bytes consumed by parsers
  while (out.requests.size() < kMaxRequestsPerConnection) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    parser.body_limit(options.body_limit);
    beast::error_code ec;
    while (!parser.is_done()) {
      if (used == available) {
        if (available == bytes.size()) {
          // The client closed: async_read reports end_of_stream before any
          // byte of a request, otherwise what put_eof says.
          if (parser.got_some()) {
            parser.put_eof(ec);
          } else {
            ec = bhttp::error::end_of_stream;
          }
          break;
        }
        available = std::min(bytes.size(), available + piece);
      }
      const size_t n = parser.put(boost::asio::buffer(bytes.data() + used, available - used), ec);
      used += n;
      if (ec == bhttp::error::need_more) {
        ec = {};
        if (available == bytes.size()) {
          if (parser.got_some()) {
            parser.put_eof(ec);
          } else {
            ec = bhttp::error::end_of_stream;
          }
          break;
        }
        available = std::min(bytes.size(), available + piece);
        continue;
      }
      if (ec) break;
    }
    if (ec) {
      if (ec != bhttp::error::end_of_stream) out.error = ec;
      return out;
    }
    FUZZ_CHECK(parser.is_done());
    bhttp::request<bhttp::string_body> req = parser.release();
    // As Session::OnRead converts it.
    Request request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    for (const auto& field : req) request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    request.body = std::move(req.body());
    const bool keep_alive = req.keep_alive();
    const bool subscription = custodian::Api::IsSubscription(request);
    out.requests.push_back(std::move(request));
    if (subscription || !keep_alive) return out;  // the connection is then the subscription's, or closed
  }
  return out;
}

// The status Session::OnRead answers a read error with; 0 for none. Beast
// may name a malformed request's fault differently depending on where the
// pieces break (a bare CR is "bad line ending" when seen whole, "partial
// message" when the input ends first), but the client's answer is the same.
int AnswerTo(const beast::error_code& ec) {
  if (!ec) return 0;
  if (ec == bhttp::error::body_limit) return 413;
  if (ec == bhttp::error::header_limit) return 431;
  return 400;
}

bool SameRequests(const std::vector<Request>& a, const std::vector<Request>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].method != b[i].method || a[i].target != b[i].target || a[i].headers != b[i].headers ||
        a[i].body != b[i].body) {
      return false;
    }
  }
  return true;
}

void Route(const Request& request) {
  using namespace custodian;
  http::Target target;
  if (http::ParseTarget(request.target, &target)) {
    for (const std::string& segment : target.segments) {
      FUZZ_CHECK(!segment.empty());
      FUZZ_CHECK(segment.find('/') == std::string::npos && segment.find('\0') == std::string::npos);
    }
    for (const auto& [key, value] : target.query) {
      FUZZ_CHECK(!key.empty());
      FUZZ_CHECK(key.find('\0') == std::string::npos && value.find('\0') == std::string::npos);
    }
  }
  Result<DecodedCloudEvents> decoded = DecodeCloudEvents(request, fuzz::FuzzNow());
  if (decoded.ok()) {
    for (const Event& e : decoded->events) fuzz::CheckEventRoundTrip(e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const Connection at_once = ReadConnection(bytes, bytes.size() + 1);
  const Connection in_pieces = ReadConnection(bytes, 61);
  FUZZ_CHECK(SameRequests(at_once.requests, in_pieces.requests));
  if (AnswerTo(at_once.error) != AnswerTo(in_pieces.error)) {
    std::fprintf(stderr, "at once: %s; in pieces: %s\n", at_once.error.message().c_str(),
                 in_pieces.error.message().c_str());
  }
  FUZZ_CHECK(AnswerTo(at_once.error) == AnswerTo(in_pieces.error));
  for (const Request& request : at_once.requests) Route(request);
  return 0;
}
