#include "server/http.h"

#include <strings.h>

#include <algorithm>

namespace custodian::http {

std::string Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), name.size()) == 0) return v;
  }
  return std::string();
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool PercentDecode(std::string_view in, std::string* out, bool plus_is_space) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

std::string UnsafeHeader(const Response& response) {
  for (const auto& [k, v] : response.headers) {
    if (v.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) return k;
  }
  return std::string();
}

bool ParseTarget(std::string_view target, Target* out) {
  *out = Target{};
  if (target.empty() || target.front() != '/') return false;
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  size_t start = 1;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    std::string segment;
    if (!PercentDecode(path.substr(start, end - start), &segment, false)) return false;
    // No id has a control byte, and one decoded from %0D%0A must never reach a header.
    if (std::any_of(segment.begin(), segment.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f || c == '/'; })) {
      return false;
    }
    if (!segment.empty()) out->segments.push_back(std::move(segment));
    start = end + 1;
  }
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      const size_t amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const size_t eq = pair.find('=');
      std::string k, v;
      if (!PercentDecode(pair.substr(0, eq), &k, true)) return false;
      if (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), &v, true)) return false;
      if (k.find('\0') != std::string::npos || v.find('\0') != std::string::npos) return false;
      if (!k.empty()) out->query.emplace_back(std::move(k), std::move(v));
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  return true;
}

std::string Target::Query(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return std::string();
}

bool Target::Has(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return true;
  }
  return false;
}

}  // namespace custodian::http
