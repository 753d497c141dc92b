// EventLog: the state of projections, kept beside the log (event_log.h).
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "storage/event_log.h"
#include "storage/event_log_internal.h"
#include "storage/keys.h"

namespace custodian {

Result<std::optional<std::string>> EventLog::ProjectionGet(std::string_view projection, std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), projections_cf_, keys::ProjectionKey(projection, key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(s, "read projection " + std::string(projection)));
  return std::optional<std::string>(std::move(value));
}

Status EventLog::ProjectionScan(std::string_view projection, std::string_view prefix,
                                const std::function<bool(std::string_view, std::string_view)>& visit) const {
  const std::string start = keys::ProjectionKey(projection, prefix);
  const size_t name_bytes = projection.size() + 1;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), projections_cf_));
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    if (!visit(it->key().ToStringView().substr(name_bytes), it->value().ToStringView())) break;
  }
  return FromRocks(it->status(), "scan projection " + std::string(projection));
}

Result<Position> EventLog::ProjectionCheckpoint(std::string_view projection) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, keys::ProjectionCheckpointKey(projection), &value);
  if (s.IsNotFound()) return Position(0);
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(s, "read the checkpoint of projection " + std::string(projection)));
  uint64_t p = 0;
  if (!keys::DecodeU64(value, &p)) {
    return Status::Corruption("the checkpoint of projection " + std::string(projection) + " is not 8 bytes");
  }
  return Position(p);
}

Status EventLog::ProjectionCommit(std::string_view projection, const ProjectionChanges& changes, Position checkpoint) {
  if (read_only()) return Status::FailedPrecondition("the store is open read-only; projections cannot advance");
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : changes) {
    const std::string k = keys::ProjectionKey(projection, key);
    (void)(value ? batch.Put(projections_cf_, k, *value) : batch.Delete(projections_cf_, k));
  }
  (void)batch.Put(meta_cf_, keys::ProjectionCheckpointKey(projection), keys::EncodeU64(checkpoint.value()));
  return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "commit projection " + std::string(projection));
}

Status EventLog::ProjectionDrop(std::string_view projection) {
  if (read_only()) return Status::FailedPrecondition("the store is open read-only; projections cannot be rebuilt");
  const std::string begin = keys::ProjectionKey(projection, "");
  std::string end(projection);
  end.push_back('\x01');  // just past every key of the projection
  rocksdb::WriteBatch batch;
  (void)batch.DeleteRange(projections_cf_, begin, end);
  (void)batch.Delete(meta_cf_, keys::ProjectionCheckpointKey(projection));
  return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "drop projection " + std::string(projection));
}

}  // namespace custodian
