// A certificate for tests of TLS: made with the OpenSSL API, self-signed and
// its own CA, with the names a test gives it. Used by the webhook tests
// (tests/tools) and the NATS servers of the cluster tests.
#pragma once

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <utility>

namespace custodian::testing {

// A self-signed certificate and its key, made with the OpenSSL API for the
// names in `san` (e.g. "IP:127.0.0.1,DNS:localhost"), and a server context
// that presents them.
class TestCertificate {
 public:
  explicit TestCertificate(const std::string& san) {
    key_ = EVP_EC_gen("P-256");
    REQUIRE(key_ != nullptr);
    cert_ = X509_new();
    REQUIRE(cert_ != nullptr);
    X509_set_version(cert_, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert_), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert_), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert_), 86400);
    REQUIRE(X509_set_pubkey(cert_, key_) == 1);
    X509_NAME* name = X509_get_subject_name(cert_);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("custodian test hook"),
                               -1, -1, 0);
    X509_set_issuer_name(cert_, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert_, cert_, nullptr, nullptr, 0);
    for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, san}, std::pair{NID_basic_constraints,
                                                                                     std::string("critical,CA:TRUE")},
                                     std::pair{NID_key_usage, std::string("critical,digitalSignature,keyCertSign")},
                                     std::pair{NID_ext_key_usage, std::string("serverAuth")}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
      REQUIRE(ext != nullptr);
      X509_add_ext(cert_, ext, -1);
      X509_EXTENSION_free(ext);
    }
    REQUIRE(X509_sign(cert_, key_, EVP_sha256()) > 0);
    server_ = SSL_CTX_new(TLS_server_method());
    REQUIRE(server_ != nullptr);
    REQUIRE(SSL_CTX_use_certificate(server_, cert_) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(server_, key_) == 1);
  }
  ~TestCertificate() {
    SSL_CTX_free(server_);
    X509_free(cert_);
    EVP_PKEY_free(key_);
  }
  TestCertificate(const TestCertificate&) = delete;
  TestCertificate& operator=(const TestCertificate&) = delete;

  SSL_CTX* server() const { return server_; }

  // Writes the certificate as PEM to `path` (a CA file for a client).
  void WritePem(const std::string& path) const {
    BIO* bio = BIO_new(BIO_s_mem());
    REQUIRE(PEM_write_bio_X509(bio, cert_) == 1);
    Write(bio, path);
  }
  // Writes the private key as PEM to `path` (for a server, as nats-server's cert_file and key_file).
  void WriteKeyPem(const std::string& path) const {
    BIO* bio = BIO_new(BIO_s_mem());
    REQUIRE(PEM_write_bio_PrivateKey(bio, key_, nullptr, nullptr, 0, nullptr, nullptr) == 1);
    Write(bio, path);
  }

 private:
  static void Write(BIO* bio, const std::string& path) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::ofstream(path, std::ios::binary) << std::string(data, static_cast<size_t>(n));
    BIO_free(bio);
  }

  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
  SSL_CTX* server_ = nullptr;
};

}  // namespace custodian::testing
