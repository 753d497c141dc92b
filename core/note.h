// C2SP signed notes with Ed25519 keys, and C2SP tlog-checkpoint bodies.
//
//   signed-note: https://c2sp.org/signed-note
//     <text, ending in a newline>
//     <blank line>
//     — <key name> <base64(4-byte key id ‖ 64-byte Ed25519 signature)>
//   key id    = first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)
//   vkey      = <name>+<key id, 8 hex digits>+<base64(0x01 ‖ public key)>
//   signer    = PRIVATE+KEY+<name>+<key id>+<base64(0x01 ‖ 32-byte seed)>
//   tlog-checkpoint: https://c2sp.org/tlog-checkpoint
//     <origin>\n<tree size>\n<base64 root hash>\n
//   tlog-cosignature (cosignature/v1, Ed25519): https://c2sp.org/tlog-cosignature
//     — <cosigner name> <base64(key id ‖ u64 BE timestamp ‖ signature)>
//     key id  = first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)
//     signed  = "cosignature/v1\ntime <timestamp>\n" ‖ checkpoint body
//
// Ed25519 is deterministic: the same key and text give the same signature,
// which tests/core/note_test.cc checks against the Go reference's vectors.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/sha256.h"
#include "core/status.h"

namespace custodian::note {

uint32_t KeyId(std::string_view name, std::string_view public_key);
// The key id of a cosigner's signature lines (algorithm byte 0x04).
uint32_t CosignerKeyId(std::string_view name, std::string_view public_key);

inline constexpr size_t kEd25519PublicKeyBytes = 32;
inline constexpr size_t kEd25519SignatureBytes = 64;

// Whether `signature` is a valid Ed25519 signature (RFC 8032, 5.1.7) of
// `message` by `public_key`. Anything but a 32-byte key and a 64-byte
// signature is refused before OpenSSL sees it; OpenSSL (3.0) refuses
// S >= L, so a signature cannot be made into a second valid one
// (malleability). tests/core/note_test.cc runs every Wycheproof Ed25519
// vector through it. VerifierKey::Open checks each signature with it.
bool Ed25519Verify(std::string_view public_key, std::string_view message, std::string_view signature);

class VerifierKey {
 public:
  // Parses "<name>+<hex id>+<base64(0x01 ‖ key)>"; checks the id matches.
  static Result<VerifierKey> Parse(std::string_view vkey);

  std::string ToString() const;
  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  const std::string& public_key() const { return public_key_; }

  // Checks that `signed_note` carries a valid signature by this key and
  // returns its text. Signatures by other keys are ignored.
  Result<std::string> Open(std::string_view signed_note) const;

 private:
  friend class SigningKey;
  std::string name_;
  uint32_t key_id_ = 0;
  std::string public_key_;  // 32 bytes
};

class SigningKey {
 public:
  // A new random key. `name` must be non-empty, without spaces or '+'.
  static Result<SigningKey> Generate(std::string_view name);

  // Parses "PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>".
  static Result<SigningKey> Parse(std::string_view text);

  std::string ToString() const;  // the PRIVATE+KEY form: keep it secret
  const VerifierKey& verifier() const { return verifier_; }

  // `text` + "\n" + "— <name> <signature>\n". `text` must end in a newline.
  Result<std::string> Sign(std::string_view text) const;
  // This key's cosignature of the checkpoint `body` at `timestamp` (POSIX
  // seconds), as one signature line "— <name> <...>\n" to add to the
  // checkpoint's note (C2SP tlog-cosignature, cosignature/v1).
  // `name` is the cosigner's (never the log's own key name, whose lines
  // VerifierKey::Open reads as the log's signatures).
  Result<std::string> Cosign(std::string_view name, std::string_view body, uint64_t timestamp) const;

 private:
  std::string seed_;  // 32 bytes
  VerifierKey verifier_;
};

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash256 root{};
};

std::string CheckpointBody(const Checkpoint& c);

// Parses the first three lines of a checkpoint body; extension lines after
// them are allowed and ignored.
Result<Checkpoint> ParseCheckpoint(std::string_view body);

// The checkpoint body of a signed note: its text, before the blank line.
Result<std::string> NoteText(std::string_view signed_note);

// A witness's key as nodes publish it (EventLog::CosignerKey):
// "<name>+<hex key id>+<base64(0x04 ‖ Ed25519 public key)>".
struct WitnessKey {
  std::string name;
  std::string public_key;  // 32 bytes
};
// InvalidArgument, saying what is wrong, when `text` is not one.
Result<WitnessKey> ParseWitnessKey(std::string_view text);

// The timestamp of the valid cosignature by (`name`, `public_key`) among the
// signature lines of `signed_note` (a checkpoint note); NotFound when it has
// none, InvalidArgument when its line is there but does not verify.
Result<uint64_t> VerifyCosignature(std::string_view name, std::string_view public_key, std::string_view signed_note);

}  // namespace custodian::note
