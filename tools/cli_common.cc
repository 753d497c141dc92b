#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>

#include "core/json.h"
#include "core/roles.h"
#include "core/rules.h"
#include "core/time.h"
#include "core/validation.h"
#include "replay/access.h"
#include "tools/cli.h"

namespace custodian::cli {

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
  fmt::print(stderr, "custodian: {}\n", s.message());
  return ExitCodeFor(s);
}

int UsageError(const Status& s) {
  fmt::print(stderr, "custodian: {}\n", s.message());
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

Result<std::unique_ptr<EventLog>> OpenStore(const Globals& g, EventLogOptions::Mode mode, CreateIfMissing create,
                                            const std::string& origin) {
  EventLogOptions options;
  options.mode = mode;
  options.create = create;
  if (!origin.empty()) options.origin = origin;
  options.rules = CheckRules;  // the log's rules hold for every write made here
  options.checkpoint_interval =
      std::chrono::milliseconds(static_cast<int64_t>(g.checkpoint_every_seconds * 1000));
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(g.data_dir, options);
  if (!log.ok() || mode != EventLogOptions::Mode::kReadWrite) return log;
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
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool continuation = (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80;
    if (out.size() >= max && !continuation) {
      out += "...";
      break;
    }
    out.push_back(s[i] == '\n' || s[i] == '\t' ? ' ' : s[i]);
  }
  return out;
}

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

void PrintEvent(const Event& e, bool json) {
  if (json) {
    std::string line = EventToJson(e, JsonFields::kWithLogFields);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
    return;
  }
  fmt::print(kRowFormat, e.position.value(), e.version.value(), Minute(e.occurred_at), Minute(e.recorded_at),
             e.stream, e.type, e.actor, OneLineText(e.data, 60));
}

Result<std::string> StaffId(const std::string& id) {
  std::string staff = id.starts_with("staff-") ? id : "staff-" + id;
  if (staff.size() == 6 || !ValidateStreamName(staff).ok()) {
    return Status::InvalidArgument("\"" + id + "\" is not a staff id; expected e.g. 7 or staff-7");
  }
  return staff;
}

Result<std::string> CustomerStream(const std::string& id) {
  std::string stream = id.starts_with("customer-") ? id : "customer-" + id;
  if (Status s = ValidateStreamName(stream); !s.ok()) {
    return Status::InvalidArgument("\"" + id + "\" is not a customer id; expected e.g. 42 or customer-42");
  }
  return stream;
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
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (log.ok() || log.status().code() != StatusCode::kFailedPrecondition) return log;
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
