// Tamper evidence (DESIGN.md, Tamper evidence; docs/tamper-evidence.md): the
// log's published key, signed checkpoints, Merkle proofs, the verification
// of the whole store (optionally against a checkpoint an auditor kept), and
// evidence bundles, written and checked. Each operation is a function with a
// typed result and one ToJson beside it; the command line
// (tools/cli_evidence.cc) parses flags, opens the store, calls them and
// prints, and the server will do the same.
//
// Hashes in results are raw; every ToJson writes them in base64, as the
// checkpoint notes and bundles do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/bundle.h"
#include "core/note.h"
#include "core/sha256.h"
#include "core/status.h"
#include "replay/evidence.h"
#include "service/store.h"
#include "storage/event_log.h"

namespace custodian {

// --- The published key ---

// The checkpoint key's public half, as auditors are given it.
struct PublishedKey {
  std::string verifier_key;  // C2SP vkey: "<origin>+<key id>+<base64 key>"
  std::string origin;        // the log's name on its checkpoints
  uint32_t key_id = 0;
};
// NotFound, naming the store's directory, for a store without a checkpoint key.
Result<PublishedKey> VerifierKey(const EventLog& log);
// {"verifier_key": vkey, "origin": name, "key_id": "<8 hex digits>"}
std::string PublishedKeyToJson(const PublishedKey& k);

// --- Checkpoints ---

struct SignedCheckpoint {
  std::string origin;
  uint64_t size = 0;  // events it covers
  Hash256 root{};     // their Merkle root
  std::string note;   // the signed C2SP note, as stored
};
// Signs the log's current size and root, stores the checkpoint and returns
// it; size and root are read back from the signed note itself, so they are
// exactly what was signed even while others append. FailedPrecondition,
// with nothing written, when the log cannot sign (EventLog::SignCheckpoint).
Result<SignedCheckpoint> SignCheckpoint(EventLog& log);
// {"origin", "size", "root": base64, "checkpoint": the note}
std::string SignedCheckpointToJson(const SignedCheckpoint& c);

// A witness's cosignature (docs/scale-out.md): this node's line for the
// checkpoint note it was given, and the note with the line added.
struct Cosignature {
  std::string cosigner;  // "<name>+<key id>+<base64(0x04 ‖ key)>"
  uint64_t size = 0;
  std::string line;      // "— <name> <...>\n"
  std::string note;      // the checkpoint note with the line appended
};
// EventLog::Cosign, for the given note, at the system's time.
Result<Cosignature> CosignCheckpoint(EventLog& log, std::string_view signed_checkpoint);
std::string CosignatureToJson(const Cosignature& c);

// Which of `witnesses` ("<name>+<key id>+<base64(0x04 ‖ key)>") cosigned the
// checkpoint note, with when; `require` of them must have.
struct CosignatureCheck {
  struct Witness {
    std::string name;
    bool cosigned = false;
    uint64_t timestamp = 0;
    std::string problem;  // why not, when not
  };
  std::vector<Witness> witnesses;
  size_t cosigned = 0, required = 0;
  bool ok = false;
};
Result<CosignatureCheck> CheckCosignatures(std::string_view signed_checkpoint, const std::vector<std::string>& witnesses,
                                           size_t require);
std::string CosignatureCheckToJson(const CosignatureCheck& c);

// Every stored checkpoint note, by tree size, oldest first.
Result<std::vector<std::string>> ListCheckpoints(const EventLog& log);
// JSON Lines: {"checkpoint": note} for each, one a line, each line ending
// in "\n"; empty for none.
std::string CheckpointsToJsonLines(const std::vector<std::string>& notes);

// --- Proofs (RFC 9162 2.1.3 and 2.1.4) ---

struct InclusionProof {
  uint64_t position = 0;
  uint64_t tree_size = 0;
  Hash256 leaf_hash{};  // LeafHash of the event at `position`
  Hash256 root{};       // of the tree of `tree_size` events
  std::vector<Hash256> proof;
};
// Proof that the event at `position` is leaf `position` of the tree of
// `tree_size` events (default: every event committed). InvalidArgument when
// the position is not in that tree or the tree is larger than the log.
Result<InclusionProof> ProveInclusion(const EventLog& log, uint64_t position, std::optional<uint64_t> tree_size);
// {"position", "tree_size", "leaf_hash", "root", "proof": [base64, ...]}
std::string InclusionProofToJson(const InclusionProof& p);

struct ConsistencyProof {
  uint64_t from = 0, to = 0;
  Hash256 root_from{}, root_to{};
  std::vector<Hash256> proof;
};
// Proof that the tree of `from` events is a prefix of the tree of `to`
// (default: every event committed). InvalidArgument for sizes out of order
// or past the end.
Result<ConsistencyProof> ProveConsistency(const EventLog& log, uint64_t from, std::optional<uint64_t> to);
// {"from", "to", "root_from", "root_to", "proof": [base64, ...]}
std::string ConsistencyProofToJson(const ConsistencyProof& p);

// --- Verification of the store ---

// A checkpoint an auditor kept, to prove the log today extends it.
struct KeptCheckpoint {
  std::string note;  // the signed note, as kept
  std::string name;  // where it was kept (a file name), for messages
  // The key to check its signature with; the store's when absent.
  std::optional<note::VerifierKey> key;
};

// What verification found, for every outcome: a store that agrees, the
// first disagreement (report.problem), or an error that stopped it
// (`error`), with the counts as far as it got.
struct VerifyResult {
  VerifyReport report;  // report.ok is false also when the kept checkpoint is not extended
  // With a kept checkpoint that the log extends: what was proved.
  std::string against;
  // Verification could not run to its end (a storage error: IoError,
  // Corruption) or the kept checkpoint could not be checked (no key to
  // check it with, a proof that could not be read).
  Status error;
  double seconds = 0;  // how long verification took
  bool ok() const { return report.ok && error.ok(); }
  // The result of a verification that could not start (the store did not open).
  static VerifyResult NotRun(Status why);
};
// Recomputes every leaf, tree node, stored checkpoint and index
// (EventLog::Verify); then, with `against`, checks the kept checkpoint's
// signature and that the recomputed log extends it (a consistency proof from
// its size to today's). A kept checkpoint that does not open, is larger than
// the log (a rollback) or is not a prefix of it (rewritten history) is a
// disagreement. `progress` is called now and then with (done, total).
VerifyResult VerifyStore(const EventLog& log, const std::optional<KeptCheckpoint>& against,
                         const ProgressFn& progress = nullptr);
// {"ok", "events", "streams", "checkpoints_checked", "size" and "root" (null
// unless every event was read), "problem" (null when ok; the disagreement or
// the error's message), "error" (null, or the error's message), "against"
// (null, or what was proved), "seconds"}.
std::string VerifyResultToJson(const VerifyResult& v);

// --- Evidence bundles (replay/evidence.h, core/bundle.h) ---

struct EvidenceBundle {
  std::string stream;
  Bundle bundle;             // the file's contents, its summary and how many events
  std::string verifier_key;  // the store's, that its checkpoint opens with
};
// Builds the bundle of `request.stream` (BuildEvidenceBundle: signs a fresh
// checkpoint on a writable log when no stored one covers the events), then
// records the export of the customer's data for `caller` (format "bundle")
// before returning it; when the export cannot be recorded it returns that
// error and no bundle. NotFound when no event matches.
Result<EvidenceBundle> MakeBundle(EventLog& log, const Caller& caller, const BundleRequest& request);

// A bundle written to a file, as verify-bundle will read it.
struct WrittenBundle {
  std::string file;
  uint64_t events = 0;
  std::string summary;
  bool verified = false;  // false: it did not verify as written, and no file was left
  std::string problem;    // when not verified: why (BundleVerdict::problem)
};
// Writes `b` beside `file` (file + ".tmp"), reads it back from the disk and
// verifies it as VerifyBundleFile would, with the store's key; only a bundle
// that verifies takes `file`'s place, one that does not is removed
// (verified false). IoError when the file cannot be written.
Result<WrittenBundle> WriteBundleFile(const EvidenceBundle& b, const std::string& file);
// {"file", "events", "summary"}
std::string WrittenBundleToJson(const WrittenBundle& w);

// Checks the bundle in `file` offline (VerifyBundle): with `key`, the
// checkpoint must be signed by it; without, by the key the bundle carries.
// InvalidArgument when the file cannot be read; a bundle that does not
// verify is a verdict with ok false.
Result<BundleVerdict> VerifyBundleFile(const std::string& file, const std::optional<note::VerifierKey>& key);
// {"ok", "stream", "events", "first_version", "last_version", "from", "to"
// (null when unknown), "tree_size", "root", "verifier_key",
// "key_from_bundle", "unchecked": [field, ...], "problem" (null when ok)}
std::string BundleVerdictToJson(const BundleVerdict& v);

}  // namespace custodian
