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

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return kExitOk;
    case StatusCode::kInvalidArgument:
    case StatusCode::kRuleViolation: return kExitRejected;
    case StatusCode::kConflict: return kExitConflict;
    case StatusCode::kNotFound: return kExitNotFound;
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

std::string Counted(uint64_t n, std::string_view one, std::string_view many) {
  return Thousands(n) + " " + std::string(n == 1 ? one : many);
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

Status CheckOutPath(const Globals& g, const std::string& out, bool folder) {
  namespace fs = std::filesystem;
  const auto refuse = [&](const std::string& why) { return Status::InvalidArgument("--out " + out + ": " + why); };
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(out, ec);
  if (fs::is_symlink(st)) return refuse("is a symbolic link; give the path itself, not a link to it");
  if (fs::exists(st)) {
    if (fs::is_directory(st) && !folder) return refuse("is a folder; give the name of a file to write");
    if (!fs::is_directory(st) && !fs::is_regular_file(st)) {
      return refuse("is not a regular file (a device, a pipe or a socket); give the name of a file to write");
    }
  }
  const fs::path where = fs::weakly_canonical(fs::absolute(out, ec), ec);
  if (ec) return refuse("cannot be resolved: " + ec.message());
  const fs::path store = fs::weakly_canonical(fs::absolute(g.data_dir, ec), ec);
  if (!ec && std::mismatch(store.begin(), store.end(), where.begin(), where.end()).first == store.end()) {
    return refuse("is inside the store " + g.data_dir + "; write it elsewhere");
  }
  if (IsKeyDirectoryFile(MasterKeyFile(g), where.string())) {
    return refuse("is one of the store's key files; write it elsewhere");
  }
  // Nor any other store's: a key file, or a path inside a store's directory.
  if (fs::is_regular_file(st) && IsCustodianKeyFile(out)) {
    return refuse("is a Custodian key file; writing over it would lose a store's people for good");
  }
  for (fs::path dir = where.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    if (IsCustodianStore(dir.string())) return refuse("is inside the Custodian store " + dir.string());
    if (dir == dir.root_path()) break;
  }
  return Status::Ok();
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

void PrintScopeNote(const ServiceScope& scope, size_t left_out, std::string_view what, std::string_view sees) {
  if (scope.company_wide() || left_out == 0) return;
  fmt::print("\n({} {} left out: {} ({}{}) sees {}; {} see everything)\n", Thousands(left_out), what, scope.staff(),
             scope.role().empty() ? "role unknown" : scope.role(), scope.team().empty() ? "" : ", team " + scope.team(),
             sees, CompanyWideRolesText());
}

// --- printing events ---

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

Result<std::optional<AsOfTime>> AsOfOptions(const std::string& as_of, const std::string& as_of_business) {
  if (!as_of.empty() && !as_of_business.empty()) {
    return Status::InvalidArgument("give --as-of (what was recorded by then) or --as-of-business (what had happened "
                                   "by then), not both");
  }
  const bool business = !as_of_business.empty();
  Result<std::optional<Timestamp>> t =
      OptionalTime(business ? as_of_business : as_of, business ? "--as-of-business" : "--as-of");
  if (!t.ok()) return t.status();
  if (!*t) return std::optional<AsOfTime>();
  return std::optional<AsOfTime>(AsOfTime{**t, business ? AsOf::kBusiness : AsOf::kKnowledge});
}

std::string AsOfNote(const std::optional<AsOfTime>& as_of) {
  if (!as_of) return "";
  return fmt::format("as of {} ({})\n", FormatRfc3339(as_of->at),
                     as_of->business() ? "--as-of-business: what had happened by then, as recorded now"
                                       : "--as-of: what was recorded by then");
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

}  // namespace custodian::cli
