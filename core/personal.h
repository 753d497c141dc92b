// Personal data in events (DESIGN.md, Personal data and erasure; docs/events.md,
// "Personal data"): which fields of which types are personal, whose they are
// (the subject), and the sealing that lets a person be erased later without
// changing a leaf of the log.
//
// An event carries personal data in its `personal` part, a JSON object of the
// fields its type allows (PersonalFieldsOf). The subject follows from the type
// and `data`, never from anything the producer could point elsewhere:
//   - data.contact_id given: that contact of the customer, subject id
//     "<customer stream>/contact-<contact_id>" (its data.subject in
//     subject.erased is "contact-<contact_id>", on the customer's stream);
//   - otherwise the customer itself ("customer-<id>"), which the log's rules
//     then require to be a natural person (kind individual).
//
// Sealing (SealPersonal). AES-256-GCM under the subject's own 32-byte data
// key; the associated data binds the ciphertext to the event's id, so a
// sealed part moved to another event does not open. The nonce is derived,
// not drawn: the first 12 bytes of HMAC-SHA-256(data key, "nonce" ‖ event id
// ‖ plaintext). Two seals share a nonce only when they seal the same text for
// the same event (and then give the same bytes, so a producer's retry stays
// idempotent); different texts never share one (an HMAC collision aside),
// which is what GCM needs. The leaf hash commits to the hash of the sealed
// bytes (docs/event-format.md), so opening or erasing never changes a leaf.
//
// Data keys are wrapped for storage (WrapKey) with the master key, also by
// AES-256-GCM, a random nonce, and the subject id as associated data.
//
// Pure (but for the random nonces of WrapKey); thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.h"
#include "core/event.h"
#include "core/status.h"

namespace custodian {

inline constexpr size_t kDataKeyBytes = 32;
inline constexpr size_t kMasterKeyBytes = 32;
inline constexpr size_t kSealNonceBytes = 12;

// A personal field of a type.
struct PersonalFieldSpec {
  std::string_view name;
  size_t max_bytes;          // 200 for labels, more for addresses and free text
  bool multiline;            // line breaks and tabs allowed (free text)
  std::string_view meaning;  // for docs
};

// The personal fields `type` may carry (empty: none).
const std::vector<PersonalFieldSpec>& PersonalFieldsOf(std::string_view type);

// The subject of the event's personal part: "<stream>/contact-<contact_id>"
// or the customer stream itself. InvalidArgument when the type takes no
// personal data or the stream is not a customer's.
Result<std::string> PersonalSubject(const Event& e);
// The same for an event whose data ValidateEvent accepted (valid JSON): the
// sealer's, which reads contact_id in place when the text allows no doubt.
Result<std::string> PersonalSubjectOfChecked(const Event& e);

// The stream and the data.subject of subject.erased for a subject id:
// "customer-1/contact-c-1" -> ("customer-1", "contact-c-1");
// "customer-1" -> ("customer-1", "customer-1"). InvalidArgument otherwise.
struct SubjectRef {
  std::string stream;   // where its events and its erasure are
  std::string subject;  // data.subject of subject.erased
};
Result<SubjectRef> ParseSubjectId(std::string_view subject_id);
// The subject id of (stream, data.subject): the inverse of ParseSubjectId.
std::string SubjectIdOf(std::string_view stream, std::string_view subject);

// What a subject.erased event erases: the subject id (SubjectIdOf its
// stream and data.subject) and the reason in words (data.details, else
// data.reason). InvalidArgument for another type or data without a subject.
struct ErasureOf {
  std::string subject_id;
  std::string reason;
};
Result<ErasureOf> ErasureIn(const Event& e);

enum class BlindKind { kEmail, kPhone, kName };
// A value a person is found by (the blind index, below).
struct BlindValue {
  BlindKind kind;
  std::string value;
};

// Checks a personal part before it is sealed: a JSON object whose every key is
// a personal field of the type, with a non-empty string value within its
// size and without control characters (line breaks and tabs in free text).
// Returns its compact text, and when `found_by` is given, puts in it the
// values of the part's email, phone, mobile and name fields (BlindTokensOf).
// Messages name the field: "field 'personal.fax': is not a personal field
// of contact.added; the fields are name, email, ...".
Result<std::string> CheckPersonalPart(std::string_view type, std::string_view personal_json,
                                      std::vector<BlindValue>* found_by = nullptr);

// Seals `plaintext` (the compact JSON of the personal part) for event `id`
// under `data_key` (kDataKeyBytes), as the subject `subject`.
Result<PersonalSection> SealPersonal(const EventId& id, std::string_view subject, std::string_view data_key,
                                     std::string_view plaintext);
// Opens a sealed part of event `id`. Corruption when it does not open (a
// wrong key, another event's part, altered bytes).
Result<std::string> OpenPersonal(const EventId& id, const PersonalSection& sealed, std::string_view data_key);

// A data key wrapped by the master key: nonce (12) ‖ ciphertext (32) ‖ tag (16).
Result<std::string> WrapKey(std::string_view master_key, std::string_view subject, std::string_view data_key);
Result<std::string> UnwrapKey(std::string_view master_key, std::string_view subject, std::string_view wrapped);

// A short public name of a master key (the first 8 bytes of an HMAC of a
// fixed text under it, hex): says which key wrapped what, reveals nothing.
std::string MasterKeyFingerprint(std::string_view master_key);

// --- The blind index (finding people without a plaintext index) ---

// The normalised forms a value is indexed under: an e-mail in lower case
// without surrounding spaces; a phone's digits (and a leading +); a name's
// words in lower case, each on its own (so any of them finds the person),
// of two letters or more. Empty when nothing is left to index. `too_short`,
// if given, receives a name's one-letter words, which are left out (one
// letter would match nearly everyone).
std::vector<std::string> BlindTerms(BlindKind kind, std::string_view value,
                                    std::vector<std::string>* too_short = nullptr);

// The index key of one term: HMAC-SHA-256(blind key, kind ‖ 0x00 ‖ term).
std::string BlindToken(std::string_view blind_key, BlindKind kind, std::string_view term);
std::string BlindToken(const crypto::HmacSha256Key& blind_key, BlindKind kind, std::string_view term);

// Every token a personal part is indexed under, once each: the terms of
// the values CheckPersonalPart found it by.
std::vector<std::string> BlindTokensOf(const crypto::HmacSha256Key& blind_key, const std::vector<BlindValue>& found_by);

}  // namespace custodian
