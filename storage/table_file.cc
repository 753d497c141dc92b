#include "storage/table_file.h"

#include <rocksdb/db.h>
#include <rocksdb/sst_file_writer.h>

#include <filesystem>

#include "storage/event_log_internal.h"

namespace custodian {

Status IngestTableFile(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, const std::string& path,
                       const std::function<rocksdb::Status(rocksdb::SstFileWriter&)>& fill) {
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(db->SyncWAL(), "sync the write-ahead log before writing " + path));
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), db->GetOptions(family), family);
  rocksdb::Status s = writer.Open(path);
  if (s.ok()) s = fill(writer);
  if (s.ok()) s = writer.Finish();
  if (s.ok()) {
    rocksdb::IngestExternalFileOptions ingest;
    ingest.move_files = true;
    ingest.write_global_seqno = false;
    s = db->IngestExternalFile(family, {path}, ingest);
  }
  std::error_code ec;
  std::filesystem::remove(path, ec);  // RocksDB linked it into the store, or failed
  return FromRocks(s, "write and ingest " + path);
}

void RemoveStrayTableFiles(const std::string& dir, std::string_view prefix) {
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = f.path().filename().string();
    if (name.starts_with(prefix) && name.ends_with(".sst")) std::filesystem::remove(f.path(), ec);
  }
}

}  // namespace custodian
