// Rebuilding the stored projections (DESIGN.md, Projections): dropping one
// projection's state and folding it again from the log's first event, with
// the digest of what it built, so that two rebuilds can be compared.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/event_log.h"

namespace custodian {

// The projections the queries read (AddProjections in service/store.h), by name.
std::vector<std::string> ProjectionNames(EventLog& log);

struct RebuildResult {
  std::string projection;
  uint64_t events = 0;  // the log's events when it finished: all were folded
  std::string digest;   // of the state built (replay/projection.h: StateDigest)
  double seconds = 0;
};
// Rebuilds the projection `name` in `log` (writable), calling `progress`
// (events done, of total) as it goes; holds ProjectionLock (service/store.h)
// meanwhile, so a server's follower does not fold into it at the same time.
// InvalidArgument naming the projections there are for an unknown name;
// nothing is dropped then.
Result<RebuildResult> RebuildProjection(EventLog& log, std::string_view name, const ProgressFn& progress = nullptr);
// {"projection","events","digest","seconds"} (seconds to the millisecond).
std::string RebuildResultToJson(const RebuildResult& r);

}  // namespace custodian
