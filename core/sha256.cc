#include "core/sha256.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <vector>

namespace custodian {

namespace {

// OpenSSL 3 looks an algorithm up on every EVP_Digest call unless it is
// fetched once; a per-thread context saves an allocation per hash too.
struct ThreadDigest {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~ThreadDigest() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }
};

}  // namespace

Hash256 Sha256(std::string_view bytes) {
  static thread_local ThreadDigest digest;
  Hash256 out;
  unsigned int len = 0;
  if (digest.md == nullptr || digest.ctx == nullptr || EVP_DigestInit_ex2(digest.ctx, digest.md, nullptr) != 1 ||
      EVP_DigestUpdate(digest.ctx, bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(digest.ctx, out.data(), &len) != 1) {
    std::abort();  // only fails when OpenSSL itself is broken
  }
  return out;
}

std::string HexOf(const Hash256& h) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(64);
  for (uint8_t b : h) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 0xf]);
  }
  return s;
}

Hash256 RandomKey256() {
  Hash256 key;
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) std::abort();  // no entropy: nothing safe to do
  return key;
}

namespace {
// Contexts of finished hashers, kept for the next one on this thread: a
// hasher per event would otherwise allocate and free a context each time.
struct SpareContexts {
  std::vector<EVP_MD_CTX*> spare;
  ~SpareContexts() {
    for (EVP_MD_CTX* ctx : spare) EVP_MD_CTX_free(ctx);
  }
};
thread_local SpareContexts spare_contexts;
constexpr size_t kMaxSpareContexts = 4;
}  // namespace

Sha256Hasher::Sha256Hasher() {
  static thread_local ThreadDigest digest;  // only for its fetched algorithm
  std::vector<EVP_MD_CTX*>& spare = spare_contexts.spare;
  if (spare.empty()) {
    ctx_ = EVP_MD_CTX_new();
  } else {
    ctx_ = spare.back();
    spare.pop_back();
  }
  if (ctx_ == nullptr || EVP_DigestInit_ex2(static_cast<EVP_MD_CTX*>(ctx_), digest.md, nullptr) != 1) {
    std::abort();
  }
}

Sha256Hasher::~Sha256Hasher() {
  std::vector<EVP_MD_CTX*>& spare = spare_contexts.spare;
  if (spare.size() < kMaxSpareContexts) {
    spare.push_back(static_cast<EVP_MD_CTX*>(ctx_));
  } else {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
  }
}

void Sha256Hasher::Update(std::string_view bytes) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), bytes.data(), bytes.size());
}

Hash256 Sha256Hasher::Finish() {
  Hash256 out;
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), out.data(), &len);
  return out;
}

}  // namespace custodian
