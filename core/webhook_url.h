// The alert webhook's URL (docs/access-and-alerts.md, "Settings and the
// webhook"), parsed strictly: an http:// or https:// URL of printable ASCII,
// a host of letters, digits, '-' and '.' (or an IPv6 address in brackets), a
// port from 1 to 65535, a path and query of URL characters, no fragment.
//
// A URL can carry a credential: userinfo ("https://user:pass@host/...") or a
// token in the query string ("...?token=abc"). As a token cannot be told
// from any other query value, every query value counts as one. A credential
// is never written to the log: the log holds Redacted(), the full URL stays
// in the store's secrets file (replay/alert_settings.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace custodian {

// What replaces a credential in a redacted URL.
inline constexpr std::string_view kRedacted = "***";

struct WebhookUrl {
  std::string scheme;    // "http" or "https"
  std::string userinfo;  // as written (percent-encoded), without the '@'; may be empty
  std::string host;      // a name, an IPv4 address, or an IPv6 address without its brackets
  bool ipv6 = false;
  uint16_t port = 0;     // the port given, else 80 or 443
  bool port_given = false;
  std::string path;      // from the first '/', "/" when none is given
  std::string query;     // after '?', without it; may be empty

  bool https() const { return scheme == "https"; }
  // Userinfo, or any query value.
  bool HasCredential() const;
  // Whether every credential it has is kRedacted (true when it has none).
  bool IsRedacted() const;
  // The URL with the userinfo and every query value replaced by kRedacted.
  std::string Redacted() const;
  // The URL as given (normalized: the path defaults to "/").
  std::string Full() const;
  // What the request line names: path, then '?' and the query if any.
  std::string Target() const;
  // The Host header: host, and ":port" when the port was given.
  std::string HostHeader() const;
  // The userinfo percent-decoded ("user:pass"), for HTTP Basic authentication.
  std::string DecodedUserinfo() const;
};

// InvalidArgument naming what is wrong and where, e.g. "the port '99999' is
// not a number from 1 to 65535". Messages never repeat the userinfo or the
// query, which may hold a credential.
Result<WebhookUrl> ParseWebhookUrl(std::string_view url);

}  // namespace custodian
