// The store as every operation opens and uses it, shared by the command line
// and the server (DESIGN.md, Architecture): opening it with the log's rules,
// its master key and the reads spooled while another process held it;
// bringing the projections up to date and raising the alerts they found;
// the state a query reads; and the recording of every read of customer data,
// for the principal who asks.
//
// Warnings (a loose store, a refused spool line, an alert, a webhook that was
// not reached) go to the warning sink: standard error unless SetWarningSink
// named another.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "replay/access.h"
#include "replay/alerts.h"
#include "replay/projection.h"
#include "replay/state_reader.h"
#include "storage/event_log.h"

namespace custodian {

inline constexpr double kDefaultWaitSeconds = 10;

// Where the store is and how to open it.
struct StoreOptions {
  std::string data_dir;
  double checkpoint_every_seconds = 0;  // sign checkpoints while writing (0: only when asked)
  // How long an open for writing waits for another process that holds the
  // store read-write to let go (0: fail at once).
  double wait_seconds = kDefaultWaitSeconds;
  // The master key file; empty: <data>.keys/master.key (MasterKeyFile).
  std::string master_key;
  // Past one machine: the store is a node's replica of the log of record
  // (EventLogOptions::replica), and a round carries at most this many bytes
  // (0: the log's default).
  bool replica = false;
  size_t max_batch_bytes = 0;
};

// Where the master key of the store is: options.master_key, else <data>.keys/master.key.
std::string MasterKeyFile(const StoreOptions& options);

// Writes a file a command makes for its user (an export, a briefing): owner-
// only, through a new temporary file (never through a link), synced, then
// renamed over `path`.
Status WriteOwnerOnlyFile(const std::string& path, const std::string& contents);

// All of `in` (a file given by its user, standard input) when it holds at
// most `max_bytes`; InvalidArgument naming `what` when it holds more (a
// device such as /dev/zero never ends), IoError when it cannot be read.
Result<std::string> ReadAtMost(std::istream& in, size_t max_bytes, const std::string& what);

// "<host>/custodian": a name for a new log until the company chooses one.
std::string DefaultOrigin();

// Where warnings go (standard error, as "custodian: warning: ...", by default).
void SetWarningSink(std::function<void(std::string_view)> sink);
void Warn(std::string_view message);

// Whether an open signs checkpoints itself.
enum class Signs { kNo, kYes };
// Whether a read-write open waits for another process that holds the store
// read-write: writers do; those that can do with a read-only store do not.
enum class WaitForWriter { kYes, kNo };

// Opens the store in options.data_dir. Read-write, while another process
// holds the store it retries until that process lets go or
// options.wait_seconds have passed (then Unavailable: "another process holds
// the store at D read-write; waited 10 s ..."), and it first appends the
// reads spooled while another process held the store; with Signs::kYes it
// refuses (SignCheckpoint's reasons) before writing anything when the store
// cannot sign.
Result<std::unique_ptr<EventLog>> OpenStore(const StoreOptions& options, EventLogOptions::Mode mode,
                                            CreateIfMissing create = CreateIfMissing::kNo,
                                            const std::string& origin = "", Signs signs = Signs::kNo,
                                            WaitForWriter wait = WaitForWriter::kYes);
// Opens it read-write, or read-only when another process holds it: for
// operations that only read but record who read.
Result<std::unique_ptr<EventLog>> OpenForReading(const StoreOptions& options);
// With options.checkpoint_every_seconds set, whether the store can sign
// (EventLog::CheckSigningKey); Ok when there is no store yet.
Status CheckCheckpointSigning(const StoreOptions& options);

// Registers every projection the queries read (rebuild and catch-up use it).
void AddProjections(ProjectionEngine& engine);
// Brings every projection up to date and raises the alerts they found
// (RaiseAndNotify). `log` must be writable. Holds ProjectionLock.
Status CatchUpProjections(EventLog& log);
// The same with an engine the caller keeps (made with AddProjections), so
// that its projections' caches last from one catch-up to the next: a
// follower that folds every few milliseconds then reads little back.
Status CatchUpProjections(EventLog& log, ProjectionEngine& engine);
// Whoever folds projections into the store holds this, so that two folds
// (the server's background follower and an operation that catches up
// itself) never write the same projection at once. Recursive: an operation
// holding it may call CatchUpProjections.
std::unique_lock<std::recursive_mutex> ProjectionLock();
// Opens the store read-write and brings the projections up to date; when
// another process holds it (it runs the projections itself), opens it
// read-only and sets *caught_up to false.
Result<std::unique_ptr<EventLog>> OpenForQuery(const StoreOptions& options, bool* caught_up);

// The state to query: the stored projection, or a replay of the log as of
// `as_of` (a knowledge or a business time) through the same fold; also when
// another process holds the store and the stored state lags behind the log.
struct QueryState {
  EventLog* log = nullptr;
  bool caught_up = false;
  std::optional<MemoryState> replayed;
  StateReader Reader(std::string_view projection) const {
    return replayed ? StateReader::Memory(*replayed) : StateReader::Stored(*log, projection);
  }
};
// Over a store already open whose projections are up to date (or that
// another process folds): the stored state, or a replay as of `as_of`.
Result<QueryState> QueryStateOf(EventLog& log, const Projection& projection, const std::optional<AsOfTime>& as_of);

// Who asks. Every read of customer data an operation makes is recorded for
// `principal` (an "access-" event: replay/access.h) before the data is
// returned; a read that cannot be recorded returns nothing.
// Whether an operation opens people's personal fields for the caller, or
// shows them sealed: an HTTP auditor's token reads everything but names no one.
enum class PersonalData { kOpen, kSealed };
struct Caller {
  std::string principal;          // staff-<id>
  std::string interface = "cli";  // cli, api or web
  std::string data_dir;           // where a read-only log spools the reads it records
  PersonalData personal = PersonalData::kOpen;
  // False for an HTTP HEAD, which sends nothing: RecordRead then refuses to
  // record an export (FailedPrecondition), so no route can record one for a HEAD.
  bool may_export = true;
};
// The reason a sealed caller is given in place of personal fields.
inline constexpr char kPersonalSealedForRole[] = "personal data is not opened for this role";
// Records `a` for the caller (a.staff and a.interface are the caller's):
// appended and synced when `log` is writable, else written to the spool for
// the next writer to append, after the same rules the writer will apply.
Status RecordRead(EventLog& log, const Caller& caller, Access a);

// Whom `reader` serves (replay/alerts.h: ServiceScope), from the stored
// alerts projection.
Result<ServiceScope> ReaderScope(const EventLog& log, const std::string& reader);

// Whether RaiseAndNotify also warns of each alert it raised.
enum class AlertWarnings { kShow, kQuiet };
// Raises the alerts the alerts projection found (replay/alerts.h:
// RaiseAlerts) and calls the configured webhook for each new one; a webhook
// not reached is a warning. Expects a writable log whose projections caught up.
Result<std::vector<Event>> RaiseAndNotify(EventLog& log, AlertWarnings warnings);

}  // namespace custodian
