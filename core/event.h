// The event envelope (DESIGN.md, Event model; docs/event-format.md).
//
// An Event is a plain value. Fields before `position` are chosen by the
// producer; `position`, `version` and `recorded_at` are assigned by the log
// when the event is appended and are zero until then.
#pragma once

#include <cstdint>
#include <string>

#include "core/types.h"

namespace custodian {

// Personal data about a subject, sealed with that subject's key
// (DESIGN.md, Personal data and erasure; core/personal.h). Present in the
// record from format version 1. The log seals an event's `personal_plain`
// into it when the event is appended; events read back carry it sealed.
struct PersonalSection {
  enum class Scheme : uint8_t {
    kNone = 0,       // no personal data
    kAes256Gcm = 1,  // ciphertext sealed with the subject's key (core/personal.h)
  };
  Scheme scheme = Scheme::kNone;
  std::string subject;     // whose key seals it: "customer-42" or "customer-42/contact-c-7"
  std::string nonce;       // AES-GCM nonce (12 bytes)
  std::string ciphertext;  // AES-GCM ciphertext followed by its tag

  bool empty() const { return scheme == Scheme::kNone; }
  bool operator==(const PersonalSection&) const = default;
};

struct Event {
  EventId id;                  // UUID chosen by the producer; idempotency key
  std::string stream;          // "customer-42", "staff-7", "alerts", ...
  std::string type;            // "interaction.logged"
  uint32_t schema = 1;         // version of this type's payload
  std::string actor;           // "staff-7", "system", "system:crm-sync"
  Timestamp occurred_at;       // business time, given by the producer
  std::string source;          // optional: where it came from ("crm")
  std::string correlation_id;  // optional
  std::string causation_id;    // optional
  std::string data = "{}";     // the payload: a serialized JSON object
  PersonalSection personal;    // sealed personal data (set by the log)
  // The producer's personal part, a compact JSON object, before the log
  // seals it into `personal` (never stored, never hashed). Empty: none.
  std::string personal_plain;

  // Assigned by the log.
  Position position;
  StreamVersion version;
  Timestamp recorded_at;
  // Who handed the event to the log, when the producer's `actor` is only
  // their word: the id of the API token that appended it ("tok-9f2c..."),
  // set by the server, never taken from the event's JSON. Empty for what the
  // log's own operations and the command line write. Record version 2 and
  // canonical format 2 carry it (docs/event-format.md), so it is in the leaf.
  std::string recorded_by;

  bool operator==(const Event&) const = default;
};

// Limits enforced by ValidateEvent (core/validation.h).
constexpr size_t kMaxDataBytes = 1 << 20;    // serialized `data`
constexpr size_t kMaxStreamBytes = 200;
constexpr size_t kMaxTypeBytes = 100;
constexpr size_t kMaxActorBytes = 200;
constexpr size_t kMaxOptionalFieldBytes = 200;  // source, correlation_id, causation_id
constexpr int64_t kMaxFutureSkewMicros = 5 * 60 * 1'000'000LL;  // occurred_at vs now

}  // namespace custodian
