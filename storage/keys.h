// Keys and values of the RocksDB column families (docs/event-format.md,
// "Column families"). tests/storage/keys_test.cc pins these bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/sha256.h"
#include "core/types.h"

namespace custodian::keys {

inline constexpr char kEventsFamily[] = "events";
inline constexpr char kStreamsFamily[] = "streams";
inline constexpr char kIdsFamily[] = "ids";
inline constexpr char kMetaFamily[] = "meta";
inline constexpr char kMerkleFamily[] = "merkle";
inline constexpr char kProjectionsFamily[] = "projections";
// Data keys (wrapped), erased subjects and the blind index: storage/key_vault.h.
inline constexpr char kKeysFamily[] = "keys";

// The store's format, in meta["format"] and in the CUSTODIAN marker file.
// Format 2: events may be stored as record version 2 (with recorded_by). A
// read-write open raises meta["format"] of an older store to this, so that
// an older build refuses the store at open instead of stopping at the first
// record it cannot read.
inline constexpr uint32_t kStoreFormat = 2;
inline constexpr char kMarkerFile[] = "CUSTODIAN";
inline constexpr char kMetaFormatKey[] = "format";
inline constexpr char kMetaStreamCountKey[] = "stream_count";
// meta["ids_indexed_to"] -> u64 BE: the ids family holds every event below it.
inline constexpr char kMetaIdsIndexedToKey[] = "ids_indexed_to";
// meta["checkpoint/" ‖ size as 8 bytes BE] -> the signed checkpoint note.
inline constexpr char kMetaCheckpointPrefix[] = "checkpoint/";

// Files of the store's directory that hold the checkpoint signing key.
inline constexpr char kSignerKeyFile[] = "log.key";     // PRIVATE+KEY+..., mode 0600
inline constexpr char kVerifierKeyFile[] = "log.vkey";  // the public verifier key

// events: position as 8 bytes big-endian.
std::string EventKey(Position p);
bool ParseEventKey(std::string_view key, Position* p);

// streams: stream name, 0x00, version as 8 bytes big-endian -> position (8 bytes BE).
std::string StreamKey(std::string_view stream, StreamVersion v);
// The prefix shared by every key of one stream: name and 0x00.
std::string StreamPrefix(std::string_view stream);
bool ParseStreamKey(std::string_view key, std::string_view* stream, StreamVersion* v);

// ids: the 16 bytes of the event id -> position (8 bytes BE). Stores written
// before 2026-11-23 have the event's content hash (32 bytes) after the
// position; it is read past.
std::string IdKey(const EventId& id);
std::string IdValue(Position p);
inline constexpr size_t kLegacyIdValueSize = 40;
bool ParseIdValue(std::string_view value, Position* p);

// merkle: one segment per group commit. Key: the tree's size after it (8
// bytes BE). Value: the size before it (8 bytes BE), then the 32-byte hash of
// every complete subtree its leaves completed, in the order they completed:
// for each leaf, the leaf, then each subtree it closes, smallest first. Node
// (level l, index i) covers leaves [i·2^l, (i+1)·2^l), so it completes with
// leaf (i+1)·2^l - 1 and lives in the segment that holds that leaf.
std::string MerkleSegmentKey(uint64_t to);
bool ParseMerkleSegmentKey(std::string_view key, uint64_t* to);
std::string MerkleSegmentValue(uint64_t from, std::string_view hashes);
// The size before the segment and its hashes; false unless the value is 8
// bytes and exactly the hashes the leaves [from, to) complete.
bool ParseMerkleSegmentValue(std::string_view value, uint64_t to, uint64_t* from, std::string_view* hashes);
// How many subtrees the first n leaves complete: 2n - popcount(n).
uint64_t MerkleNodesBefore(uint64_t n);
// The last leaf of node (level, index): the leaf that completes it.
uint64_t MerkleLastLeaf(uint8_t level, uint64_t index);
// Where node (level, index) is among the hashes of the segment beginning at
// leaf `from` (which must not be past the node's last leaf).
uint64_t MerkleSlot(uint8_t level, uint64_t index, uint64_t from);

std::string CheckpointKey(uint64_t size);

// projections: projection name, 0x00, the projection's own key -> its state.
std::string ProjectionKey(std::string_view projection, std::string_view key);
// meta["projection/" ‖ name] -> the position the projection has folded up to
// (u64 BE), then, when its state's encoding version is not 1, that version
// (u32 BE).
std::string ProjectionCheckpointKey(std::string_view projection);
std::string ProjectionCheckpointValue(uint64_t checkpoint, uint32_t state_version);
// False unless the value is 8 bytes (version 1) or 12 bytes with a version other than 1.
bool ParseProjectionCheckpointValue(std::string_view value, uint64_t* checkpoint, uint32_t* state_version);

std::string EncodeU64(uint64_t v);
bool DecodeU64(std::string_view bytes, uint64_t* v);

}  // namespace custodian::keys
