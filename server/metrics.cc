#include "server/metrics.h"

#include <fmt/format.h>

namespace custodian {

void Metrics::Request(std::string_view route, int status, double seconds) {
  std::lock_guard lk(mu_);
  ++requests_[{std::string(route), status}];
  Histogram& h = latency_[std::string(route)];
  for (size_t i = 0; i < std::size(kBuckets); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::Appended(uint64_t events, uint64_t requests) {
  std::lock_guard lk(mu_);
  appended_events_ += events;
  append_requests_ += requests;
}

std::string Metrics::Render(const std::vector<std::pair<std::string, double>>& gauges) const {
  std::lock_guard lk(mu_);
  std::string out;
  out += "# HELP custodian_http_requests_total HTTP requests answered, by route pattern and status.\n";
  out += "# TYPE custodian_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += fmt::format("custodian_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, n);
  }
  out += "# HELP custodian_http_request_seconds Time to answer a request, by route pattern.\n";
  out += "# TYPE custodian_http_request_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (size_t i = 0; i < std::size(kBuckets); ++i) {
      out += fmt::format("custodian_http_request_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", route, kBuckets[i],
                         h.counts[i]);
    }
    out += fmt::format("custodian_http_request_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", route, h.count);
    out += fmt::format("custodian_http_request_seconds_sum{{route=\"{}\"}} {}\n", route, h.sum);
    out += fmt::format("custodian_http_request_seconds_count{{route=\"{}\"}} {}\n", route, h.count);
  }
  out += "# HELP custodian_http_requests_in_flight Requests being handled now.\n";
  out += "# TYPE custodian_http_requests_in_flight gauge\n";
  out += fmt::format("custodian_http_requests_in_flight {}\n", in_flight_.load());
  out += "# HELP custodian_http_appended_events_total Events appended through the HTTP API.\n";
  out += "# TYPE custodian_http_appended_events_total counter\n";
  out += fmt::format("custodian_http_appended_events_total {}\n", appended_events_);
  out += "# HELP custodian_http_append_requests_total Append requests that succeeded.\n";
  out += "# TYPE custodian_http_append_requests_total counter\n";
  out += fmt::format("custodian_http_append_requests_total {}\n", append_requests_);
  for (const auto& [name, value] : gauges) {
    out += fmt::format("# TYPE {} gauge\n{} {}\n", name, name, value);
  }
  return out;
}

}  // namespace custodian
