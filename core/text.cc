#include "core/text.h"

#include <fmt/core.h>
#include <locale.h>
#include <wctype.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <utility>

namespace custodian {

std::string OneLineText(std::string_view s, size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = byte(i);
    const bool continuation = (c & 0xC0) == 0x80;
    if (out.size() >= max && !continuation) {
      out += "...";
      break;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    } else if (c == 0xc2 && i + 1 < s.size() && byte(i + 1) >= 0x80 && byte(i + 1) <= 0x9f) {
      // C1 controls, U+0080..U+009F (CSI among them).
      out += "\\u00";
      out.push_back(kHex[byte(i + 1) >> 4]);
      out.push_back(kHex[byte(i + 1) & 0xf]);
      ++i;
    } else if (c == 0xe2 && i + 2 < s.size() &&
               ((byte(i + 1) == 0x80 && byte(i + 2) >= 0xaa && byte(i + 2) <= 0xae) ||
                (byte(i + 1) == 0x81 && byte(i + 2) >= 0xa6 && byte(i + 2) <= 0xa9))) {
      // U+2000 + ((byte1 & 0x3f) << 6 | (byte2 & 0x3f))
      const unsigned cp = 0x2000 + (((byte(i + 1) & 0x3fu) << 6) | (byte(i + 2) & 0x3fu));
      out += fmt::format("\\u{:04x}", cp);
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string TerminalText(std::string_view s) { return OneLineText(s, SIZE_MAX); }

std::optional<int64_t> ParseInt64(std::string_view s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<uint64_t> ParseUint64(std::string_view s) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::string HtmlText(std::string_view s) {
  const std::string line = TerminalText(s);
  std::string out;
  out.reserve(line.size() + 16);
  for (char c : line) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string QuotedText(std::string_view s, size_t max) { return "\"" + OneLineText(s, max) + "\""; }

std::optional<std::pair<char32_t, size_t>> DecodeUtf8At(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  const size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return std::nullopt;
  char32_t cp = c & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
  return std::make_pair(cp, n);
}

namespace {

void Encode(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

locale_t Utf8Locale() {
  static const locale_t locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return locale;
}

}  // namespace

bool FoldsEveryScript() { return Utf8Locale() != static_cast<locale_t>(nullptr); }

std::string FoldCase(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const locale_t locale = Utf8Locale();
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c));
      ++i;
      continue;
    }
    const auto decoded = DecodeUtf8At(s, i);
    if (!decoded || locale == static_cast<locale_t>(nullptr)) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    const auto [cp, n] = *decoded;
    const wint_t lower = towlower_l(static_cast<wint_t>(cp), locale);
    Encode(static_cast<char32_t>(lower), out);
    i += n;
  }
  return out;
}

}  // namespace custodian
