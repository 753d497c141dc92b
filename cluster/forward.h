// Appends a follower hands to the partition writer over NATS (request and
// reply on "<stream>.append"; docs/scale-out.md). The writer checks, seals and
// writes them as if they were its own callers'; the follower answers its
// caller once its own store holds them. Personal parts travel in plain JSON
// to the writer, which seals them: they are never in the stream.
//
// Request:  "CFWD1 <requests>\n", then per request
//           "<expected kind> <expected version> <events> <stream>\n" and one
//           event per line (core/json.h, EventToJson, producer fields).
// Reply:    "OK <requests>\n" then per request "<written> <pos>:<ver> ...\n",
//           or "ERR <status code> <message>".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/event_log.h"

namespace custodian::cluster {

std::string EncodeForward(const std::vector<AppendRequest>& requests);
// InvalidArgument, naming the line, when the bytes are not a forwarded append.
Result<std::vector<AppendRequest>> DecodeForward(std::string_view bytes);

std::string EncodeForwardReply(const Result<std::vector<AppendResult>>& outcome);
// The writer's outcome, its Status as the writer gave it.
Result<std::vector<AppendResult>> DecodeForwardReply(std::string_view bytes);

}  // namespace custodian::cluster
