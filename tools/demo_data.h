// DemoCompany: a deterministic, realistic history of a sales company, for
// `custodian demo` (DESIGN.md, Layout: tools/ holds the demo data generator).
//
// From a seed it simulates a company day by day: staff join in teams and
// leave (announcing first, handing their customers over), customers are
// migrated from an old CRM or won later, some churn, some fall silent;
// requests are answered fast or slowly (a few never), commitments are kept,
// slip or are forgotten; some staff log little of what they do; everyone
// views and now and then exports customer data; and one salesperson (the
// leaver) announces departure and then exports far more than their baseline.
//
// Guarantees:
// - Determinism. The same DemoConfig yields byte-identical events on every
//   machine and library: randomness is std::mt19937_64 (whose output the
//   standard fixes) with distributions implemented here, and every event id
//   is SHA-256("custodian-demo" | seed | counter) shaped as a version-4 UUID.
// - Order. Events come in business-time order: occurred_at never decreases,
//   so log order is business-time order.
// - Validity. Every event passes ValidateEvent (docs/events.md) for any clock
//   after config.end, and the history obeys the rules the writer enforces at
//   append (DESIGN.md, Event model): staff actors have joined and not left;
//   owners, assignees, commitment owners and successors are active staff;
//   request, deal and commitment follow-ups name an item opened earlier on
//   the same customer stream.
//
// Not thread-safe; one generator per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/status.h"

namespace custodian::demo {

struct DemoConfig {
  uint64_t seed = 1;
  int staff = 40;          // initial head count, in teams of about 8 (at most 5 teams)
  int customers = 5'000;   // customers over the whole history
  int years = 3;           // length of the history
  // The history ends here (exclusive); a fixed date keeps output identical
  // across runs. 2026-09-30T00:00:00Z.
  Timestamp end = Timestamp(1'790'726'400LL * 1'000'000);
};

// InvalidArgument naming the option when the config is out of range.
Status CheckDemoConfig(const DemoConfig& config);

// What the generator picked for the tour; complete once Next returned false.
struct DemoTour {
  std::string reader;                 // the head of sales: reads across the company (the tour runs as them)
  std::string leaver;                 // announced departure, exported a lot, then left
  std::string leaver_successor;       // proposed successor in the announcement
  Timestamp leaver_announced_at;      // when the leaver announced their departure
  std::string handover_id;            // the leaver's handover
  std::string handed_over_customer;   // one of the leaver's customers, handed over
  std::string overdue_customer;       // has a commitment past due and still open
  std::string silent_customer;        // owned, no logged contact for months
  std::string churned_customer;       // was won, then lost
  std::string fixed_customer;         // has an order corrected or retracted after it was recorded
  std::string slow_responder;         // staff with the slowest answers
  std::string quiet_logger;           // staff who log little of what they do
  std::string dpo;                       // the data protection officer: erasures and holds
  std::vector<std::string> erased_subjects;  // people erased at their request (subject ids)
  std::string held_subject, hold_id;     // a person under legal hold (an erasure of them is refused)
  uint64_t leaver_baseline_exported = 0;  // records exported per 30 days before announcing
  uint64_t leaver_after_exported = 0;     // records exported after announcing
  int staff_joined = 0;
  int staff_departed = 0;
  int customers_registered = 0;
  int customers_churned = 0;
  int orders_corrected = 0;
  int orders_retracted = 0;
};

class DemoCompany {
 public:
  explicit DemoCompany(const DemoConfig& config);  // config must pass CheckDemoConfig
  ~DemoCompany();
  DemoCompany(const DemoCompany&) = delete;
  DemoCompany& operator=(const DemoCompany&) = delete;

  // Writes the next event to `out` (log fields left zero); false when the
  // history is complete.
  bool Next(Event* out);

  // Events returned so far.
  uint64_t emitted() const;
  // Business time reached, from 0 at the start of the history to 1 at its end.
  double progress() const;
  // The first day of the history.
  Timestamp start() const;

  const DemoTour& tour() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace custodian::demo
