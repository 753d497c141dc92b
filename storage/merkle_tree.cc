#include "storage/merkle_tree.h"

#include <bit>

namespace custodian {

Result<MerkleFrontier> MerkleFrontier::Load(uint64_t size, const NodeReader& read) {
  MerkleFrontier f;
  f.size_ = size;
  uint64_t begin = 0;
  for (int level = 63; level >= 0; --level) {
    const uint64_t width = uint64_t{1} << level;
    if ((size & width) == 0) continue;
    Result<Hash256> h = read(static_cast<uint8_t>(level), begin >> level);
    if (!h.ok()) {
      return h.status().WithContext("the tree of " + std::to_string(size) + " leaves lacks its node (level " +
                                    std::to_string(level) + ", index " + std::to_string(begin >> level) + ")");
    }
    f.nodes_.emplace_back(static_cast<uint8_t>(level), *h);
    begin += width;
  }
  return f;
}

void MerkleFrontier::Append(const Hash256& leaf_hash,
                            const std::function<void(uint8_t, uint64_t, const Hash256&)>& emit) {
  const uint64_t n = size_++;
  emit(0, n, leaf_hash);
  nodes_.emplace_back(0, leaf_hash);
  while (nodes_.size() >= 2 && nodes_[nodes_.size() - 2].first == nodes_.back().first) {
    const uint8_t level = static_cast<uint8_t>(nodes_.back().first + 1);
    Hash256 merged = merkle::HashChildren(nodes_[nodes_.size() - 2].second, nodes_.back().second);
    nodes_.pop_back();
    nodes_.back() = {level, merged};
    emit(level, n >> level, merged);
  }
}

Hash256 MerkleFrontier::Root() const {
  if (nodes_.empty()) return merkle::EmptyRoot();
  Hash256 h = nodes_.back().second;
  for (size_t i = nodes_.size() - 1; i-- > 0;) h = merkle::HashChildren(nodes_[i].second, h);
  return h;
}

Result<Hash256> MerkleProver::Node(uint8_t level, uint64_t index) {
  auto key = std::make_pair(level, index);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  Result<Hash256> h = read_(level, index);
  if (h.ok()) cache_.emplace(key, *h);
  return h;
}

Result<Hash256> MerkleProver::RangeHash(uint64_t begin, uint64_t end) {
  const uint64_t width = end - begin;
  if (std::has_single_bit(width)) {
    const int level = std::countr_zero(width);
    return Node(static_cast<uint8_t>(level), begin >> level);
  }
  const uint64_t k = merkle::SplitPoint(width);
  Result<Hash256> left = RangeHash(begin, begin + k);
  if (!left.ok()) return left;
  Result<Hash256> right = RangeHash(begin + k, end);
  if (!right.ok()) return right;
  return merkle::HashChildren(*left, *right);
}

Result<Hash256> MerkleProver::RootAt(uint64_t size) {
  if (size == 0) return merkle::EmptyRoot();
  return RangeHash(0, size);
}

Status MerkleProver::Path(uint64_t index, uint64_t begin, uint64_t end, std::vector<Hash256>* out) {
  if (end - begin == 1) return Status::Ok();
  const uint64_t k = merkle::SplitPoint(end - begin);
  Result<Hash256> sibling = Hash256{};
  if (index < k) {
    CUSTODIAN_RETURN_IF_ERROR(Path(index, begin, begin + k, out));
    sibling = RangeHash(begin + k, end);
  } else {
    CUSTODIAN_RETURN_IF_ERROR(Path(index - k, begin + k, end, out));
    sibling = RangeHash(begin, begin + k);
  }
  if (!sibling.ok()) return sibling.status();
  out->push_back(*sibling);
  return Status::Ok();
}

Result<std::vector<Hash256>> MerkleProver::InclusionProof(uint64_t index, uint64_t size) {
  if (index >= size) {
    return Status::InvalidArgument("position " + std::to_string(index) + " is not in a tree of " +
                                   std::to_string(size) + " events");
  }
  std::vector<Hash256> proof;
  CUSTODIAN_RETURN_IF_ERROR(Path(index, 0, size, &proof));
  return proof;
}

Status MerkleProver::SubProof(uint64_t m, uint64_t begin, uint64_t end, bool whole, std::vector<Hash256>* out) {
  if (m == end - begin) {
    if (whole) return Status::Ok();
    Result<Hash256> h = RangeHash(begin, end);
    if (!h.ok()) return h.status();
    out->push_back(*h);
    return Status::Ok();
  }
  const uint64_t k = merkle::SplitPoint(end - begin);
  Result<Hash256> other = Hash256{};
  if (m <= k) {
    CUSTODIAN_RETURN_IF_ERROR(SubProof(m, begin, begin + k, whole, out));
    other = RangeHash(begin + k, end);
  } else {
    CUSTODIAN_RETURN_IF_ERROR(SubProof(m - k, begin + k, end, false, out));
    other = RangeHash(begin, begin + k);
  }
  if (!other.ok()) return other.status();
  out->push_back(*other);
  return Status::Ok();
}

Result<std::vector<Hash256>> MerkleProver::ConsistencyProof(uint64_t size1, uint64_t size2) {
  if (size1 == 0 || size1 > size2) {
    return Status::InvalidArgument("a consistency proof needs 0 < from <= to; got from " + std::to_string(size1) +
                                   " to " + std::to_string(size2));
  }
  std::vector<Hash256> proof;
  CUSTODIAN_RETURN_IF_ERROR(SubProof(size1, 0, size2, true, &proof));
  return proof;
}

}  // namespace custodian
