// The key vault: each subject's data key, wrapped by the master key, in the
// `keys` family, and the blind index that finds people (DESIGN.md, Personal
// data and erasure; docs/event-format.md, "keys"). Internal to storage/: the
// EventLog owns one and exposes what callers need.
//
// The master key file lives outside the store (by default
// <store>.keys/master.key), so that a copy of the store's files alone opens
// no personal data. Its directory, the key directory, holds:
//   master.key     the master key, 32 bytes in base64 (mode 0600; any name)
//   master.key.new during a rotation: the key being rotated to
//   master.key.old during a rotation: the key being rotated from
//   retired/<fingerprint>.key  keys that rotations retired, kept for the
//                  backups made before them: a store restored from one is
//                  re-wrapped under master.key at its first read-write open
//   blind.key      the blind index's HMAC key (mode 0600)
//   erased.jsonl   every erasure, one JSON object per line, so that restoring a
//                  backup taken before an erasure re-applies it (at the next
//                  read-write open; a read-only open shows those subjects erased)
//
// The keys family:
//   "m"                       the fingerprints of the master keys in force
//   "k/" subject              1 (version), then per wrapping: the master key's
//                             fingerprint (16 hex) and the wrapped key (60 bytes)
//   "e/" subject              an erased subject: {"position":P,"reason":"..."}
//   "a/blind-indexed-to"      the blind index's watermark (8 bytes, big-endian):
//                             the entries of every sealed event below it are in
//                             the family (it sorts before "b/", so a spill's
//                             table file spans the index only)
//   "a/blind-version"         how the index's values are normalised: "2" (case
//                             folded in every script), "1" or absent (A-Z only);
//                             another than this host's: written again
//                             (UpgradeBlindIndex)
//   "b/" token(32) subject    the blind index: the subject has a value whose
//                             token is `token`
//   "s/" subject 0x00 token   written before 2026-12-05 only: the same entry,
//                             by subject (erasure now scans "b/" instead)
//
// Thread-safe.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/event.h"
#include "core/personal.h"
#include "core/status.h"

namespace custodian {

class KeyVault {
 public:
  // Loads the master key `master_key_file` and the keys beside it. When there
  // is none: with `create`, makes the key directory (0700) and its keys,
  // unless the store already names a master key (then it is missing, not
  // new). FailedPrecondition, saying why, when the vault cannot be used (no
  // key, a key others can read, another store's key); the log then serves
  // everything that is not personal.
  static Result<std::unique_ptr<KeyVault>> Open(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* keys_cf,
                                                const std::string& master_key_file, bool create, bool read_only);

  // Seals e.personal_plain into e.personal under the subject's key, made on
  // first use and written in the writer's round that holds the first event
  // sealed with it, or an earlier one (TakeNewKeys). Returns the keys-family
  // keys of the subject's blind-index entries, to write with the event:
  // only those this process has not seen written (IndexWritten), since a
  // contact re-added with the same e-mail needs no second write of its entry.
  // Refused for a subject that was erased. `e` passed ValidateEvent.
  // `key_tag` (when given): a tag of the data key used (SealedWithDropped).
  Result<std::vector<std::string>> Seal(Event& e, uint64_t* key_tag = nullptr);

  // Puts the records of the data keys made since the last call in `batch`:
  // the writer calls it for each round it writes, so that a key is written
  // with (or before) the first event sealed with it.
  // `adopted_only`: only the keys adopted from the cluster (a round of the
  // log of record applied here writes no key this node made).
  void TakeNewKeys(rocksdb::WriteBatch& batch, bool adopted_only = false);
  // A data key made (or adopted) and not yet written: its subject, the key
  // and its record (wrapped under the master key).
  struct NewKey {
    std::string subject, key, record;
    bool made_here = false;  // by this node's Seal (else adopted from the cluster's key share)
  };
  // The same keys, taken out for a cluster's writer, which shares them
  // (EventLog::KeyShare) before it publishes the round and then writes them
  // with it (PutKeys). Given back (ReturnNewKeys) when the round is not
  // published.
  std::vector<NewKey> TakeNewKeyRecords();
  void PutKeys(const std::vector<NewKey>& keys, rocksdb::WriteBatch& batch) const;
  void ReturnNewKeys(std::vector<NewKey> keys);
  // The round that holds the keys taken (TakeNewKeys, TakeNewKeyRecords) was
  // written: the store has them. Until then a key taken is still found here
  // (a round being written is not yet in the store, and the cache may have
  // dropped it), so no second key is ever made for its subject.
  void NewKeysWritten();
  // Whether this vault can open the subject's parts, or knows it erased.
  // When not, a cluster node fetches the key's record (Adopt). A key made
  // here and never shared or written does not count: the cluster's key wins
  // over it (DropUnsharedNewKeys).
  Result<bool> Knows(const std::string& subject);
  // A data key's record from the cluster's key bucket: kept, and written
  // with the writer's next round, once it opens with a master key loaded
  // here (the subject is bound into the wrapping, so a record of another
  // subject does not open). Nothing for an erased subject.
  // A key made here and not yet shared for the subject is replaced, at the
  // writer's next DropUnsharedNewKeys (until then Open uses the adopted one).
  Status Adopt(const std::string& subject, std::string_view record);
  // Whether `record` is a key record of `subject` that a loaded master key
  // opens (nothing is kept).
  bool Opens(const std::string& subject, std::string_view record) const;
  // This node is not the writer (its round was refused as a follower's, or
  // it applies a round of the log of record): the keys it made and never
  // shared are dropped (their subjects may have other keys in the cluster
  // by now), and the keys adopted in their place are put in force. Called
  // by the writer's thread only, between rounds.
  void DropUnsharedNewKeys();
  // Whether any of these key tags (Seal) is of a dropped key: a write sealed
  // with one is refused (sent again, it is sealed with the key in force).
  bool SealedWithDropped(const std::vector<uint64_t>& key_tags);
  // The keys-family keys of a sealed event's blind-index entries (a round
  // applied on a cluster node, whose events come sealed): none when the
  // subject's key is not here or the subject was erased.
  Result<std::vector<std::string>> IndexSealed(const Event& e);
  // Each data key record of the store, by subject (a cluster's key bucket is
  // seeded with them).
  Status ForEachKeyRecord(const std::function<Status(const std::string& subject, const std::string& record)>& fn) const;
  // The blind index is written behind the log (docs/design-notes.md, "the
  // blind index written with each event"), not in the writer's rounds: random keys
  // in every round cost a memtable insert each, a flush that sorts them and
  // compactions. The entries of the events from BlindIndexedTo() on are held
  // here, in memory (the tail); every `spill_at` entries, or every
  // kBlindSpillEvents events, they are written sorted, as one table file
  // that RocksDB ingests together with the watermark that moves past them;
  // and so when the log closes. A crash loses nothing: the events hold the
  // sealed parts, and the log rebuilds the tail from them (SetBlindTail).
  //
  // The writer wrote a round that ends the log at `end` (it returned from
  // RocksDB), whose new entries are `blind_keys`: they join the tail, and
  // Seal leaves them out from now on (forgotten at any erasure, and when the
  // set grows past its bound, so at worst an entry is held twice). Spills
  // when due; an error means the spill failed (the tail is kept; the log
  // must stop).
  Status IndexWritten(const std::vector<std::string_view>& blind_keys, uint64_t end);
  // The watermark: the family holds the entries of every event below it.
  Result<uint64_t> BlindIndexedTo();
  // The tail, rebuilt by the log from the sealed events `from`..`end`
  // (IndexSealed of each): it replaces what was held. A read-write log does
  // it when it opens; a read-only one before its first search, and again
  // after it caught up with the writer (ForgetBlindTail). `generation` is
  // BlindTailGeneration() from before the events were read: a tail rebuilt
  // while a catch-up forgot the one held is not kept (it may lack events the
  // catch-up brought), and the next search rebuilds it again.
  uint64_t BlindTailGeneration();
  // Whether it was kept.
  bool SetBlindTail(std::vector<std::string> entries, uint64_t from, uint64_t end, uint64_t generation);
  bool BlindTailLoaded();
  void ForgetBlindTail();
  // Writes the tail to the family (a read-write log closing).
  Status WriteBlindTail();
  // Entries held before a spill (tests make it small); at least 1.
  void SetBlindSpillAt(size_t entries);

  struct Opened {
    enum class State { kOpen, kErased };
    State state = State::kOpen;
    std::string json;  // kOpen: the personal part
    std::optional<uint64_t> erased_position;
    std::string erased_reason;
  };
  Result<Opened> Open(const Event& e);

  // Whether the subject was erased (its marker is in the keys family; all
  // are loaded on open): the writer asks before it writes the blind-index
  // entries of an event sealed just before an erasure.
  bool IsErased(const std::string& subject);
  // Whether the store holds the subject's data key ("k/" subject). An erased
  // subject whose key is there again (a copy of the files put back) is not
  // finished: the next read-write open destroys it again.
  Result<bool> HoldsKey(const std::string& subject);
  // The log committed the subject's erasure (rule 'erased'): from now on its
  // parts open as erased with this position and reason, and nobody finds it,
  // even while its key is still in the store (a read-only open after a
  // crash, or a destruction that failed).
  void NoteErased(const std::string& subject, uint64_t position, const std::string& reason);
  // Whether the keys family holds the subject's erased marker.
  Result<bool> HasErasedMarker(const std::string& subject);
  // Drops the data keys held in memory, so that the next Open reads the
  // keys family again: a read-only log calls it when it catches up with the
  // writer, which may have erased a subject whose key this process holds.
  void ForgetCachedKeys();
  // A store whose blind index was written under another normalisation of
  // its values than this host's (core/personal.h, BlindTerms): its entries
  // and watermark go, in one synced batch, so that the index is built again
  // from the sealed events; whether they went. Read-write opens only, before
  // the index's tail is loaded.
  Result<bool> UpgradeBlindIndex();
  // The subjects with a value that normalises as `value` does (find).
  Result<std::vector<std::string>> Subjects(BlindKind kind, std::string_view value);

  // Erasure: records it in erased.jsonl (synced), then deletes the subject's
  // key and blind-index entries and writes its erased marker. The bytes are
  // gone from the files only after Purge.
  // `listed`: already in erased.jsonl (an erasure made again), not added twice.
  Status Erase(const std::string& subject, uint64_t position, const std::string& reason, bool listed = false);
  // Flushes every family (so no write-ahead log holds a deleted key), compacts
  // the keys family to its last level (tombstones and what they hide dropped)
  // and lets RocksDB delete the obsolete files.
  Status Purge(const std::vector<rocksdb::ColumnFamilyHandle*>& families);
  // Erasures listed in erased.jsonl whose keys the store still holds (a
  // backup restored, a crash mid-erasure): erased again. One this log never
  // committed (made after the backup it was restored from) keeps its reason
  // with a word that its position is in the store it was erased in, which this
  // one does not hold. Returns how many.
  Result<size_t> ReapplyErasures();

  // Re-wraps every data key under a new master key (see RotateMaster in
  // event_log.h for the steps). `pause` is called between steps (tests kill
  // the process there).
  Result<size_t> RotateMaster(const std::function<void(std::string_view step)>& pause);

  const std::string& key_dir() const { return key_dir_; }
  std::string fingerprint() const;
  // Data keys that Open found wrapped with a retired master key (a backup
  // made before a rotation) and re-wrapped under the one in force.
  size_t rewrapped_from_retired() const { return rewrapped_; }

 private:
  KeyVault(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* keys_cf, std::string master_file)
      : db_(db), keys_cf_(keys_cf), master_file_(std::move(master_file)) {}
  Result<std::string> DataKey(const std::string& subject, bool create);
  Result<std::optional<std::string>> Get(const std::string& key);
  Result<std::string> Unwrap(const std::string& subject, std::string_view record) const;
  // Moves a rotation's old master key file to retired/, owner-only.
  Status Retire(const std::string& old);
  // One synced batch: every data key wrapped under masters_.front() only.
  Result<size_t> RewrapUnderCurrent();

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* keys_cf_;
  const std::string master_file_;
  std::string key_dir_;
  size_t rewrapped_ = 0;
  struct Master {
    std::string key;          // 32 bytes
    std::string fingerprint;  // MasterKeyFingerprint(key), computed once (an HMAC)
  };
  std::vector<Master> masters_;  // master keys loaded: the one in force first
  crypto::HmacSha256Key blind_key_{""};  // blind.key, set on open
  std::mutex mu_;
  Status WriteNewKeysLocked();  // new_keys_ written on their own, synced (before a rotation)
  // Whether the subject's key was made here and is not yet written: in
  // new_keys_ or in the round being published (writing_).
  bool MadeHereLocked(const std::string& subject) const;
  // Open addressing: a lookup per sealed event, of subjects in no order.
  boost::unordered_flat_map<std::string, std::string> cache_;  // subject -> data key
  std::unordered_map<std::string, NewKey> new_keys_;  // made, not yet in a written round (TakeNewKeys)
  std::unordered_map<std::string, NewKey> writing_;  // taken into the round being written (NewKeysWritten)
  std::unordered_map<std::string, NewKey> adopted_pending_;  // Adopt over a key made here, until DropUnsharedNewKeys
  boost::unordered_flat_set<uint64_t> dropped_;           // tags of the keys DropUnsharedNewKeys dropped
  std::atomic<bool> any_dropped_{false};
  std::unordered_set<std::string> erased_;              // every erased subject (loaded on open, then kept)
  // Blind-index entries known written by this process, by fingerprint
  // (IndexWritten). The token part is an HMAC under blind.key, so nobody
  // who lacks that key can aim a fingerprint at another person's entry.
  boost::unordered_flat_set<uint64_t> indexed_;
  // The blind index's tail: "b/" keys of the events tail_from_..tail_to_
  // (perhaps some twice), not yet in the family; and those of a spill being
  // written (spilling_), which searches read too. A spill writes with
  // spill_mu_ held and mu_ not (seals and reads go on meanwhile); an erasure
  // takes spill_mu_ first, so it never meets a spill half-way (the erased
  // subject's entries would come back with it). Order: spill_mu_, then mu_.
  std::mutex spill_mu_;
  std::vector<std::string> tail_, spilling_;
  uint64_t tail_from_ = 0, tail_to_ = 0;
  bool tail_loaded_ = false;
  uint64_t tail_generation_ = 0;  // ForgetBlindTail calls
  size_t spill_at_ = size_t{1} << 15;
  // Writes `entries` (sorted, each once) and the watermark `to` to the
  // family; spill_mu_ held.
  Status WriteBlindEntries(const std::vector<std::string>& entries, uint64_t to);
  // Moves the tail to spilling_ and writes it (spill_mu_ held, mu_ not).
  Status SpillBlindTail();
  struct Committed {
    uint64_t position;
    std::string reason;
  };
  // Erasures the log committed (NoteErased); in a read-only open also those
  // listed in erased.jsonl that the store has not made (a backup taken before them).
  std::unordered_map<std::string, Committed> committed_;
};

}  // namespace custodian
