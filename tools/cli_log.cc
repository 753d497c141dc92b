// The event log's commands: init, append, import, read, read-all, tail, stats.
#include <unistd.h>

#include <fmt/core.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <unordered_map>

#include "core/json.h"
#include "core/time.h"
#include "core/validation.h"
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
  if (json) {
    fmt::print("{{\"store\":{},\"verifier_key\":{}}}\n", JsonQuote(g.data_dir), JsonQuote(vkey));
  } else {
    fmt::print("created an empty Custodian store at {}\ncheckpoint verifier key (publish it to auditors): {}\n",
               g.data_dir, vkey);
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

std::string ReadAllInput(std::istream& in) {
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

int RunAppend(const Globals& g, const std::string& json_arg, const std::string& expected_text, bool json) {
  Result<ExpectedVersion> expected = ParseExpected(expected_text);
  if (!expected.ok()) {
    fmt::print(stderr, "custodian: {}\n", expected.status().message());
    return kExitUsage;
  }
  std::string text = json_arg.empty() || json_arg == "-" ? ReadAllInput(std::cin) : json_arg;
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

namespace {

struct ImportLine {
  uint64_t number;
  Event event;
};

struct ImportCounts {
  uint64_t lines = 0;
  uint64_t written = 0;
  uint64_t already_present = 0;
  std::vector<std::pair<uint64_t, std::string>> skipped;  // line, reason
};

class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled), start_(std::chrono::steady_clock::now()), last_(start_) {}
  void Update(const ImportCounts& c) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    fmt::print(stderr, "\rimporting: line {}, {} events written ({:.0f}/s)   ", Thousands(c.lines),
               Thousands(c.written), static_cast<double>(c.written) / std::max(secs, 1e-9));
  }
  void Clear() {
    if (enabled_) fmt::print(stderr, "\r{:<70}\r", "");
  }
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  bool enabled_;
  std::chrono::steady_clock::time_point start_, last_;
};

// Groups consecutive lines of the same stream, keeping file order.
std::vector<AppendRequest> ToRequests(const std::vector<ImportLine>& batch) {
  std::vector<AppendRequest> requests;
  for (const ImportLine& l : batch) {
    if (requests.empty() || requests.back().stream != l.event.stream) {
      requests.emplace_back();
      requests.back().stream = l.event.stream;
    }
    requests.back().events.push_back(l.event);
  }
  return requests;
}

void Count(const std::vector<AppendResult>& results, ImportCounts* c) {
  for (const AppendResult& r : results) {
    c->written += r.written;
    c->already_present += r.positions.size() - r.written;
  }
}

// Writes one batch. In skip mode a batch that conflicts is retried line by
// line so that only the conflicting lines are skipped.
Status WriteBatch(EventLog& log, const std::vector<ImportLine>& batch, bool skip_invalid, ImportCounts* c) {
  if (batch.empty()) return Status::Ok();
  Result<std::vector<AppendResult>> r = log.AppendBatch(ToRequests(batch));
  if (r.ok()) {
    Count(*r, c);
    return Status::Ok();
  }
  const bool per_event = r.status().code() == StatusCode::kConflict ||
                         r.status().code() == StatusCode::kRuleViolation;
  if (!skip_invalid || !per_event) {
    // Name the line when the message names one of its events.
    for (const ImportLine& l : batch) {
      if (r.status().message().find(l.event.id.ToString()) != std::string::npos) {
        return r.status().WithContext("line " + std::to_string(l.number));
      }
    }
    return r.status().WithContext("lines " + std::to_string(batch.front().number) + "-" +
                                  std::to_string(batch.back().number));
  }
  for (const ImportLine& l : batch) {
    Result<std::vector<AppendResult>> one = log.AppendBatch(ToRequests({l}));
    if (one.ok()) {
      Count(*one, c);
    } else if (one.status().code() == StatusCode::kConflict || one.status().code() == StatusCode::kRuleViolation) {
      c->skipped.emplace_back(l.number, one.status().message());
    } else {
      return one.status().WithContext("line " + std::to_string(l.number));
    }
  }
  return Status::Ok();
}

}  // namespace

int RunImport(const Globals& g, const std::string& file, bool skip_invalid, size_t batch_size, bool json) {
  std::ifstream file_in;
  std::istream* in = &std::cin;
  if (file != "-") {
    file_in.open(file, std::ios::binary);
    if (!file_in) {
      fmt::print(stderr, "custodian: cannot open {}: {}\n", file, std::strerror(errno));
      return kExitUsage;
    }
    in = &file_in;
  }
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());

  ImportCounts counts;
  Progress progress(::isatty(STDERR_FILENO) && !json);
  std::vector<ImportLine> batch;
  std::unordered_map<EventId, uint64_t, EventIdHash> batch_ids;
  size_t batch_bytes = 0;
  constexpr size_t kMaxBatchBytes = 4 << 20;
  auto flush = [&]() -> Status {
    Status s = WriteBatch(**log, batch, skip_invalid, &counts);
    batch.clear();
    batch_ids.clear();
    batch_bytes = 0;
    progress.Update(counts);
    return s;
  };
  auto stop = [&](const Status& s) {
    progress.Clear();
    fmt::print(stderr, "custodian: {}\n", s.message());
    fmt::print(stderr, "import stopped: {} events written before it, {} lines read; nothing of the failing "
                       "batch was written\n", Thousands(counts.written), Thousands(counts.lines));
    return ExitCodeFor(s);
  };

  std::string line;
  while (std::getline(*in, line)) {
    const uint64_t number = ++counts.lines;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Result<Event> e = ParseEventJson(line);
    Status s = e.ok() ? ValidateEvent(*e, SystemClock().Now()) : e.status();
    if (s.ok()) {
      auto [it, inserted] = batch_ids.emplace(e->id, number);
      if (!inserted) {
        s = Status::InvalidArgument("event id " + e->id.ToString() + " was already used on line " +
                                    std::to_string(it->second) + "; an id names one event");
      }
    }
    if (!s.ok()) {
      if (!skip_invalid) {
        return stop(s.WithContext("line " + std::to_string(number)));
      }
      counts.skipped.emplace_back(number, s.message());
      continue;
    }
    batch_bytes += line.size();
    batch.push_back({number, std::move(*e)});
    if (batch.size() >= batch_size || batch_bytes >= kMaxBatchBytes) {
      if (Status fs = flush(); !fs.ok()) return stop(fs);
    }
  }
  if (in->bad()) return stop(Status::IoError("reading " + file + " failed"));
  if (Status fs = flush(); !fs.ok()) return stop(fs);
  progress.Clear();

  const double secs = progress.Seconds();
  if (json) {
    std::string skipped = "[";
    for (size_t i = 0; i < counts.skipped.size(); ++i) {
      if (i) skipped += ",";
      skipped += fmt::format("{{\"line\":{},\"error\":{}}}", counts.skipped[i].first,
                             JsonQuote(counts.skipped[i].second));
    }
    skipped += "]";
    fmt::print("{{\"lines\":{},\"written\":{},\"already_present\":{},\"skipped\":{},\"seconds\":{:.3f}}}\n",
               counts.lines, counts.written, counts.already_present, skipped, secs);
  } else {
    for (const auto& [number, why] : counts.skipped) fmt::print(stderr, "skipped line {}: {}\n", number, why);
    fmt::print("imported {} events from {} lines in {:.1f}s ({:.0f} events/s); {} already present, {} skipped\n",
               Thousands(counts.written), Thousands(counts.lines), secs,
               static_cast<double>(counts.written) / std::max(secs, 1e-9), Thousands(counts.already_present),
               Thousands(counts.skipped.size()));
  }
  return kExitOk;
}

// --- queries ---

int RunRead(const Globals& g, const std::string& stream, uint64_t from, bool backwards, uint64_t limit, bool json) {
  if (Status s = ValidateStreamName(stream); !s.ok()) return Fail(s);
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadOnly);
  if (!log.ok()) return Fail(log.status());
  if (backwards && from == 0) from = UINT64_MAX;  // from the end
  Result<std::vector<Event>> events = (*log)->ReadStream(
      stream, StreamVersion(from), backwards ? Direction::kBackward : Direction::kForward, limit);
  if (!events.ok()) return Fail(events.status());
  if (events->empty()) {
    if (!json) fmt::print(stderr, "stream {} has no events{}\n", stream, from > 0 && !backwards ? " from there" : "");
    return kExitOk;
  }
  if (!json) PrintHeader();
  for (const Event& e : *events) PrintEvent(e, json);
  return kExitOk;
}

int RunReadAll(const Globals& g, uint64_t from, uint64_t limit, bool json) {
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadOnly);
  if (!log.ok()) return Fail(log.status());
  if (!json) PrintHeader();
  uint64_t printed = 0;
  Status s = (*log)->ScanAll(Position(from), [&](const Event& e) {
    PrintEvent(e, json);
    return ++printed < limit;
  });
  if (!s.ok()) return Fail(s);
  return kExitOk;
}

int RunTail(const Globals& g, std::optional<uint64_t> from, const std::string& stream, uint64_t count, bool json) {
  if (!stream.empty()) {
    if (Status s = ValidateStreamName(stream); !s.ok()) return Fail(s);
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
    if (Status s = ValidateStreamName(stream); !s.ok()) return Fail(s);
    Result<StreamInfo> info = (*log)->GetStreamInfo(stream);
    if (!info.ok()) {
      if (info.status().code() == StatusCode::kNotFound) {
        fmt::print(stderr, "custodian: {}\n", info.status().message());
        return kExitRejected;
      }
      return Fail(info.status());
    }
    if (json) {
      fmt::print("{{\"stream\":{},\"events\":{},\"version\":{},\"first_position\":{},\"last_position\":{},"
                 "\"first_recorded_at\":\"{}\",\"last_recorded_at\":\"{}\",\"first_occurred_at\":\"{}\","
                 "\"last_occurred_at\":\"{}\"}}\n",
                 JsonQuote(info->stream), info->event_count, info->last_version.value(),
                 info->first_position.value(), info->last_position.value(), FormatRfc3339(info->first_recorded_at),
                 FormatRfc3339(info->last_recorded_at), FormatRfc3339(info->first_occurred_at),
                 FormatRfc3339(info->last_occurred_at));
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
  Result<LogStats> stats = (*log)->Stats();
  if (!stats.ok()) return Fail(stats.status());
  const bool any = stats->event_count > 0;
  if (json) {
    fmt::print("{{\"store\":{},\"events\":{},\"streams\":{},\"first_recorded_at\":{},\"last_recorded_at\":{},"
               "\"disk_bytes\":{}}}\n",
               JsonQuote(g.data_dir), stats->event_count, stats->stream_count,
               any ? "\"" + FormatRfc3339(stats->first_recorded_at) + "\"" : "null",
               any ? "\"" + FormatRfc3339(stats->last_recorded_at) + "\"" : "null", stats->disk_bytes);
  } else {
    fmt::print("store             {}\nevents            {}\nstreams           {}\n", g.data_dir,
               Thousands(stats->event_count), Thousands(stats->stream_count));
    if (any) {
      fmt::print("recorded          {} .. {}\n", FormatRfc3339(stats->first_recorded_at),
                 FormatRfc3339(stats->last_recorded_at));
    }
    fmt::print("on disk           {:.1f} MiB\n", static_cast<double>(stats->disk_bytes) / (1 << 20));
  }
  return kExitOk;
}

}  // namespace custodian::cli
