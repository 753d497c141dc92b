// Reading the event log itself (docs/event-format.md): one stream's events
// (`read`), the whole log in pages (`read-all`), and the store's and a
// stream's figures (`stats`). Results are typed, with one ToJson each, the
// body of `--json` and of the API; nothing here prints.
//
// Events are returned as the log holds them, personal parts sealed, except
// by ReadStreamEvents for a named caller, which records the read first
// (service/store.h: RecordRead) and opens the parts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "service/store.h"
#include "storage/event_log.h"

namespace custodian {

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
// The events of `request.stream`. When the caller names a principal, the
// stream is a customer's and some events carry a personal part, the read is
// recorded for the caller and then the parts are opened; a caller with an
// empty principal gets them sealed and nothing is recorded. An empty stream
// is an empty result. InvalidArgument for a name that is not a stream name.
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
Result<LogPage> ReadLogPage(const EventLog& log, uint64_t from, uint64_t limit);
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
