// What /metrics serves (Prometheus text format 0.0.4): requests by route and
// status, request latency by route, requests in flight, events appended over
// HTTP. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace custodian {

class Metrics {
 public:
  // `route` is the route's pattern ("/v1/customers/{id}"), never the path
  // itself, so no id or name reaches a metric.
  void Request(std::string_view route, int status, double seconds);
  void Appended(uint64_t events, uint64_t requests);
  // A request was handed to the Api (+1) or answered by it (-1); the /metrics
  // request that reads the gauge counts itself.
  void InFlight(int delta) { in_flight_.fetch_add(delta); }
  // The text, with gauges the caller measured at the time of the scrape.
  std::string Render(const std::vector<std::pair<std::string, double>>& gauges) const;

 private:
  static constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
  struct Histogram {
    uint64_t counts[std::size(kBuckets)] = {};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  uint64_t appended_events_ = 0, append_requests_ = 0;
  std::atomic<int64_t> in_flight_{0};
};

}  // namespace custodian
