// The RocksDB settings of a Custodian store: one block cache and one memtable
// budget shared by every column family, and each family's own tuning.
//
// The benchmark's raw-RocksDB peer (tools/bench.cc) opens its store with the
// same settings, so that it measures what RocksDB itself can do as tuned
// here, not a less tuned RocksDB. Not part of the EventLog API.
#pragma once

#include <rocksdb/options.h>

#include <memory>
#include <string_view>

namespace custodian {

// Database-wide options, with a new write buffer manager: memtables of every
// family together stay under 192 MiB.
rocksdb::DBOptions StoreDbOptions();

// The block cache to hand to every family of one database: 128 MiB.
std::shared_ptr<rocksdb::Cache> NewStoreBlockCache();

// Options of the column family `family` (keys::kEventsFamily, ...). Every
// family keeps its index and filter blocks in `cache`; a name with no tuning
// of its own (the default family, meta) gets only that.
rocksdb::ColumnFamilyOptions StoreFamilyOptions(std::string_view family, const std::shared_ptr<rocksdb::Cache>& cache);

}  // namespace custodian
