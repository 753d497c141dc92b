// The log's Merkle tree as stored in the `merkle` column family: every
// complete subtree hash, one segment per group commit (docs/event-format.md).
// Node (level l, index i) covers leaves [i·2^l, (i+1)·2^l). With every such
// node stored, the root of any size and any inclusion or consistency proof
// take O(log n) node reads. Hashing and verification are in core/merkle.h.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "core/merkle.h"
#include "core/sha256.h"
#include "core/status.h"

namespace custodian {

// Reads the stored hash of a complete subtree. NotFound when absent.
using NodeReader = std::function<Result<Hash256>(uint8_t level, uint64_t index)>;

// The right edge of the tree: the roots of its perfect subtrees, largest
// first (one per set bit of the size). Enough to append leaves and to give
// the current root without reading anything.
class MerkleFrontier {
 public:
  MerkleFrontier() = default;

  // The frontier of the tree of `size` leaves, read from stored nodes.
  static Result<MerkleFrontier> Load(uint64_t size, const NodeReader& read);

  // Adds a leaf; calls `emit` for every subtree it completes, the leaf first.
  void Append(const Hash256& leaf_hash, const std::function<void(uint8_t, uint64_t, const Hash256&)>& emit);

  Hash256 Root() const;
  uint64_t size() const { return size_; }

 private:
  uint64_t size_ = 0;
  std::vector<std::pair<uint8_t, Hash256>> nodes_;  // (level, hash), levels decreasing
};

// Proofs and old roots from stored nodes. Memoizes node reads for its lifetime.
class MerkleProver {
 public:
  explicit MerkleProver(NodeReader read) : read_(std::move(read)) {}

  // Root of the first `size` leaves. The empty tree's root for size 0.
  Result<Hash256> RootAt(uint64_t size);

  // RFC 9162 2.1.3.1 inclusion proof of leaf `index` in the tree of `size`.
  Result<std::vector<Hash256>> InclusionProof(uint64_t index, uint64_t size);

  // RFC 9162 2.1.4.1 consistency proof from `size1` to `size2` (0 < size1 <= size2).
  Result<std::vector<Hash256>> ConsistencyProof(uint64_t size1, uint64_t size2);

 private:
  // Hash of leaves [begin, end), where begin is a multiple of the largest
  // power of two not above end - begin (true of every range proofs use).
  Result<Hash256> RangeHash(uint64_t begin, uint64_t end);
  Result<Hash256> Node(uint8_t level, uint64_t index);
  Status Path(uint64_t index, uint64_t begin, uint64_t end, std::vector<Hash256>* out);
  Status SubProof(uint64_t m, uint64_t begin, uint64_t end, bool whole, std::vector<Hash256>* out);

  NodeReader read_;
  std::map<std::pair<uint8_t, uint64_t>, Hash256> cache_;
};

}  // namespace custodian
