// The stream map: proof that a bundle holds every event of its stream
// (docs/tamper-evidence.md, "Completeness"; DESIGN.md, Tamper evidence).
//
// Next to the log's Merkle tree the store keeps a sparse Merkle tree keyed by
// SHA-256(stream name). The leaf of a stream holds its summary at the tree
// size the map was built for:
//
//   count          how many events the stream has (u64)
//   last_position  the position of its newest event (u64)
//   running        r_0 = 32 zero bytes; r_i = SHA-256(0x02 ‖ r_{i-1} ‖ leaf_i)
//                  where leaf_i is the log's RFC 6962 leaf hash of the
//                  stream's i-th event (version i-1)
//
// Hashes (domain-separated from each other and from the log's 0x00/0x01):
//
//   leaf node   SHA-256(0x10 ‖ key ‖ count BE8 ‖ last_position BE8 ‖ running)
//   inner node  SHA-256(0x11 ‖ left ‖ right)
//   empty       32 zero bytes (a subtree with no stream)
//
// A subtree that holds exactly one stream is that stream's leaf node,
// whatever its depth ("shortcut" leaves), so a path is as long as the
// streams' keys need to part: about log2(streams) steps. Bit i of the key
// (most significant first) chooses the child at depth i.
//
// At each signed checkpoint the store also signs a map note binding the map's
// root to the log's size and root (MapNoteBody). A proof for a stream is the
// list of siblings from the root down to where its path ends: at its own leaf
// (inclusion: here is its summary), at an empty subtree, or at another
// stream's leaf whose key shares the path (both: the stream has no events).
//
// Everything here is pure: the store keeps its nodes in RocksDB, `verify` and
// tests in memory (NodeStore).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/sha256.h"
#include "core/status.h"

namespace custodian::streammap {

struct Summary {
  uint64_t count = 0;
  uint64_t last_position = 0;
  Hash256 running{};
  bool operator==(const Summary&) const = default;
};

inline constexpr Hash256 kEmpty{};

Hash256 KeyOf(std::string_view stream);
// The running hash after one more event with leaf hash `leaf`.
Hash256 NextRunning(const Hash256& running, const Hash256& leaf);
// `s` after one more event at `position` with leaf hash `leaf`.
void Add(Summary& s, uint64_t position, const Hash256& leaf);
Hash256 LeafHash(const Hash256& key, const Summary& s);
Hash256 InnerHash(const Hash256& left, const Hash256& right);

// Nodes by hash. A node's value is its hash's preimage: 0x10 ‖ key ‖ summary
// (81 bytes) or 0x11 ‖ left ‖ right (65 bytes).
class NodeStore {
 public:
  virtual ~NodeStore() = default;
  virtual Result<std::optional<std::string>> Get(const Hash256& hash) = 0;
  virtual void Put(const Hash256& hash, std::string preimage) = 0;
};

// Nodes in memory (for `verify` and tests).
class MemoryNodes final : public NodeStore {
 public:
  Result<std::optional<std::string>> Get(const Hash256& hash) override;
  void Put(const Hash256& hash, std::string preimage) override;
  size_t size() const { return nodes_.size(); }

 private:
  std::map<Hash256, std::string> nodes_;
};

struct Change {
  Hash256 key;  // KeyOf(stream)
  Summary summary;
};

// The root after setting each change's leaf (streams are only added or grown,
// never removed). Writes the new nodes to `nodes`; the old ones stay, so
// every earlier root can still prove. `changes` need not be sorted; a key
// may appear once.
Result<Hash256> Update(NodeStore& nodes, const Hash256& root, std::vector<Change> changes);

struct Proof {
  enum class End { kStream, kEmpty, kOther };
  std::vector<Hash256> siblings;  // from the root's children down
  End end = End::kEmpty;
  Summary summary;                // kStream: the stream's; kOther: the other stream's
  Hash256 other_key{};            // kOther
};

// The proof for `stream` under `root`.
Result<Proof> Prove(NodeStore& nodes, const Hash256& root, std::string_view stream);

// The root `proof` gives for `stream`: equal to a signed root, it shows the
// stream's summary (kStream) or that the stream has no events (kEmpty,
// kOther). InvalidArgument when the proof is malformed (another leaf with the
// same key, or one that does not share the path; more than 256 steps).
Result<Hash256> RootFromProof(std::string_view stream, const Proof& proof);

// The signed map note's text:
//   custodian-stream-map/1
//   <origin>
//   <tree size>
//   <base64 log root>
//   <base64 map root>
// Read as a checkpoint it would fail: its first line is not the key's name
// and its second is not a number.
inline constexpr char kMapNoteHeader[] = "custodian-stream-map/1";
struct MapNote {
  std::string origin;
  uint64_t size = 0;
  Hash256 log_root{};
  Hash256 map_root{};
};
std::string MapNoteBody(const MapNote& n);
Result<MapNote> ParseMapNote(std::string_view body);

}  // namespace custodian::streammap
