#include "core/merkle.h"

#include <bit>
#include <cstring>

namespace custodian::merkle {
namespace {

constexpr size_t kHashSize = 32;

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : bytes) {
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 0xf]);
  }
  return s;
}

Hash256 FromBytes(std::string_view b) {
  Hash256 h;
  std::memcpy(h.data(), b.data(), kHashSize);
  return h;
}

// RFC 9162 2.1.3.2: the number of proof hashes below the border, and on it.
void Decompose(uint64_t index, uint64_t size, int* inner, int* border) {
  *inner = std::bit_width(index ^ (size - 1));
  *border = std::popcount(index >> *inner);
}

Hash256 ChainInner(Hash256 seed, const Proof& proof, size_t from, size_t count, uint64_t index) {
  for (size_t i = 0; i < count; ++i) {
    Hash256 h = FromBytes(proof[from + i]);
    seed = (index >> i) & 1 ? HashChildren(h, seed) : HashChildren(seed, h);
  }
  return seed;
}

Hash256 ChainInnerRight(Hash256 seed, const Proof& proof, size_t from, size_t count, uint64_t index) {
  for (size_t i = 0; i < count; ++i) {
    if ((index >> i) & 1) seed = HashChildren(FromBytes(proof[from + i]), seed);
  }
  return seed;
}

Hash256 ChainBorderRight(Hash256 seed, const Proof& proof, size_t from) {
  for (size_t i = from; i < proof.size(); ++i) seed = HashChildren(FromBytes(proof[i]), seed);
  return seed;
}

Status CheckHashSizes(const Proof& proof) {
  for (size_t i = 0; i < proof.size(); ++i) {
    if (proof[i].size() != kHashSize) {
      return Status::InvalidArgument("proof hash " + std::to_string(i) + " is " + std::to_string(proof[i].size()) +
                                     " bytes, not 32");
    }
  }
  return Status::Ok();
}

Status Match(const Hash256& computed, std::string_view expected, const char* what) {
  if (expected.size() == kHashSize && std::memcmp(computed.data(), expected.data(), kHashSize) == 0) {
    return Status::Ok();
  }
  return Status::InvalidArgument(std::string("the proof yields ") + what + " " + HexOf(computed) +
                                 " but the expected one is " + Hex(expected));
}

}  // namespace

Hash256 HashLeaf(std::string_view leaf_bytes) {
  std::string buf(1, '\0');
  buf.append(leaf_bytes);
  return Sha256(buf);
}

Hash256 HashChildren(const Hash256& left, const Hash256& right) {
  char buf[1 + 2 * kHashSize];
  buf[0] = 1;
  std::memcpy(buf + 1, left.data(), kHashSize);
  std::memcpy(buf + 1 + kHashSize, right.data(), kHashSize);
  return Sha256(std::string_view(buf, sizeof buf));
}

Hash256 EmptyRoot() { return Sha256(""); }

uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

std::string ToBytes(const Hash256& h) { return std::string(reinterpret_cast<const char*>(h.data()), h.size()); }

Result<Hash256> RootFromInclusionProof(uint64_t index, uint64_t size, std::string_view leaf_hash,
                                       const Proof& proof) {
  if (index >= size) {
    return Status::InvalidArgument("leaf index " + std::to_string(index) + " is not below the tree size " +
                                   std::to_string(size));
  }
  if (leaf_hash.size() != kHashSize) {
    return Status::InvalidArgument("the leaf hash is " + std::to_string(leaf_hash.size()) + " bytes, not 32");
  }
  int inner, border;
  Decompose(index, size, &inner, &border);
  if (proof.size() != static_cast<size_t>(inner + border)) {
    return Status::InvalidArgument("an inclusion proof for leaf " + std::to_string(index) + " of " +
                                   std::to_string(size) + " has " + std::to_string(inner + border) +
                                   " hashes, this one has " + std::to_string(proof.size()));
  }
  CUSTODIAN_RETURN_IF_ERROR(CheckHashSizes(proof));
  Hash256 h = ChainInner(FromBytes(leaf_hash), proof, 0, static_cast<size_t>(inner), index);
  return ChainBorderRight(h, proof, static_cast<size_t>(inner));
}

Status VerifyInclusion(uint64_t index, uint64_t size, std::string_view leaf_hash, const Proof& proof,
                       std::string_view root) {
  Result<Hash256> computed = RootFromInclusionProof(index, size, leaf_hash, proof);
  if (!computed.ok()) return computed.status();
  return Match(*computed, root, "root");
}

Status VerifyConsistency(uint64_t size1, uint64_t size2, const Proof& proof, std::string_view root1,
                         std::string_view root2) {
  if (size2 < size1) {
    return Status::InvalidArgument("the new size " + std::to_string(size2) + " is below the old size " +
                                   std::to_string(size1) + ": the log shrank");
  }
  if (size1 == 0) {
    return Status::InvalidArgument("a consistency proof from the empty tree proves nothing");
  }
  if (size1 == size2) {
    if (!proof.empty()) return Status::InvalidArgument("the sizes are equal, so the proof must be empty");
    if (root1 != root2) {
      return Status::InvalidArgument("the sizes are equal (" + std::to_string(size1) + ") but the roots differ: " +
                                     Hex(root1) + " and " + Hex(root2));
    }
    return Status::Ok();
  }
  if (proof.empty()) return Status::InvalidArgument("the consistency proof is empty");
  CUSTODIAN_RETURN_IF_ERROR(CheckHashSizes(proof));
  if (root1.size() != kHashSize) return Status::InvalidArgument("the old root is not 32 bytes");

  int inner, border;
  Decompose(size1 - 1, size2, &inner, &border);
  const int shift = std::countr_zero(size1);
  inner -= shift;  // shift < inner because size1 < size2

  // The proof starts with the root of the subtree of size 2^shift, unless
  // size1 is exactly that subtree, whose root is root1.
  Hash256 seed;
  size_t start;
  if (size1 == (uint64_t{1} << shift)) {
    seed = FromBytes(root1);
    start = 0;
  } else {
    seed = FromBytes(proof[0]);
    start = 1;
  }
  if (proof.size() != start + static_cast<size_t>(inner + border)) {
    return Status::InvalidArgument("a consistency proof from " + std::to_string(size1) + " to " +
                                   std::to_string(size2) + " has " +
                                   std::to_string(start + static_cast<size_t>(inner + border)) +
                                   " hashes, this one has " + std::to_string(proof.size()));
  }
  const uint64_t mask = (size1 - 1) >> shift;
  Hash256 hash1 = ChainInnerRight(seed, proof, start, static_cast<size_t>(inner), mask);
  hash1 = ChainBorderRight(hash1, proof, start + static_cast<size_t>(inner));
  CUSTODIAN_RETURN_IF_ERROR(Match(hash1, root1, "old root"));
  Hash256 hash2 = ChainInner(seed, proof, start, static_cast<size_t>(inner), mask);
  hash2 = ChainBorderRight(hash2, proof, start + static_cast<size_t>(inner));
  return Match(hash2, root2, "new root");
}

}  // namespace custodian::merkle
