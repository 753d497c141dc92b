#include "replay/evidence.h"

#include <algorithm>

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

  BundleFacts facts;
  facts.stream = request.stream;
  facts.events = events.size();
  facts.first_version = events.front().version.value();
  facts.last_version = events.back().version.value();
  facts.first_position = events.front().position.value();
  facts.last_position = events.back().position.value();
  facts.from = facts.to = events.front().occurred_at;
  for (const Event& e : events) {
    facts.from = std::min(facts.from, e.occurred_at);
    facts.to = std::max(facts.to, e.occurred_at);
  }
  facts.origin = cp.origin;
  facts.tree_size = cp.size;
  facts.root = cp.root;
  facts.verifier_key = log.verifier()->ToString();

  Bundle bundle;
  bundle.events = events.size();
  bundle.summary = BundleSummary(facts);

  std::string out;
  out += "{\"format\":\"" + std::string(kBundleFormat) + "\",\n";
  out += "\"summary\":" + JsonQuote(bundle.summary) + ",\n";
  out += "\"stream\":" + JsonQuote(request.stream) + ",\n";
  out += "\"from\":\"" + FormatRfc3339(facts.from) + "\",\n";
  out += "\"to\":\"" + FormatRfc3339(facts.to) + "\",\n";
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
