// One group-commit round as the partition writer publishes it to the log of
// record (cluster/, DESIGN.md "Scale"; docs/scale-out.md), and as every node
// applies it: the writes the writer accepted, in order, with their events as
// stored records (personal parts sealed, never plaintext), the round's
// recorded_at and the positions it took. A node applies a round by running
// the same checks on the same input from the same state (EventLog::
// ApplyRound), so every node computes the same stream versions, rule state,
// tree and roots, byte for byte, and refuses a round that does not come out
// as the writer said.
//
// Format (all integers little-endian):
//   "CRND" u32 version=1
//   u64 epoch (the writer's fencing epoch; 0 without a lease)
//   u64 first_position  u64 end_position  i64 recorded_at (µs)
//   32 bytes: the Merkle root over the log's first end_position events
//   u32 writes
//   per write:   u32 requests
//   per request: u32 len, stream | u8 expected kind | u64 expected version | u32 events
//   per event:   u32 len, record (core/record.h)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/sha256.h"
#include "core/status.h"
#include "core/types.h"

namespace custodian {

struct AppendRequest;

struct ReplicatedRound {
  uint64_t epoch = 0;           // the writer's term (cluster/lease.h); a round of an older term than one applied is void
  uint64_t first_position = 0;  // the log's end before the round
  uint64_t end_position = 0;    // ... and after it
  Timestamp recorded_at;
  Hash256 root{};  // the tree's root after the round, as the writer computed it
  // Each accepted write's requests, events decoded from their records.
  std::vector<std::vector<AppendRequest>> writes;
};

// Appends one write's requests to an encoding being built (see EncodeRoundHeader).
// `records[i]` is the stored record of the i-th event of the requests, in order.
void EncodeRoundWrite(const std::vector<AppendRequest>& requests, const std::vector<std::string>& records,
                      std::string* out);
// The round's header, for `writes` writes; the writes follow it.
std::string EncodeRoundHeader(uint64_t epoch, uint64_t first_position, uint64_t end_position, Timestamp recorded_at,
                              const Hash256& root, uint32_t writes);

// Corruption, naming where, when the bytes are not a round.
Result<ReplicatedRound> DecodeRound(std::string_view bytes);

}  // namespace custodian
