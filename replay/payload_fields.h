// Reading event payloads and projection state with Boost.JSON: helpers shared
// by the .cc files of replay/ (not part of any public header, so Boost.JSON
// stays out of the interfaces).
//
// Stored state keeps times as integer microseconds since the epoch: smaller
// and faster to fold than RFC 3339 text.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "core/event.h"
#include "core/status.h"
#include "core/time.h"

namespace custodian::payload {

// The event's data as a JSON object; Corruption, naming the position, if not.
inline Result<boost::json::object> ParseData(const Event& e) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(e.data, ec);
  if (ec || !v.is_object()) {
    return Status::Corruption("event at position " + std::to_string(e.position.value()) + " (" + e.type +
                              ") has data that is not a JSON object");
  }
  return std::move(v.get_object());
}

// A stored state value as a JSON object.
inline Result<boost::json::object> ParseState(std::string_view text, std::string_view key) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return Status::Corruption("stored state of " + std::string(key) + " is not a JSON object");
  return std::move(v.get_object());
}

// Stored state of `key` in `projection` that does not decode: Corruption
// with the cure, since a projection can always be folded again.
inline Status StateMalformed(std::string_view key, std::string_view projection, std::string_view why) {
  return Status::Corruption("stored state of " + std::string(key) + " in the " + std::string(projection) +
                            " projection is malformed: " + std::string(why) + "; `custodian rebuild " +
                            std::string(projection) + "` folds it again from the log");
}

inline std::string Str(const boost::json::object& o, std::string_view k) {
  auto it = o.find(k);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}

inline std::optional<int64_t> Int(const boost::json::object& o, std::string_view k) {
  auto it = o.find(k);
  if (it == o.end() || !it->value().is_number()) return std::nullopt;
  return it->value().to_number<int64_t>();
}

// A time field of a payload, in RFC 3339.
inline std::optional<Timestamp> Time(const boost::json::object& o, std::string_view k) {
  std::string s = Str(o, k);
  if (s.empty()) return std::nullopt;
  Result<Timestamp> t = ParseRfc3339(s);
  return t.ok() ? std::optional<Timestamp>(*t) : std::nullopt;
}

// A time field of stored state, in microseconds.
inline std::optional<Timestamp> Micros(const boost::json::object& o, std::string_view k) {
  if (auto v = Int(o, k)) return Timestamp(*v);
  return std::nullopt;
}
inline boost::json::value MicrosJson(const std::optional<Timestamp>& t) {
  return t ? boost::json::value(t->value()) : boost::json::value(nullptr);
}

// RFC 3339 for output, or null.
inline boost::json::value TimeJson(const std::optional<Timestamp>& t) {
  return t ? boost::json::value(FormatRfc3339(*t)) : boost::json::value(nullptr);
}

inline bool IsStaff(std::string_view id) { return id.starts_with("staff-"); }

}  // namespace custodian::payload
