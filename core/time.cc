#include "core/time.h"

#include <chrono>
#include <cstdio>

#include "core/text.h"

namespace custodian {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool Digits(int n, int64_t* out) {
    int64_t v = 0;
    for (int i = 0; i < n; ++i) {
      if (i_ >= s_.size() || s_[i_] < '0' || s_[i_] > '9') return false;
      v = v * 10 + (s_[i_++] - '0');
    }
    *out = v;
    return true;
  }
  bool Char(char c) {
    if (i_ < s_.size() && s_[i_] == c) { ++i_; return true; }
    return false;
  }
  bool CharOf(std::string_view set, char* got) {
    if (i_ < s_.size() && set.find(s_[i_]) != std::string_view::npos) {
      *got = s_[i_++];
      return true;
    }
    return false;
  }
  bool AtDigit() const { return i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9'; }
  void Skip() { ++i_; }
  bool Done() const { return i_ == s_.size(); }
  size_t offset() const { return i_; }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

Result<Timestamp> ParseRfc3339(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(QuotedText(text, 64) + " is not an RFC 3339 time (" + why +
                                   "); expected e.g. 2026-03-01T10:15:00Z");
  };
  Cursor c(text);
  int64_t year, month, day, hour, minute, second;
  if (!c.Digits(4, &year) || !c.Char('-') || !c.Digits(2, &month) || !c.Char('-') ||
      !c.Digits(2, &day)) {
    return bad("the date must be YYYY-MM-DD");
  }
  char sep;
  if (!c.CharOf("Tt ", &sep)) return bad("no 'T' between date and time");
  if (!c.Digits(2, &hour) || !c.Char(':') || !c.Digits(2, &minute) || !c.Char(':') ||
      !c.Digits(2, &second)) {
    return bad("the time must be hh:mm:ss");
  }
  if (year < 1) return bad("year 0000 is out of range");
  if (month < 1 || month > 12) return bad("month " + std::to_string(month) + " is out of range");
  if (day < 1 || day > DaysInMonth(year, static_cast<unsigned>(month))) {
    return bad("day " + std::to_string(day) + " does not exist in that month");
  }
  if (hour > 23) return bad("hour " + std::to_string(hour) + " is out of range");
  if (minute > 59) return bad("minute " + std::to_string(minute) + " is out of range");
  if (second > 60) return bad("second " + std::to_string(second) + " is out of range");
  if (second == 60) second = 59;  // a leap second is held as the second before it

  int64_t micros = 0;
  if (c.Char('.') || c.Char(',')) {
    if (!c.AtDigit()) return bad("no digits after the decimal point");
    int n = 0;
    while (c.AtDigit()) {
      int64_t digit;
      (void)c.Digits(1, &digit);
      if (n < 6) micros = micros * 10 + digit;
      ++n;
    }
    for (int i = n; i < 6; ++i) micros *= 10;
  }
  int64_t offset_minutes = 0;
  char zone;
  if (c.CharOf("Zz", &zone)) {
  } else if (c.CharOf("+-", &zone)) {
    int64_t oh, om;
    if (!c.Digits(2, &oh) || !c.Char(':') || !c.Digits(2, &om) || oh > 23 || om > 59) {
      return bad("the offset must be Z or +hh:mm / -hh:mm");
    }
    offset_minutes = (oh * 60 + om) * (zone == '-' ? -1 : 1);
  } else {
    return bad("no time zone: add Z for UTC or an offset such as +02:00");
  }
  if (!c.Done()) return bad("unexpected text at offset " + std::to_string(c.offset()));

  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  // The range holds in UTC too, so that FormatRfc3339 prints what this reads
  // back: 0001-01-01T00:30:00+01:00 would be year 0000 in UTC.
  static const int64_t kFirstSecond = DaysFromCivil(1, 1, 1) * 86400;
  static const int64_t kEndSecond = DaysFromCivil(10000, 1, 1) * 86400;
  if (seconds < kFirstSecond || seconds >= kEndSecond) {
    return bad("in UTC it falls outside the years 0001-9999");
  }
  return Timestamp(seconds * kMicrosPerSecond + micros);
}

std::string FormatRfc3339(Timestamp t) {
  int64_t us = t.value();
  int64_t secs = us / kMicrosPerSecond;
  int64_t frac = us % kMicrosPerSecond;
  if (frac < 0) {
    frac += kMicrosPerSecond;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[48];
  if (frac == 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                  static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                  static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60),
                  static_cast<long long>(frac));
  }
  return buf;
}

namespace {
class RealClock final : public Clock {
 public:
  Timestamp Now() override {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    return Timestamp(std::chrono::duration_cast<std::chrono::microseconds>(now).count());
  }
};
}  // namespace

Clock& SystemClock() {
  static RealClock clock;
  return clock;
}

}  // namespace custodian
