// The canonical bytes of an event: what the idempotency check compares and
// what the Merkle tree will hash. The grammar, with a worked example, is in
// docs/event-format.md ("Canonical bytes"); tests/core/canonical_test.cc pins it.
//
// Changing anything here changes every leaf hash: it needs a new
// kCanonicalFormat, never an edit of format 1.
#pragma once

#include <cstdint>
#include <string>

#include "core/event.h"
#include "core/sha256.h"

namespace custodian {

// Format 1: every event with no `recorded_by`. Format 2 (an event with one)
// puts recorded_by, as a string, after recorded_at; the content is the same.
constexpr uint8_t kCanonicalFormat = 1;
constexpr uint8_t kCanonicalFormatRecordedBy = 2;

// The producer's part of the event: id, stream, type, schema, actor,
// occurred_at, source, correlation_id, causation_id, SHA-256(data),
// SHA-256(personal section). Log-assigned fields are not included.
std::string CanonicalContent(const Event& e);

// The same, with the personal section's hash given: for a verifier that holds
// the hash but not the sealed bytes (an evidence bundle).
std::string CanonicalContent(const Event& e, const Hash256& personal_hash);

// kCanonicalFormat ‖ position ‖ version ‖ recorded_at ‖ CanonicalContent(e);
// with a recorded_by: kCanonicalFormatRecordedBy ‖ position ‖ version ‖
// recorded_at ‖ recorded_by ‖ CanonicalContent(e).
std::string CanonicalBytes(const Event& e);

// SHA-256(kCanonicalFormat ‖ CanonicalContent(e)) (format 1 always: who
// handed the event in is not part of what it is): two events with the same id
// are the same event exactly when their content hashes are equal. (The writer
// compares CanonicalContent itself; the ids family of stores written before
// 2026-11-23 holds this hash.)
Hash256 ContentHash(const Event& e);

// SHA-256 of the personal section's encoding (scheme, subject, nonce, ciphertext).
Hash256 PersonalHash(const PersonalSection& p);

// RFC 6962 leaf hash: SHA-256(0x00 ‖ CanonicalBytes(e)).
Hash256 LeafHash(const Event& e);

// The same leaf hash from the log-assigned fields and CanonicalContent(e),
// for a writer that computed the content once.
Hash256 LeafHashOfContent(Position position, StreamVersion version, Timestamp recorded_at, std::string_view recorded_by,
                          std::string_view content);

}  // namespace custodian
