// UTC time: RFC 3339 parsing and printing, and the Clock interface.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/types.h"

namespace custodian {

constexpr int64_t kMicrosPerSecond = 1'000'000;

// Parses an RFC 3339 date-time: "2026-03-01T10:15:00Z",
// "2026-03-01T10:15:00.25+02:00". Fractions finer than a microsecond are
// truncated. Years 0001-9999, before and after the offset is applied (so
// that FormatRfc3339 can print every time it accepts). The error names the
// offending part.
Result<Timestamp> ParseRfc3339(std::string_view text);

// Prints UTC with a "Z": "2026-03-01T10:15:00Z", or with six fractional
// digits when the time is not a whole second: "2026-03-01T10:15:00.250000Z".
// ParseRfc3339(FormatRfc3339(t)) == t for every t in range.
std::string FormatRfc3339(Timestamp t);

// Where the log reads the time. Tests fix it; production uses SystemClock().
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() = 0;
};

// The system's real-time clock. Thread-safe; lives for the whole program.
Clock& SystemClock();

}  // namespace custodian
