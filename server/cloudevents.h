// CloudEvents 1.0 in, Custodian events out: the decoder behind
// POST /v1/cloudevents (docs/http-api.md). Pure functions of the request
// (and the time, for ValidateEvent): no I/O, no clock reads, no log.
//
// Two layers, so that each can be checked against its own specification:
//
//  1. ParseCloudEvents reads the request as CloudEvents 1.0 (core spec, JSON
//     event format, HTTP protocol binding) in the mode its Content-Type
//     selects, and checks every rule of the spec. It knows nothing of
//     Custodian; the CloudEvents conformance vectors
//     (../shared/testdata/cloudevents/) test this layer.
//  2. CloudEventToEvent maps one valid CloudEvent to an Event and runs
//     ValidateEvent. A valid CloudEvent can still be refused here: Custodian
//     needs a stream (subject), an actor (the `actor` extension), a time and
//     a JSON object as data, which CloudEvents leaves optional.
//
// DecodeCloudEvents does both for a whole request. Errors:
//  - Unsupported: the request is no CloudEvent at all (a Content-Type that
//    is neither CloudEvents JSON nor accompanied by ce- headers); the route
//    answers 415 and lists kAcceptedMediaTypes.
//  - InvalidArgument: anything else, naming where ("batch[2]: ",
//    "header ce-time: ") and the attribute or field at fault, e.g.
//    batch[1]: attribute 'specversion': "0.9" is not supported; expected "1.0"
// A batch is all or nothing: one bad CloudEvent refuses the request.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "server/http.h"

namespace custodian {

// The media types of the structured and batched modes. The route advertises
// both (Accept-Post, and the 415 answer) so that senders may batch.
inline constexpr std::string_view kCloudEventsJson = "application/cloudevents+json";
inline constexpr std::string_view kCloudEventsBatchJson = "application/cloudevents-batch+json";
inline constexpr std::string_view kAcceptedMediaTypes =
    "application/cloudevents+json, application/cloudevents-batch+json";

// How the request carried its CloudEvents (HTTP protocol binding, section 3).
enum class CloudEventsMode {
  kBinary,      // attributes in ce- headers, the data is the body
  kStructured,  // one event as application/cloudevents+json
  kBatched,     // a JSON array as application/cloudevents-batch+json
};

// One CloudEvent as received, after the spec's checks. An optional attribute
// that is absent or JSON null is nullopt.
struct CloudEvent {
  std::string specversion;  // always "1.0"
  std::string id;           // non-empty
  std::string source;       // a non-empty URI-reference
  std::string type;         // non-empty
  std::optional<std::string> datacontenttype;  // an RFC 2046 media type
  std::optional<std::string> dataschema;       // an absolute URI
  std::optional<std::string> subject;          // non-empty
  std::optional<Timestamp> time;               // RFC 3339, kept to the microsecond
  // Extension attributes by name (lower-case letters and digits). Each value
  // is compact JSON: a string, a boolean or an integer in the JSON format;
  // always a string in binary mode, where the spec gives no types.
  std::map<std::string, std::string> extensions;

  enum class DataForm {
    kNone,   // no data
    kJson,   // structured `data` member: `data` holds its compact JSON text
    kBytes,  // binary-mode body or decoded `data_base64`: `data` holds the bytes
  };
  DataForm data_form = DataForm::kNone;
  std::string data;

  bool operator==(const CloudEvent&) const = default;
};

// The CloudEvents of `request`, in order, checked against CloudEvents 1.0.
// The mode is chosen by Content-Type: kCloudEventsJson (structured; the body
// is one JSON object), kCloudEventsBatchJson (batched; a JSON array of
// objects, possibly empty), any other type or none with at least one ce-
// header (binary; header values are percent-decoded and must be UTF-8, the
// Content-Type becomes datacontenttype, a non-empty body is the data). In
// structured and batched modes ce- headers are ignored. Unsupported when no
// mode applies; InvalidArgument for any broken rule (see the file comment).
Result<std::vector<CloudEvent>> ParseCloudEvents(const http::Request& request);

// The mode `request` would be read in; Unsupported as ParseCloudEvents.
Result<CloudEventsMode> CloudEventsModeOf(const http::Request& request);

// The seed of the stable event id of the CloudEvent (source, id):
//   "cloudevents\n" ‖ source ‖ "\n" ‖ id      (bytes as received, UTF-8)
// A source is a URI-reference and cannot hold a line feed, so the seed is
// unambiguous. The id is EventId::FromSeed(seed): the CloudEvent delivered
// again, in any mode, is the same Custodian event, and the log answers a
// retry with the original position (idempotency).
std::string CloudEventIdSeed(std::string_view source, std::string_view id);
EventId CloudEventEventId(std::string_view source, std::string_view id);

// Maps a CloudEvent to an Event and checks it with ValidateEvent(e, now):
//   id          <- CloudEventEventId(source, id)
//   stream      <- subject (required)
//   type        <- type
//   schema      =  1
//   actor       <- the `actor` extension (required, a string)
//   occurred_at <- time (required: an arrival time would make a retry differ
//                  from its first delivery, and the log would refuse it as a
//                  conflict)
//   source      <- source
//   data        <- data, which must be a JSON object and, when given, of a
//                  JSON datacontenttype (application/json, text/json or
//                  */*+json; absent means JSON in structured and batched
//                  modes); no data gives {}
// Other attributes (dataschema, other extensions) are checked by
// ParseCloudEvents and not kept. InvalidArgument naming the attribute.
Result<Event> CloudEventToEvent(const CloudEvent& ce, Timestamp now);

// What a request decodes to. A CloudEvent delivered twice in one batch (same
// source and id, same content) is one event, as the spec allows a consumer to
// assume; the log would refuse a batch that repeats an id.
struct DecodedCloudEvents {
  CloudEventsMode mode = CloudEventsMode::kStructured;
  std::vector<Event> events;        // distinct events, in order of first appearance
  std::vector<size_t> event_of;     // per CloudEvent received, in order: its index in `events`
};

// ParseCloudEvents, then CloudEventToEvent for each. All or nothing: the
// first error refuses the request, prefixed with the CloudEvent's place in
// a batch ("batch[3]: "). The same source and id twice in a batch with other
// content is InvalidArgument naming both places. A valid empty batch gives
// no events.
Result<DecodedCloudEvents> DecodeCloudEvents(const http::Request& request, Timestamp now);

}  // namespace custodian
