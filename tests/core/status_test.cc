#include "core/status.h"

#include <catch2/catch.hpp>

#include <memory>
#include <string>

namespace custodian {
namespace {

TEST_CASE("A default Status is ok and prints as ok", "[status]") {
  Status s;
  CHECK(s.ok());
  CHECK(s.code() == StatusCode::kOk);
  CHECK(s.message().empty());
  CHECK(s.ToString() == "ok");
  CHECK(Status::Ok().ok());
}

TEST_CASE("Each Status factory sets its own code and keeps the message", "[status]") {
  struct Case {
    Status status;
    StatusCode code;
    const char* name;
  };
  const Case cases[] = {
      {Status::InvalidArgument("m1"), StatusCode::kInvalidArgument, "invalid argument"},
      {Status::Conflict("m2"), StatusCode::kConflict, "conflict"},
      {Status::NotFound("m3"), StatusCode::kNotFound, "not found"},
      {Status::FailedPrecondition("m4"), StatusCode::kFailedPrecondition, "failed precondition"},
      {Status::Unsupported("m5"), StatusCode::kUnsupported, "unsupported"},
      {Status::IoError("m6"), StatusCode::kIoError, "I/O error"},
      {Status::Corruption("m7"), StatusCode::kCorruption, "corruption"},
      {Status::RuleViolation("m8"), StatusCode::kRuleViolation, "rule violation"},
      {Status::Unavailable("m9"), StatusCode::kUnavailable, "unavailable"},
  };
  int i = 1;
  for (const Case& c : cases) {
    INFO(c.name);
    CHECK_FALSE(c.status.ok());
    CHECK(c.status.code() == c.code);
    CHECK(c.status.message() == "m" + std::to_string(i));
    CHECK(std::string(StatusCodeName(c.code)) == c.name);
    CHECK(c.status.ToString() == std::string(c.name) + ": m" + std::to_string(i));
    ++i;
  }
  CHECK(std::string(StatusCodeName(StatusCode::kOk)) == "ok");
}

TEST_CASE("WithContext prefixes the message and keeps the code", "[status]") {
  Status s = Status::Corruption("bad bytes").WithContext("event at position 7");
  CHECK(s.code() == StatusCode::kCorruption);
  CHECK(s.message() == "event at position 7: bad bytes");
  CHECK(s.WithContext("open").message() == "open: event at position 7: bad bytes");
}

TEST_CASE("WithContext on an ok Status leaves it ok and without a message", "[status]") {
  Status s = Status::Ok().WithContext("anything");
  CHECK(s.ok());
  CHECK(s.message().empty());
}

TEST_CASE("A Result holding a value is ok and gives the value back", "[status]") {
  Result<std::string> r(std::string("hello"));
  REQUIRE(r.ok());
  CHECK(static_cast<bool>(r));
  CHECK(r.value() == "hello");
  CHECK(*r == "hello");
  CHECK(r->size() == 5);
  CHECK(r.status().ok());
  std::string moved = std::move(r).value();
  CHECK(moved == "hello");
}

TEST_CASE("A Result holding an error is not ok and gives the error back", "[status]") {
  Result<int> r(Status::NotFound("no stream customer-9"));
  CHECK_FALSE(r.ok());
  CHECK_FALSE(static_cast<bool>(r));
  CHECK(r.status().code() == StatusCode::kNotFound);
  CHECK(r.status().message() == "no stream customer-9");
}

TEST_CASE("A Result can hold a move-only value", "[status]") {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(42));
  REQUIRE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  REQUIRE(p != nullptr);
  CHECK(*p == 42);
}

Status FailsAt(int step, int* reached) {
  for (int i = 0; i < 3; ++i) {
    *reached = i;
    CUSTODIAN_RETURN_IF_ERROR(i == step ? Status::Conflict("step " + std::to_string(i)) : Status::Ok());
  }
  *reached = 3;
  return Status::Ok();
}

TEST_CASE("CUSTODIAN_RETURN_IF_ERROR returns the first error and goes on after ok", "[status]") {
  int reached = -1;
  Status s = FailsAt(1, &reached);
  CHECK(s.code() == StatusCode::kConflict);
  CHECK(s.message() == "step 1");
  CHECK(reached == 1);

  CHECK(FailsAt(99, &reached).ok());
  CHECK(reached == 3);
}

}  // namespace
}  // namespace custodian
