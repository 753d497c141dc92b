#include "service/projections.h"

#include <fmt/core.h>

#include <boost/json.hpp>
#include <chrono>

#include "replay/projection.h"
#include "service/store.h"

namespace custodian {
namespace json = boost::json;

std::vector<std::string> ProjectionNames(EventLog& log) {
  ProjectionEngine engine(log);
  AddProjections(engine);
  return engine.Names();
}

Result<RebuildResult> RebuildProjection(EventLog& log, std::string_view name, const ProgressFn& progress) {
  // Nobody else folds into the store while the projection is dropped and built again.
  auto folding = ProjectionLock();
  ProjectionEngine engine(log);
  AddProjections(engine);
  if (engine.Find(name) == nullptr) {
    std::string known;
    for (const std::string& k : engine.Names()) known += (known.empty() ? "" : ", ") + k;
    return Status::InvalidArgument("no projection named " + std::string(name) + "; the projections are " + known);
  }
  const auto start = std::chrono::steady_clock::now();
  CUSTODIAN_RETURN_IF_ERROR(engine.Rebuild(name, progress));
  Result<std::string> digest = engine.Digest(name);
  if (!digest.ok()) return digest.status();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return RebuildResult{std::string(name), log.end().value(), std::move(*digest), seconds};
}

std::string RebuildResultToJson(const RebuildResult& r) {
  std::string body =
      json::serialize(json::object{{"projection", r.projection}, {"events", r.events}, {"digest", r.digest}});
  // Seconds as a plain decimal to the millisecond ("0.012"): Boost.JSON
  // would write a double in exponent form ("1.2E-2").
  body.insert(body.size() - 1, fmt::format(",\"seconds\":{:.3f}", r.seconds));
  return body;
}

}  // namespace custodian
