// The key the nodes of a cluster authenticate each other with
// (docs/scale-out.md, "Who may write"). NATS decides who may publish on the
// cluster's subjects; this key decides what the nodes believe: every round
// the writer publishes, every append a follower forwards and the writer's
// reply, and every cosignature request and answer carry an HMAC-SHA-256 tag
// under it, bound to what the message is for (its purpose) and where it
// belongs (a round's stream and sequence, the request a reply answers).
// Whoever may publish there without the key can no longer append as anyone,
// forge or replay a round, or answer for the writer or a witness.
//
// The key file: a header line, then 32 bytes in base64, owner-only, the same
// file on every node (`custodian keys new-cluster --out FILE`).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/crypto.h"
#include "core/status.h"

namespace custodian::cluster {

inline constexpr size_t kClusterKeyBytes = 32;
inline constexpr size_t kClusterTagBytes = 32;

class ClusterKey {
 public:
  // Reads the key file: NotFound when there is none, FailedPrecondition when
  // others may read it or it is not a regular file, InvalidArgument when it
  // holds no cluster key. Messages never hold the key.
  static Result<ClusterKey> Load(const std::string& path);
  // Makes a new random key at `path` (owner-only), never over an existing
  // file (Conflict).
  static Status Create(const std::string& path);
  explicit ClusterKey(std::string key);

  // `bytes` followed by its tag for `purpose` and `context`.
  std::string Seal(std::string_view purpose, std::string_view context, std::string_view bytes) const;
  // The bytes of a message that Seal made under this key for the same purpose
  // and context; Corruption for anything else (no tag, another key, a
  // changed byte, another purpose or context).
  Result<std::string_view> Open(std::string_view purpose, std::string_view context, std::string_view message) const;

 private:
  std::string Tag(std::string_view purpose, std::string_view context, std::string_view bytes) const;
  std::shared_ptr<const crypto::HmacSha256Key> key_;
};

}  // namespace custodian::cluster
