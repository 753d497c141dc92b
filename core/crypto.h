// Symmetric cryptography through OpenSSL: AES-GCM, HMAC-SHA-256 and random
// bytes (DESIGN.md, Personal data and erasure). Checked against every
// Wycheproof vector of aes_gcm_test.json and hmac_sha256_test.json
// (tests/core/crypto_test.cc). Pure functions of their inputs (but
// RandomBytes); thread-safe. OpenSSL stays in crypto.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace custodian::crypto {

inline constexpr size_t kGcmTagBytes = 16;
// OpenSSL 3 takes GCM IVs of at most 128 bytes; Custodian seals with 12.
inline constexpr size_t kMaxGcmIvBytes = 128;

// AES-GCM encryption with a 16-byte tag. `key` is 16, 24 or 32 bytes (AES-128,
// -192, -256); `iv` 1 to kMaxGcmIvBytes bytes (12 is the standard size). Returns the
// ciphertext followed by the tag. InvalidArgument for a bad key or IV size.
Result<std::string> AesGcmSeal(std::string_view key, std::string_view iv, std::string_view aad,
                               std::string_view plaintext);

// The inverse: `sealed` is ciphertext followed by its 16-byte tag.
// InvalidArgument for bad sizes; Corruption when the tag does not verify
// (wrong key, IV or AAD, or altered bytes): nothing of the plaintext is
// returned then.
Result<std::string> AesGcmOpen(std::string_view key, std::string_view iv, std::string_view aad,
                               std::string_view sealed);

// HMAC-SHA-256 of `message` under `key` (any length): 32 bytes.
std::string HmacSha256(std::string_view key, std::string_view message);

// HMAC-SHA-256 under one key for many messages (the blind index's key): the
// key's inner and outer hash states are computed once per thread that uses
// it, not once per message as HmacSha256 does. Thread-safe; the same bytes
// as HmacSha256(key, message).
class HmacSha256Key {
 public:
  explicit HmacSha256Key(std::string key);
  std::string Mac(std::string_view message) const;
  const std::string& key() const { return key_; }

 private:
  std::string key_;
  uint64_t id_;  // tells this key's per-thread state from other keys'
};

// Whether `tag` is the HMAC-SHA-256 of `message` under `key`, or its first
// tag.size() bytes (at least 16: a shorter tag is refused); constant time.
bool HmacSha256Verify(std::string_view key, std::string_view message, std::string_view tag);

// `n` bytes from OpenSSL's CSPRNG; aborts when it has no entropy (nothing
// safe can be done without).
std::string RandomBytes(size_t n);
// The same, for short values drawn often (data keys, nonces: at most 64
// bytes; longer ones come from RandomBytes): taken from a per-thread pool of
// the CSPRNG's output that is refilled 1 KiB at a time, each byte handed
// out once (fork-safe). What is drawn rarely (master keys, token secrets)
// uses RandomBytes.
std::string PooledRandomBytes(size_t n);

// Compares without leaking where two equal-length strings differ.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

}  // namespace custodian::crypto
