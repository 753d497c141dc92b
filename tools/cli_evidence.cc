// Tamper evidence commands: key show, checkpoint, prove, verify, bundle,
// verify-bundle (DESIGN.md, Tamper evidence).
#include <unistd.h>

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/base64.h"
#include "core/json.h"
#include "core/merkle.h"
#include "service/dispute.h"
#include "service/evidence.h"
#include "tools/cli.h"

namespace custodian::cli {
namespace {

// The value of --key: a verifier key, or a file whose first line holds one.
Result<note::VerifierKey> KeyArg(const std::string& key) {
  std::string text = key;
  if (key.find('+') == std::string::npos) {
    std::ifstream in(key, std::ios::binary);
    if (!in) return Status::InvalidArgument("cannot read " + key + ": " + std::strerror(errno));
    std::getline(in, text);
  }
  return note::VerifierKey::Parse(text);
}

}  // namespace

int RunKeyShow(const Globals& g, bool json) {
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadOnly);
  if (!log.ok()) return Fail(log.status());
  Result<PublishedKey> key = VerifierKey(**log);
  if (!key.ok()) return Fail(key.status());
  fmt::print("{}\n", json ? PublishedKeyToJson(*key) : key->verifier_key);
  return kExitOk;
}

int RunCheckpoint(const Globals& g, bool list, bool json) {
  if (list) {
    Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadOnly);
    if (!log.ok()) return Fail(log.status());
    Result<std::vector<std::string>> notes = ListCheckpoints(**log);
    if (!notes.ok()) return Fail(notes.status());
    if (json) {
      fmt::print("{}", CheckpointsToJsonLines(*notes));
    } else {
      for (const std::string& n : *notes) fmt::print("{}\n", n);
    }
    return kExitOk;
  }
  Result<std::unique_ptr<EventLog>> log =
      OpenStore(g, EventLogOptions::Mode::kReadWrite, CreateIfMissing::kNo, "", Signs::kYes);
  if (!log.ok()) return Fail(log.status());
  Result<SignedCheckpoint> c = SignCheckpoint(**log);
  if (!c.ok()) return Fail(c.status());
  if (json) {
    fmt::print("{}\n", SignedCheckpointToJson(*c));
  } else {
    fmt::print("{}", c->note);
  }
  return kExitOk;
}

// A proof is printed as JSON with or without --json: the same document.
int RunProveInclusion(const Globals& g, uint64_t position, std::optional<uint64_t> size, bool /*json*/) {
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadOnly);
  if (!log.ok()) return Fail(log.status());
  Result<InclusionProof> proof = ProveInclusion(**log, position, size);
  if (!proof.ok()) return Fail(proof.status());
  fmt::print("{}\n", InclusionProofToJson(*proof));
  return kExitOk;
}

int RunProveConsistency(const Globals& g, uint64_t from, std::optional<uint64_t> to, bool /*json*/) {
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadOnly);
  if (!log.ok()) return Fail(log.status());
  Result<ConsistencyProof> proof = ProveConsistency(**log, from, to);
  if (!proof.ok()) return Fail(proof.status());
  fmt::print("{}\n", ConsistencyProofToJson(*proof));
  return kExitOk;
}

namespace {

// What verify says, in one place: --json prints exactly one document for
// every outcome, with the counts as far as verification got.
int PrintVerify(const VerifyResult& v, bool json) {
  const VerifyReport& r = v.report;
  if (json) {
    fmt::print("{}\n", VerifyResultToJson(v));
  } else if (v.ok()) {
    fmt::print("verified {} events in {} streams ({:.1f}s): every leaf, every stored tree node, {} signed "
               "checkpoints, {} signed stream maps and both indexes agree\nroot at size {}: {}\n",
               Thousands(r.events), Thousands(r.streams), v.seconds, r.checkpoints, r.map_notes, r.head.size,
               Base64Encode(merkle::ToBytes(r.head.root)));
    if (!v.against.empty()) fmt::print("{}\n", v.against);
  } else if (!v.error.ok()) {
    fmt::print(stderr, "custodian: {}\nverification stopped after {} events in {} streams and {} signed checkpoints\n",
               TerminalText(v.error.message()), Thousands(r.events), Thousands(r.streams), r.checkpoints);
  } else {
    fmt::print(stderr, "VERIFICATION FAILED: {}\n", TerminalText(r.problem));
  }
  if (v.ok()) return kExitOk;
  return !v.error.ok() ? ExitCodeFor(v.error) : kExitVerifyFailed;
}

}  // namespace

int RunVerify(const Globals& g, const std::string& against, const std::string& key, bool json) {
  // --against and --key are read before the store is verified, so that a
  // mistyped name does not wait for a whole verification.
  std::optional<KeptCheckpoint> kept;
  if (!against.empty()) {
    kept.emplace();
    kept->name = against;
    std::ifstream in(against, std::ios::binary);
    if (!in) {
      return PrintVerify(VerifyResult::NotRun(Status::InvalidArgument("cannot read " + against + ": " +
                                                                      std::strerror(errno))),
                         json);
    }
    Result<std::string> note = ReadAtMost(in, 64 << 10, against);  // a signed note is a few hundred bytes
    if (!note.ok()) return PrintVerify(VerifyResult::NotRun(note.status().WithContext("--against")), json);
    kept->note = std::move(*note);
    if (!key.empty()) {
      Result<note::VerifierKey> vkey = KeyArg(key);
      if (!vkey.ok()) return PrintVerify(VerifyResult::NotRun(vkey.status().WithContext("--key")), json);
      kept->key = std::move(*vkey);
    }
  }
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadOnly);
  if (!log.ok()) return PrintVerify(VerifyResult::NotRun(log.status()), json);
  const bool show_progress = ::isatty(STDERR_FILENO) && !json;
  const VerifyResult v = VerifyStore(**log, kept, [&](uint64_t done, uint64_t total) {
    if (show_progress) fmt::print(stderr, "\rverifying: {} of {} events", Thousands(done), Thousands(total));
  });
  if (show_progress) fmt::print(stderr, "\r{:<60}\r", "");
  return PrintVerify(v, json);
}

int RunBundle(const Globals& g, const std::string& stream, const std::string& from, const std::string& to,
              const std::string& out, bool json) {
  if (Status where = CheckOutPath(g, out); !where.ok()) return UsageError(where);
  Result<std::string> reader = Reader(g, "bundle");
  if (!reader.ok()) return UsageError(reader.status());
  BundleRequest request;
  request.stream = stream;
  Result<std::optional<Timestamp>> from_time = OptionalTime(from, "--from");
  if (!from_time.ok()) return UsageError(from_time.status());
  Result<std::optional<Timestamp>> to_time = OptionalTime(to, "--to");
  if (!to_time.ok()) return UsageError(to_time.status());
  request.from = *from_time;
  request.to = *to_time;
  // Signing a fresh checkpoint needs the store read-write; while another
  // process holds it, a stored checkpoint that covers the events will do.
  Result<std::unique_ptr<EventLog>> log = OpenForReading(g);
  if (!log.ok()) return Fail(log.status());
  Result<EvidenceBundle> bundle = MakeBundle(**log, g.CallerAs(*reader), request);
  if (!bundle.ok()) return Fail(bundle.status());
  Result<WrittenBundle> written = WriteBundleFile(*bundle, out);
  if (!written.ok()) return Fail(written.status());
  if (!written->verified) {
    fmt::print(stderr, "custodian: the bundle of {} does not verify as written, so it was removed and {} was not "
               "written: {}\nrun `custodian verify` to find what in the store disagrees\n", TerminalText(stream),
               TerminalText(out), TerminalText(written->problem));
    return kExitVerifyFailed;
  }
  if (json) {
    fmt::print("{}\n", WrittenBundleToJson(*written));
  } else {
    fmt::print("wrote {}\n{}\n", out, written->summary);
  }
  return kExitOk;
}

int RunVerifyCosignatures(const std::string& file, const std::vector<std::string>& witnesses, size_t require, bool json) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Fail(Status::NotFound("cannot read " + file));
  Result<std::string> note = ReadAtMost(in, 64 << 10, file);  // a note with its cosignatures: a few KiB
  if (!note.ok()) return Fail(note.status());
  Result<CosignatureCheck> c = CheckCosignatures(*note, witnesses, require);
  if (!c.ok()) return UsageError(c.status().WithContext(file));
  if (json) {
    fmt::print("{}\n", CosignatureCheckToJson(*c));
  } else {
    for (const auto& w : c->witnesses) {
      if (w.cosigned) {
        fmt::print("cosigned by {} at {}\n", w.name, FormatRfc3339(Timestamp(static_cast<int64_t>(w.timestamp) * kMicrosPerSecond)));
      } else {
        fmt::print("not cosigned by {}: {}\n", w.name, w.problem);
      }
    }
    fmt::print("{}: {} of the {} witnesses cosigned, {} required\n", c->ok ? "ok" : "NOT ENOUGH COSIGNATURES",
               c->cosigned, c->witnesses.size(), c->required);
  }
  return c->ok ? kExitOk : kExitVerifyFailed;
}

int RunVerifyBundle(const std::string& file, const std::string& key, bool json, bool inclusion_only) {
  std::optional<note::VerifierKey> vkey;
  if (!key.empty()) {
    Result<note::VerifierKey> parsed = KeyArg(key);
    if (!parsed.ok()) return Fail(parsed.status().WithContext("--key"));
    vkey = std::move(*parsed);
  }
  Result<BundleVerdict> v = VerifyBundleFile(file, vkey);
  if (!v.ok()) return Fail(v.status());
  // A bundle of an older format proves no completeness: one with its
  // completeness part removed (an event dropped from its end) reads the same.
  // Accepted as inclusion only when asked for; otherwise it fails, in text
  // and JSON alike.
  if (v->ok && !v->complete && !inclusion_only) {
    v->ok = false;
    v->problem = "NOT PROVEN COMPLETE: a " + v->format + " bundle proves that its events are in the log, not that " +
                 v->stream + " has no others; pass --inclusion-only to accept it as that (bundles made since " +
                 "2026-12-05 prove completeness)";
    if (json) {
      fmt::print("{}\n", BundleVerdictToJson(*v));
    } else {
      fmt::print(stderr, "{}\n", TerminalText(v->problem));
    }
    return kExitVerifyFailed;
  }
  if (json) {
    fmt::print("{}\n", BundleVerdictToJson(*v));
  } else if (v->ok) {
    if (v->events == 0) {
      fmt::print("bundle verified: the log signed at size {} (root {}) by {} holds no events of {}\n", v->tree_size,
                 v->root_base64, v->verifier_key, v->stream);
    } else {
      fmt::print("bundle verified: {} events of {} (versions {} to {}, occurred {} to {}) are in the log signed at "
                 "size {} (root {}) by {}\n",
                 v->events, v->stream, v->first_version, v->last_version, v->from, v->to, v->tree_size,
                 v->root_base64, v->verifier_key);
    }
    fmt::print("{}{}\n", v->complete ? "" : "note: completeness ", v->completeness);
    if (!v->unchecked.empty()) {
      std::string fields = "[";
      for (size_t i = 0; i < v->unchecked.size(); ++i) fields += (i ? "," : "") + JsonQuote(v->unchecked[i]);
      fields += "]";
      fmt::print("note: a {} bundle: its {} are not checked (written by an older Custodian); only its events, "
                 "proofs and checkpoint are\n",
                 v->format, fields);
    }
    if (v->personal_shown > 0) {
      fmt::print(
          "note: {} events show personal data opened (or as erased) by whoever made the bundle; the proof "
          "covers their sealed form, not the text shown\n",
          v->personal_shown);
    }
    if (v->key_from_bundle) {
      fmt::print("note: checked with the key inside the bundle; pass --key with the company's published key to "
                 "rule out a forged bundle\n");
    }
  } else {
    fmt::print(stderr, "BUNDLE VERIFICATION FAILED: {}\n", TerminalText(v->problem));
  }
  return v->ok ? kExitOk : kExitVerifyFailed;
}

int RunDispute(const Globals& g, const std::string& customer, const std::string& at, const std::string& out,
               bool json) {
  Result<std::string> stream = CustomerStream(customer);
  if (!stream.ok()) return UsageError(stream.status());
  Result<std::string> reader = Reader(g, "dispute");
  if (!reader.ok()) return UsageError(reader.status());
  Result<std::optional<Timestamp>> when = OptionalTime(at, "--at");
  if (!when.ok()) return UsageError(when.status());
  DisputeRequest request{*stream, **when, out};
  if (request.out.empty()) request.out = "dispute-" + *stream + "-" + FormatRfc3339(**when).substr(0, 10);
  if (Status where = CheckOutPath(g, request.out, /*folder=*/true); !where.ok()) return UsageError(where);
  Result<std::unique_ptr<EventLog>> log = OpenForReading(g);
  if (!log.ok()) return Fail(log.status());
  Result<DisputeResult> r = MakeDispute(**log, g.CallerAs(*reader), request, SystemClock().Now());
  if (!r.ok()) {
    const int code = Fail(r.status());
    return r.status().code() == StatusCode::kCorruption ? kExitVerifyFailed : code;  // the bundle did not verify
  }
  if (json) {
    fmt::print("{}\n", DisputeResultToJson(*r));
    return kExitOk;
  }
  fmt::print("wrote {}/ for {} at {}:\n", r->dir, r->customer, FormatRfc3339(r->at));
  for (const DisputeFile& f : r->files) fmt::print("  {:<27} {}\n", f.name, f.what);
  fmt::print("evidence: {} events, signed at size {}; {}\n", r->events, r->tree_size, r->completeness);
  fmt::print("check it offline: custodian verify-bundle {}/evidence.json --key '<the published key>'\n", r->dir);
  return kExitOk;
}

}  // namespace custodian::cli
