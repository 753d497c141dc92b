// The stream map (core/stream_map.h): kept up to date when a checkpoint is
// signed, signed beside it, and asked for completeness proofs.
//
// meta keys (docs/event-format.md, "The stream map"):
//   map/at            u64 BE: the tree size the map was last brought up to
//   map/root          32 bytes: the map's root at that size
//   map/s/<stream>    the stream's summary at that size (48 bytes)
//   map/n/<hash>      a map node: its hash's preimage
//   mapnote/<size BE> the signed map note of the checkpoint of that size
#include <rocksdb/write_batch.h>

#include <cstring>
#include <future>
#include <map>

#include "core/canonical.h"
#include "core/record.h"
#include "core/note.h"
#include "core/stream_map.h"
#include "storage/event_log_internal.h"
#include "storage/keys.h"

namespace custodian {
namespace {

using StreamSummaries = boost::unordered_flat_map<std::string, streammap::Summary, StreamNameHash, std::equal_to<>>;

constexpr char kMapAtKey[] = "map/at";
constexpr char kMapRootKey[] = "map/root";
constexpr char kMapSummaryPrefix[] = "map/s/";
constexpr char kMapNodePrefix[] = "map/n/";
constexpr char kMapNotePrefix[] = "mapnote/";

std::string NodeKey(const Hash256& h) { return kMapNodePrefix + std::string(h.begin(), h.end()); }
std::string SummaryKey(std::string_view stream) { return kMapSummaryPrefix + std::string(stream); }

std::string EncodeSummary(const streammap::Summary& s) {
  std::string v = keys::EncodeU64(s.count) + keys::EncodeU64(s.last_position);
  v.append(reinterpret_cast<const char*>(s.running.data()), 32);
  return v;
}

bool DecodeSummary(std::string_view v, streammap::Summary* s) {
  if (v.size() != 48) return false;
  if (!keys::DecodeU64(v.substr(0, 8), &s->count) || !keys::DecodeU64(v.substr(8, 8), &s->last_position)) return false;
  std::memcpy(s->running.data(), v.data() + 16, 32);
  return true;
}

// Nodes read from the meta family (as of `snapshot`, if any), written to a batch.
class RocksNodes final : public streammap::NodeStore {
 public:
  RocksNodes(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, rocksdb::WriteBatch* batch)
      : db_(db), cf_(cf), batch_(batch) {}

  Result<std::optional<std::string>> Get(const Hash256& hash) override {
    if (auto it = written_.find(hash); it != written_.end()) return std::optional<std::string>(it->second);
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_, NodeKey(hash), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromRocks(s, "read a stream map node");
    return std::optional<std::string>(std::move(value));
  }
  void Put(const Hash256& hash, std::string preimage) override {
    if (batch_ == nullptr) return;
    if (!written_.emplace(hash, preimage).second) return;
    (void)batch_->Put(cf_, NodeKey(hash), preimage);
  }

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  rocksdb::WriteBatch* batch_;
  std::map<Hash256, std::string> written_;
};

}  // namespace

Result<Hash256> EventLog::CatchUpStreamMap(uint64_t size, rocksdb::WriteBatch& batch) {
  // Where the map stands.
  uint64_t at = 0;
  Hash256 root = streammap::kEmpty;
  {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kMapAtKey, &v);
    if (s.ok()) {
      std::string r;
      rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), meta_cf_, kMapRootKey, &r);
      if (!keys::DecodeU64(v, &at) || !rs.ok() || r.size() != 32) {
        return Status::Corruption("the stream map's state in the meta family is damaged (map/at, map/root)");
      }
      std::memcpy(root.data(), r.data(), 32);
    } else if (!s.IsNotFound()) {
      return FromRocks(s, "read the stream map's state");
    }
  }
  if (at > size) {
    return Status::FailedPrecondition("the stream map is at tree size " + std::to_string(at) + ", past the log's " +
                                      std::to_string(size) + ": the log was rolled back");
  }
  if (at == size) return root;
  // The summaries of the streams the new events touch: each event's stream
  // read from its record's fixed place, its leaf hash from the stored tree's
  // segments (the leaf, then the subtrees it closes), side by side. One
  // thread reads the next chunk while this one folds the last.
  struct Item {
    std::string stream;
    uint64_t version = 0;
    Hash256 leaf;
  };
  rocksdb::ReadOptions ro;
  ro.readahead_size = 2 << 20;
  ro.fill_cache = false;  // a scan of everything since the last checkpoint would evict what readers use (and costs 2x)
  std::unique_ptr<rocksdb::Iterator> events(db_->NewIterator(ro, events_cf_));
  std::unique_ptr<rocksdb::Iterator> segments(db_->NewIterator(ro, merkle_cf_));
  events->Seek(keys::EventKey(Position(at)));
  segments->Seek(keys::MerkleSegmentKey(at + 1));
  uint64_t read_to = at, seg_from = 0, seg_to = 0;
  std::string_view hashes;
  auto read_chunk = [&](std::vector<Item>* out) -> Status {
    out->clear();
    constexpr uint64_t kChunk = 16384;
    const uint64_t until = std::min(size, read_to + kChunk);
    for (uint64_t p = read_to; p < until; ++p) {
      while (p >= seg_to) {
        if (seg_to != 0) segments->Next();
        if (!segments->Valid() || !keys::ParseMerkleSegmentKey(segments->key().ToStringView(), &seg_to) ||
            !keys::ParseMerkleSegmentValue(segments->value().ToStringView(), seg_to, &seg_from, &hashes) ||
            seg_from > p) {
          CUSTODIAN_RETURN_IF_ERROR(FromRocks(segments->status(), "read the Merkle tree"));
          return Status::Corruption("the stream map found no Merkle segment holding leaf " + std::to_string(p));
        }
      }
      Position position;
      StreamVersion version;
      std::string_view stream;
      if (!events->Valid() || !PeekRecordStream(events->value().ToStringView(), &position, &version, &stream) ||
          position.value() != p) {
        CUSTODIAN_RETURN_IF_ERROR(FromRocks(events->status(), "read the events"));
        return Status::Corruption("the stream map could not read the event at position " + std::to_string(p));
      }
      Item& item = out->emplace_back();
      item.stream.assign(stream);
      item.version = version.value();
      std::memcpy(item.leaf.data(), hashes.data() + 32 * keys::MerkleSlot(0, p, seg_from), 32);
      events->Next();
    }
    read_to = until;
    return Status::Ok();
  };
  StreamSummaries changed;
  std::vector<Item> chunk, ahead;
  CUSTODIAN_RETURN_IF_ERROR(read_chunk(&chunk));
  for (uint64_t p = at; !chunk.empty();) {
    std::future<Status> reading = std::async(std::launch::async, read_chunk, &ahead);
    Status folded;
    for (const Item& item : chunk) {
      auto it = changed.find(item.stream);
      if (it == changed.end()) {
        streammap::Summary s;
        std::string v;
        rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), meta_cf_, SummaryKey(item.stream), &v);
        if ((rs.ok() && !DecodeSummary(v, &s)) || (!rs.ok() && !rs.IsNotFound())) {
          folded = rs.ok() ? Status::Corruption("the stream map's summary of " + item.stream + " is damaged")
                           : FromRocks(rs, "read the stream map's summary of " + item.stream);
          break;
        }
        it = changed.emplace(item.stream, s).first;
      }
      if (item.version != it->second.count) {
        folded = Status::Corruption("the event at position " + std::to_string(p) + " is version " +
                                    std::to_string(item.version) + " of " + item.stream +
                                    " but the stream map counts " + std::to_string(it->second.count) + " before it");
        break;
      }
      streammap::Add(it->second, p++, item.leaf);
    }
    Status read = reading.get();
    CUSTODIAN_RETURN_IF_ERROR(folded);
    CUSTODIAN_RETURN_IF_ERROR(read);
    std::swap(chunk, ahead);
  }
  std::vector<streammap::Change> changes;
  changes.reserve(changed.size());
  for (const auto& [stream, s] : changed) {
    changes.push_back({streammap::KeyOf(stream), s});
    (void)batch.Put(meta_cf_, SummaryKey(stream), EncodeSummary(s));
  }
  RocksNodes nodes(db_.get(), meta_cf_, &batch);
  Result<Hash256> next = streammap::Update(nodes, root, std::move(changes));
  if (!next.ok()) return next;
  (void)batch.Put(meta_cf_, kMapAtKey, keys::EncodeU64(size));
  (void)batch.Put(meta_cf_, kMapRootKey, std::string(next->begin(), next->end()));
  return next;
}

Result<std::optional<std::string>> EventLog::MapNote(uint64_t size) const {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kMapNotePrefix + keys::EncodeU64(size), &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "read the stream map note of size " + std::to_string(size));
  return std::optional<std::string>(std::move(v));
}

Result<std::vector<std::string>> EventLog::MapNotes() const {
  std::vector<std::string> notes;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
  for (it->Seek(kMapNotePrefix); it->Valid() && it->key().starts_with(kMapNotePrefix); it->Next()) {
    notes.push_back(it->value().ToString());
  }
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(it->status(), "list stream map notes"));
  return notes;
}

Result<streammap::Proof> EventLog::StreamMapProof(std::string_view stream, uint64_t size) const {
  if (verifier_ == nullptr) return Status::FailedPrecondition("the store has no checkpoint key");
  Result<std::optional<std::string>> signed_note = MapNote(size);
  if (!signed_note.ok()) return signed_note.status();
  if (!*signed_note) {
    return Status::NotFound("no stream map was signed with the checkpoint of size " + std::to_string(size));
  }
  Result<std::string> body = verifier_->Open(**signed_note);
  if (!body.ok()) return body.status().WithContext("the stored map note of size " + std::to_string(size));
  Result<streammap::MapNote> n = streammap::ParseMapNote(*body);
  if (!n.ok()) return n.status();
  RocksNodes nodes(db_.get(), meta_cf_, nullptr);
  return streammap::Prove(nodes, n->map_root, stream);
}

std::string EventLog::MapNoteKey(uint64_t size) { return kMapNotePrefix + keys::EncodeU64(size); }

}  // namespace custodian
