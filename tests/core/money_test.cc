#include "core/money.h"

#include <catch2/catch.hpp>

#include <string>

namespace custodian {
namespace {

TEST_CASE("Amounts written as plain decimals parse exactly and print in their shortest exact form", "[money]") {
  struct Case {
    const char* text;
    int64_t units;
    const char* printed;
  };
  for (const Case& c : {Case{"0", 0, "0"}, Case{"81500", 815'000'000, "81500"}, Case{"1250.5", 12'505'000, "1250.5"},
                        Case{"1250.50", 12'505'000, "1250.5"}, Case{"0.0001", 1, "0.0001"},
                        Case{"99999999999999.9999", 999'999'999'999'999'999, "99999999999999.9999"},
                        Case{"0.1", 1'000, "0.1"}, Case{"10.00", 100'000, "10"}}) {
    INFO(c.text);
    Result<Amount> a = Amount::Parse(c.text);
    REQUIRE(a.ok());
    CHECK(a->units() == c.units);
    CHECK(a->ToString() == c.printed);
  }
}

TEST_CASE("An amount that is not an exact plain decimal is refused with the reason", "[money]") {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const Case& c : {Case{"1e308", "has an exponent"}, Case{"1.7E308", "has an exponent"},
                        Case{"-5", "is negative"}, Case{"-0", "is negative"}, Case{"1.23456", "has 5 digits after"},
                        Case{"123456789012345", "has 15 digits before"}, Case{"01", "has a leading zero"},
                        Case{"1.", "is not a decimal number"}, Case{".5", "is not a decimal number"},
                        Case{"", "is empty"}, Case{"12a", "is not a decimal number"}}) {
    INFO(c.text);
    Result<Amount> a = Amount::Parse(c.text);
    REQUIRE_FALSE(a.ok());
    CHECK(a.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(a.status().message(), Catch::Contains(c.why));
    CHECK_THAT(a.status().message(), Catch::StartsWith("expected an amount of money written as a plain decimal"));
  }
}

TEST_CASE("Amounts print with at least the fraction digits asked for, and every digit they have", "[money]") {
  CHECK(Amount::Parse("19800")->ToString(2) == "19800.00");
  CHECK(Amount::Parse("1250.5")->ToString(2) == "1250.50");
  CHECK(Amount::Parse("0.0001")->ToString(2) == "0.0001");
  MoneySum s;
  s.Subtract(*Amount::Parse("3"));
  CHECK(s.ToString(2) == "-3.00");
}

TEST_CASE("Sums of the largest amounts stay exact far beyond what 64 bits hold", "[money]") {
  const Amount largest = *Amount::Parse("99999999999999.9999");
  MoneySum sum;
  for (int i = 0; i < 1'000'000; ++i) sum.Add(largest);
  // 10^6 * (10^14 - 10^-4) = 10^20 - 100
  CHECK(sum.ToString() == "99999999999999999900");
  MoneySum big = sum;
  for (int i = 0; i < 1000; ++i) big.Add(sum);  // 1001 * (10^20 - 100)
  CHECK(big.ToString() == "100099999999999999899900");
  Result<MoneySum> back = MoneySum::Parse(big.ToString());
  REQUIRE(back.ok());
  CHECK(*back == big);
}

TEST_CASE("A sum prints and parses back exactly, negative ones too", "[money]") {
  MoneySum s;
  s.Add(*Amount::Parse("0.0001"));
  s.Subtract(*Amount::Parse("1.5"));
  CHECK(s.ToString() == "-1.4999");
  Result<MoneySum> back = MoneySum::Parse("-1.4999");
  REQUIRE(back.ok());
  CHECK(*back == s);
  for (const char* bad : {"", "1e3", "Infinity", "NaN", "1.23456", "--1", "1.", "x"}) {
    INFO(bad);
    CHECK_FALSE(MoneySum::Parse(bad).ok());
  }
}

}  // namespace
}  // namespace custodian
