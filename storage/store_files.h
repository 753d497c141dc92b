// The files of a store's directory (docs/event-format.md, "Store directory"):
// deciding whether a directory may be opened, our own files beside RocksDB's
// (the marker, the checkpoint key, the clean-close record), and the checks
// that RocksDB's files are all there. Shared by event_log*.cc; not part of
// the API.
//
// RocksDB passes over some damage without a word: a secondary instance opens
// a store whose table files were deleted, and a write-ahead log cut short
// is read as if the process had crashed at that point, silently losing
// acknowledged events. These checks make such a store refuse to open, with
// a message that names the file and says to restore from a backup.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

#include "core/note.h"
#include "core/status.h"
#include "storage/event_log.h"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace custodian::store_files {

// Writes `contents` to `path` through a temporary file, fsync and rename.
Status WriteFileDurably(const std::filesystem::path& path, const std::string& contents, mode_t mode = 0600);  // store files are owner-only

// The CUSTODIAN marker file's contents for this build's store format.
std::string MarkerContents();

// Decides whether `dir` may be opened, before RocksDB touches anything.
// Sets *create when a new store is to be made there.
Status CheckStoreDirectory(const std::filesystem::path& dir, CreateIfMissing create_if_missing, bool* create);

// The published verifier key (log.vkey); nothing when the store has none.
Result<std::optional<note::VerifierKey>> ReadVerifierKeyFile(const std::filesystem::path& dir);
// The signing key (log.key), when it may sign: readable by its owner only and
// the private half of `published` (log.vkey) when there is one. NotFound
// without a key file; FailedPrecondition, naming the files and the fix, when
// it may not sign; InvalidArgument when it does not parse.
Result<note::SigningKey> ReadSigningKeyFile(const std::filesystem::path& dir,
                                            const std::optional<note::VerifierKey>& published);

// A read-write open needs the directory writable: IoError (NotWritable)
// when the user may not write there or the file system is read-only.
Status CheckWritable(const std::filesystem::path& dir);
// What to say when writing in `dir` was refused (`why`: the system's reason).
Status NotWritable(const std::filesystem::path& dir, const std::string& why);

// Whether a process other than this one holds the lock RocksDB takes on
// `dir`/LOCK when it opens the store read-write (an fcntl write lock).
bool LockHeldElsewhere(const std::filesystem::path& dir);

// --- Damage (Corruption, naming the file and saying to restore a backup) ---

// CURRENT names a MANIFEST that exists. A store without CURRENT passes.
Status CheckManifest(const std::filesystem::path& dir);

// The clean-close record (kCleanCloseFile): when a read-write log closes
// after its last write, the MANIFEST it leaves, the size of each
// write-ahead log RocksDB still needs and of each live table file. Until
// RocksDB opens the store read-write again (which starts a new MANIFEST),
// those files must all be there: a table file missing or changed in size, a
// log missing or shorter, lost acknowledged events. A secondary instance
// would open such a store at an older state without a word. After a crash
// there is no record: a torn last write is RocksDB's to drop, and a
// read-write open finds missing table files itself.
inline constexpr char kCleanCloseFile[] = "CUSTODIAN-CLOSED";
Status CheckCleanClose(const std::filesystem::path& dir);
// Before a read-write open: the record no longer describes the store.
Status ForgetCleanClose(const std::filesystem::path& dir);
// At the end of a clean close, after the last write, before RocksDB closes.
Status RecordCleanClose(rocksdb::DB* db, const std::filesystem::path& dir);

}  // namespace custodian::store_files
