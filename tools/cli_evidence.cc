// Tamper evidence commands: key show, checkpoint, prove, verify, bundle,
// verify-bundle (DESIGN.md, Tamper evidence).
#include <unistd.h>

#include <fmt/core.h>

#include <fstream>

#include "core/base64.h"
#include "core/bundle.h"
#include "core/canonical.h"
#include "core/json.h"
#include "core/merkle.h"
#include "core/note.h"
#include "core/time.h"
#include "replay/evidence.h"
#include "tools/cli.h"

namespace custodian::cli {
namespace {

std::string B64(const Hash256& h) { return Base64Encode(merkle::ToBytes(h)); }

std::string B64List(const std::vector<Hash256>& hashes) {
  std::string out = "[";
  for (size_t i = 0; i < hashes.size(); ++i) out += (i ? ",\"" : "\"") + B64(hashes[i]) + "\"";
  return out + "]";
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read " + path + ": " + std::strerror(errno));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The key to check signatures with: --key (text or a file holding it), else the store's.
Result<note::VerifierKey> ChooseKey(const std::string& key, const EventLog* log) {
  if (!key.empty()) {
    std::string text = key;
    if (key.find('+') == std::string::npos) {
      Result<std::string> file = ReadFile(key);
      if (!file.ok()) return file.status();
      text = file->substr(0, file->find('\n'));
    }
    return note::VerifierKey::Parse(text);
  }
  if (log != nullptr && log->verifier() != nullptr) return *log->verifier();
  return Status::InvalidArgument("no verifier key: pass --key");
}

}  // namespace

int RunKeyShow(const Globals& g, bool json) {
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadOnly);
  if (!log.ok()) return Fail(log.status());
  const note::VerifierKey* key = (*log)->verifier();
  if (key == nullptr) return Fail(Status::NotFound("the store at " + g.data_dir + " has no checkpoint key"));
  if (json) {
    fmt::print("{{\"verifier_key\":{},\"origin\":{},\"key_id\":\"{:08x}\"}}\n", JsonQuote(key->ToString()),
               JsonQuote(key->name()), key->key_id());
  } else {
    fmt::print("{}\n", key->ToString());
  }
  return kExitOk;
}

int RunCheckpoint(const Globals& g, bool list, bool json) {
  if (list) {
    Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadOnly);
    if (!log.ok()) return Fail(log.status());
    Result<std::vector<std::string>> notes = (*log)->Checkpoints();
    if (!notes.ok()) return Fail(notes.status());
    for (const std::string& n : *notes) {
      if (json) {
        fmt::print("{{\"checkpoint\":{}}}\n", JsonQuote(n));
      } else {
        fmt::print("{}\n", n);
      }
    }
    return kExitOk;
  }
  Result<std::unique_ptr<EventLog>> log =
      OpenStore(g, EventLogOptions::Mode::kReadWrite, CreateIfMissing::kNo, "", Signs::kYes);
  if (!log.ok()) return Fail(log.status());
  Result<std::string> signed_note = (*log)->SignCheckpoint();
  if (!signed_note.ok()) return Fail(signed_note.status());
  if (json) {
    Result<TreeHead> head = (*log)->Head();
    if (!head.ok()) return Fail(head.status());
    fmt::print("{{\"origin\":{},\"size\":{},\"root\":\"{}\",\"checkpoint\":{}}}\n",
               JsonQuote((*log)->verifier()->name()), head->size, B64(head->root), JsonQuote(*signed_note));
  } else {
    fmt::print("{}", *signed_note);
  }
  return kExitOk;
}

int RunProveInclusion(const Globals& g, uint64_t position, std::optional<uint64_t> size) {
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadOnly);
  if (!log.ok()) return Fail(log.status());
  const uint64_t tree_size = size.value_or((*log)->end().value());
  if (position >= tree_size) {
    return Fail(Status::InvalidArgument("position " + std::to_string(position) + " is not in a tree of " +
                                        std::to_string(tree_size) + " events"));
  }
  Result<std::vector<Hash256>> proof = (*log)->InclusionProof(Position(position), tree_size);
  if (!proof.ok()) return Fail(proof.status());
  Result<Hash256> root = (*log)->RootAt(tree_size);
  if (!root.ok()) return Fail(root.status());
  Result<std::vector<Event>> event = (*log)->ReadAll(Position(position), 1);
  if (!event.ok()) return Fail(event.status());
  if (event->empty()) return Fail(Status::NotFound("no event at position " + std::to_string(position)));
  fmt::print("{{\"position\":{},\"tree_size\":{},\"leaf_hash\":\"{}\",\"root\":\"{}\",\"proof\":{}}}\n", position,
             tree_size, B64(LeafHash(event->front())), B64(*root), B64List(*proof));
  return kExitOk;
}

int RunProveConsistency(const Globals& g, uint64_t from, std::optional<uint64_t> to) {
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadOnly);
  if (!log.ok()) return Fail(log.status());
  const uint64_t to_size = to.value_or((*log)->end().value());
  Result<std::vector<Hash256>> proof = (*log)->ConsistencyProof(from, to_size);
  if (!proof.ok()) return Fail(proof.status());
  Result<Hash256> root1 = (*log)->RootAt(from);
  Result<Hash256> root2 = (*log)->RootAt(to_size);
  if (!root1.ok()) return Fail(root1.status());
  if (!root2.ok()) return Fail(root2.status());
  fmt::print("{{\"from\":{},\"to\":{},\"root_from\":\"{}\",\"root_to\":\"{}\",\"proof\":{}}}\n", from, to_size,
             B64(*root1), B64(*root2), B64List(*proof));
  return kExitOk;
}

namespace {

// What verify says, in one place: --json prints exactly one document for
// every outcome, with the counts as far as verification got.
struct VerifyOutcome {
  VerifyReport report;
  std::string against_summary;
  Status error;  // verification could not run to its end (exit 4), or bad --against input
  double seconds = 0;
};

int PrintVerify(const VerifyOutcome& v, bool json) {
  const VerifyReport& r = v.report;
  const bool ok = r.ok && v.error.ok();
  const int exit_code = ok ? kExitOk : !v.error.ok() ? ExitCodeFor(v.error) : kExitVerifyFailed;
  if (json) {
    const std::string problem = !v.error.ok() ? v.error.message() : r.problem;
    fmt::print("{{\"ok\":{},\"events\":{},\"streams\":{},\"checkpoints_checked\":{},\"size\":{},\"root\":{},"
               "\"problem\":{},\"error\":{},\"against\":{},\"seconds\":{:.3f}}}\n",
               ok, r.events, r.streams, r.checkpoints, r.read_all ? std::to_string(r.head.size) : "null",
               r.read_all ? "\"" + B64(r.head.root) + "\"" : "null", ok ? "null" : JsonQuote(problem),
               v.error.ok() ? "null" : JsonQuote(v.error.message()),
               v.against_summary.empty() ? "null" : JsonQuote(v.against_summary), v.seconds);
  } else if (ok) {
    fmt::print("verified {} events in {} streams ({:.1f}s): every leaf, every stored tree node, {} signed "
               "checkpoints and both indexes agree\nroot at size {}: {}\n",
               Thousands(r.events), Thousands(r.streams), v.seconds, r.checkpoints, r.head.size, B64(r.head.root));
    if (!v.against_summary.empty()) fmt::print("{}\n", v.against_summary);
  } else if (!v.error.ok()) {
    fmt::print(stderr, "custodian: {}\nverification stopped after {} events in {} streams and {} signed checkpoints\n",
               v.error.message(), Thousands(r.events), Thousands(r.streams), r.checkpoints);
  } else {
    fmt::print(stderr, "VERIFICATION FAILED: {}\n", r.problem);
  }
  return exit_code;
}

}  // namespace

int RunVerify(const Globals& g, const std::string& against, const std::string& key, bool json) {
  VerifyOutcome v;
  const auto start = std::chrono::steady_clock::now();
  auto finish = [&]() {
    v.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return PrintVerify(v, json);
  };
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadOnly);
  if (!log.ok()) {
    v.report.ok = false;
    v.error = log.status();
    return finish();
  }
  const bool show_progress = ::isatty(STDERR_FILENO) && !json;
  v.report = (*log)->Verify([&](uint64_t done, uint64_t total) {
    if (show_progress) fmt::print(stderr, "\rverifying: {} of {} events", Thousands(done), Thousands(total));
  });
  if (show_progress) fmt::print(stderr, "\r{:<60}\r", "");
  if (!v.report.error.ok()) {
    v.error = v.report.error;  // RocksDB could not read the store: a storage error, not a disagreement
    return finish();
  }

  // --against: the auditor's checkpoint must be a prefix of the recomputed log.
  VerifyReport& report = v.report;
  if (report.ok && !against.empty()) {
    Result<std::string> text = ReadFile(against);
    if (!text.ok()) {
      v.error = text.status();
      return finish();
    }
    Result<note::VerifierKey> vkey = ChooseKey(key, log->get());
    if (!vkey.ok()) {
      v.error = vkey.status();
      return finish();
    }
    Result<std::string> body = vkey->Open(*text);
    Result<note::Checkpoint> kept = body.ok() ? note::ParseCheckpoint(*body) : Result<note::Checkpoint>(body.status());
    std::string against_problem;
    if (!kept.ok()) {
      against_problem = "the kept checkpoint " + against + " is not valid: " + kept.status().message();
    } else if (kept->size > report.head.size) {
      against_problem = "the kept checkpoint covers " + std::to_string(kept->size) + " events but the log now holds " +
                        std::to_string(report.head.size) + ": events were removed (the log was rolled back)";
    } else if (kept->size == 0) {
      v.against_summary = "the kept checkpoint is of the empty log";
    } else {
      Result<std::vector<Hash256>> proof = (*log)->ConsistencyProof(kept->size, report.head.size);
      if (!proof.ok()) {
        v.error = proof.status();
        return finish();
      }
      merkle::Proof bytes;
      for (const Hash256& h : *proof) bytes.push_back(merkle::ToBytes(h));
      Status s = merkle::VerifyConsistency(kept->size, report.head.size, bytes, merkle::ToBytes(kept->root),
                                           merkle::ToBytes(report.head.root));
      if (!s.ok()) {
        against_problem = "the log is not an extension of the kept checkpoint of size " + std::to_string(kept->size) +
                          " (root " + B64(kept->root) + "): " + s.message() +
                          "; history before that checkpoint was rewritten";
      } else {
        v.against_summary = "the log extends the kept checkpoint of size " + std::to_string(kept->size) + " (root " +
                            B64(kept->root) + ") with a verified consistency proof";
      }
    }
    if (!against_problem.empty()) {
      report.ok = false;
      report.problem = against_problem;
    }
  }
  return finish();
}

int RunBundle(const Globals& g, const std::string& stream, const std::string& from, const std::string& to,
              const std::string& out, bool json) {
  Result<std::string> reader = Reader(g, "bundle");
  if (!reader.ok()) return UsageError(reader.status());
  BundleRequest request;
  request.stream = stream;
  for (auto [text, field, name] : {std::tuple{&from, &request.from, "--from"}, std::tuple{&to, &request.to, "--to"}}) {
    if (text->empty()) continue;
    Result<Timestamp> t = ParseRfc3339(*text);
    if (!t.ok()) {
      fmt::print(stderr, "custodian: {}: {}\n", name, t.status().message());
      return kExitUsage;
    }
    *field = *t;
  }
  // Signing a fresh checkpoint needs the store read-write; while another
  // process holds it, a stored checkpoint that covers the events will do.
  Result<std::unique_ptr<EventLog>> log = OpenForReading(g);
  if (!log.ok()) return Fail(log.status());
  Result<Bundle> bundle = BuildEvidenceBundle(**log, request);
  if (!bundle.ok()) {
    if (bundle.status().code() == StatusCode::kNotFound) {
      fmt::print(stderr, "custodian: {}\n", bundle.status().message());
      return kExitRejected;
    }
    return Fail(bundle.status());
  }
  std::vector<std::string> customers;
  if (stream.starts_with("customer-")) customers.push_back(stream);
  if (Status recorded = RecordAccess(g, **log, Access{*reader, true, "evidence", customers, bundle->events, "bundle", "cli"});
      !recorded.ok()) {
    return Fail(recorded);
  }
  // Written beside `out` and checked from the disk as verify-bundle would
  // check it, with the store's key; only a bundle that verifies takes `out`'s
  // place, and a file that does not verify is removed.
  const std::string written = out + ".tmp";
  {
    std::ofstream file(written, std::ios::binary | std::ios::trunc);
    file << bundle->json;
    file.close();
    if (!file) {
      std::remove(written.c_str());
      return Fail(Status::IoError("cannot write " + written + ": " + std::strerror(errno)));
    }
  }
  Result<std::string> reread = ReadFile(written);
  const BundleVerdict check = reread.ok() ? VerifyBundle(*reread, (*log)->verifier()->ToString())
                                          : BundleVerdict{false, reread.status().message()};
  if (!check.ok) {
    std::remove(written.c_str());
    fmt::print(stderr, "custodian: the bundle of {} does not verify as written, so it was removed and {} was not "
               "written: {}\nrun `custodian verify` to find what in the store disagrees\n", stream, out,
               check.problem);
    return kExitVerifyFailed;
  }
  if (std::rename(written.c_str(), out.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(written.c_str());
    return Fail(Status::IoError("cannot write " + out + ": " + why));
  }
  if (json) {
    fmt::print("{{\"file\":{},\"events\":{},\"summary\":{}}}\n", JsonQuote(out), bundle->events,
               JsonQuote(bundle->summary));
  } else {
    fmt::print("wrote {}\n{}\n", out, bundle->summary);
  }
  return kExitOk;
}

int RunVerifyBundle(const std::string& file, const std::string& key, bool json) {
  Result<std::string> text = ReadFile(file);
  if (!text.ok()) return Fail(text.status());
  std::optional<std::string> vkey;
  if (!key.empty()) {
    Result<note::VerifierKey> parsed = ChooseKey(key, nullptr);
    if (!parsed.ok()) return Fail(parsed.status().WithContext("--key"));
    vkey = parsed->ToString();
  }
  BundleVerdict v = VerifyBundle(*text, vkey ? std::optional<std::string_view>(*vkey) : std::nullopt);
  std::string unchecked = "[";
  for (size_t i = 0; i < v.unchecked.size(); ++i) unchecked += (i ? "," : "") + JsonQuote(v.unchecked[i]);
  unchecked += "]";
  if (json) {
    fmt::print("{{\"ok\":{},\"stream\":{},\"events\":{},\"first_version\":{},\"last_version\":{},\"from\":{},"
               "\"to\":{},\"tree_size\":{},\"root\":\"{}\",\"verifier_key\":{},\"key_from_bundle\":{},"
               "\"unchecked\":{},\"problem\":{}}}\n",
               v.ok, JsonQuote(v.stream), v.events, v.first_version, v.last_version,
               v.from.empty() ? "null" : JsonQuote(v.from), v.to.empty() ? "null" : JsonQuote(v.to), v.tree_size,
               v.root_base64, JsonQuote(v.verifier_key), v.key_from_bundle, unchecked,
               v.ok ? "null" : JsonQuote(v.problem));
  } else if (v.ok) {
    fmt::print("bundle verified: {} events of {} (versions {} to {}, occurred {} to {}) are in the log signed at "
               "size {} (root {}) by {}\n",
               v.events, v.stream, v.first_version, v.last_version, v.from, v.to, v.tree_size, v.root_base64,
               v.verifier_key);
    if (!v.unchecked.empty()) {
      fmt::print("note: a {} bundle: its {} are not checked (written by an older Custodian); only its events, "
                 "proofs and checkpoint are\n",
                 v.format, unchecked);
    }
    if (v.key_from_bundle) {
      fmt::print("note: checked with the key inside the bundle; pass --key with the company's published key to "
                 "rule out a forged bundle\n");
    }
  } else {
    fmt::print(stderr, "BUNDLE VERIFICATION FAILED: {}\n", v.problem);
  }
  return v.ok ? kExitOk : kExitVerifyFailed;
}

}  // namespace custodian::cli
