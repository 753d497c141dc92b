#include "core/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <pthread.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>

namespace custodian::crypto {
namespace {

// OpenSSL 3 looks an algorithm up on every use of EVP_aes_256_gcm() or
// HMAC() unless it is fetched once, and each one-shot call allocates its
// context (core/sha256.cc avoids the same for hashes). So each thread
// fetches the algorithms once and reuses one context of each kind: an HMAC
// went from 1.8 to 0.4 us, SealPersonal from 3.6 to 1.4 us, a contact's
// blind-index tokens from 4.5 to 1.2 us (docs/performance.md, "Personal
// data"). The cipher context also keeps its cipher and IV length from one
// call to the next, so a call only sets the key and IV (SealPersonal
// 1.4 -> 1.2 us); like the HMAC context, it holds the thread's last key
// (in memory, never in a file) until its next call, as the key vault's
// cache holds the keys themselves. A call that fails resets it.
struct ThreadCrypto {
  EVP_CIPHER* gcm[3] = {EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr),
                        EVP_CIPHER_fetch(nullptr, "AES-192-GCM", nullptr),
                        EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr)};
  EVP_CIPHER_CTX* cipher = EVP_CIPHER_CTX_new();
  const EVP_CIPHER* cipher_set = nullptr;  // the cipher `cipher` is set up for, if any
  size_t iv_bytes = 0;                     // and its IV length
  EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* mac = hmac == nullptr ? nullptr : EVP_MAC_CTX_new(hmac);
  bool mac_ready = false;  // the digest set on `mac`

  ThreadCrypto() {
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    mac_ready = mac != nullptr && EVP_MAC_CTX_set_params(mac, params) == 1;
  }
  ~ThreadCrypto() {
    EVP_MAC_CTX_free(mac);
    EVP_MAC_free(hmac);
    EVP_CIPHER_CTX_free(cipher);  // cleanses what it holds
    for (EVP_CIPHER* c : gcm) EVP_CIPHER_free(c);
  }
};

ThreadCrypto& Thread() {
  static thread_local ThreadCrypto crypto;
  return crypto;
}

const EVP_CIPHER* GcmFor(size_t key_bytes) {
  switch (key_bytes) {
    case 16: return Thread().gcm[0];
    case 24: return Thread().gcm[1];
    case 32: return Thread().gcm[2];
    default: return nullptr;
  }
}

// The thread's cipher context, for one call. Unless Keep() is called (the
// call succeeded), it is reset when the call ends, so the next call sets it
// up from the start.
class CipherCtx {
 public:
  CipherCtx() : t_(Thread()) {}
  ~CipherCtx() {
    if (kept_) return;
    EVP_CIPHER_CTX_reset(t_.cipher);
    t_.cipher_set = nullptr;
  }
  CipherCtx(const CipherCtx&) = delete;
  CipherCtx& operator=(const CipherCtx&) = delete;
  EVP_CIPHER_CTX* get() const { return t_.cipher; }
  ThreadCrypto& thread() const { return t_; }
  void Keep() { kept_ = true; }

 private:
  ThreadCrypto& t_;
  bool kept_ = false;
};

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// Sets up the thread's context for AES-GCM with `key` and `iv`, encrypting
// or decrypting: the cipher and IV length only when they change.
Status Begin(CipherCtx& c, std::string_view key, std::string_view iv, int encrypt) {
  const EVP_CIPHER* cipher = GcmFor(key.size());
  if (cipher == nullptr) {
    return Status::InvalidArgument("an AES-GCM key has 16, 24 or 32 bytes, not " + std::to_string(key.size()));
  }
  if (iv.empty() || iv.size() > kMaxGcmIvBytes) {
    return Status::InvalidArgument("an AES-GCM IV has 1 to " + std::to_string(kMaxGcmIvBytes) + " bytes, not " +
                                   std::to_string(iv.size()));
  }
  EVP_CIPHER_CTX* ctx = c.get();
  ThreadCrypto& t = c.thread();
  if (ctx == nullptr) return Status::InvalidArgument("AES-GCM has no context");
  if (t.cipher_set != cipher) {
    if (EVP_CipherInit_ex(ctx, cipher, nullptr, nullptr, nullptr, encrypt) != 1) {
      return Status::InvalidArgument("AES-GCM refused the key or IV");
    }
    t.cipher_set = cipher;
    t.iv_bytes = static_cast<size_t>(EVP_CIPHER_CTX_get_iv_length(ctx));
  }
  if (t.iv_bytes != iv.size()) {
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) != 1) {
      return Status::InvalidArgument("AES-GCM refused the key or IV");
    }
    t.iv_bytes = iv.size();
  }
  if (EVP_CipherInit_ex(ctx, nullptr, nullptr, Bytes(key), Bytes(iv), encrypt) != 1) {
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
  CipherCtx owned;
  CUSTODIAN_RETURN_IF_ERROR(Begin(owned, key, iv, 1));
  EVP_CIPHER_CTX* ctx = owned.get();
  std::string out(plaintext.size() + kGcmTagBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0, tail = 0;
  if (!Aad(ctx, aad) ||
      (!plaintext.empty() &&
       EVP_EncryptUpdate(ctx, o, &len, Bytes(plaintext), static_cast<int>(plaintext.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx, o + len, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagBytes), o + plaintext.size()) != 1) {
    return Status::InvalidArgument("AES-GCM encryption failed");
  }
  owned.Keep();
  return out;
}

Result<std::string> AesGcmOpen(std::string_view key, std::string_view iv, std::string_view aad,
                               std::string_view sealed) {
  if (sealed.size() < kGcmTagBytes) {
    return Status::Corruption("sealed data of " + std::to_string(sealed.size()) + " bytes is shorter than its tag");
  }
  CipherCtx owned;
  CUSTODIAN_RETURN_IF_ERROR(Begin(owned, key, iv, 0));
  EVP_CIPHER_CTX* ctx = owned.get();
  const std::string_view ciphertext = sealed.substr(0, sealed.size() - kGcmTagBytes);
  std::string tag(sealed.substr(ciphertext.size()));
  std::string out(ciphertext.size(), '\0');
  int len = 0, tail = 0;
  const bool ok =
      Aad(ctx, aad) &&
      (ciphertext.empty() || EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                                               Bytes(ciphertext), static_cast<int>(ciphertext.size())) == 1) &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagBytes), tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &tail) == 1;
  if (!ok) {
    OPENSSL_cleanse(out.data(), out.size());
    return Status::Corruption("the sealed data does not open: its tag does not verify (wrong key, or altered)");
  }
  owned.Keep();
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view message) {
  ThreadCrypto& t = Thread();
  std::string out(32, '\0');
  size_t len = 0;
  // A null key would mean "the previous key": an empty one is passed as a
  // zero-length key at a valid address.
  static constexpr unsigned char kNoKey = 0;
  if (!t.mac_ready || EVP_MAC_init(t.mac, key.empty() ? &kNoKey : Bytes(key), key.size(), nullptr) != 1 ||
      EVP_MAC_update(t.mac, Bytes(message), message.size()) != 1 ||
      EVP_MAC_final(t.mac, reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) != 1 || len != 32) {
    std::abort();  // only fails when OpenSSL itself is broken
  }
  return out;
}

namespace {
std::atomic<uint64_t> next_hmac_key_id{1};
}  // namespace

HmacSha256Key::HmacSha256Key(std::string key) : key_(std::move(key)), id_(next_hmac_key_id.fetch_add(1)) {}

std::string HmacSha256Key::Mac(std::string_view message) const {
  // One context per thread, keyed with the last HmacSha256Key it served:
  // EVP_MAC_init with no key starts a message from that key's states.
  struct Keyed {
    uint64_t id = 0;
    EVP_MAC_CTX* ctx = nullptr;
    ~Keyed() { EVP_MAC_CTX_free(ctx); }
  };
  static thread_local Keyed keyed;
  ThreadCrypto& t = Thread();
  if (keyed.ctx == nullptr && t.mac_ready) keyed.ctx = EVP_MAC_CTX_dup(t.mac);  // HMAC with SHA-256 set
  static constexpr unsigned char kNoKey = 0;
  const bool rekey = keyed.id != id_;
  const unsigned char* key = key_.empty() ? &kNoKey : Bytes(key_);
  std::string out(32, '\0');
  size_t len = 0;
  if (keyed.ctx == nullptr || EVP_MAC_init(keyed.ctx, rekey ? key : nullptr, rekey ? key_.size() : 0, nullptr) != 1 ||
      EVP_MAC_update(keyed.ctx, Bytes(message), message.size()) != 1 ||
      EVP_MAC_final(keyed.ctx, reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) != 1 || len != 32) {
    std::abort();  // only fails when OpenSSL itself is broken
  }
  keyed.id = id_;
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

namespace {
// Each RAND_bytes call costs, whatever its size, OpenSSL 3.0's fork check
// (a getpid() system call) and its DRBG's locking: a new data key and its
// wrapping's nonce took two calls, ~2.5% of the CPU of appends that make
// many keys (docs/performance.md, "Twentieth session"). So each thread draws
// kPoolBytes at once and hands each byte out once, wiping it as it goes.
// A forked child forgets its copy of the forking thread's pool (the only
// one it has), so a parent and its child never hand out the same bytes.
constexpr size_t kPoolBytes = 1024;
struct RandomPool {
  unsigned char bytes[kPoolBytes];
  size_t left = 0;  // the last `left` bytes are unused
  ~RandomPool() { OPENSSL_cleanse(bytes, sizeof bytes); }
};
thread_local RandomPool pool;
void ForgetPoolInChild() {
  OPENSSL_cleanse(pool.bytes, sizeof pool.bytes);
  pool.left = 0;
}
std::once_flag fork_handler;
}  // namespace

std::string PooledRandomBytes(size_t n) {
  if (n > kPoolBytes / 16) return RandomBytes(n);
  std::call_once(fork_handler, [] {
    if (::pthread_atfork(nullptr, nullptr, ForgetPoolInChild) != 0) std::abort();
  });
  if (pool.left < n) {
    if (RAND_bytes(pool.bytes, static_cast<int>(kPoolBytes)) != 1) std::abort();  // no entropy: nothing safe to do
    pool.left = kPoolBytes;
  }
  unsigned char* at = pool.bytes + (kPoolBytes - pool.left);
  std::string out(reinterpret_cast<const char*>(at), n);
  OPENSSL_cleanse(at, n);
  pool.left -= n;
  return out;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace custodian::crypto
