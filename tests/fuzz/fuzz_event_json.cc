// Fuzz target: the event JSON decoder (core/json.h), the format of import
// files, `custodian append` and POST /v1/streams/{s}/events.
//
// Input: any bytes, read as one event's JSON text. Properties:
//  - ParseEventJson never crashes, and ValidateEvent never crashes on what it
//    accepts;
//  - an accepted event prints (EventToJson) as JSON that parses back to the
//    same event (CheckEventRoundTrip).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/json.h"
#include "core/validation.h"
#include "tests/fuzz/fuzz_properties.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace custodian;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<Event> e = ParseEventJson(text);
  if (!e.ok()) return 0;
  const Status valid = ValidateEvent(*e, fuzz::FuzzNow());
  (void)valid;  // either answer is fine; it must not crash
  fuzz::CheckEventRoundTrip(*e);
  return 0;
}
