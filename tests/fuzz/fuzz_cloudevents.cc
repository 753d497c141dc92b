// Fuzz target: the CloudEvents decoder behind POST /v1/cloudevents
// (server/cloudevents.h), without the HTTP parser in front of it.
//
// Input, split deterministically so that seeds stay readable:
//   byte 0            the Content-Type, by (byte % 8) from kContentTypes; '0'..'7'
//                     pick entries 0..7, and entry 0 adds none
//   "\n"              optional
//   lines             headers, "name: value" (split at the first ':', blanks
//                     after it dropped, as Beast does), up to a blank line
//   the rest          the body
// Properties:
//  - DecodeCloudEvents never crashes;
//  - what it accepts agrees with ParseCloudEvents (one index per CloudEvent,
//    each naming a decoded event) and every decoded event passes
//    ValidateEvent and survives the JSON round trip (CheckEventRoundTrip).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/validation.h"
#include "server/cloudevents.h"
#include "server/http.h"
#include "tests/fuzz/fuzz_properties.h"

namespace {

constexpr std::string_view kContentTypes[8] = {
    "",  // none: only the headers of the input
    "application/cloudevents+json",
    "application/cloudevents-batch+json",
    "application/json",
    "application/cloudevents+json; charset=UTF-8",
    "text/plain",
    "application/cloudevents+xml",
    "APPLICATION/CloudEvents-Batch+JSON ; charset=\"utf-8\"",
};

custodian::http::Request RequestOf(std::string_view in) {
  custodian::http::Request request;
  request.method = "POST";
  request.target = "/v1/cloudevents";
  if (in.empty()) return request;
  const std::string_view content_type = kContentTypes[static_cast<uint8_t>(in[0]) % 8];
  if (!content_type.empty()) request.headers.emplace_back("Content-Type", std::string(content_type));
  in.remove_prefix(1);
  if (!in.empty() && in.front() == '\n') in.remove_prefix(1);
  while (!in.empty()) {
    const size_t eol = in.find('\n');
    const std::string_view line = in.substr(0, eol);
    in.remove_prefix(eol == std::string_view::npos ? in.size() : eol + 1);
    if (line.empty()) {  // the blank line: the rest is the body
      request.body = std::string(in);
      break;
    }
    const size_t colon = line.find(':');
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    request.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return request;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace custodian;
  const http::Request request = RequestOf(std::string_view(reinterpret_cast<const char*>(data), size));
  Result<DecodedCloudEvents> decoded = DecodeCloudEvents(request, fuzz::FuzzNow());
  if (!decoded.ok()) return 0;
  Result<std::vector<CloudEvent>> parsed = ParseCloudEvents(request);
  FUZZ_CHECK(parsed.ok());
  FUZZ_CHECK(decoded->event_of.size() == parsed->size());
  FUZZ_CHECK(decoded->events.size() <= parsed->size());
  for (size_t index : decoded->event_of) FUZZ_CHECK(index < decoded->events.size());
  for (const Event& e : decoded->events) {
    FUZZ_CHECK(ValidateEvent(e, fuzz::FuzzNow()).ok());
    fuzz::CheckEventRoundTrip(e);
  }
  return 0;
}
