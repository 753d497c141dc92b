// Indexes written behind the log (storage/id_index.h, the blind index in
// storage/key_vault.h) reach their family as one sorted table file that
// RocksDB takes in whole, rather than through memtables: their keys are
// random, and a memtable of random keys costs a skiplist search per insert
// and a sort at every flush.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class SstFileWriter;
class Status;
}  // namespace rocksdb

namespace custodian {

// Syncs the write-ahead log (the entries name events the log's syncer may
// not have synced yet: a table file of them must not outlive them), writes
// the table file `path` (`fill` puts the keys, in order) and has RocksDB
// move it into `family`. The file is gone afterwards, taken in or not.
Status IngestTableFile(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, const std::string& path,
                       const std::function<rocksdb::Status(rocksdb::SstFileWriter&)>& fill);

// Deletes the table files named `prefix`...".sst" in `dir`: a crash left
// them before RocksDB took them in (their entries are rebuilt from the events).
void RemoveStrayTableFiles(const std::string& dir, std::string_view prefix);

}  // namespace custodian
