// A request and a response as the API sees them: plain values, no sockets
// and no Beast (server/session.cc translates), so that request handling is a
// pure function tests can call directly (STYLE.md, "Keep request handling pure").
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace custodian::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent: "/v1/customers/customer-1?min_position=9"
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent
  std::string body;
  // The value of the first header named `name` (any case); empty when absent.
  std::string Header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type and Content-Length
};

// "/v1/a%20b?x=1&y=%2F" -> path "/v1/a b" segments, query pairs, percent-decoded.
// False when the target is malformed (bad percent escape, not starting with '/',
// a decoded control byte or '/' inside a segment).
// Beast writes header values as given: one holding a line break would end
// the header early and smuggle what follows as the client's answer. The name
// of the first header whose value holds CR, LF or NUL; empty when none does.
std::string UnsafeHeader(const Response& response);

struct Target {
  std::vector<std::string> segments;                         // "/v1/streams/x/events" -> v1, streams, x, events
  std::vector<std::pair<std::string, std::string>> query;    // in order
  std::string Query(std::string_view name) const;            // first value; empty when absent
  bool Has(std::string_view name) const;
};
bool ParseTarget(std::string_view target, Target* out);
bool PercentDecode(std::string_view in, std::string* out, bool plus_is_space);

}  // namespace custodian::http
