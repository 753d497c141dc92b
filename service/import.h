// Importing events from JSON Lines (one event per line): the importer behind
// `custodian import` (DESIGN.md, Interfaces; docs/events.md).
//
// All or nothing. The whole input is checked before the first write, in two
// passes over it:
//   1. every line is read (at most kMaxLineBytes, refused as soon as a line
//      passes it), parsed, validated (envelope and payload) and checked
//      against the log as the file would apply it: an id already in the log
//      must name the same event, and the log's rules (RuleDryRun) hold for
//      each new event in file order. The same event twice in the file is
//      one event (idempotent, as across files); the same id with other
//      content is a conflict naming both lines.
//   2. only then is the input read again and written in atomic batches.
// So bad input changes nothing. Only a storage failure in pass 2 can leave
// an import part-written; running it again completes it (ids are
// idempotent). The caller must hold the store read-write for the whole
// import (EventLog::Open in kReadWrite), so nothing else writes between the
// passes.
//
// With skip_invalid, the lines pass 1 refuses are left out (and listed) and
// the rest is written; the report says how many were skipped.
//
// Input. A regular file is read twice. Anything else (standard input, a
// pipe) is first copied, line by line with the same limit, to an unnamed
// owner-only temporary file. A UTF-8 byte-order mark at the start is
// skipped; blank lines are ignored; a line may end in CRLF.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "storage/event_log.h"

namespace custodian {

// A line of JSON may hold at most this much: an event's data is at most 1 MiB
// in compact form (kMaxDataBytes), and its JSON may spell it out more.
inline constexpr size_t kMaxLineBytes = 4 << 20;

struct ImportOptions {
  bool skip_invalid = false;   // leave out refused lines instead of stopping
  size_t batch_events = 1000;  // events per atomic batch (1..100000)
  // Called now and then: (phase "checking" or "writing", lines done), and
  // once with "checked" when the first pass is done.
  std::function<void(std::string_view phase, uint64_t lines)> progress;
};

struct ImportReport {
  uint64_t lines = 0;            // lines read, blank ones included
  uint64_t events = 0;           // events in the input (non-blank lines)
  uint64_t written = 0;          // newly written
  uint64_t already_present = 0;  // in the log before (ids seen before, same content)
  uint64_t repeated = 0;         // the same event again, later in the input
  std::vector<std::pair<uint64_t, std::string>> skipped;  // skip_invalid: (line, why)
  double seconds = 0;
};

// Imports the JSON Lines at `path` ("-": standard input) into `log`.
// Errors name the line: InvalidArgument (syntax, envelope, payload, a line
// too long, a directory or unreadable input), Conflict (an id already used
// with other content, in the log or the input), RuleViolation, IoError. On
// any error before the writing pass nothing is written; the Status is the
// first problem found. A storage error while writing says how far it got.
Result<ImportReport> ImportJsonLines(EventLog& log, const std::string& path, const ImportOptions& options);

// The report as one JSON object (the CLI's --json).
std::string ImportReportToJson(const ImportReport& report);

}  // namespace custodian
