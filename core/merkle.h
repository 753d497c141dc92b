// RFC 6962 / RFC 9162 Merkle tree hashing and proof verification. Pure.
//
// Leaves and nodes: leaf = SHA-256(0x00 ‖ leaf bytes), node = SHA-256(0x01 ‖
// left ‖ right); the tree of n > 1 leaves splits at the largest power of two
// below n; the empty tree's root is SHA-256 of nothing. Verification follows
// RFC 9162 section 2.1.3 and agrees with transparency-dev/merkle on every
// vector of ../shared/testdata/merkle (tests/core/merkle_test.cc).
//
// Proof generation needs the stored tree and lives in storage/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/sha256.h"
#include "core/status.h"

namespace custodian::merkle {

Hash256 HashLeaf(std::string_view leaf_bytes);
Hash256 HashChildren(const Hash256& left, const Hash256& right);
Hash256 EmptyRoot();

// The largest power of two strictly below n. Precondition: n >= 2.
uint64_t SplitPoint(uint64_t n);

// Hashes are byte strings here so that a malformed proof (a hash of the
// wrong length) is an error to report, not a crash.
using Proof = std::vector<std::string>;

std::string ToBytes(const Hash256& h);

// Ok when `proof` shows that the leaf with hash `leaf_hash` is at `index` in
// the tree of `size` leaves whose root is `root`. Otherwise InvalidArgument
// with the reason (wrong proof length, index out of range, root mismatch
// naming the computed and expected roots).
Status VerifyInclusion(uint64_t index, uint64_t size, std::string_view leaf_hash, const Proof& proof,
                       std::string_view root);

// The root that `proof` implies for the leaf at `index` of a tree of `size`.
Result<Hash256> RootFromInclusionProof(uint64_t index, uint64_t size, std::string_view leaf_hash,
                                       const Proof& proof);

// Ok when `proof` shows that the tree of `size1` leaves with root `root1` is
// a prefix of the tree of `size2` leaves with root `root2`. A proof from the
// empty tree proves nothing and is refused.
Status VerifyConsistency(uint64_t size1, uint64_t size2, const Proof& proof, std::string_view root1,
                         std::string_view root2);

}  // namespace custodian::merkle
