// Evidence bundles: a customer's events (or a time window of them) with a
// signed checkpoint and an inclusion proof for each, in one JSON file that
// verifies offline (core/bundle.h describes the format and the checks).
#pragma once

#include <optional>
#include <string>

#include "core/status.h"
#include "core/types.h"
#include "storage/event_log.h"

namespace custodian {

struct BundleRequest {
  std::string stream;
  std::optional<Timestamp> from;  // occurred_at at or after
  std::optional<Timestamp> to;    // occurred_at at or before
};

struct Bundle {
  std::string json;     // the file's contents
  std::string summary;  // the human-readable summary it carries
  uint64_t events = 0;
};

// Builds the bundle against the newest stored checkpoint that covers the
// stream's events; on a read-write log, signs a fresh one when none does (or
// when the newest has no stream map note). With the map note the bundle is
// format 3 and proves completeness (core/bundle.h); a read-only log whose
// newest checkpoint predates the map writes format 2 (inclusion only).
// A stream with no events at all gives a proof of absence (no events, a map
// proof that the stream is not in the map). NotFound when a time window
// matches no event.
Result<Bundle> BuildEvidenceBundle(EventLog& log, const BundleRequest& request);

}  // namespace custodian
