#include "service/store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <istream>
#include <mutex>
#include <thread>

#include "core/json.h"
#include "core/rules.h"
#include "core/time.h"
#include "replay/access.h"
#include "replay/accountability.h"
#include "replay/alert_settings.h"
#include "replay/customer.h"
#include "replay/portfolio.h"
#include "replay/silent.h"
#include "service/webhook.h"
#include "storage/keys.h"
#include "storage/permissions.h"
#include "storage/store_files.h"

namespace custodian {

namespace {

std::mutex g_warn_mu;
std::function<void(std::string_view)> g_warn_sink;

}  // namespace

void SetWarningSink(std::function<void(std::string_view)> sink) {
  std::lock_guard lk(g_warn_mu);
  g_warn_sink = std::move(sink);
}

void Warn(std::string_view message) {
  std::lock_guard lk(g_warn_mu);
  if (g_warn_sink) {
    g_warn_sink(message);
  } else {
    fmt::print(stderr, "custodian: warning: {}\n", message);
  }
}

Status WriteOwnerOnlyFile(const std::string& path, const std::string& contents) {
  return store_files::WriteFileDurably(path, contents, 0600);
}

Result<std::string> ReadAtMost(std::istream& in, size_t max_bytes, const std::string& what) {
  std::string out;
  char buffer[64 * 1024];
  while (in) {
    in.read(buffer, sizeof buffer);
    out.append(buffer, static_cast<size_t>(in.gcount()));
    if (out.size() > max_bytes) {
      return Status::InvalidArgument(fmt::format("{} holds more than {}, more than any it could be", what,
                                                 max_bytes >= (1 << 20) ? fmt::format("{} MiB", max_bytes >> 20)
                                                                        : fmt::format("{} KiB", max_bytes >> 10)));
    }
  }
  if (in.bad()) return Status::IoError("cannot read " + what);
  return out;
}

std::string DefaultOrigin() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == 0) return "custodian.local/log";
  std::string name(host);
  for (char& c : name) {
    if (c <= ' ' || c == '+') c = '-';
  }
  return name + "/custodian";
}

std::string MasterKeyFile(const StoreOptions& options) {
  if (!options.master_key.empty()) return options.master_key;
  std::string dir = options.data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + ".keys/master.key";
}

namespace {

// Says once per process when other accounts can reach the store. Only the
// directory is looked at for that: while it is owner-only, nothing in it can
// be reached by another account, whatever its own mode (`permissions` lists
// every path).
void WarnIfLoose(const std::string& dir) {
  static std::once_flag once;
  std::call_once(once, [&] {
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0 || (st.st_mode & 077) == 0) return;
    Result<std::vector<LoosePath>> loose = FindLooseStorePaths(dir);
    if (!loose.ok() || loose->empty()) return;
    Warn(fmt::format("other accounts on this machine can read this store: {} is mode {:04o}{}; run "
                     "`custodian --data {} permissions --fix` to make it owner-only",
                     loose->front().path, loose->front().mode,
                     loose->size() > 1 ? fmt::format(" (and {} more)", loose->size() - 1) : std::string(), dir));
  });
}

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

Status CheckCheckpointSigning(const StoreOptions& options) {
  if (options.checkpoint_every_seconds <= 0) return Status::Ok();
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(options.data_dir) / keys::kMarkerFile, ec)) return Status::Ok();
  Status s = EventLog::CheckSigningKey(options.data_dir);
  if (s.ok()) return s;
  return Status::InvalidArgument("--checkpoint-every signs checkpoints, but " + s.message());
}

Result<std::unique_ptr<EventLog>> OpenStore(const StoreOptions& o, EventLogOptions::Mode mode, CreateIfMissing create,
                                            const std::string& origin, Signs signs, WaitForWriter wait) {
  EventLogOptions options;
  options.mode = mode;
  options.create = create;
  if (!origin.empty()) options.origin = origin;
  options.rules = CheckRules;  // the log's rules hold for every write made here
  options.master_key_file = MasterKeyFile(o);
  options.checkpoint_interval = std::chrono::milliseconds(static_cast<int64_t>(o.checkpoint_every_seconds * 1000));
  options.replica = o.replica;
  if (o.max_batch_bytes > 0) options.max_batch_bytes = o.max_batch_bytes;
  Result<std::unique_ptr<EventLog>> log = mode == EventLogOptions::Mode::kReadWrite && wait == WaitForWriter::kYes
                                              ? OpenWaitingForWriter(o.data_dir, options, o.wait_seconds)
                                              : EventLog::Open(o.data_dir, options);
  if (log.ok()) WarnIfLoose(o.data_dir);
  if (!log.ok() || mode != EventLogOptions::Mode::kReadWrite) return log;
  if (signs == Signs::kYes) CUSTODIAN_RETURN_IF_ERROR((*log)->CanSign());
  // A replica appends nothing until it is the writer or reaches one: the
  // server drains its spool once a writer answers (server/api.cc).
  if (o.replica) return log;
  // Reads recorded while another process held the store come in first.
  Result<SpoolDrain> drained = DrainAccessSpool(**log, o.data_dir);
  if (!drained.ok()) return drained.status();
  for (const std::string& p : drained->problems) Warn("refused from the access spool: " + p);
  return log;
}

Result<std::unique_ptr<EventLog>> OpenForReading(const StoreOptions& options) {
  Result<std::unique_ptr<EventLog>> log =
      OpenStore(options, EventLogOptions::Mode::kReadWrite, CreateIfMissing::kNo, "", Signs::kNo, WaitForWriter::kNo);
  if (log.ok() || log.status().code() != StatusCode::kUnavailable) return log;
  return OpenStore(options, EventLogOptions::Mode::kReadOnly);
}

void AddProjections(ProjectionEngine& engine) {
  engine.Add(MakeCustomerProjection(engine.log()));
  engine.Add(MakePortfolioProjection(&engine.log()));
  engine.Add(MakeAccountabilityProjection(&engine.log()));
  engine.Add(MakeSilentProjection(&engine.log()));
  engine.Add(MakeAccessProjection());
  engine.Add(MakeAlertsProjection(&engine.log()));
}

std::unique_lock<std::recursive_mutex> ProjectionLock() {
  static std::recursive_mutex mu;
  return std::unique_lock<std::recursive_mutex>(mu);
}

Status CatchUpProjections(EventLog& log) {
  ProjectionEngine engine(log);
  AddProjections(engine);
  return CatchUpProjections(log, engine);
}

Status CatchUpProjections(EventLog& log, ProjectionEngine& engine) {
  auto folding = ProjectionLock();
  CUSTODIAN_RETURN_IF_ERROR(engine.CatchUp());
  Result<std::vector<Event>> raised = RaiseAndNotify(log, AlertWarnings::kShow);
  return raised.ok() ? Status::Ok() : raised.status();
}

Result<std::unique_ptr<EventLog>> OpenForQuery(const StoreOptions& options, bool* caught_up) {
  Result<std::unique_ptr<EventLog>> log =
      OpenStore(options, EventLogOptions::Mode::kReadWrite, CreateIfMissing::kNo, "", Signs::kNo, WaitForWriter::kNo);
  *caught_up = false;
  if (log.ok()) {
    CUSTODIAN_RETURN_IF_ERROR(CatchUpProjections(**log));
    *caught_up = true;
    return log;
  }
  if (log.status().code() != StatusCode::kUnavailable) return log.status();
  return OpenStore(options, EventLogOptions::Mode::kReadOnly);
}

Result<QueryState> QueryStateOf(EventLog& log, const Projection& projection, const std::optional<AsOfTime>& as_of) {
  QueryState q;
  q.log = &log;
  if (as_of) {
    Result<MemoryState> state = ReplayLog(log, projection, *as_of);
    if (!state.ok()) return state.status();
    q.replayed = std::move(*state);
    return q;
  }
  q.caught_up = !log.read_only();
  if (!q.caught_up) {
    // Another process holds the store and the stored state may lag behind
    // the log: fold the whole log in memory instead, with the same code.
    Result<Position> folded = log.ProjectionCheckpoint(projection.name());
    if (!folded.ok()) return folded.status();
    if (folded->value() < log.end().value()) {
      Result<MemoryState> state = ReplayLogAsOf(log, projection, Timestamp(INT64_MAX));
      if (!state.ok()) return state.status();
      q.replayed = std::move(*state);
    }
  }
  return q;
}

namespace {

// A reader the log does not know (the rules hold no staff record of them):
// their read cannot be recorded, so nothing is shown; said as a reader not
// found, not as the rule's refusal of the record.
Status ExplainReader(const EventLog& log, const Caller& caller, Status s) {
  if (s.code() != StatusCode::kRuleViolation) return s;
  Result<std::optional<std::string>> known = log.RuleRecord("staff/" + caller.principal);
  if (!known.ok() || known->has_value()) return s;
  return Status::NotFound(caller.principal + " is not a member of staff the log knows (no staff.joined on " +
                          caller.principal + "), so their read cannot be recorded and nothing is shown");
}

Status RecordReadOf(EventLog& log, const Caller& caller, Access a) {
  if (a.exported && !caller.may_export) {
    return Status::FailedPrecondition("an export is not answered to a HEAD, which sends nothing (use GET)");
  }
  a.staff = caller.principal;
  a.interface = caller.interface;
  Result<std::vector<Event>> events = AccessEvents(a, SystemClock().Now());
  if (!events.ok()) return events.status();
  const std::string spool = caller.data_dir.empty() ? log.dir() : caller.data_dir;
  if (log.read_only()) {
    // The same rules the writer will apply when the spool is appended: a
    // reader who has left sees nothing now rather than a refusal later.
    CUSTODIAN_RETURN_IF_ERROR(log.CheckRules(*events));
    return SpoolAccess(spool, *events);
  }
  if (log.replica()) {
    // A node of a cluster: the record goes to the writer. While none answers
    // (between writers' terms), it is spooled here and appended once one
    // does (the server drains the spool): the reader is not kept waiting,
    // and no read goes unrecorded.
    std::vector<AppendRequest> request{AppendRequest{events->front().stream, ExpectedVersion::Any(), *events}};
    Result<std::vector<AppendResult>> r = log.AppendBatch(std::move(request), EventLog::ForwardWait::kBrief);
    if (r.ok() || r.status().code() != StatusCode::kUnavailable) return r.ok() ? Status::Ok() : r.status();
    CUSTODIAN_RETURN_IF_ERROR(log.CheckRules(*events));
    return SpoolAccess(spool, *events);
  }
  std::vector<AppendRequest> request{AppendRequest{events->front().stream, ExpectedVersion::Any(), std::move(*events)}};
  Result<std::vector<AppendResult>> r = log.AppendBatch(std::move(request));
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace

Status RecordRead(EventLog& log, const Caller& caller, Access a) {
  Status s = RecordReadOf(log, caller, std::move(a));
  return s.ok() ? s : ExplainReader(log, caller, std::move(s));
}

Result<ServiceScope> ReaderScope(const EventLog& log, const std::string& reader) {
  return ServiceScope::Of(StateReader::Stored(log, kAlertsProjection), reader);
}

Result<std::vector<Event>> RaiseAndNotify(EventLog& log, AlertWarnings warnings) {
  Result<std::vector<Event>> raised = RaiseAlerts(log);
  if (!raised.ok() || raised->empty()) return raised;
  Result<AlertConfig> config = CurrentAlertConfig(StateReader::Stored(log, kAlertsProjection));
  if (!config.ok()) return config.status();
  // The full URL, with its credential from the secrets file; messages name
  // only the redacted one the log holds.
  Result<std::string> url = WebhookUrlInForce(log.dir(), *config);
  for (const Event& e : *raised) {
    if (warnings == AlertWarnings::kShow) {
      Result<Alert> a = AlertFromEvent(e);
      if (a.ok()) fmt::print(stderr, "custodian: ALERT {} ({}): {}\n", a->alert_id, a->severity, a->summary);
    }
    if (config->webhook.empty()) continue;
    Status s = url.ok() ? PostJson(*url, EventToJson(e, JsonFields::kWithLogFields)) : url.status();
    if (!s.ok()) {
      Warn(fmt::format("the alert webhook {} was not reached for position {}: {}", config->webhook,
                       e.position.value(), s.message()));
    }
  }
  return raised;
}

}  // namespace custodian
