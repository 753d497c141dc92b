// The demo command: generate a company (tools/demo_data.h), load it into an
// empty store, print a tour of what to look at.
#include <unistd.h>

#include <fmt/core.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <future>
#include <map>

#include "core/json.h"
#include "core/time.h"
#include "replay/alerts.h"
#include "replay/projection.h"
#include "service/personal.h"
#include "tools/cli.h"
#include "tools/demo_data.h"

namespace custodian::cli {
namespace {

constexpr size_t kBatchEvents = 2'000;  // events per atomic batch, across streams
constexpr size_t kBatchesInFlight = 2;  // the log writes one while the next is generated

using BatchFuture = std::future<Result<std::vector<AppendResult>>>;

class LoadProgress {
 public:
  explicit LoadProgress(bool enabled) : enabled_(enabled), start_(std::chrono::steady_clock::now()), last_(start_) {}
  void Update(const demo::DemoCompany& company, uint64_t written, Timestamp start, Timestamp end) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    const double p = company.progress();
    const int64_t at = start.value() + static_cast<int64_t>(p * static_cast<double>(end.value() - start.value()));
    fmt::print(stderr, "\rloading the demo company: {} ({:.0f}%), {} events written ({:.0f}/s)   ",
               FormatRfc3339(Timestamp(at)).substr(0, 10), p * 100, Thousands(written),
               static_cast<double>(written) / std::max(Seconds(), 1e-9));
  }
  void Clear() {
    if (enabled_) fmt::print(stderr, "\r{:<90}\r", "");
  }
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  bool enabled_;
  std::chrono::steady_clock::time_point start_, last_;
};


// What the demo showed of the people: a name to find, and the erasure that a
// legal hold refused.
struct PeopleTour {
  std::string find_name;  // a word of the held person's name
  std::string refused;    // why the erasure of the held person was refused
};

void PrintTour(const Globals& g, const demo::DemoTour& t, const PeopleTour& p) {
  const std::string c = "custodian --data " + g.data_dir + " --as " + t.reader;
  auto line = [&](const std::string& command, const std::string& why) {
    fmt::print("  {:<72}  # {}\n", c + " " + command, why);
  };
  fmt::print("\nA tour of the company:\n");
  if (!t.handed_over_customer.empty()) {
    line("customer show " + t.handed_over_customer,
         "handed over from the leaver " + t.leaver + " in " + t.handover_id);
    line("customer custody " + t.handed_over_customer, "its chain of custody: who owned it when, and why");
  }
  if (!t.handover_id.empty()) {
    line("handover report " + t.handover_id, "the successor's briefing: the people to call, the last talk with each");
  }
  if (!t.overdue_customer.empty()) {
    line("customer timeline " + t.overdue_customer, "a commitment past its due date, still open");
  }
  if (!t.silent_customer.empty()) {
    line("customer show " + t.silent_customer, "silent: owned, but no contact logged for months");
  }
  if (!t.churned_customer.empty()) line("customer show " + t.churned_customer, "won, then lost (churned)");
  if (!t.fixed_customer.empty()) {
    line("customer timeline " + t.fixed_customer, "an order corrected or retracted later: the original beside its fix");
  }
  line("read access-" + t.leaver + " --backwards --limit 5",
       fmt::format("the leaver: after announcing departure exported {} records (baseline {} per 30 days)",
                   Thousands(t.leaver_after_exported), Thousands(t.leaver_baseline_exported)));
  line("read " + t.leaver, "the leaver's departure: announced, successor " + t.leaver_successor + ", departed");
  line("alerts --staff " + t.leaver, "what the exfiltration rules raised about the leaver (and nobody else)");
  line("access --staff " + t.leaver + " --from " + FormatRfc3339(t.leaver_announced_at).substr(0, 10) + "T00:00:00Z",
       "everything the leaver read and exported after announcing");
  line("alerts config", "the rules' thresholds; change them with --set (recorded as an event)");
  if (!t.slow_responder.empty()) line("read-all --limit 20", "the log in order; " + t.slow_responder + " answers slowly, " + t.quiet_logger + " logs little");
  if (!p.find_name.empty()) line("find --name " + p.find_name, "people found through the blind index (the read is recorded)");
  if (!t.held_subject.empty()) {
    line("hold list", "the legal hold " + t.hold_id + " keeps " + t.held_subject + "'s data");
    const std::string dpo = "custodian --data " + g.data_dir + " --as " + t.dpo;
    fmt::print("  {:<72}  # {}\n", dpo + " export-subject " + t.held_subject + " --out subject.html --format html",
               "everything held about one person, and who read it");
    fmt::print("  {:<72}  # {}\n", dpo + " erase --subject " + t.held_subject + " --reason \"asked\"",
               "refused while the hold is in force");
  }
  if (!t.erased_subjects.empty()) {
    const std::string customer = t.erased_subjects.front().substr(0, t.erased_subjects.front().find('/'));
    line("customer show " + customer, t.erased_subjects.front() + " asked to be erased: shown as erased, with where and why");
  }
  line("stats", "the size of the store");
  line("verify", "recompute every leaf, tree node, checkpoint and index");
  const std::string bundle_stream = t.handed_over_customer.empty() ? "access-" + t.leaver : t.handed_over_customer;
  line("bundle --stream " + bundle_stream + " --out evidence.json", "evidence that verifies offline");
}

}  // namespace

int RunDemo(const Globals& g, const DemoOptions& o, bool json) {
  demo::DemoConfig config;
  config.seed = o.seed;
  config.staff = o.staff;
  config.customers = o.customers;
  config.years = o.years;
  // The history runs to the end of its last day: --until, else yesterday.
  constexpr int64_t kDay = int64_t{86'400} * 1'000'000;
  if (o.until.empty()) {
    config.end = Timestamp(SystemClock().Now().value() / kDay * kDay);
  } else {
    Result<Timestamp> last = o.until.size() == 10 ? ParseRfc3339(o.until + "T00:00:00Z")
                                                  : Result<Timestamp>(Status::InvalidArgument("not YYYY-MM-DD"));
    if (!last.ok()) {
      fmt::print(stderr, "custodian: --until {}: expected a day as YYYY-MM-DD, e.g. 2026-09-29\n", TerminalText(o.until));
      return kExitUsage;
    }
    config.end = Timestamp(last->value() + kDay);
  }
  if (Status s = demo::CheckDemoConfig(config); !s.ok()) {
    fmt::print(stderr, "custodian: {}\n", s.message());
    return kExitUsage;
  }
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite, CreateIfMissing::kYes, o.origin);
  if (!log.ok()) return Fail(log.status());
  if (const uint64_t held = (*log)->end().value(); held > 0) {
    fmt::print(stderr,
               "custodian: the store at {} already holds {} events; demo loads its company only into an empty store "
               "(nothing changed). Choose another --data directory, or remove this one.\n",
               g.data_dir, Thousands(held));
    return kExitUsage;
  }
  // The key directory outlives a removed store: the erasures it lists
  // would refuse the demo's people as erased, half-way through the load.
  {
    const std::filesystem::path erased = std::filesystem::path(MasterKeyFile(g)).parent_path() / "erased.jsonl";
    std::error_code ec;
    if (std::filesystem::file_size(erased, ec) > 0 && !ec) {
      fmt::print(stderr,
                 "custodian: the key directory {} belongs to an earlier store: it lists erasures (erased.jsonl) "
                 "that would refuse the demo's people as erased (nothing changed). Remove it with the store, or "
                 "choose another --data directory.\n",
                 TerminalText(erased.parent_path().string()));
      return kExitUsage;
    }
  }
  InstallSignalHandlers();

  demo::DemoCompany company(config);
  LoadProgress progress(::isatty(STDERR_FILENO) && !json);
  std::deque<BatchFuture> in_flight;
  std::vector<AppendRequest> batch;
  size_t batch_events = 0;
  uint64_t written = 0;
  auto wait_oldest = [&]() -> Status {
    Result<std::vector<AppendResult>> r = in_flight.front().get();
    in_flight.pop_front();
    if (!r.ok()) return r.status();
    for (const AppendResult& a : *r) written += a.written;
    return Status::Ok();
  };
  auto submit = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    if (in_flight.size() >= kBatchesInFlight) CUSTODIAN_RETURN_IF_ERROR(wait_oldest());
    in_flight.push_back((*log)->AppendBatchAsync(std::move(batch)));
    batch.clear();
    batch_events = 0;
    return Status::Ok();
  };
  Status status = Status::Ok();
  Event e;
  while (status.ok() && !Interrupted() && company.Next(&e)) {
    if (batch.empty() || batch.back().stream != e.stream) {
      batch.emplace_back();
      batch.back().stream = e.stream;
    }
    batch.back().events.push_back(std::move(e));
    if (++batch_events >= kBatchEvents) {
      status = submit();
      progress.Update(company, written, company.start(), config.end);
    }
  }
  if (status.ok() && !Interrupted()) status = submit();
  while (!in_flight.empty()) {
    Status s = wait_oldest();
    if (status.ok()) status = s;
  }
  progress.Clear();
  if (!status.ok() || Interrupted()) {
    if (!status.ok()) fmt::print(stderr, "custodian: {}\n", status.message());
    fmt::print(stderr, "demo stopped{}: {} events written; the store holds part of the company\n",
               status.ok() ? " (interrupted)" : "", Thousands(written));
    return status.ok() ? kExitUsage : ExitCodeFor(status);
  }
  const double secs = progress.Seconds();

  // Fold the projections now, so that the tour's queries answer at once.
  const auto fold_start = std::chrono::steady_clock::now();
  {
    ProjectionEngine engine(**log);
    AddProjections(engine);
    const bool show = ::isatty(STDERR_FILENO) && !json;
    auto last = fold_start;
    Status s = engine.CatchUp([&](uint64_t done, uint64_t total) {
      const auto now = std::chrono::steady_clock::now();
      if (!show || now - last < std::chrono::milliseconds(500)) return;
      last = now;
      fmt::print(stderr, "\rbuilding the projections: {} of {} events   ", Thousands(done), Thousands(total));
    });
    if (show) fmt::print(stderr, "\r{:<90}\r", "");
    if (!s.ok()) return Fail(s.WithContext("the company is loaded, but building its projections failed"));
  }
  // What the exfiltration rules found becomes alert.raised events.
  if (Result<std::vector<Event>> raised = RaiseAndNotify(**log, AlertWarnings::kQuiet); !raised.ok()) {
    return Fail(raised.status().WithContext("raising the alerts the rules found"));
  }
  Result<std::vector<Alert>> alerts = ListAlerts(**log);
  if (!alerts.ok()) return Fail(alerts.status());
  std::map<std::string, size_t> alerted;  // staff -> alerts about them
  for (const Alert& a : *alerts) ++alerted[a.staff];
  std::string alerted_json = "{";
  for (const auto& [staff, n] : alerted) alerted_json += (alerted_json.size() > 1 ? "," : "") + JsonQuote(staff) + ":" + std::to_string(n);
  alerted_json += "}";
  const double fold_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - fold_start).count();
  const demo::DemoTour& t = company.tour();
  // The person under legal hold asks to be erased too: the log refuses it,
  // naming the hold (nothing is written).
  PeopleTour people;
  if (!t.held_subject.empty()) {
    Result<SubjectRef> held = ParseSubjectId(t.held_subject);
    if (!held.ok()) return Fail(held.status());
    ErasureRequest request{*held, t.dpo, "data_subject_request", "the person asked to be erased", "",
                           SystemClock().Now()};
    Result<ErasureResult> refused = EraseSubject(**log, request);
    if (refused.ok()) {
      return Fail(Status::FailedPrecondition("the demo's erasure of " + t.held_subject + " under legal hold " +
                                             t.hold_id + " was not refused"));
    }
    people.refused = refused.status().message();
    if (Result<Person> p = LookUpPerson(**log, *held); p.ok()) {
      const std::string name = p->Field("name");
      people.find_name = name.substr(name.rfind(' ') + 1);
    }
  }
  const double rate = static_cast<double>(written) / std::max(secs, 1e-9);
  std::string erased_json = "[";
  for (const std::string& e : t.erased_subjects) erased_json += (erased_json.size() > 1 ? "," : "") + JsonQuote(e);
  erased_json += "]";
  if (json) {
    fmt::print(
        "{{\"store\":{},\"events\":{},\"seconds\":{:.2f},\"events_per_second\":{:.0f},\"projection_seconds\":{:.2f},\"seed\":{},\"staff\":{},"
        "\"customers\":{},\"years\":{},\"from\":\"{}\",\"to\":\"{}\",\"staff_joined\":{},\"staff_departed\":{},"
        "\"customers_churned\":{},\"leaver\":{},\"leaver_successor\":{},\"handover_id\":{},"
        "\"leaver_baseline_exported_per_30_days\":{},\"leaver_exported_after_announcing\":{},"
        "\"handed_over_customer\":{},\"overdue_customer\":{},\"silent_customer\":{},\"churned_customer\":{},"
        "\"slow_responder\":{},\"quiet_logger\":{},\"reader\":{},\"alerts\":{},\"alerts_by_staff\":{},"
        "\"dpo\":{},\"erased_subjects\":{},\"held_subject\":{},\"hold_id\":{},\"erasure_refused\":{},"
        "\"orders_corrected\":{},\"orders_retracted\":{},\"fixed_customer\":{}}}\n",
        JsonQuote(g.data_dir), written, secs, rate, fold_secs, config.seed, config.staff, config.customers, config.years,
        FormatRfc3339(company.start()), FormatRfc3339(config.end), t.staff_joined, t.staff_departed,
        t.customers_churned, JsonQuote(t.leaver), JsonQuote(t.leaver_successor), JsonQuote(t.handover_id),
        t.leaver_baseline_exported, t.leaver_after_exported, JsonQuote(t.handed_over_customer),
        JsonQuote(t.overdue_customer), JsonQuote(t.silent_customer), JsonQuote(t.churned_customer),
        JsonQuote(t.slow_responder), JsonQuote(t.quiet_logger), JsonQuote(t.reader), alerts->size(), alerted_json,
        JsonQuote(t.dpo), erased_json, JsonQuote(t.held_subject), JsonQuote(t.hold_id), JsonQuote(people.refused),
        t.orders_corrected, t.orders_retracted, JsonQuote(t.fixed_customer));
    return kExitOk;
  }
  fmt::print("loaded a demo company into {}: {} events in {:.1f} s ({:.0f} events/s)\n", g.data_dir, Thousands(written),
             secs, rate);
  fmt::print("  projections built in {:.1f} s\n", fold_secs);
  fmt::print("  seed {}, {} to {}: {} staff joined, {} departed; {} customers registered, {} churned\n", config.seed,
             Day(company.start()), Day(Timestamp(config.end.value() - kDay)), t.staff_joined, t.staff_departed, Thousands(t.customers_registered),
             t.customers_churned);
  std::string who;
  for (const auto& [staff, n] : alerted) who += fmt::format("{}{} about {}", who.empty() ? "" : ", ", n, staff);
  fmt::print("  exfiltration alerts raised: {}{}\n", alerts->size(), who.empty() ? "" : " (" + who + ")");
  fmt::print("  orders fixed after they were recorded: {} corrected, {} retracted (each shown beside its fix)\n",
             t.orders_corrected, t.orders_retracted);
  fmt::print("  people: every contact named, with e-mail and phone, sealed per person; {} erased at their request by {}\n",
             t.erased_subjects.size(), t.dpo);
  if (!people.refused.empty()) fmt::print("  an erasure refused: {}\n", people.refused);
  PrintTour(g, t, people);
  return kExitOk;
}

}  // namespace custodian::cli
