#include "storage/key_vault.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/base64.h"
#include "core/crypto.h"
#include "core/text.h"
#include "core/time.h"
#include "storage/event_log_internal.h"
#include "storage/keys.h"
#include "storage/permissions.h"
#include "storage/store_files.h"
#include "storage/table_file.h"

namespace custodian {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr char kBlindFile[] = "blind.key";
constexpr char kErasedFile[] = "erased.jsonl";
constexpr char kRetiredDir[] = "retired";  // master keys a rotation retired: <fingerprint>.key
constexpr char kKeyHeader[] = "CUSTODIAN KEY v1";
constexpr char kMastersKey[] = "m";
constexpr uint8_t kRecordVersion = 1;
constexpr size_t kFingerprintChars = 16;
constexpr size_t kWrappedBytes = kSealNonceBytes + kDataKeyBytes + crypto::kGcmTagBytes;
constexpr size_t kMaxCachedKeys = 100'000;
// The first 8 bytes of a (random) data key: enough to tell keys apart.
uint64_t KeyTag(std::string_view key) {
  uint64_t tag = 0;
  std::memcpy(&tag, key.data(), std::min(key.size(), sizeof tag));
  return tag;
}

std::string KeyRecordKey(std::string_view subject) { return "k/" + std::string(subject); }
std::string ErasedKey(std::string_view subject) { return "e/" + std::string(subject); }
std::string BlindKey(std::string_view token, std::string_view subject) {
  return "b/" + std::string(token) + std::string(subject);
}
// The fingerprint of a blind-index entry (token, subject), for the set of
// entries known written.
uint64_t EntryFingerprint(std::string_view token, std::string_view subject) {
  uint64_t head = 0;
  std::memcpy(&head, token.data(), std::min(token.size(), sizeof head));
  return head ^ (std::hash<std::string_view>{}(subject) * 0x9E3779B97F4A7C15ull);
}
constexpr size_t kMaxIndexedEntries = 1'000'000;
constexpr size_t kBlindTokenBytes = 32;  // HMAC-SHA-256
constexpr char kBlindIndexedToKey[] = "a/blind-indexed-to";
// How the blind index's values are normalised (core/personal.h, BlindTerms):
// "2" when every letter's case is folded (core/text.h, FoldCase), "1" when
// A-Z only are (this host lacks the C.UTF-8 locale); absent: written before
// the version was kept, A-Z only.
constexpr char kBlindVersionKey[] = "a/blind-version";
// The tail is written at least every this many events, even with few
// entries: a crash then costs a rebuild of at most this many events.
constexpr uint64_t kBlindSpillEvents = uint64_t{1} << 20;
// Below this many entries, a spill is one synced WriteBatch, not a table file.
constexpr size_t kBlindIngestAtLeast = 1024;


// A key file: a header line, then the key in base64. Refused when others can
// read it, so a key never lies open by mistake.
Result<std::string> ReadKeyFile(const fs::path& path) {
  Result<std::string> text = ReadOwnerOnlyFile(path.string(), "key file");
  if (!text.ok()) return text.status();
  std::istringstream in(*text);
  std::string header, body;
  std::getline(in, header);
  std::getline(in, body);
  if (header != kKeyHeader) return Status::Corruption(path.string() + " is not a Custodian key file");
  Result<std::string> key = Base64Decode(body);
  if (!key.ok() || key->size() != kMasterKeyBytes) {
    return Status::Corruption(path.string() + " does not hold a 32-byte key");
  }
  return key;
}

Status WriteKeyFile(const fs::path& path, std::string_view key) {
  return store_files::WriteFileDurably(path, std::string(kKeyHeader) + "\n" + Base64Encode(key) + "\n", 0600);
}

Status SyncDir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Status::IoError("cannot open " + dir.string() + ": " + std::strerror(errno));
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok ? Status::Ok() : Status::IoError("cannot sync " + dir.string());
}

// The record of a data key: version, then (fingerprint, wrapped key) pairs.
std::string EncodeRecord(const std::vector<std::pair<std::string, std::string>>& wraps) {
  std::string out(1, static_cast<char>(kRecordVersion));
  for (const auto& [fingerprint, wrapped] : wraps) out += fingerprint + wrapped;
  return out;
}
Result<std::vector<std::pair<std::string, std::string>>> DecodeRecord(std::string_view subject,
                                                                         std::string_view record) {
  const size_t entry = kFingerprintChars + kWrappedBytes;
  if (record.empty() || static_cast<uint8_t>(record[0]) != kRecordVersion || (record.size() - 1) % entry != 0) {
    return Status::Corruption("the key record of " + std::string(subject) + " is malformed (" +
                              std::to_string(record.size()) + " bytes)");
  }
  std::vector<std::pair<std::string, std::string>> wraps;
  for (size_t at = 1; at < record.size(); at += entry) {
    wraps.emplace_back(std::string(record.substr(at, kFingerprintChars)),
                       std::string(record.substr(at + kFingerprintChars, kWrappedBytes)));
  }
  return wraps;
}

// "<file>.new" beside "<file>".
fs::path Sibling(const fs::path& file, const char* suffix) { return fs::path(file.string() + suffix); }

// The key directory may not be written by other accounts (a sticky shared
// directory such as /tmp neither: anyone may put a file there first).
Status CheckKeyDirectory(const fs::path& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return Status::IoError("cannot look at " + dir.string() + ": " + std::strerror(errno));
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::FailedPrecondition("other accounts may write in the key directory " + dir.string() + " (mode " +
                                      mode + "), so they could replace the master key or the erasure list; make it "
                                      "writable by you alone (chmod go-w " + dir.string() + ")");
  }
  return Status::Ok();
}

// One line of erased.jsonl.
struct ListedErasure {
  std::string subject;
  uint64_t position = 0;
  std::string reason;
};
// Every erasure listed in erased.jsonl, in order (none when it is absent).
// Each line destroys a person's key at the next read-write open, so the list
// is trusted only as the key files are: a file other accounts cannot reach.
Result<std::vector<ListedErasure>> ReadErasureList(const fs::path& file) {
  std::vector<ListedErasure> out;
  struct stat st;
  if (::lstat(file.c_str(), &st) != 0) {
    if (errno == ENOENT) return out;
    return Status::IoError("cannot look at the erasure list " + file.string() + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::FailedPrecondition("the erasure list " + file.string() +
                                      " is not a regular file (a link, a pipe, ...); it must be the file custodian "
                                      "writes, as each of its lines erases a person at the next open");
  }
  Result<std::string> text = ReadOwnerOnlyFile(file.string(), "erasure list");
  if (text.status().code() == StatusCode::kFailedPrecondition) {
    return Status(text.status().code(), text.status().message() +
                                            "; then check that each of its lines is an erasure you made, as every "
                                            "line erases a person at the next open");
  }
  if (!text.ok()) return text.status();
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) continue;  // a line cut short by a crash
    const json::object& o = v.as_object();
    const json::value* subject = o.if_contains("subject");
    if (subject == nullptr || !subject->is_string()) continue;
    const json::value* position = o.if_contains("position");
    const json::value* reason = o.if_contains("reason");
    out.push_back({std::string(subject->as_string()),
                   position && position->is_number() ? position->to_number<uint64_t>() : 0,
                   reason && reason->is_string() ? std::string(reason->as_string()) : ""});
  }
  return out;
}

rocksdb::WriteOptions Synced() {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return wo;
}

}  // namespace

bool IsKeyDirectoryFile(const std::string& master_key_file, const std::string& path) {
  // The directory the vault uses is the one the key file's name is in, even
  // when the key file itself is a link elsewhere (whose target is kept too).
  std::error_code ec;
  const fs::path given = fs::absolute(master_key_file, ec);
  const fs::path dir = fs::weakly_canonical(given.parent_path(), ec), master = dir / given.filename();
  const fs::path p(path);
  if (p == master || p == fs::weakly_canonical(master, ec) || p == Sibling(master, ".new") ||
      p == Sibling(master, ".old") || p == dir / kBlindFile || p == dir / kErasedFile) {
    return true;
  }
  const fs::path retired = dir / kRetiredDir;
  const auto [end, _] = std::mismatch(retired.begin(), retired.end(), p.begin(), p.end());
  return end == retired.end();
}

bool IsCustodianKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string header(sizeof kKeyHeader - 1, '\0');
  return in.read(header.data(), static_cast<std::streamsize>(header.size())) && header == kKeyHeader;
}

Result<std::unique_ptr<KeyVault>> KeyVault::Open(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* keys_cf,
                                                 const std::string& master_key_file, bool create, bool read_only) {
  std::unique_ptr<KeyVault> vault(new KeyVault(db, keys_cf, master_key_file));
  const fs::path master(master_key_file);
  const fs::path dir = master.parent_path().empty() ? fs::path(".") : master.parent_path();
  vault->key_dir_ = dir.string();
  std::string in_force;
  Status s = vault->Get(kMastersKey).status();
  if (!s.ok()) return s;
  if (Result<std::optional<std::string>> m = vault->Get(kMastersKey); m.ok() && *m) in_force = **m;

  std::error_code ec;
  if (!fs::exists(master, ec) && !fs::exists(Sibling(master, ".new"), ec)) {
    if (!create || read_only || !in_force.empty()) {
      return Status::FailedPrecondition(
          in_force.empty() ? "no master key at " + master.string()
                           : "the master key of this store (fingerprint " + in_force.substr(0, kFingerprintChars) +
                                 ") is not at " + master.string() +
                                 "; give it with --master-key FILE or $CUSTODIAN_MASTER_KEY_FILE");
    }
    // A directory made for the keys is the owner's alone; one that exists is
    // left as it is (it may be the caller's working directory), but a key is
    // never put where other accounts may write: they could replace it.
    const bool made = fs::create_directories(dir, ec);
    if (ec) return Status::IoError("cannot create the key directory " + dir.string() + ": " + ec.message());
    if (made) {
      fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
      if (ec) return Status::IoError("cannot make the key directory " + dir.string() + " owner-only: " + ec.message());
    }
    CUSTODIAN_RETURN_IF_ERROR(CheckKeyDirectory(dir));  // before a key is put there
    CUSTODIAN_RETURN_IF_ERROR(WriteKeyFile(master, crypto::RandomBytes(kMasterKeyBytes)));
    if (!fs::exists(dir / kBlindFile, ec)) {
      CUSTODIAN_RETURN_IF_ERROR(WriteKeyFile(dir / kBlindFile, crypto::RandomBytes(kMasterKeyBytes)));
    }
    CUSTODIAN_RETURN_IF_ERROR(SyncDir(dir));
  }
  // At every open: the keys, and the erasure list each open obeys, are
  // only as safe as the directory that holds them.
  CUSTODIAN_RETURN_IF_ERROR(CheckKeyDirectory(dir));
  // A list that may not be trusted leaves the vault closed (the store then
  // serves what is not personal, saying why), never a half-open store.
  Result<std::vector<ListedErasure>> list = ReadErasureList(dir / kErasedFile);
  if (!list.ok()) return list.status();
  // The key in force first; during a rotation the other one too.
  for (const fs::path& path : {master, Sibling(master, ".new"), Sibling(master, ".old")}) {
    if (!fs::exists(path, ec)) continue;
    Result<std::string> key = ReadKeyFile(path);
    if (!key.ok()) return key.status();
    vault->masters_.push_back(Master{*key, MasterKeyFingerprint(*key)});
  }
  Result<std::string> blind = ReadKeyFile(dir / kBlindFile);
  if (!blind.ok()) return blind.status();
  vault->blind_key_ = crypto::HmacSha256Key(std::move(*blind));

  if (in_force.empty()) {
    if (read_only) return vault;  // a store that never sealed anything
    Status put = FromRocks(db->Put(Synced(), keys_cf, kMastersKey, vault->masters_.front().fingerprint),
                           "record the master key's fingerprint");
    if (!put.ok()) return put;
    return vault;
  }
  // One of the keys loaded must be one the store's keys are wrapped with;
  // else, for a store restored from a backup made before a rotation, a key
  // that rotation retired.
  auto known = [&] {
    return std::any_of(vault->masters_.begin(), vault->masters_.end(),
                       [&](const Master& m) { return in_force.find(m.fingerprint) != std::string::npos; });
  };
  bool retired = false;
  std::string skipped;  // retired keys that could not be read, said if none fits
  if (!known()) {
    for (const fs::directory_entry& entry : fs::directory_iterator(dir / kRetiredDir, ec)) {
      if (entry.path().extension() != ".key") continue;
      Result<std::string> key = ReadKeyFile(entry.path());
      if (!key.ok()) {
        skipped += "; skipped: " + key.status().message();
        continue;
      }
      if (std::string fp = MasterKeyFingerprint(*key); in_force.find(fp) != std::string::npos) {
        vault->masters_.push_back(Master{*key, std::move(fp)});
        retired = true;
      }
    }
  }
  if (!known()) {
    return Status::FailedPrecondition("the master key at " + master.string() + " (fingerprint " +
                               vault->masters_.front().fingerprint +
                               ") is not this store's (its keys are wrapped with " +
                               in_force.substr(0, kFingerprintChars) + ", which is not in " +
                               (dir / kRetiredDir).string() + " either" + skipped + ")");
  }
  if (retired && !read_only) {
    Result<size_t> n = vault->RewrapUnderCurrent();
    if (!n.ok()) return n.status();
    vault->rewrapped_ = *n;
  }
  // The erased subjects, so that the writer asks memory, not the disk, for
  // each event it indexes (erasures are few; this process makes the rest).
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), keys_cf));
  for (it->Seek("e/"); it->Valid() && it->key().starts_with("e/"); it->Next()) {
    vault->erased_.emplace(it->key().ToStringView().substr(2));
  }
  if (Status s = FromRocks(it->status(), "list the erased subjects"); !s.ok()) return s;
  if (read_only) {
    // A read-write open makes the erasures listed beside the master key that
    // the store has not made (ReapplyErasures); a read-only one cannot, so it
    // shows those subjects as erased all the same.
    for (ListedErasure& listed : *list) {
      if (vault->erased_.count(listed.subject)) continue;  // made in this store: its marker says where and why
      vault->committed_[listed.subject] = Committed{listed.position, std::move(listed.reason)};
    }
  }
  return vault;
}

std::string KeyVault::fingerprint() const { return masters_.empty() ? "" : masters_.front().fingerprint; }

Result<std::optional<std::string>> KeyVault::Get(const std::string& key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), keys_cf_, key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(s, "read the keys family"));
  return std::optional<std::string>(std::move(value));
}

// masters_ changes only in RotateMaster, which the command line runs with
// the store's lock held: never while a node asks this.
bool KeyVault::Opens(const std::string& subject, std::string_view record) const { return Unwrap(subject, record).ok(); }

Result<std::string> KeyVault::Unwrap(const std::string& subject, std::string_view record) const {
  Result<std::vector<std::pair<std::string, std::string>>> wraps = DecodeRecord(subject, record);
  if (!wraps.ok()) return wraps.status();
  for (const Master& master : masters_) {
    for (const auto& [fingerprint, wrapped] : *wraps) {
      if (fingerprint == master.fingerprint) return UnwrapKey(master.key, subject, wrapped);
    }
  }
  return Status::FailedPrecondition("the key of " + subject + " is wrapped with a master key that is not loaded");
}

Result<std::string> KeyVault::DataKey(const std::string& subject, bool create) {
  // Under mu_.
  if (erased_.count(subject)) return Status::NotFound("erased");
  // Opening a part the cluster sealed: the cluster's key, not one made here.
  if (!create) {
    if (auto it = adopted_pending_.find(subject); it != adopted_pending_.end()) return it->second.key;
  }
  if (auto it = cache_.find(subject); it != cache_.end()) return it->second;
  if (auto it = new_keys_.find(subject); it != new_keys_.end()) return it->second.key;  // not yet written
  // Taken into a round that is being written: not in the store yet, and
  // perhaps no longer in the cache (cleared at its bound), so without this a
  // second key would be made for the subject, its record would replace the
  // first's, and every part sealed under the first would never open again.
  if (auto it = writing_.find(subject); it != writing_.end()) return it->second.key;
  Result<std::optional<std::string>> record = Get(KeyRecordKey(subject));
  if (!record.ok()) return record.status();
  if (!*record) {
    // Only the writing process creates keys, and it holds every erased
    // marker of the store in erased_ (loaded on open, added to at each
    // erasure; RocksDB lets no other process write): it needs no lookup.
    if (!create) {
      Result<std::optional<std::string>> erased = Get(ErasedKey(subject));
      if (!erased.ok()) return erased.status();
      if (*erased) {
        erased_.insert(subject);
        return Status::NotFound("erased");
      }
      return Status::NotFound("no key");
    }
    // A new subject: its key record goes in the batch of the writer's next
    // round (TakeNewKeys), which holds the first event sealed with it, or
    // an earlier one: an event is queued only after it is sealed, and a
    // round takes the new keys after it took its events. So the key is
    // durable with, or before, every event sealed with it; a crash may leave
    // a key without events, never the reverse. (Written here on its own, each
    // new subject cost a write of its own, or a fsync, in the caller's
    // thread with mu_ held: an import of new contacts ran at a quarter of
    // its speed.)
    std::string key = crypto::PooledRandomBytes(kDataKeyBytes);
    Result<std::string> wrapped = WrapKey(masters_.front().key, subject, key);
    if (!wrapped.ok()) return wrapped.status();
    new_keys_[subject] = NewKey{subject, key, EncodeRecord({{masters_.front().fingerprint, *wrapped}}), true};
    if (cache_.size() >= kMaxCachedKeys) cache_.clear();
    return cache_.emplace(subject, std::move(key)).first->second;
  }
  Result<std::string> key = Unwrap(subject, **record);
  if (!key.ok()) return key.status();
  if (cache_.size() >= kMaxCachedKeys) cache_.clear();
  return cache_.emplace(subject, std::move(*key)).first->second;
}

void KeyVault::TakeNewKeys(rocksdb::WriteBatch& batch, bool adopted_only) {
  std::lock_guard lk(mu_);
  for (auto it = new_keys_.begin(); it != new_keys_.end();) {
    if (adopted_only && it->second.made_here) {
      ++it;
      continue;
    }
    (void)batch.Put(keys_cf_, KeyRecordKey(it->first), it->second.record);
    writing_.insert_or_assign(it->first, std::move(it->second));
    it = new_keys_.erase(it);
  }
}

std::vector<KeyVault::NewKey> KeyVault::TakeNewKeyRecords() {
  std::lock_guard lk(mu_);
  std::vector<NewKey> out;
  out.reserve(new_keys_.size());
  for (auto& [subject, k] : new_keys_) {
    // Shared by this node, the writer, before its round: the subject's key
    // in the cluster from now on, whatever was adopted over it meanwhile.
    if (k.made_here) adopted_pending_.erase(subject);
    writing_.insert_or_assign(subject, k);
    out.push_back(std::move(k));
  }
  new_keys_.clear();
  return out;
}

void KeyVault::NewKeysWritten() {
  std::lock_guard lk(mu_);
  for (const auto& [subject, k] : writing_) {
    if (k.made_here) adopted_pending_.erase(subject);  // written (and shared) by this node
  }
  writing_.clear();
}

bool KeyVault::MadeHereLocked(const std::string& subject) const {
  if (auto it = new_keys_.find(subject); it != new_keys_.end() && it->second.made_here) return true;
  if (auto it = writing_.find(subject); it != writing_.end() && it->second.made_here) return true;
  return false;
}

void KeyVault::PutKeys(const std::vector<NewKey>& keys, rocksdb::WriteBatch& batch) const {
  for (const NewKey& k : keys) (void)batch.Put(keys_cf_, KeyRecordKey(k.subject), k.record);
}

void KeyVault::ReturnNewKeys(std::vector<NewKey> keys) {
  std::lock_guard lk(mu_);
  for (NewKey& k : keys) {
    writing_.erase(k.subject);
    if (erased_.count(k.subject)) continue;
    std::string subject = k.subject;
    new_keys_.try_emplace(std::move(subject), std::move(k));
  }
}

Result<bool> KeyVault::Knows(const std::string& subject) {
  std::lock_guard lk(mu_);
  if (adopted_pending_.count(subject)) return true;
  if (!erased_.count(subject) && MadeHereLocked(subject)) return false;  // made here, perhaps never shared: ask
  if (erased_.count(subject) || committed_.count(subject) || cache_.contains(subject) || new_keys_.count(subject) ||
      writing_.count(subject)) {
    return true;
  }
  Result<std::optional<std::string>> record = Get(KeyRecordKey(subject));
  if (!record.ok()) return record.status();
  if (*record) return true;
  Result<std::optional<std::string>> erased = Get(ErasedKey(subject));
  if (!erased.ok()) return erased.status();
  return erased->has_value();
}

Status KeyVault::Adopt(const std::string& subject, std::string_view record) {
  std::lock_guard lk(mu_);
  const bool over_made_here = MadeHereLocked(subject);
  if (erased_.count(subject) || adopted_pending_.count(subject) ||
      (!over_made_here && (cache_.contains(subject) || new_keys_.count(subject) || writing_.count(subject)))) {
    return Status::Ok();
  }
  Result<std::string> key = Unwrap(subject, record);
  if (!key.ok()) return key.status().WithContext("the cluster's key of " + subject);
  if (over_made_here) {
    // Put in force by the writer's thread (DropUnsharedNewKeys), which alone
    // may drop the key made here; Open uses this one meanwhile.
    adopted_pending_[subject] = NewKey{subject, *key, std::string(record), false};
    return Status::Ok();
  }
  dropped_.erase(KeyTag(*key));  // a key this node dropped may be the cluster's after all: in force again
  new_keys_[subject] = NewKey{subject, *key, std::string(record)};
  if (cache_.size() >= kMaxCachedKeys) cache_.clear();
  cache_.emplace(subject, std::move(*key));
  return Status::Ok();
}

Result<std::vector<std::string>> KeyVault::IndexSealed(const Event& e) {
  if (e.personal.empty()) return std::vector<std::string>();
  Result<Opened> opened = Open(e);
  if (!opened.ok()) {
    if (opened.status().code() == StatusCode::kNotFound) return std::vector<std::string>();  // no key here
    return opened.status();
  }
  if (opened->state != Opened::State::kOpen) return std::vector<std::string>();
  std::vector<BlindValue> found_by;
  Result<std::string> plain = CheckPersonalPart(e.type, opened->json, &found_by);
  if (!plain.ok()) return plain.status();
  std::vector<std::string> entries;
  for (const std::string& token : BlindTokensOf(blind_key_, found_by)) {
    entries.push_back(BlindKey(token, e.personal.subject));
  }
  return entries;
}

Status KeyVault::ForEachKeyRecord(
    const std::function<Status(const std::string& subject, const std::string& record)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), keys_cf_));
  for (it->Seek("k/"); it->Valid() && it->key().starts_with("k/"); it->Next()) {
    CUSTODIAN_RETURN_IF_ERROR(fn(std::string(it->key().ToStringView().substr(2)), it->value().ToString()));
  }
  return FromRocks(it->status(), "list the data keys");
}

Status KeyVault::WriteNewKeysLocked() {
  if (new_keys_.empty()) return Status::Ok();
  rocksdb::WriteBatch batch;
  for (const auto& [subject, k] : new_keys_) (void)batch.Put(keys_cf_, KeyRecordKey(subject), k.record);
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(db_->Write(Synced(), &batch), "store the new data keys"));
  new_keys_.clear();
  return Status::Ok();
}

void KeyVault::DropUnsharedNewKeys() {
  std::lock_guard lk(mu_);
  // Between rounds (the writer's thread): nothing is in writing_, so every
  // key made here and not yet written is in new_keys_.
  for (auto it = new_keys_.begin(); it != new_keys_.end();) {
    if (!it->second.made_here) {
      ++it;
      continue;
    }
    auto adopted = adopted_pending_.find(it->first);
    if (adopted != adopted_pending_.end() && adopted->second.key == it->second.key) {
      it->second.made_here = false;  // the cluster holds this very key (this node shared it): kept
      adopted_pending_.erase(adopted);
      ++it;
      continue;
    }
    dropped_.insert(KeyTag(it->second.key));
    any_dropped_.store(true);
    if (auto c = cache_.find(it->first); c != cache_.end() && c->second == it->second.key) cache_.erase(c);
    if (adopted == adopted_pending_.end()) {
      it = new_keys_.erase(it);
      continue;
    }
    // The cluster's key in its place: written with the next round. (A key
    // this node dropped before may come back so: it is in force again.)
    dropped_.erase(KeyTag(adopted->second.key));
    if (cache_.size() >= kMaxCachedKeys) cache_.clear();
    cache_.insert_or_assign(it->first, adopted->second.key);
    it->second = std::move(adopted->second);
    adopted_pending_.erase(adopted);
    ++it;
  }
  // Any other adoption was over a key this node has written since: its own holds.
  adopted_pending_.clear();
}

bool KeyVault::SealedWithDropped(const std::vector<uint64_t>& key_tags) {
  if (!any_dropped_.load()) return false;
  std::lock_guard lk(mu_);
  return std::any_of(key_tags.begin(), key_tags.end(), [&](uint64_t t) { return dropped_.contains(t); });
}

Result<std::vector<std::string>> KeyVault::Seal(Event& e, uint64_t* key_tag) {
  std::vector<BlindValue> found_by;
  Result<std::string> plain = CheckPersonalPart(e.type, e.personal_plain, &found_by);
  if (!plain.ok()) return plain.status();
  Result<std::string> subject = PersonalSubjectOfChecked(e);
  if (!subject.ok()) return subject.status();
  std::string key;
  {
    std::lock_guard lk(mu_);
    Result<std::string> k = DataKey(*subject, /*create=*/true);
    if (!k.ok()) {
      if (k.status().code() == StatusCode::kNotFound) {
        return Status::RuleViolation("rule 'erased': " + e.type + " " + e.id.ToString() + " on " + e.stream +
                                     ": the personal data of " + *subject +
                                     " was erased; nothing personal about them is kept again");
      }
      return k.status();
    }
    key = *k;
  }
  if (key_tag != nullptr) *key_tag = KeyTag(key);
  Result<PersonalSection> sealed = SealPersonal(e.id, *subject, key, *plain);
  if (!sealed.ok()) return sealed.status();
  std::vector<std::string> entries;
  const std::vector<std::string> tokens = BlindTokensOf(blind_key_, found_by);
  {
    std::lock_guard lk(mu_);
    for (const std::string& token : tokens) {
      if (indexed_.contains(EntryFingerprint(token, *subject))) continue;
      entries.push_back(BlindKey(token, *subject));
    }
  }
  e.personal = std::move(*sealed);
  e.personal_plain.clear();
  return entries;
}

void KeyVault::NoteErased(const std::string& subject, uint64_t position, const std::string& reason) {
  std::lock_guard lk(mu_);
  committed_[subject] = Committed{position, reason};
  cache_.erase(subject);
}

Result<bool> KeyVault::HasErasedMarker(const std::string& subject) {
  Result<std::optional<std::string>> marker = Get(ErasedKey(subject));
  if (!marker.ok()) return marker.status();
  return marker->has_value();
}

Result<KeyVault::Opened> KeyVault::Open(const Event& e) {
  const std::string& subject = e.personal.subject;
  std::string key;
  {
    std::lock_guard lk(mu_);
    if (auto it = committed_.find(subject); it != committed_.end()) {
      Opened erased;
      erased.state = Opened::State::kErased;
      erased.erased_position = it->second.position;
      erased.erased_reason = it->second.reason;
      return erased;
    }
    Result<std::string> k = DataKey(subject, /*create=*/false);
    if (!k.ok()) {
      if (k.status().code() != StatusCode::kNotFound) return k.status();
      Opened erased;
      erased.state = Opened::State::kErased;
      Result<std::optional<std::string>> marker = Get(ErasedKey(subject));
      if (marker.ok() && *marker) {
        boost::system::error_code ec;
        json::value v = json::parse(**marker, ec);
        if (!ec && v.is_object()) {
          if (auto* p = v.as_object().if_contains("position"); p && p->is_uint64()) erased.erased_position = p->as_uint64();
          if (auto* p = v.as_object().if_contains("position"); p && p->is_int64()) {
            erased.erased_position = static_cast<uint64_t>(p->as_int64());
          }
          if (auto* r = v.as_object().if_contains("reason"); r && r->is_string()) erased.erased_reason = r->as_string();
        }
      } else if (marker.ok()) {
        // NotFound, not Corruption: a node of a cluster holds only the keys it sealed with.
        return Status::NotFound("event " + e.id.ToString() + " is sealed for " + subject +
                                ", whose key the store does not hold and who was never erased");
      }
      return erased;
    }
    key = *k;
  }
  Result<std::string> json_text = OpenPersonal(e.id, e.personal, key);
  if (!json_text.ok()) return json_text.status();
  Opened o;
  o.json = std::move(*json_text);
  return o;
}

bool KeyVault::IsErased(const std::string& subject) {
  std::lock_guard lk(mu_);
  return erased_.count(subject) > 0;
}

Result<bool> KeyVault::HoldsKey(const std::string& subject) {
  Result<std::optional<std::string>> record = Get(KeyRecordKey(subject));
  if (!record.ok()) return record.status();
  return record->has_value();
}

Status KeyVault::IndexWritten(const std::vector<std::string_view>& blind_keys, uint64_t end) {
  {
    std::lock_guard lk(mu_);
    if (indexed_.size() + blind_keys.size() > kMaxIndexedEntries) indexed_.clear();
    for (std::string_view key : blind_keys) {
      if (key.size() < 2 + kBlindTokenBytes || !key.starts_with("b/")) continue;
      indexed_.insert(EntryFingerprint(key.substr(2, kBlindTokenBytes), key.substr(2 + kBlindTokenBytes)));
      tail_.emplace_back(key);
    }
    tail_to_ = std::max(tail_to_, end);
    if (tail_.size() < spill_at_ && tail_to_ - tail_from_ < kBlindSpillEvents) return Status::Ok();
  }
  std::lock_guard spill(spill_mu_);
  return SpillBlindTail();
}

Status KeyVault::SpillBlindTail() {
  uint64_t to = 0;
  {
    std::lock_guard lk(mu_);
    if (!tail_loaded_ || tail_to_ == tail_from_) return Status::Ok();
    spilling_ = std::move(tail_);
    tail_.clear();
    to = tail_to_;
    // In order, and each once (a table file needs it), here: searches read
    // spilling_ while it is written.
    std::sort(spilling_.begin(), spilling_.end());
    spilling_.erase(std::unique(spilling_.begin(), spilling_.end()), spilling_.end());
  }
  Status s = WriteBlindEntries(spilling_, to);
  std::lock_guard lk(mu_);
  if (!s.ok()) {
    // Kept for searches, and for the next spill (the log stops writing).
    tail_.insert(tail_.end(), std::make_move_iterator(spilling_.begin()), std::make_move_iterator(spilling_.end()));
  } else {
    tail_from_ = std::max(tail_from_, to);
  }
  spilling_.clear();
  return s;
}

Result<bool> KeyVault::UpgradeBlindIndex() {
  const char* const wanted = FoldsEveryScript() ? "2" : "1";
  Result<std::optional<std::string>> version = Get(kBlindVersionKey);
  if (!version.ok()) return version.status();
  if (*version && **version == wanted) return false;
  // Entries of another normalisation would not be found by a search, so
  // they go, with the watermark: the index is built again from the sealed
  // events (LoadBlindTail), as after a crash before any spill. One batch.
  rocksdb::WriteBatch batch;
  (void)batch.DeleteRange(keys_cf_, "b/", "b0");  // '0' follows '/'
  (void)batch.Delete(keys_cf_, kBlindIndexedToKey);
  (void)batch.Put(keys_cf_, kBlindVersionKey, wanted);
  CUSTODIAN_RETURN_IF_ERROR(
      FromRocks(db_->Write(Synced(), &batch), "start the blind index again under its normalisation"));
  return true;
}

Result<uint64_t> KeyVault::BlindIndexedTo() {
  Result<std::optional<std::string>> value = Get(kBlindIndexedToKey);
  if (!value.ok()) return value.status();
  if (!*value) return uint64_t{0};  // nothing written yet (or a store from before 2026-12-07)
  uint64_t to = 0;
  if (!keys::DecodeU64(**value, &to)) {
    return Status::Corruption("keys[" + std::string(kBlindIndexedToKey) + "] is " + std::to_string((*value)->size()) +
                              " bytes, expected 8");
  }
  return to;
}

uint64_t KeyVault::BlindTailGeneration() {
  std::lock_guard lk(mu_);
  return tail_generation_;
}

bool KeyVault::SetBlindTail(std::vector<std::string> entries, uint64_t from, uint64_t end, uint64_t generation) {
  std::lock_guard spill(spill_mu_);
  std::lock_guard lk(mu_);
  if (generation != tail_generation_) return false;  // forgotten meanwhile
  tail_ = std::move(entries);
  tail_from_ = from;
  tail_to_ = std::max(from, end);
  tail_loaded_ = true;
  return true;
}

bool KeyVault::BlindTailLoaded() {
  std::lock_guard lk(mu_);
  return tail_loaded_;
}

void KeyVault::ForgetBlindTail() {
  std::lock_guard spill(spill_mu_);
  std::lock_guard lk(mu_);
  tail_.clear();
  tail_loaded_ = false;
  ++tail_generation_;
}

void KeyVault::SetBlindSpillAt(size_t entries) {
  std::lock_guard lk(mu_);
  spill_at_ = std::max<size_t>(entries, 1);
}

Status KeyVault::WriteBlindTail() {
  std::lock_guard spill(spill_mu_);
  return SpillBlindTail();
}

Status KeyVault::WriteBlindEntries(const std::vector<std::string>& entries, uint64_t to) {
  const std::string watermark = keys::EncodeU64(to);
  if (entries.size() < kBlindIngestAtLeast) {
    // Synced, so the events the entries name are durable too (the write-ahead
    // log is one file, synced up to here).
    rocksdb::WriteBatch batch;
    (void)batch.Put(keys_cf_, kBlindIndexedToKey, watermark);
    for (const std::string& key : entries) (void)batch.Put(keys_cf_, key, "");
    return FromRocks(db_->Write(Synced(), &batch), "write the blind index");
  }
  // One table file, the watermark first ("a/" sorts before "b/"), then the
  // entries in order: RocksDB takes it in whole, so the watermark never
  // passes an entry the family lacks.
  return IngestTableFile(db_, keys_cf_, db_->GetName() + "/blind-" + std::to_string(to) + ".sst",
                         [&](rocksdb::SstFileWriter& writer) {
                           rocksdb::Status put = writer.Put(kBlindIndexedToKey, watermark);
                           for (size_t i = 0; put.ok() && i < entries.size(); ++i) put = writer.Put(entries[i], "");
                           return put;
                         });
}

void KeyVault::ForgetCachedKeys() {
  std::lock_guard lk(mu_);
  cache_.clear();
}

Result<std::vector<std::string>> KeyVault::Subjects(BlindKind kind, std::string_view value) {
  std::vector<std::string> terms = BlindTerms(kind, value);
  if (terms.empty()) return Status::InvalidArgument(QuotedText(value) + " gives nothing to search for");
  // Every term must match (a name of two words finds who has both).
  std::vector<std::string> found;
  for (size_t i = 0; i < terms.size(); ++i) {
    const std::string prefix = "b/" + BlindToken(blind_key_, kind, terms[i]);
    std::vector<std::string> these;
    {
      // The tail in memory first, then the family: an entry a spill moves
      // in between is then seen twice, never missed.
      std::lock_guard lk(mu_);
      for (const std::vector<std::string>* held : {&tail_, &spilling_}) {
        for (const std::string& key : *held) {
          if (key.starts_with(prefix)) these.push_back(key.substr(prefix.size()));
        }
      }
    }
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), keys_cf_));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      these.emplace_back(it->key().ToStringView().substr(prefix.size()));
    }
    CUSTODIAN_RETURN_IF_ERROR(FromRocks(it->status(), "search the blind index"));
    std::sort(these.begin(), these.end());
    these.erase(std::unique(these.begin(), these.end()), these.end());
    if (i == 0) {
      found = std::move(these);
    } else {
      std::vector<std::string> both;
      for (const std::string& s : found) {
        if (std::find(these.begin(), these.end(), s) != these.end()) both.push_back(s);
      }
      found = std::move(both);
    }
  }
  std::lock_guard lk(mu_);  // erased, whatever entries a crash left behind
  std::erase_if(found, [&](const std::string& s) { return committed_.count(s) > 0 || erased_.count(s) > 0; });
  return found;
}

Status KeyVault::Erase(const std::string& subject, uint64_t position, const std::string& reason, bool listed) {
  // 1. Listed beside the master key first, so a restore of an older backup,
  // or an open after a crash in the middle, erases it again.
  json::object line{{"subject", subject}, {"position", position}, {"reason", reason},
                    {"erased_at", FormatRfc3339(SystemClock().Now())}};
  if (!listed) {
    const std::string path = (fs::path(key_dir_) / kErasedFile).string();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return Status::IoError("cannot open " + path + ": " + std::strerror(errno));
    const std::string text = json::serialize(line) + "\n";
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return Status::IoError("cannot write " + path);
  }
  // 2. The key, its blind-index entries, and the marker that says why. No
  // spill is under way meanwhile (spill_mu_): one would put entries back.
  std::lock_guard spill(spill_mu_);
  std::lock_guard lk(mu_);
  erased_.insert(subject);
  cache_.erase(subject);
  new_keys_.erase(subject);
  writing_.erase(subject);
  adopted_pending_.erase(subject);
  indexed_.clear();  // its entries go; nothing may say they are written
  std::erase_if(tail_, [&](const std::string& key) {
    return key.size() == 2 + kBlindTokenBytes + subject.size() && key.ends_with(subject);
  });
  rocksdb::WriteBatch batch;
  (void)batch.Delete(keys_cf_, KeyRecordKey(subject));
  // Its blind-index entries: every "b/" token subject key that ends with
  // exactly this subject. A scan of the whole index (erasures are rare, and
  // Purge then compacts the family anyway) spares the writer a second,
  // by-subject entry for each one. Stores written before 2026-12-05 also
  // hold such entries, "s/" subject 00 token: deleted too.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), keys_cf_));
  for (it->Seek("b/"); it->Valid() && it->key().starts_with("b/"); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    if (key.size() == 2 + kBlindTokenBytes + subject.size() && key.ends_with(subject)) (void)batch.Delete(keys_cf_, key);
  }
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(it->status(), "list the blind-index entries of " + subject));
  const std::string legacy = "s/" + subject + '\0';
  for (it->Seek(legacy); it->Valid() && it->key().starts_with(legacy); it->Next()) {
    (void)batch.Delete(keys_cf_, BlindKey(it->key().ToStringView().substr(legacy.size()), subject));
    (void)batch.Delete(keys_cf_, it->key());
  }
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(it->status(), "list the blind-index entries of " + subject));
  (void)batch.Put(keys_cf_, ErasedKey(subject), json::serialize(json::object{{"position", position}, {"reason", reason}}));
  return FromRocks(db_->Write(Synced(), &batch), "erase the key of " + subject);
}

Status KeyVault::Purge(const std::vector<rocksdb::ColumnFamilyHandle*>& families) {
  // Every family flushed: the write-ahead logs that held the key are obsolete.
  rocksdb::FlushOptions flush;
  flush.wait = true;
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(db_->Flush(flush, families), "flush before purging erased keys"));
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  compact.exclusive_manual_compaction = true;
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(db_->CompactRange(compact, keys_cf_, nullptr, nullptr),
                                      "compact the keys family"));
  // RocksDB deletes obsolete files after a flush or compaction; make sure
  // nothing holds them (file deletions are on) and the WAL moved on.
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(db_->EnableFileDeletions(/*force=*/false), "enable file deletions"));
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(db_->FlushWAL(/*sync=*/true), "sync the write-ahead log"));
  return Status::Ok();
}

Result<size_t> KeyVault::ReapplyErasures() {
  size_t done = 0;
  Result<std::vector<ListedErasure>> list = ReadErasureList(fs::path(key_dir_) / kErasedFile);
  if (!list.ok()) return list.status();
  for (const ListedErasure& listed : *list) {
    Result<std::optional<std::string>> record = Get(KeyRecordKey(listed.subject));
    if (!record.ok()) return record.status();
    Result<std::optional<std::string>> marker = Get(ErasedKey(listed.subject));
    if (!marker.ok()) return marker.status();
    if (!*record && *marker) continue;  // erased in this store already
    bool committed_here = false;
    {
      std::lock_guard lk(mu_);
      committed_here = committed_.count(listed.subject) > 0;
    }
    const std::string reason =
        committed_here ? listed.reason
                       : listed.reason + " (erased after the backup this store was restored from; the position is "
                                         "in the store it was erased in)";
    CUSTODIAN_RETURN_IF_ERROR(Erase(listed.subject, listed.position, reason, /*listed=*/true));
    ++done;
  }
  return done;
}

Status KeyVault::Retire(const std::string& old) {
  std::error_code ec;
  if (!fs::exists(old, ec)) return Status::Ok();
  Result<std::string> key = ReadKeyFile(old);
  if (!key.ok()) return key.status();
  const fs::path dir = fs::path(key_dir_), retired = dir / kRetiredDir;
  fs::create_directories(retired, ec);
  if (ec) return Status::IoError("cannot create " + retired.string() + ": " + ec.message());
  fs::permissions(retired, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return Status::IoError("cannot make " + retired.string() + " owner-only: " + ec.message());
  fs::rename(old, retired / (MasterKeyFingerprint(*key) + ".key"), ec);
  if (ec) return Status::IoError("cannot retire the old master key to " + retired.string() + ": " + ec.message());
  CUSTODIAN_RETURN_IF_ERROR(SyncDir(retired));
  return SyncDir(dir);
}

Result<size_t> KeyVault::RewrapUnderCurrent() {
  const Master& target = masters_.front();
  // The keys of people erased since (listed beside the master key) are not
  // wrapped again: the erasures made again at this open destroy them.
  std::set<std::string> erased;
  Result<std::vector<ListedErasure>> list = ReadErasureList(fs::path(key_dir_) / kErasedFile);
  if (!list.ok()) return list.status();
  for (ListedErasure& listed : *list) erased.insert(std::move(listed.subject));
  rocksdb::WriteBatch batch;
  size_t count = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), keys_cf_));
  for (it->Seek("k/"); it->Valid() && it->key().starts_with("k/"); it->Next()) {
    const std::string subject(it->key().ToStringView().substr(2));
    if (erased.contains(subject)) continue;
    Result<std::string> data_key = Unwrap(subject, it->value().ToStringView());
    if (!data_key.ok()) return data_key.status();
    Result<std::string> wrapped = WrapKey(target.key, subject, *data_key);
    if (!wrapped.ok()) return wrapped.status();
    (void)batch.Put(keys_cf_, it->key(), EncodeRecord({{target.fingerprint, *wrapped}}));
    ++count;
  }
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(it->status(), "read the keys family"));
  (void)batch.Put(keys_cf_, kMastersKey, target.fingerprint);
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(db_->Write(Synced(), &batch), "re-wrap the keys under the master key in force"));
  masters_.resize(1);
  return count;
}

Result<size_t> KeyVault::RotateMaster(const std::function<void(std::string_view)>& pause) {
  std::lock_guard lk(mu_);
  // A key taken into a round not yet written is in no store scan below: it
  // would stay wrapped under the old master key only, and be lost with it.
  // (mu_ held, no round takes keys until the rotation is done.)
  if (!writing_.empty()) {
    return Status::Unavailable("a round of appends is being written with new data keys; retry the rotation");
  }
  CUSTODIAN_RETURN_IF_ERROR(WriteNewKeysLocked());  // every key is re-wrapped, the newest too
  const fs::path dir(key_dir_);
  const fs::path master(master_file_), fresh = Sibling(master, ".new"), old = Sibling(master, ".old");
  std::error_code ec;
  if (!fs::exists(master, ec) && fs::exists(fresh, ec)) {
    // Cut short between the two renames of step 3: finish them.
    fs::rename(fresh, master, ec);
    if (ec) return Status::IoError("cannot put the new master key in force: " + ec.message());
    CUSTODIAN_RETURN_IF_ERROR(SyncDir(dir));
  }
  const bool renamed = fs::exists(old, ec) && !fs::exists(fresh, ec);
  std::string new_key;
  if (!renamed) {
    // 1. The new key, on disk before anything is wrapped with it (an
    // interrupted rotation goes on with the key it had made).
    if (fs::exists(fresh, ec)) {
      Result<std::string> k = ReadKeyFile(fresh);
      if (!k.ok()) return k.status();
      new_key = *k;
    } else {
      new_key = crypto::RandomBytes(kMasterKeyBytes);
      CUSTODIAN_RETURN_IF_ERROR(WriteKeyFile(fresh, new_key));
      CUSTODIAN_RETURN_IF_ERROR(SyncDir(dir));
      masters_.push_back(Master{new_key, MasterKeyFingerprint(new_key)});
    }
    if (pause) pause("new key written");
    const std::string old_fp = masters_.front().fingerprint;
    const std::string new_fp = MasterKeyFingerprint(new_key);
    if (old_fp == new_fp) return Status::FailedPrecondition("the new master key is the one in force");

    // 2. One atomic, synced batch: every key wrapped under both masters.
    // Before it the old key opens everything; after it either key does.
    rocksdb::WriteBatch both;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), keys_cf_));
    for (it->Seek("k/"); it->Valid() && it->key().starts_with("k/"); it->Next()) {
      const std::string subject(it->key().ToStringView().substr(2));
      Result<std::string> data_key = Unwrap(subject, it->value().ToStringView());
      if (!data_key.ok()) return data_key.status();
      Result<std::string> wrapped = WrapKey(new_key, subject, *data_key);
      if (!wrapped.ok()) return wrapped.status();
      Result<std::vector<std::pair<std::string, std::string>>> wraps =
          DecodeRecord(subject, it->value().ToStringView());
      if (!wraps.ok()) return wraps.status();
      std::vector<std::pair<std::string, std::string>> kept;
      for (auto& w : *wraps) {
        if (w.first != new_fp) kept.push_back(w);
      }
      kept.emplace_back(new_fp, *wrapped);
      (void)both.Put(keys_cf_, it->key(), EncodeRecord(kept));
    }
    CUSTODIAN_RETURN_IF_ERROR(FromRocks(it->status(), "read the keys family"));
    (void)both.Put(keys_cf_, kMastersKey, old_fp + new_fp);
    CUSTODIAN_RETURN_IF_ERROR(FromRocks(db_->Write(Synced(), &both), "wrap every key under both master keys"));
    if (pause) pause("keys wrapped under both");

    // 3. The new key in force: master.key -> master.key.old, .new -> master.key.
    fs::rename(master, old, ec);
    if (ec) return Status::IoError("cannot keep the old master key aside: " + ec.message());
    fs::rename(fresh, master, ec);
    if (ec) return Status::IoError("cannot put the new master key in force: " + ec.message());
    CUSTODIAN_RETURN_IF_ERROR(SyncDir(dir));
    if (pause) pause("new key in force");
  } else {
    Result<std::string> k = ReadKeyFile(master);
    if (!k.ok()) return k.status();
    new_key = *k;
  }

  // 4. Only the new wrappings kept; the old key deleted.
  const std::string new_fp = MasterKeyFingerprint(new_key);
  rocksdb::WriteBatch only_new;
  size_t count = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), keys_cf_));
  for (it->Seek("k/"); it->Valid() && it->key().starts_with("k/"); it->Next()) {
    const std::string subject(it->key().ToStringView().substr(2));
    Result<std::vector<std::pair<std::string, std::string>>> wraps = DecodeRecord(subject, it->value().ToStringView());
    if (!wraps.ok()) return wraps.status();
    auto mine = std::find_if(wraps->begin(), wraps->end(), [&](const auto& w) { return w.first == new_fp; });
    if (mine == wraps->end()) {
      return Status::Corruption("the key of " + subject + " has no wrapping under the new master key");
    }
    (void)only_new.Put(keys_cf_, it->key(), EncodeRecord({*mine}));
    ++count;
  }
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(it->status(), "read the keys family"));
  (void)only_new.Put(keys_cf_, kMastersKey, new_fp);
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(db_->Write(Synced(), &only_new), "drop the old wrappings"));
  // The old key is kept in retired/, owner-only, for the backups made
  // before: a store restored from one is re-wrapped under the key in force
  // when it is opened (Open). Deleting it there makes their people unreadable.
  CUSTODIAN_RETURN_IF_ERROR(Retire(old.string()));
  masters_ = {Master{new_key, new_fp}};
  cache_.clear();
  return count;
}

}  // namespace custodian
