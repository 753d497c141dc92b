#include "core/types.h"

#include <openssl/rand.h>

#include "core/sha256.h"
#include "core/text.h"

#include <algorithm>
#include <stdexcept>

namespace custodian {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

namespace {
EventId Version4(std::array<uint8_t, EventId::kSize> b) {
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  return EventId(b);
}
}  // namespace

EventId EventId::Random() {
  std::array<uint8_t, kSize> b;
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  return Version4(b);
}

EventId EventId::FromSeed(std::string_view seed) {
  const Hash256 h = Sha256(seed);
  std::array<uint8_t, kSize> b;
  std::copy(h.begin(), h.begin() + kSize, b.begin());
  return Version4(b);
}

Result<EventId> EventId::Parse(std::string_view text) {
  static constexpr size_t kDashes[] = {8, 13, 18, 23};
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(QuotedText(text, 64) + " is not a UUID (" + why +
                                   "); expected 8-4-4-4-12 hex digits such as "
                                   "7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44");
  };
  if (text.size() != 36) return bad("length " + std::to_string(text.size()) + ", not 36");
  std::array<uint8_t, kSize> bytes{};
  size_t out = 0;
  for (size_t i = 0; i < text.size();) {
    if (std::find(std::begin(kDashes), std::end(kDashes), i) != std::end(kDashes)) {
      if (text[i] != '-') return bad("no dash at offset " + std::to_string(i));
      ++i;
      continue;
    }
    int hi = HexValue(text[i]);
    int lo = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
    if (hi < 0 || lo < 0) return bad("non-hex character near offset " + std::to_string(i));
    bytes[out++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  EventId id(bytes);
  if (id.IsNil()) return bad("the nil UUID is not an id");
  return id;
}

std::string EventId::ToString() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (size_t i = 0; i < kSize; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[bytes_[i] >> 4]);
    s.push_back(kHex[bytes_[i] & 0xf]);
  }
  return s;
}

bool EventId::IsNil() const {
  return std::all_of(bytes_.begin(), bytes_.end(), [](uint8_t b) { return b == 0; });
}

}  // namespace custodian
