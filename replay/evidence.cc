#include "replay/evidence.h"

#include <algorithm>

#include "core/base64.h"
#include "core/bundle.h"
#include "core/canonical.h"
#include "core/json.h"
#include "core/merkle.h"
#include "core/note.h"
#include "core/stream_map.h"
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
  } else if (!log.read_only()) {
    // A checkpoint signed before the stream map existed has no map note: a
    // fresh one has, so the bundle can prove completeness.
    Result<std::string> body = log.verifier()->Open(notes->back());
    Result<note::Checkpoint> c = body.ok() ? note::ParseCheckpoint(*body) : Result<note::Checkpoint>(body.status());
    if (!c.ok()) return c.status().WithContext("the newest stored checkpoint");
    Result<std::optional<std::string>> map_note = log.MapNote(c->size);
    if (!map_note.ok()) return map_note.status();
    if (!*map_note) {
      Result<std::string> signed_note = log.SignCheckpoint();
      if (!signed_note.ok()) return signed_note.status();
      notes->push_back(*signed_note);
    }
  }
  Result<std::string> body = log.verifier()->Open(notes->back());
  if (!body.ok()) return body.status().WithContext("the newest stored checkpoint");
  Result<note::Checkpoint> c = note::ParseCheckpoint(*body);
  if (!c.ok()) return c.status();
  return std::make_pair(notes->back(), *c);
}

}  // namespace

namespace {

// One try at the bundle; `stale` is set when the stream grew past what was
// read before the checkpoint was chosen (the caller tries again).
Result<Bundle> BuildOnce(EventLog& log, const BundleRequest& request, bool* stale) {
  std::vector<Event> all;  // the whole stream, for the hashes of what a window leaves out
  for (uint64_t from = 0;;) {
    Result<std::vector<Event>> page = log.ReadStream(request.stream, StreamVersion(from), Direction::kForward, 1024);
    if (!page.ok()) return page.status();
    for (Event& e : *page) all.push_back(std::move(e));
    if (page->size() < 1024) break;
    from += page->size();
  }
  // The window: every version between the first and the last event in it
  // (the verifier wants consecutive versions).
  size_t first = all.size(), last = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (request.from && all[i].occurred_at < *request.from) continue;
    if (request.to && all[i].occurred_at > *request.to) continue;
    first = std::min(first, i);
    last = i;
  }
  if (first == all.size() && (request.from || request.to || !all.empty())) {
    return Status::NotFound("stream " + request.stream + " has no events in that time window");
  }
  std::vector<Event> events;
  if (first < all.size()) events.assign(all.begin() + first, all.begin() + last + 1);
  auto checkpoint = CoveringCheckpoint(log, events.empty() ? 0 : events.back().position.value() + 1);
  if (!checkpoint.ok()) return checkpoint.status();
  const auto& [signed_note, cp] = *checkpoint;
  {
    Result<std::vector<Event>> newer = log.ReadStream(request.stream, StreamVersion(all.size()), Direction::kForward, 1);
    if (!newer.ok()) return newer.status();
    if (!newer->empty() && newer->front().position.value() < cp.size) {
      *stale = true;
      return Status::Unavailable("stream " + request.stream + " grew while its bundle was made");
    }
  }

  // The stream map's proof at the checkpoint's size, when it was signed with one.
  std::string completeness;
  BundleFacts facts;
  Result<std::optional<std::string>> map_note = log.MapNote(cp.size);
  if (!map_note.ok()) return map_note.status();
  if (*map_note) {
    Result<streammap::Proof> proof = log.StreamMapProof(request.stream, cp.size);
    if (!proof.ok()) return proof.status();
    completeness = "{\"map_note\":" + JsonQuote(**map_note) + ",\"map_proof\":[";
    for (size_t i = 0; i < proof->siblings.size(); ++i) {
      completeness += (i ? ",\"" : "\"") + B64(proof->siblings[i]) + "\"";
    }
    using End = streammap::Proof::End;
    completeness += "],\"ends_at\":\"";
    completeness += proof->end == End::kStream ? "stream" : proof->end == End::kEmpty ? "empty" : "other";
    completeness += "\"";
    if (proof->end != End::kEmpty) {
      completeness += ",\"leaf\":{";
      if (proof->end == End::kOther) completeness += "\"key_sha256\":\"" + B64(proof->other_key) + "\",";
      completeness += "\"events\":" + std::to_string(proof->summary.count) +
                      ",\"last_position\":" + std::to_string(proof->summary.last_position) +
                      ",\"running_sha256\":\"" + B64(proof->summary.running) + "\"}";
    }
    if (!events.empty()) {
      Hash256 before = streammap::kEmpty;
      for (size_t i = 0; i < first; ++i) before = streammap::NextRunning(before, LeafHash(all[i]));
      if (first > 0) completeness += ",\"running_before_sha256\":\"" + B64(before) + "\"";
      completeness += ",\"later_leaf_hashes\":[";
      uint64_t later = 0;
      for (size_t i = last + 1; i < all.size() && all[i].position.value() < cp.size; ++i, ++later) {
        completeness += (later ? ",\"" : "\"") + B64(LeafHash(all[i])) + "\"";
      }
      completeness += "]";
      facts.withheld = first + later;
    }
    completeness += "}";
    facts.completeness = true;
    facts.stream_events = proof->end == End::kStream ? proof->summary.count : 0;
  } else if (events.empty()) {
    return Status::NotFound("stream " + request.stream + " has no events (and the newest checkpoint has no stream "
                            "map to prove it: run `custodian checkpoint`)");
  }

  facts.stream = request.stream;
  facts.events = events.size();
  if (!events.empty()) {
    facts.first_version = events.front().version.value();
    facts.last_version = events.back().version.value();
    facts.first_position = events.front().position.value();
    facts.last_position = events.back().position.value();
    facts.from = facts.to = events.front().occurred_at;
  }
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
  out += "{\"format\":\"" + std::string(facts.completeness ? kBundleFormat : kBundleFormatV2) + "\",\n";
  out += "\"summary\":" + JsonQuote(bundle.summary) + ",\n";
  out += "\"stream\":" + JsonQuote(request.stream) + ",\n";
  if (events.empty()) {
    out += "\"from\":null,\n\"to\":null,\n";
  } else {
    out += "\"from\":\"" + FormatRfc3339(facts.from) + "\",\n";
    out += "\"to\":\"" + FormatRfc3339(facts.to) + "\",\n";
  }
  out += "\"verifier_key\":" + JsonQuote(log.verifier()->ToString()) + ",\n";
  out += "\"checkpoint\":" + JsonQuote(signed_note) + ",\n";
  if (!completeness.empty()) out += "\"completeness\":" + completeness + ",\n";
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

}  // namespace

Result<Bundle> BuildEvidenceBundle(EventLog& log, const BundleRequest& request) {
  for (int attempt = 0;; ++attempt) {
    bool stale = false;
    Result<Bundle> bundle = BuildOnce(log, request, &stale);
    if (!stale || attempt == 4) return bundle;
  }
}

}  // namespace custodian
