#include "cluster/key_share.h"

namespace custodian::cluster {
namespace {
constexpr char kKeyRecordPurpose[] = "custodian data key";
}  // namespace

SharedKeys::SharedKeys(JetStream& js, ClusterKey key, Opens opens)
    : js_(js), key_(std::move(key)), opens_(std::move(opens)) {}

std::string SharedKeys::Tagged(const std::string& subject, std::string_view record) const {
  // Bound to the stream and the subject: moved to another person, or to
  // another cluster's share, it no longer verifies.
  return key_.Seal(kKeyRecordPurpose, js_.options().stream + "\n" + subject, record);
}

std::optional<std::string> SharedKeys::RecordOf(const std::string& subject, std::string_view message) const {
  Result<std::string_view> opened = key_.Open(kKeyRecordPurpose, js_.options().stream + "\n" + subject, message);
  if (opened.ok()) return std::string(*opened);
  if (opens_(subject, message)) return std::string(message);  // shared by an earlier build, untagged
  return std::nullopt;
}

Result<SharedKeys::Found> SharedKeys::Find(const std::string& subject) {
  // The usual case: the last message is the key (one request). When it is
  // junk, the first key there, in order (junk put after the key, or alone).
  // Two keys on one subject arise only from two writers' puts at the same
  // instant (docs/scale-out.md: the servers' expected-sequence check); the
  // last is then taken while nothing follows it.
  Result<std::optional<StreamMessage>> last = js_.LastKeyMessage(subject);
  if (!last.ok()) return last.status();
  Found found;
  if (!*last) return found;
  found = Found{RecordOf(subject, (*last)->data), (*last)->sequence};
  if (found.record) return found;
  Status read = js_.VisitKeyMessages(subject, [&](const StreamMessage& m) {
    found.last = m.sequence;
    found.record = RecordOf(subject, m.data);
    return !found.record;
  });
  if (!read.ok()) return read;
  return found;
}

Status SharedKeys::Put(const std::vector<std::pair<std::string, std::string>>& subject_records) {
  for (const auto& [subject, record] : subject_records) {
    const std::string message = Tagged(subject, record);
    // The usual case first: nothing on the subject yet.
    Status put = js_.PublishKey(subject, message, 0);
    // A subject that holds messages already: the key there, if one is, stays
    // (first key wins: a writer whose term has just ended cannot put its key
    // over the one the next writer shared and sealed with); junk alone does
    // not count, and the key goes after it. Each try follows the last
    // message seen, so two writers never both pass.
    for (int tries = 0; put.code() == StatusCode::kConflict && tries < 8; ++tries) {
      Result<Found> there = Find(subject);
      if (!there.ok()) return there.status();
      if (there->record) {
        if (*there->record == record) {
          put = Status::Ok();  // this very key, shared before
          break;
        }
        return Status::Conflict("the cluster's key share holds another data key for a person of this round");
      }
      put = js_.PublishKey(subject, message, there->last);
    }
    if (put.code() == StatusCode::kConflict) {
      // Someone keeps publishing there as fast as this node reads.
      return Status::Unavailable("the cluster's key share kept changing under a person of this round; try again");
    }
    if (!put.ok()) return put;
  }
  return Status::Ok();
}

Result<std::optional<std::string>> SharedKeys::Get(const std::string& subject) {
  Result<Found> found = Find(subject);
  if (!found.ok()) return found.status();
  return std::move(found->record);
}

Status SharedKeys::Erase(const std::string& subject) { return js_.EraseKey(subject); }

}  // namespace custodian::cluster
