// Appends a follower hands to the partition writer over NATS (request and
// reply on "<stream>.append"; docs/scale-out.md). The writer checks, seals and
// writes them as if they were its own callers'; the follower answers its
// caller once its own store holds them. Personal parts travel in plain JSON
// to the writer, which seals them: they are never in the stream.
//
// Request:  "CFWD2 <requests>\n", then per request
//           "<expected kind> <expected version> <events> <stream>\n" and one
//           event per line (core/json.h, EventToJson, producer fields and
//           recorded_by, the token that appended it over the API). "CFWD1"
//           is the same without recorded_by: what builds before record
//           version 2 send and take.
// Reply:    "OK <requests>\n" then per request "<written> <pos>:<ver> ...\n",
//           or "ERR <status code> <message>".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/event_log.h"

namespace custodian::cluster {

enum class ForwardFraming {
  kCurrent,  // CFWD2: with recorded_by
  kBefore2,  // CFWD1: without it, for a writer of a build before record version 2
};
std::string EncodeForward(const std::vector<AppendRequest>& requests,
                          ForwardFraming framing = ForwardFraming::kCurrent);
// InvalidArgument, naming the line, when the bytes are not a forwarded append.
Result<std::vector<AppendRequest>> DecodeForward(std::string_view bytes);
// Whether a writer refused a forward for its framing, as a writer that does
// not know CFWD2 (a build before record version 2) answers one: during a
// rolling upgrade (followers first), the follower sends it again as CFWD1.
bool RefusedForItsFraming(const Status& writer_said);

std::string EncodeForwardReply(const Result<std::vector<AppendResult>>& outcome);
// The writer's outcome, its Status as the writer gave it.
Result<std::vector<AppendResult>> DecodeForwardReply(std::string_view bytes);

}  // namespace custodian::cluster
