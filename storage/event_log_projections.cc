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

namespace {

struct StoredCheckpoint {
  uint64_t position = 0;
  uint32_t state_version = 1;
};

Result<StoredCheckpoint> ReadCheckpoint(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta, std::string_view projection) {
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), meta, keys::ProjectionCheckpointKey(projection), &value);
  if (s.IsNotFound()) return StoredCheckpoint{};
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(s, "read the checkpoint of projection " + std::string(projection)));
  StoredCheckpoint c;
  if (!keys::ParseProjectionCheckpointValue(value, &c.position, &c.state_version)) {
    return Status::Corruption("the checkpoint of projection " + std::string(projection) + " is " +
                              std::to_string(value.size()) +
                              " bytes, not a position (8 bytes) or a position and a state version (12 bytes)");
  }
  return c;
}

}  // namespace

Result<Position> EventLog::ProjectionCheckpoint(std::string_view projection) const {
  Result<StoredCheckpoint> c = ReadCheckpoint(db_.get(), meta_cf_, projection);
  if (!c.ok()) return c.status();
  return Position(c->position);
}

Result<uint32_t> EventLog::ProjectionStateVersion(std::string_view projection) const {
  Result<StoredCheckpoint> c = ReadCheckpoint(db_.get(), meta_cf_, projection);
  if (!c.ok()) return c.status();
  return c->state_version;
}

Status EventLog::ProjectionCommit(std::string_view projection, const ProjectionChanges& changes, Position checkpoint,
                                  uint32_t state_version) {
  if (read_only()) return Status::FailedPrecondition("the store is open read-only; projections cannot advance");
  if (state_version == 0) return Status::InvalidArgument("projection state versions start at 1");
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : changes) {
    const std::string k = keys::ProjectionKey(projection, key);
    (void)(value ? batch.Put(projections_cf_, k, *value) : batch.Delete(projections_cf_, k));
  }
  (void)batch.Put(meta_cf_, keys::ProjectionCheckpointKey(projection),
                  keys::ProjectionCheckpointValue(checkpoint.value(), state_version));
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
