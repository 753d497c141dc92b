#include "service/projections.h"

#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/service/customer_store.h"

namespace custodian {
namespace {

namespace json = boost::json;
using testing::CustomerStore;

TEST_CASE("rebuilding a projection twice gives the same digest, and the digest follows the log", "[projections]") {
  CustomerStore s;
  const std::vector<std::string> names = ProjectionNames(*s.log);
  CHECK(std::find(names.begin(), names.end(), "customer") != names.end());
  std::vector<uint64_t> calls;
  Result<RebuildResult> first =
      RebuildProjection(*s.log, "customer", [&](uint64_t done, uint64_t) { calls.push_back(done); });
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  CHECK(first->projection == "customer");
  CHECK(first->events == s.log->end().value());
  CHECK(first->digest.size() == 64);
  CHECK(!calls.empty());
  Result<RebuildResult> second = RebuildProjection(*s.log, "customer");
  REQUIRE(second.ok());
  CHECK(second->digest == first->digest);
  s.Add("customer-42", "note.added", "staff-7", 1, R"({"text":"one more"})");
  Result<RebuildResult> third = RebuildProjection(*s.log, "customer");
  REQUIRE(third.ok());
  CHECK(third->digest != first->digest);

  const std::string body = RebuildResultToJson(*first);
  json::object o = json::parse(body).as_object();
  CHECK(testing::Text(o, "projection") == "customer");
  CHECK(o.at("events").to_number<uint64_t>() == first->events);
  CHECK(testing::Text(o, "digest") == first->digest);
  CHECK(o.at("seconds").is_number());
  CHECK_THAT(body, !Catch::Contains("E-"));  // seconds as a plain decimal
}

TEST_CASE("rebuilding a projection that does not exist names the ones that do", "[projections]") {
  CustomerStore s;
  Result<RebuildResult> r = RebuildProjection(*s.log, "custmer");
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(r.status().message(), Catch::Contains("no projection named custmer"));
  CHECK_THAT(r.status().message(), Catch::Contains("customer"));
}

}  // namespace
}  // namespace custodian
