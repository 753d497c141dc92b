#include "storage/keys.h"

#include <bit>
#include <cstring>

namespace custodian::keys {

std::string EncodeU64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

bool DecodeU64(std::string_view bytes, uint64_t* v) {
  if (bytes.size() != 8) return false;
  uint64_t r = 0;
  for (char c : bytes) r = r << 8 | static_cast<unsigned char>(c);
  *v = r;
  return true;
}

std::string EventKey(Position p) { return EncodeU64(p.value()); }

bool ParseEventKey(std::string_view key, Position* p) {
  uint64_t v;
  if (!DecodeU64(key, &v)) return false;
  *p = Position(v);
  return true;
}

std::string StreamPrefix(std::string_view stream) {
  std::string k(stream);
  k.push_back('\0');
  return k;
}

std::string StreamKey(std::string_view stream, StreamVersion v) {
  std::string k;
  k.reserve(stream.size() + 9);  // one allocation per key: the writer makes one per event
  k.append(stream);
  k.push_back('\0');
  k += EncodeU64(v.value());  // eight bytes: no allocation of its own
  return k;
}

bool ParseStreamKey(std::string_view key, std::string_view* stream, StreamVersion* v) {
  if (key.size() < 10 || key[key.size() - 9] != '\0') return false;
  uint64_t version;
  if (!DecodeU64(key.substr(key.size() - 8), &version)) return false;
  *stream = key.substr(0, key.size() - 9);
  *v = StreamVersion(version);
  return true;
}

std::string IdKey(const EventId& id) { return std::string(id.AsBytes()); }

std::string IdValue(Position p) { return EncodeU64(p.value()); }

bool ParseIdValue(std::string_view value, Position* p) {
  uint64_t pos;
  if ((value.size() != 8 && value.size() != kLegacyIdValueSize) || !DecodeU64(value.substr(0, 8), &pos)) return false;
  *p = Position(pos);
  return true;
}

std::string MerkleSegmentKey(uint64_t to) { return EncodeU64(to); }

bool ParseMerkleSegmentKey(std::string_view key, uint64_t* to) { return DecodeU64(key, to); }

std::string MerkleSegmentValue(uint64_t from, std::string_view hashes) {
  std::string v = EncodeU64(from);
  v.append(hashes);
  return v;
}

bool ParseMerkleSegmentValue(std::string_view value, uint64_t to, uint64_t* from, std::string_view* hashes) {
  if (value.size() < 8 || !DecodeU64(value.substr(0, 8), from) || *from >= to) return false;
  *hashes = value.substr(8);
  return hashes->size() == 32 * (MerkleNodesBefore(to) - MerkleNodesBefore(*from));
}

uint64_t MerkleNodesBefore(uint64_t n) { return 2 * n - static_cast<uint64_t>(std::popcount(n)); }

uint64_t MerkleLastLeaf(uint8_t level, uint64_t index) { return ((index + 1) << level) - 1; }

uint64_t MerkleSlot(uint8_t level, uint64_t index, uint64_t from) {
  return MerkleNodesBefore(MerkleLastLeaf(level, index)) - MerkleNodesBefore(from) + level;
}

std::string CheckpointKey(uint64_t size) { return kMetaCheckpointPrefix + EncodeU64(size); }

std::string ProjectionKey(std::string_view projection, std::string_view key) {
  std::string k(projection);
  k.push_back('\0');
  k.append(key);
  return k;
}

std::string ProjectionCheckpointKey(std::string_view projection) {
  return "projection/" + std::string(projection);
}

std::string ProjectionCheckpointValue(uint64_t checkpoint, uint32_t state_version) {
  std::string v = EncodeU64(checkpoint);
  if (state_version != 1) {
    for (int shift = 24; shift >= 0; shift -= 8) v.push_back(static_cast<char>((state_version >> shift) & 0xFF));
  }
  return v;
}

bool ParseProjectionCheckpointValue(std::string_view value, uint64_t* checkpoint, uint32_t* state_version) {
  if ((value.size() != 8 && value.size() != 12) || !DecodeU64(value.substr(0, 8), checkpoint)) return false;
  *state_version = 1;
  if (value.size() == 12) {
    uint32_t v = 0;
    for (size_t i = 8; i < 12; ++i) v = (v << 8) | static_cast<uint8_t>(value[i]);
    if (v == 1) return false;  // version 1 is written as 8 bytes: one encoding per state
    *state_version = v;
  }
  return true;
}

}  // namespace custodian::keys
