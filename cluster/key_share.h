// The data keys' share of a cluster (EventLog::KeyShare; docs/scale-out.md,
// "Personal data on every node"): what the messages of the key share
// (JetStream::PublishKey, LastKeyMessage, VisitKeyMessages) mean.
//
// Whoever may publish on the cluster's subjects could put anything there.
// A node therefore believes only a key record tagged under the cluster key
// for its subject (ClusterKey: a record moved to another subject, or made
// without the key, does not verify), or an untagged record that opens with
// this node's master key (a share an earlier build wrote). Anything else is
// junk and is passed over: junk put first on a person's subject no longer
// keeps the writer from sharing that person's key, and junk put after the key
// no longer hides it from the nodes that fetch it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster/cluster_key.h"
#include "cluster/jetstream.h"
#include "core/status.h"

namespace custodian::cluster {

class SharedKeys {
 public:
  // Whether `record` is a key record of `subject` that this node's master
  // key opens (EventLog::OpensKeyRecord).
  using Opens = std::function<bool(const std::string& subject, std::string_view record)>;
  SharedKeys(JetStream& js, ClusterKey key, Opens opens);

  // Shares each subject's record, tagged. The share keeps a person's first
  // key: the same record again is taken as shared, another one is Conflict
  // (said without the subject).
  Status Put(const std::vector<std::pair<std::string, std::string>>& subject_records);
  // The subject's key record (untagged); nullopt when the share holds none.
  Result<std::optional<std::string>> Get(const std::string& subject);
  // Erases every message on the subject (the servers overwrite them).
  Status Erase(const std::string& subject);

  // The message Put publishes for `record` of `subject`.
  std::string Tagged(const std::string& subject, std::string_view record) const;

 private:
  struct Found {
    std::optional<std::string> record;  // the subject's key record, if any
    uint64_t last = 0;                  // the sequence of the last message there (0: none)
  };
  // The first key record on the subject, passing over junk.
  Result<Found> Find(const std::string& subject);
  // The record `message` holds for `subject`, or nullopt when it is junk.
  std::optional<std::string> RecordOf(const std::string& subject, std::string_view message) const;

  JetStream& js_;
  const ClusterKey key_;
  Opens opens_;
};

}  // namespace custodian::cluster
