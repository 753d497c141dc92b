// The event log's commands: init, append, import, read, read-all, tail, stats.
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <unordered_map>

#include "core/json.h"
#include "core/time.h"
#include "core/validation.h"
#include "service/import.h"
#include "service/log_queries.h"
#include "storage/permissions.h"
#include "tools/cli.h"

namespace custodian::cli {

// --- init ---

int RunInit(const Globals& g, const std::optional<std::string>& origin, bool json) {
  Result<std::unique_ptr<EventLog>> existing = OpenStore(g, EventLogOptions::Mode::kReadOnly);
  if (existing.ok()) {
    // A store's origin names it on every checkpoint it signed: it is fixed when the store is made.
    const note::VerifierKey* key = (*existing)->verifier();
    if (origin && key != nullptr && key->name() != *origin) {
      return Fail(Status::InvalidArgument("a Custodian store already exists at " + g.data_dir + " with origin " +
                                          key->name() + ", not " + *origin +
                                          "; nothing changed (a store's origin is fixed when it is created): run "
                                          "init with --origin " + key->name() +
                                          ", or with another --data directory for a new log"));
    }
    fmt::print("a Custodian store already exists at {} ({} events{}); nothing changed\n", g.data_dir,
               Thousands((*existing)->end().value()), key != nullptr ? ", origin " + key->name() : "");
    return kExitOk;
  }
  if (existing.status().code() != StatusCode::kNotFound) return Fail(existing.status());
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite, CreateIfMissing::kYes,
                                                    origin.value_or(DefaultOrigin()));
  if (!log.ok()) return Fail(log.status());
  const std::string vkey = (*log)->verifier() ? (*log)->verifier()->ToString() : "";
  const Status personal = (*log)->PersonalStatus();
  if (json) {
    fmt::print("{{\"store\":{},\"verifier_key\":{},\"master_key\":{}}}\n", JsonQuote(g.data_dir), JsonQuote(vkey),
               JsonQuote(personal.ok() ? MasterKeyFile(g) : ""));
  } else {
    fmt::print("created an empty Custodian store at {}\ncheckpoint verifier key (publish it to auditors): {}\n",
               g.data_dir, vkey);
    if (personal.ok()) {
      fmt::print("master key for personal data (keep it apart from the store and its backups): {}\n", MasterKeyFile(g));
    } else {
      fmt::print("personal data cannot be recorded yet: {}\n", personal.message());
    }
  }
  return kExitOk;
}

// --- append ---

namespace {

Result<ExpectedVersion> ParseExpected(const std::string& text) {
  if (text.empty() || text == "any") return ExpectedVersion::Any();
  if (text == "none" || text == "no-stream") return ExpectedVersion::NoStream();
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0' || text[0] == '-') {
    return Status::InvalidArgument("--expected-version: \"" + text +
                                   "\" is not a version; expected a number, 'any' or 'none'");
  }
  return ExpectedVersion::Exactly(StreamVersion(v));
}

}  // namespace

int RunAppend(const Globals& g, const std::string& json_arg, const std::string& expected_text, bool json) {
  Result<ExpectedVersion> expected = ParseExpected(expected_text);
  if (!expected.ok()) {
    fmt::print(stderr, "custodian: {}\n", expected.status().message());
    return kExitUsage;
  }
  const bool from_input = json_arg.empty() || json_arg == "-";
  // One event: its data is at most 1 MiB, its personal part less.
  Result<std::string> input = from_input ? ReadAtMost(std::cin, 16 << 20, "standard input") : Result<std::string>(json_arg);
  if (!input.ok()) return Fail(input.status());
  const std::string& text = *input;
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return UsageError(Status::InvalidArgument(std::string("no event given") +
                                              (from_input ? " (standard input was empty)" : "") +
                                              ": append takes one event in its JSON form, as an argument or on "
                                              "standard input (custodian append --help shows one)"));
  }
  Result<Event> event = ParseEventJson(text);
  if (!event.ok()) return Fail(event.status());
  if (Status s = ValidateEvent(*event, SystemClock().Now()); !s.ok()) return Fail(s);
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());
  const std::string stream = event->stream;
  const std::string id = event->id.ToString();
  Result<AppendResult> r = (*log)->Append(stream, {std::move(*event)}, *expected);
  if (!r.ok()) return Fail(r.status());
  const bool written = r->written == 1;
  if (json) {
    fmt::print("{{\"id\":\"{}\",\"stream\":{},\"position\":{},\"version\":{},\"written\":{}}}\n", id,
               JsonQuote(stream), r->positions[0].value(), r->versions[0].value(), written);
  } else if (written) {
    fmt::print("appended {} to {} at version {} (position {})\n", id, stream, r->versions[0].value(),
               r->positions[0].value());
  } else {
    fmt::print("{} was already in the log: {} version {} (position {}); nothing written\n", id, stream,
               r->versions[0].value(), r->positions[0].value());
  }
  return kExitOk;
}

// --- import ---

int RunImport(const Globals& g, const std::string& file, bool skip_invalid, size_t batch_size, bool json) {
  if (file != "-") {
    // What is not a file to read is a usage error, before the store is opened.
    struct stat st;
    if (::stat(file.c_str(), &st) != 0) {
      return UsageError(Status::InvalidArgument("cannot open " + file + ": " + std::strerror(errno)));
    }
    if (S_ISDIR(st.st_mode)) {
      return UsageError(Status::InvalidArgument(file + " is a directory; give a JSON Lines file (one event per "
                                                       "line), or - for standard input"));
    }
  }
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());

  const bool show_progress = ::isatty(STDERR_FILENO) && !json;
  auto last = std::chrono::steady_clock::now();
  ImportOptions options;
  options.skip_invalid = skip_invalid;
  options.batch_events = batch_size;
  options.progress = [&](std::string_view phase, uint64_t lines) {
    if (!show_progress) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::milliseconds(500)) return;
    last = now;
    fmt::print(stderr, "\r{}: line {}   ", phase, Thousands(lines));
  };
  Result<ImportReport> r = ImportJsonLines(**log, file, options);
  if (show_progress) fmt::print(stderr, "\r{:<60}\r", "");
  if (!r.ok()) {
    const int code = Fail(r.status());
    if (r.status().code() != StatusCode::kIoError) {
      fmt::print(stderr, "import refused: nothing was written (the whole input is checked before the first "
                         "write)\n");
    }
    return code;
  }
  if (json) {
    fmt::print("{}\n", ImportReportToJson(*r));
  } else {
    for (const auto& [number, why] : r->skipped) fmt::print(stderr, "skipped line {}: {}\n", number, TerminalText(why));
    fmt::print("imported {} events from {} lines in {:.1f}s ({:.0f} events/s); {} already present, {} repeated in "
               "the input, {} skipped\n",
               Thousands(r->written), Thousands(r->lines), r->seconds,
               static_cast<double>(r->written) / std::max(r->seconds, 1e-9), Thousands(r->already_present),
               Thousands(r->repeated), Thousands(r->skipped.size()));
  }
  // Lines left out are input refused: the import did not do all it was asked.
  return r->skipped.empty() ? kExitOk : kExitRejected;
}

// --- queries ---

int RunRead(const Globals& g, const std::string& stream, uint64_t from, bool backwards, uint64_t limit, bool json) {
  // A customer's stream, or an access stream, is read by a named reader,
  // whose read is recorded; personal parts are opened for them.
  Caller caller;
  if (!g.as.empty() || IsRecordedStream(stream)) {
    Result<std::string> reader = Reader(g, "read " + stream);
    if (!reader.ok()) return UsageError(reader.status());
    caller = g.CallerAs(*reader);
  }
  // Read-write when no other process holds the store, so that the read is
  // appended; else read-only, the read spooled for the next writer.
  Result<std::unique_ptr<EventLog>> log =
      caller.principal.empty() ? OpenStore(g, EventLogOptions::Mode::kReadOnly) : OpenForReading(g);
  if (!log.ok()) return Fail(log.status());
  const StreamReadRequest request{stream, from, backwards ? Direction::kBackward : Direction::kForward, limit};
  Result<StreamEvents> r = ReadStreamEvents(**log, caller, request);
  if (!r.ok()) return Fail(r.status());
  if (r->events.empty()) {
    if (!json) fmt::print(stderr, "stream {} has no events{}\n", stream, from > 0 && !backwards ? " from there" : "");
    return kExitOk;
  }
  if (r->left_sealed) {
    fmt::print(stderr, "custodian: personal parts are shown sealed: they are opened only on a customer's own stream\n");
  }
  if (!r->personal_unavailable.empty()) {
    fmt::print(stderr, "custodian: personal fields are shown sealed, because {}; everything else is complete\n",
               TerminalText(r->personal_unavailable));
  }
  for (const auto& [position, why] : r->unopened) {
    fmt::print(stderr, "custodian: event {}: {}\n", position, TerminalText(why));
  }
  if (json) {
    fmt::print("{}", StreamEventsToJson(*r));
    return kExitOk;
  }
  PrintHeader();
  for (const Event& e : r->events) PrintEvent(e, false);
  return kExitOk;
}

int RunReadAll(const Globals& g, uint64_t from, uint64_t limit, bool json) {
  // The log holds customers' streams: its reader is named and each page's read recorded.
  Result<std::string> reader = Reader(g, "read-all");
  if (!reader.ok()) return UsageError(reader.status());
  const Caller caller = g.CallerAs(*reader);
  Result<std::unique_ptr<EventLog>> log = OpenForReading(g);
  if (!log.ok()) return Fail(log.status());
  if (!json) PrintHeader();
  // Page by page, so that a large log is printed as it is read, never held whole.
  std::optional<uint64_t> next = from;
  uint64_t left = limit;
  while (next && left > 0) {
    Result<LogPage> page = ReadLogPage(**log, caller, *next, left);
    if (!page.ok()) return Fail(page.status());
    if (json) {
      fmt::print("{}", LogPageToJson(*page));
    } else {
      for (const Event& e : page->events) PrintEvent(e, false);
    }
    left -= page->events.size();
    next = page->next;
  }
  return kExitOk;
}

int RunTail(const Globals& g, std::optional<uint64_t> from, const std::string& stream, uint64_t count, bool json) {
  if (!stream.empty()) {
    if (Status s = ValidateStreamName(stream); !s.ok()) return Fail(s);
  }
  // Following the whole log, a customer's stream or an access stream shows
  // customer data: its reader is named and each batch's read recorded before
  // it is printed. Read-only, never holding the store from its writers: the
  // reads are spooled for the writer to append.
  Caller caller;
  if (!g.as.empty() || stream.empty() || IsRecordedStream(stream)) {
    Result<std::string> reader = Reader(g, stream.empty() ? std::string("tail") : "tail --stream " + stream);
    if (!reader.ok()) return UsageError(reader.status());
    caller = g.CallerAs(*reader);
  }
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadOnly);
  if (!log.ok()) return Fail(log.status());
  InstallSignalHandlers();
  auto sub = (*log)->Subscribe(Position(from.value_or((*log)->end().value())),
                               stream.empty() ? std::nullopt : std::optional<std::string>(stream));
  if (!json) {
    fmt::print(stderr, "following {} from position {} (Ctrl-C to stop)\n", stream.empty() ? "the log" : stream,
               sub->cursor().value());
    PrintHeader();
  }
  std::fflush(stdout);
  uint64_t printed = 0;
  while (!Interrupted() && printed < count) {
    Result<std::vector<Event>> events = sub->Next(std::chrono::milliseconds(250), count - printed);
    if (!events.ok()) return Fail(events.status());
    if (Status s = RecordLogRead(**log, caller, kViewLogTail, *events, Follow::kYes); !s.ok()) return Fail(s);
    for (const Event& e : *events) PrintEvent(e, json);
    printed += events->size();
    std::fflush(stdout);
  }
  return kExitOk;
}

int RunStats(const Globals& g, const std::string& stream, bool json) {
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadOnly);
  if (!log.ok()) return Fail(log.status());
  if (!stream.empty()) {
    Result<StreamInfo> info = DescribeStream(**log, stream);
    if (!info.ok()) return Fail(info.status());
    if (json) {
      fmt::print("{}\n", StreamInfoToJson(*info));
    } else {
      fmt::print("stream            {}\nevents            {}\ncurrent version   {}\npositions         {} .. {}\n"
                 "recorded          {} .. {}\noccurred          {} .. {}\n",
                 info->stream, Thousands(info->event_count), info->last_version.value(), info->first_position.value(),
                 info->last_position.value(), FormatRfc3339(info->first_recorded_at),
                 FormatRfc3339(info->last_recorded_at), FormatRfc3339(info->first_occurred_at),
                 FormatRfc3339(info->last_occurred_at));
    }
    return kExitOk;
  }
  Result<StoreStats> stats = DescribeStore(**log);
  if (!stats.ok()) return Fail(stats.status());
  if (json) {
    fmt::print("{}\n", StoreStatsToJson(*stats));
  } else {
    const LogStats& s = stats->stats;
    fmt::print("store             {}\nevents            {}\nstreams           {}\n", stats->store,
               Thousands(s.event_count), Thousands(s.stream_count));
    if (s.event_count > 0) {
      fmt::print("recorded          {} .. {}\n", FormatRfc3339(s.first_recorded_at), FormatRfc3339(s.last_recorded_at));
    }
    fmt::print("on disk           {:.1f} MiB\n", static_cast<double>(s.disk_bytes) / (1 << 20));
  }
  return kExitOk;
}

// --- permissions ---

int RunPermissions(const Globals& g, bool fix, bool json) {
  Result<std::vector<LoosePath>> loose = fix ? TightenStorePermissions(g.data_dir) : FindLooseStorePaths(g.data_dir);
  if (!loose.ok()) return Fail(loose.status());
  // The default key directory beside the store is the store's own too (one
  // given with --master-key may be any directory, and is left alone).
  if (g.master_key.empty()) {
    const std::string keys = std::filesystem::path(MasterKeyFile(g)).parent_path().string();
    std::error_code ec;
    if (std::filesystem::is_directory(keys, ec)) {
      Result<std::vector<LoosePath>> more = fix ? TightenStorePermissions(keys) : FindLooseStorePaths(keys);
      if (!more.ok()) return Fail(more.status());
      loose->insert(loose->end(), more->begin(), more->end());
    }
  }
  if (json) {
    std::string paths = "[";
    for (size_t i = 0; i < loose->size(); ++i) {
      paths += fmt::format("{}{{\"path\":{},\"mode\":\"{:04o}\"}}", i ? "," : "", JsonQuote((*loose)[i].path),
                           (*loose)[i].mode);
    }
    fmt::print("{{\"store\":{},\"owner_only\":{},\"{}\":{}]}}\n", JsonQuote(g.data_dir), fix || loose->empty(),
               fix ? "fixed" : "loose", paths);
  } else if (loose->empty()) {
    fmt::print("{} is owner-only: no other account on this machine can read it\n", g.data_dir);
  } else {
    for (const LoosePath& p : *loose) fmt::print("{:04o}  {}\n", p.mode, TerminalText(p.path));
    if (fix) {
      fmt::print("made {} paths owner-only (directories 0700, files 0600)\n", loose->size());
    } else {
      fmt::print("other accounts can read or enter these {} paths; `custodian permissions --fix` makes them "
                 "owner-only\n",
                 loose->size());
    }
  }
  return fix || loose->empty() ? kExitOk : kExitVerifyFailed;
}

}  // namespace custodian::cli
