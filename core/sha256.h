// SHA-256 through OpenSSL.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace custodian {

using Hash256 = std::array<uint8_t, 32>;

Hash256 Sha256(std::string_view bytes);

// Lower-case hex of a hash, for messages and JSON.
std::string HexOf(const Hash256& h);

// 32 bytes from OpenSSL's random generator, for keys.
Hash256 RandomKey256();

// An incremental SHA-256. Not thread-safe.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::string_view bytes);
  Hash256 Finish();  // the hasher may not be used again

 private:
  void* ctx_;  // EVP_MD_CTX, kept out of this header
};

}  // namespace custodian
