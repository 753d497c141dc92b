#include <sys/stat.h>

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "core/json.h"
#include "core/roles.h"
#include "core/rules.h"
#include "core/time.h"
#include "core/validation.h"
#include "replay/access.h"
#include "storage/keys.h"
#include "storage/permissions.h"
#include "tools/cli.h"

namespace custodian::cli {

std::string DefaultOrigin() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == 0) return "custodian.local/log";
  std::string name(host);
  for (char& c : name) {
    if (c <= ' ' || c == '+') c = '-';
  }
  return name + "/custodian";
}

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return kExitOk;
    case StatusCode::kInvalidArgument:
    case StatusCode::kRuleViolation: return kExitRejected;
    case StatusCode::kConflict: return kExitConflict;
    default: return kExitStorage;
  }
}

int Fail(const Status& s) {
  // A message can quote what was given (a field's value): shown, not obeyed.
  fmt::print(stderr, "custodian: {}\n", TerminalText(s.message()));
  return ExitCodeFor(s);
}

int UsageError(const Status& s) {
  fmt::print(stderr, "custodian: {}\n", TerminalText(s.message()));
  return kExitUsage;
}

std::string Thousands(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

namespace {
std::atomic<bool> g_interrupted{false};
void OnSignal(int) { g_interrupted.store(true); }
}  // namespace

bool Interrupted() { return g_interrupted.load(); }

void InstallSignalHandlers() {
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
}

namespace {

// Says once per process, on standard error, when other accounts can reach
// the store. Only the directory is looked at for that: while it is
// owner-only, nothing in it can be reached by another account, whatever its
// own mode (`permissions` lists every path).
void WarnIfLoose(const std::string& dir) {
  static bool warned = false;
  if (warned) return;
  warned = true;
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || (st.st_mode & 077) == 0) return;
  Result<std::vector<LoosePath>> loose = FindLooseStorePaths(dir);
  if (!loose.ok() || loose->empty()) return;
  fmt::print(stderr,
             "custodian: warning: other accounts on this machine can read this store: {} is mode {:04o}{}; run "
             "`custodian --data {} permissions --fix` to make it owner-only\n",
             loose->front().path, loose->front().mode,
             loose->size() > 1 ? fmt::format(" (and {} more)", loose->size() - 1) : std::string(), dir);
}

}  // namespace

Result<double> ParseCheckpointEvery(std::string_view text, std::string_view source) {
  double seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(seconds) ||
      seconds < kMinCheckpointEverySeconds || seconds > kMaxCheckpointEverySeconds) {
    return Status::InvalidArgument(fmt::format(
        "{}: \"{}\" is not a number of seconds from {} to {} (a year); for example 60", source,
        OneLineText(text, 40), kMinCheckpointEverySeconds, kMaxCheckpointEverySeconds));
  }
  return seconds;
}

Status CheckCheckpointSigning(const Globals& g) {
  if (g.checkpoint_every_seconds <= 0) return Status::Ok();
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(g.data_dir) / keys::kMarkerFile, ec)) return Status::Ok();
  Status s = EventLog::CheckSigningKey(g.data_dir);
  if (s.ok()) return s;
  return Status::InvalidArgument("--checkpoint-every signs checkpoints, but " + s.message());
}

Result<double> ParseWaitSeconds(std::string_view text) {
  double seconds = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(seconds) || seconds < 0 ||
      seconds > kMaxWaitSeconds) {
    return Status::InvalidArgument(fmt::format("--wait: \"{}\" is not a number of seconds from 0 to {} (a day)",
                                               OneLineText(text, 40), kMaxWaitSeconds));
  }
  return seconds;
}

namespace {

// EventLog::Open, retried while another process holds the store read-write,
// until it lets go or `wait_seconds` have passed. The retries only look at
// RocksDB's lock until it is free: a refused RocksDB open is not free (it
// starts a new info log each time).
Result<std::unique_ptr<EventLog>> OpenWaitingForWriter(const std::string& dir, const EventLogOptions& options,
                                                       double wait_seconds) {
  using Clock = std::chrono::steady_clock;
  constexpr auto kPoll = std::chrono::milliseconds(100);
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait_seconds));
  while (true) {
    const bool late = Clock::now() >= deadline;
    if (late || !EventLog::HeldByAnotherProcess(dir)) {
      Result<std::unique_ptr<EventLog>> log = EventLog::Open(dir, options);
      if (log.ok() || log.status().code() != StatusCode::kUnavailable) return log;
      if (late) break;
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(kPoll, deadline - Clock::now()));
  }
  return Status::Unavailable(fmt::format(
      "another process holds the store at {} read-write; waited {:g} s for it to finish (--wait SECONDS sets how "
      "long, 0 not at all). Stop that process or try again later; read-only commands work meanwhile",
      dir, wait_seconds));
}

}  // namespace

std::string MasterKeyFile(const Globals& g) {
  if (!g.master_key.empty()) return g.master_key;
  std::string dir = g.data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + ".keys/master.key";
}

Result<std::unique_ptr<EventLog>> OpenStore(const Globals& g, EventLogOptions::Mode mode, CreateIfMissing create,
                                            const std::string& origin, Signs signs, WaitForWriter wait) {
  EventLogOptions options;
  options.mode = mode;
  options.create = create;
  if (!origin.empty()) options.origin = origin;
  options.rules = CheckRules;  // the log's rules hold for every write made here
  options.master_key_file = MasterKeyFile(g);
  options.checkpoint_interval =
      std::chrono::milliseconds(static_cast<int64_t>(g.checkpoint_every_seconds * 1000));
  Result<std::unique_ptr<EventLog>> log =
      mode == EventLogOptions::Mode::kReadWrite && wait == WaitForWriter::kYes
          ? OpenWaitingForWriter(g.data_dir, options, g.wait_seconds)
          : EventLog::Open(g.data_dir, options);
  if (log.ok()) WarnIfLoose(g.data_dir);
  if (!log.ok() || mode != EventLogOptions::Mode::kReadWrite) return log;
  if (signs == Signs::kYes) CUSTODIAN_RETURN_IF_ERROR((*log)->CanSign());
  // Reads recorded while another process held the store come in first.
  Result<SpoolDrain> drained = DrainAccessSpool(**log, g.data_dir);
  if (!drained.ok()) return drained.status();
  for (const std::string& p : drained->problems) {
    fmt::print(stderr, "custodian: warning: refused from the access spool: {}\n", p);
  }
  return log;
}

Result<ServiceScope> ReaderScope(const EventLog& log, const std::string& reader) {
  return ServiceScope::Of(StateReader::Stored(log, kAlertsProjection), reader);
}

void PrintScopeNote(const ServiceScope& scope, size_t left_out, std::string_view what, std::string_view sees) {
  if (scope.company_wide() || left_out == 0) return;
  fmt::print("\n({} {} left out: {} ({}{}) sees {}; {} see everything)\n", Thousands(left_out), what, scope.staff(),
             scope.role().empty() ? "role unknown" : scope.role(), scope.team().empty() ? "" : ", team " + scope.team(),
             sees, CompanyWideRolesText());
}

// --- printing events ---

std::string OneLineText(std::string_view s, size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const bool continuation = (c & 0xC0) == 0x80;
    if (out.size() >= max && !continuation) {
      out += "...";
      break;
    }
    // What a terminal would act on is shown, not obeyed: C0 controls and
    // DEL, C1 controls (U+0080..U+009F, e.g. CSI) and the bidirectional
    // overrides and isolates (U+202A..U+202E, U+2066..U+2069).
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
      out += "\\u00";
      out.push_back(kHex[static_cast<unsigned char>(s[i + 1]) >> 4]);
      out.push_back(kHex[static_cast<unsigned char>(s[i + 1]) & 0xf]);
      ++i;
    } else if (c == 0xe2 && i + 2 < s.size() &&
               ((s[i + 1] == '\x80' && static_cast<unsigned char>(s[i + 2]) >= 0xaa &&
                 static_cast<unsigned char>(s[i + 2]) <= 0xae) ||
                (s[i + 1] == '\x81' && static_cast<unsigned char>(s[i + 2]) >= 0xa6 &&
                 static_cast<unsigned char>(s[i + 2]) <= 0xa9))) {
      // U+2000 + ((byte1 & 0x3f) << 6 | (byte2 & 0x3f))
      const unsigned cp = 0x2000 + (((static_cast<unsigned char>(s[i + 1]) & 0x3f) << 6) |
                                    (static_cast<unsigned char>(s[i + 2]) & 0x3f));
      out += fmt::format("\\u{:04x}", cp);
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string TerminalText(std::string_view s) { return OneLineText(s, SIZE_MAX); }

std::string Day(std::optional<Timestamp> t) { return t ? FormatRfc3339(*t).substr(0, 10) : "-"; }

std::string Minute(std::optional<Timestamp> t) {
  if (!t) return "-";
  std::string s = FormatRfc3339(*t).substr(0, 16);
  s[10] = ' ';
  return s;
}

namespace {

constexpr char kRowFormat[] = "{:>9} {:>5}  {:<16}  {:<16}  {:<16} {:<24} {:<15} {}\n";

}  // namespace

void PrintHeader() {
  fmt::print(kRowFormat, "POSITION", "VER", "OCCURRED (UTC)", "RECORDED (UTC)", "STREAM", "TYPE", "ACTOR", "DATA");
}

Result<Event> OpenedForDisplay(const EventLog& log, const Event& e) {
  Event shown = e;
  if (e.personal.empty()) return shown;
  if (Status s = log.PersonalStatus(); !s.ok()) {
    static bool said = false;
    if (!said) {
      said = true;
      fmt::print(stderr, "custodian: personal fields are shown sealed, because {}; everything else is complete\n",
                 TerminalText(s.message()));
    }
    return shown;
  }
  CUSTODIAN_RETURN_IF_ERROR(log.ShowPersonal(shown));
  return shown;
}

void PrintEvent(const Event& original, bool json, const EventLog* opener) {
  Event opened;
  if (opener != nullptr && !original.personal.empty()) {
    Result<Event> o = OpenedForDisplay(*opener, original);
    // A part that does not open (altered, moved) is shown sealed, and said.
    if (!o.ok()) fmt::print(stderr, "custodian: event {}: {}\n", original.position.value(), TerminalText(o.status().message()));
    opened = o.ok() ? std::move(*o) : original;
  }
  const Event& e = opener != nullptr && !original.personal.empty() ? opened : original;
  if (json) {
    std::string line = EventToJson(e, JsonFields::kWithLogFields);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
    return;
  }
  fmt::print(kRowFormat, e.position.value(), e.version.value(), Minute(e.occurred_at), Minute(e.recorded_at),
             e.stream, e.type, e.actor,
             OneLineText(e.personal_plain.empty() ? e.data : e.data + " personal " + e.personal_plain, 60));
}

namespace {

// "7", "staff-7" or "STAFF-7" -> "staff-7" for prefix "staff-": the category
// is matched in any case (people type it so), the id kept as given.
Result<std::string> PrefixedId(const std::string& id, std::string_view prefix, std::string_view what,
                               std::string_view examples) {
  std::string lowered = id.substr(0, std::min(id.size(), prefix.size()));
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string rest = lowered == prefix ? id.substr(prefix.size()) : id;
  const std::string full = std::string(prefix) + rest;
  if (rest.empty() || !ValidateStreamName(full).ok()) {
    return Status::InvalidArgument("\"" + TerminalText(id) + "\" is not " + std::string(what) + "; expected e.g. " +
                                   std::string(examples));
  }
  return full;
}

}  // namespace

Result<std::string> StaffId(const std::string& id) { return PrefixedId(id, "staff-", "a staff id", "7 or staff-7"); }

Result<std::string> CustomerStream(const std::string& id) {
  return PrefixedId(id, "customer-", "a customer id", "42 or customer-42");
}

Result<std::optional<Timestamp>> OptionalTime(const std::string& text, const char* option) {
  if (text.empty()) return std::optional<Timestamp>();
  Result<Timestamp> t = ParseRfc3339(text);
  if (!t.ok()) return t.status().WithContext(option);
  return std::optional<Timestamp>(*t);
}

Result<std::string> Reader(const Globals& g, std::string_view command) {
  if (g.as.empty()) {
    return Status::InvalidArgument(std::string(command) +
                                   " shows customer data, and every read of customer data is recorded: say who "
                                   "reads with --as STAFF (e.g. --as staff-7) or $CUSTODIAN_AS");
  }
  Result<std::string> id = StaffId(g.as);
  if (!id.ok()) return id.status().WithContext("--as");
  return id;
}

Result<std::unique_ptr<EventLog>> OpenForReading(const Globals& g) {
  Result<std::unique_ptr<EventLog>> log =
      OpenStore(g, EventLogOptions::Mode::kReadWrite, CreateIfMissing::kNo, "", Signs::kNo, WaitForWriter::kNo);
  if (log.ok() || log.status().code() != StatusCode::kUnavailable) return log;
  return OpenStore(g, EventLogOptions::Mode::kReadOnly);
}

Status RecordAccess(const Globals& g, EventLog& log, const Access& a) {
  Result<std::vector<Event>> events = AccessEvents(a, SystemClock().Now());
  if (!events.ok()) return events.status();
  if (log.read_only()) {
    // The same rules the writer will apply when the spool is appended: a
    // reader who has left sees nothing now rather than a refusal later.
    CUSTODIAN_RETURN_IF_ERROR(log.CheckRules(*events));
    return SpoolAccess(g.data_dir, *events);
  }
  std::vector<AppendRequest> request{AppendRequest{events->front().stream, ExpectedVersion::Any(), std::move(*events)}};
  Result<std::vector<AppendResult>> r = log.AppendBatch(std::move(request));
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace custodian::cli
