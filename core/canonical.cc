#include "core/canonical.h"

namespace custodian {
namespace {

void PutU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

void StoreU64(char* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (56 - 8 * i));
}

void PutU64(std::string* out, uint64_t v) {
  char bytes[8];
  StoreU64(bytes, v);
  out->append(bytes, sizeof bytes);
}

void PutString(std::string* out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

void PutHash(std::string* out, const Hash256& h) {
  out->append(reinterpret_cast<const char*>(h.data()), h.size());
}

void AppendContent(std::string* out, const Event& e, const Hash256* personal_hash) {
  out->append(e.id.AsBytes());
  PutString(out, e.stream);
  PutString(out, e.type);
  PutU32(out, e.schema);
  PutString(out, e.actor);
  PutU64(out, static_cast<uint64_t>(e.occurred_at.value()));
  PutString(out, e.source);
  PutString(out, e.correlation_id);
  PutString(out, e.causation_id);
  PutHash(out, Sha256(e.data));
  if (personal_hash != nullptr) {
    PutHash(out, *personal_hash);
  } else if (e.personal == PersonalSection{}) {
    static const Hash256 kEmptyPersonalHash = PersonalHash(PersonalSection{});
    PutHash(out, kEmptyPersonalHash);
  } else {
    PutHash(out, PersonalHash(e.personal));
  }
}

}  // namespace

std::string CanonicalContent(const Event& e) {
  std::string out;
  out.reserve(160 + e.stream.size() + e.type.size() + e.actor.size());
  AppendContent(&out, e, nullptr);
  return out;
}

std::string CanonicalContent(const Event& e, const Hash256& personal_hash) {
  std::string out;
  out.reserve(160 + e.stream.size() + e.type.size() + e.actor.size());
  AppendContent(&out, e, &personal_hash);
  return out;
}

std::string CanonicalBytes(const Event& e) {
  std::string out;
  out.reserve(192 + e.stream.size() + e.type.size() + e.actor.size());
  PutU8(&out, e.recorded_by.empty() ? kCanonicalFormat : kCanonicalFormatRecordedBy);
  PutU64(&out, e.position.value());
  PutU64(&out, e.version.value());
  PutU64(&out, static_cast<uint64_t>(e.recorded_at.value()));
  if (!e.recorded_by.empty()) PutString(&out, e.recorded_by);
  AppendContent(&out, e, nullptr);
  return out;
}

Hash256 ContentHash(const Event& e) {
  Sha256Hasher h;
  const char format = static_cast<char>(kCanonicalFormat);
  h.Update(std::string_view(&format, 1));
  h.Update(CanonicalContent(e));
  return h.Finish();
}

Hash256 PersonalHash(const PersonalSection& p) {
  std::string bytes;
  PutU8(&bytes, static_cast<uint8_t>(p.scheme));
  PutString(&bytes, p.subject);
  PutString(&bytes, p.nonce);
  PutString(&bytes, p.ciphertext);
  return Sha256(bytes);
}

Hash256 LeafHash(const Event& e) {
  return LeafHashOfContent(e.position, e.version, e.recorded_at, e.recorded_by, CanonicalContent(e));
}

Hash256 LeafHashOfContent(Position position, StreamVersion version, Timestamp recorded_at, std::string_view recorded_by,
                          std::string_view content) {
  char prefix[26];  // on the stack: the writer hashes a leaf per event
  prefix[0] = 0x00;   // RFC 6962 leaf prefix
  prefix[1] = static_cast<char>(recorded_by.empty() ? kCanonicalFormat : kCanonicalFormatRecordedBy);
  StoreU64(prefix + 2, position.value());
  StoreU64(prefix + 10, version.value());
  StoreU64(prefix + 18, static_cast<uint64_t>(recorded_at.value()));
  Sha256Hasher h;
  h.Update(std::string_view(prefix, sizeof prefix));
  if (!recorded_by.empty()) {
    const uint32_t n = static_cast<uint32_t>(recorded_by.size());
    const char length[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                            static_cast<char>(n)};
    h.Update(std::string_view(length, 4));
    h.Update(recorded_by);
  }
  h.Update(content);
  return h.Finish();
}

}  // namespace custodian
