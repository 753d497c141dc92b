#include "core/crypto.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <fstream>
#include <optional>
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

}  // namespace
}  // namespace custodian
