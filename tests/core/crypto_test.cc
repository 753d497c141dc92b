#include "core/crypto.h"

#include <openssl/evp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace custodian {
namespace {

namespace json = boost::json;

json::value Vectors(const std::string& name) {
  std::ifstream in(std::string(CUSTODIAN_SHARED_DIR) + "/testdata/wycheproof/" + name);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

std::string Field(const json::object& t, const char* name) { return Unhex(t.at(name).as_string()); }

TEST_CASE("AES-GCM gives every valid Wycheproof vector's bytes and refuses every invalid one", "[crypto]") {
  const json::value doc = Vectors("aes_gcm_test.json");
  size_t valid = 0, invalid = 0, beyond = 0;
  for (const json::value& group : doc.at("testGroups").as_array()) {
    for (const json::value& tv : group.at("tests").as_array()) {
      const json::object& t = tv.as_object();
      const std::string key = Field(t, "key"), iv = Field(t, "iv"), aad = Field(t, "aad"), msg = Field(t, "msg");
      const std::string sealed = Field(t, "ct") + Field(t, "tag");
      const std::string result(t.at("result").as_string());
      INFO("tcId " << t.at("tcId").as_int64() << " " << result);
      Result<std::string> opened = crypto::AesGcmOpen(key, iv, aad, sealed);
      if (iv.size() > crypto::kMaxGcmIvBytes) {
        // Beyond what OpenSSL 3 takes: refused as such, never answered wrongly.
        ++beyond;
        CHECK(crypto::AesGcmSeal(key, iv, aad, msg).status().code() == StatusCode::kInvalidArgument);
        CHECK(opened.status().code() == StatusCode::kInvalidArgument);
        continue;
      }
      if (result == "valid") {
        ++valid;
        Result<std::string> made = crypto::AesGcmSeal(key, iv, aad, msg);
        REQUIRE(made.ok());
        CHECK(*made == sealed);
        REQUIRE(opened.ok());
        CHECK(*opened == msg);
      } else if (result == "invalid") {
        ++invalid;
        CHECK_FALSE(opened.ok());
      }
    }
  }
  CHECK(valid + invalid + beyond == static_cast<size_t>(doc.at("numberOfTests").as_int64()));
  CHECK(beyond <= 3);  // the 2056-bit IVs; every other vector is checked
  CHECK(invalid > 0);
}

TEST_CASE("HMAC-SHA-256 gives every valid Wycheproof tag and refuses every invalid one", "[crypto]") {
  const json::value doc = Vectors("hmac_sha256_test.json");
  size_t checked = 0;
  for (const json::value& group : doc.at("testGroups").as_array()) {
    const size_t tag_bytes = static_cast<size_t>(group.at("tagSize").as_int64()) / 8;
    for (const json::value& tv : group.at("tests").as_array()) {
      const json::object& t = tv.as_object();
      const std::string key = Field(t, "key"), msg = Field(t, "msg"), tag = Field(t, "tag");
      const bool valid = t.at("result").as_string() == "valid";
      INFO("tcId " << t.at("tcId").as_int64());
      CHECK(crypto::HmacSha256Verify(key, msg, tag) == valid);
      if (valid) CHECK(crypto::HmacSha256(key, msg).substr(0, tag_bytes) == tag);
      if (valid) CHECK(crypto::HmacSha256Key(key).Mac(msg).substr(0, tag_bytes) == tag);
      ++checked;
    }
  }
  CHECK(checked == static_cast<size_t>(doc.at("numberOfTests").as_int64()));
  CHECK_FALSE(crypto::HmacSha256Verify("k", "m", crypto::HmacSha256("k", "m").substr(0, 15)));
}

TEST_CASE("A reused HMAC key gives HmacSha256's bytes, whichever keys a thread used before", "[crypto]") {
  const crypto::HmacSha256Key a("blind key a"), b(std::string(70, 'k')), empty("");
  std::vector<std::string> expected, messages = {"", "1\0anna", std::string(300, 'x')};
  for (int round = 0; round < 3; ++round) {
    for (const std::string& m : messages) {
      CHECK(a.Mac(m) == crypto::HmacSha256(a.key(), m));
      CHECK(a.Mac(m) == crypto::HmacSha256(a.key(), m));  // the same key twice in a row: its states reused
      CHECK(b.Mac(m) == crypto::HmacSha256(b.key(), m));
      CHECK(empty.Mac(m) == crypto::HmacSha256("", m));
    }
  }
  std::string other_thread;
  std::thread([&] { other_thread = a.Mac("from another thread"); }).join();
  CHECK(other_thread == crypto::HmacSha256(a.key(), "from another thread"));
  // A key made later at the same address is a new key, not the old one's states.
  std::optional<crypto::HmacSha256Key> k(std::in_place, "first");
  CHECK(k->Mac("m") == crypto::HmacSha256("first", "m"));
  k.emplace("second");
  CHECK(k->Mac("m") == crypto::HmacSha256("second", "m"));
}

TEST_CASE("AES-GCM refuses a changed key, IV, additional data or ciphertext byte", "[crypto]") {
  const std::string key = crypto::RandomBytes(32), iv = crypto::RandomBytes(12);
  Result<std::string> sealed = crypto::AesGcmSeal(key, iv, "event-1", "Anna Berg");
  REQUIRE(sealed.ok());
  CHECK(*crypto::AesGcmOpen(key, iv, "event-1", *sealed) == "Anna Berg");
  CHECK_FALSE(crypto::AesGcmOpen(crypto::RandomBytes(32), iv, "event-1", *sealed).ok());
  CHECK_FALSE(crypto::AesGcmOpen(key, crypto::RandomBytes(12), "event-1", *sealed).ok());
  CHECK_FALSE(crypto::AesGcmOpen(key, iv, "event-2", *sealed).ok());
  for (size_t i = 0; i < sealed->size(); ++i) {
    std::string altered = *sealed;
    altered[i] ^= 1;
    CHECK_FALSE(crypto::AesGcmOpen(key, iv, "event-1", altered).ok());
  }
  CHECK(crypto::AesGcmSeal(std::string(31, 'k'), iv, "", "x").status().code() == StatusCode::kInvalidArgument);
  CHECK(crypto::AesGcmSeal(key, "", "", "x").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("AES-GCM gives the same bytes whatever the thread's context did before", "[crypto]") {
  // The thread's cipher context keeps its cipher and IV length between
  // calls: what each call gives must not depend on the calls before it.
  struct Case {
    std::string key, iv;
  };
  const std::vector<Case> cases = {{crypto::RandomBytes(32), crypto::RandomBytes(12)},
                                   {crypto::RandomBytes(16), crypto::RandomBytes(12)},
                                   {crypto::RandomBytes(32), crypto::RandomBytes(8)},
                                   {crypto::RandomBytes(24), crypto::RandomBytes(60)},
                                   {crypto::RandomBytes(32), crypto::RandomBytes(12)}};
  // The reference: each case sealed by OpenSSL in a context of its own.
  auto reference = [](const Case& c) {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    const EVP_CIPHER* cipher = c.key.size() == 16   ? EVP_aes_128_gcm()
                               : c.key.size() == 24 ? EVP_aes_192_gcm()
                                                    : EVP_aes_256_gcm();
    auto bytes = [](const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); };
    const std::string aad = "aad", text = "Anna Berg";
    std::string out(text.size() + crypto::kGcmTagBytes, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    int len = 0;
    REQUIRE(EVP_EncryptInit_ex(ctx, cipher, nullptr, nullptr, nullptr) == 1);
    REQUIRE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(c.iv.size()), nullptr) == 1);
    REQUIRE(EVP_EncryptInit_ex(ctx, nullptr, nullptr, bytes(c.key), bytes(c.iv)) == 1);
    REQUIRE(EVP_EncryptUpdate(ctx, nullptr, &len, bytes(aad), static_cast<int>(aad.size())) == 1);
    REQUIRE(EVP_EncryptUpdate(ctx, o, &len, bytes(text), static_cast<int>(text.size())) == 1);
    REQUIRE(EVP_EncryptFinal_ex(ctx, o + len, &len) == 1);
    REQUIRE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(crypto::kGcmTagBytes),
                                o + text.size()) == 1);
    EVP_CIPHER_CTX_free(ctx);
    return out;
  };
  std::vector<std::string> fresh;
  for (const Case& c : cases) fresh.push_back(reference(c));
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < cases.size(); ++i) {
      const Case& c = cases[i];
      Result<std::string> sealed = crypto::AesGcmSeal(c.key, c.iv, "aad", "Anna Berg");
      REQUIRE(sealed.ok());
      CHECK(*sealed == fresh[i]);
      // A refused open (wrong additional data), then a good one.
      CHECK_FALSE(crypto::AesGcmOpen(c.key, c.iv, "other", *sealed).ok());
      Result<std::string> opened = crypto::AesGcmOpen(c.key, c.iv, "aad", *sealed);
      REQUIRE(opened.ok());
      CHECK(*opened == "Anna Berg");
      // A refused call (a key of a size AES has not) between two others.
      CHECK_FALSE(crypto::AesGcmSeal(std::string(20, 'k'), c.iv, "", "x").ok());
    }
  }
}


TEST_CASE("Pooled random bytes are new at every call, in every thread, and a forked child never repeats its parent's",
          "[crypto]") {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {  // more than a pool's worth
    const std::string r = crypto::PooledRandomBytes(i % 2 ? 32 : 12);
    CHECK(r.size() == (i % 2 ? 32u : 12u));
    CHECK(seen.insert(r).second);
  }
  CHECK(crypto::PooledRandomBytes(200).size() == 200);  // longer than the pool hands out: drawn directly
  std::string other;
  std::thread([&] { other = crypto::PooledRandomBytes(32); }).join();
  CHECK(seen.insert(other).second);
  // The parent's pool is part-used when it forks; the child must not hand out what the parent will.
  (void)crypto::PooledRandomBytes(12);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const std::string mine = crypto::PooledRandomBytes(32);
    const bool ok = ::write(fds[1], mine.data(), mine.size()) == static_cast<ssize_t>(mine.size());
    ::_exit(ok ? 0 : 1);
  }
  ::close(fds[1]);
  const std::string parent = crypto::PooledRandomBytes(32);
  std::string child(32, '\0');
  size_t got = 0;
  while (got < child.size()) {
    const ssize_t n = ::read(fds[0], child.data() + got, child.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(got == child.size());
  CHECK(child != parent);
}

}  // namespace
}  // namespace custodian
