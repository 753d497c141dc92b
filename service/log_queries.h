// Reading the event log itself (docs/event-format.md): one stream's events
// (`read`), the whole log in pages (`read-all`), and the store's and a
// stream's figures (`stats`). Results are typed, with one ToJson each, the
// body of `--json` and of the API; nothing here prints.
//
// Events are returned as the log holds them, personal parts sealed, except
// by ReadStreamEvents for a named caller, which records the read first
// (service/store.h: RecordRead) and opens the parts.
//
// Reading customer data at the log's level is recorded like every other
// read: the events of a customer's stream, and the records on an access
// stream (they name the customers their reader read), are read by a named
// caller only, and the read is recorded before they are returned
// (RecordLogRead). The stream map, alerts, staff and system streams are not
// customer data.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "service/store.h"
#include "storage/event_log.h"

namespace custodian {

// --- recording log-level reads ---

// Whether reading `stream` reads customer data: customer-<id> and access-<staff>.
bool IsRecordedStream(std::string_view stream);

// The views a follower records (the live feed's and `tail`'s).
inline constexpr char kViewLiveFeed[] = "subscription";
inline constexpr char kViewLogTail[] = "event_log_live";

// Whether a read is a follow of the log (tail, the live feed). A follower
// does not count, among what it read, another follower's records of its
// reads: two followers would otherwise record each other's records forever.
// Those records name what the other follower read, which the customers'
// own streams hold.
enum class Follow { kNo, kYes };

// The customers whose data `events` show to `reader` (staff-<id>): the
// customer of each event on a customer's stream, and the customers named by
// each record on an access stream other than the reader's own. Sorted,
// without repeats.
std::vector<std::string> CustomersShown(std::span<const Event> events, std::string_view reader, Follow follow);

// Records, for `caller`, the read of `events` as a `view` (data.viewed,
// counting the events) when they show any customer's data; nothing
// otherwise. InvalidArgument, recording nothing, when they do and the
// caller names nobody.
Status RecordLogRead(EventLog& log, const Caller& caller, std::string_view view, std::span<const Event> events,
                     Follow follow = Follow::kNo);

// --- read ---

struct StreamReadRequest {
  std::string stream;
  // The first version to return; reading backwards, the last (0 or past the
  // end: from the last event).
  uint64_t from = 0;
  Direction direction = Direction::kForward;
  uint64_t limit = UINT64_MAX;
};
struct StreamEvents {
  std::string stream;
  std::vector<Event> events;  // in the order read
  // The personal parts were opened for the caller, whose read was recorded
  // ("event_log", counting the events).
  bool opened = false;
  // Some events carry a personal part left sealed, not to be opened: the
  // caller named nobody, or the stream is not a customer's.
  bool left_sealed = false;
  // Why personal parts stay sealed although they were to be opened (no
  // master key); empty otherwise.
  std::string personal_unavailable;
  // Events whose personal part did not open (altered, moved), shown sealed:
  // (position, why).
  std::vector<std::pair<uint64_t, std::string>> unopened;
};
// The events of `request.stream`. The read of a customer's or an access
// stream is recorded for the caller ("event_log", RecordLogRead) before
// anything is returned, and personal parts of a customer's stream are then
// opened; other streams' personal parts stay sealed. An empty stream is an
// empty result. InvalidArgument for a name that is not a stream name;
// InvalidArgument when the stream is a customer's or an access stream and
// the caller names nobody.
Result<StreamEvents> ReadStreamEvents(EventLog& log, const Caller& caller, const StreamReadRequest& request);
// JSON Lines: each event (EventToJson with the log's fields) on a line ending in "\n".
std::string StreamEventsToJson(const StreamEvents& r);

// --- read-all ---

// At most this many events in one page of ReadLogPage.
inline constexpr uint64_t kMaxLogPageEvents = 1000;

struct LogPage {
  std::vector<Event> events;  // in log order, personal parts sealed
  // Where the next page starts; nothing when the page reached the log's end.
  std::optional<uint64_t> next;
};
// The events from position `from`, at most min(limit, kMaxLogPageEvents).
// The read is recorded for the caller ("event_log", RecordLogRead) when the
// page shows customer data; InvalidArgument when it does and the caller
// names nobody.
Result<LogPage> ReadLogPage(EventLog& log, const Caller& caller, uint64_t from, uint64_t limit);
// JSON Lines, as StreamEventsToJson.
std::string LogPageToJson(const LogPage& page);

// --- stats ---

struct StoreStats {
  std::string store;  // the store's directory
  LogStats stats;
};
Result<StoreStats> DescribeStore(const EventLog& log);
// {"store","events","streams","first_recorded_at","last_recorded_at" (null
// for an empty log),"disk_bytes"}.
std::string StoreStatsToJson(const StoreStats& s);

// One stream's figures. InvalidArgument for a name that is not a stream
// name; NotFound ("stream customer-9 has no events") for a stream with none.
Result<StreamInfo> DescribeStream(const EventLog& log, const std::string& stream);
// {"stream","events","version","first_position","last_position",
//  "first_recorded_at","last_recorded_at","first_occurred_at","last_occurred_at"}.
std::string StreamInfoToJson(const StreamInfo& info);

}  // namespace custodian
