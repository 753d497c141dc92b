#include "replay/evidence.h"

#include <fmt/core.h>

#include "core/base64.h"
#include "core/bundle.h"
#include "core/canonical.h"
#include "core/json.h"
#include "core/merkle.h"
#include "core/note.h"
#include "core/time.h"

namespace custodian {
namespace {

std::string B64(const Hash256& h) { return Base64Encode(merkle::ToBytes(h)); }

// The newest stored checkpoint of at least `needed` events, parsed.
Result<std::pair<std::string, note::Checkpoint>> CoveringCheckpoint(EventLog& log, uint64_t needed) {
  if (log.verifier() == nullptr) {
    return Status::FailedPrecondition("the store has no checkpoint key, so it cannot vouch for a bundle");
  }
  Result<std::vector<std::string>> notes = log.Checkpoints();
  if (!notes.ok()) return notes.status();
  if (notes->empty() || [&] {
        Result<std::string> body = log.verifier()->Open(notes->back());
        Result<note::Checkpoint> c = body.ok() ? note::ParseCheckpoint(*body) : Result<note::Checkpoint>(body.status());
        return !c.ok() || c->size < needed;
      }()) {
    if (log.read_only()) {
      return Status::FailedPrecondition("no signed checkpoint covers these events yet; run `custodian checkpoint` "
                                        "(or wait for the server's periodic one) and try again");
    }
    Result<std::string> signed_note = log.SignCheckpoint();
    if (!signed_note.ok()) return signed_note.status();
    notes->push_back(*signed_note);
  }
  Result<std::string> body = log.verifier()->Open(notes->back());
  if (!body.ok()) return body.status().WithContext("the newest stored checkpoint");
  Result<note::Checkpoint> c = note::ParseCheckpoint(*body);
  if (!c.ok()) return c.status();
  return std::make_pair(notes->back(), *c);
}

}  // namespace

Result<Bundle> BuildEvidenceBundle(EventLog& log, const BundleRequest& request) {
  std::vector<Event> events;
  for (uint64_t from = 0;;) {
    Result<std::vector<Event>> page = log.ReadStream(request.stream, StreamVersion(from), Direction::kForward, 1024);
    if (!page.ok()) return page.status();
    for (Event& e : *page) {
      if (request.from && e.occurred_at < *request.from) continue;
      if (request.to && e.occurred_at > *request.to) continue;
      events.push_back(std::move(e));
    }
    if (page->size() < 1024) break;
    from += page->size();
  }
  if (events.empty()) {
    return Status::NotFound("stream " + request.stream + " has no events" +
                            (request.from || request.to ? " in that time window" : ""));
  }
  // Versions must be consecutive for the verifier's completeness check, so
  // a window keeps every version between its first and last event.
  if (request.from || request.to) {
    const uint64_t first = events.front().version.value(), last = events.back().version.value();
    if (last - first + 1 != events.size()) {
      Result<std::vector<Event>> all =
          log.ReadStream(request.stream, StreamVersion(first), Direction::kForward, last - first + 1);
      if (!all.ok()) return all.status();
      events = std::move(*all);
    }
  }
  auto checkpoint = CoveringCheckpoint(log, events.back().position.value() + 1);
  if (!checkpoint.ok()) return checkpoint.status();
  const auto& [signed_note, cp] = *checkpoint;

  Bundle bundle;
  bundle.events = events.size();
  bundle.summary = fmt::format(
      "Evidence bundle for {}: {} events (stream versions {} to {}, log positions {} to {}), which occurred "
      "between {} and {}. Each event carries a Merkle inclusion proof against the signed checkpoint of the log "
      "{} at size {} (root {}), signed with the key {}. Check it offline with: custodian verify-bundle FILE "
      "--key '{}' — using the key published by the company, not the one inside the file.",
      request.stream, events.size(), events.front().version.value(), events.back().version.value(),
      events.front().position.value(), events.back().position.value(), FormatRfc3339(events.front().occurred_at),
      FormatRfc3339(events.back().occurred_at), cp.origin, cp.size, B64(cp.root), log.verifier()->ToString(),
      log.verifier()->ToString());

  std::string out;
  out += "{\"format\":\"" + std::string(kBundleFormat) + "\",\n";
  out += "\"summary\":" + JsonQuote(bundle.summary) + ",\n";
  out += "\"stream\":" + JsonQuote(request.stream) + ",\n";
  out += "\"from\":" + (request.from ? "\"" + FormatRfc3339(*request.from) + "\"" : std::string("null")) + ",\n";
  out += "\"to\":" + (request.to ? "\"" + FormatRfc3339(*request.to) + "\"" : std::string("null")) + ",\n";
  out += "\"verifier_key\":" + JsonQuote(log.verifier()->ToString()) + ",\n";
  out += "\"checkpoint\":" + JsonQuote(signed_note) + ",\n";
  out += "\"events\":[\n";
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    Result<std::vector<Hash256>> proof = log.InclusionProof(e.position, cp.size);
    if (!proof.ok()) return proof.status();
    out += "{\"event\":" + EventToJson(e, JsonFields::kWithLogFields);
    out += ",\"personal_sha256\":\"" + B64(PersonalHash(e.personal)) + "\"";
    out += ",\"inclusion_proof\":[";
    for (size_t j = 0; j < proof->size(); ++j) out += (j ? ",\"" : "\"") + B64((*proof)[j]) + "\"";
    out += i + 1 < events.size() ? "]},\n" : "]}\n";
  }
  out += "]}\n";
  bundle.json = std::move(out);
  return bundle;
}

}  // namespace custodian
