// Offline verification of an evidence bundle (DESIGN.md, Tamper evidence).
//
// A bundle is one JSON document written by replay/evidence.h:
//
//   {"format": "custodian-evidence/1",
//    "summary": "<human-readable description>",
//    "stream": "customer-42", "from": <RFC 3339 or null>, "to": <... or null>,
//    "verifier_key": "<origin>+<key id>+<base64 key>",
//    "checkpoint": "<C2SP signed checkpoint note>",
//    "events": [{"event": <the event's JSON form with position, version and
//                          recorded_at>,
//                "personal_sha256": "<base64>",
//                "inclusion_proof": ["<base64>", ...]}, ...]}
//
// Verification needs no store: it recomputes each event's leaf hash from its
// fields (core/canonical.h), checks its inclusion proof against the signed
// checkpoint's root, the checkpoint's signature against the verifier key, and
// that the events are consecutive versions of the one stream.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace custodian {

inline constexpr char kBundleFormat[] = "custodian-evidence/1";

struct BundleVerdict {
  bool ok = false;
  std::string problem;       // when !ok: which event fails and why
  std::string stream;
  uint64_t events = 0;
  uint64_t first_version = 0, last_version = 0;
  uint64_t tree_size = 0;    // of the signed checkpoint
  std::string root_base64;
  std::string verifier_key;  // the key the checkpoint was checked with
  bool key_from_bundle = false;  // true when no key was given: trust it only if it matches the published one
};

// Checks `bundle`. With `verifier_key` the checkpoint must be signed by that
// key; without it, by the key the bundle carries.
BundleVerdict VerifyBundle(std::string_view bundle, std::optional<std::string_view> verifier_key);

}  // namespace custodian
