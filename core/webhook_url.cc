#include "core/webhook_url.h"

#include <fmt/format.h>

namespace custodian {
namespace {

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int HexValue(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

// RFC 3986 pchar without '%' (checked apart): unreserved, sub-delims, ':' and '@'.
bool IsPathChar(char c) {
  return IsAlnum(c) || std::string_view("-._~!$&'()*+,;=:@").find(c) != std::string_view::npos;
}

Status Bad(const std::string& what) {
  return Status::InvalidArgument("webhook URL: " + what +
                                 "; expected http[s]://[user:password@]host[:port][/path][?query], e.g. "
                                 "https://soc.example.com:8443/custodian-alerts");
}

// Checks percent-escapes and characters of a path, query or userinfo;
// `extra` are further allowed characters. `part` names it in messages
// without showing it.
Status CheckPart(std::string_view s, std::string_view extra, const char* part) {
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !IsHex(s[i + 1]) || !IsHex(s[i + 2])) {
        return Bad(fmt::format("the {} has a '%' that is not followed by two hex digits", part));
      }
      i += 2;
      continue;
    }
    if (!IsPathChar(c) && extra.find(c) == std::string_view::npos) {
      return Bad(fmt::format("the {} has the character '{}', which a URL must percent-encode", part, c));
    }
  }
  return Status::Ok();
}

Status CheckHostName(std::string_view host) {
  if (host.size() > 253) return Bad(fmt::format("the host is {} characters long, at most 253", host.size()));
  size_t label_start = 0;
  for (size_t i = 0; i <= host.size(); ++i) {
    if (i < host.size() && host[i] != '.') {
      const char c = host[i];
      if (!IsAlnum(c) && c != '-') {
        return Bad(fmt::format("the host '{}' has the character '{}' (a host is letters, digits, '-' and '.')", host,
                               c));
      }
      continue;
    }
    const std::string_view label = host.substr(label_start, i - label_start);
    if (label.empty()) return Bad(fmt::format("the host '{}' has an empty label (two dots, or a dot at an end)", host));
    if (label.size() > 63) return Bad(fmt::format("the host '{}' has a label longer than 63 characters", host));
    if (label.front() == '-' || label.back() == '-') {
      return Bad(fmt::format("the host '{}' has a label that starts or ends with '-'", host));
    }
    label_start = i + 1;
  }
  return Status::Ok();
}

std::string RedactQuery(std::string_view query) {
  std::string out;
  size_t at = 0;
  while (at <= query.size()) {
    size_t end = query.find('&', at);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view param = query.substr(at, end - at);
    if (at > 0) out += '&';
    const size_t eq = param.find('=');
    if (eq == std::string_view::npos) {
      if (!param.empty()) out += kRedacted;
    } else {
      out += param.substr(0, eq + 1);
      out += kRedacted;
    }
    at = end + 1;
  }
  return out;
}

}  // namespace

bool WebhookUrl::HasCredential() const { return !userinfo.empty() || !query.empty(); }

bool WebhookUrl::IsRedacted() const {
  return (userinfo.empty() || userinfo == kRedacted) && RedactQuery(query) == query;
}

std::string WebhookUrl::Redacted() const {
  WebhookUrl r = *this;
  if (!r.userinfo.empty()) r.userinfo = kRedacted;
  r.query = RedactQuery(query);
  return r.Full();
}

std::string WebhookUrl::HostHeader() const {
  std::string h = ipv6 ? "[" + host + "]" : host;
  if (port_given) h += ":" + std::to_string(port);
  return h;
}

std::string WebhookUrl::Target() const { return query.empty() ? path : path + "?" + query; }

std::string WebhookUrl::Full() const {
  return scheme + "://" + (userinfo.empty() ? "" : userinfo + "@") + HostHeader() + Target();
}

std::string WebhookUrl::DecodedUserinfo() const {
  std::string out;
  for (size_t i = 0; i < userinfo.size(); ++i) {
    if (userinfo[i] == '%' && i + 2 < userinfo.size() && IsHex(userinfo[i + 1]) && IsHex(userinfo[i + 2])) {
      out.push_back(static_cast<char>(HexValue(userinfo[i + 1]) * 16 + HexValue(userinfo[i + 2])));
      i += 2;
    } else {
      out.push_back(userinfo[i]);
    }
  }
  return out;
}

Result<WebhookUrl> ParseWebhookUrl(std::string_view url) {
  if (url.empty()) return Bad("it is empty");
  if (url.size() > 2048) return Bad(fmt::format("it is {} bytes long, at most 2048", url.size()));
  for (size_t i = 0; i < url.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(url[i]);
    if (c == ' ') return Bad(fmt::format("byte {} is a space (a URL has none; write %20)", i + 1));
    if (c < 0x20 || c == 0x7f) return Bad(fmt::format("byte {} is a control character (0x{:02x})", i + 1, c));
    if (c > 0x7e) return Bad(fmt::format("byte {} is not ASCII (0x{:02x}); percent-encode it", i + 1, c));
  }
  WebhookUrl u;
  const size_t colon = url.find("://");
  if (colon == std::string_view::npos) return Bad("there is no scheme (no '://')");
  u.scheme = std::string(url.substr(0, colon));
  if (u.scheme != "http" && u.scheme != "https") {
    return Bad(fmt::format("the scheme '{}' is not supported (only http and https, in lower case)", u.scheme));
  }
  std::string_view rest = url.substr(colon + 3);
  if (rest.find('#') != std::string_view::npos) return Bad("it has a fragment ('#'), which is never sent to a server");
  const size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    if (userinfo.empty()) return Bad("it has an '@' with nothing before it");
    if (userinfo.find('@') != std::string_view::npos) return Bad("the user and password have an '@'; write %40");
    CUSTODIAN_RETURN_IF_ERROR(CheckPart(userinfo, "", "user and password"));
    u.userinfo = std::string(userinfo);
    authority = authority.substr(at + 1);
  }
  std::string_view port;
  if (authority.starts_with("[")) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Bad("the IPv6 address has no closing ']'");
    const std::string_view address = authority.substr(1, close - 1);
    if (address.empty() || address.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos ||
        address.find(':') == std::string_view::npos) {
      return Bad(fmt::format("'[{}]' is not an IPv6 address", address));
    }
    u.host = std::string(address);
    u.ipv6 = true;
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(":")) return Bad("the IPv6 address is followed by something other than a port");
    if (!after.empty()) {
      port = after.substr(1);
      u.port_given = true;
    }
  } else {
    const size_t port_colon = authority.find(':');
    u.host = std::string(authority.substr(0, port_colon));
    if (port_colon != std::string_view::npos) {
      port = authority.substr(port_colon + 1);
      u.port_given = true;
    }
    if (u.host.empty()) return Bad("there is no host");
    CUSTODIAN_RETURN_IF_ERROR(CheckHostName(u.host));
  }
  if (u.port_given) {
    if (port.empty()) return Bad("the ':' after the host is not followed by a port");
    uint32_t n = 0;
    bool digits = port.size() <= 5;
    for (char c : port) {
      if (c < '0' || c > '9') digits = false;
      if (digits) n = n * 10 + static_cast<uint32_t>(c - '0');
    }
    if (!digits || n == 0 || n > 65535) {
      return Bad(fmt::format("the port '{}' is not a number from 1 to 65535", port));
    }
    u.port = static_cast<uint16_t>(n);
  } else {
    u.port = u.https() ? 443 : 80;
  }
  const size_t q = tail.find('?');
  const std::string_view path = tail.substr(0, q);
  if (q != std::string_view::npos) u.query = std::string(tail.substr(q + 1));
  CUSTODIAN_RETURN_IF_ERROR(CheckPart(path, "/", "path"));
  CUSTODIAN_RETURN_IF_ERROR(CheckPart(u.query, "/?", "query"));
  u.path = path.empty() ? "/" : std::string(path);
  return u;
}

}  // namespace custodian
