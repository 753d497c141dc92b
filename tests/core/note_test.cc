#include "core/note.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <fstream>

#include "core/base64.h"

namespace custodian::note {
namespace {

namespace json = boost::json;

json::object GoVectors() {
  std::ifstream in(std::string(CUSTODIAN_SHARED_DIR) + "/testdata/signed-note/go-vectors.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return json::parse(text).as_object();
}

std::string Str(const json::value& v) { return std::string(v.as_string()); }

TEST_CASE("the Go reference key parses, with the same key id and verifier key", "[note]") {
  json::object v = GoVectors();
  Result<SigningKey> signer = SigningKey::Parse(Str(v["signer_key"]));
  INFO(signer.status().ToString());
  REQUIRE(signer.ok());
  CHECK(signer->verifier().ToString() == Str(v["verifier_key"]));
  char id[9];
  std::snprintf(id, sizeof id, "%08x", signer->verifier().key_id());
  CHECK(std::string(id) == Str(v["key_id_hex"]));
  CHECK(Base64Encode(signer->verifier().public_key()) == Str(v["public_key_base64"]));
  CHECK(signer->ToString() == Str(v["signer_key"]));
  Result<VerifierKey> verifier = VerifierKey::Parse(Str(v["verifier_key"]));
  REQUIRE(verifier.ok());
  CHECK(verifier->public_key() == signer->verifier().public_key());
}

TEST_CASE("signing reproduces the Go reference signatures byte for byte and verification agrees", "[note]") {
  json::object v = GoVectors();
  Result<SigningKey> signer = SigningKey::Parse(Str(v["signer_key"]));
  REQUIRE(signer.ok());
  Result<VerifierKey> verifier = VerifierKey::Parse(Str(v["verifier_key"]));
  REQUIRE(verifier.ok());
  int valid = 0, invalid = 0;
  for (const auto& c : v["cases"].as_array()) {
    const json::object& tc = c.as_object();
    INFO(Str(tc.at("desc")));
    const std::string text = Str(tc.at("text"));
    const std::string signed_note = Str(tc.at("signed_note"));
    Result<std::string> opened = verifier->Open(signed_note);
    if (tc.at("want_valid").as_bool()) {
      ++valid;
      Result<std::string> signed_now = signer->Sign(text);
      REQUIRE(signed_now.ok());
      CHECK(*signed_now == signed_note);
      REQUIRE(opened.ok());
      CHECK(*opened == text);
    } else {
      ++invalid;
      CHECK_FALSE(opened.ok());
    }
  }
  CHECK(valid >= 2);
  CHECK(invalid >= 1);
}

// Hex as Wycheproof writes it: two lower-case digits a byte.
std::string Unhex(std::string_view hex) {
  REQUIRE(hex.size() % 2 == 0);
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST_CASE("Ed25519 verification accepts every valid and refuses every invalid Wycheproof signature", "[note]") {
  std::ifstream in(std::string(CUSTODIAN_SHARED_DIR) + "/testdata/wycheproof/ed25519_test.json");
  REQUIRE(in.good());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const json::object file = json::parse(text).as_object();
  REQUIRE(file.at("algorithm").as_string() == "EDDSA");
  int valid = 0, invalid = 0, malleable = 0, wrong_length = 0;
  for (const json::value& g : file.at("testGroups").as_array()) {
    const json::object& group = g.as_object();
    const std::string public_key = Unhex(group.at("publicKey").as_object().at("pk").as_string());
    for (const json::value& t : group.at("tests").as_array()) {
      const json::object& tc = t.as_object();
      const std::string result(tc.at("result").as_string());
      const std::string signature = Unhex(tc.at("sig").as_string());
      INFO("tcId " << tc.at("tcId").as_int64() << " (" << Str(tc.at("comment")) << "): expected " << result);
      REQUIRE((result == "valid" || result == "invalid"));  // the file has no "acceptable" Ed25519 cases
      const bool accepted = Ed25519Verify(public_key, Unhex(tc.at("msg").as_string()), signature);
      if (result == "valid") {
        ++valid;
        CHECK(accepted);
      } else {
        ++invalid;
        for (const json::value& flag : tc.at("flags").as_array()) malleable += flag.as_string() == "SignatureMalleability";
        wrong_length += signature.size() != kEd25519SignatureBytes;
        CHECK_FALSE(accepted);
      }
    }
  }
  // The whole file ran: its count, and the kinds of forgery the verifier must refuse.
  CHECK(valid + invalid == file.at("numberOfTests").as_int64());
  CHECK(valid == 88);
  CHECK(invalid == 62);
  CHECK(malleable == 8);
  CHECK(wrong_length == 12);
}

TEST_CASE("Ed25519 verification refuses a key or signature of the wrong length, even with a valid prefix", "[note]") {
  Result<SigningKey> key = SigningKey::Generate("origin");
  REQUIRE(key.ok());
  Result<std::string> signed_note = key->Sign("text\n");
  REQUIRE(signed_note.ok());
  const std::string prefix = "\xE2\x80\x94 origin ";  // the signature line: em dash, key name, base64
  const std::string line = signed_note->substr(signed_note->rfind(prefix) + prefix.size());
  Result<std::string> raw = Base64Decode(line.substr(0, line.size() - 1));
  REQUIRE(raw.ok());
  const std::string signature = raw->substr(4);
  const std::string& public_key = key->verifier().public_key();
  REQUIRE(Ed25519Verify(public_key, "text\n", signature));
  CHECK_FALSE(Ed25519Verify(public_key, "text\n", signature + std::string(1, '\0')));
  CHECK_FALSE(Ed25519Verify(public_key, "text\n", signature.substr(0, 63)));
  CHECK_FALSE(Ed25519Verify(public_key + std::string(1, '\0'), "text\n", signature));
  CHECK_FALSE(Ed25519Verify(public_key.substr(0, 31), "text\n", signature));
  CHECK_FALSE(Ed25519Verify(public_key, "text\n", ""));
}

TEST_CASE("the reference checkpoint parses into origin, size and root", "[note]") {
  json::object v = GoVectors();
  const json::object& tc = v["cases"].as_array()[2].as_object();
  Result<Checkpoint> c = ParseCheckpoint(Str(tc.at("text")));
  REQUIRE(c.ok());
  CHECK(c->origin == "PeterNeumann");
  CHECK(c->size == 8);
  CHECK(Base64Encode(std::string(reinterpret_cast<const char*>(c->root.data()), 32)) ==
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=");
  CHECK(CheckpointBody(*c) == Str(tc.at("text")));
}

TEST_CASE("a generated key signs notes that only its own verifier accepts", "[note]") {
  Result<SigningKey> a = SigningKey::Generate("crm.example.com/audit");
  Result<SigningKey> b = SigningKey::Generate("crm.example.com/audit");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  Result<std::string> note = a->Sign("crm.example.com/audit\n3\nq6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=\n");
  REQUIRE(note.ok());
  CHECK(a->verifier().Open(*note).ok());
  Result<std::string> other = b->verifier().Open(*note);
  CHECK_FALSE(other.ok());
  Result<SigningKey> reparsed = SigningKey::Parse(a->ToString());
  REQUIRE(reparsed.ok());
  CHECK(reparsed->verifier().ToString() == a->verifier().ToString());
}

TEST_CASE("malformed keys, notes and checkpoints are refused with a reason", "[note]") {
  CHECK_FALSE(VerifierKey::Parse("nameonly").ok());
  CHECK_FALSE(VerifierKey::Parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").ok());
  CHECK_FALSE(SigningKey::Generate("has space").ok());
  Result<SigningKey> k = SigningKey::Generate("origin");
  REQUIRE(k.ok());
  CHECK_FALSE(k->Sign("no newline").ok());
  Status no_sig = k->verifier().Open("text\n").status();
  CHECK_THAT(no_sig.message(), Catch::Contains("blank line"));
  CHECK_FALSE(ParseCheckpoint("origin\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n").ok());
  CHECK_FALSE(ParseCheckpoint("origin\n8\nnot-base64\n").ok());
  CHECK_FALSE(ParseCheckpoint("origin\n8\n").ok());
  // Twenty digits may not fit 64 bits: refused with a reason, never thrown.
  Result<Checkpoint> huge =
      ParseCheckpoint("origin\n99999999999999999999\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
  CHECK_THAT(huge.status().message(), Catch::Contains("more than 2^64 - 1"));
  Result<Checkpoint> largest =
      ParseCheckpoint("origin\n18446744073709551615\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
  REQUIRE(largest.ok());
  CHECK(largest->size == UINT64_MAX);
}

// C2SP tlog-cosignature, cosignature/v1: the key id, the signed message and the
// line's layout are checked here from the specification, not from our own code.
TEST_CASE("a cosignature line follows C2SP tlog-cosignature v1 and verifies, and altered, foreign and missing ones do not",
          "[note][cosignature]") {
  Result<SigningKey> log_key = SigningKey::Generate("example.com/log");
  Result<SigningKey> witness = SigningKey::Generate("example.com/log");  // another key
  REQUIRE(log_key.ok());
  REQUIRE(witness.ok());
  const std::string body = CheckpointBody({"example.com/log", 8, Sha256("root")});
  Result<std::string> signed_note = log_key->Sign(body);
  REQUIRE(signed_note.ok());
  const std::string name = "example.com/witness-1";
  const uint64_t t = 1679315147;
  Result<std::string> line = witness->Cosign(name, body, t);
  REQUIRE(line.ok());
  const std::string pub = witness->verifier().public_key();

  // "— <name> base64(key id ‖ u64 BE time ‖ Ed25519 signature)\n"
  REQUIRE(line->starts_with("\xE2\x80\x94 " + name + " "));
  Result<std::string> raw = Base64Decode(std::string_view(*line).substr(std::string("\xE2\x80\x94 ").size() + name.size() + 1,
                                                                        line->size() - name.size() - 6));
  REQUIRE(raw.ok());
  REQUIRE(raw->size() == 4 + 8 + 64);
  // key id = SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4]
  Hash256 h = Sha256(name + "\n" + std::string(1, '\x04') + pub);
  CHECK(raw->substr(0, 4) == std::string(reinterpret_cast<const char*>(h.data()), 4));
  uint64_t when = 0;
  for (int i = 0; i < 8; ++i) when = when << 8 | static_cast<unsigned char>((*raw)[4 + i]);
  CHECK(when == t);
  // signed message = "cosignature/v1\ntime <t>\n" ‖ body
  CHECK(Ed25519Verify(pub, "cosignature/v1\ntime 1679315147\n" + body, raw->substr(12)));

  const std::string cosigned = *signed_note + *line;
  Result<uint64_t> v = VerifyCosignature(name, pub, cosigned);
  REQUIRE(v.ok());
  CHECK(*v == t);
  // The log's own signature still opens with the cosignature beside it.
  CHECK(log_key->verifier().Open(cosigned).ok());
  // Another witness's key, or a name it does not sign with: none found.
  CHECK(VerifyCosignature(name, log_key->verifier().public_key(), cosigned).status().code() == StatusCode::kNotFound);
  CHECK(VerifyCosignature("example.com/witness-2", pub, cosigned).status().code() == StatusCode::kNotFound);
  // An altered checkpoint: the cosignature no longer verifies.
  std::string altered = cosigned;
  altered.replace(altered.find("\n8\n"), 3, "\n9\n");
  CHECK(VerifyCosignature(name, pub, altered).status().code() == StatusCode::kInvalidArgument);
  // A cosigner never takes the log key's own name.
  CHECK_FALSE(witness->Cosign("example.com/log", body, t).ok());
  CHECK_FALSE(witness->Cosign(name, "not a checkpoint\n", t).ok());
}

}  // namespace
}  // namespace custodian::note
