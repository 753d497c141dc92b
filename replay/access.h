// Access auditing (DESIGN.md, Departure and handover; docs/access-and-alerts.md):
// every read or export of customer data becomes a data.viewed or
// data.exported event on the reader's access-<staff> stream.
//
//   - Access and AccessEvents: one read, as the events that record it.
//   - AccessRecorder: records reads in batches, so auditing costs one synced
//     append per batch rather than per read (the server's path; the CLI
//     records once per command).
//   - The spool: a reader that holds the store read-only (another process
//     writes) cannot append, so it writes its events to a synced file under
//     <data>/access-spool/ before showing anything; the next process that
//     opens the store read-write appends them (ids make that idempotent).
//   - The access projection: who read which customer, for
//     `custodian access --customer`. Reads by staff need no projection: they
//     are the access-<staff> stream itself.
#pragma once

#include <cstdint>
#include <memory>
#include <future>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "core/types.h"
#include "replay/projection.h"
#include "replay/state_reader.h"
#include "storage/event_log.h"

namespace custodian {

// One read (data.viewed) or export (data.exported) of customer data.
struct Access {
  std::string staff;                   // who read: "staff-7"
  bool exported = false;               // data.exported, else data.viewed
  std::string view;                    // viewed: what was read (customer_profile, portfolio, ...); exported: scope
  std::vector<std::string> customers;  // whose data: "customer-42"; may be empty
  uint64_t records = 0;                // records shown or exported
  std::string format;                  // exported only: csv, json, jsonl, xlsx, pdf, bundle (empty: unsaid)
  std::string interface = "cli";       // web, api or cli
};

// At most this many customers in one event (an event's data is at most 1 MiB):
// a larger read is recorded as several events.
inline constexpr size_t kMaxCustomersPerAccessEvent = 10'000;

// The events that record `a`, on access-<staff>, with random ids, occurring
// at `now`. The customers are sorted and deduplicated. InvalidArgument when
// the staff id is not "staff-<id>"; the rest is validated where the events
// go (the log's append, or SpoolAccess).
Result<std::vector<Event>> AccessEvents(const Access& a, Timestamp now);

// Records reads with a synced append per batch of `batch_accesses` reads
// (and on Flush). Thread-safe. A full batch is handed to the log's writer
// without waiting (the next batch waits for it), so readers do not stall on
// the sync. Record returns once the read is queued, with the error of an
// earlier batch if one failed; callers that must not show data before its
// record is on disk call Flush.
class AccessRecorder {
 public:
  explicit AccessRecorder(EventLog& log, size_t batch_accesses = 256, Clock* clock = nullptr);
  ~AccessRecorder();  // flushes; errors are lost, so call Flush first
  AccessRecorder(const AccessRecorder&) = delete;
  AccessRecorder& operator=(const AccessRecorder&) = delete;

  Status Record(const Access& a);
  Status Flush();

 private:
  Status SubmitLocked();  // hands the pending batch to the log
  Status WaitLocked();    // waits for the batch in flight
  EventLog& log_;
  const size_t batch_;
  Clock* clock_;
  std::mutex mu_;
  std::vector<Event> pending_;
  size_t pending_accesses_ = 0;
  std::future<Result<std::vector<AppendResult>>> in_flight_;
};

// The spool, <data_dir>/access-spool/, is owner-only: a directory of mode
// 0700 and files of mode 0600, owned by the user running custodian, holding
// nothing but records of reads (data.viewed or data.exported on an
// access-<staff> stream whose actor is that staff member). Whatever else is
// found there is never appended (docs/access-and-alerts.md).
//
// Writes `events` to a new file <data_dir>/access-spool/<time>-<first id>.jsonl
// (time: the first event's occurred_at in microseconds, 20 digits, so names
// sort oldest first), creating the spool (mode 0700) if needed, and syncs the
// file and the directory: once it returns Ok, the record survives a crash.
// InvalidArgument, writing nothing, for an event ValidateEvent refuses or one
// that is not a record of a read; FailedPrecondition, writing nothing, when
// the spool is not an owner-only directory (e.g. mode 0755, a symbolic link).
Status SpoolAccess(const std::string& data_dir, std::span<const Event> events);

struct SpoolDrain {
  size_t files = 0, events = 0;        // appended (already-present events count as appended)
  std::vector<std::string> problems;   // what was refused and moved aside: path, why, and where it went
};
// Appends the events of every spooled file, oldest file first, and removes
// each file once its events are on disk. A file is refused whole, appended
// not at all, renamed <name>.rejected and named with the reason in
// `problems`, when it is not a regular file of mode 0600 owned by this user
// (a symbolic link, a directory, mode 0644, another owner), is not named
// *.jsonl, has a line that is not an event or not a record of a read of its
// stream's reader, or the log refuses it (e.g. its reader has left). A spool
// that is not an owner-only directory is not read at all: it is renamed
// access-spool.rejected-<micros> and named in `problems`. Errors only when the
// log or the disk cannot write, or (a node of a cluster) no writer answers:
// the file stays for the next time. `wait`: how long a follower waits for
// the writer (EventLog::ForwardWait).
Result<SpoolDrain> DrainAccessSpool(EventLog& log, const std::string& data_dir,
                                    EventLog::ForwardWait wait = EventLog::ForwardWait::kWait);

// --- The access projection ---
//
// Stored state, keys under the projection "access":
//   c/<customer>/<position, 20 digits>  one read of that customer's data:
//                                       {"s": staff, "t": 0 viewed | 1 exported,
//                                        "v": view or scope, "a": occurred_at,
//                                        "r": records, "n": customers in the read}
inline constexpr char kAccessProjection[] = "access";
std::unique_ptr<Projection> MakeAccessProjection();

struct AccessEntry {
  Position position;
  Timestamp at;
  std::string staff, view;
  bool exported = false;
  uint64_t records = 0;
  uint64_t customers = 0;  // how many customers that read covered
};

// Reads of `customer`'s data, oldest first, occurring in [from, to).
Result<std::vector<AccessEntry>> AccessesToCustomer(const StateReader& state, std::string_view customer,
                                                   std::optional<Timestamp> from, std::optional<Timestamp> to);
std::string AccessEntryToJson(std::string_view customer, const AccessEntry& e);

}  // namespace custodian
