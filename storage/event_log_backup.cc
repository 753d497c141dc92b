// EventLog::CopyTo: a consistent copy of the store (event_log.h, "Backup").
#include <rocksdb/utilities/checkpoint.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>

#include "storage/event_log.h"
#include "storage/event_log_internal.h"
#include "storage/store_files.h"

namespace custodian {
namespace fs = std::filesystem;

namespace {

// RocksDB's own files, which the checkpoint copies (or must not be copied:
// the lock, the info logs), and the clean-close record, which describes the
// live store and not the copy.
bool IsRocksDbOrLiveFile(const std::string& name) {
  auto ends = [&](std::string_view s) { return name.size() >= s.size() && name.ends_with(s); };
  return name == "CURRENT" || name == "IDENTITY" || name == "LOCK" || name.starts_with("LOG") ||
         name.starts_with("MANIFEST-") || name.starts_with("OPTIONS-") || ends(".sst") || ends(".log") ||
         ends(".blob") || name == store_files::kCleanCloseFile;
}

// Owner-only, as every store file (docs/event-format.md, "Store directory").
Status OwnerOnly(const fs::path& root) {
  std::error_code ec;
  fs::permissions(root, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return Status::IoError("cannot make " + root.string() + " owner-only: " + ec.message());
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const fs::perms mode = it->is_directory() ? fs::perms::owner_all : fs::perms::owner_read | fs::perms::owner_write;
    fs::permissions(it->path(), mode, fs::perm_options::replace, ec);
    if (ec) return Status::IoError("cannot make " + it->path().string() + " owner-only: " + ec.message());
  }
  if (ec) return Status::IoError("cannot list " + root.string() + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

Result<uint64_t> EventLog::CopyTo(const std::string& dir) const {
  if (read_only()) {
    return Status::FailedPrecondition("a backup needs the store open read-write (another process holds it; stop it "
                                      "or run the backup there)");
  }
  std::error_code ec;
  const fs::path to(dir);
  if (fs::exists(fs::symlink_status(to, ec))) {
    return Status::Conflict(to.string() + " exists; a backup goes to a new directory");
  }
  // Everything written so far is in the copy: the write-ahead log is part of
  // the checkpoint, and the events it holds are synced.
  const uint64_t events = end().value();
  rocksdb::Checkpoint* raw = nullptr;
  CUSTODIAN_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "start a checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  CUSTODIAN_RETURN_IF_ERROR(
      FromRocks(checkpoint->CreateCheckpoint(to.string(), /*log_size_for_flush=*/0), "copy the store to " + dir));
  // Our own files beside RocksDB's.
  for (const fs::directory_entry& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (IsRocksDbOrLiveFile(name)) continue;
    if (entry.is_symlink()) continue;  // never ours
    if (entry.is_directory()) {
      fs::copy(entry.path(), to / name, fs::copy_options::recursive, ec);
    } else if (entry.is_regular_file()) {
      fs::copy_file(entry.path(), to / name, fs::copy_options::overwrite_existing, ec);
    }
    if (ec) return Status::IoError("cannot copy " + entry.path().string() + " to " + dir + ": " + ec.message());
  }
  if (ec) return Status::IoError("cannot list " + dir_ + ": " + ec.message());
  CUSTODIAN_RETURN_IF_ERROR(OwnerOnly(to));
  return events;
}

}  // namespace custodian
