#include "core/note.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <system_error>
#include <vector>

#include "core/base64.h"
#include "core/text.h"

namespace custodian::note {
namespace {

constexpr unsigned char kAlgEd25519 = 0x01;
constexpr unsigned char kAlgCosignatureV1 = 0x04;
constexpr char kSignaturePrefix[] = "\xE2\x80\x94 ";  // em dash and a space

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct CtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using CtxPtr = std::unique_ptr<EVP_MD_CTX, CtxFree>;

Status CheckName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("a key name must not be empty");
  for (unsigned char c : name) {
    if (c <= ' ' || c == '+') {
      return Status::InvalidArgument("key name \"" + std::string(name) + "\" has a space, control character or '+'");
    }
  }
  return Status::Ok();
}

std::string HexId(uint32_t id) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", id);
  return buf;
}

Result<uint32_t> ParseHexId(std::string_view s) {
  if (s.size() != 8) return Status::InvalidArgument("key id \"" + std::string(s) + "\" is not 8 hex digits");
  uint32_t v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return Status::InvalidArgument("key id \"" + std::string(s) + "\" is not lower-case hex");
    v = v << 4 | static_cast<uint32_t>(d);
  }
  return v;
}

uint32_t ReadU32(const char* p) {
  return static_cast<uint32_t>(static_cast<unsigned char>(p[0])) << 24 |
         static_cast<uint32_t>(static_cast<unsigned char>(p[1])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(p[2])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(p[3]));
}

// Splits at `sep`; the last of at most `max_parts` parts keeps the rest
// (base64 keys may contain '+').
std::vector<std::string_view> Split(std::string_view s, char sep, size_t max_parts = SIZE_MAX) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t at = parts.size() + 1 == max_parts ? std::string_view::npos : s.find(sep, start);
    parts.push_back(s.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return parts;
}

}  // namespace

bool Ed25519Verify(std::string_view public_key, std::string_view message, std::string_view signature) {
  if (public_key.size() != kEd25519PublicKeyBytes || signature.size() != kEd25519SignatureBytes) return false;
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                           reinterpret_cast<const unsigned char*>(public_key.data()),
                                           public_key.size()));
  CtxPtr ctx(EVP_MD_CTX_new());
  if (!pkey || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

namespace {
uint32_t KeyIdFor(std::string_view name, unsigned char alg, std::string_view public_key) {
  std::string buf(name);
  buf.push_back('\n');
  buf.push_back(static_cast<char>(alg));
  buf.append(public_key);
  Hash256 h = Sha256(buf);
  return ReadU32(reinterpret_cast<const char*>(h.data()));
}

// The 64-byte Ed25519 signature of `message` by the key of `seed`.
Result<std::string> Ed25519Sign(const std::string& seed, std::string_view message) {
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                            reinterpret_cast<const unsigned char*>(seed.data()), seed.size()));
  CtxPtr ctx(EVP_MD_CTX_new());
  unsigned char sig[64];
  size_t len = sizeof sig;
  if (!pkey || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &len, reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return Status::IoError("OpenSSL failed to sign");
  }
  return std::string(reinterpret_cast<char*>(sig), len);
}

std::string CosignedMessage(std::string_view body, uint64_t timestamp) {
  return "cosignature/v1\ntime " + std::to_string(timestamp) + "\n" + std::string(body);
}
}  // namespace

uint32_t CosignerKeyId(std::string_view name, std::string_view public_key) {
  return KeyIdFor(name, kAlgCosignatureV1, public_key);
}

uint32_t KeyId(std::string_view name, std::string_view public_key) {
  std::string buf(name);
  buf.push_back('\n');
  buf.push_back(static_cast<char>(kAlgEd25519));
  buf.append(public_key);
  Hash256 h = Sha256(buf);
  return ReadU32(reinterpret_cast<const char*>(h.data()));
}

Result<VerifierKey> VerifierKey::Parse(std::string_view vkey) {
  auto parts = Split(vkey, '+', 3);
  if (parts.size() != 3) {
    return Status::InvalidArgument(QuotedText(vkey) + " is not a verifier key; expected <name>+<key id>+<base64 key>");
  }
  CUSTODIAN_RETURN_IF_ERROR(CheckName(parts[0]));
  Result<uint32_t> id = ParseHexId(parts[1]);
  if (!id.ok()) return id.status();
  Result<std::string> key = Base64Decode(parts[2]);
  if (!key.ok()) return key.status().WithContext("verifier key");
  if (key->size() != 33 || static_cast<unsigned char>((*key)[0]) != kAlgEd25519) {
    return Status::InvalidArgument("verifier key is not an Ed25519 key (expected 0x01 and 32 bytes)");
  }
  VerifierKey v;
  v.name_ = std::string(parts[0]);
  v.public_key_ = key->substr(1);
  v.key_id_ = KeyId(v.name_, v.public_key_);
  if (v.key_id_ != *id) {
    return Status::InvalidArgument("verifier key id " + std::string(parts[1]) + " does not match its key (" +
                                   HexId(v.key_id_) + ")");
  }
  return v;
}

std::string VerifierKey::ToString() const {
  std::string raw(1, static_cast<char>(kAlgEd25519));
  raw += public_key_;
  return name_ + "+" + HexId(key_id_) + "+" + Base64Encode(raw);
}

Result<std::string> VerifierKey::Open(std::string_view signed_note) const {
  size_t split = signed_note.rfind("\n\n");
  if (split == std::string_view::npos) {
    return Status::InvalidArgument("the note has no blank line before its signatures");
  }
  std::string_view text = signed_note.substr(0, split + 1);
  std::string_view sigs = signed_note.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') return Status::InvalidArgument("the note's signature lines do not end in a newline");
  sigs.remove_suffix(1);
  bool found = false;
  for (std::string_view line : Split(sigs, '\n')) {
    if (!line.starts_with(kSignaturePrefix)) {
      return Status::InvalidArgument("signature line " + QuotedText(line, 60) + " does not start with an em dash");
    }
    line.remove_prefix(sizeof(kSignaturePrefix) - 1);
    size_t space = line.find(' ');
    if (space == std::string_view::npos) return Status::InvalidArgument("a signature line has no signature");
    if (line.substr(0, space) != name_) continue;
    Result<std::string> sig = Base64Decode(line.substr(space + 1));
    if (!sig.ok()) return sig.status().WithContext("signature by " + name_);
    if (sig->size() != 4 + 64) return Status::InvalidArgument("the signature by " + name_ + " is not 68 bytes");
    if (ReadU32(sig->data()) != key_id_) continue;
    found = true;
    if (!Ed25519Verify(public_key_, text, std::string_view(*sig).substr(4))) {
      return Status::InvalidArgument("the signature by " + name_ + "+" + HexId(key_id_) +
                                     " does not match the note's text: the note was altered or signed by another key");
    }
  }
  if (!found) return Status::InvalidArgument("the note has no signature by " + name_ + "+" + HexId(key_id_));
  return std::string(text);
}

Result<SigningKey> SigningKey::Generate(std::string_view name) {
  CUSTODIAN_RETURN_IF_ERROR(CheckName(name));
  std::string seed(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), 32) != 1) {
    return Status::IoError("the system's random number generator failed");
  }
  std::string raw(1, static_cast<char>(kAlgEd25519));
  raw += seed;
  return Parse("PRIVATE+KEY+" + std::string(name) + "+00000000+" + Base64Encode(raw));
}

Result<SigningKey> SigningKey::Parse(std::string_view text) {
  auto parts = Split(text, '+', 5);
  if (parts.size() != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY") {
    return Status::InvalidArgument("not a signer key; expected PRIVATE+KEY+<name>+<key id>+<base64 key>");
  }
  CUSTODIAN_RETURN_IF_ERROR(CheckName(parts[2]));
  Result<std::string> raw = Base64Decode(parts[4]);
  if (!raw.ok()) return raw.status().WithContext("signer key");
  if (raw->size() != 33 || static_cast<unsigned char>((*raw)[0]) != kAlgEd25519) {
    return Status::InvalidArgument("signer key is not an Ed25519 key (expected 0x01 and a 32-byte seed)");
  }
  SigningKey k;
  k.seed_ = raw->substr(1);
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                            reinterpret_cast<const unsigned char*>(k.seed_.data()), 32));
  unsigned char pub[32];
  size_t len = sizeof pub;
  if (!pkey || EVP_PKEY_get_raw_public_key(pkey.get(), pub, &len) != 1 || len != 32) {
    return Status::InvalidArgument("signer key: OpenSSL refused the Ed25519 seed");
  }
  k.verifier_.name_ = std::string(parts[2]);
  k.verifier_.public_key_ = std::string(reinterpret_cast<char*>(pub), 32);
  k.verifier_.key_id_ = KeyId(k.verifier_.name_, k.verifier_.public_key_);
  if (parts[3] != "00000000") {  // Generate passes a placeholder id
    Result<uint32_t> id = ParseHexId(parts[3]);
    if (!id.ok()) return id.status();
    if (*id != k.verifier_.key_id_) {
      return Status::InvalidArgument("signer key id " + std::string(parts[3]) + " does not match its key (" +
                                     HexId(k.verifier_.key_id_) + ")");
    }
  }
  return k;
}

std::string SigningKey::ToString() const {
  std::string raw(1, static_cast<char>(kAlgEd25519));
  raw += seed_;
  return "PRIVATE+KEY+" + verifier_.name_ + "+" + HexId(verifier_.key_id_) + "+" + Base64Encode(raw);
}

Result<std::string> SigningKey::Sign(std::string_view text) const {
  if (text.empty() || text.back() != '\n') return Status::InvalidArgument("a note's text must end in a newline");
  Result<std::string> sig = Ed25519Sign(seed_, text);
  if (!sig.ok()) return sig.status();
  std::string raw;
  const uint32_t id = verifier_.key_id_;
  for (int shift = 24; shift >= 0; shift -= 8) raw.push_back(static_cast<char>(id >> shift));
  raw += *sig;
  std::string out(text);
  out += "\n";
  out += kSignaturePrefix;
  out += verifier_.name_ + " " + Base64Encode(raw) + "\n";
  return out;
}

Result<std::string> SigningKey::Cosign(std::string_view name, std::string_view body, uint64_t timestamp) const {
  CUSTODIAN_RETURN_IF_ERROR(CheckName(name));
  if (name == verifier_.name_) return Status::InvalidArgument("a cosigner's name must differ from the log key's");
  if (timestamp > static_cast<uint64_t>(INT64_MAX)) return Status::InvalidArgument("a cosignature's time is at most 2^63-1");
  CUSTODIAN_RETURN_IF_ERROR(ParseCheckpoint(body).status());
  const std::string message = CosignedMessage(body, timestamp);
  Result<std::string> sig = Ed25519Sign(seed_, message);
  if (!sig.ok()) return sig.status();
  std::string raw;
  const uint32_t id = CosignerKeyId(name, verifier_.public_key_);
  for (int shift = 24; shift >= 0; shift -= 8) raw.push_back(static_cast<char>(id >> shift));
  for (int shift = 56; shift >= 0; shift -= 8) raw.push_back(static_cast<char>(timestamp >> shift));
  raw += *sig;
  return std::string(kSignaturePrefix) + std::string(name) + " " + Base64Encode(raw) + "\n";
}

Result<std::string> NoteText(std::string_view signed_note) {
  const size_t split = signed_note.rfind("\n\n");
  if (split == std::string_view::npos) return Status::InvalidArgument("the note has no blank line before its signatures");
  return std::string(signed_note.substr(0, split + 1));
}

Result<WitnessKey> ParseWitnessKey(std::string_view w) {
  const size_t a = w.find('+'), b = a == std::string_view::npos ? a : w.find('+', a + 1);
  if (b == std::string_view::npos) {
    return Status::InvalidArgument("witness key " + QuotedText(w, 60) + " is not <name>+<key id>+<key>");
  }
  Result<std::string> raw = Base64Decode(w.substr(b + 1));
  if (!raw.ok() || raw->size() != 33 || (*raw)[0] != '\x04') {
    return Status::InvalidArgument("witness key " + std::string(w.substr(0, a)) +
                                   " is not a cosignature/v1 Ed25519 key (0x04 and 32 bytes)");
  }
  return WitnessKey{std::string(w.substr(0, a)), raw->substr(1)};
}

Result<uint64_t> VerifyCosignature(std::string_view name, std::string_view public_key, std::string_view signed_note) {
  Result<std::string> text = NoteText(signed_note);
  if (!text.ok()) return text.status();
  const uint32_t id = CosignerKeyId(name, public_key);
  std::string_view sigs = signed_note.substr(text->size() + 1);
  for (std::string_view line : Split(sigs, '\n')) {
    if (!line.starts_with(kSignaturePrefix)) continue;
    line.remove_prefix(sizeof(kSignaturePrefix) - 1);
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || line.substr(0, space) != name) continue;
    Result<std::string> raw = Base64Decode(line.substr(space + 1));
    if (!raw.ok() || raw->size() != 4 + 8 + 64 || ReadU32(raw->data()) != id) continue;
    uint64_t timestamp = 0;
    for (int i = 0; i < 8; ++i) timestamp = timestamp << 8 | static_cast<unsigned char>((*raw)[4 + i]);
    if (!Ed25519Verify(public_key, CosignedMessage(*text, timestamp), std::string_view(*raw).substr(12))) {
      return Status::InvalidArgument("the cosignature by " + std::string(name) +
                                     " does not match the checkpoint: it was altered or cosigned by another key");
    }
    return timestamp;
  }
  return Status::NotFound("the checkpoint has no cosignature by " + std::string(name) + "+" + HexId(id));
}

std::string CheckpointBody(const Checkpoint& c) {
  return c.origin + "\n" + std::to_string(c.size) + "\n" +
         Base64Encode(std::string_view(reinterpret_cast<const char*>(c.root.data()), c.root.size())) + "\n";
}

Result<Checkpoint> ParseCheckpoint(std::string_view body) {
  auto lines = Split(body, '\n');
  if (lines.size() < 4 || !lines.back().empty()) {
    return Status::InvalidArgument("a checkpoint body is three lines (origin, size, root), each ending in a newline");
  }
  Checkpoint c;
  c.origin = std::string(lines[0]);
  if (c.origin.empty()) return Status::InvalidArgument("the checkpoint's origin line is empty");
  const std::string_view size = lines[1];
  if (size.empty() || size.size() > 20 || (size.size() > 1 && size[0] == '0') ||
      size.find_first_not_of("0123456789") != std::string_view::npos) {
    return Status::InvalidArgument("the checkpoint's size \"" + std::string(size) + "\" is not a decimal number");
  }
  // 20 digits can exceed 2^64 - 1: from_chars says so (std::stoull would throw).
  if (std::from_chars(size.data(), size.data() + size.size(), c.size).ec != std::errc()) {
    return Status::InvalidArgument("the checkpoint's size " + std::string(size) + " is more than 2^64 - 1");
  }
  Result<std::string> root = Base64Decode(lines[2]);
  if (!root.ok()) return root.status().WithContext("checkpoint root");
  if (root->size() != 32) return Status::InvalidArgument("the checkpoint's root is not 32 bytes");
  std::memcpy(c.root.data(), root->data(), 32);
  return c;
}

}  // namespace custodian::note
