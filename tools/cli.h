// Shared by the `custodian` command's files: exit codes, the store, printing.
// Each command is a function from its parsed options to an exit code;
// custodian.cc holds the CLI11 definitions and calls them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "core/text.h"
#include "replay/access.h"
#include "replay/alerts.h"
#include "replay/projection.h"
#include "replay/state_reader.h"
#include "service/store.h"
#include "storage/event_log.h"

namespace custodian::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,
  kExitRejected = 2,
  kExitConflict = 3,
  kExitStorage = 4,
  kExitVerifyFailed = 5,  // verify / verify-bundle found a disagreement
  kExitNotFound = 6,      // nothing by that name: no store, customer, staff member, subject, handover, ...
};

inline constexpr double kMaxWaitSeconds = 24 * 3600;

// The global options: the store (--data, --checkpoint-every, --wait,
// --master-key or $CUSTODIAN_MASTER_KEY_FILE; service/store.h) and who reads.
struct Globals : StoreOptions {
  std::string as;  // who reads (--as, $CUSTODIAN_AS): every read of customer data is recorded
  // The caller the service records reads for: `as` on the command line.
  Caller CallerAs(const std::string& reader) const { return Caller{reader, "cli", data_dir}; }
};

// The one mapping from Status to exit codes (server/ has the one to HTTP).
int ExitCodeFor(const Status& s);
// Prints "custodian: <message>" to stderr and returns its exit code.
int Fail(const Status& s);
// Prints it the same way and returns kExitUsage.
int UsageError(const Status& s);
std::string Thousands(uint64_t n);
// "1 read", "1,204 reads": `n` with thousands separators and the noun that fits it.
std::string Counted(uint64_t n, std::string_view one, std::string_view many);

// Where a command may write what --out names (`folder`: a folder it makes,
// else a file it writes or replaces): never through a symbolic link, over a
// device, a pipe or (for a file) a folder, nor inside the store or over the
// key directory's files. InvalidArgument, naming the option, otherwise.
Status CheckOutPath(const Globals& g, const std::string& out, bool folder = false);

// The value of --wait: seconds from 0 to kMaxWaitSeconds; InvalidArgument
// naming the option for anything else.
Result<double> ParseWaitSeconds(std::string_view text);

// The value of --checkpoint-every or $CUSTODIAN_CHECKPOINT_EVERY (named by
// `source`): a finite number of seconds from kMinCheckpointEverySeconds to
// kMaxCheckpointEverySeconds; InvalidArgument for anything else.
inline constexpr double kMinCheckpointEverySeconds = 0.001;
inline constexpr double kMaxCheckpointEverySeconds = 366 * 24 * 3600;
Result<double> ParseCheckpointEvery(std::string_view text, std::string_view source);

// "7", "staff-7" or "STAFF-7" -> "staff-7"; "42", "customer-42" or
// "Customer-42" -> "customer-42" (the category in any case, the id as given);
// InvalidArgument for anything else.
Result<std::string> StaffId(const std::string& id);
Result<std::string> CustomerStream(const std::string& id);
// An RFC 3339 option's value; nothing when empty; the error names `option`.
Result<std::optional<Timestamp>> OptionalTime(const std::string& text, const char* option);
// The time a view is asked about, from --as-of and --as-of-business (at most
// one of them); none when neither is given.
Result<std::optional<AsOfTime>> AsOfOptions(const std::string& as_of, const std::string& as_of_business);
// "as of T (--as-of: what was recorded by then)\n", or "" for now.
std::string AsOfNote(const std::optional<AsOfTime>& as_of);


// Who reads, as "staff-<id>", from --as or $CUSTODIAN_AS: InvalidArgument
// naming `command` when nobody was named. Commands that show customer data
// call it before anything else.
Result<std::string> Reader(const Globals& g, std::string_view command);
// Records a read of customer data before it is shown (service/store.h:
// RecordRead). A command shows nothing when this fails.
inline Status RecordAccess(const Globals& g, EventLog& log, const Access& a) {
  return RecordRead(log, g.CallerAs(a.staff), a);
}
// Under a listing cut to `scope` (text output only): how many `what` were
// left out, and what the reader `sees`.
void PrintScopeNote(const ServiceScope& scope, size_t left_out, std::string_view what, std::string_view sees);
inline constexpr std::string_view kSeesServed = "the customers they serve: their own, their team's, and those they work on";

// An aligned listing's cell: "-" for an empty value.
inline std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

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

// OneLineText and TerminalText, for every event value printed: core/text.h.

// Customers and projections (cli_customer.cc).

int RunCustomerShow(const Globals& g, const std::string& id, const std::string& as_of,
                    const std::string& as_of_business, bool json);
int RunCustomerTimeline(const Globals& g, const std::string& id, bool json);
// The customers the reader serves whose id or name holds every word
// (cli_customer.cc; service/customer.h, FindCustomers).
int RunCustomerFind(const Globals& g, const std::vector<std::string>& words, size_t limit, bool json);
int RunCustomerCustody(const Globals& g, const std::string& id, const std::string& at, const std::string& request,
                       bool json);
int RunRebuild(const Globals& g, const std::string& name, bool json);

// Tamper evidence (cli_evidence.cc; service/evidence.h).
int RunKeyShow(const Globals& g, bool json);
int RunCheckpoint(const Globals& g, bool list, bool json);
// A proof prints as JSON with or without `json` (the same document).
int RunProveInclusion(const Globals& g, uint64_t position, std::optional<uint64_t> size, bool json);
int RunProveConsistency(const Globals& g, uint64_t from, std::optional<uint64_t> to, bool json);
int RunVerify(const Globals& g, const std::string& against, const std::string& key, bool json);
int RunBundle(const Globals& g, const std::string& stream, const std::string& from, const std::string& to,
              const std::string& out, bool json);
int RunVerifyBundle(const std::string& file, const std::string& key, bool json, bool inclusion_only);
// Which witnesses cosigned a checkpoint note (docs/scale-out.md); exit 5 when fewer than `require`.
int RunVerifyCosignatures(const std::string& file, const std::vector<std::string>& witnesses, size_t require, bool json);
int RunDispute(const Globals& g, const std::string& customer, const std::string& at, const std::string& out, bool json);

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
int RunRestore(const Globals& g, const std::string& from, const std::string& to, bool without_master_key,
               bool json);
int RunRotateMaster(const Globals& g, bool json);

// HTTP API tokens and registered principals (cli_tokens.cc; service/tokens.h).
int RunTokenCreate(const Globals& g, const std::string& role, const std::string& name, const std::string& staff,
                   bool json);
int RunTokenList(const Globals& g, bool json);
int RunTokenRevoke(const Globals& g, const std::string& token_id, const std::string& reason, bool json);
int RunPrincipalAdd(const Globals& g, const std::string& id, const std::string& kind, const std::string& role,
                    const std::string& organization, const std::string& by, bool json);

// The HTTP API in front of the store until SIGINT or SIGTERM (cli_serve.cc; server/).
struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  int threads = 2;
  std::string tls_cert, tls_key;
  size_t body_limit = 8 * 1024 * 1024;
  uint64_t max_lag = 1'000'000;  // ApiOptions::max_projection_lag
  std::string web;               // the web UI's built files; empty: the build's own, when it was built
  // Past one machine (docs/scale-out.md): the NATS servers, empty for one machine.
  std::string cluster;
  std::string cluster_credentials;  // owner-only file: NATS .creds, USER:PASSWORD or a token
  std::string cluster_ca;           // PEM: the CA that signed the NATS servers' certificates (TLS)
  std::string cluster_key;          // the key file every node holds (cluster/cluster_key.h); required with cluster
  bool partition_writer = false;
  std::string lease;  // etcd's client URL for the writer's lease; empty: a fixed writer
  std::string lease_credentials;  // owner-only file: USER:PASSWORD of an etcd with authentication on
  std::string lease_ca;           // PEM: the CA that signed an https etcd's certificate
  std::string cluster_stream = "CUSTODIAN";
  int replicas = 3;
};
int RunServe(const Globals& g, const ServeOptions& options);
// `keys new-cluster --out FILE`: a new cluster key (cluster/cluster_key.h).
int RunNewClusterKey(const Globals& g, const std::string& out, bool json);

// A generated company loaded into an empty store (cli_demo.cc, tools/demo_data.h).
struct DemoOptions {
  uint64_t seed = 1;
  int staff = 40;
  int customers = 5'000;
  int years = 3;
  std::string until;   // the history's last day, YYYY-MM-DD; empty: yesterday (UTC)
  std::string origin;  // of a store it creates
};
int RunDemo(const Globals& g, const DemoOptions& options, bool json);

// Staff portfolio, accountability and silent customers (cli_staff.cc; service/staff.h).
// As of a time: --as-of / --as-of-business (AsOfOptions), empty for now.
int RunStaffPortfolio(const Globals& g, const std::string& id, const std::string& as_of,
                      const std::string& as_of_business, bool json);
int RunAccountability(const Globals& g, const std::string& staff, const std::string& team, const std::string& from,
                      const std::string& to, const std::string& as_of, const std::string& as_of_business, bool json);
int RunSilent(const Globals& g, int days, const std::string& as_of, const std::string& as_of_business, bool json);
// The open deals of the customers the reader's overseen staff own, of one
// team or all, by stage (cli_staff.cc; service/staff.h, Pipeline).
int RunPipeline(const Globals& g, const std::string& team, bool json);
// Open departures and what is still left with each leaver; orphans: what
// people who have left still hold (cli_staff.cc; service/staff.h).
int RunDepartures(const Globals& g, bool all, const std::string& as_of, const std::string& as_of_business, bool json);
int RunOrphans(const Globals& g, const std::string& as_of, const std::string& as_of_business, bool json);
// Plans the handover of everything a leaver holds and records handover.planned; carries it out; briefs the
// successors (cli_handover.cc; service/handover.h). Execute records the moves under --as.
int RunHandoverPlan(const Globals& g, const std::string& from, const std::string& to, const std::string& team,
                    bool json);
int RunHandoverExecute(const Globals& g, const std::string& handover_id, bool json);
int RunHandoverReport(const Globals& g, const std::string& handover_id, const std::string& format,
                      const std::string& for_staff, const std::string& out_path);

// Access auditing and exfiltration alerts (cli_access.cc; service/access.h).
int RunAccess(const Globals& g, const std::string& staff, const std::string& customer, const std::string& from,
              const std::string& to, bool json);
int RunAlerts(const Globals& g, const std::string& staff, bool json);
int RunAlertsConfig(const Globals& g, const std::vector<std::string>& settings, bool json);

}  // namespace custodian::cli
