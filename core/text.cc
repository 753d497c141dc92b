#include "core/text.h"

#include <fmt/core.h>

#include <cstdint>

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

std::string QuotedText(std::string_view s, size_t max) { return "\"" + OneLineText(s, max) + "\""; }

}  // namespace custodian
