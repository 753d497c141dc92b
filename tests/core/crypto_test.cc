#include "core/crypto.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

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
      ++checked;
    }
  }
  CHECK(checked == static_cast<size_t>(doc.at("numberOfTests").as_int64()));
  CHECK_FALSE(crypto::HmacSha256Verify("k", "m", crypto::HmacSha256("k", "m").substr(0, 15)));
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
