#include "service/evidence.h"

#include <fmt/core.h>

#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/base64.h"
#include "core/canonical.h"
#include "core/merkle.h"
#include "service/store.h"

namespace custodian {
namespace json = boost::json;

namespace {

std::string B64(const Hash256& h) { return Base64Encode(merkle::ToBytes(h)); }

json::array B64List(const std::vector<Hash256>& hashes) {
  json::array a;
  for (const Hash256& h : hashes) a.emplace_back(B64(h));
  return a;
}

json::value StringOrNull(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

// Far past any customer's bundle (a few KiB an event), short of what parsing
// it would ask of the machine.
constexpr size_t kMaxBundleBytes = size_t{256} << 20;

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read " + path + ": " + std::strerror(errno));
  return ReadAtMost(in, kMaxBundleBytes, path);
}

}  // namespace

// --- The published key ---

Result<PublishedKey> VerifierKey(const EventLog& log) {
  const note::VerifierKey* key = log.verifier();
  if (key == nullptr) return Status::NotFound("the store at " + log.dir() + " has no checkpoint key");
  return PublishedKey{key->ToString(), key->name(), key->key_id()};
}

std::string PublishedKeyToJson(const PublishedKey& k) {
  return json::serialize(json::object{
      {"verifier_key", k.verifier_key}, {"origin", k.origin}, {"key_id", fmt::format("{:08x}", k.key_id)}});
}

// --- Checkpoints ---

Result<SignedCheckpoint> SignCheckpoint(EventLog& log) {
  Result<std::string> signed_note = log.SignCheckpoint();
  if (!signed_note.ok()) return signed_note.status();
  // The log signed it with this key a moment ago: it opens.
  Result<std::string> body = log.verifier()->Open(*signed_note);
  if (!body.ok()) return body.status().WithContext("the checkpoint just signed");
  Result<note::Checkpoint> c = note::ParseCheckpoint(*body);
  if (!c.ok()) return c.status().WithContext("the checkpoint just signed");
  return SignedCheckpoint{c->origin, c->size, c->root, std::move(*signed_note)};
}

std::string SignedCheckpointToJson(const SignedCheckpoint& c) {
  return json::serialize(
      json::object{{"origin", c.origin}, {"size", c.size}, {"root", B64(c.root)}, {"checkpoint", c.note}});
}

Result<Cosignature> CosignCheckpoint(EventLog& log, std::string_view signed_checkpoint) {
  Result<std::string> line = log.Cosign(signed_checkpoint, SystemClock().Now());
  if (!line.ok()) return line.status();
  Result<std::string> key = log.CosignerKey();
  if (!key.ok()) return key.status();
  Result<note::Checkpoint> c = note::ParseCheckpoint(*note::NoteText(signed_checkpoint));
  if (!c.ok()) return c.status();
  std::string note(signed_checkpoint);
  if (!note.ends_with("\n")) note += "\n";
  note += *line;
  return Cosignature{std::move(*key), c->size, std::move(*line), std::move(note)};
}

std::string CosignatureToJson(const Cosignature& c) {
  return json::serialize(
      json::object{{"cosigner", c.cosigner}, {"size", c.size}, {"cosignature", c.line}, {"checkpoint", c.note}});
}

Result<CosignatureCheck> CheckCosignatures(std::string_view signed_checkpoint, const std::vector<std::string>& witnesses,
                                           size_t require) {
  CosignatureCheck out;
  out.required = require;
  Result<std::string> text = note::NoteText(signed_checkpoint);
  if (!text.ok()) return text.status();
  CUSTODIAN_RETURN_IF_ERROR(note::ParseCheckpoint(*text).status());
  for (const std::string& w : witnesses) {
    Result<note::WitnessKey> key = note::ParseWitnessKey(w);
    if (!key.ok()) return key.status();
    CosignatureCheck::Witness r;
    r.name = key->name;
    Result<uint64_t> t = note::VerifyCosignature(key->name, key->public_key, signed_checkpoint);
    if (t.ok()) {
      r.cosigned = true;
      r.timestamp = *t;
      ++out.cosigned;
    } else {
      r.problem = t.status().message();
    }
    out.witnesses.push_back(std::move(r));
  }
  out.ok = out.cosigned >= require;
  return out;
}

std::string CosignatureCheckToJson(const CosignatureCheck& c) {
  json::array ws;
  for (const auto& w : c.witnesses) {
    json::object o{{"name", w.name}, {"cosigned", w.cosigned}};
    if (w.cosigned) o["time"] = w.timestamp;
    if (!w.problem.empty()) o["problem"] = w.problem;
    ws.push_back(std::move(o));
  }
  return json::serialize(json::object{{"ok", c.ok}, {"cosigned", c.cosigned}, {"required", c.required}, {"witnesses", std::move(ws)}});
}

Result<std::vector<std::string>> ListCheckpoints(const EventLog& log) { return log.Checkpoints(); }

std::string CheckpointsToJsonLines(const std::vector<std::string>& notes) {
  std::string out;
  for (const std::string& n : notes) out += json::serialize(json::object{{"checkpoint", n}}) + "\n";
  return out;
}

// --- Proofs ---

Result<InclusionProof> ProveInclusion(const EventLog& log, uint64_t position, std::optional<uint64_t> tree_size) {
  InclusionProof p;
  p.position = position;
  p.tree_size = tree_size.value_or(log.end().value());
  if (position >= p.tree_size) {
    return Status::InvalidArgument("position " + std::to_string(position) + " is not in a tree of " +
                                   std::to_string(p.tree_size) + " events");
  }
  Result<std::vector<Hash256>> proof = log.InclusionProof(Position(position), p.tree_size);
  if (!proof.ok()) return proof.status();
  p.proof = std::move(*proof);
  Result<Hash256> root = log.RootAt(p.tree_size);
  if (!root.ok()) return root.status();
  p.root = *root;
  Result<std::vector<Event>> event = log.ReadAll(Position(position), 1);
  if (!event.ok()) return event.status();
  if (event->empty()) return Status::NotFound("no event at position " + std::to_string(position));
  p.leaf_hash = LeafHash(event->front());
  return p;
}

std::string InclusionProofToJson(const InclusionProof& p) {
  return json::serialize(json::object{{"position", p.position},
                                      {"tree_size", p.tree_size},
                                      {"leaf_hash", B64(p.leaf_hash)},
                                      {"root", B64(p.root)},
                                      {"proof", B64List(p.proof)}});
}

Result<ConsistencyProof> ProveConsistency(const EventLog& log, uint64_t from, std::optional<uint64_t> to) {
  ConsistencyProof p;
  p.from = from;
  p.to = to.value_or(log.end().value());
  Result<std::vector<Hash256>> proof = log.ConsistencyProof(p.from, p.to);
  if (!proof.ok()) return proof.status();
  p.proof = std::move(*proof);
  Result<Hash256> root_from = log.RootAt(p.from);
  if (!root_from.ok()) return root_from.status();
  Result<Hash256> root_to = log.RootAt(p.to);
  if (!root_to.ok()) return root_to.status();
  p.root_from = *root_from;
  p.root_to = *root_to;
  return p;
}

std::string ConsistencyProofToJson(const ConsistencyProof& p) {
  return json::serialize(json::object{{"from", p.from},
                                      {"to", p.to},
                                      {"root_from", B64(p.root_from)},
                                      {"root_to", B64(p.root_to)},
                                      {"proof", B64List(p.proof)}});
}

// --- Verification of the store ---

VerifyResult VerifyResult::NotRun(Status why) {
  VerifyResult v;
  v.report.ok = false;
  v.error = std::move(why);
  return v;
}

namespace {

// Whether the log, recomputed as `v.report.head`, extends the kept
// checkpoint; a disagreement goes to v.report, an error that kept it from
// being checked to v.error.
void CheckAgainst(const EventLog& log, const KeptCheckpoint& kept, VerifyResult& v) {
  VerifyReport& report = v.report;
  const note::VerifierKey* key = kept.key ? &*kept.key : log.verifier();
  if (key == nullptr) {
    v.error = Status::InvalidArgument("no verifier key to check the kept checkpoint " + kept.name +
                                      " with: the store has none; give the company's published key (--key)");
    return;
  }
  Result<std::string> body = key->Open(kept.note);
  Result<note::Checkpoint> c = body.ok() ? note::ParseCheckpoint(*body) : Result<note::Checkpoint>(body.status());
  std::string problem;
  if (!c.ok()) {
    problem = "the kept checkpoint " + kept.name + " is not valid: " + c.status().message();
  } else if (c->size > report.head.size) {
    problem = "the kept checkpoint covers " + std::to_string(c->size) + " events but the log now holds " +
              std::to_string(report.head.size) + ": events were removed (the log was rolled back)";
  } else if (c->size == 0) {
    v.against = "the kept checkpoint is of the empty log";
  } else {
    Result<std::vector<Hash256>> proof = log.ConsistencyProof(c->size, report.head.size);
    if (!proof.ok()) {
      v.error = proof.status();
      return;
    }
    merkle::Proof bytes;
    for (const Hash256& h : *proof) bytes.push_back(merkle::ToBytes(h));
    Status s = merkle::VerifyConsistency(c->size, report.head.size, bytes, merkle::ToBytes(c->root),
                                         merkle::ToBytes(report.head.root));
    if (!s.ok()) {
      problem = "the log is not an extension of the kept checkpoint of size " + std::to_string(c->size) + " (root " +
                B64(c->root) + "): " + s.message() + "; history before that checkpoint was rewritten";
    } else {
      v.against = "the log extends the kept checkpoint of size " + std::to_string(c->size) + " (root " +
                  B64(c->root) + ") with a verified consistency proof";
    }
  }
  if (!problem.empty()) {
    report.ok = false;
    report.problem = problem;
  }
}

}  // namespace

VerifyResult VerifyStore(const EventLog& log, const std::optional<KeptCheckpoint>& against,
                         const ProgressFn& progress) {
  const auto start = std::chrono::steady_clock::now();
  VerifyResult v;
  v.report = log.Verify(progress);
  if (!v.report.error.ok()) {
    v.error = v.report.error;  // RocksDB could not read the store: a storage error, not a disagreement
  } else if (v.report.ok && against) {
    CheckAgainst(log, *against, v);
  }
  v.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return v;
}

std::string VerifyResultToJson(const VerifyResult& v) {
  const VerifyReport& r = v.report;
  const bool ok = v.ok();
  json::value problem = nullptr;
  if (!ok) problem = json::value(!v.error.ok() ? v.error.message() : r.problem);
  const json::object o{
      {"ok", ok},
      {"events", r.events},
      {"streams", r.streams},
      {"checkpoints_checked", r.checkpoints},
      {"map_notes_checked", r.map_notes},
      {"size", r.read_all ? json::value(r.head.size) : json::value(nullptr)},
      {"root", r.read_all ? json::value(B64(r.head.root)) : json::value(nullptr)},
      {"problem", std::move(problem)},
      {"error", v.error.ok() ? json::value(nullptr) : json::value(v.error.message())},
      {"against", StringOrNull(v.against)},
  };
  // Boost.JSON writes every double in exponent form (4.2E-2); the time reads
  // better as the decimal it always was, to the millisecond.
  std::string out = json::serialize(o);
  out.pop_back();
  return out + fmt::format(",\"seconds\":{:.3f}}}", v.seconds);
}

// --- Evidence bundles ---

Result<EvidenceBundle> MakeBundle(EventLog& log, const Caller& caller, const BundleRequest& request) {
  Result<Bundle> bundle = BuildEvidenceBundle(log, request);
  if (!bundle.ok()) return bundle.status();
  std::vector<std::string> customers;
  if (request.stream.starts_with("customer-")) customers.push_back(request.stream);
  CUSTODIAN_RETURN_IF_ERROR(RecordRead(
      log, caller, Access{caller.principal, true, "evidence", std::move(customers), bundle->events, "bundle"}));
  EvidenceBundle b{request.stream, std::move(*bundle), ""};
  if (log.verifier() != nullptr) b.verifier_key = log.verifier()->ToString();
  return b;
}

Result<WrittenBundle> WriteBundleFile(const EvidenceBundle& b, const std::string& file) {
  WrittenBundle w{file, b.bundle.events, b.bundle.summary};
  // Written aside (owner-only, never through a link), checked as written,
  // and only then put in place.
  const std::string written = file + ".unverified";
  CUSTODIAN_RETURN_IF_ERROR(WriteOwnerOnlyFile(written, b.bundle.json));
  Result<std::string> reread = ReadWholeFile(written);
  const BundleVerdict check =
      !reread.ok() ? BundleVerdict{false, reread.status().message()}
                   : VerifyBundle(*reread, b.verifier_key.empty() ? std::nullopt
                                                                  : std::optional<std::string_view>(b.verifier_key));
  if (!check.ok) {
    std::remove(written.c_str());
    w.problem = check.problem;
    return w;
  }
  if (std::rename(written.c_str(), file.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(written.c_str());
    return Status::IoError("cannot write " + file + ": " + why);
  }
  w.verified = true;
  return w;
}

std::string WrittenBundleToJson(const WrittenBundle& w) {
  return json::serialize(json::object{{"file", w.file}, {"events", w.events}, {"summary", w.summary}});
}

Result<BundleVerdict> VerifyBundleFile(const std::string& file, const std::optional<note::VerifierKey>& key) {
  Result<std::string> text = ReadWholeFile(file);
  if (!text.ok()) return text.status();
  const std::optional<std::string> vkey = key ? std::optional<std::string>(key->ToString()) : std::nullopt;
  return VerifyBundle(*text, vkey ? std::optional<std::string_view>(*vkey) : std::nullopt);
}

std::string BundleVerdictToJson(const BundleVerdict& v) {
  json::array unchecked;
  for (const std::string& field : v.unchecked) unchecked.emplace_back(field);
  return json::serialize(json::object{
      {"ok", v.ok},
      {"stream", v.stream},
      {"events", v.events},
      {"first_version", v.first_version},
      {"last_version", v.last_version},
      {"from", StringOrNull(v.from)},
      {"to", StringOrNull(v.to)},
      {"tree_size", v.tree_size},
      {"root", v.root_base64},
      {"verifier_key", v.verifier_key},
      {"key_from_bundle", v.key_from_bundle},
      {"unchecked", std::move(unchecked)},
      {"complete", v.ok && v.complete},
      {"stream_events", v.ok && v.complete ? json::value(v.stream_events) : json::value(nullptr)},
      {"withheld", v.ok && v.complete ? json::value(v.withheld) : json::value(nullptr)},
      {"completeness", v.ok ? json::value(v.completeness) : json::value(nullptr)},
      {"personal_shown", v.personal_shown},
      {"problem", v.ok ? json::value(nullptr) : json::value(v.problem)},
  });
}

}  // namespace custodian
