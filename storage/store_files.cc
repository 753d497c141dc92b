#include "storage/store_files.h"

#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/metadata.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/text.h"
#include "storage/keys.h"

namespace fs = std::filesystem;

namespace custodian::store_files {
namespace {

constexpr char kMarkerPrefix[] = "Custodian store, format ";
constexpr char kCleanCloseHeader[] = "Custodian clean close, format 1";

std::string ReadFirstLine(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string Damaged(const fs::path& dir, const std::string& what) {
  return "the store at " + dir.string() + " is damaged: " + what + "; restore it from a backup";
}

// A new store's directory is the owner's alone: whatever RocksDB later
// creates in it is out of other accounts' reach, whatever the umask.
Status OwnerOnly(const fs::path& dir) {
  std::error_code ec;
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return Status::IoError("cannot make " + dir.string() + " owner-only: " + ec.message());
  return Status::Ok();
}

}  // namespace

std::string MarkerContents() {
  return std::string(kMarkerPrefix) + std::to_string(keys::kStoreFormat) + "\nDo not edit or delete this file.\n";
}

}  // namespace custodian::store_files

namespace custodian {

bool IsCustodianStore(const std::string& dir) {
  std::error_code ec;
  const fs::path marker = fs::path(dir) / keys::kMarkerFile;
  return fs::is_regular_file(marker, ec) && store_files::ReadFirstLine(marker).starts_with(store_files::kMarkerPrefix);
}

}  // namespace custodian

namespace custodian::store_files {

Status WriteFileDurably(const fs::path& path, const std::string& contents, mode_t mode) {
  // A new file of our own at a fresh name beside `path` (mkstemp: made, never
  // opened through a link, never another's file), then renamed over it.
  std::string tmp = path.string() + ".tmp-XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return Status::IoError("cannot create a file beside " + path.string() + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0 &&
            ::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()) &&
            ::fsync(fd) == 0;
  const int error = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(ok ? errno : error);
    ::unlink(tmp.c_str());  // what it held goes with the failure
    return Status::IoError("cannot write " + path.string() + ": " + why);
  }
  const fs::path parent = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  int dfd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

Status CheckStoreDirectory(const fs::path& dir, CreateIfMissing create_if_missing, bool* create) {
  *create = false;
  std::error_code ec;
  const bool may_create = create_if_missing == CreateIfMissing::kYes;
  fs::path marker = dir / keys::kMarkerFile;
  if (!fs::exists(dir, ec)) {
    if (!may_create) {
      return Status::NotFound("no Custodian store at " + dir.string() + "; create one with `custodian init`");
    }
    fs::create_directories(dir, ec);
    if (ec) return Status::IoError("cannot create " + dir.string() + ": " + ec.message());
    *create = true;
    return OwnerOnly(dir);
  }
  if (!fs::is_directory(dir, ec)) {
    return Status::Unsupported(dir.string() + " is not a directory, so not a Custodian store");
  }
  if (!fs::exists(marker, ec)) {
    if (fs::is_empty(dir, ec)) {
      if (may_create) {
        *create = true;
        return OwnerOnly(dir);
      }
      return Status::NotFound("no Custodian store at " + dir.string() +
                              " (the directory is empty); create one with `custodian init`");
    }
    return Status::Unsupported(dir.string() + " is not a Custodian store: it holds files but no " +
                               keys::kMarkerFile + " file; refusing to touch it");
  }
  if (!fs::exists(dir / "CURRENT", ec)) {
    // The marker is written before RocksDB's files: a store whose creation was
    // cut short holds only the marker. Anything more means a damaged store,
    // which must not be silently re-created over its data.
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.ends_with(".sst") || name.ends_with(".log") || name.starts_with("MANIFEST")) {
        return Status::Corruption("the store at " + dir.string() + " has lost its CURRENT file but still holds " +
                                  name + "; restore it from a backup (nothing was changed)");
      }
    }
    *create = may_create;
  }
  std::ifstream in(marker);
  std::string line;
  std::getline(in, line);
  if (!line.starts_with(kMarkerPrefix)) {
    return Status::Unsupported(marker.string() + " does not describe a Custodian store (first line " +
                               QuotedText(line, 60) + "); refusing to touch it");
  }
  uint64_t format = std::strtoull(line.c_str() + sizeof(kMarkerPrefix) - 1, nullptr, 10);
  if (format == 0) return Status::Unsupported(marker.string() + " names no format version");
  if (format > keys::kStoreFormat) {
    return Status::Unsupported("the store at " + dir.string() + " was written by a newer Custodian (format " +
                               std::to_string(format) + "; this build reads up to format " +
                               std::to_string(keys::kStoreFormat) + "); it was left untouched");
  }
  return Status::Ok();
}


Result<std::optional<note::VerifierKey>> ReadVerifierKeyFile(const fs::path& dir) {
  const fs::path path = dir / keys::kVerifierKeyFile;
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<note::VerifierKey>();
  Result<note::VerifierKey> key = note::VerifierKey::Parse(ReadFirstLine(path));
  if (!key.ok()) return key.status().WithContext(path.string());
  return std::optional<note::VerifierKey>(std::move(*key));
}

Result<note::SigningKey> ReadSigningKeyFile(const fs::path& dir, const std::optional<note::VerifierKey>& published) {
  const fs::path path = dir / keys::kSignerKeyFile;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return Status::NotFound("the store at " + dir.string() + " has no checkpoint signing key (" + path.string() +
                              ")");
    }
    return Status::IoError("cannot read " + path.string() + ": " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::FailedPrecondition("the checkpoint signing key " + path.string() + " can be read by others (mode " +
                                      mode + "); refusing to sign with it. Make it readable by its owner only: " +
                                      "chmod 600 " + path.string());
  }
  Result<note::SigningKey> key = note::SigningKey::Parse(ReadFirstLine(path));
  if (!key.ok()) return key.status().WithContext(path.string());
  if (published && key->verifier().ToString() != published->ToString()) {
    const fs::path vkey_path = dir / keys::kVerifierKeyFile;
    return Status::FailedPrecondition(
        "the checkpoint signing key " + path.string() + " (verifier key " + key->verifier().ToString() +
        ") does not match the published verifier key " + vkey_path.string() + " (" + published->ToString() +
        "); refusing to sign: its checkpoints would never verify. Put back the log.key that belongs to log.vkey");
  }
  return key;
}

// --- Damage ---

namespace {

// The MANIFEST that CURRENT names ("MANIFEST-000031"); empty without CURRENT.
std::string CurrentManifest(const fs::path& dir) { return ReadFirstLine(dir / "CURRENT"); }

// -1 when `path` cannot be stat'ed.
int64_t FileSize(const fs::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

}  // namespace

Status CheckManifest(const fs::path& dir) {
  // A writer may switch to a new MANIFEST (and delete the old one) meanwhile:
  // a missing one counts only if CURRENT still names it afterwards.
  std::string manifest = CurrentManifest(dir);
  for (int attempt = 0; attempt < 3 && !manifest.empty(); ++attempt) {
    if (FileSize(dir / manifest) >= 0) return Status::Ok();
    const std::string again = CurrentManifest(dir);
    if (again == manifest) {
      return Status::Corruption(Damaged(dir, "its MANIFEST (" + manifest + ", the list of its table files that " +
                                                 "CURRENT names) is missing") +
                                " (nothing was changed)");
    }
    manifest = again;
  }
  return Status::Ok();
}

// CUSTODIAN-CLOSED, plain text (docs/event-format.md, "Store directory"):
//   Custodian clean close, format 1
//   manifest <MANIFEST file name> <size>
//   wal <write-ahead log file name> <size>      one line per log still needed
//   table <table file name> <size> <family>    one line per live table file
Status CheckCleanClose(const fs::path& dir) {
  std::ifstream in(dir / kCleanCloseFile);
  if (!in) return Status::Ok();  // not closed cleanly (or never): nothing to compare with
  std::string line, manifest;
  int64_t manifest_size = -1;
  struct Expected {
    std::string kind, name;
    int64_t size;
    std::string family;  // of a table file
  };
  std::vector<Expected> files;
  if (!std::getline(in, line) || line != kCleanCloseHeader) return Status::Ok();  // not one we can read
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    Expected f;
    if (!(fields >> f.kind >> f.name >> f.size) || f.size < 0 || f.name.find('/') != std::string::npos) {
      return Status::Ok();
    }
    fields >> f.family;
    if (f.kind == "manifest") {
      manifest = f.name;
      manifest_size = f.size;
    } else if (f.kind == "wal" || f.kind == "table") {
      files.push_back(std::move(f));
    }
  }
  // RocksDB opened the store read-write since (a new MANIFEST): the logs
  // were replayed, files compacted away; the record says nothing any more.
  auto stale = [&] { return CurrentManifest(dir) != manifest || FileSize(dir / manifest) != manifest_size; };
  if (manifest.empty() || stale()) return Status::Ok();
  for (const Expected& f : files) {
    const int64_t size = FileSize(dir / f.name);
    if (f.kind == "wal" ? size >= f.size : size == f.size) continue;
    if (stale()) return Status::Ok();  // a writer opened it while we looked
    const std::string missing = "missing";
    if (f.kind == "wal") {
      const std::string now = size < 0 ? missing : "cut short to " + std::to_string(size) + " bytes";
      return Status::Corruption(Damaged(dir, "its write-ahead log " + f.name + " is " + now + ", but held " +
                                                 std::to_string(f.size) +
                                                 " bytes when the store was last closed: events written before "
                                                 "then are lost") +
                                " (nothing was changed)");
    }
    const std::string now = size < 0 ? missing : "now " + std::to_string(size) + " bytes";
    const std::string family = f.family.empty() ? "" : " (" + f.family + " family)";
    return Status::Corruption(Damaged(dir, "its table file " + f.name + family + " is " + now + ", but was " +
                                               std::to_string(f.size) + " bytes when the store was last closed") +
                              " (nothing was changed)");
  }
  return Status::Ok();
}

bool LockHeldElsewhere(const fs::path& dir) {
  const fs::path path = dir / "LOCK";
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;  // no store yet, or none RocksDB made
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  const bool held = ::fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

Status CheckWritable(const fs::path& dir) {
  if (::access(dir.c_str(), W_OK) == 0 || (errno != EACCES && errno != EROFS && errno != EPERM)) return Status::Ok();
  return NotWritable(dir, std::strerror(errno));
}

Status NotWritable(const fs::path& dir, const std::string& why) {
  return Status::IoError("the store directory " + dir.string() + " is not writable (" + why +
                         "), so commands that write cannot open it; commands that only read still work (stats, "
                         "verify, prove, key show, checkpoint --list, and read of a stream that is not customer "
                         "data). Make it writable (or run as its owner) to write, or to show customer data, whose "
                         "every read is recorded");
}

Status ForgetCleanClose(const fs::path& dir) {
  const fs::path path = dir / kCleanCloseFile;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::IoError("cannot remove " + path.string() + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Status RecordCleanClose(rocksdb::DB* db, const fs::path& dir) {
  // Running flushes and compactions finish first and no new ones start, so
  // the MANIFEST and the files stay as recorded while RocksDB closes.
  (void)db->PauseBackgroundWork();
  rocksdb::Status s = db->FlushWAL(/*sync=*/true);
  if (!s.ok()) return Status::IoError("sync the write-ahead log: " + s.ToString());
  const std::string manifest = CurrentManifest(dir);
  const int64_t manifest_size = FileSize(dir / manifest);
  if (manifest.empty() || manifest_size < 0) {
    return Status::IoError("no MANIFEST named by " + (dir / "CURRENT").string());
  }
  std::string text = std::string(kCleanCloseHeader) + "\nmanifest " + manifest + " " +
                     std::to_string(manifest_size) + "\n";
  // Logs below this number hold nothing unflushed: RocksDB may delete them.
  uint64_t min_log = 0;
  if (!db->GetIntProperty("rocksdb.min-log-number-to-keep", &min_log)) {
    return Status::IoError("RocksDB does not say which write-ahead logs it still needs");
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(".log") || std::strtoull(name.c_str(), nullptr, 10) < min_log) continue;
    const int64_t size = FileSize(entry.path());
    if (size >= 0) text += "wal " + name + " " + std::to_string(size) + "\n";
  }
  if (ec) return Status::IoError("list " + dir.string() + ": " + ec.message());
  std::vector<rocksdb::LiveFileMetaData> tables;
  db->GetLiveFilesMetaData(&tables);
  for (const rocksdb::LiveFileMetaData& t : tables) {
    text += "table " + fs::path(t.name).filename().string() + " " + std::to_string(t.size) + " " +
            t.column_family_name + "\n";
  }
  return WriteFileDurably(dir / kCleanCloseFile, text);
}

}  // namespace custodian::store_files
