#include "storage/id_index.h"

#include <rocksdb/db.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <mutex>

#include "storage/event_log_internal.h"
#include "storage/keys.h"
#include "storage/table_file.h"

namespace custodian {

namespace {
// Below this many entries, closing writes them with one synced WriteBatch
// rather than a table file.
constexpr size_t kIngestAtLeast = 1024;

// An id's 16 bytes as two big-endian words: sorting by them orders ids as
// the family's bytewise comparator does, without a memcmp per comparison.
struct IdOrder {
  uint64_t hi, lo;
  size_t index;
  bool operator<(const IdOrder& o) const { return hi != o.hi ? hi < o.hi : lo < o.lo; }
};

IdOrder OrderOf(const EventId& id, size_t index) {
  uint64_t hi, lo;
  std::memcpy(&hi, id.bytes().data(), 8);
  std::memcpy(&lo, id.bytes().data() + 8, 8);
  if constexpr (std::endian::native == std::endian::little) {
    hi = __builtin_bswap64(hi);
    lo = __builtin_bswap64(lo);
  }
  return {hi, lo, index};
}
}  // namespace

IdIndex::IdIndex(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* ids, rocksdb::ColumnFamilyHandle* meta, std::string dir,
                 size_t spill_at, bool read_only, ScanFn scan)
    : db_(db),
      ids_(ids),
      meta_(meta),
      dir_(std::move(dir)),
      spill_at_(std::max<size_t>(spill_at, 1)),
      read_only_(read_only),
      scan_(std::move(scan)) {}

IdIndex::~IdIndex() {
  {
    std::unique_lock lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (spiller_.joinable()) spiller_.join();
}

Result<uint64_t> IdIndex::ReadWatermark(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta,
                                        const rocksdb::ReadOptions& ro) {
  std::string value;
  rocksdb::Status s = db->Get(ro, meta, keys::kMetaIdsIndexedToKey, &value);
  if (s.IsNotFound()) return uint64_t{0};
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(s, "read the id index's watermark"));
  uint64_t to = 0;
  if (!keys::DecodeU64(value, &to)) {
    return Status::Corruption("meta[" + std::string(keys::kMetaIdsIndexedToKey) + "] is " +
                              std::to_string(value.size()) + " bytes, expected 8");
  }
  return to;
}

Status IdIndex::Load() {
  std::unique_lock lk(mu_);
  CUSTODIAN_RETURN_IF_ERROR(LoadLocked());
  if (read_only_) return Status::Ok();
  RemoveStrayTableFiles(dir_, "ids-");  // its ids are rebuilt
  if (!spiller_.joinable()) spiller_ = std::thread([this] { SpillLoop(); });
  return Status::Ok();
}

Status IdIndex::LoadLocked() {
  Result<uint64_t> from = ReadWatermark(db_, meta_, rocksdb::ReadOptions());
  if (!from.ok()) return from.status();
  recent_.clear();
  recent_to_ = *from;
  CUSTODIAN_RETURN_IF_ERROR(scan_(*from, [this](const EventId& id, const Entry& e) {
    recent_.insert_or_assign(id, e);
    recent_to_ = e.position.value() + 1;
  }).WithContext("rebuild the id index from the events"));
  loaded_ = true;
  return Status::Ok();
}

void IdIndex::Invalidate() {
  std::unique_lock lk(mu_);
  loaded_ = false;
  recent_.clear();
}

Status IdIndex::EnsureLoaded() {
  {
    std::shared_lock lk(mu_);
    if (loaded_) return Status::Ok();
  }
  std::unique_lock lk(mu_);
  return loaded_ ? Status::Ok() : LoadLocked();
}

Status IdIndex::Find(std::span<const EventId> ids, std::vector<std::optional<Entry>>* found,
                     uint64_t* generation) {
  CUSTODIAN_RETURN_IF_ERROR(EnsureLoaded());
  found->assign(ids.size(), std::nullopt);
  std::vector<size_t> misses;
  {
    // The background thread empties `spilling_` only once the family holds
    // its entries, so an id is always in one of the three places.
    std::shared_lock lk(mu_);
    if (generation != nullptr) *generation = generation_;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (auto it = recent_.find(ids[i]); it != recent_.end()) {
        (*found)[i] = it->second;
      } else if (auto sit = spilling_.find(ids[i]); sit != spilling_.end()) {
        (*found)[i] = sit->second;
      } else {
        misses.push_back(i);
      }
    }
  }
  if (misses.empty()) return Status::Ok();
  // One MultiGet for all: nearly every id is new, and RocksDB answers a
  // batch of misses (bloom filters) far faster than one at a time. The keys
  // go in sorted (an id is its key, docs/event-format.md), so that MultiGet
  // need not sort them through the comparator.
  std::vector<IdOrder> order;
  order.reserve(misses.size());
  for (size_t i : misses) order.push_back(OrderOf(ids[i], i));
  std::sort(order.begin(), order.end());
  std::vector<rocksdb::Slice> slices;
  slices.reserve(order.size());
  for (const IdOrder& o : order) slices.emplace_back(ids[o.index].AsBytes());
  std::vector<rocksdb::PinnableSlice> values(slices.size());
  std::vector<rocksdb::Status> statuses(slices.size());
  db_->MultiGet(rocksdb::ReadOptions(), ids_, slices.size(), slices.data(), values.data(), statuses.data(),
                /*sorted_input=*/true);
  for (size_t n = 0; n < order.size(); ++n) {
    if (statuses[n].IsNotFound()) continue;
    CUSTODIAN_RETURN_IF_ERROR(FromRocks(statuses[n], "look up event ids"));
    Entry e;
    if (!keys::ParseIdValue(values[n].ToStringView(), &e.position)) {
      return Status::Corruption("the ids family holds a " + std::to_string(values[n].size()) +
                                "-byte value, expected 8");
    }
    (*found)[order[n].index] = e;
  }
  return Status::Ok();
}

Status IdIndex::Refresh(std::span<const EventId> ids, uint64_t generation,
                        std::vector<std::optional<Entry>>* found) {
  {
    std::shared_lock lk(mu_);
    if (generation == generation_ && found->size() == ids.size()) {
      // Anything added since the Find is still in memory.
      for (size_t i = 0; i < ids.size(); ++i) {
        if ((*found)[i]) continue;
        if (auto it = recent_.find(ids[i]); it != recent_.end()) {
          (*found)[i] = it->second;
        } else if (auto sit = spilling_.find(ids[i]); sit != spilling_.end()) {
          (*found)[i] = sit->second;
        }
      }
      return Status::Ok();
    }
  }
  return Find(ids, found);
}

Result<std::optional<IdIndex::Entry>> IdIndex::Find(const EventId& id) {
  std::vector<std::optional<Entry>> found;
  CUSTODIAN_RETURN_IF_ERROR(Find(std::span<const EventId>(&id, 1), &found));
  return found.front();
}

Status IdIndex::Add(const std::vector<std::pair<EventId, Entry>>& ids, uint64_t end) {
  std::unique_lock lk(mu_);
  if (!failure_.ok()) return failure_;
  for (const auto& [id, e] : ids) recent_.insert_or_assign(id, e);
  recent_to_ = end;
  if (recent_.size() < spill_at_) return Status::Ok();
  if (!spilling_.empty()) {
    if (recent_.size() < 2 * spill_at_) return Status::Ok();  // let the spill finish
    cv_.wait(lk, [&] { return spilling_.empty() || !failure_.ok(); });  // bound the memory
    if (!failure_.ok()) return failure_;
  }
  spilling_ = std::move(recent_);
  spilling_to_ = end;
  recent_ = Map();
  recent_.reserve(spill_at_);
  lk.unlock();
  cv_.notify_all();
  return Status::Ok();
}

void IdIndex::SpillLoop() {
  std::unique_lock lk(mu_);
  while (true) {
    cv_.wait(lk, [&] { return stopping_ || !spilling_.empty(); });
    if (spilling_.empty()) return;  // stopping, nothing left to write
    const uint64_t to = spilling_to_;
    lk.unlock();
    // Unlocked: the writer leaves a non-empty `spilling_` alone, and lookups
    // only read it.
    Status s = Write(spilling_, to, /*ingest=*/true);
    lk.lock();
    if (!s.ok()) {
      failure_ = s.WithContext("write the id index");  // the entries stay in memory for lookups
      cv_.notify_all();
      return;
    }
    spilling_ = Map();
    ++generation_;
    cv_.notify_all();
  }
}

Status IdIndex::Close() {
  {
    std::unique_lock lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (spiller_.joinable()) spiller_.join();
  std::unique_lock lk(mu_);
  if (read_only_ || !loaded_) return Status::Ok();
  CUSTODIAN_RETURN_IF_ERROR(failure_);
  if (recent_.empty()) return Status::Ok();
  CUSTODIAN_RETURN_IF_ERROR(Write(recent_, recent_to_, recent_.size() >= kIngestAtLeast));
  recent_.clear();
  return Status::Ok();
}

Status IdIndex::Write(const Map& entries, uint64_t to, bool ingest) {
  rocksdb::WriteOptions synced;
  synced.sync = true;
  const std::string watermark = keys::EncodeU64(to);
  if (!ingest) {
    // Entries and watermark in one atomic batch.
    rocksdb::WriteBatch batch;
    for (const auto& [id, e] : entries) {
      (void)batch.Put(ids_, keys::IdKey(id), keys::IdValue(e.position));
    }
    (void)batch.Put(meta_, keys::kMetaIdsIndexedToKey, watermark);
    return FromRocks(db_->Write(synced, &batch), "write the id index");
  }
  // A table file needs its keys in order: sorting a vector is far cheaper
  // than the skiplist a memtable flush would build.
  std::vector<const std::pair<const EventId, Entry>*> slots;
  slots.reserve(entries.size());
  std::vector<IdOrder> sorted;
  sorted.reserve(entries.size());
  for (const auto& slot : entries) {
    sorted.push_back(OrderOf(slot.first, slots.size()));
    slots.push_back(&slot);
  }
  std::sort(sorted.begin(), sorted.end());
  CUSTODIAN_RETURN_IF_ERROR(IngestTableFile(
      db_, ids_, dir_ + "/ids-" + std::to_string(to) + ".sst", [&](rocksdb::SstFileWriter& writer) {
        rocksdb::Status put;
        for (size_t i = 0; put.ok() && i < sorted.size(); ++i) {
          const auto& [id, e] = *slots[sorted[i].index];
          put = writer.Put(id.AsBytes(), keys::IdValue(e.position));
        }
        return put;
      }));
  // Only now, with the entries durable, may the watermark pass them. A crash
  // in between only means the next open indexes them again.
  rocksdb::WriteBatch batch;
  (void)batch.Put(meta_, keys::kMetaIdsIndexedToKey, watermark);
  return FromRocks(db_->Write(synced, &batch), "move the id index's watermark");
}

}  // namespace custodian
