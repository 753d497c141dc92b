// Strong types for the numbers and ids of the log (after Redpanda's named_type):
// swapping a Position and a StreamVersion, or an EventId and a stream name,
// does not compile.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace custodian {

// A value of type T that only mixes with values of the same Tag.
template <typename T, typename Tag>
class NamedType {
 public:
  using value_type = T;
  constexpr NamedType() = default;
  constexpr explicit NamedType(T v) : v_(v) {}
  constexpr T value() const { return v_; }
  constexpr auto operator<=>(const NamedType&) const = default;

 private:
  T v_{};
};

// Global order of an event in the log, assigned by the log, dense from 0.
using Position = NamedType<uint64_t, struct PositionTag>;

// Order of an event within its stream, assigned by the log, dense from 0.
using StreamVersion = NamedType<uint64_t, struct StreamVersionTag>;

// UTC time in microseconds since the Unix epoch.
using Timestamp = NamedType<int64_t, struct TimestampTag>;

// An event's id: a UUID chosen by the producer (the idempotency key).
class EventId {
 public:
  static constexpr size_t kSize = 16;
  EventId() = default;
  explicit EventId(const std::array<uint8_t, kSize>& bytes) : bytes_(bytes) {}

  // Accepts the 8-4-4-4-12 hexadecimal form, either case. Rejects the nil UUID.
  static Result<EventId> Parse(std::string_view text);
  // A random version-4 UUID (OpenSSL's RAND_bytes).
  static EventId Random();
  // A version-4-shaped UUID derived from `seed` by SHA-256: the same seed
  // always gives the same id, so an event made again is a duplicate.
  static EventId FromSeed(std::string_view seed);

  // Lower-case 8-4-4-4-12 form.
  std::string ToString() const;

  const std::array<uint8_t, kSize>& bytes() const { return bytes_; }
  std::string_view AsBytes() const {
    return {reinterpret_cast<const char*>(bytes_.data()), kSize};
  }
  bool IsNil() const;
  auto operator<=>(const EventId&) const = default;

 private:
  std::array<uint8_t, kSize> bytes_{};
};

struct EventIdHash {
  size_t operator()(const EventId& id) const {
    size_t h;
    static_assert(sizeof(h) <= EventId::kSize);
    __builtin_memcpy(&h, id.bytes().data(), sizeof(h));
    return h;
  }
};

}  // namespace custodian
