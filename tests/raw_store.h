// A store opened with raw RocksDB, for tampering behind the log's back the
// way someone with access to the files could (tests only).
#pragma once

#include <rocksdb/db.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/sha256.h"
#include "storage/keys.h"
#include "storage/merkle_tree.h"

namespace custodian::testing {

class RawStore {
 public:
  explicit RawStore(const std::string& dir) {
    std::vector<std::string> names;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names);
    INFO(s.ToString());
    REQUIRE(s.ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    s = rocksdb::DB::Open(rocksdb::DBOptions(), dir, families, &handles, &raw);
    INFO(s.ToString());
    REQUIRE(s.ok());
    db_.reset(raw);
    for (size_t i = 0; i < names.size(); ++i) families_[names[i]] = handles[i];
  }
  ~RawStore() {
    for (auto& [name, h] : families_) (void)db_->DestroyColumnFamilyHandle(h);
    (void)db_->Close();
  }
  RawStore(const RawStore&) = delete;
  RawStore& operator=(const RawStore&) = delete;

  rocksdb::ColumnFamilyHandle* Family(const char* name) {
    INFO(name);
    REQUIRE(families_.count(name) == 1);
    return families_.at(name);
  }
  std::string Get(const char* family, const std::string& key) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Family(family), key, &value);
    INFO(std::string(family) + ": " + s.ToString());
    REQUIRE(s.ok());
    return value;
  }
  void Put(const char* family, const std::string& key, const std::string& value) {
    rocksdb::Status s = db_->Put(Sync(), Family(family), key, value);
    INFO(s.ToString());
    REQUIRE(s.ok());
  }
  void Delete(const char* family, const std::string& key) {
    std::string value;
    REQUIRE(db_->Get(rocksdb::ReadOptions(), Family(family), key, &value).ok());  // it was there
    rocksdb::Status s = db_->Delete(Sync(), Family(family), key);
    INFO(s.ToString());
    REQUIRE(s.ok());
  }
  // Every key of a family, in order.
  std::vector<std::string> Keys(const char* family) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), Family(family)));
    std::vector<std::string> out;
    for (it->SeekToFirst(); it->Valid(); it->Next()) out.push_back(it->key().ToString());
    REQUIRE(it->status().ok());
    return out;
  }

  // --- The stored Merkle tree, node by node (docs/event-format.md, "merkle") ---

  struct Segment {
    std::string key;
    uint64_t from = 0, to = 0;
    std::string hashes;
  };
  std::vector<Segment> Segments() {
    std::vector<Segment> out;
    for (const std::string& key : Keys(keys::kMerkleFamily)) {
      Segment s;
      s.key = key;
      REQUIRE(keys::ParseMerkleSegmentKey(key, &s.to));
      const std::string value = Get(keys::kMerkleFamily, key);
      std::string_view hashes;
      REQUIRE(keys::ParseMerkleSegmentValue(value, s.to, &s.from, &hashes));
      s.hashes = std::string(hashes);
      out.push_back(std::move(s));
    }
    return out;
  }
  Segment SegmentOf(uint8_t level, uint64_t index) {
    const uint64_t leaf = keys::MerkleLastLeaf(level, index);
    for (Segment& s : Segments()) {
      if (s.from <= leaf && leaf < s.to) return s;
    }
    FAIL("no stored segment holds leaf " << leaf);
    return {};
  }
  Hash256 Node(uint8_t level, uint64_t index) {
    const Segment s = SegmentOf(level, index);
    Hash256 h;
    std::memcpy(h.data(), s.hashes.data() + 32 * keys::MerkleSlot(level, index, s.from), 32);
    return h;
  }
  void PutNode(uint8_t level, uint64_t index, const Hash256& h) {
    Segment s = SegmentOf(level, index);
    std::memcpy(s.hashes.data() + 32 * keys::MerkleSlot(level, index, s.from), h.data(), 32);
    Put(keys::kMerkleFamily, s.key, keys::MerkleSegmentValue(s.from, s.hashes));
  }
  // Every node that covers a leaf from `size` on removed, as a rollback to
  // `size` leaves would leave the tree. Returns how many nodes went.
  size_t TruncateTree(uint64_t size) {
    size_t removed = 0;
    for (const Segment& s : Segments()) {
      if (s.to <= size) continue;
      Delete(keys::kMerkleFamily, s.key);
      // Keep what the leaves before `size` completed.
      const uint64_t keep =
          s.from < size ? keys::MerkleNodesBefore(size) - keys::MerkleNodesBefore(s.from) : 0;
      if (keep > 0) {
        Put(keys::kMerkleFamily, keys::MerkleSegmentKey(size),
            keys::MerkleSegmentValue(s.from, s.hashes.substr(0, 32 * keep)));
      }
      removed += s.hashes.size() / 32 - keep;
    }
    return removed;
  }
  // The whole stored tree replaced by the tree of `leaves`, as one segment.
  void RewriteTree(const std::vector<Hash256>& leaves) {
    for (const std::string& key : Keys(keys::kMerkleFamily)) Delete(keys::kMerkleFamily, key);
    MerkleFrontier frontier;
    std::string hashes;
    for (const Hash256& leaf : leaves) {
      frontier.Append(leaf, [&](uint8_t, uint64_t, const Hash256& h) {
        hashes.append(reinterpret_cast<const char*>(h.data()), h.size());
      });
    }
    Put(keys::kMerkleFamily, keys::MerkleSegmentKey(leaves.size()), keys::MerkleSegmentValue(0, hashes));
  }

 private:
  static rocksdb::WriteOptions Sync() {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    return wo;
  }
  std::unique_ptr<rocksdb::DB> db_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> families_;
};

// The table files RocksDB lists as live in the store at `dir`, by family:
// read from a read-only instance, which leaves every file as it was.
struct TableFile {
  std::string name;  // e.g. "000025.sst"
  std::string family;
  uint64_t size = 0;
  uint64_t smallest_seqno = 0;
};
inline std::vector<TableFile> LiveTableFiles(const std::string& dir) {
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names);
  INFO(s.ToString());
  REQUIRE(s.ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir, families, &handles, &raw);
  INFO(s.ToString());
  REQUIRE(s.ok());
  std::vector<rocksdb::LiveFileMetaData> live;
  raw->GetLiveFilesMetaData(&live);
  for (auto* h : handles) (void)raw->DestroyColumnFamilyHandle(h);
  (void)raw->Close();
  delete raw;
  std::vector<TableFile> out;
  for (const rocksdb::LiveFileMetaData& f : live) {
    out.push_back({f.name.substr(f.name.rfind('/') + 1), f.column_family_name, f.size, f.smallest_seqno});
  }
  return out;
}

}  // namespace custodian::testing
