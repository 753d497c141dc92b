// What the fuzz targets share: a property check that stops the run, the
// fixed "now" every decoder is given, and the event round trip.
#pragma once

#include <cstdio>

#include "core/event.h"
#include "core/json.h"
#include "core/time.h"

// A property of the code under test. On failure it says which, then traps,
// so that libFuzzer (or the standalone driver) keeps the input as a crash.
#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "%s:%d: property does not hold: %s\n", __FILE__, __LINE__, #cond); \
      __builtin_trap();                                                                    \
    }                                                                                      \
  } while (0)

namespace custodian::fuzz {

// The time the decoders validate against (occurred_at may be at most five
// minutes later): fixed, so that a run is a function of its input.
inline Timestamp FuzzNow() {
  static const Timestamp now = *ParseRfc3339("2030-01-01T00:00:00Z");
  return now;
}

// An event the decoders accept prints as JSON that parses back to the same
// event, with and without the fields the log assigns (ignored on input), and
// prints the same again.
inline void CheckEventRoundTrip(const Event& e) {
  const std::string text = EventToJson(e, JsonFields::kProducer);
  Result<Event> again = ParseEventJson(text);
  if (!again.ok()) std::fprintf(stderr, "%s\n%s\n", text.c_str(), again.status().ToString().c_str());
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == e);
  FUZZ_CHECK(EventToJson(*again, JsonFields::kProducer) == text);
  Result<Event> with_log_fields = ParseEventJson(EventToJson(e, JsonFields::kWithLogFields));
  FUZZ_CHECK(with_log_fields.ok() && *with_log_fields == e);
}

}  // namespace custodian::fuzz
