#include "service/log_queries.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/service/customer_store.h"

namespace custodian {
namespace {

namespace json = boost::json;
using testing::CustomerStore;
using testing::Text;

TEST_CASE("reading a customer's stream as a named reader records the read and opens the personal parts",
          "[log_queries]") {
  CustomerStore s;
  Result<StreamEvents> r = ReadStreamEvents(*s.log, s.As("staff-7"), {"customer-42"});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  REQUIRE(r->events.size() == 9);
  CHECK(r->opened);
  CHECK(!r->left_sealed);
  CHECK(r->unopened.empty());
  CHECK_THAT(r->events[2].personal_plain, Catch::Contains("Ana Lima"));
  const std::vector<json::object> reads = s.Reads("staff-7");
  REQUIRE(reads.size() == 1);
  CHECK(Text(reads[0], "view") == "event_log");
  CHECK(reads[0].at("count").to_number<uint64_t>() == 9);
  const std::string lines = StreamEventsToJson(*r);
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 9);
  CHECK_THAT(lines, Catch::Contains("Ana Lima"));
}

TEST_CASE("reading without a named reader shows personal parts sealed and records nothing", "[log_queries]") {
  CustomerStore s;
  Result<StreamEvents> r = ReadStreamEvents(*s.log, Caller{}, {"customer-42"});
  REQUIRE(r.ok());
  CHECK(!r->opened);
  CHECK(r->left_sealed);
  CHECK(r->events[2].personal_plain.empty());
  CHECK_THAT(StreamEventsToJson(*r), !Catch::Contains("Ana Lima"));
  CHECK(s.Reads("staff-7").empty());
  // A stream without personal parts is read without a record either.
  Result<StreamEvents> staff = ReadStreamEvents(*s.log, s.As("staff-7"), {"staff-9"});
  REQUIRE(staff.ok());
  CHECK(staff->events.size() == 2);
  CHECK(!staff->opened);
  CHECK(!staff->left_sealed);
  CHECK(s.Reads("staff-7").empty());
}

TEST_CASE("reading backwards with a limit starts from the last event", "[log_queries]") {
  CustomerStore s;
  Result<StreamEvents> r = ReadStreamEvents(*s.log, Caller{}, {"customer-42", 0, Direction::kBackward, 2});
  REQUIRE(r.ok());
  REQUIRE(r->events.size() == 2);
  CHECK(r->events[0].position == s.order);
  CHECK(r->events[1].position == s.handover);
  Result<StreamEvents> from = ReadStreamEvents(*s.log, Caller{}, {"customer-42", 7, Direction::kForward, 10});
  REQUIRE(from.ok());
  REQUIRE(from->events.size() == 2);
  CHECK(from->events[0].version.value() == 7);
  Result<StreamEvents> none = ReadStreamEvents(*s.log, Caller{}, {"customer-999"});
  REQUIRE(none.ok());
  CHECK(none->events.empty());
  CHECK(StreamEventsToJson(*none).empty());
  CHECK(ReadStreamEvents(*s.log, Caller{}, {"no such/stream"}).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("the log is read in pages of at most kMaxLogPageEvents, each saying where the next starts", "[log_queries]") {
  CustomerStore s;
  const uint64_t end = s.log->end().value();
  Result<LogPage> first = ReadLogPage(*s.log, 0, 3);
  REQUIRE(first.ok());
  REQUIRE(first->events.size() == 3);
  CHECK(first->events[0].position.value() == 0);
  CHECK(first->next == 3);
  Result<LogPage> rest = ReadLogPage(*s.log, 3, UINT64_MAX);
  REQUIRE(rest.ok());
  CHECK(rest->events.size() == end - 3);
  CHECK(!rest->next);
  Result<LogPage> exact = ReadLogPage(*s.log, end - 2, 2);
  REQUIRE(exact.ok());
  CHECK(exact->events.size() == 2);
  CHECK(!exact->next);  // it ends at the log's end
  const std::string lines = LogPageToJson(*first);
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 3);
  CHECK(Text(json::parse(lines.substr(0, lines.find('\n'))).as_object(), "type") == "staff.joined");

  std::vector<Event> notes;
  for (uint64_t i = 0; i < kMaxLogPageEvents + 5; ++i) notes.push_back(testing::MakeEvent("customer-43"));
  REQUIRE(s.log->Append("customer-43", std::move(notes), ExpectedVersion::Any()).ok());
  Result<LogPage> capped = ReadLogPage(*s.log, 0, UINT64_MAX);
  REQUIRE(capped.ok());
  CHECK(capped->events.size() == kMaxLogPageEvents);
  CHECK(capped->next == kMaxLogPageEvents);
}

TEST_CASE("stats describe the store and one stream, and a stream with no events is NotFound", "[log_queries]") {
  CustomerStore s;
  Result<StoreStats> store = DescribeStore(*s.log);
  REQUIRE(store.ok());
  CHECK(store->store == s.tmp.Sub("store"));
  CHECK(store->stats.event_count == s.log->end().value());
  CHECK(store->stats.stream_count == 4);
  json::object o = json::parse(StoreStatsToJson(*store)).as_object();
  CHECK(Text(o, "store") == s.tmp.Sub("store"));
  CHECK(o.at("events").to_number<uint64_t>() == s.log->end().value());
  CHECK(o.at("streams").to_number<uint64_t>() == 4);
  CHECK(o.at("first_recorded_at").is_string());
  CHECK(o.at("disk_bytes").to_number<uint64_t>() > 0);

  Result<StreamInfo> info = DescribeStream(*s.log, "customer-42");
  REQUIRE(info.ok());
  json::object i = json::parse(StreamInfoToJson(*info)).as_object();
  CHECK(i.at("events").to_number<uint64_t>() == 9);
  CHECK(i.at("version").to_number<uint64_t>() == 8);
  CHECK(i.at("last_position").to_number<uint64_t>() == s.order.value());
  CHECK(Text(i, "first_occurred_at") == FormatRfc3339(s.DaysAgo(90)));
  CHECK(Text(i, "last_recorded_at") == FormatRfc3339(s.DaysAgo(20)));

  Result<StreamInfo> none = DescribeStream(*s.log, "customer-999");
  CHECK(none.status().code() == StatusCode::kNotFound);
  CHECK_THAT(none.status().message(), Catch::Contains("customer-999 has no events"));
  CHECK(DescribeStream(*s.log, "no such/stream").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("stats of an empty store give null times", "[log_queries]") {
  testing::TempDir tmp;
  EventLogOptions options;
  options.create = CreateIfMissing::kYes;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(tmp.path(), options);
  REQUIRE(log.ok());
  Result<StoreStats> store = DescribeStore(**log);
  REQUIRE(store.ok());
  json::object o = json::parse(StoreStatsToJson(*store)).as_object();
  CHECK(o.at("events").to_number<uint64_t>() == 0);
  CHECK(o.at("first_recorded_at").is_null());
  CHECK(o.at("last_recorded_at").is_null());
}

}  // namespace
}  // namespace custodian
