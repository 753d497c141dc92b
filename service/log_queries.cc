#include "service/log_queries.h"

#include <algorithm>
#include <boost/json.hpp>

#include "core/json.h"
#include "core/time.h"
#include "core/validation.h"
#include "replay/access.h"

namespace custodian {
namespace json = boost::json;

namespace {

std::string EventLines(const std::vector<Event>& events) {
  std::string lines;
  for (const Event& e : events) {
    lines += EventToJson(e, JsonFields::kWithLogFields);
    lines += '\n';
  }
  return lines;
}

}  // namespace

// --- read ---

Result<StreamEvents> ReadStreamEvents(EventLog& log, const Caller& caller, const StreamReadRequest& request) {
  CUSTODIAN_RETURN_IF_ERROR(ValidateStreamName(request.stream));
  const bool backwards = request.direction == Direction::kBackward;
  const uint64_t from = backwards && request.from == 0 ? UINT64_MAX : request.from;  // backwards from the end
  Result<std::vector<Event>> events = log.ReadStream(request.stream, StreamVersion(from), request.direction,
                                                     static_cast<size_t>(std::min<uint64_t>(request.limit, SIZE_MAX)));
  if (!events.ok()) return events.status();
  StreamEvents r;
  r.stream = request.stream;
  r.events = std::move(*events);
  const bool personal =
      std::any_of(r.events.begin(), r.events.end(), [](const Event& e) { return !e.personal.empty(); });
  if (!personal) return r;
  // Personal parts are opened for a named reader of a customer, and the read recorded first.
  if (caller.principal.empty() || !r.stream.starts_with("customer-")) {
    r.left_sealed = true;
    return r;
  }
  CUSTODIAN_RETURN_IF_ERROR(RecordRead(
      log, caller, Access{caller.principal, false, "event_log", {r.stream}, r.events.size(), "", caller.interface}));
  r.opened = true;
  if (Status s = log.PersonalStatus(); !s.ok()) {
    r.personal_unavailable = s.message();
    return r;
  }
  for (Event& e : r.events) {
    if (e.personal.empty()) continue;
    // A part that does not open is shown sealed, and said; ShowPersonal
    // leaves the event as it was when it fails.
    Event opened = e;
    if (Status s = log.ShowPersonal(opened); !s.ok()) {
      r.unopened.emplace_back(e.position.value(), s.message());
    } else {
      e = std::move(opened);
    }
  }
  return r;
}

std::string StreamEventsToJson(const StreamEvents& r) { return EventLines(r.events); }

// --- read-all ---

Result<LogPage> ReadLogPage(const EventLog& log, uint64_t from, uint64_t limit) {
  const uint64_t size = std::min(limit, kMaxLogPageEvents);
  LogPage page;
  if (size == 0) return page;
  Result<std::vector<Event>> events = log.ReadAll(Position(from), static_cast<size_t>(size));
  if (!events.ok()) return events.status();
  page.events = std::move(*events);
  if (page.events.size() == size) {
    const uint64_t next = page.events.back().position.value() + 1;
    if (next < log.end().value()) page.next = next;
  }
  return page;
}

std::string LogPageToJson(const LogPage& page) { return EventLines(page.events); }

// --- stats ---

Result<StoreStats> DescribeStore(const EventLog& log) {
  Result<LogStats> stats = log.Stats();
  if (!stats.ok()) return stats.status();
  return StoreStats{log.dir(), *stats};
}

std::string StoreStatsToJson(const StoreStats& s) {
  const bool any = s.stats.event_count > 0;
  return json::serialize(json::object{
      {"store", s.store},
      {"events", s.stats.event_count},
      {"streams", s.stats.stream_count},
      {"first_recorded_at", any ? json::value(FormatRfc3339(s.stats.first_recorded_at)) : json::value(nullptr)},
      {"last_recorded_at", any ? json::value(FormatRfc3339(s.stats.last_recorded_at)) : json::value(nullptr)},
      {"disk_bytes", s.stats.disk_bytes}});
}

Result<StreamInfo> DescribeStream(const EventLog& log, const std::string& stream) {
  CUSTODIAN_RETURN_IF_ERROR(ValidateStreamName(stream));
  return log.GetStreamInfo(stream);
}

std::string StreamInfoToJson(const StreamInfo& info) {
  return json::serialize(json::object{{"stream", info.stream},
                                      {"events", info.event_count},
                                      {"version", info.last_version.value()},
                                      {"first_position", info.first_position.value()},
                                      {"last_position", info.last_position.value()},
                                      {"first_recorded_at", FormatRfc3339(info.first_recorded_at)},
                                      {"last_recorded_at", FormatRfc3339(info.last_recorded_at)},
                                      {"first_occurred_at", FormatRfc3339(info.first_occurred_at)},
                                      {"last_occurred_at", FormatRfc3339(info.last_occurred_at)}});
}

}  // namespace custodian
