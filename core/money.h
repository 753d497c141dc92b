// Amounts of money, exact (DESIGN.md, Event model: "amounts of money are
// exact decimals, never binary floating point"; docs/events.md, "amount").
//
// An amount in an event is a JSON number written as a plain decimal: digits,
// optionally a point and 1 to 4 more digits; at most 14 digits before the
// point; no sign, no exponent ("81500", "1250.5", "0.0001"). It is stored in
// the event exactly as written and read here into whole units of 1/10,000,
// so no amount ever loses a digit or picks up a binary rounding error.
//
// Sums. The largest amount is below 10^14, i.e. below 10^18 units (< 2^60).
// A Sum holds a 128-bit count of units, so even 2^64 amounts (more events
// than a log can hold: positions are 64-bit) of the largest size add up to
// less than 2^124 and can never overflow. No sum can therefore become
// unrepresentable, and no amount that passed validation can make one.
//
// Pure; thread-compatible values.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace custodian {

// 128-bit integers (a GCC extension, named once so -Wpedantic stays quiet).
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

class Amount {
 public:
  static constexpr int kMaxFractionDigits = 4;
  static constexpr int kMaxIntegerDigits = 14;
  static constexpr int64_t kUnitsPerWhole = 10'000;

  Amount() = default;

  // Parses the JSON number text of an amount. InvalidArgument saying what is
  // wrong ("has an exponent", "has 5 digits after the point; at most 4", ...).
  static Result<Amount> Parse(std::string_view text);

  // Units of 1/10,000.
  static Amount FromUnits(int64_t units) { return Amount(units); }
  int64_t units() const { return units_; }

  // The shortest exact decimal: "81500", "1250.5", "0.0001"; with at least
  // `min_fraction_digits` after the point (2 for people: "81500.00").
  std::string ToString(int min_fraction_digits = 0) const;

  auto operator<=>(const Amount&) const = default;

 private:
  explicit Amount(int64_t units) : units_(units) {}
  int64_t units_ = 0;
};

// An exact sum of amounts; see the header comment for why it cannot overflow.
class MoneySum {
 public:
  MoneySum() = default;
  void Add(Amount a) { units_ += a.units(); }
  void Add(const MoneySum& s) { units_ += s.units_; }
  void Subtract(Amount a) { units_ -= a.units(); }

  // The shortest exact decimal, with a leading '-' when negative; with at
  // least `min_fraction_digits` after the point.
  std::string ToString(int min_fraction_digits = 0) const;
  // Parses what ToString wrote (and any amount). InvalidArgument otherwise.
  static Result<MoneySum> Parse(std::string_view text);

  bool operator==(const MoneySum&) const = default;

 private:
  Int128 units_ = 0;
};

}  // namespace custodian
