#include "core/bundle.h"

#include <boost/json.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <cstring>

#include "core/base64.h"
#include "core/canonical.h"
#include "core/json.h"
#include "core/merkle.h"
#include "core/note.h"
#include "core/time.h"

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

}  // namespace

std::string BundleSummary(const BundleFacts& f) {
  return fmt::format(
      "Evidence bundle for {}: {} events (stream versions {} to {}, log positions {} to {}), which occurred "
      "between {} and {}. Each event carries a Merkle inclusion proof against the signed checkpoint of the log "
      "{} at size {} (root {}), signed with the key {}. Check it offline with: custodian verify-bundle FILE "
      "--key '{}' — using the key published by the company, not the one inside the file.",
      f.stream, f.events, f.first_version, f.last_version, f.first_position, f.last_position,
      FormatRfc3339(f.from), FormatRfc3339(f.to), f.origin, f.tree_size, Base64Encode(merkle::ToBytes(f.root)),
      f.verifier_key, f.verifier_key);
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
  if (verdict.format != kBundleFormat && !v1) {
    return fail("the file is not a Custodian evidence bundle (format \"" + verdict.format + "\", expected " +
                kBundleFormat + ")");
  }
  verdict.stream = StringField(b, "stream");

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
  if (events == nullptr || !events->is_array() || events->get_array().empty()) {
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
  for (const json::value& item : events->get_array()) {
    const size_t n = verdict.events + 1;
    const std::string where = "event #" + std::to_string(n);
    if (!item.is_object()) return fail(where + " is not a JSON object");
    const json::object& entry = item.get_object();
    const json::value* ev = Field(entry, "event");
    if (ev == nullptr || !ev->is_object()) return fail(where + " has no \"event\" object");
    Result<Event> parsed = ParseEventJson(JsonMemberText(event_texts[n - 1], "event").value_or(""));
    if (!parsed.ok()) return fail(where + ": " + parsed.status().message());
    Event e = std::move(*parsed);
    const json::object& eo = ev->get_object();
    const json::value* position = Field(eo, "position");
    const json::value* version = Field(eo, "version");
    if (position == nullptr || !position->is_number() || version == nullptr || !version->is_number()) {
      return fail(where + " lacks its position or version");
    }
    Result<Timestamp> recorded = ParseRfc3339(StringField(eo, "recorded_at"));
    if (!recorded.ok()) return fail(where + ": recorded_at: " + recorded.status().message());
    e.position = Position(position->to_number<uint64_t>());
    e.version = StreamVersion(version->to_number<uint64_t>());
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
        LeafHashOfContent(e.position, e.version, e.recorded_at, CanonicalContent(e, personal_hash));
    Status s = merkle::VerifyInclusion(e.position.value(), checkpoint->size, merkle::ToBytes(leaf), proof,
                                       merkle::ToBytes(checkpoint->root));
    if (!s.ok()) {
      return fail(at + " is not in the signed log as shown (its leaf hash is " + HexOf(leaf) + "): " + s.message() +
                  "; the event was altered, or the proof is not for this checkpoint");
    }
    ++verdict.events;
  }
  verdict.last_version = *previous_version;
  verdict.from = FormatRfc3339(facts.from);
  verdict.to = FormatRfc3339(facts.to);
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
  for (auto [name, derived] : {std::pair<const char*, Timestamp>{"from", facts.from}, {"to", facts.to}}) {
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
