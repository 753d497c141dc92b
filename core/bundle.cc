#include "core/bundle.h"

#include <fmt/core.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>

#include "core/base64.h"
#include "core/canonical.h"
#include "core/json.h"
#include "core/merkle.h"
#include "core/note.h"
#include "core/stream_map.h"
#include "core/text.h"
#include "core/time.h"
#include "core/validation.h"

namespace json = boost::json;

namespace custodian {
namespace {

const json::value* Field(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  return it == o.end() ? nullptr : &it->value();
}

std::string StringField(const json::object& o, std::string_view name) {
  const json::value* v = Field(o, name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// Where two texts first differ, with a little of each from there.
std::string FirstDifference(std::string_view found, std::string_view expected) {
  size_t at = 0;
  while (at < found.size() && at < expected.size() && found[at] == expected[at]) ++at;
  return "from character " + std::to_string(at + 1) + " it says \"" + std::string(found.substr(at, 60)) +
         "\" where the verified contents give \"" + std::string(expected.substr(at, 60)) + "\"";
}

std::optional<Hash256> HashField(const json::value* v) {
  if (v == nullptr || !v->is_string()) return std::nullopt;
  Result<std::string> bytes = Base64Decode(std::string(v->get_string()));
  if (!bytes.ok() || bytes->size() != 32) return std::nullopt;
  Hash256 h;
  std::memcpy(h.data(), bytes->data(), 32);
  return h;
}

std::optional<uint64_t> CountField(const json::object& o, std::string_view name) {
  const json::value* v = Field(o, name);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  boost::system::error_code ec;
  const uint64_t n = v->to_number<uint64_t>(ec);
  if (ec) return std::nullopt;
  return n;
}

// Checks a format 3 bundle's "completeness" part against its checkpoint and
// the leaf hashes of the events it holds (in order); on success fills
// facts.stream_events and facts.withheld. Else what is wrong.
std::optional<std::string> CheckCompleteness(const json::object& b, const note::VerifierKey& key,
                                             const note::Checkpoint& cp, const std::vector<Hash256>& leaves,
                                             BundleFacts& facts) {
  const json::value* part = Field(b, "completeness");
  if (part == nullptr || !part->is_object()) return "the bundle has no \"completeness\" object";
  const json::object& c = part->get_object();
  Result<std::string> body = key.Open(StringField(c, "map_note"));
  if (!body.ok()) return "the stream map note: " + body.status().message();
  Result<streammap::MapNote> note = streammap::ParseMapNote(*body);
  if (!note.ok()) return "the stream map note: " + note.status().message();
  if (note->origin != cp.origin || note->size != cp.size || note->log_root != cp.root) {
    return "the stream map note is for the log " + note->origin + " at size " + std::to_string(note->size) +
           ", not the bundle's checkpoint (" + cp.origin + " at size " + std::to_string(cp.size) + ")";
  }
  streammap::Proof proof;
  const json::value* siblings = Field(c, "map_proof");
  if (siblings == nullptr || !siblings->is_array()) return "the completeness part has no map_proof";
  for (const json::value& h : siblings->get_array()) {
    std::optional<Hash256> sibling = HashField(&h);
    if (!sibling) return std::string("a map_proof hash is not a base64 SHA-256");
    proof.siblings.push_back(*sibling);
  }
  const std::string ends_at = StringField(c, "ends_at");
  if (ends_at == "stream") {
    proof.end = streammap::Proof::End::kStream;
  } else if (ends_at == "empty") {
    proof.end = streammap::Proof::End::kEmpty;
  } else if (ends_at == "other") {
    proof.end = streammap::Proof::End::kOther;
  } else {
    return "the completeness part's ends_at is \"" + ends_at + "\", not stream, empty or other";
  }
  if (proof.end != streammap::Proof::End::kEmpty) {
    const json::value* leaf = Field(c, "leaf");
    if (leaf == nullptr || !leaf->is_object()) return std::string("the completeness part has no leaf");
    const json::object& l = leaf->get_object();
    std::optional<uint64_t> events = CountField(l, "events"), last = CountField(l, "last_position");
    std::optional<Hash256> running = HashField(Field(l, "running_sha256"));
    if (!events || !last || !running) return std::string("the map leaf lacks events, last_position or running_sha256");
    proof.summary = {*events, *last, *running};
    if (proof.end == streammap::Proof::End::kOther) {
      std::optional<Hash256> other = HashField(Field(l, "key_sha256"));
      if (!other) return std::string("the map leaf of another stream lacks its key_sha256");
      proof.other_key = *other;
    }
  }
  Result<Hash256> root = streammap::RootFromProof(facts.stream, proof);
  if (!root.ok()) return "the map proof: " + root.status().message();
  if (*root != note->map_root) {
    return "the map proof for " + facts.stream + " leads to root " + HexOf(*root) + ", not the signed map root " +
           HexOf(note->map_root) + ": the proof or the leaf it shows was altered";
  }
  const std::string at_size = " in the log at size " + std::to_string(cp.size);
  if (proof.end != streammap::Proof::End::kStream) {
    if (!leaves.empty()) {
      return "the signed stream map says " + facts.stream + " has no events" + at_size + ", yet the bundle holds " +
             std::to_string(leaves.size());
    }
    facts.stream_events = 0;
    facts.withheld = 0;
    return std::nullopt;
  }
  const uint64_t in_log = proof.summary.count;
  if (leaves.empty()) {
    return "the bundle holds no events, but the signed stream map says " + facts.stream + " has " +
           std::to_string(in_log) + " events" + at_size;
  }
  // The running hash, from before the first event held, through the held
  // events and the later ones withheld.
  Hash256 running = streammap::kEmpty;
  if (facts.first_version > 0) {
    std::optional<Hash256> before = HashField(Field(c, "running_before_sha256"));
    if (!before) {
      return "the bundle starts at version " + std::to_string(facts.first_version) +
             " but does not account for the stream's earlier events (it gives no running_before_sha256): events "
             "are missing from the start";
    }
    running = *before;
  }
  for (const Hash256& leaf : leaves) running = streammap::NextRunning(running, leaf);
  uint64_t later = 0;
  if (const json::value* l = Field(c, "later_leaf_hashes"); l != nullptr) {
    if (!l->is_array()) return std::string("later_leaf_hashes is not an array");
    for (const json::value& h : l->get_array()) {
      std::optional<Hash256> leaf = HashField(&h);
      if (!leaf) return std::string("a later_leaf_hashes entry is not a base64 SHA-256");
      running = streammap::NextRunning(running, *leaf);
      ++later;
    }
  }
  const uint64_t accounted = facts.first_version + leaves.size() + later;
  if (accounted < in_log) {
    return "incomplete: the signed stream map says " + facts.stream + " has " + std::to_string(in_log) + " events" +
           at_size + ", the newest at position " + std::to_string(proof.summary.last_position) +
           ", but the bundle accounts for " + std::to_string(accounted) + ": " + std::to_string(in_log - accounted) +
           " event(s) after version " + std::to_string(accounted - 1) + " are missing";
  }
  if (accounted > in_log) {
    return "the bundle accounts for " + std::to_string(accounted) + " events of " + facts.stream +
           " but the signed stream map says it has " + std::to_string(in_log) + at_size;
  }
  if (later == 0 && facts.last_position != proof.summary.last_position) {
    return "the stream's newest event" + at_size + " is at position " +
           std::to_string(proof.summary.last_position) + ", but the bundle's last is at position " +
           std::to_string(facts.last_position);
  }
  if (running != proof.summary.running) {
    return "the events of " + facts.stream + " the bundle accounts for do not hash to the stream's signed running "
           "hash: an event was swapped for another, or a withheld hash (running_before_sha256, later_leaf_hashes) "
           "is wrong";
  }
  facts.stream_events = in_log;
  facts.withheld = in_log - leaves.size();
  return std::nullopt;
}

}  // namespace

std::string BundleSummary(const BundleFacts& f) {
  const std::string key = Base64Encode(merkle::ToBytes(f.root));
  if (f.completeness && f.events == 0) {
    return fmt::format(
        "Evidence that {} has no events in the log {} at size {} (root {}): the stream map signed with that "
        "checkpoint, by the key {}, proves its absence. Check it offline with: custodian verify-bundle FILE "
        "--key '{}' — using the key published by the company, not the one inside the file.",
        f.stream, f.origin, f.tree_size, key, f.verifier_key, f.verifier_key);
  }
  std::string complete;
  if (f.completeness) {
    complete = fmt::format(
        " The stream map signed with the checkpoint shows that {} has {} events at that size, so none is left out{}.",
        f.stream, f.stream_events,
        f.withheld == 0 ? ""
                        : fmt::format(" ({} outside these versions are accounted for by their hashes only)", f.withheld));
  }
  return fmt::format(
      "Evidence bundle for {}: {} events (stream versions {} to {}, log positions {} to {}), which occurred "
      "between {} and {}. Each event carries a Merkle inclusion proof against the signed checkpoint of the log "
      "{} at size {} (root {}), signed with the key {}.{} Check it offline with: custodian verify-bundle FILE "
      "--key '{}' — using the key published by the company, not the one inside the file.",
      f.stream, f.events, f.first_version, f.last_version, f.first_position, f.last_position,
      FormatRfc3339(f.from), FormatRfc3339(f.to), f.origin, f.tree_size, key, f.verifier_key, complete,
      f.verifier_key);
}

BundleVerdict VerifyBundle(std::string_view bundle, std::optional<std::string_view> verifier_key) {
  BundleVerdict verdict;
  auto fail = [&](const std::string& problem) {
    verdict.ok = false;
    verdict.problem = problem;
    return verdict;
  };
  boost::system::error_code ec;
  json::value root = json::parse(bundle, ec);
  if (ec || !root.is_object()) return fail("the file is not a JSON evidence bundle (" + ec.message() + ")");
  const json::object& b = root.get_object();
  verdict.format = StringField(b, "format");
  const bool v1 = verdict.format == kBundleFormatV1;
  const bool v3 = verdict.format == kBundleFormat;
  if (!v3 && !v1 && verdict.format != kBundleFormatV2) {
    return fail("the file is not a Custodian evidence bundle (format \"" + verdict.format + "\", expected " +
                kBundleFormat + ")");
  }
  verdict.stream = StringField(b, "stream");
  // A name no log takes could only pass as another's: "customer-42" and an
  // invisible character, in a proof that the stream has no events.
  if (Status s = ValidateStreamName(verdict.stream); !s.ok()) return fail("the bundle's " + s.message());

  // The key, and the checkpoint it signed.
  verdict.key_from_bundle = !verifier_key.has_value();
  verdict.verifier_key = verifier_key ? std::string(*verifier_key) : StringField(b, "verifier_key");
  Result<note::VerifierKey> key = note::VerifierKey::Parse(verdict.verifier_key);
  if (!key.ok()) return fail("verifier key: " + key.status().message());
  Result<std::string> body = key->Open(StringField(b, "checkpoint"));
  if (!body.ok()) return fail("the checkpoint: " + body.status().message());
  Result<note::Checkpoint> checkpoint = note::ParseCheckpoint(*body);
  if (!checkpoint.ok()) return fail("the checkpoint: " + checkpoint.status().message());
  if (checkpoint->origin != key->name()) {
    return fail("the checkpoint's origin " + checkpoint->origin + " is not the key's name " + key->name());
  }
  verdict.tree_size = checkpoint->size;
  verdict.root_base64 = Base64Encode(merkle::ToBytes(checkpoint->root));

  const json::value* events = Field(b, "events");
  if (events == nullptr || !events->is_array() || (events->get_array().empty() && !v3)) {
    return fail("the bundle holds no events");
  }
  // Each event's text as written: its data is hashed byte for byte, and a
  // number must not be re-printed by the parser (1.10 is not 1.1E0).
  Result<std::string> compact = CompactJson(bundle);
  if (!compact.ok()) return fail("the file is not a JSON evidence bundle (" + compact.status().message() + ")");
  const std::vector<std::string_view> event_texts =
      JsonArrayItems(JsonMemberText(*compact, "events").value_or("[]"));
  if (event_texts.size() != events->get_array().size()) return fail("the bundle's events do not read back");
  std::optional<uint64_t> previous_version;
  BundleFacts facts;
  std::vector<Hash256> leaves;  // of the events held, in order
  for (const json::value& item : events->get_array()) {
    const size_t n = verdict.events + 1;
    const std::string where = "event #" + std::to_string(n);
    if (!item.is_object()) return fail(where + " is not a JSON object");
    const json::object& entry = item.get_object();
    const json::value* ev = Field(entry, "event");
    if (ev == nullptr || !ev->is_object()) return fail(where + " has no \"event\" object");
    Result<Event> parsed = ParseEventJson(JsonMemberText(event_texts[n - 1], "event").value_or(""), RecordedBy::kKeep);
    if (!parsed.ok()) return fail(where + ": " + parsed.status().message());
    Event e = std::move(*parsed);
    const json::object& eo = ev->get_object();
    const std::optional<uint64_t> position = CountField(eo, "position");
    const std::optional<uint64_t> version = CountField(eo, "version");
    if (!position || !version) {
      return fail(where + " lacks its position or version (each a whole number from 0)");
    }
    Result<Timestamp> recorded = ParseRfc3339(StringField(eo, "recorded_at"));
    if (!recorded.ok()) return fail(where + ": recorded_at: " + recorded.status().message());
    e.position = Position(*position);
    e.version = StreamVersion(*version);
    e.recorded_at = *recorded;
    const std::string at = "event at position " + std::to_string(e.position.value()) + " (" + e.id.ToString() + ")";

    if (e.stream != verdict.stream) return fail(at + " belongs to " + e.stream + ", not " + verdict.stream);
    if (previous_version && e.version.value() != *previous_version + 1) {
      return fail(at + " is version " + std::to_string(e.version.value()) + " after version " +
                  std::to_string(*previous_version) + ": events of the stream are missing from the bundle");
    }
    if (!previous_version) {
      verdict.first_version = e.version.value();
      facts.first_position = e.position.value();
      facts.from = facts.to = e.occurred_at;
    }
    previous_version = e.version.value();
    facts.last_position = e.position.value();
    facts.from = std::min(facts.from, e.occurred_at);
    facts.to = std::max(facts.to, e.occurred_at);

    Result<std::string> personal = Base64Decode(StringField(entry, "personal_sha256"));
    if (!personal.ok() || personal->size() != 32) return fail(at + ": personal_sha256 is not a base64 SHA-256");
    Hash256 personal_hash;
    std::memcpy(personal_hash.data(), personal->data(), 32);
    // The sealed bytes are not in the bundle, only their hash: what it shows
    // of the part is checked as far as that allows. A part is shown exactly
    // when the log holds one, and one shown as sealed names the person the
    // event's data makes it about.
    static const Hash256 kNoPersonal = PersonalHash(PersonalSection{});
    const json::value* shown = Field(eo, "personal");
    const bool shows = shown != nullptr && shown->is_object() && !shown->get_object().empty();
    if (shows != (personal_hash != kNoPersonal)) {
      return fail(at + (shows ? " shows a personal part, but the log holds none for it"
                              : " has a sealed personal part in the log that the bundle does not show"));
    }
    if (shows) {
      // Whose it is follows from the data as the log derives it (core/personal.h):
      // data.contact_id names a contact of the stream's customer, else the customer.
      const json::value* contact = Field(eo, "data") && Field(eo, "data")->is_object()
                                       ? Field(Field(eo, "data")->get_object(), "contact_id")
                                       : nullptr;
      const std::string subject =
          contact && contact->is_string() ? e.stream + "/contact-" + std::string(contact->get_string()) : e.stream;
      // Sealed: "sealed_for" and at most an "unavailable" reason, nothing
      // else; any other member is text shown opened, the maker's word.
      const json::object& p = shown->get_object();
      const json::value* sealed_for = p.if_contains("sealed_for");
      const json::value* unavailable = p.if_contains("unavailable");
      const bool sealed = sealed_for != nullptr && p.size() == (unavailable ? 2u : 1u) &&
                          (unavailable == nullptr || unavailable->is_string());
      if (sealed_for != nullptr && (!sealed_for->is_string() || sealed_for->get_string() != subject)) {
        return fail(at + ": its personal part is shown as sealed for " + QuotedText(json::serialize(*sealed_for)) +
                    ", but the event's data makes it " + subject + "'s");
      }
      if (!sealed) ++verdict.personal_shown;
    }
    merkle::Proof proof;
    const json::value* proof_json = Field(entry, "inclusion_proof");
    if (proof_json == nullptr || !proof_json->is_array()) return fail(at + " has no inclusion proof");
    for (const json::value& h : proof_json->get_array()) {
      Result<std::string> bytes = h.is_string() ? Base64Decode(std::string(h.get_string()))
                                                : Result<std::string>(Status::InvalidArgument("not a string"));
      if (!bytes.ok()) return fail(at + ": a proof hash is not base64");
      proof.push_back(*bytes);
    }
    const Hash256 leaf =
        LeafHashOfContent(e.position, e.version, e.recorded_at, e.recorded_by, CanonicalContent(e, personal_hash));
    Status s = merkle::VerifyInclusion(e.position.value(), checkpoint->size, merkle::ToBytes(leaf), proof,
                                       merkle::ToBytes(checkpoint->root));
    if (!s.ok()) {
      return fail(at + " is not in the signed log as shown (its leaf hash is " + HexOf(leaf) + "): " + s.message() +
                  "; the event was altered, or the proof is not for this checkpoint");
    }
    leaves.push_back(leaf);
    ++verdict.events;
  }
  facts.stream = verdict.stream;
  facts.first_version = verdict.first_version;
  if (v3) {
    facts.completeness = true;
    if (std::optional<std::string> problem = CheckCompleteness(b, *key, *checkpoint, leaves, facts)) {
      return fail(*problem);
    }
    verdict.complete = true;
    verdict.stream_events = facts.stream_events;
    verdict.withheld = facts.withheld;
    verdict.completeness =
        facts.stream_events == 0
            ? "complete: the signed stream map proves that " + verdict.stream + " has no events in the log at size " +
                  std::to_string(checkpoint->size)
            : "complete: the signed stream map shows " + verdict.stream + " has " +
                  std::to_string(facts.stream_events) + " events in the log at size " +
                  std::to_string(checkpoint->size) + " and the bundle accounts for all of them" +
                  (facts.withheld == 0 ? std::string()
                                       : " (" + std::to_string(facts.withheld) + " by their hashes only)");
  } else {
    verdict.completeness = "not proven: a " + verdict.format +
                           " bundle proves that its events are in the log, not that the stream has no others "
                           "(bundles made since 2026-12-05 prove that too)";
  }
  if (verdict.events == 0) {
    // A proof of absence: nothing else to derive from events.
    for (const char* name : {"from", "to"}) {
      const json::value* stated = Field(b, name);
      if (stated == nullptr || !stated->is_null()) {
        return fail(std::string("the bundle's \"") + name + "\" must be null: it holds no events");
      }
    }
  } else {
    verdict.last_version = *previous_version;
    verdict.from = FormatRfc3339(facts.from);
    verdict.to = FormatRfc3339(facts.to);
  }
  const json::value* from = Field(b, "from");
  if (v1) {
    // Format 1 stated the window asked for, which the events cannot confirm.
    if ((from == nullptr || from->is_null()) && verdict.first_version != 0) {
      return fail("the bundle claims the whole of " + verdict.stream + " but starts at version " +
                  std::to_string(verdict.first_version) + ": events are missing from the start");
    }
    verdict.unchecked = {"summary", "from", "to"};
    verdict.ok = true;
    return verdict;
  }

  // What the file states besides the events, derived again from them.
  std::vector<std::pair<const char*, Timestamp>> derived_times;
  if (verdict.events > 0) derived_times = {{"from", facts.from}, {"to", facts.to}};
  for (auto [name, derived] : derived_times) {
    const json::value* stated = Field(b, name);
    const std::string shown = stated == nullptr ? "missing" : json::serialize(*stated);
    Result<Timestamp> t = stated != nullptr && stated->is_string() ? ParseRfc3339(stated->get_string())
                                                                    : Result<Timestamp>(Status::InvalidArgument(""));
    if (!t.ok() || *t != derived) {
      return fail(std::string("the bundle's \"") + name + "\" is " + shown + " but its events occurred " +
                  (name == std::string("from") ? "from " : "up to ") + FormatRfc3339(derived) +
                  " (the " + (name == std::string("from") ? "earliest" : "latest") +
                  " occurred_at of its verified events): the field was altered");
    }
  }
  facts.stream = verdict.stream;
  facts.events = verdict.events;
  facts.first_version = verdict.first_version;
  facts.last_version = verdict.last_version;
  facts.origin = checkpoint->origin;
  facts.tree_size = checkpoint->size;
  facts.root = checkpoint->root;
  facts.verifier_key = key->ToString();
  const std::string expected = BundleSummary(facts);
  const json::value* summary = Field(b, "summary");
  if (summary == nullptr || !summary->is_string() || summary->get_string() != expected) {
    const std::string found = summary != nullptr && summary->is_string() ? std::string(summary->get_string()) : "";
    return fail("the bundle's \"summary\" does not say what its verified events and checkpoint say: " +
                (summary == nullptr || !summary->is_string() ? std::string("it is missing or not a string")
                                                             : FirstDifference(found, expected)));
  }
  verdict.ok = true;
  return verdict;
}

}  // namespace custodian
