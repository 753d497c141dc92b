#include "service/log_queries.h"

#include <algorithm>
#include <boost/json.hpp>

#include "core/json.h"
#include "core/time.h"
#include "core/validation.h"
#include "replay/access.h"
#include "replay/payload_fields.h"

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

constexpr std::string_view kCustomerPrefix = "customer-";
constexpr std::string_view kAccessPrefix = "access-";

}  // namespace

// --- recording log-level reads ---

bool IsRecordedStream(std::string_view stream) {
  return stream.starts_with(kCustomerPrefix) || stream.starts_with(kAccessPrefix);
}

std::vector<std::string> CustomersShown(std::span<const Event> events, std::string_view reader, Follow follow) {
  std::vector<std::string> customers;
  for (const Event& e : events) {
    if (e.stream.starts_with(kCustomerPrefix)) {
      customers.push_back(e.stream);
      continue;
    }
    if (!e.stream.starts_with(kAccessPrefix) || std::string_view(e.stream).substr(kAccessPrefix.size()) == reader) {
      continue;
    }
    // A record of a read names the customers read; anything else on an
    // access stream (a correction, a retraction) names none.
    if (e.type != "data.viewed" && e.type != "data.exported") continue;
    Result<json::object> d = payload::ParseData(e);
    if (!d.ok()) continue;
    if (follow == Follow::kYes && e.type == "data.viewed") {
      const std::string view = payload::Str(*d, "view");
      if (view == kViewLiveFeed || view == kViewLogTail) continue;
    }
    if (const json::value* v = d->if_contains("customers"); v != nullptr && v->is_array()) {
      for (const json::value& c : v->get_array()) {
        if (c.is_string()) customers.emplace_back(c.get_string());
      }
    }
  }
  std::sort(customers.begin(), customers.end());
  customers.erase(std::unique(customers.begin(), customers.end()), customers.end());
  return customers;
}

Status RecordLogRead(EventLog& log, const Caller& caller, std::string_view view, std::span<const Event> events,
                     Follow follow) {
  std::vector<std::string> customers = CustomersShown(events, caller.principal, follow);
  if (customers.empty()) return Status::Ok();
  if (caller.principal.empty()) {
    return Status::InvalidArgument(
        "these events show customer data, and every read of customer data is recorded: the reader must be named");
  }
  return RecordRead(log, caller,
                    Access{caller.principal, false, std::string(view), std::move(customers), events.size(), "",
                           caller.interface});
}

// --- read ---

Result<StreamEvents> ReadStreamEvents(EventLog& log, const Caller& caller, const StreamReadRequest& request) {
  CUSTODIAN_RETURN_IF_ERROR(ValidateStreamName(request.stream));
  const bool backwards = request.direction == Direction::kBackward;
  const uint64_t from = backwards && request.from == 0 ? UINT64_MAX : request.from;  // backwards from the end
  Result<std::vector<Event>> events = log.ReadStream(request.stream, StreamVersion(from), request.direction,
                                                     static_cast<size_t>(std::min<uint64_t>(request.limit, SIZE_MAX)));
  if (!events.ok()) return events.status();
  if (IsRecordedStream(request.stream) && caller.principal.empty()) {
    return Status::InvalidArgument("reading " + request.stream +
                                    " shows customer data, and every read of customer data is recorded: the reader "
                                    "must be named");
  }
  StreamEvents r;
  r.stream = request.stream;
  r.events = std::move(*events);
  CUSTODIAN_RETURN_IF_ERROR(RecordLogRead(log, caller, "event_log", r.events));
  const bool personal =
      std::any_of(r.events.begin(), r.events.end(), [](const Event& e) { return !e.personal.empty(); });
  if (!personal) return r;
  // Personal parts are opened for the reader of a customer, whose read is recorded.
  if (!r.stream.starts_with(kCustomerPrefix)) {
    r.left_sealed = true;
    return r;
  }
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

Result<LogPage> ReadLogPage(EventLog& log, const Caller& caller, uint64_t from, uint64_t limit) {
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
  CUSTODIAN_RETURN_IF_ERROR(RecordLogRead(log, caller, "event_log", page.events));
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
