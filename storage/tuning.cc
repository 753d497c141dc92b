#include "storage/tuning.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include <cstdlib>
#include <cstring>

#include "storage/keys.h"

namespace custodian {

namespace {

// Memory is bounded by these two: the block cache (data, index and filter
// blocks) and the memtables of all families together.
constexpr size_t kBlockCacheBytes = 128 << 20;
constexpr size_t kMemtableBytes = 192 << 20;
constexpr size_t kKeysFamilyMemtableBytes = 1 << 20;
// Four shards of 32 MiB. By default RocksDB cuts 128 MiB into 64 shards of
// 2 MiB, and the `ids` family's filter blocks (about 1.2 MiB for each 64 MiB
// table file) then push each other out: past 4M events, a third of an
// import's lookups went to reading filters from disk (docs/performance.md).
constexpr int kBlockCacheShardBits = 2;
constexpr uint64_t kMaxWalBytes = 256 << 20;

// The stream-index prefix of a key: the stream name and its 0x00. Used only
// for memtable insert hints: a stream's keys arrive in version order, so each
// insert starts where that stream's previous one ended.
class StreamKeyPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "custodian.StreamKeyPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const void* zero = std::memchr(key.data(), 0, key.size());
    return rocksdb::Slice(key.data(), static_cast<const char*>(zero) - key.data() + 1);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return std::memchr(key.data(), 0, key.size()) != nullptr; }
};

// One prefix for every key: in a family whose keys only ever grow (events by
// position, Merkle nodes by last leaf), each memtable insert then starts
// where the previous one ended instead of at the skiplist's head.
class WholeFamilyPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "custodian.WholeFamilyPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override { return rocksdb::Slice(key.data(), 0); }
  bool InDomain(const rocksdb::Slice&) const override { return true; }
};

}  // namespace

rocksdb::DBOptions StoreDbOptions() {
  rocksdb::DBOptions db;
  db.max_background_jobs = 2;
  // One writer thread writes every batch, so RocksDB's parallel memtable
  // inserts never apply; turning them off permits memtable insert hints.
  db.allow_concurrent_memtable_write = false;
  db.keep_log_file_num = 3;
  // The meta family's memtable seldom fills, so without a bound every WAL
  // file after its first write is kept (gigabytes in a large import, all
  // replayed on the next open); past this size, RocksDB flushes what holds
  // the oldest one.
  db.max_total_wal_size = kMaxWalBytes;
  db.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(kMemtableBytes);
  db.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  if (const char* log = std::getenv("CUSTODIAN_ROCKSDB_LOG"); log != nullptr && std::string_view(log) == "info") {
    // For performance work: RocksDB's own log, with compaction statistics of
    // every family every 15 s, in the store's LOG file (storage/README.md).
    db.info_log_level = rocksdb::InfoLogLevel::INFO_LEVEL;
    db.stats_dump_period_sec = 15;
  }
  return db;
}

namespace {
// Filters and indexes in partitions of 4 KiB, behind a small top level pinned
// in the cache, for the two families keyed in random order. The `ids` family
// holds 2 bytes of filter per event and `streams` about 1.25: past ~30M
// events they outgrow the block cache, and with one filter block per table
// file (megabytes each) every lookup that missed the cache read a whole one
// again; import fell from ~95,000 to ~13,000 events a second between 30M and
// 37M. A partition is one small block read, and 100M events imported at a
// steady ~68,000 a second. The price: at 10M events, where every filter fits
// in the cache, import is ~25% slower (~114,000/s against ~144,000-155,000/s
// with whole filters), docs/performance.md, "One node's limits".
void PartitionFilters(rocksdb::BlockBasedTableOptions& table) {
  table.index_type = rocksdb::BlockBasedTableOptions::IndexType::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 4096;
  table.pin_top_level_index_and_filter = true;
}
}  // namespace

std::shared_ptr<rocksdb::Cache> NewStoreBlockCache() { return rocksdb::NewLRUCache(kBlockCacheBytes, kBlockCacheShardBits); }

rocksdb::ColumnFamilyOptions StoreFamilyOptions(std::string_view name, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Index and filter blocks live in the (bounded) block cache rather than
  // beside it, so memory does not grow with the store; L0's stay pinned.
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  if (name == keys::kIdsFamily) {
    // Nearly every id lookup is for a new id: a bloom filter answers it, and
    // each false positive costs a block read. 16 bits per id (false positives
    // ~0.05% rather than ~1%) made imports ~5% faster than 10 bits.
    // The family is written behind the log, mostly as ingested table files
    // (storage/id_index.h), so its memtable stays nearly empty.
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(16));
    cf.compression = rocksdb::kNoCompression;  // ids and hashes do not compress
    // Each spill's random ids overlap the whole of L1, so every L0->L1
    // compaction rewrites L1: letting 16 spills gather first cut the family's
    // compaction CPU at 10M events from ~10.7 s to ~5.4 s (write
    // amplification 2.4 -> 1.1). A lookup checks each L0 file's filter,
    // which stays pinned in the cache.
    cf.level0_file_num_compaction_trigger = 16;
    cf.level0_slowdown_writes_trigger = 40;
    cf.level0_stop_writes_trigger = 64;
    PartitionFilters(table);
  } else if (name == keys::kStreamsFamily) {
    // Stream-index keys arrive in random order, so every table file flushed
    // overlaps the whole of L1, and each compaction rewrites it: with 4 MiB
    // memtables that was 28 bytes written per byte at 10M events. The insert
    // hints below keep a large memtable's inserts cheap (docs/performance.md).
    cf.write_buffer_size = 32 << 20;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    PartitionFilters(table);
    cf.memtable_insert_with_hint_prefix_extractor = std::make_shared<StreamKeyPrefix>();
  } else if (name == keys::kEventsFamily) {
    cf.compression = rocksdb::kNoCompression;
    cf.memtable_insert_with_hint_prefix_extractor = std::make_shared<WholeFamilyPrefix>();
  } else if (name == keys::kProjectionsFamily) {
    // Projections look up a key per event or more (a customer's state, a
    // rep's open requests), many of them absent (a new customer, a request
    // with no answer yet): filters answer those, in the table files and in
    // the memtable, without searching either.
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    cf.memtable_prefix_bloom_size_ratio = 0.02;
    cf.memtable_whole_key_filtering = true;
  } else if (name == keys::kKeysFamily) {
    // Blind-index entries are keyed by random tokens, so each memtable insert
    // searches the skiplist from its head; in a 64 MiB memtable (~430,000
    // entries after a million-event import with a third sealed) that walk
    // misses the CPU caches at every step. Small memtables keep it in cache;
    // the flushes are small and the family is small.
    cf.write_buffer_size = kKeysFamilyMemtableBytes;
    // Its keys (random tokens) and values (wrapped keys) do not compress.
    // And the small flushes overlap the whole of L1, so each L0->L1
    // compaction rewrote L1: six of them in a million-event import, 0.55 s of
    // CPU growing with the family. Letting 16 gather first makes that one.
    cf.compression = rocksdb::kNoCompression;
    cf.level0_file_num_compaction_trigger = 16;
    cf.level0_slowdown_writes_trigger = 40;
    cf.level0_stop_writes_trigger = 64;
    // A new subject's key is looked up before it is made: filters answer.
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    cf.memtable_prefix_bloom_size_ratio = 0.02;
    cf.memtable_whole_key_filtering = true;
  } else if (name == keys::kMetaFamily) {
    // The log's rules look up state that is mostly absent (a new customer's
    // deal, a subject never erased): filters answer those without a search.
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    cf.memtable_prefix_bloom_size_ratio = 0.02;
    cf.memtable_whole_key_filtering = true;
  } else if (name == keys::kMerkleFamily) {
    cf.compression = rocksdb::kNoCompression;  // hashes do not compress
    cf.memtable_insert_with_hint_prefix_extractor = std::make_shared<WholeFamilyPrefix>();
  }
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

}  // namespace custodian
