#include "core/bundle.h"

#include <boost/json.hpp>

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

}  // namespace

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
  if (StringField(b, "format") != kBundleFormat) {
    return fail("the file is not a Custodian evidence bundle (format \"" + StringField(b, "format") +
                "\", expected " + kBundleFormat + ")");
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
    if (!previous_version) verdict.first_version = e.version.value();
    previous_version = e.version.value();

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
  const json::value* from = Field(b, "from");
  if ((from == nullptr || from->is_null()) && verdict.first_version != 0) {
    return fail("the bundle claims the whole of " + verdict.stream + " but starts at version " +
                std::to_string(verdict.first_version) + ": events are missing from the start");
  }
  verdict.ok = true;
  return verdict;
}

}  // namespace custodian
