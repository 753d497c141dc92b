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

TEST_CASE("a customer's or an access stream is read by a named reader only, and other streams by anyone",
          "[log_queries]") {
  CustomerStore s;
  for (const char* stream : {"customer-42", "access-staff-7"}) {
    Result<StreamEvents> r = ReadStreamEvents(*s.log, Caller{}, {stream});
    INFO(stream);
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(r.status().message(), Catch::Contains("every read of customer data is recorded"));
  }
  CHECK(s.Reads("staff-7").empty());
  // A stream that is not customer data is read without a record.
  Result<StreamEvents> staff = ReadStreamEvents(*s.log, Caller{}, {"staff-9"});
  REQUIRE(staff.ok());
  CHECK(staff->events.size() == 2);
  CHECK(!staff->opened);
  CHECK(!staff->left_sealed);
  Result<StreamEvents> named = ReadStreamEvents(*s.log, s.As("staff-7"), {"staff-9"});
  REQUIRE(named.ok());
  CHECK(s.Reads("staff-7").empty());
}

TEST_CASE("reading an access stream records a read of the customers its records name, but not of one's own",
          "[log_queries]") {
  CustomerStore s;
  // staff-7 reads customer-42: one record on access-staff-7, naming it.
  REQUIRE(ReadStreamEvents(*s.log, s.As("staff-7"), {"customer-42"}).ok());
  REQUIRE(s.Reads("staff-7").size() == 1);
  // staff-7 reading their own reads names nothing new: not recorded again.
  Result<StreamEvents> own = ReadStreamEvents(*s.log, s.As("staff-7"), {"access-staff-7"});
  REQUIRE(own.ok());
  CHECK(own->events.size() == 1);
  CHECK(s.Reads("staff-7").size() == 1);
  // staff-8 reading them learns whom staff-7 read: recorded, naming customer-42.
  Result<StreamEvents> other = ReadStreamEvents(*s.log, s.As("staff-8"), {"access-staff-7"});
  REQUIRE(other.ok());
  const std::vector<json::object> reads = s.Reads("staff-8");
  REQUIRE(reads.size() == 1);
  CHECK(Text(reads[0], "view") == "event_log");
  CHECK(json::serialize(reads[0].at("customers")) == R"(["customer-42"])");
  CHECK(reads[0].at("count").to_number<uint64_t>() == 1);
}

TEST_CASE("a caller who may not export (an HTTP HEAD) records no export, and is told why, and still records views",
          "[log_queries]") {
  CustomerStore s;
  Caller head = s.As("staff-7");
  head.may_export = false;
  const uint64_t before = s.log->end().value();
  Status refused = RecordRead(*s.log, head, Access{"staff-7", true, "customer", {"customer-42"}, 1, "bundle"});
  CHECK(refused.code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(refused.message(), Catch::Contains("HEAD"));
  CHECK(s.log->end().value() == before);
  CHECK(RecordRead(*s.log, head, Access{"staff-7", false, "customer_profile", {"customer-42"}, 1}).ok());
  CHECK(s.log->end().value() == before + 1);
}

TEST_CASE("a follower does not count other followers' records of their reads, which would echo forever",
          "[log_queries]") {
  CustomerStore s;
  // staff-7 follows the log and records what it saw; staff-8 follows too.
  Result<std::vector<Event>> customer = s.log->ReadStream("customer-42", StreamVersion(0), Direction::kForward, 2);
  REQUIRE(customer.ok());
  REQUIRE(RecordLogRead(*s.log, s.As("staff-7"), kViewLogTail, *customer, Follow::kYes).ok());
  REQUIRE(RecordRead(*s.log, s.As("staff-7"), Access{"staff-7", false, "customer_profile", {"customer-43"}, 1}).ok());
  Result<std::vector<Event>> records = s.log->ReadStream("access-staff-7", StreamVersion(0), Direction::kForward, 10);
  REQUIRE(records.ok());
  REQUIRE(records->size() == 2);
  // Following, staff-8 counts the profile read but not the tail's record.
  CHECK(CustomersShown(*records, "staff-8", Follow::kYes) == std::vector<std::string>{"customer-43"});
  // Reading once, it counts both.
  CHECK(CustomersShown(*records, "staff-8", Follow::kNo) == std::vector<std::string>{"customer-42", "customer-43"});
  // The customer's own events always count.
  CHECK(CustomersShown(*customer, "staff-8", Follow::kYes) == std::vector<std::string>{"customer-42"});
  // So two followers reach quiet: staff-8's record of staff-7's tail record names nothing.
  const std::vector<Event> tail_record(records->begin(), records->begin() + 1);
  REQUIRE(RecordLogRead(*s.log, s.As("staff-8"), kViewLogTail, tail_record, Follow::kYes).ok());
  CHECK(s.Reads("staff-8").empty());
}

TEST_CASE("the log is read in pages of at most kMaxLogPageEvents, each saying where the next starts", "[log_queries]") {
  CustomerStore s;
  const uint64_t end = s.log->end().value();
  const Caller reader = s.As("staff-8");
  // The first page holds only staff events: nobody need be named, nothing is recorded.
  Result<LogPage> first = ReadLogPage(*s.log, Caller{}, 0, 3);
  REQUIRE(first.ok());
  CHECK(s.Reads("staff-8").empty());
  REQUIRE(first->events.size() == 3);
  CHECK(first->events[0].position.value() == 0);
  CHECK(first->next == 3);
  // A page with a customer's events is read by a named reader, and recorded.
  Result<LogPage> unnamed = ReadLogPage(*s.log, Caller{}, 3, UINT64_MAX);
  CHECK(unnamed.status().code() == StatusCode::kInvalidArgument);
  Result<LogPage> rest = ReadLogPage(*s.log, reader, 3, UINT64_MAX);
  REQUIRE(rest.ok());
  CHECK(rest->events.size() == end - 3);
  CHECK(!rest->next);
  {
    const std::vector<json::object> reads = s.Reads("staff-8");
    REQUIRE(reads.size() == 1);
    CHECK(Text(reads[0], "view") == "event_log");
    CHECK(json::serialize(reads[0].at("customers")) == R"(["customer-42"])");
    CHECK(reads[0].at("count").to_number<uint64_t>() == end - 3);
  }
  const uint64_t now_end = s.log->end().value();  // the record of that read is the last event
  CHECK(now_end == end + 1);
  Result<LogPage> exact = ReadLogPage(*s.log, reader, now_end - 2, 2);
  REQUIRE(exact.ok());
  CHECK(exact->events.size() == 2);
  CHECK(!exact->next);  // it ends at the log's end
  const std::string lines = LogPageToJson(*first);
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 3);
  CHECK(Text(json::parse(lines.substr(0, lines.find('\n'))).as_object(), "type") == "staff.joined");

  std::vector<Event> notes;
  for (uint64_t i = 0; i < kMaxLogPageEvents + 5; ++i) notes.push_back(testing::MakeEvent("customer-43"));
  REQUIRE(s.log->Append("customer-43", std::move(notes), ExpectedVersion::Any()).ok());
  Result<LogPage> capped = ReadLogPage(*s.log, reader, 0, UINT64_MAX);
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
