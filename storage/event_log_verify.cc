// EventLog::Verify: recompute the tree from the records and check everything
// stored against it (DESIGN.md, Tamper evidence, "verify").
#include <rocksdb/db.h>
#include <rocksdb/snapshot.h>

#include <algorithm>
#include <future>
#include <map>
#include <optional>
#include <unordered_map>

#include "core/canonical.h"
#include "core/record.h"
#include "storage/event_log.h"
#include "storage/event_log_internal.h"
#include "storage/id_index.h"
#include "storage/keys.h"
#include "storage/merkle_tree.h"

namespace custodian {
namespace {

// An order-independent digest of a set of index entries: the sum, lane by
// lane, of a 128-bit hash of each entry. Indexes are checked against the
// events by comparing digests, with an exact search only when they differ.
// This catches damage and careless edits of an index; the events themselves
// are protected by the Merkle tree and checkpoints.
class SetDigest {
 public:
  // Adds one entry given as consecutive pieces (hashed as their concatenation).
  void Add(std::initializer_list<std::string_view> pieces) {
    uint64_t a = 0x9E3779B97F4A7C15ULL, b = 0xC2B2AE3D27D4EB4FULL;
    uint64_t word = 0;
    int filled = 0;
    auto mix = [&](uint64_t w) {
      a = (a ^ w) * 0xFF51AFD7ED558CCDULL;
      a ^= a >> 32;
      b = (b + w) * 0xC4CEB9FE1A85EC53ULL;
      b ^= b >> 29;
    };
    for (std::string_view piece : pieces) {
      for (unsigned char c : piece) {
        word = word << 8 | c;
        if (++filled == 8) {
          mix(word);
          word = 0;
          filled = 0;
        }
      }
    }
    mix(word ^ (static_cast<uint64_t>(filled) << 56));
    sum_a_ += a ^ (b >> 17);
    sum_b_ += b ^ (a << 13);
    ++count_;
  }
  bool operator==(const SetDigest&) const = default;
  uint64_t count() const { return count_; }

 private:
  uint64_t sum_a_ = 0, sum_b_ = 0, count_ = 0;
};

// Reads the stored tree in key order, which is the order in which appending
// the leaves completes its nodes (docs/event-format.md, "merkle").
class NodeCursor {
 public:
  NodeCursor(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const rocksdb::Snapshot* snapshot) {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    ro.readahead_size = 2 << 20;
    ro.snapshot = snapshot;
    it_.reset(db->NewIterator(ro, cf));
    it_->SeekToFirst();
  }
  // The stored hash of node (level, index), which must be the next stored node.
  Result<Hash256> Expect(uint8_t level, uint64_t index) {
    const std::string where =
        "Merkle node (level " + std::to_string(level) + ", index " + std::to_string(index) + ")";
    if (next_ == count_) {  // on to the next segment, which must begin where this one ended
      if (!it_->Valid()) {
        CUSTODIAN_RETURN_IF_ERROR(FromRocks(it_->status(), "read " + where));
        return Status::NotFound(where + " is missing from the stored tree");
      }
      uint64_t to = 0, from = 0;
      std::string_view hashes;
      if (!keys::ParseMerkleSegmentKey(it_->key().ToStringView(), &to) ||
          !keys::ParseMerkleSegmentValue(it_->value().ToStringView(), to, &from, &hashes)) {
        return Status::Corruption("the merkle family holds a malformed segment where " + where + " should be");
      }
      if (from != to_) {
        return Status::NotFound(where + " is missing from the stored tree (the next stored segment covers leaves " +
                                std::to_string(from) + " to " + std::to_string(to - 1) + ")");
      }
      from_ = from;
      to_ = to;
      segment_.assign(hashes);
      next_ = 0;
      count_ = segment_.size() / 32;
      it_->Next();
    }
    if (keys::MerkleSlot(level, index, from_) != next_) {
      return Status::Corruption(where + " is not where the stored tree's segment of leaves " + std::to_string(from_) +
                                " to " + std::to_string(to_ - 1) + " has it");
    }
    Hash256 h;
    std::memcpy(h.data(), segment_.data() + 32 * next_++, 32);
    return h;
  }
  // Not ok when RocksDB could not read the stored tree (rather than finding
  // it different from the events).
  Status status() const { return FromRocks(it_->status(), "read the stored tree"); }
  // A stored node after the last one expected, if any.
  std::optional<std::pair<uint8_t, uint64_t>> Extra() {
    if (next_ < count_) {
      // Walk the segment's leaves to name the node at slot next_.
      uint64_t slot = 0;
      for (uint64_t leaf = from_; leaf < to_; ++leaf) {
        for (uint8_t l = 0; l < 64 && ((leaf + 1) & ((uint64_t{1} << l) - 1)) == 0; ++l, ++slot) {
          if (slot == next_) return std::make_pair(l, ((leaf + 1) >> l) - 1);
        }
      }
    }
    uint64_t to = 0, from = 0;
    std::string_view hashes;
    if (it_->Valid() && keys::ParseMerkleSegmentKey(it_->key().ToStringView(), &to) &&
        keys::ParseMerkleSegmentValue(it_->value().ToStringView(), to, &from, &hashes)) {
      return std::make_pair(uint8_t{0}, from);  // a segment begins with its first leaf
    }
    return std::nullopt;
  }

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
  uint64_t from_ = 0, to_ = 0;  // the current segment's leaves
  std::string segment_;         // its hashes
  uint64_t next_ = 0, count_ = 0;
};

}  // namespace

VerifyReport EventLog::Verify(const ProgressFn& progress) const {
  VerifyReport report;
  uint64_t position = 0;  // events checked so far
  std::unordered_map<std::string, uint64_t> stream_next;
  MerkleFrontier frontier;
  // A report stopped early still says how far it got: the events checked
  // and their streams (a failing event may have added its stream at 0).
  auto fail = [&](const std::string& problem) {
    report.ok = false;
    report.problem = problem;
    report.events = position;
    report.streams = static_cast<uint64_t>(
        std::count_if(stream_next.begin(), stream_next.end(), [](const auto& s) { return s.second > 0; }));
    return report;
  };
  // RocksDB could not read what is stored (physical damage, a failing disk).
  auto stop = [&](const Status& error) {
    report.error = error;
    return fail(error.message());
  };

  // Stored checkpoints, by size: checked when the recomputed tree reaches them.
  std::map<uint64_t, note::Checkpoint> checkpoints;
  {
    Result<std::vector<std::string>> notes = Checkpoints();
    if (!notes.ok()) return stop(notes.status());
    for (const std::string& text : *notes) {
      if (verifier_ == nullptr) return fail("the store holds checkpoints but no verifier key to check them");
      Result<std::string> body = verifier_->Open(text);
      if (!body.ok()) return fail("a stored checkpoint does not verify: " + body.status().message());
      Result<note::Checkpoint> c = note::ParseCheckpoint(*body);
      if (!c.ok()) return fail("a stored checkpoint does not parse: " + c.status().message());
      if (c->origin != verifier_->name()) {
        return fail("the stored checkpoint of size " + std::to_string(c->size) + " names origin " + c->origin +
                    ", not " + verifier_->name());
      }
      checkpoints[c->size] = *c;
    }
  }

  // Stored map notes, by size: the stream map rebuilt from the events must
  // give each one's root at its size (core/stream_map.h).
  std::map<uint64_t, streammap::MapNote> map_notes;
  {
    Result<std::vector<std::string>> notes = MapNotes();
    if (!notes.ok()) return stop(notes.status());
    for (const std::string& text : *notes) {
      if (verifier_ == nullptr) return fail("the store holds stream map notes but no verifier key to check them");
      Result<std::string> body = verifier_->Open(text);
      if (!body.ok()) return fail("a stored stream map note does not verify: " + body.status().message());
      Result<streammap::MapNote> n = streammap::ParseMapNote(*body);
      if (!n.ok()) return fail("a stored stream map note does not parse: " + n.status().message());
      if (n->origin != verifier_->name()) {
        return fail("the stored stream map note of size " + std::to_string(n->size) + " names origin " + n->origin +
                    ", not " + verifier_->name());
      }
      map_notes[n->size] = *n;
    }
  }
  std::unordered_map<std::string, streammap::Summary> summaries;
  std::unordered_map<std::string, bool> map_dirty;  // streams changed since the map was last rebuilt
  streammap::MemoryNodes map_nodes;
  Hash256 map_root = streammap::kEmpty;
  auto check_map_note = [&]() -> std::optional<std::string> {
    auto n = map_notes.find(frontier.size());
    if (n == map_notes.end()) return std::nullopt;
    ++report.map_notes;
    std::vector<streammap::Change> changes;
    for (const auto& [stream, dirty] : map_dirty) changes.push_back({streammap::KeyOf(stream), summaries[stream]});
    map_dirty.clear();
    Result<Hash256> root = streammap::Update(map_nodes, map_root, std::move(changes));
    if (!root.ok()) return "rebuilding the stream map: " + root.status().message();
    map_root = *root;
    if (n->second.log_root != frontier.Root()) {
      return "the signed stream map note of size " + std::to_string(n->first) + " names log root " +
             HexOf(n->second.log_root) + " but the events recompute to " + HexOf(frontier.Root());
    }
    if (n->second.map_root != map_root) {
      return "the signed stream map note of size " + std::to_string(n->first) + " has map root " +
             HexOf(n->second.map_root) + " but the events' streams recompute to " + HexOf(map_root) +
             ": the signed map does not match the log, so its completeness proofs cannot be trusted";
    }
    return std::nullopt;
  };

  // Every read below sees one state of the store: a read-write log may take
  // appends meanwhile (each one WriteBatch), and events, tree and indexes read
  // at different moments would disagree. The end is read first, so the
  // snapshot holds at least that many events. (Secondary instances have no
  // snapshots; their view only moves on CatchUp.)
  const uint64_t committed = end().value();
  std::optional<rocksdb::ManagedSnapshot> snapshot;
  if (!read_only()) snapshot.emplace(db_.get());
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 2 << 20;
  ro.snapshot = snapshot ? snapshot->snapshot() : nullptr;
  // The ids family holds the events below its watermark; the later ones it
  // may hold already (storage/id_index.h).
  Result<uint64_t> indexed_to = IdIndex::ReadWatermark(db_.get(), meta_cf_, ro);
  if (!indexed_to.ok()) return stop(indexed_to.status());
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_cf_));
  NodeCursor nodes(db_.get(), merkle_cf_, ro.snapshot);
  SetDigest streams_expected, ids_expected;
  auto check_checkpoint = [&]() -> std::optional<std::string> {
    auto c = checkpoints.find(frontier.size());
    if (c == checkpoints.end()) return std::nullopt;
    ++report.checkpoints;
    const Hash256 root = frontier.Root();
    if (root != c->second.root) {
      return "the signed checkpoint of size " + std::to_string(c->first) + " has root " + HexOf(c->second.root) +
             " but the events recompute to " + HexOf(root) + ": the log was altered after it was signed";
    }
    return std::nullopt;
  };
  if (auto problem = check_checkpoint()) return fail(*problem);
  if (auto problem = check_map_note()) return fail(*problem);

  // Records are read in chunks; decoding and hashing, the bulk of the work,
  // run on two threads, and the checks then run in log order, so the first
  // disagreement is the one reported.
  struct Item {
    std::string key, value;
    Event e;
    Status decoded;
    Hash256 leaf{};
  };
  auto compute = [](Item* begin, Item* end) {
    for (Item* item = begin; item != end; ++item) {
      item->decoded = DecodeRecord(item->value, &item->e);
      if (!item->decoded.ok()) continue;
      item->leaf = LeafHash(item->e);
    }
  };
  constexpr size_t kChunk = 4096;
  std::vector<Item> chunk(kChunk);
  it->SeekToFirst();
  while (it->Valid()) {
    size_t n = 0;
    for (; n < kChunk && it->Valid(); ++n, it->Next()) {
      chunk[n].key.assign(it->key().data(), it->key().size());
      chunk[n].value.assign(it->value().data(), it->value().size());
    }
    auto half = std::async(std::launch::async, compute, chunk.data(), chunk.data() + n / 2);
    compute(chunk.data() + n / 2, chunk.data() + n);
    half.get();
    for (size_t i = 0; i < n; ++i, ++position) {
      const Item& item = chunk[i];
      const Event& e = item.e;
      Position key_position;
      if (!keys::ParseEventKey(item.key, &key_position)) {
        return fail("the events family holds a " + std::to_string(item.key.size()) + "-byte key after position " +
                    std::to_string(position));
      }
      if (key_position.value() != position) {
        return fail("position " + std::to_string(position) + " is missing: the next stored event is at " +
                    std::to_string(key_position.value()));
      }
      if (!item.decoded.ok()) {
        return fail("event at position " + std::to_string(position) + ": " + item.decoded.message());
      }
      if (e.position.value() != position) {
        return fail("the record stored at position " + std::to_string(position) + " says it is at position " +
                    std::to_string(e.position.value()) + ": records were moved");
      }
      uint64_t& next = stream_next[e.stream];
      if (e.version.value() != next) {
        return fail("event at position " + std::to_string(position) + " is version " +
                    std::to_string(e.version.value()) + " of " + e.stream + ", expected version " +
                    std::to_string(next));
      }
      ++next;
      std::string mismatch;
      Status unreadable;
      frontier.Append(item.leaf, [&](uint8_t level, uint64_t index, const Hash256& h) {
        if (!mismatch.empty() || !unreadable.ok()) return;
        Result<Hash256> stored = nodes.Expect(level, index);
        if (!stored.ok() && !nodes.status().ok()) {
          unreadable = nodes.status();
        } else if (!stored.ok()) {
          mismatch = "event at position " + std::to_string(position) + ": " + stored.status().message();
        } else if (*stored != h) {
          mismatch = level == 0 ? "event at position " + std::to_string(position) + ": its leaf hash " + HexOf(h) +
                                      " does not match the stored tree's leaf " + HexOf(*stored) +
                                      ": the record was changed after it was written"
                                : "Merkle node (level " + std::to_string(level) + ", index " +
                                      std::to_string(index) + ") recomputes to " + HexOf(h) +
                                      " but the stored tree has " + HexOf(*stored) + " (found after position " +
                                      std::to_string(position) + ")";
        }
      });
      if (!unreadable.ok()) return stop(unreadable.WithContext("event at position " + std::to_string(position)));
      if (!mismatch.empty()) return fail(mismatch);
      streammap::Add(summaries[e.stream], position, item.leaf);
      map_dirty[e.stream] = true;
      if (auto cp = check_checkpoint()) return fail(*cp);
      if (auto mn = check_map_note()) return fail(*mn);
      // The index entries this event implies: key and value, as stored.
      const std::string version_bytes = keys::EncodeU64(e.version.value());
      const std::string position_bytes = keys::EncodeU64(position);
      streams_expected.Add({e.stream, std::string_view("\0", 1), version_bytes, position_bytes});
      if (position < *indexed_to) {
        ids_expected.Add({e.id.AsBytes(), position_bytes});
      }
      if (progress && position % 65536 == 0) progress(position, committed);
    }
  }
  if (!it->status().ok()) {
    return stop(FromRocks(it->status(), "read the events from position " + std::to_string(position) + " on"));
  }
  report.events = position;
  report.streams = stream_next.size();
  report.head = {position, frontier.Root()};
  report.read_all = true;
  if (progress) progress(position, committed);

  if (position < committed) {
    return fail("the log ends at position " + std::to_string(position) + " but " + std::to_string(committed) +
                " events were committed");
  }
  if (auto extra = nodes.Extra()) {
    return fail("the stored tree has a node (level " + std::to_string(extra->first) + ", index " +
                std::to_string(extra->second) + ") beyond the log's " + std::to_string(position) +
                " events: events were removed from the end (the log was rolled back)");
  }
  if (!map_notes.empty() && map_notes.rbegin()->first > position) {
    return fail("a signed stream map note covers " + std::to_string(map_notes.rbegin()->first) +
                " events but the log holds " + std::to_string(position) +
                ": events were removed from the end (the log was rolled back)");
  }
  if (!checkpoints.empty() && checkpoints.rbegin()->first > position) {
    return fail("a signed checkpoint covers " + std::to_string(checkpoints.rbegin()->first) +
                " events but the log holds " + std::to_string(position) +
                ": events were removed from the end (the log was rolled back)");
  }
  if (*indexed_to > position) {
    return fail("the id index holds the ids of " + std::to_string(*indexed_to) + " events but the log holds " +
                std::to_string(position) + ": events were removed from the end (the log was rolled back)");
  }

  // The indexes, as sets, against what the events say they must hold.
  SetDigest streams_found, ids_found;
  std::unique_ptr<rocksdb::Iterator> sit(db_->NewIterator(ro, streams_cf_));
  for (sit->SeekToFirst(); sit->Valid(); sit->Next()) {
    streams_found.Add({sit->key().ToStringView(), sit->value().ToStringView()});
  }
  if (!sit->status().ok()) return stop(FromRocks(sit->status(), "scan the stream index"));
  std::unique_ptr<rocksdb::Iterator> iit(db_->NewIterator(ro, ids_cf_));
  for (iit->SeekToFirst(); iit->Valid(); iit->Next()) {
    Position p;
    const std::string_view value = iit->value().ToStringView();
    const bool parsed = keys::ParseIdValue(value, &p);
    if (parsed && p.value() >= *indexed_to) {
      // Written ahead of the watermark (a crash between the two): must be right.
      std::string record;
      Event e;
      const bool right = db_->Get(ro, events_cf_, keys::EventKey(p), &record).ok() && DecodeRecord(record, &e).ok() &&
                         e.id.AsBytes() == iit->key().ToStringView();
      if (!right) {
        return fail("an id index entry past the index's watermark says position " + std::to_string(p.value()) +
                    ", which holds another event");
      }
      continue;
    }
    // A store written before 2026-11-23 has a content hash after the
    // position; the position is what the entry says.
    ids_found.Add({iit->key().ToStringView(), parsed ? value.substr(0, 8) : value});
  }
  if (!iit->status().ok()) return stop(FromRocks(iit->status(), "scan the id index"));
  if (!(streams_found == streams_expected)) {
    return fail(FindStreamIndexProblem().value_or("the stream index does not agree with the events (" +
                                                  std::to_string(streams_found.count()) + " entries, expected " +
                                                  std::to_string(streams_expected.count()) + ")"));
  }
  if (!(ids_found == ids_expected)) {
    return fail(FindIdIndexProblem(*indexed_to).value_or("the id index does not agree with the events (" +
                                              std::to_string(ids_found.count()) + " entries, expected " +
                                              std::to_string(ids_expected.count()) + ")"));
  }
  return report;
}

// The slow, exact search, run only when the digests differ.
std::optional<std::string> EventLog::FindStreamIndexProblem() const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_cf_));
  Event e;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!DecodeRecord(it->value().ToStringView(), &e).ok()) continue;
    std::string value;
    rocksdb::Status s = db_->Get(ro, streams_cf_, keys::StreamKey(e.stream, e.version), &value);
    uint64_t p = 0;
    if (!s.ok() || !keys::DecodeU64(value, &p) || p != e.position.value()) {
      return "the stream index entry for " + e.stream + " version " + std::to_string(e.version.value()) +
             (s.ok() ? " points at position " + std::to_string(p) : std::string(" is missing")) +
             ", but the event is at position " + std::to_string(e.position.value());
    }
  }
  std::unique_ptr<rocksdb::Iterator> sit(db_->NewIterator(ro, streams_cf_));
  for (sit->SeekToFirst(); sit->Valid(); sit->Next()) {
    std::string_view stream;
    StreamVersion v;
    uint64_t p = 0;
    if (!keys::ParseStreamKey(sit->key().ToStringView(), &stream, &v) || !keys::DecodeU64(sit->value().ToStringView(), &p)) {
      return "the stream index holds a malformed entry";
    }
    std::string record;
    if (!db_->Get(ro, events_cf_, keys::EventKey(Position(p)), &record).ok() ||
        !DecodeRecord(record, &e).ok() || e.stream != stream || e.version != v) {
      return "the stream index says " + std::string(stream) + " version " + std::to_string(v.value()) +
             " is at position " + std::to_string(p) + ", but that event is not it";
    }
  }
  return std::nullopt;
}

std::optional<std::string> EventLog::FindIdIndexProblem(uint64_t indexed_to) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_cf_));
  Event e;
  uint64_t count = 0;
  for (it->SeekToFirst(); it->Valid() && count < indexed_to; it->Next(), ++count) {
    if (!DecodeRecord(it->value().ToStringView(), &e).ok()) continue;
    std::string value;
    Position p;
    rocksdb::Status s = db_->Get(ro, ids_cf_, keys::IdKey(e.id), &value);
    if (!s.ok() || !keys::ParseIdValue(value, &p) || p != e.position) {
      return "the id index entry for event " + e.id.ToString() + " (position " + std::to_string(e.position.value()) +
             ") is " + (s.ok() ? "wrong" : "missing");
    }
  }
  uint64_t entries = 0;
  std::unique_ptr<rocksdb::Iterator> iit(db_->NewIterator(ro, ids_cf_));
  for (iit->SeekToFirst(); iit->Valid(); iit->Next()) {
    Position p;
    if (!keys::ParseIdValue(iit->value().ToStringView(), &p) || p.value() < indexed_to) ++entries;
  }
  if (entries != count) {
    return "the id index has " + std::to_string(entries) + " entries for " + std::to_string(count) + " events";
  }
  return std::nullopt;
}

}  // namespace custodian
