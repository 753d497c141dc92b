// EventLog: opening a store, reads, stats and subscriptions.
// The write path is in event_log_write.cc.
#include "storage/event_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rocksdb/cache.h>
#include <rocksdb/write_batch.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>
#include <fstream>

#include "core/base64.h"
#include "core/canonical.h"
#include "core/record.h"
#include "storage/event_log_internal.h"
#include "storage/forward_pool.h"
#include "storage/key_vault.h"
#include "storage/id_index.h"
#include "storage/keys.h"
#include "storage/merkle_tree.h"
#include "storage/store_files.h"
#include "storage/tuning.h"

namespace fs = std::filesystem;

namespace custodian {

Status FromRocks(const rocksdb::Status& s, const std::string& context) {
  if (s.ok()) return Status::Ok();
  std::string m = "RocksDB: " + context + ": " + s.ToString();
  if (s.IsCorruption()) return Status::Corruption(m);
  if (s.IsNotFound()) return Status::NotFound(m);
  return Status::IoError(m);
}

std::string ExpectedVersion::ToString() const {
  switch (kind_) {
    case Kind::kAny: return "any";
    case Kind::kNoStream: return "no stream";
    case Kind::kExactly: return "version " + std::to_string(version_);
  }
  return "?";
}

bool EventLog::HeldByAnotherProcess(const std::string& dir) { return store_files::LockHeldElsewhere(dir); }

Status EventLog::CheckSigningKey(const std::string& dir) {
  Result<std::optional<note::VerifierKey>> published = store_files::ReadVerifierKeyFile(dir);
  if (!published.ok()) return published.status();
  return store_files::ReadSigningKeyFile(dir, *published).status();
}

EventLog::EventLog(std::string dir, const EventLogOptions& options)
    : dir_(std::move(dir)), options_(options), clock_(options.clock ? options.clock : &SystemClock()) {}

Result<std::unique_ptr<EventLog>> EventLog::Open(const std::string& dir, const EventLogOptions& options) {
  std::unique_ptr<EventLog> log(new EventLog(dir, options));
  CUSTODIAN_RETURN_IF_ERROR(log->OpenDb());
  if (!log->read_only() && options.checkpoint_interval.count() > 0 && log->signer_ == nullptr) {
    return log->signer_problem_.WithContext("periodic checkpoints");
  }
  CUSTODIAN_RETURN_IF_ERROR(log->LoadTail());
  if (!log->read_only()) {
    if (options.replica) log->forward_pool_ = std::make_unique<ForwardPool>(kForwardThreads);
    // The syncer first: the writer reads syncer_ from its first moment, and
    // starting a thread orders what was written before it.
    if (options.sync == Sync::kYes) log->syncer_ = std::make_unique<std::thread>([l = log.get()] { l->SyncerLoop(); });
    log->writer_ = std::make_unique<std::thread>([l = log.get()] { l->WriterLoop(); });
  }
  return log;
}

Status EventLog::OpenDb() {
  bool create = false;
  const bool read_only = options_.mode == EventLogOptions::Mode::kReadOnly;
  CUSTODIAN_RETURN_IF_ERROR(
      store_files::CheckStoreDirectory(dir_, read_only ? CreateIfMissing::kNo : options_.create, &create));
  if (create) {
    CUSTODIAN_RETURN_IF_ERROR(
        store_files::WriteFileDurably(fs::path(dir_) / keys::kMarkerFile, store_files::MarkerContents()));
  } else {
    // Damage that RocksDB would pass over, or word in its own terms.
    CUSTODIAN_RETURN_IF_ERROR(store_files::CheckManifest(dir_));
    CUSTODIAN_RETURN_IF_ERROR(store_files::CheckCleanClose(dir_));
    if (!read_only) {
      CUSTODIAN_RETURN_IF_ERROR(store_files::CheckWritable(dir_));
      CUSTODIAN_RETURN_IF_ERROR(store_files::ForgetCleanClose(dir_));
    }
  }

  rocksdb::DBOptions db_options = StoreDbOptions();
  db_options.create_if_missing = create;
  db_options.create_missing_column_families = !read_only;
  if (options_.env != nullptr) db_options.env = options_.env;
  if (read_only) db_options.max_open_files = -1;  // required by secondary instances
  std::shared_ptr<rocksdb::Cache> cache = NewStoreBlockCache();
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, StoreFamilyOptions(rocksdb::kDefaultColumnFamilyName, cache));
  for (const char* name :
       {keys::kEventsFamily, keys::kStreamsFamily, keys::kIdsFamily, keys::kMetaFamily, keys::kMerkleFamily,
        keys::kProjectionsFamily}) {
    families.emplace_back(name, StoreFamilyOptions(name, cache));
  }
  // The keys family came with sealing: a read-only open of an older store,
  // which cannot create it, goes without.
  bool has_keys = !read_only;
  if (read_only) {
    std::vector<std::string> names;
    if (rocksdb::DB::ListColumnFamilies(db_options, dir_, &names).ok()) {
      has_keys = std::find(names.begin(), names.end(), keys::kKeysFamily) != names.end();
    }
  }
  if (has_keys) families.emplace_back(keys::kKeysFamily, StoreFamilyOptions(keys::kKeysFamily, cache));

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  if (read_only) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/custodian-reader-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return Status::IoError(std::string("cannot make a scratch directory: ") + std::strerror(errno));
    secondary_dir_ = tmpl;
    if (!fs::exists(fs::path(dir_) / "CURRENT")) {
      return Status::NotFound("the store at " + dir_ + " has no RocksDB database yet");
    }
    s = rocksdb::DB::OpenAsSecondary(rocksdb::Options(db_options, rocksdb::ColumnFamilyOptions()), dir_,
                                     secondary_dir_, families, &handles_, &raw);
  } else {
    s = rocksdb::DB::Open(db_options, dir_, families, &handles_, &raw);
  }
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return Status::Unavailable("another process holds the store at " + dir_ +
                                 " read-write (it is in use by a writer); stop that process (or use a read-only "
                                 "command) and try again");
    }
    for (const char* why : {"Permission denied", "Read-only file system"}) {
      if (!read_only && s.ToString().find(why) != std::string::npos) {
        return store_files::NotWritable(dir_, "RocksDB: " + s.ToString());
      }
    }
    if (s.IsCorruption() || s.ToString().find("No such file or directory") != std::string::npos) {
      return Status::Corruption("the store at " + dir_ + " is damaged: a file it needs is missing or unreadable (" +
                                s.ToString() + "); restore it from a backup");
    }
    return FromRocks(s, "open " + dir_);
  }
  db_.reset(raw);
  events_cf_ = handles_[1];
  streams_cf_ = handles_[2];
  ids_cf_ = handles_[3];
  meta_cf_ = handles_[4];
  merkle_cf_ = handles_[5];
  projections_cf_ = handles_[6];
  if (has_keys) keys_cf_ = handles_[7];
  CUSTODIAN_RETURN_IF_ERROR(LoadOrCreateKeys(create));
  CUSTODIAN_RETURN_IF_ERROR(OpenVault());

  std::string format;
  s = db_->Get(rocksdb::ReadOptions(), meta_cf_, keys::kMetaFormatKey, &format);
  if (s.IsNotFound()) {
    if (read_only) return Status::Ok();
    rocksdb::WriteOptions wo;
    wo.sync = true;
    return FromRocks(db_->Put(wo, meta_cf_, keys::kMetaFormatKey,
                              keys::EncodeU64(keys::kStoreFormat)),
                     "write the format version");
  }
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(s, "read the format version"));
  uint64_t stored_format = 0;
  if (!keys::DecodeU64(format, &stored_format)) {
    return Status::Corruption("meta[format] is " + std::to_string(format.size()) + " bytes, expected 8");
  }
  if (stored_format > keys::kStoreFormat) {
    return Status::Unsupported("the store at " + dir_ + " was written by a newer Custodian (format " +
                               std::to_string(stored_format) + ")");
  }
  if (stored_format < keys::kStoreFormat && !read_only) {
    // The marker too: an older build reads it first and then leaves the
    // store untouched (it would check meta["format"] only after opening it).
    rocksdb::WriteOptions wo;
    wo.sync = true;
    CUSTODIAN_RETURN_IF_ERROR(FromRocks(
        db_->Put(wo, meta_cf_, keys::kMetaFormatKey, keys::EncodeU64(keys::kStoreFormat)), "raise the format version"));
    return store_files::WriteFileDurably(fs::path(dir_) / keys::kMarkerFile, store_files::MarkerContents());
  }
  return Status::Ok();
}

Status EventLog::LoadTail() {
  if (!writer_state_) writer_state_ = std::make_unique<WriterState>();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_cf_));
  it->SeekToLast();
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(it->status(), "find the last event"));
  uint64_t end = 0;
  if (it->Valid()) {
    Position last;
    if (!keys::ParseEventKey(it->key().ToStringView(), &last)) {
      return Status::Corruption("the last key of the events family is " + std::to_string(it->key().size()) +
                                " bytes, expected 8");
    }
    Event e;
    CUSTODIAN_RETURN_IF_ERROR(DecodeRecord(it->value().ToStringView(), &e).WithContext(
        "event at position " + std::to_string(last.value())));
    writer_state_->last_recorded_at = e.recorded_at;
    end = last.value() + 1;
  }
  writer_state_->written_end = end;
  synced_end_ = end;
  if (!read_only()) {
    Result<MerkleFrontier> frontier =
        MerkleFrontier::Load(end, [this](uint8_t level, uint64_t index) { return ReadNode(level, index); });
    if (!frontier.ok()) return frontier.status().WithContext("the Merkle tree does not match the log");
    writer_state_->frontier = std::move(*frontier);
  }
  std::string count;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, keys::kMetaStreamCountKey, &count);
  if (s.ok()) {
    (void)keys::DecodeU64(count, &writer_state_->stream_count);
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "read the stream count");
  }
  std::string epoch;
  s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kMetaEpochKey, &epoch);
  if (s.ok()) {
    (void)keys::DecodeU64(epoch, &writer_state_->epoch);
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "read the writer epoch of the log of record");
  }
  std::string sequence;
  s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kMetaAppliedSequenceKey, &sequence);
  if (s.ok()) {
    (void)keys::DecodeU64(sequence, &writer_state_->applied_sequence);
    applied_sequence_.store(writer_state_->applied_sequence, std::memory_order_release);
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "read the applied sequence of the log of record");
  }
  PublishEnd(end);

  // The ids of the events the ids family does not hold yet, from the events.
  if (!id_index_) {
    id_index_ = std::make_unique<IdIndex>(
        db_.get(), ids_cf_, meta_cf_, dir_, options_.id_spill_at, read_only(),
        [this](uint64_t from, const IdIndex::Visit& visit) {
          return ScanAll(Position(from), [&](const Event& e) {
            visit(e.id, {e.position});
            return true;
          });
        });
  }
  if (read_only()) {
    id_index_->Invalidate();  // loaded again on the next lookup
    if (vault_) vault_->ForgetBlindTail();  // likewise, at the next search
    return Status::Ok();
  }
  CUSTODIAN_RETURN_IF_ERROR(id_index_->Load());
  Result<bool> rebuilt = vault_ ? vault_->UpgradeBlindIndex() : Result<bool>(false);
  if (!rebuilt.ok()) return rebuilt.status();
  CUSTODIAN_RETURN_IF_ERROR(LoadBlindTail());
  // A whole index built again is written at once, not held in memory until
  // the next write (and built again after a crash).
  return *rebuilt ? vault_->WriteBlindTail() : Status::Ok();
}

EventLog::~EventLog() {
  forward_pool_.reset();  // the forwards still queued run first (Node::~Node has drained them)
  {
    std::lock_guard lk(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_) writer_->join();
  if (syncer_) {  // after the writer: it answers the writer's last rounds
    {
      std::lock_guard lk(sync_mu_);
      syncer_stopping_ = true;
    }
    sync_cv_.notify_all();
    syncer_->join();
  }
  // With periodic checkpoints, the last events also get one before closing.
  if (writer_ && options_.checkpoint_interval.count() > 0 && signer_ != nullptr && !failed_.load() &&
      end().value() > writer_state_->last_checkpoint_size) {
    (void)SignCheckpoint();
  }
  // What the ids family does not hold yet, so that the next open need not
  // rebuild it. A failure here loses nothing: the events hold the ids. After
  // a failed write the memory may hold ids of events that are not on disk.
  if (id_index_ && !failed_.load()) (void)id_index_->Close();
  id_index_.reset();
  // Likewise the blind index's tail (rebuilt from the sealed events otherwise).
  if (vault_ && !read_only() && !failed_.load()) (void)vault_->WriteBlindTail();
  // Nothing is written after this: what the next open must find. Without the
  // record (a failure here, or a crash) the next open checks less, no more.
  if (db_ && writer_ && !failed_.load()) (void)store_files::RecordCleanClose(db_.get(), dir_);
  vault_.reset();
  if (db_) {
    for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
    (void)db_->Close();
    db_.reset();
  }
  if (!secondary_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(secondary_dir_, ec);
  }
}

namespace {
// How often a read-only log tries to catch up before it reports the failure.
constexpr int kCatchUpAttempts = 5;
}  // namespace

Status EventLog::CatchUp() {
  if (!read_only()) return Status::Ok();
  std::lock_guard lk(catch_up_mu_);
  // A follower can meet the writer's files half-way through a change (a
  // MANIFEST or write-ahead log being written or switched, under load): a
  // failed catch-up is tried again a few times before it counts.
  Status s;
  for (int attempt = 0; attempt < kCatchUpAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10 * attempt));
    s = FromRocks(db_->TryCatchUpWithPrimary(), "catch up with the writer");
    if (!s.ok()) continue;
    // The writer may have erased a subject whose key this process holds.
    if (vault_) vault_->ForgetCachedKeys();
    s = LoadTail();
    if (s.ok()) return s;
  }
  return s.WithContext(std::to_string(kCatchUpAttempts) + " attempts");
}

void EventLog::PublishEnd(uint64_t end) {
  {
    std::lock_guard lk(end_mu_);
    end_.store(end, std::memory_order_release);
  }
  end_cv_.notify_all();
}

bool EventLog::AwaitPosition(uint64_t position, std::chrono::milliseconds timeout) {
  std::unique_lock lk(end_mu_);
  return end_cv_.wait_for(lk, timeout, [&] { return end_.load() > position; });
}

void EventLog::WaitForEnd(uint64_t past, std::chrono::milliseconds timeout, const std::atomic<bool>& cancelled) {
  std::unique_lock lk(end_mu_);
  end_cv_.wait_for(lk, timeout, [&] { return end_.load() > past || cancelled.load(); });
}

Status EventLog::ReadPositions(const std::vector<uint64_t>& positions, std::vector<Event>* out) const {
  std::vector<std::string> key_bytes;
  key_bytes.reserve(positions.size());
  for (uint64_t p : positions) key_bytes.push_back(keys::EventKey(Position(p)));
  std::vector<rocksdb::Slice> slices(key_bytes.begin(), key_bytes.end());
  std::vector<rocksdb::PinnableSlice> values(slices.size());
  std::vector<rocksdb::Status> statuses(slices.size());
  db_->MultiGet(rocksdb::ReadOptions(), events_cf_, slices.size(), slices.data(), values.data(), statuses.data());
  out->reserve(out->size() + positions.size());
  for (size_t i = 0; i < positions.size(); ++i) {
    if (statuses[i].IsNotFound()) {
      return Status::Corruption("the stream index points at position " + std::to_string(positions[i]) +
                                ", which holds no event");
    }
    CUSTODIAN_RETURN_IF_ERROR(FromRocks(statuses[i], "read event " + std::to_string(positions[i])));
    Event e;
    CUSTODIAN_RETURN_IF_ERROR(DecodeRecord(values[i].ToStringView(), &e).WithContext(
        "event at position " + std::to_string(positions[i])));
    out->push_back(std::move(e));
  }
  return Status::Ok();
}

Result<std::vector<Event>> EventLog::ReadStream(std::string_view stream, StreamVersion from, Direction direction,
                                                size_t limit) const {
  std::vector<uint64_t> positions;
  const std::string prefix = keys::StreamPrefix(stream);
  // Only what is on disk: the index may already hold the entries of a round
  // the syncer has not synced yet. A stream's positions grow with its versions.
  const uint64_t end = end_.load(std::memory_order_acquire);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
  if (direction == Direction::kForward) {
    it->Seek(keys::StreamKey(stream, from));
  } else {
    it->SeekForPrev(keys::StreamKey(stream, from));
  }
  for (; it->Valid() && positions.size() < limit; direction == Direction::kForward ? it->Next() : it->Prev()) {
    std::string_view key = it->key().ToStringView();
    if (!key.starts_with(prefix) || key.size() != prefix.size() + 8) break;
    uint64_t p;
    if (!keys::DecodeU64(it->value().ToStringView(), &p)) {
      return Status::Corruption("stream index entry of " + std::string(stream) + " has a " +
                                std::to_string(it->value().size()) + "-byte value, expected 8");
    }
    if (p >= end) {
      if (direction == Direction::kForward) break;
      continue;
    }
    positions.push_back(p);
  }
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(it->status(), "read stream " + std::string(stream)));
  std::vector<Event> events;
  CUSTODIAN_RETURN_IF_ERROR(ReadPositions(positions, &events));
  return events;
}

Result<std::vector<Event>> EventLog::ReadAll(Position from, size_t limit) const {
  std::vector<Event> events;
  const uint64_t end = end_.load(std::memory_order_acquire);
  if (from.value() >= end || limit == 0) return events;
  limit = std::min<uint64_t>(limit, end - from.value());
  events.reserve(std::min<size_t>(limit, 4096));
  Status s = ScanAll(from, [&](const Event& e) {
    events.push_back(e);
    return events.size() < limit;
  });
  if (!s.ok()) return s;
  return events;
}

Status EventLog::ScanAll(Position from, const std::function<bool(const Event&)>& visit) const {
  const uint64_t end = end_.load(std::memory_order_acquire);
  if (from.value() >= end) return Status::Ok();
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 2 << 20;
  const std::string upper = keys::EventKey(Position(end));
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_cf_));
  uint64_t expected = from.value();
  Event e;
  for (it->Seek(keys::EventKey(from)); it->Valid(); it->Next(), ++expected) {
    Position p;
    if (!keys::ParseEventKey(it->key().ToStringView(), &p) || p.value() != expected) {
      return Status::Corruption("expected the event at position " + std::to_string(expected) +
                                " but found key " + std::to_string(p.value()) + " in the events family");
    }
    CUSTODIAN_RETURN_IF_ERROR(
        DecodeRecord(it->value().ToStringView(), &e).WithContext("event at position " + std::to_string(expected)));
    if (!visit(e)) return Status::Ok();
  }
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(it->status(), "scan the events"));
  if (expected < end) {
    return Status::Corruption("the log ends at position " + std::to_string(expected) + " but " +
                              std::to_string(end) + " events were committed");
  }
  return Status::Ok();
}

Result<StreamInfo> EventLog::GetStreamInfo(std::string_view stream) const {
  Result<std::vector<Event>> first = ReadStream(stream, StreamVersion(0), Direction::kForward, 1);
  if (!first.ok()) return first.status();
  if (first->empty()) return Status::NotFound("stream " + std::string(stream) + " has no events");
  Result<std::vector<Event>> last = ReadStream(stream, StreamVersion(UINT64_MAX), Direction::kBackward, 1);
  if (!last.ok()) return last.status();
  const Event& f = first->front();
  const Event& l = last->front();
  StreamInfo info;
  info.stream = std::string(stream);
  info.event_count = l.version.value() + 1;
  info.last_version = l.version;
  info.first_position = f.position;
  info.last_position = l.position;
  info.first_recorded_at = f.recorded_at;
  info.last_recorded_at = l.recorded_at;
  info.first_occurred_at = f.occurred_at;
  info.last_occurred_at = l.occurred_at;
  return info;
}

Result<LogStats> EventLog::Stats() const {
  LogStats stats;
  stats.event_count = end_.load(std::memory_order_acquire);
  std::string count;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, keys::kMetaStreamCountKey, &count);
  if (s.ok()) {
    (void)keys::DecodeU64(count, &stats.stream_count);
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "read the stream count");
  }
  if (stats.event_count > 0) {
    Result<std::vector<Event>> first = ReadAll(Position(0), 1);
    Result<std::vector<Event>> last = ReadAll(Position(stats.event_count - 1), 1);
    if (!first.ok()) return first.status();
    if (!last.ok()) return last.status();
    if (!first->empty()) stats.first_recorded_at = first->front().recorded_at;
    if (!last->empty()) stats.last_recorded_at = last->front().recorded_at;
  }
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir_, ec)) {
    if (entry.is_regular_file(ec)) stats.disk_bytes += entry.file_size(ec);
  }
  return stats;
}

Status EventLog::LoadOrCreateKeys(bool creating) {
  const fs::path key_path = fs::path(dir_) / keys::kSignerKeyFile;
  const fs::path vkey_path = fs::path(dir_) / keys::kVerifierKeyFile;
  std::error_code ec;
  if (creating && !fs::exists(key_path, ec)) {
    Result<note::SigningKey> key = note::SigningKey::Generate(options_.origin);
    if (!key.ok()) return key.status().WithContext("origin");
    CUSTODIAN_RETURN_IF_ERROR(store_files::WriteFileDurably(key_path, key->ToString() + "\n", 0600));
    CUSTODIAN_RETURN_IF_ERROR(store_files::WriteFileDurably(vkey_path, key->verifier().ToString() + "\n"));
  }
  // Checkpoints are checked with the published key, so they are signed only
  // with its private half.
  Result<std::optional<note::VerifierKey>> published = store_files::ReadVerifierKeyFile(dir_);
  if (!published.ok()) return published.status();
  if (*published) verifier_ = std::make_unique<note::VerifierKey>(std::move(**published));
  if (read_only()) return Status::Ok();
  Result<note::SigningKey> key =
      store_files::ReadSigningKeyFile(dir_, verifier_ ? std::optional<note::VerifierKey>(*verifier_) : std::nullopt);
  if (key.ok()) {
    signer_ = std::make_unique<note::SigningKey>(std::move(*key));
    if (!verifier_) verifier_ = std::make_unique<note::VerifierKey>(signer_->verifier());
    return Status::Ok();
  }
  if (key.status().code() != StatusCode::kNotFound && key.status().code() != StatusCode::kFailedPrecondition) {
    return key.status();  // a key file that does not parse
  }
  signer_problem_ = Status::FailedPrecondition(key.status().message());  // appends work; signing does not
  return Status::Ok();
}

// The node lives in the segment holding its last leaf: the first segment
// that ends after that leaf (docs/event-format.md, "merkle").
Result<Hash256> EventLog::ReadNode(uint8_t level, uint64_t index) const {
  const std::string where = "Merkle node (level " + std::to_string(level) + ", index " + std::to_string(index) + ")";
  if (level >= 64 || index >= (uint64_t{1} << (63 - level))) return Status::NotFound(where + " cannot exist");
  const uint64_t leaf = keys::MerkleLastLeaf(level, index);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), merkle_cf_));
  it->Seek(keys::MerkleSegmentKey(leaf + 1));
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(it->status(), "read " + where));
  uint64_t to = 0, from = 0;
  std::string_view hashes;
  if (!it->Valid()) return Status::NotFound(where + " is missing");
  if (!keys::ParseMerkleSegmentKey(it->key().ToStringView(), &to) ||
      !keys::ParseMerkleSegmentValue(it->value().ToStringView(), to, &from, &hashes)) {
    return Status::Corruption("the merkle segment holding " + where + " is malformed");
  }
  if (from > leaf) return Status::NotFound(where + " is missing");
  Hash256 h;
  std::memcpy(h.data(), hashes.data() + 32 * keys::MerkleSlot(level, index, from), 32);
  return h;
}

Result<Hash256> EventLog::RootAt(uint64_t size) const {
  if (size > end().value()) {
    return Status::InvalidArgument("tree size " + std::to_string(size) + " is beyond the log's " +
                                   std::to_string(end().value()) + " events");
  }
  MerkleProver prover([this](uint8_t level, uint64_t index) { return ReadNode(level, index); });
  return prover.RootAt(size);
}

Result<TreeHead> EventLog::Head() const {
  TreeHead head;
  head.size = end().value();
  Result<Hash256> root = RootAt(head.size);
  if (!root.ok()) return root.status();
  head.root = *root;
  return head;
}

Result<std::vector<Hash256>> EventLog::InclusionProof(Position position, uint64_t tree_size) const {
  if (tree_size > end().value()) {
    return Status::InvalidArgument("tree size " + std::to_string(tree_size) + " is beyond the log's " +
                                   std::to_string(end().value()) + " events");
  }
  MerkleProver prover([this](uint8_t level, uint64_t index) { return ReadNode(level, index); });
  return prover.InclusionProof(position.value(), tree_size);
}

Result<std::vector<Hash256>> EventLog::ConsistencyProof(uint64_t from, uint64_t to) const {
  if (to > end().value()) {
    return Status::InvalidArgument("tree size " + std::to_string(to) + " is beyond the log's " +
                                   std::to_string(end().value()) + " events");
  }
  MerkleProver prover([this](uint8_t level, uint64_t index) { return ReadNode(level, index); });
  return prover.ConsistencyProof(from, to);
}

Status EventLog::CanSign() const {
  if (read_only()) return Status::FailedPrecondition("the store is open read-only; signing stores a checkpoint");
  return signer_ != nullptr ? Status::Ok() : signer_problem_;
}

Result<std::string> EventLog::SignCheckpoint() {
  CUSTODIAN_RETURN_IF_ERROR(CanSign());
  std::lock_guard lk(sign_mu_);
  Result<TreeHead> head = Head();
  if (!head.ok()) return head.status();
  note::Checkpoint c{signer_->verifier().name(), head->size, head->root};
  Result<std::string> signed_note = signer_->Sign(note::CheckpointBody(c));
  if (!signed_note.ok()) return signed_note;
  // The stream map at the same size, signed beside it: both land in one batch.
  rocksdb::WriteBatch batch;
  Result<Hash256> map_root = CatchUpStreamMap(head->size, batch);
  if (!map_root.ok()) return map_root.status().WithContext("update the stream map");
  Result<std::string> map_note =
      signer_->Sign(streammap::MapNoteBody({signer_->verifier().name(), head->size, head->root, *map_root}));
  if (!map_note.ok()) return map_note;
  (void)batch.Put(meta_cf_, keys::CheckpointKey(head->size), *signed_note);
  (void)batch.Put(meta_cf_, MapNoteKey(head->size), *map_note);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), "store a checkpoint"));
  return signed_note;
}

namespace {
// Per origin (each node of a cluster signs its own checkpoints): size (8 BE) ‖ root (32).
constexpr char kMetaWitnessLastPrefix[] = "witness/last/";
}  // namespace

Result<std::string> EventLog::CosignerKey() const {
  CUSTODIAN_RETURN_IF_ERROR(CanSign());
  const std::string name = signer_->verifier().name() + "/witness";
  const std::string& key = signer_->verifier().public_key();
  char id[9];
  std::snprintf(id, sizeof id, "%08x", note::CosignerKeyId(name, key));
  return name + "+" + id + "+" + Base64Encode(std::string(1, '\x04') + key);
}

Result<std::string> EventLog::Cosign(std::string_view signed_checkpoint, Timestamp now) {
  CUSTODIAN_RETURN_IF_ERROR(CanSign());
  Result<std::string> body = note::NoteText(signed_checkpoint);
  if (!body.ok()) return body.status();
  Result<note::Checkpoint> c = note::ParseCheckpoint(*body);
  if (!c.ok()) return c.status();
  // Only what the witness checked is signed: no extension lines it cannot vouch for.
  if (*body != note::CheckpointBody(*c)) {
    return Status::InvalidArgument("the checkpoint has lines after its root; a witness cosigns only origin, size and root");
  }
  std::lock_guard lk(sign_mu_);
  if (c->size > end().value()) {
    return Status::Unavailable("this node holds " + std::to_string(end().value()) + " events, the checkpoint " +
                               std::to_string(c->size) + ": ask again once it has caught up");
  }
  if (c->size == 0) return Status::InvalidArgument("a checkpoint of an empty log proves nothing to cosign");
  Result<Hash256> mine = RootAt(c->size);
  if (!mine.ok()) return mine.status();
  if (*mine != c->root) {
    return Status::FailedPrecondition("this node's tree of " + std::to_string(c->size) + " events has root " +
                                      HexOf(*mine) + "; the checkpoint says " + HexOf(c->root) +
                                      ": it is not of this log, or the log forked");
  }
  const std::string last_key = kMetaWitnessLastPrefix + c->origin;
  std::string last;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, last_key, &last);
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "read the last cosigned checkpoint");
  if (s.ok() && last.size() == 8 + 32) {
    uint64_t last_size = 0;
    (void)keys::DecodeU64(last.substr(0, 8), &last_size);
    Hash256 last_root;
    std::memcpy(last_root.data(), last.data() + 8, 32);
    if (c->size < last_size) {
      return Status::FailedPrecondition("this node cosigned a checkpoint of " + std::to_string(last_size) +
                                        " events already; it cosigns none smaller");
    }
    Result<Hash256> then = RootAt(last_size);
    if (!then.ok()) return then.status();
    if (*then != last_root) {
      return Status::Corruption("this node's tree of " + std::to_string(last_size) + " events no longer has the root " +
                                HexOf(last_root) + " it cosigned: its store was altered");
    }
  }
  const std::string name = signer_->verifier().name() + "/witness";
  Result<std::string> line = signer_->Cosign(name, *body, static_cast<uint64_t>(now.value() / kMicrosPerSecond));
  if (!line.ok()) return line;
  std::string record = keys::EncodeU64(c->size);
  record.append(reinterpret_cast<const char*>(c->root.data()), c->root.size());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(db_->Put(wo, meta_cf_, last_key, record), "record the cosigned checkpoint"));
  return line;
}

Result<std::optional<std::string>> EventLog::LatestCheckpoint() const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
  it->SeekForPrev(std::string(keys::kMetaCheckpointPrefix) + std::string(8, '\xff'));
  if (it->Valid() && it->key().starts_with(keys::kMetaCheckpointPrefix)) {
    return std::optional<std::string>(it->value().ToString());
  }
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(it->status(), "find the newest checkpoint"));
  return std::optional<std::string>();
}

Result<size_t> EventLog::AddCosignatures(uint64_t size, const std::vector<std::string>& lines) {
  if (read_only()) return Status::FailedPrecondition("the store is open read-only");
  std::lock_guard lk(sign_mu_);
  std::string stored;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, keys::CheckpointKey(size), &stored);
  if (s.IsNotFound()) return Status::NotFound("no checkpoint of " + std::to_string(size) + " events is stored");
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(s, "read the checkpoint of " + std::to_string(size) + " events"));
  size_t added = 0;
  for (const std::string& line : lines) {
    if (line.empty() || !line.ends_with('\n') || line.find('\n') != line.size() - 1) {
      return Status::InvalidArgument("a cosignature is one line ending in a newline");
    }
    if (stored.find(line) != std::string::npos) continue;
    // Witnesses vouch for their own keys: what an auditor trusts is decided
    // when checking (verify-cosignatures --witness). Kept lines are bounded,
    // so that anyone answering cosign requests cannot grow a note without end.
    if (stored.size() + line.size() > kMaxCosignedNoteBytes) {
      continue;  // a shorter line after it may still fit
    }
    stored += line;
    ++added;
  }
  if (added == 0) {
    for (const std::string& line : lines) {
      if (stored.find(line) == std::string::npos) {
        return Status::FailedPrecondition("the checkpoint of " + std::to_string(size) +
                                          " events holds as many cosignatures as a note may (" +
                                          std::to_string(kMaxCosignedNoteBytes / 1024) + " KiB)");
      }
    }
    return added;
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(db_->Put(wo, meta_cf_, keys::CheckpointKey(size), stored),
                                      "keep the cosignatures of the checkpoint of " + std::to_string(size) + " events"));
  return added;
}

Result<std::vector<std::string>> EventLog::Checkpoints() const {
  std::vector<std::string> notes;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
  for (it->Seek(keys::kMetaCheckpointPrefix); it->Valid() && it->key().starts_with(keys::kMetaCheckpointPrefix);
       it->Next()) {
    notes.push_back(it->value().ToString());
  }
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(it->status(), "list checkpoints"));
  return notes;
}

std::unique_ptr<Subscription> EventLog::Subscribe(Position from, std::optional<std::string> stream) {
  return std::unique_ptr<Subscription>(new Subscription(this, from, std::move(stream)));
}

// --- Subscription ---

Subscription::Subscription(EventLog* log, Position from, std::optional<std::string> stream)
    : log_(log), cursor_(from), stream_(std::move(stream)) {}

Subscription::~Subscription() = default;

void Subscription::Cancel() {
  {
    std::lock_guard lk(log_->end_mu_);
    cancelled_.store(true);
  }
  log_->end_cv_.notify_all();
}

Result<std::vector<Event>> Subscription::Next(std::chrono::milliseconds timeout, size_t max_events) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  // A read-only log learns of new events only by polling the writer's files.
  constexpr std::chrono::milliseconds kPollInterval(100);
  while (!cancelled_.load()) {
    if (log_->read_only()) CUSTODIAN_RETURN_IF_ERROR(log_->CatchUp());
    const uint64_t end = log_->end_.load(std::memory_order_acquire);
    std::vector<Event> events;
    if (!stream_) {
      if (cursor_.value() < end) {
        Result<std::vector<Event>> r = log_->ReadAll(cursor_, max_events);
        if (!r.ok()) return r.status();
        events = std::move(*r);
      }
    } else {
      if (!stream_next_) {
        // Locate the first version at or after the cursor's position.
        uint64_t v = 0;
        while (true) {
          Result<std::vector<Event>> r = log_->ReadStream(*stream_, StreamVersion(v), Direction::kForward, 256);
          if (!r.ok()) return r.status();
          auto it = std::find_if(r->begin(), r->end(), [&](const Event& e) { return e.position >= cursor_; });
          if (it != r->end()) {
            v = it->version.value();
            break;
          }
          v += r->size();
          if (r->size() < 256) break;
        }
        stream_next_ = StreamVersion(v);
      }
      Result<std::vector<Event>> r = log_->ReadStream(*stream_, *stream_next_, Direction::kForward, max_events);
      if (!r.ok()) return r.status();
      events = std::move(*r);
      if (!events.empty()) stream_next_ = StreamVersion(events.back().version.value() + 1);
    }
    if (!events.empty()) {
      cursor_ = Position(events.back().position.value() + 1);
      return events;
    }
    const auto now = Clock::now();
    if (now >= deadline) break;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (log_->read_only()) wait = std::min(wait, kPollInterval);
    log_->WaitForEnd(end, wait, cancelled_);
  }
  return std::vector<Event>{};
}

}  // namespace custodian
