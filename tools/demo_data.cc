// The demo company: a discrete-event simulation. A priority queue holds what
// will happen (tasks, by time and then by the order they were planned); each
// task, when its time comes, looks at the company as it is then, emits the
// events it implies and plans what follows. Because every check is made at
// the moment an event is emitted, no event can act for someone who has left
// or touch an item that is not open.
#include "tools/demo_data.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <deque>
#include <queue>
#include <random>
#include <set>

#include "core/json.h"
#include "core/sha256.h"
#include "core/time.h"
#include "tools/demo_people.h"

namespace custodian::demo {
namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int kDaysPerYear = 365;
constexpr int kWorkdaysPerYear = 250;

constexpr int kMaxTeams = 5;
constexpr int kStaffPerTeam = 8;
constexpr double kMigratedShare = 0.7;    // customers already in the old CRM at the start
constexpr double kTurnoverPerYear = 0.12;  // of account executives
constexpr int kLeaverAnnounceDaysBeforeEnd = 40;
constexpr int kLeaverNoticeDays = 28;

// Daily chances for a customer of activity 1 (a working day).
constexpr double kInteractionPerDay = 0.12;
constexpr double kNotePerDay = 0.016;
constexpr double kRequestPerDay = 0.024;
constexpr double kCommitmentPerDay = 0.012;
constexpr double kDealPerDay = 0.005;
constexpr double kOrderPerDay = 0.008;
// Of the orders, the share fixed a few days later: corrected (a discount left
// out) or retracted (entered twice), so the timeline shows each original
// beside its fix and the views count the order as fixed (docs/events.md).
constexpr double kOrderFixedShare = 0.02;
constexpr double kOrderFixRetractShare = 0.4;
constexpr double kContactPerDay = 0.002;
constexpr double kChurnPerYear = 0.04;
constexpr double kSilentShare = 0.03;

// The share of conversations with a named contact whose notes hold a personal remark.
constexpr double kPersonalNotesShare = 0.15;
// People who ask to be erased over the years (one more is under a legal hold).
constexpr int kErasures = 4;

// Access: views per working day (Poisson mean) and the chance of an export.
constexpr double kViewsPerDay = 2.5;
constexpr double kExportPerDay = 0.06;

__extension__ typedef unsigned __int128 Uint128;

// Randomness whose results the standard fixes: mt19937_64's output, and
// distributions written out here (std:: distributions differ by library).
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // In [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-40 here).
  uint64_t Below(uint64_t n) {
    const uint64_t x = engine_();
    return static_cast<uint64_t>((static_cast<Uint128>(x) * n) >> 64);
  }
  int64_t Between(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo + 1))); }
  bool Chance(double p) { return Uniform() < p; }
  double Exponential(double mean) { return -mean * std::log1p(-Uniform()); }
  int Poisson(double mean) {  // Knuth; means here are small
    const double limit = std::exp(-mean);
    int k = 0;
    for (double p = Uniform(); p > limit; p *= Uniform()) ++k;
    return k;
  }
  template <typename T, size_t N>
  const T& Pick(const std::array<T, N>& a) {
    return a[Below(N)];
  }

 private:
  std::mt19937_64 engine_;
};

constexpr std::array<const char*, 24> kNameStems = {
    "Hartmann", "Nordlicht", "Brenner", "Alpina", "Kessler", "Vogt", "Rheinland", "Baltica",
    "Lindqvist", "Morena", "Castell", "Aurora", "Falk", "Westbrook", "Solvay", "Tannberg",
    "Elbe", "Korona", "Meridian", "Sperling", "Halden", "Ostwind", "Valmont", "Brightwater"};
constexpr std::array<const char*, 12> kNameKinds = {
    "Logistik GmbH", "Systems AG", "Foods", "Maschinenbau", "Retail Group", "Energie",
    "Pharma", "Bau GmbH", "Textil", "Medical", "Software", "Transport"};
constexpr std::array<const char*, 8> kIndustries = {"logistics", "manufacturing", "retail", "energy",
                                                    "healthcare", "construction", "software", "food"};
constexpr std::array<const char*, 3> kSegments = {"enterprise", "mid-market", "small-business"};
constexpr std::array<const char*, 8> kCountries = {"DE", "AT", "CH", "NL", "FR", "PL", "DK", "SE"};
constexpr std::array<const char*, 5> kTeams = {"north", "south", "east", "west", "key-accounts"};
constexpr std::array<const char*, 5> kChannels = {"call", "email", "meeting", "visit", "chat"};
constexpr std::array<const char*, 8> kInteractionSummaries = {
    "quarterly review of open orders", "discussed the renewal terms", "follow-up on the last delivery",
    "introduced the new service plan", "clarified invoice questions", "checked satisfaction after rollout",
    "planned next year's volumes", "answered questions about the price list"};
constexpr std::array<const char*, 6> kNotes = {
    "budget decision expected next quarter", "competitor offered a lower price",
    "prefers consolidated monthly invoices", "procurement process requires three quotes",
    "expansion to a second site planned", "payment terms under review"};
constexpr std::array<const char*, 8> kRequestTitles = {
    "pricing for a 3-year term", "delivery date for the open order", "copy of the last invoice",
    "complaint about a damaged shipment", "quote for additional licences", "technical question about setup",
    "change of billing address", "request for a service visit"};
constexpr std::array<const char*, 4> kRequestCategories = {"quote", "support", "complaint", "billing"};
constexpr std::array<const char*, 6> kPromises = {
    "send the revised quote", "on-site demo for the operations team", "credit note for the damaged goods",
    "call back with the delivery date", "training session for new users", "draft of the renewal contract"};
constexpr std::array<const char*, 6> kDealTitles = {"Fleet tracking rollout", "Annual service contract",
                                                    "Licence expansion",      "Hardware refresh",
                                                    "Consulting package",     "Second site equipment"};
constexpr std::array<const char*, 4> kStages = {"qualification", "proposal", "negotiation", "closing"};
constexpr std::array<const char*, 6> kContactRoles = {"head of purchasing", "managing director",
                                                      "operations manager", "finance manager",
                                                      "IT lead",            "office manager"};
constexpr std::array<const char*, 4> kViews = {"customer_profile", "timeline", "portfolio", "search"};
constexpr std::array<const char*, 3> kCompetitors = {"Trackwise", "Salescore", "Nimbus CRM"};

enum class TaskKind : uint8_t {
  kDay, kStaffJoin, kRoleChange, kAnnounce, kHandover, kDepart,
  kRegister, kInteraction, kNote, kContact, kChurn,
  kRequestOpen, kRequestAssign, kRequestRespond, kRequestResolve, kRequestReopen,
  kDealOpen, kDealStage, kOrder, kCommitmentMake, kCommitmentClose,
  kView, kExport,
  kErase, kHold,  // a person asks to be erased; a legal hold is placed (a = which of them)
  kFix,           // an order corrected or retracted (a = which fix)
};

struct Task {
  int64_t at;
  uint64_t seq;
  TaskKind kind;
  int a;  // the staff, customer, request, deal or commitment index
  bool operator>(const Task& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

struct Staff {
  int number = 0;
  int team = 0;
  bool manager = false;
  std::string role;
  bool joined = false, announced = false, departed = false;
  bool handed_over = false;
  bool direct_departure = false;  // no plan: customers move at departure
  double diligence = 1;           // share of their work they log
  double response_hours = 24;     // mean time to answer a request
  std::vector<int> portfolio;     // customer indexes
  int64_t joined_at = 0, announced_at = 0;
  uint64_t exported_before = 0, exported_after = 0;
};

struct Customer {
  int number = 0;
  bool registered = false, migrated = false, prospect = false, churned = false, had_order = false;
  int owner = -1;
  double activity = 1;
  int64_t silent_from = INT64_MAX;
  int64_t last_contact = 0;
  int next_contact = 0;
  int contacts = 0;
  std::set<int> erased_contacts;  // contact numbers whose personal data was erased: nothing personal again
  std::string country;  // ISO code, for its people's phone numbers
  std::string domain;   // its people's e-mail domain; empty: a person (their contacts use mail providers)
};

struct Request {
  int customer, number, assignee = -1;
  bool open = true, responded = false;
};
struct Deal {
  int customer, number, stage = 0;
  bool open = true;
};
struct Commitment {
  int customer, number, owner;
  int64_t due;
  int outcome;  // 0 on time, 1 late, 2 cancelled, 3 forgotten
  bool open = true;
};

// A JSON object built field by field.
class JsonObject {
 public:
  JsonObject& Str(std::string_view key, std::string_view v) { return Raw(key, JsonQuote(v)); }
  JsonObject& Num(std::string_view key, int64_t v) { return Raw(key, std::to_string(v)); }
  JsonObject& Bool(std::string_view key, bool v) { return Raw(key, v ? "true" : "false"); }
  JsonObject& Time(std::string_view key, int64_t t) { return Str(key, FormatRfc3339(Timestamp(t))); }
  JsonObject& Raw(std::string_view key, std::string_view json) {
    out_ += out_.size() == 1 ? "" : ",";
    out_ += JsonQuote(key);
    out_ += ':';
    out_ += json;
    return *this;
  }
  std::string Done() { return out_ + "}"; }

 private:
  std::string out_ = "{";
};

std::string StaffId(const Staff& s) { return "staff-" + std::to_string(s.number); }
std::string CustomerId(const Customer& c) { return "customer-" + std::to_string(c.number); }

int Weekday(int64_t t) {  // 0 = Monday; 1970-01-01 was a Thursday
  const int64_t days = t / kDay;
  return static_cast<int>((days + 3) % 7);
}

}  // namespace

Status CheckDemoConfig(const DemoConfig& c) {
  if (c.staff < 4 || c.staff > 1000) return Status::InvalidArgument("--staff: expected 4 to 1000, got " + std::to_string(c.staff));
  if (c.customers < 10 || c.customers > 1'000'000) {
    return Status::InvalidArgument("--customers: expected 10 to 1,000,000, got " + std::to_string(c.customers));
  }
  if (c.years < 1 || c.years > 20) return Status::InvalidArgument("--years: expected 1 to 20, got " + std::to_string(c.years));
  return Status::Ok();
}

struct DemoCompany::Impl {
  explicit Impl(const DemoConfig& c);

  bool Next(Event* out);
  void Schedule(int64_t at, TaskKind kind, int a = 0) {
    if (at < now_) at = now_;
    if (at >= end_) return;
    queue_.push(Task{at, seq_++, kind, a});
  }
  void Run(const Task& t);
  // `personal`: the event's personal part (compact JSON), for the log to seal.
  void Emit(std::string stream, std::string_view type, std::string actor, std::string data,
            std::string personal = "");

  // A moment during working hours on the working day at or after `t`.
  int64_t WorkTime(int64_t t);
  int64_t WorkTimeOnDay(int64_t day) { return day + 8 * kHour + rng_.Between(0, 10 * 60 - 1) * kMinute; }

  bool Active(int s) const { return s >= 0 && staff_[s].joined && !staff_[s].departed; }
  // An active account executive who is not leaving, preferably in `team`,
  // with the fewest customers; -1 if there is none.
  int PickOwner(int team, int except = -1);
  // A customer `s` serves: one of theirs or, for a manager, of their team's;
  // -1 if there is none.
  int PickServed(int s);
  int ManagerOf(int team) const;
  std::string ActorFor(int s) const { return Active(s) ? StaffId(staff_[s]) : "system:crm-sync"; }
  void SetOwner(int c, int s, std::string_view reason, const std::string& handover_id, const std::string& actor);
  void ReassignRequests(int from, std::string_view reason, double keep_share, const std::string& actor);
  void ReassignCommitments(int from, std::string_view reason, bool keep_some, const std::string& handover_id,
                           const std::string& actor);

  void PlanDay(int64_t day);
  void Register(int c);
  void Announce(int s);
  void Handover(int s);
  void Depart(int s);
  void Export(int s);
  void Privacy(TaskKind kind, int which);
  void FinishTour();

  DemoConfig config_;
  Random rng_;
  // Draws of its own for the fixes of orders: they leave every other draw,
  // and so the rest of the company, as it was.
  Random fix_rng_;
  DemoPeople people_;  // names, e-mails, phones, remarks: their own randomness (tools/demo_people.h)
  int64_t start_, end_, now_ = 0;
  uint64_t seq_ = 0;
  uint64_t emitted_ = 0;
  std::priority_queue<Task, std::vector<Task>, std::greater<Task>> queue_;
  std::deque<Event> ready_;
  bool finished_ = false;

  std::vector<Staff> staff_;
  std::vector<Customer> customers_;
  std::vector<Request> requests_;
  std::vector<Deal> deals_;
  std::vector<Commitment> commitments_;
  struct Fix {
    int customer;
    std::string target;  // the order.placed's id
    bool retract;
    int64_t cents;  // the corrected value
  };
  std::vector<Fix> fixes_;
  int teams_ = 1;
  int leaver_ = -1;
  int head_ = -1;  // the head of sales
  int dpo_ = -1;   // the data protection officer: erasures and legal holds
  std::set<std::string> privacy_subjects_;  // "<customer index>" already erased or held
  int next_handover_ = 1, next_export_ = 1, next_order_ = 1, next_interaction_ = 1;
  DemoTour tour_;
};

DemoCompany::Impl::Impl(const DemoConfig& c)
    : config_(c), rng_(c.seed), fix_rng_(c.seed ^ 0x66697865732121ULL), people_(c.seed), start_(c.end.value() - static_cast<int64_t>(c.years) * kDaysPerYear * kDay),
      end_(c.end.value()) {
  start_ -= start_ % kDay;
  now_ = start_;
  teams_ = std::clamp(c.staff / kStaffPerTeam, 1, kMaxTeams);

  // Staff: one manager per team, the rest account executives spread over
  // the teams. Diligence and speed vary: some log little, some answer slowly.
  for (int i = 0; i < c.staff; ++i) {
    Staff s;
    s.number = i + 1;
    s.team = i % teams_;
    s.manager = i < teams_;
    s.role = s.manager ? "sales_manager" : "account_executive";
    s.diligence = rng_.Chance(0.2) ? 0.15 + 0.2 * rng_.Uniform() : 0.8 + 0.2 * rng_.Uniform();
    const double u = rng_.Uniform();
    s.response_hours = u < 0.3 ? 3 : (u < 0.85 ? 20 : 96);
    staff_.push_back(s);
    Schedule(start_ + 5 * kHour + i * kMinute, TaskKind::kStaffJoin, i);
  }
  // The head of sales: in no team, owns nothing, reads across the company
  // (the tour's queries run as them). Added without drawing on the random
  // sequence, so the rest of the company is as before.
  {
    Staff head;
    head.number = c.staff + 1;
    head.team = -1;
    head.manager = true;
    head.role = "head_of_sales";
    staff_.push_back(head);
    head_ = static_cast<int>(staff_.size()) - 1;
    tour_.reader = StaffId(head);
    Schedule(start_ + 5 * kHour + c.staff * kMinute, TaskKind::kStaffJoin, head_);
  }
  // The data protection officer, likewise outside the random sequence: they
  // erase the people who ask (kErasures of them, spread over the years) and
  // place one legal hold, which later blocks an erasure (cli_demo.cc).
  {
    Staff dpo;
    dpo.number = c.staff + 2;
    dpo.team = -1;
    dpo.manager = true;
    dpo.role = "data_protection_officer";
    staff_.push_back(dpo);
    dpo_ = static_cast<int>(staff_.size()) - 1;
    tour_.dpo = StaffId(dpo);
    Schedule(start_ + 5 * kHour + (c.staff + 1) * kMinute, TaskKind::kStaffJoin, dpo_);
    const int64_t span = end_ - start_;
    Schedule(WorkTimeOnDay(start_ + span / 2 - (span / 2) % kDay), TaskKind::kHold, 0);
    for (int i = 0; i < kErasures; ++i) {
      const int64_t at = start_ + span * (3 + 2 * i) / (2 * kErasures + 3);
      Schedule(WorkTimeOnDay(at - at % kDay), TaskKind::kErase, i);
    }
  }
  // The leaver: an account executive of the first team who logs diligently.
  leaver_ = teams_;
  staff_[leaver_].diligence = 0.9;
  tour_.leaver = StaffId(staff_[leaver_]);
  const int64_t announce_day = end_ - kLeaverAnnounceDaysBeforeEnd * kDay;
  Schedule(announce_day + 9 * kHour, TaskKind::kAnnounce, leaver_);

  // Two promotions at random moments.
  for (int i = 0; i < 2; ++i) {
    const int64_t at = WorkTime(start_ + rng_.Between(60, c.years * kDaysPerYear - 60) * kDay);
    Schedule(at, TaskKind::kRoleChange, static_cast<int>(teams_ + 1 + rng_.Below(c.staff - teams_ - 1)));
  }

  // Customers: most migrated from the old CRM on the first morning, the
  // rest registered over the years as prospects.
  const int migrated = static_cast<int>(c.customers * kMigratedShare);
  for (int i = 0; i < c.customers; ++i) {
    Customer cu;
    cu.number = 1001 + i;
    const double u = rng_.Uniform();
    cu.activity = u < 0.2 ? 0.3 : (u < 0.8 ? 1.0 : 2.5);
    cu.migrated = i < migrated;
    if (rng_.Chance(kSilentShare)) cu.silent_from = end_ - rng_.Between(120, 300) * kDay;
    customers_.push_back(cu);
    if (cu.migrated) {
      Schedule(start_ + 6 * kHour + i * 2 * kSecond, TaskKind::kRegister, i);
    } else {
      Schedule(WorkTime(start_ + rng_.Between(7, c.years * kDaysPerYear - 30) * kDay), TaskKind::kRegister, i);
    }
  }
  Schedule(start_, TaskKind::kDay, 0);
}

int64_t DemoCompany::Impl::WorkTime(int64_t t) {
  int64_t day = t - t % kDay;
  const int64_t in_day = t - day;
  if (in_day >= 18 * kHour) day += kDay;
  while (Weekday(day) >= 5) day += kDay;
  if (day != t - t % kDay || in_day < 8 * kHour) return WorkTimeOnDay(day);
  return t;
}

// An erasure or a legal hold by the data protection officer, on the first
// contact of a customer picked without the random sequence (so the rest of
// the company is as it would be without them).
void DemoCompany::Impl::Privacy(TaskKind kind, int which) {
  if (!Active(dpo_) || customers_.empty()) return;
  const size_t n = customers_.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t c = (static_cast<size_t>(which + 1) * 7919 + (kind == TaskKind::kHold ? 4241 : 0) + k * 104729) % n;
    Customer& cu = customers_[c];
    if (!cu.registered || cu.next_contact < 1 || !privacy_subjects_.insert(std::to_string(c)).second) continue;
    const std::string stream = CustomerId(cu);
    const std::string contact = fmt::format("contact-con-{}-1", cu.number);
    const std::string year = FormatRfc3339(Timestamp(now_)).substr(0, 4);
    if (kind == TaskKind::kHold) {
      tour_.hold_id = "hold-" + year + "-001";
      tour_.held_subject = stream + "/" + contact;
      Emit(stream, "subject.hold_placed", StaffId(staff_[dpo_]),
           JsonObject()
               .Str("subject", contact)
               .Str("hold_id", tour_.hold_id)
               .Str("reason", "dispute over the service contract: their correspondence is evidence")
               .Done());
      return;
    }
    cu.erased_contacts.insert(1);
    tour_.erased_subjects.push_back(stream + "/" + contact);
    Emit(stream, "subject.erased", StaffId(staff_[dpo_]),
         JsonObject()
             .Str("subject", contact)
             .Str("reason", "data_subject_request")
             .Str("request_ref", fmt::format("DSR-{}-{:03}", year, which + 1))
             .Str("details", "the person asked to be erased")
             .Done());
    return;
  }
}

int DemoCompany::Impl::ManagerOf(int team) const {
  for (int i = 0; i < static_cast<int>(staff_.size()); ++i) {
    if (staff_[i].manager && staff_[i].team == team && Active(i)) return i;
  }
  return -1;
}

int DemoCompany::Impl::PickServed(int s) {
  const Staff& st = staff_[s];
  if (!st.portfolio.empty()) return st.portfolio[rng_.Below(st.portfolio.size())];
  if (!st.manager || st.team < 0) return -1;
  // A manager reads their team's customers.
  std::vector<int> members;
  for (int i = 0; i < static_cast<int>(staff_.size()); ++i) {
    if (i != s && staff_[i].team == st.team && !staff_[i].portfolio.empty()) members.push_back(i);
  }
  if (members.empty()) return -1;
  const Staff& m = staff_[members[rng_.Below(members.size())]];
  return m.portfolio[rng_.Below(m.portfolio.size())];
}

int DemoCompany::Impl::PickOwner(int team, int except) {
  int best = -1;
  for (int pass = 0; pass < 2 && best < 0; ++pass) {
    for (int i = 0; i < static_cast<int>(staff_.size()); ++i) {
      const Staff& s = staff_[i];
      if (i == except || s.manager || s.announced || !Active(i)) continue;
      if (pass == 0 && s.team != team) continue;
      if (best < 0 || s.portfolio.size() < staff_[best].portfolio.size()) best = i;
    }
  }
  return best;
}

void DemoCompany::Impl::Emit(std::string stream, std::string_view type, std::string actor, std::string data,
                             std::string personal) {
  Event e;
  // The id: SHA-256("custodian-demo" | seed | counter), as a version-4 UUID.
  std::string key = "custodian-demo";
  for (uint64_t v : {config_.seed, emitted_ + ready_.size()}) {
    for (int i = 0; i < 8; ++i) key.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  const Hash256 h = Sha256(key);
  std::array<uint8_t, EventId::kSize> b;
  std::copy_n(h.begin(), b.size(), b.begin());
  b[6] = (b[6] & 0x0F) | 0x40;
  b[8] = (b[8] & 0x3F) | 0x80;
  e.id = EventId(b);
  e.stream = std::move(stream);
  e.type = std::string(type);
  e.actor = std::move(actor);
  e.occurred_at = Timestamp(now_);
  e.source = "crm";
  e.data = std::move(data);
  e.personal_plain = std::move(personal);
  ready_.push_back(std::move(e));
}

bool DemoCompany::Impl::Next(Event* out) {
  while (ready_.empty()) {
    if (queue_.empty()) {
      if (!finished_) FinishTour();
      finished_ = true;
      return false;
    }
    const Task t = queue_.top();
    queue_.pop();
    now_ = t.at;
    Run(t);
  }
  *out = std::move(ready_.front());
  ready_.pop_front();
  ++emitted_;
  return true;
}

void DemoCompany::Impl::SetOwner(int c, int s, std::string_view reason, const std::string& handover_id,
                                 const std::string& actor) {
  Customer& cu = customers_[c];
  JsonObject d;
  d.Str("owner", StaffId(staff_[s]));
  if (cu.owner >= 0) {
    d.Str("previous_owner", StaffId(staff_[cu.owner]));
    auto& p = staff_[cu.owner].portfolio;
    p.erase(std::find(p.begin(), p.end(), c));
  }
  d.Str("reason", reason);
  if (!handover_id.empty()) d.Str("handover_id", handover_id);
  Emit(CustomerId(cu), "customer.owner_assigned", actor, d.Done());
  cu.owner = s;
  staff_[s].portfolio.push_back(c);
}

// Moves the open requests assigned to `from` to their customer's owner,
// leaving `keep_share` of them behind (orphans: assigned to a leaver).
void DemoCompany::Impl::ReassignRequests(int from, std::string_view reason, double keep_share,
                                         const std::string& actor) {
  for (Request& r : requests_) {
    if (!r.open || r.assignee != from) continue;
    if (rng_.Chance(keep_share)) continue;
    int to = customers_[r.customer].owner;
    if (to == from || !Active(to)) to = PickOwner(staff_[from].team, from);
    if (to < 0) continue;
    Emit(CustomerId(customers_[r.customer]), "request.assigned", actor,
         JsonObject()
             .Str("request_id", "req-" + std::to_string(r.number))
             .Str("assignee", StaffId(staff_[to]))
             .Str("previous_assignee", StaffId(staff_[from]))
             .Str("reason", reason)
             .Done());
    r.assignee = to;
  }
}

// Moves the open commitments `from` answers for to their customer's owner
// (commitment.reassigned). With `keep_some`, about four in ten stay behind
// (orphans), chosen by the commitment's number so that no draw changes.
void DemoCompany::Impl::ReassignCommitments(int from, std::string_view reason, bool keep_some,
                                            const std::string& handover_id, const std::string& actor) {
  for (Commitment& cm : commitments_) {
    if (!cm.open || cm.owner != from) continue;
    if (keep_some && cm.number % 5 < 2) continue;
    int to = customers_[cm.customer].owner;
    if (to == from || !Active(to)) to = PickOwner(staff_[from].team, from);
    if (to < 0) continue;
    JsonObject d;
    d.Str("commitment_id", "com-" + std::to_string(cm.number))
        .Str("owner", StaffId(staff_[to]))
        .Str("previous_owner", StaffId(staff_[from]))
        .Str("reason", reason);
    if (!handover_id.empty()) d.Str("handover_id", handover_id);
    Emit(CustomerId(customers_[cm.customer]), "commitment.reassigned", actor, d.Done());
    cm.owner = to;
  }
}

void DemoCompany::Impl::Register(int c) {
  Customer& cu = customers_[c];
  const int owner = PickOwner(static_cast<int>(rng_.Below(teams_)));
  if (owner < 0) return;
  cu.registered = true;
  cu.prospect = !cu.migrated;
  const std::string actor = cu.migrated ? "system:crm-sync" : StaffId(staff_[owner]);
  JsonObject d;
  if (rng_.Chance(0.1)) {
    d.Str("kind", "individual");
  } else {
    const char* stem = rng_.Pick(kNameStems);  // one draw per statement: argument order is unspecified
    const std::string name = fmt::format("{} {} {}", stem, rng_.Pick(kNameKinds), cu.number);
    cu.domain = DemoPeople::CompanyDomain(name);
    d.Str("name", name);
  }
  d.Str("status", cu.prospect ? "prospect" : "active")
      .Str("segment", rng_.Pick(kSegments))
      .Str("industry", rng_.Pick(kIndustries));
  cu.country = rng_.Pick(kCountries);  // drawn where it always was: after the industry, before the external id
  d.Str("country", cu.country).Str("external_id", fmt::format("0015g{:08X}", rng_.Below(1ULL << 32)));
  Emit(CustomerId(cu), "customer.registered", actor, d.Done());
  SetOwner(c, owner, "initial", "", actor);
  Emit(CustomerId(cu), "customer.team_changed", actor, JsonObject().Str("team", kTeams[staff_[owner].team]).Done());
  const int contacts = static_cast<int>(1 + rng_.Below(3));
  for (int i = 0; i < contacts; ++i) {
    Emit(CustomerId(cu), "contact.added", actor,
         JsonObject()
             .Str("contact_id", fmt::format("con-{}-{}", cu.number, ++cu.next_contact))
             .Str("role", rng_.Pick(kContactRoles))
             .Bool("key_contact", i == 0)
             .Str("preferred_channel", rng_.Pick(kChannels))
             .Done(),
         people_.NewContact(cu.domain, cu.country));
  }
  if (cu.prospect) Schedule(now_ + rng_.Between(1, 10) * kDay, TaskKind::kDealOpen, c);
  ++tour_.customers_registered;
}

void DemoCompany::Impl::Announce(int s) {
  Staff& st = staff_[s];
  if (!Active(s) || st.announced) return;
  const int successor = PickOwner(st.team, s);
  if (successor < 0) return;  // nobody could take over: they stay
  st.announced = true;
  st.announced_at = now_;
  const bool leaver = s == leaver_;
  const int64_t effective = (now_ - now_ % kDay) + (leaver ? kLeaverNoticeDays : rng_.Between(14, 35)) * kDay;
  const char* reason = leaver ? "resignation" : (rng_.Chance(0.8) ? "resignation" : "retirement");
  JsonObject d;
  d.Time("effective_at", effective).Str("reason", reason).Str("successor", StaffId(staff_[successor]));
  Emit(StaffId(st), "staff.departure_announced", "system:hr-sync", d.Done());
  if (leaver) {
    tour_.leaver_successor = StaffId(staff_[successor]);
    tour_.leaver_announced_at = Timestamp(now_);
  }
  st.direct_departure = !leaver && rng_.Chance(0.3);

  // A replacement joins the team during the notice period.
  Staff hire;
  hire.number = static_cast<int>(staff_.size()) + 1;
  hire.team = st.team;
  hire.role = "account_executive";
  hire.diligence = rng_.Chance(0.2) ? 0.2 : 0.9;
  hire.response_hours = rng_.Chance(0.3) ? 96 : 20;
  staff_.push_back(hire);
  Schedule(WorkTime(now_ + rng_.Between(3, 12) * kDay), TaskKind::kStaffJoin, static_cast<int>(staff_.size()) - 1);
  Schedule(WorkTime(effective - rng_.Between(2, 4) * kDay), TaskKind::kHandover, s);
  Schedule(effective, TaskKind::kDepart, s);
}

void DemoCompany::Impl::Handover(int s) {
  Staff& st = staff_[s];
  if (!Active(s) || st.handed_over || st.direct_departure) return;
  st.handed_over = true;
  const int manager = ManagerOf(st.team);
  const std::string actor = manager >= 0 && manager != s ? StaffId(staff_[manager]) : "system:crm-sync";
  const std::string id = "ho-" + std::to_string(next_handover_++);
  std::vector<int> customers = st.portfolio;
  std::sort(customers.begin(), customers.end());

  // Balanced across the team: each customer to whoever holds the fewest.
  std::vector<std::pair<int, int>> plan;
  std::vector<size_t> load(staff_.size());
  for (size_t i = 0; i < staff_.size(); ++i) load[i] = staff_[i].portfolio.size();
  for (int c : customers) {
    int best = -1;
    for (int pass = 0; pass < 2 && best < 0; ++pass) {
      for (int i = 0; i < static_cast<int>(staff_.size()); ++i) {
        if (i == s || staff_[i].manager || staff_[i].announced || !Active(i)) continue;
        if (pass == 0 && staff_[i].team != st.team) continue;
        if (best < 0 || load[i] < load[best]) best = i;
      }
    }
    if (best < 0) continue;
    ++load[best];
    plan.emplace_back(c, best);
  }
  int open_requests = 0, open_deals = 0, open_commitments = 0;
  for (const Request& r : requests_) open_requests += r.open && r.assignee == s;
  for (const Deal& dl : deals_) open_deals += dl.open && customers_[dl.customer].owner == s;
  for (const Commitment& cm : commitments_) open_commitments += cm.open && cm.owner == s;
  std::string assignments = "[";
  for (const auto& [c, to] : plan) {
    if (assignments.size() > 1) assignments += ',';
    assignments += JsonObject().Str("customer", CustomerId(customers_[c])).Str("to", StaffId(staff_[to])).Done();
  }
  assignments += "]";
  Emit("system", "handover.planned", actor,
       JsonObject()
           .Str("handover_id", id)
           .Str("from", StaffId(st))
           .Raw("assignments", assignments)
           .Str("reason", "departure")
           .Time("due_at", now_ + kDay)
           .Num("open_deals", open_deals)
           .Num("open_requests", open_requests)
           .Num("open_commitments", open_commitments)
           .Done());
  for (const auto& [c, to] : plan) SetOwner(c, to, "handover", id, actor);
  ReassignRequests(s, "handover " + id, 0, actor);
  ReassignCommitments(s, "handover", /*keep_some=*/false, id, actor);
  Emit("system", "handover.completed", actor,
       JsonObject().Str("handover_id", id).Num("transferred", static_cast<int64_t>(plan.size())).Raw("orphans", "[]").Done());
  if (s == leaver_) {
    tour_.handover_id = id;
    // The handed-over customer to show: the busiest one.
    int best = -1;
    for (const auto& [c, to] : plan) {
      if (best < 0 || customers_[c].activity > customers_[best].activity) best = c;
    }
    if (best >= 0) tour_.handed_over_customer = CustomerId(customers_[best]);
  }
}

void DemoCompany::Impl::Depart(int s) {
  Staff& st = staff_[s];
  if (!Active(s)) return;
  // Whatever the leaver still holds moves now (all of it without a plan).
  const std::string actor = "system:crm-sync";
  std::vector<int> customers = st.portfolio;
  std::sort(customers.begin(), customers.end());
  for (int c : customers) {
    const int to = PickOwner(st.team, s);
    if (to < 0) break;
    SetOwner(c, to, "departure", "", actor);
  }
  ReassignRequests(s, "owner left", st.direct_departure ? 0.4 : 0, actor);
  ReassignCommitments(s, "owner left", st.direct_departure, "", actor);
  Emit(StaffId(st), "staff.departed", "system:hr-sync", JsonObject().Str("reason", "resignation").Done());
  st.departed = true;
  ++tour_.staff_departed;
}

void DemoCompany::Impl::Export(int s) {
  Staff& st = staff_[s];
  if (!Active(s)) return;
  const bool binge = s == leaver_ && st.announced && !st.handed_over;
  std::vector<int> chosen;
  if (binge) {
    chosen = st.portfolio;
    std::sort(chosen.begin(), chosen.end());
  } else {
    const size_t want = 3 + rng_.Below(10);
    for (size_t i = 0; i < want; ++i) {
      const int c = PickServed(s);
      if (c >= 0 && customers_[c].registered) chosen.push_back(c);
    }
    std::sort(chosen.begin(), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  }
  if (chosen.empty()) return;
  const uint64_t records = chosen.size() * (binge ? 40 + rng_.Below(40) : 5 + rng_.Below(30));
  std::string list = "[";
  for (int c : chosen) {
    if (list.size() > 1) list += ',';
    list += JsonQuote(CustomerId(customers_[c]));
  }
  list += "]";
  Emit("access-" + StaffId(st), "data.exported", StaffId(st),
       JsonObject()
           .Raw("customers", list)
           .Num("records", static_cast<int64_t>(records))
           .Str("format", binge || rng_.Chance(0.5) ? "xlsx" : "csv")
           .Str("scope", binge ? "contacts" : "portfolio")
           .Str("export_id", "exp-" + std::to_string(next_export_++))
           .Str("interface", "web")
           .Done());
  (st.announced ? st.exported_after : st.exported_before) += records;
}

void DemoCompany::Impl::PlanDay(int64_t day) {
  Schedule(day + kDay, TaskKind::kDay);
  if (Weekday(day) >= 5) return;
  const double turnover = kTurnoverPerYear / kWorkdaysPerYear;
  for (int i = 0; i < static_cast<int>(staff_.size()); ++i) {
    const Staff& s = staff_[i];
    if (!Active(i) || i == head_ || i == dpo_) continue;
    for (int v = rng_.Poisson(s.manager ? kViewsPerDay * 1.5 : kViewsPerDay); v > 0; --v) {
      Schedule(WorkTimeOnDay(day), TaskKind::kView, i);
    }
    const bool binge = i == leaver_ && s.announced && !s.handed_over;
    if (binge) {
      for (int x = static_cast<int>(2 + rng_.Below(3)); x > 0; --x) Schedule(WorkTimeOnDay(day), TaskKind::kExport, i);
    } else if (rng_.Chance(kExportPerDay)) {
      Schedule(WorkTimeOnDay(day), TaskKind::kExport, i);
    }
    // Other departures, not in the leaver's team's last months.
    if (!s.manager && !s.announced && i != leaver_ && rng_.Chance(turnover) &&
        day < end_ - (kLeaverAnnounceDaysBeforeEnd + 30) * kDay) {
      Schedule(WorkTimeOnDay(day), TaskKind::kAnnounce, i);
    }
  }
  for (int c = 0; c < static_cast<int>(customers_.size()); ++c) {
    const Customer& cu = customers_[c];
    if (!cu.registered || cu.churned || day >= cu.silent_from || cu.owner < 0) continue;
    const double w = cu.activity * (cu.prospect ? 0.4 : 1.0);
    const double logged = staff_[cu.owner].diligence;
    if (rng_.Chance(kInteractionPerDay * w * logged)) Schedule(WorkTimeOnDay(day), TaskKind::kInteraction, c);
    if (rng_.Chance(kNotePerDay * w * logged)) Schedule(WorkTimeOnDay(day), TaskKind::kNote, c);
    if (rng_.Chance(kRequestPerDay * w)) Schedule(WorkTimeOnDay(day), TaskKind::kRequestOpen, c);
    if (rng_.Chance(kContactPerDay)) Schedule(WorkTimeOnDay(day), TaskKind::kContact, c);
    if (cu.prospect) continue;
    if (rng_.Chance(kCommitmentPerDay * w)) Schedule(WorkTimeOnDay(day), TaskKind::kCommitmentMake, c);
    if (rng_.Chance(kDealPerDay * w)) Schedule(WorkTimeOnDay(day), TaskKind::kDealOpen, c);
    if (rng_.Chance(kOrderPerDay * w)) Schedule(WorkTimeOnDay(day), TaskKind::kOrder, c);
    if (rng_.Chance(kChurnPerYear / kWorkdaysPerYear)) Schedule(WorkTimeOnDay(day), TaskKind::kChurn, c);
  }
}

void DemoCompany::Impl::Run(const Task& t) {
  switch (t.kind) {
    case TaskKind::kDay:
      PlanDay(t.at);
      return;
    case TaskKind::kStaffJoin: {
      Staff& s = staff_[t.a];
      const int manager = ManagerOf(s.team);
      JsonObject d;
      d.Str("role", s.role);
      if (s.team >= 0) d.Str("team", kTeams[s.team]);
      if (manager >= 0 && !s.manager) d.Str("manager", StaffId(staff_[manager]));
      Emit(StaffId(s), "staff.joined", "system:hr-sync", d.Done());
      s.joined = true;
      s.joined_at = now_;
      ++tour_.staff_joined;
      return;
    }
    case TaskKind::kRoleChange: {
      Staff& s = staff_[t.a];
      if (!Active(t.a) || s.manager || s.role != "account_executive") return;
      Emit(StaffId(s), "staff.role_changed", "system:hr-sync",
           JsonObject().Str("role", "senior_account_executive").Str("previous_role", s.role).Done());
      s.role = "senior_account_executive";
      return;
    }
    case TaskKind::kAnnounce: return Announce(t.a);
    case TaskKind::kHandover: return Handover(t.a);
    case TaskKind::kDepart: return Depart(t.a);
    case TaskKind::kRegister: return Register(t.a);
    case TaskKind::kView: {
      const Staff& s = staff_[t.a];
      if (!Active(t.a)) return;
      std::vector<std::string> ids;
      for (int n = static_cast<int>(1 + rng_.Below(3)); n > 0; --n) {
        const int c = PickServed(t.a);
        if (c >= 0 && customers_[c].registered) ids.push_back(CustomerId(customers_[c]));
      }
      if (ids.empty()) return;
      std::string list = "[";
      for (const std::string& id : ids) list += (list.size() > 1 ? "," : "") + JsonQuote(id);
      Emit("access-" + StaffId(s), "data.viewed", StaffId(s),
           JsonObject().Raw("customers", list + "]").Str("view", rng_.Pick(kViews)).Num("count", static_cast<int64_t>(ids.size())).Str("interface", "web").Done());
      return;
    }
    case TaskKind::kExport: return Export(t.a);
    case TaskKind::kErase: case TaskKind::kHold: return Privacy(t.kind, t.a);
    default: break;
  }

  // Customer work: done by the customer's owner, unless noted.
  auto customer_of = [&]() -> Customer& {
    switch (t.kind) {
      case TaskKind::kRequestAssign: case TaskKind::kRequestRespond: case TaskKind::kRequestResolve:
      case TaskKind::kRequestReopen: return customers_[requests_[t.a].customer];
      case TaskKind::kDealStage: return customers_[deals_[t.a].customer];
      case TaskKind::kCommitmentClose: return customers_[commitments_[t.a].customer];
      case TaskKind::kFix: return customers_[fixes_[t.a].customer];
      default: return customers_[t.a];
    }
  };
  Customer& cu = customer_of();
  if (!Active(cu.owner)) return;
  const std::string stream = CustomerId(cu);
  const std::string owner = StaffId(staff_[cu.owner]);
  switch (t.kind) {
    case TaskKind::kInteraction: {
      const bool inbound = rng_.Chance(0.35);
      const char* channel = rng_.Pick(kChannels);
      JsonObject d;
      d.Str("channel", channel).Str("direction", inbound ? "inbound" : "outbound").Str("summary", rng_.Pick(kInteractionSummaries));
      d.Str("interaction_id", "int-" + std::to_string(next_interaction_++));
      std::string notes;  // about the person spoken with, so only when one is named
      if (cu.next_contact > 0) {
        const int contact = static_cast<int>(1 + rng_.Below(cu.next_contact));
        d.Str("contact_id", fmt::format("con-{}-{}", cu.number, contact));
        notes = people_.ConversationNotes(kPersonalNotesShare);
        if (cu.erased_contacts.count(contact)) notes.clear();  // nothing personal about an erased person
      }
      if (std::string_view(channel) != "email" && std::string_view(channel) != "chat") {
        d.Num("duration_s", 300 + static_cast<int64_t>(rng_.Below(3300)));
      }
      Emit(stream, "interaction.logged", owner, d.Done(), std::move(notes));
      cu.last_contact = now_;
      return;
    }
    case TaskKind::kNote:
      Emit(stream, "note.added", owner, JsonObject().Str("text", rng_.Pick(kNotes)).Done());
      return;
    case TaskKind::kContact:
      Emit(stream, "contact.added", owner,
           JsonObject()
               .Str("contact_id", fmt::format("con-{}-{}", cu.number, ++cu.next_contact))
               .Str("role", rng_.Pick(kContactRoles))
               .Str("preferred_channel", rng_.Pick(kChannels))
               .Done(),
           people_.NewContact(cu.domain, cu.country));
      return;
    case TaskKind::kChurn:
      if (cu.churned) return;
      Emit(stream, "customer.updated", owner, JsonObject().Str("status", "churned").Done());
      cu.churned = true;
      ++tour_.customers_churned;
      if (tour_.churned_customer.empty() && cu.had_order) tour_.churned_customer = stream;
      return;
    case TaskKind::kRequestOpen: {
      Request r{t.a, static_cast<int>(requests_.size()) + 9001};
      const double u = rng_.Uniform();
      const char* priority = u < 0.1 ? "urgent" : (u < 0.3 ? "high" : (u < 0.9 ? "normal" : "low"));
      const int64_t due = now_ + (u < 0.1 ? 4 * kHour : (u < 0.9 ? kDay : 3 * kDay));
      JsonObject d;
      d.Str("request_id", "req-" + std::to_string(r.number)).Str("title", rng_.Pick(kRequestTitles));
      d.Str("channel", rng_.Chance(0.6) ? "email" : "call").Str("priority", priority).Str("category", rng_.Pick(kRequestCategories));
      d.Time("due_at", due);
      Emit(stream, "request.opened", rng_.Chance(staff_[cu.owner].diligence) ? owner : "system:crm-sync", d.Done());
      requests_.push_back(r);
      Schedule(now_ + rng_.Between(5, 90) * kMinute, TaskKind::kRequestAssign, static_cast<int>(requests_.size()) - 1);
      return;
    }
    case TaskKind::kRequestAssign: {
      Request& r = requests_[t.a];
      int to = cu.owner;
      if (rng_.Chance(0.15)) {
        const int other = PickOwner(staff_[cu.owner].team, cu.owner);
        if (other >= 0) to = other;
      }
      const int manager = ManagerOf(staff_[cu.owner].team);
      JsonObject d;
      d.Str("request_id", "req-" + std::to_string(r.number)).Str("assignee", StaffId(staff_[to]));
      Emit(stream, "request.assigned", manager >= 0 ? StaffId(staff_[manager]) : "system:crm-sync", d.Done());
      r.assignee = to;
      // A few are never answered; slow staff leave more unanswered.
      const bool slow = staff_[to].response_hours > 48;
      if (rng_.Chance(slow ? 0.15 : 0.05)) return;
      Schedule(WorkTime(now_ + static_cast<int64_t>(rng_.Exponential(staff_[to].response_hours) * kHour)),
               TaskKind::kRequestRespond, t.a);
      return;
    }
    case TaskKind::kRequestRespond: {
      Request& r = requests_[t.a];
      if (!r.open || !Active(r.assignee)) return;
      Emit(stream, "request.responded", StaffId(staff_[r.assignee]),
           JsonObject().Str("request_id", "req-" + std::to_string(r.number)).Str("channel", rng_.Chance(0.7) ? "email" : "call").Str("summary", "answered the request").Done());
      cu.last_contact = now_;
      if (!r.responded && rng_.Chance(0.93)) {
        Schedule(WorkTime(now_ + static_cast<int64_t>(rng_.Exponential(48) * kHour)), TaskKind::kRequestResolve, t.a);
      }
      r.responded = true;
      return;
    }
    case TaskKind::kRequestResolve: {
      Request& r = requests_[t.a];
      if (!r.open) return;
      const int by = Active(r.assignee) ? r.assignee : cu.owner;
      Emit(stream, "request.resolved", StaffId(staff_[by]),
           JsonObject().Str("request_id", "req-" + std::to_string(r.number)).Str("resolution", "customer confirmed").Done());
      r.open = false;
      if (rng_.Chance(0.04)) Schedule(WorkTime(now_ + static_cast<int64_t>(rng_.Exponential(6 * 24) * kHour)), TaskKind::kRequestReopen, t.a);
      return;
    }
    case TaskKind::kRequestReopen: {
      Request& r = requests_[t.a];
      if (r.open) return;
      Emit(stream, "request.reopened", owner,
           JsonObject().Str("request_id", "req-" + std::to_string(r.number)).Str("reason", "the customer came back with a follow-up question").Done());
      r.open = true;
      if (Active(r.assignee)) {
        Schedule(WorkTime(now_ + static_cast<int64_t>(rng_.Exponential(staff_[r.assignee].response_hours) * kHour)),
                 TaskKind::kRequestResolve, t.a);
      }
      return;
    }
    case TaskKind::kDealOpen: {
      Deal dl{t.a, static_cast<int>(deals_.size()) + 5001};
      const int64_t value = 1000 * (5 + static_cast<int64_t>(rng_.Below(120)));
      Emit(stream, "deal.opened", owner,
           JsonObject()
               .Str("deal_id", "deal-" + std::to_string(dl.number))
               .Str("title", rng_.Pick(kDealTitles))
               .Num("value", value)
               .Str("currency", "EUR")
               .Str("stage", kStages[0])
               .Num("probability", 20)
               .Time("expected_close_at", now_ + 60 * kDay - now_ % kDay)
               .Done());
      deals_.push_back(dl);
      Schedule(WorkTime(now_ + static_cast<int64_t>(rng_.Exponential(14 * 24) * kHour) + kDay), TaskKind::kDealStage,
               static_cast<int>(deals_.size()) - 1);
      return;
    }
    case TaskKind::kDealStage: {
      Deal& dl = deals_[t.a];
      if (!dl.open) return;
      const std::string deal_id = "deal-" + std::to_string(dl.number);
      const bool close = dl.stage + 1 >= static_cast<int>(kStages.size()) || rng_.Chance(0.15);
      if (!close) {
        Emit(stream, "deal.stage_changed", owner,
             JsonObject()
                 .Str("deal_id", deal_id)
                 .Str("stage", kStages[dl.stage + 1])
                 .Str("previous_stage", kStages[dl.stage])
                 .Num("probability", 20 + 25 * (dl.stage + 1))
                 .Done());
        ++dl.stage;
        Schedule(WorkTime(now_ + static_cast<int64_t>(rng_.Exponential(14 * 24) * kHour) + kDay), TaskKind::kDealStage, t.a);
        return;
      }
      dl.open = false;
      const bool won = rng_.Chance(dl.stage >= 2 ? 0.65 : 0.3);
      if (!won) {
        Emit(stream, "deal.lost", owner,
             JsonObject().Str("deal_id", deal_id).Str("reason", "price").Str("competitor", rng_.Pick(kCompetitors)).Done());
        if (cu.prospect) {
          Emit(stream, "customer.updated", owner, JsonObject().Str("status", "inactive").Done());
          cu.churned = true;
        }
        return;
      }
      const int64_t value = 1000 * (5 + static_cast<int64_t>(rng_.Below(120)));
      Emit(stream, "deal.won", owner, JsonObject().Str("deal_id", deal_id).Num("value", value).Str("currency", "EUR").Done());
      Emit(stream, "order.placed", owner,
           JsonObject()
               .Str("order_id", "ord-" + std::to_string(7000 + next_order_++))
               .Num("value", value)
               .Str("currency", "EUR")
               .Str("deal_id", deal_id)
               .Time("renewal_at", now_ - now_ % kDay + kDaysPerYear * kDay)
               .Done());
      cu.had_order = true;
      if (cu.prospect) {
        Emit(stream, "customer.updated", owner, JsonObject().Str("status", "active").Done());
        cu.prospect = false;
      }
      return;
    }
    case TaskKind::kOrder: {
      const int64_t value = 500 * (1 + static_cast<int64_t>(rng_.Below(60)));
      Emit(stream, "order.placed", owner,
           JsonObject()
               .Str("order_id", "ord-" + std::to_string(7000 + next_order_++))
               .Num("value", value)
               .Str("currency", "EUR")
               .Done());
      cu.had_order = true;
      if (fix_rng_.Chance(kOrderFixedShare)) {
        fixes_.push_back(Fix{t.a, ready_.back().id.ToString(), fix_rng_.Chance(kOrderFixRetractShare), value * 98});
        Schedule(now_ + fix_rng_.Between(1, 10) * kDay, TaskKind::kFix, static_cast<int>(fixes_.size() - 1));
      }
      return;
    }
    case TaskKind::kFix: {
      const Fix& f = fixes_[t.a];
      if (f.retract) {
        Emit(stream, "event.retracted", owner,
             JsonObject().Str("event_id", f.target).Str("reason", "entered twice: by e-mail and through the CRM").Done());
        ++tour_.orders_retracted;
      } else {
        Emit(stream, "event.corrected", owner,
             JsonObject()
                 .Str("event_id", f.target)
                 .Str("reason", "the 2% early-payment discount was left out")
                 .Raw("corrected", JsonObject().Raw("value", fmt::format("{}.{:02}", f.cents / 100, f.cents % 100)).Done())
                 .Done());
        ++tour_.orders_corrected;
      }
      if (tour_.fixed_customer.empty()) tour_.fixed_customer = stream;
      return;
    }
    case TaskKind::kCommitmentMake: {
      const int64_t due = now_ - now_ % kDay + rng_.Between(3, 30) * kDay + 17 * kHour;
      // Diligent staff keep most promises on time; others let them slip.
      const double u = rng_.Uniform();
      const double on_time = 0.45 + 0.3 * staff_[cu.owner].diligence;
      const int outcome = u < on_time ? 0 : (u < on_time + 0.13 ? 1 : (u < on_time + 0.2 ? 2 : 3));
      Commitment cm{t.a, static_cast<int>(commitments_.size()) + 3001, cu.owner, due, outcome};
      Emit(stream, "commitment.made", owner,
           JsonObject()
               .Str("commitment_id", "com-" + std::to_string(cm.number))
               .Str("promise", rng_.Pick(kPromises))
               .Time("due_at", due)
               .Str("owner", owner)
               .Done());
      commitments_.push_back(cm);
      const int idx = static_cast<int>(commitments_.size()) - 1;
      if (outcome == 0 || outcome == 2) {
        Schedule(WorkTime(now_ + static_cast<int64_t>(rng_.Uniform() * static_cast<double>(due - now_))),
                 TaskKind::kCommitmentClose, idx);
      } else if (outcome == 1) {
        Schedule(WorkTime(due + static_cast<int64_t>(rng_.Exponential(8 * 24) * kHour)), TaskKind::kCommitmentClose, idx);
      }
      return;
    }
    case TaskKind::kCommitmentClose: {
      Commitment& cm = commitments_[t.a];
      if (!cm.open) return;
      const std::string by = Active(cm.owner) ? StaffId(staff_[cm.owner]) : owner;
      const std::string id = "com-" + std::to_string(cm.number);
      if (cm.outcome == 2) {
        Emit(stream, "commitment.cancelled", by, JsonObject().Str("commitment_id", id).Str("reason", "customer postponed; new date to be agreed").Done());
      } else {
        Emit(stream, "commitment.fulfilled", by, JsonObject().Str("commitment_id", id).Str("summary", "done as promised").Done());
      }
      cm.open = false;
      return;
    }
    default:
      return;
  }
}

void DemoCompany::Impl::FinishTour() {
  const Staff& l = staff_[leaver_];
  const double days_before = std::max<double>(1, static_cast<double>(l.announced_at - l.joined_at) / kDay);
  tour_.leaver_baseline_exported = static_cast<uint64_t>(static_cast<double>(l.exported_before) * 30 / days_before);
  tour_.leaver_after_exported = l.exported_after;
  // Overdue: the open commitment that is most overdue among the last 90
  // days, whose customer is still owned and active.
  int64_t best_due = INT64_MAX;
  for (const Commitment& cm : commitments_) {
    const Customer& cu = customers_[cm.customer];
    if (!cm.open || cu.churned || cm.due >= end_ || cm.due < end_ - 90 * kDay || cm.due >= best_due) continue;
    best_due = cm.due;
    tour_.overdue_customer = CustomerId(cu);
  }
  // Silent: owned, active, contacted once but not for the longest time.
  int64_t oldest = INT64_MAX;
  for (const Customer& cu : customers_) {
    if (!cu.registered || cu.churned || cu.prospect || cu.last_contact == 0 || cu.silent_from == INT64_MAX) continue;
    if (cu.last_contact < oldest) {
      oldest = cu.last_contact;
      tour_.silent_customer = CustomerId(cu);
    }
  }
  double slowest = 0, quietest = 2;
  for (int i = 0; i < static_cast<int>(staff_.size()); ++i) {
    const Staff& s = staff_[i];
    if (!Active(i) || s.manager || s.portfolio.empty()) continue;
    if (s.response_hours > slowest) {
      slowest = s.response_hours;
      tour_.slow_responder = StaffId(s);
    }
    if (s.diligence < quietest) {
      quietest = s.diligence;
      tour_.quiet_logger = StaffId(s);
    }
  }
}

DemoCompany::DemoCompany(const DemoConfig& config) : impl_(std::make_unique<Impl>(config)) {}
DemoCompany::~DemoCompany() = default;
bool DemoCompany::Next(Event* out) { return impl_->Next(out); }
uint64_t DemoCompany::emitted() const { return impl_->emitted_; }
double DemoCompany::progress() const {
  return std::clamp(static_cast<double>(impl_->now_ - impl_->start_) / static_cast<double>(impl_->end_ - impl_->start_),
                    0.0, 1.0);
}
Timestamp DemoCompany::start() const { return Timestamp(impl_->start_); }
const DemoTour& DemoCompany::tour() const { return impl_->tour_; }

}  // namespace custodian::demo
