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
// Reserved for later: "keys".

// The store's format, in meta["format"] and in the CUSTODIAN marker file.
inline constexpr uint32_t kStoreFormat = 1;
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

// ids: the 16 bytes of the event id -> position (8 bytes BE) and content hash (32 bytes).
std::string IdKey(const EventId& id);
std::string IdValue(Position p, const Hash256& content_hash);
bool ParseIdValue(std::string_view value, Position* p, Hash256* content_hash);

// merkle: the node's last leaf (8 bytes BE), level (u8) -> the 32-byte hash of
// that complete subtree. Node (level l, index i) covers leaves
// [i·2^l, (i+1)·2^l), so its last leaf is (i+1)·2^l - 1. Keyed this way, the
// writer's keys only increase.
std::string MerkleKey(uint8_t level, uint64_t index);
bool ParseMerkleKey(std::string_view key, uint8_t* level, uint64_t* index);

std::string CheckpointKey(uint64_t size);

// projections: projection name, 0x00, the projection's own key -> its state.
std::string ProjectionKey(std::string_view projection, std::string_view key);
// meta["projection/" ‖ name] -> the position the projection has folded up to (u64 BE).
std::string ProjectionCheckpointKey(std::string_view projection);

std::string EncodeU64(uint64_t v);
bool DecodeU64(std::string_view bytes, uint64_t* v);

}  // namespace custodian::keys
