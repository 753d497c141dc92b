#include "core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <memory>

namespace custodian::crypto {
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const EVP_CIPHER* GcmFor(size_t key_bytes) {
  switch (key_bytes) {
    case 16: return EVP_aes_128_gcm();
    case 24: return EVP_aes_192_gcm();
    case 32: return EVP_aes_256_gcm();
    default: return nullptr;
  }
}

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// Sets up `ctx` for AES-GCM with `key` and `iv`, encrypting or decrypting.
Status Begin(EVP_CIPHER_CTX* ctx, std::string_view key, std::string_view iv, int encrypt) {
  const EVP_CIPHER* cipher = GcmFor(key.size());
  if (cipher == nullptr) {
    return Status::InvalidArgument("an AES-GCM key has 16, 24 or 32 bytes, not " + std::to_string(key.size()));
  }
  if (iv.empty() || iv.size() > kMaxGcmIvBytes) {
    return Status::InvalidArgument("an AES-GCM IV has 1 to " + std::to_string(kMaxGcmIvBytes) + " bytes, not " +
                                   std::to_string(iv.size()));
  }
  if (ctx == nullptr || EVP_CipherInit_ex(ctx, cipher, nullptr, nullptr, nullptr, encrypt) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) != 1 ||
      EVP_CipherInit_ex(ctx, nullptr, nullptr, Bytes(key), Bytes(iv), encrypt) != 1) {
    return Status::InvalidArgument("AES-GCM refused the key or IV");
  }
  return Status::Ok();
}

// Feeds the additional data (authenticated, not encrypted).
bool Aad(EVP_CIPHER_CTX* ctx, std::string_view aad) {
  int len = 0;
  return aad.empty() || EVP_CipherUpdate(ctx, nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) == 1;
}

}  // namespace

Result<std::string> AesGcmSeal(std::string_view key, std::string_view iv, std::string_view aad,
                               std::string_view plaintext) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  CUSTODIAN_RETURN_IF_ERROR(Begin(ctx.get(), key, iv, 1));
  std::string out(plaintext.size() + kGcmTagBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0, tail = 0;
  if (!Aad(ctx.get(), aad) ||
      (!plaintext.empty() &&
       EVP_EncryptUpdate(ctx.get(), o, &len, Bytes(plaintext), static_cast<int>(plaintext.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx.get(), o + len, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagBytes), o + plaintext.size()) !=
          1) {
    return Status::InvalidArgument("AES-GCM encryption failed");
  }
  return out;
}

Result<std::string> AesGcmOpen(std::string_view key, std::string_view iv, std::string_view aad,
                               std::string_view sealed) {
  if (sealed.size() < kGcmTagBytes) {
    return Status::Corruption("sealed data of " + std::to_string(sealed.size()) + " bytes is shorter than its tag");
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  CUSTODIAN_RETURN_IF_ERROR(Begin(ctx.get(), key, iv, 0));
  const std::string_view ciphertext = sealed.substr(0, sealed.size() - kGcmTagBytes);
  std::string tag(sealed.substr(ciphertext.size()));
  std::string out(ciphertext.size(), '\0');
  int len = 0, tail = 0;
  const bool ok =
      Aad(ctx.get(), aad) &&
      (ciphertext.empty() || EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                                               Bytes(ciphertext), static_cast<int>(ciphertext.size())) == 1) &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagBytes), tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &tail) == 1;
  if (!ok) {
    OPENSSL_cleanse(out.data(), out.size());
    return Status::Corruption("the sealed data does not open: its tag does not verify (wrong key, or altered)");
  }
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view message) {
  std::string out(32, '\0');
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), Bytes(message), message.size(),
           reinterpret_cast<unsigned char*>(out.data()), &len) == nullptr ||
      len != 32) {
    std::abort();  // only fails when OpenSSL itself is broken
  }
  return out;
}

bool HmacSha256Verify(std::string_view key, std::string_view message, std::string_view tag) {
  if (tag.size() < 16 || tag.size() > 32) return false;
  const std::string mac = HmacSha256(key, message);
  return ConstantTimeEqual(std::string_view(mac).substr(0, tag.size()), tag);
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) std::abort();
  return out;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace custodian::crypto
