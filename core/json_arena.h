// Internal to core/'s .cc files (it includes Boost.JSON): parsing small JSON
// texts into a stack arena, and naming JSON kinds in messages.
#pragma once

#include <boost/json.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/validation.h"

namespace custodian::internal {

// Parses with a stack-backed arena: no heap allocation for texts of the sizes
// events carry. The value lives as long as the parser, so callers copy out
// what they keep. Not reusable: one Parse per parser.
class ArenaJsonParser {
 public:
  ArenaJsonParser()
      : resource_(arena_.data(), arena_.size()),
        parser_(boost::json::storage_ptr(&resource_), boost::json::parse_options(), temp_.data(), temp_.size()) {}

  // On failure says where: "<what>invalid JSON at byte 17: syntax error".
  Result<boost::json::value> Parse(std::string_view text, std::string_view what = "") {
    boost::system::error_code ec;
    size_t n = parser_.write(text.data(), text.size(), ec);
    if (ec) {
      std::string why = ec.message();
      if (!IsValidUtf8(text)) why = "the text is not valid UTF-8";
      return Status::InvalidArgument(std::string(what) + "invalid JSON at byte " + std::to_string(n) + ": " + why);
    }
    return parser_.release();
  }

 private:
  alignas(std::max_align_t) std::array<unsigned char, 4096> arena_;
  alignas(std::max_align_t) std::array<unsigned char, 1024> temp_;
  boost::json::monotonic_resource resource_;
  boost::json::parser parser_;
};

// "a string", "an object", ... for messages.
inline const char* KindName(boost::json::kind k) {
  switch (k) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "a number";
    case boost::json::kind::string: return "a string";
    case boost::json::kind::array: return "an array";
    case boost::json::kind::object: return "an object";
  }
  return "something else";
}

}  // namespace custodian::internal
