// Shared by the `custodian` command's files: exit codes, the store, printing.
// Each command is a function from its parsed options to an exit code;
// custodian.cc holds the CLI11 definitions and calls them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/event.h"
#include "core/status.h"
#include "replay/access.h"
#include "replay/alerts.h"
#include "replay/projection.h"
#include "replay/state_reader.h"
#include "storage/event_log.h"

namespace custodian::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,
  kExitRejected = 2,
  kExitConflict = 3,
  kExitStorage = 4,
  kExitVerifyFailed = 5,  // verify / verify-bundle found a disagreement
};

inline constexpr double kDefaultWaitSeconds = 10;
inline constexpr double kMaxWaitSeconds = 24 * 3600;

struct Globals {
  std::string data_dir;
  double checkpoint_every_seconds = 0;  // sign checkpoints while writing (0: only `checkpoint`)
  std::string as;  // who reads (--as, $CUSTODIAN_AS): every read of customer data is recorded
  // How long a command that writes waits for another process that holds the
  // store read-write to let go (--wait; 0: fail at once).
  double wait_seconds = kDefaultWaitSeconds;
  // The master key file (--master-key, $CUSTODIAN_MASTER_KEY_FILE); empty:
  // <data>.keys/master.key (MasterKeyFile).
  std::string master_key;
};

// Where the master key of the store is: --master-key, else <data>.keys/master.key.
std::string MasterKeyFile(const Globals& g);

int ExitCodeFor(const Status& s);
// Prints "custodian: <message>" to stderr and returns its exit code.
int Fail(const Status& s);
// Prints it the same way and returns kExitUsage.
int UsageError(const Status& s);
std::string Thousands(uint64_t n);

// Whether a command signs a checkpoint itself.
enum class Signs { kNo, kYes };
// Whether a read-write open waits for another process that holds the store
// read-write: commands that write do; those that can do with a read-only
// store instead do not.
enum class WaitForWriter { kYes, kNo };

// Opens the store in g.data_dir. Read-write, while another process holds the
// store it retries until that process lets go or g.wait_seconds have passed
// (then Unavailable: "another process holds the store at D read-write;
// waited 10 s ..."), and it first appends the reads spooled while another
// process held the store; with Signs::kYes it refuses (SignCheckpoint's
// reasons) before writing anything when the store cannot sign.
Result<std::unique_ptr<EventLog>> OpenStore(const Globals& g, EventLogOptions::Mode mode,
                                            CreateIfMissing create = CreateIfMissing::kNo,
                                            const std::string& origin = "", Signs signs = Signs::kNo,
                                            WaitForWriter wait = WaitForWriter::kYes);
// The value of --wait: seconds from 0 to kMaxWaitSeconds; InvalidArgument
// naming the option for anything else.
Result<double> ParseWaitSeconds(std::string_view text);

// The value of --checkpoint-every or $CUSTODIAN_CHECKPOINT_EVERY (named by
// `source`): a finite number of seconds from kMinCheckpointEverySeconds to
// kMaxCheckpointEverySeconds; InvalidArgument for anything else.
inline constexpr double kMinCheckpointEverySeconds = 0.001;
inline constexpr double kMaxCheckpointEverySeconds = 366 * 24 * 3600;
Result<double> ParseCheckpointEvery(std::string_view text, std::string_view source);
// With g.checkpoint_every_seconds set, whether the store can sign
// (EventLog::CheckSigningKey); Ok when there is no store yet (the command
// that creates one makes its key).
Status CheckCheckpointSigning(const Globals& g);

// "7", "staff-7" or "STAFF-7" -> "staff-7"; "42", "customer-42" or
// "Customer-42" -> "customer-42" (the category in any case, the id as given);
// InvalidArgument for anything else.
Result<std::string> StaffId(const std::string& id);
Result<std::string> CustomerStream(const std::string& id);
// An RFC 3339 option's value; nothing when empty; the error names `option`.
Result<std::optional<Timestamp>> OptionalTime(const std::string& text, const char* option);

// Opens the store read-write, or read-only when another process holds it:
// for commands that only read but record who read.
Result<std::unique_ptr<EventLog>> OpenForReading(const Globals& g);

// Who reads, as "staff-<id>", from --as or $CUSTODIAN_AS: InvalidArgument
// naming `command` when nobody was named. Commands that show customer data
// call it before anything else.
Result<std::string> Reader(const Globals& g, std::string_view command);
// Records a read of customer data before it is shown: appended and synced
// when `log` is writable, else written to the spool (replay/access.h) for the
// next writer to append. A command shows nothing when this fails.
Status RecordAccess(const Globals& g, EventLog& log, const Access& a);

// Whom `reader` serves (replay/alerts.h: ServiceScope), from `log`'s stored
// alerts projection. Listings that span the company (silent, orphans,
// alerts) show a reader without a company-wide role only what they serve.
Result<ServiceScope> ReaderScope(const EventLog& log, const std::string& reader);
// Under a listing cut to `scope` (text output only): how many `what` were
// left out, and what the reader `sees`.
void PrintScopeNote(const ServiceScope& scope, size_t left_out, std::string_view what, std::string_view sees);
inline constexpr std::string_view kSeesServed = "the customers they serve: their own, their team's, and those they work on";

// Times for aligned listings, in UTC: "2026-03-01" and "2026-03-01 10:15";
// "-" when absent.
std::string Day(std::optional<Timestamp> t);
std::string Minute(std::optional<Timestamp> t);

// Event listings: aligned text with a header, or JSON Lines. With `opener`,
// personal parts are printed opened (EventLog::PersonalJson: the fields, or
// erased with the erasure's position and reason); without, sealed
// ({"sealed_for": subject}).
void PrintHeader();
void PrintEvent(const Event& e, bool json, const EventLog* opener = nullptr);
// `e` with its personal part opened for display (EventLog::ShowPersonal).
// When personal data cannot be opened (no master key), says why on stderr,
// once per command, and shows the part sealed.
Result<Event> OpenedForDisplay(const EventLog& log, const Event& e);

// Set by SIGINT and SIGTERM once InstallSignalHandlers ran.
bool Interrupted();
void InstallSignalHandlers();

// "<host>/custodian": a name for a new log until the company chooses one.
std::string DefaultOrigin();

// The event log (cli_log.cc).
// Creates a store with `origin` (DefaultOrigin() when not given). On an
// existing store it changes nothing: exit 0, unless `origin` was given and
// is not the store's (exit 2, naming both).
int RunInit(const Globals& g, const std::optional<std::string>& origin, bool json);
int RunAppend(const Globals& g, const std::string& json_arg, const std::string& expected_text, bool json);
int RunImport(const Globals& g, const std::string& file, bool skip_invalid, size_t batch_size, bool json);
int RunRead(const Globals& g, const std::string& stream, uint64_t from, bool backwards, uint64_t limit, bool json);
int RunReadAll(const Globals& g, uint64_t from, uint64_t limit, bool json);
int RunTail(const Globals& g, std::optional<uint64_t> from, const std::string& stream, uint64_t count, bool json);
int RunStats(const Globals& g, const std::string& stream, bool json);
// Lists what in the store other accounts can read; --fix makes it owner-only.
int RunPermissions(const Globals& g, bool fix, bool json);

// At most `max` bytes of `s` on one line, cut at a character boundary, with
// everything a terminal would act on shown instead: line breaks and tabs as
// \n \r \t, other control characters (C0, DEL, C1) and the Unicode
// bidirectional overrides as \xNN or \uNNNN, so event data can never forge
// a line of output or rewrite what is on the screen.
std::string OneLineText(std::string_view s, size_t max);
// OneLineText without a length limit.
std::string TerminalText(std::string_view s);

// Customers and projections (cli_customer.cc).
// Registers every projection the commands query (rebuild and catch-up use it).
void AddProjections(ProjectionEngine& engine);
// Opens the store read-write and brings the projections up to date; when
// another process holds it (it runs the projections itself), opens it
// read-only and sets *caught_up to false.
Result<std::unique_ptr<EventLog>> OpenForQuery(const Globals& g, bool* caught_up);

// The state to query: the stored projection, or a replay of the log as of
// `as_of` (knowledge time) through the same fold; also when another process
// holds the store and the stored state lags behind the log (cli_staff.cc).
struct QueryState {
  std::unique_ptr<EventLog> log;
  bool caught_up = false;
  std::optional<MemoryState> replayed;
  StateReader Reader(std::string_view projection) const {
    return replayed ? StateReader::Memory(*replayed) : StateReader::Stored(*log, projection);
  }
};
Result<QueryState> OpenQueryState(const Globals& g, const Projection& projection, std::optional<Timestamp> as_of);
int RunCustomerShow(const Globals& g, const std::string& id, const std::string& as_of,
                    const std::string& as_of_business, bool json);
int RunCustomerTimeline(const Globals& g, const std::string& id, bool json);
int RunCustomerCustody(const Globals& g, const std::string& id, const std::string& at, const std::string& request,
                       bool json);
int RunRebuild(const Globals& g, const std::string& name, bool json);

// Tamper evidence (cli_evidence.cc).
int RunKeyShow(const Globals& g, bool json);
int RunCheckpoint(const Globals& g, bool list, bool json);
int RunProveInclusion(const Globals& g, uint64_t position, std::optional<uint64_t> size);
int RunProveConsistency(const Globals& g, uint64_t from, std::optional<uint64_t> to);
int RunVerify(const Globals& g, const std::string& against, const std::string& key, bool json);
int RunBundle(const Globals& g, const std::string& stream, const std::string& from, const std::string& to,
              const std::string& out, bool json);
int RunVerifyBundle(const std::string& file, const std::string& key, bool json);

// The people behind the customers (cli_people.cc; service/personal.h).
int RunFind(const Globals& g, const std::string& email, const std::string& phone, const std::string& name, bool json);
int RunExportSubject(const Globals& g, const std::string& subject, const std::string& out, const std::string& format,
                     bool json);
int RunErase(const Globals& g, const std::string& subject, const std::string& reason, const std::string& code,
             const std::string& request_ref, bool json);
// action: add, remove or list.
int RunHold(const Globals& g, const std::string& action, const std::string& subject, const std::string& hold_id,
            const std::string& reason, bool json);
int RunBackup(const Globals& g, const std::string& to, bool json);
int RunRestore(const Globals& g, const std::string& from, const std::string& to, bool json);
int RunRotateMaster(const Globals& g, bool json);

// A generated company loaded into an empty store (cli_demo.cc, tools/demo_data.h).
struct DemoOptions {
  uint64_t seed = 1;
  int staff = 40;
  int customers = 5'000;
  int years = 3;
  std::string origin;  // of a store it creates
};
int RunDemo(const Globals& g, const DemoOptions& options, bool json);

// Staff portfolio, accountability and silent customers (cli_staff.cc).
int RunStaffPortfolio(const Globals& g, const std::string& id, const std::string& as_of, bool json);
int RunAccountability(const Globals& g, const std::string& staff, const std::string& team, const std::string& from,
                      const std::string& to, bool json);
int RunSilent(const Globals& g, int days, const std::string& as_of, bool json);
// Open departures and what is still left with each leaver; orphans: what
// people who have left still hold (cli_staff.cc).
int RunDepartures(const Globals& g, bool all, bool json);
int RunOrphans(const Globals& g, bool json);
// Plans the handover of everything a leaver holds and records handover.planned (cli_handover.cc).
int RunHandoverPlan(const Globals& g, const std::string& from, const std::string& to, const std::string& team,
                    bool json);
int RunHandoverExecute(const Globals& g, const std::string& handover_id, bool json);
int RunHandoverReport(const Globals& g, const std::string& handover_id, const std::string& format,
                      const std::string& for_staff, const std::string& out_path);

// Access auditing and exfiltration alerts (cli_access.cc).
int RunAccess(const Globals& g, const std::string& staff, const std::string& customer, const std::string& from,
              const std::string& to, bool json);
int RunAlerts(const Globals& g, const std::string& staff, bool json);
int RunAlertsConfig(const Globals& g, const std::vector<std::string>& settings, bool json);
// Raises the alerts the alerts projection found (replay/alerts.h: RaiseAlerts)
// and calls the configured webhook for each new one; warnings go to stderr.
// Expects a writable log whose projections caught up.
Result<std::vector<Event>> RaiseAndNotify(EventLog& log, bool quiet);
// POSTs `body` (JSON) to an http:// or https:// URL (core/webhook_url.h);
// Ok on a 2xx answer. https verifies the server's certificate against the
// system's CA store, or only against the PEM file $CUSTODIAN_WEBHOOK_CA_FILE
// names, and the URL's host; a user and password in the URL go as HTTP Basic
// authentication. Errors name the URL with its credential redacted (webhook.cc).
Status PostJson(const std::string& url, const std::string& body);

}  // namespace custodian::cli
