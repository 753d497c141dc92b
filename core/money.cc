#include "core/money.h"

#include <algorithm>

#include "core/text.h"

namespace custodian {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "123.4500" -> "123.45"; "100.0000" -> "100" (or "100.00" with
// `min_fraction` 2): the shortest exact form of a non-negative count of units.
std::string Format(UInt128 units, int min_fraction) {
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(units % 10)));
    units /= 10;
  } while (units > 0);
  while (digits.size() <= static_cast<size_t>(Amount::kMaxFractionDigits)) digits.push_back('0');
  std::reverse(digits.begin(), digits.end());
  std::string whole = digits.substr(0, digits.size() - Amount::kMaxFractionDigits);
  std::string fraction = digits.substr(digits.size() - Amount::kMaxFractionDigits);
  while (fraction.size() > static_cast<size_t>(std::max(min_fraction, 0)) && fraction.back() == '0') fraction.pop_back();
  return fraction.empty() ? whole : whole + "." + fraction;
}

std::string Shown(std::string_view text) { return OneLineText(text, 40); }

}  // namespace

Result<Amount> Amount::Parse(std::string_view text) {
  auto refused = [&](const std::string& why) {
    return Status::InvalidArgument("expected an amount of money written as a plain decimal such as 1250.50 (at most " +
                                   std::to_string(kMaxIntegerDigits) + " digits before the point and " +
                                   std::to_string(kMaxFractionDigits) + " after, no sign, no exponent); got " +
                                   Shown(text) + ", which " + why);
  };
  if (text.empty()) return refused("is empty");
  if (text[0] == '-') return refused("is negative");
  if (text.find_first_of("eE") != std::string_view::npos) return refused("has an exponent");
  const size_t point = text.find('.');
  const std::string_view whole = text.substr(0, point);
  const std::string_view fraction = point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
  if (whole.empty() || !std::all_of(whole.begin(), whole.end(), IsDigit) ||
      !std::all_of(fraction.begin(), fraction.end(), IsDigit) || (point != std::string_view::npos && fraction.empty())) {
    return refused("is not a decimal number");
  }
  if (whole.size() > 1 && whole[0] == '0') return refused("has a leading zero");
  if (whole.size() > static_cast<size_t>(kMaxIntegerDigits)) {
    return refused("has " + std::to_string(whole.size()) + " digits before the point");
  }
  if (fraction.size() > static_cast<size_t>(kMaxFractionDigits)) {
    return refused("has " + std::to_string(fraction.size()) + " digits after the point");
  }
  int64_t units = 0;
  for (char c : whole) units = units * 10 + (c - '0');
  for (int i = 0; i < kMaxFractionDigits; ++i) {
    units = units * 10 + (i < static_cast<int>(fraction.size()) ? fraction[i] - '0' : 0);
  }
  return Amount(units);
}

std::string Amount::ToString(int min_fraction_digits) const {
  return Format(static_cast<UInt128>(units_), min_fraction_digits);
}

std::string MoneySum::ToString(int min_fraction_digits) const {
  if (units_ < 0) return "-" + Format(static_cast<UInt128>(-units_), min_fraction_digits);
  return Format(static_cast<UInt128>(units_), min_fraction_digits);
}

Result<MoneySum> MoneySum::Parse(std::string_view text) {
  const bool negative = text.starts_with('-');
  const std::string_view digits = negative ? text.substr(1) : text;
  const size_t point = digits.find('.');
  const std::string_view whole = digits.substr(0, point);
  const std::string_view fraction = point == std::string_view::npos ? std::string_view() : digits.substr(point + 1);
  // A sum has at most 38 digits in all (2^127 ~ 1.7e38).
  if (whole.empty() || whole.size() > 33 || fraction.size() > static_cast<size_t>(Amount::kMaxFractionDigits) ||
      (point != std::string_view::npos && fraction.empty()) ||
      !std::all_of(whole.begin(), whole.end(), IsDigit) || !std::all_of(fraction.begin(), fraction.end(), IsDigit)) {
    return Status::InvalidArgument("\"" + Shown(text) + "\" is not a sum of money (an exact decimal)");
  }
  Int128 units = 0;
  for (char c : whole) units = units * 10 + (c - '0');
  for (int i = 0; i < Amount::kMaxFractionDigits; ++i) {
    units = units * 10 + (i < static_cast<int>(fraction.size()) ? fraction[i] - '0' : 0);
  }
  MoneySum s;
  s.units_ = negative ? -units : units;
  return s;
}

}  // namespace custodian
