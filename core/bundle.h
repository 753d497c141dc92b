// Offline verification of an evidence bundle (DESIGN.md, Tamper evidence).
//
// A bundle is one JSON document written by replay/evidence.h:
//
//   {"format": "custodian-evidence/3",
//    "summary": "<human-readable description: BundleSummary of its facts>",
//    "stream": "customer-42",
//    "from": "<RFC 3339: when the earliest of its events occurred>",
//    "to": "<RFC 3339: when the latest of its events occurred>",
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
// that the events are consecutive versions of the one stream (a name the log
// takes). The personal part is hashed from personal_sha256: a part is shown
// exactly when that is not the hash of no part, one shown sealed must name
// the person the event's data names, and one shown opened is counted
// (BundleVerdict::personal_shown): its text is the maker's word. Then every
// other statement the file makes is derived again from what was verified:
// "from" and "to" from the events' times, "summary" with BundleSummary; a
// stated value that differs fails verification, naming the field.
//
// Format 3 (custodian-evidence/3) adds proof that nothing of the stream is
// left out (core/stream_map.h):
//
//   "completeness": {
//     "map_note": "<the signed stream map note of the checkpoint's size>",
//     "map_proof": ["<base64 sibling>", ...],          // from the root down
//     "ends_at": "stream" | "empty" | "other",
//     "leaf": {"key_sha256": "<base64; only for other>", "events": N,
//              "last_position": P, "running_sha256": "<base64>"},  // not for empty
//     "running_before_sha256": "<base64>",  // the stream's running hash before
//                                           // the first event held (version > 0)
//     "later_leaf_hashes": ["<base64>", ...]}  // leaf hashes of the stream's
//                                              // events after the last one held
//
// The verifier checks the map note (same key, size and log root as the
// checkpoint), the proof against its map root, and then that the running
// hash from running_before over the held events' leaf hashes and the later
// ones is the signed one, with the counts adding up: so no event of the
// stream up to that size is missing, added, swapped or moved. Events before
// or after a time window are accounted for by hash only (withheld, not
// hidden). With "ends_at" other than "stream" the bundle holds no events and
// proves the stream has none (proof of absence).
//
// Format 2 (custodian-evidence/2) bundles, written before 2026-12-05, have
// no completeness part: they still verify, as inclusion only, and the
// verdict says completeness is not proven.
//
// Format 1 (custodian-evidence/1) bundles, written before 2026-12, state
// "from" and "to" as the time window asked for (null: none) and a summary
// that was not checked. They still verify as they did (a null "from" must
// start at version 0); the verdict lists those fields as unchecked.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/sha256.h"
#include "core/status.h"
#include "core/types.h"

namespace custodian {

inline constexpr char kBundleFormat[] = "custodian-evidence/3";
inline constexpr char kBundleFormatV2[] = "custodian-evidence/2";
inline constexpr char kBundleFormatV1[] = "custodian-evidence/1";

// What a bundle's events and checkpoint establish; its summary says exactly this.
struct BundleFacts {
  std::string stream;
  uint64_t events = 0;
  uint64_t first_version = 0, last_version = 0;
  uint64_t first_position = 0, last_position = 0;
  Timestamp from, to;  // earliest and latest occurred_at of the events
  std::string origin;  // the checkpoint's
  uint64_t tree_size = 0;
  Hash256 root{};
  std::string verifier_key;  // the key that signed the checkpoint
  // Format 3: what the stream map shows. stream_events: how many events the
  // stream has at tree_size; withheld: how many of them the bundle accounts
  // for by hash only (before and after the events it holds).
  bool completeness = false;
  uint64_t stream_events = 0;
  uint64_t withheld = 0;
};

// The "summary" of a bundle with these facts: the builder writes it, the
// verifier derives it again and compares.
std::string BundleSummary(const BundleFacts& facts);

struct BundleVerdict {
  bool ok = false;
  std::string problem;       // when !ok: which event or field fails and why
  std::string stream;
  uint64_t events = 0;
  uint64_t first_version = 0, last_version = 0;
  uint64_t tree_size = 0;    // of the signed checkpoint
  std::string root_base64;
  std::string from, to;      // RFC 3339, derived from the events' times
  std::string verifier_key;  // the key the checkpoint was checked with
  bool key_from_bundle = false;  // true when no key was given: trust it only if it matches the published one
  std::string format;        // as the bundle states it
  std::vector<std::string> unchecked;  // fields stated but not checked (format 1: summary, from, to)
  // What the stream map proves (format 3): every event of the stream up to
  // tree_size is accounted for. Formats 1 and 2 prove inclusion only.
  bool complete = false;
  uint64_t stream_events = 0;  // when complete: the stream's events at tree_size
  uint64_t withheld = 0;       // when complete: of those, accounted for by hash only
  std::string completeness;    // one sentence: what is proven, or why completeness is not
  // Events whose personal part the bundle shows opened (or as erased): the
  // proof covers the sealed bytes (personal_sha256), not the text shown.
  // Whether a part is there at all, and whose it says it is, are checked.
  uint64_t personal_shown = 0;
};

// Checks `bundle`. With `verifier_key` the checkpoint must be signed by that
// key; without it, by the key the bundle carries.
BundleVerdict VerifyBundle(std::string_view bundle, std::optional<std::string_view> verifier_key);

}  // namespace custodian
