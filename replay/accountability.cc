#include "replay/accountability.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "replay/customer.h"
#include "replay/payload_fields.h"

namespace json = boost::json;

namespace custodian {
namespace {

using payload::IsStaff;
using payload::Str;

struct RequestRecord {
  Timestamp opened_at;
  Timestamp opened_recorded_at;  // when the log recorded request.opened
  std::string opened_by;
  std::optional<Timestamp> assigned_at;
  std::string assignee;
  std::optional<Timestamp> first_response_at;
  std::string responded_by, responsible;
  int64_t response_entered_late = 0;  // EnteredLate of the first response
  std::optional<Timestamp> resolved_at;
  uint32_t reopened = 0;
};

enum class CommitmentState : int { kOpen = 0, kFulfilled = 1, kCancelled = 2 };

struct CommitmentRecord {
  std::string owner;
  Timestamp made_at, due_at;
  Timestamp made_recorded_at;  // when the log recorded commitment.made
  CommitmentState state = CommitmentState::kOpen;
  std::optional<Timestamp> closed_at;
  int64_t closed_entered_late = 0;  // EnteredLate of the fulfilment or cancellation
  // A due date that passed and that a correction then moved later
  // (NoteDueMoves): the first such, and when the log recorded the move.
  std::optional<Timestamp> due_moved_from, due_moved_at;
};

// How much later than it claims a step was entered (LaterThanClaimed).
int64_t EnteredLate(Timestamp opened_at, Timestamp opened_recorded_at, const Event& step) {
  return LaterThanClaimed(opened_at, opened_recorded_at, step.occurred_at, step.recorded_at);
}

Timestamp DueAt(const json::object& d, const Event& made) {
  return payload::Time(d, "due_at").value_or(made.occurred_at);
}

struct CustomerRecord {
  std::string owner;
  std::map<std::string, RequestRecord> requests;
  std::map<std::string, CommitmentRecord> commitments;
};

// A member of staff's teams: (from, team), by from.
using TeamIntervals = std::vector<std::pair<Timestamp, std::string>>;

// Stored as arrays to stay small:
//   request    [opened_at, opened_by, assigned_at|null, assignee, first_response_at|null,
//               responded_by, responsible, resolved_at|null, reopened, opened_recorded_at,
//               response_entered_late]
//   commitment [owner, made_at, due_at, state (0 open, 1 fulfilled, 2 cancelled), closed_at|null,
//               made_recorded_at, closed_entered_late, due_moved_from|null, due_moved_at|null]
json::value OptMicros(const std::optional<Timestamp>& t) { return payload::MicrosJson(t); }
std::optional<Timestamp> OptMicros(const json::value& v) {
  return v.is_null() ? std::nullopt : std::optional<Timestamp>(Timestamp(v.to_number<int64_t>()));
}

std::string Encode(const CustomerRecord& c) {
  json::object o;
  o["o"] = c.owner;
  json::object requests;
  for (const auto& [id, r] : c.requests) {
    requests[id] = json::array{r.opened_at.value(), json::value(r.opened_by), OptMicros(r.assigned_at),
                               json::value(r.assignee), OptMicros(r.first_response_at), json::value(r.responded_by),
                               json::value(r.responsible), OptMicros(r.resolved_at), r.reopened,
                               r.opened_recorded_at.value(), r.response_entered_late};
  }
  o["r"] = std::move(requests);
  json::object commitments;
  for (const auto& [id, m] : c.commitments) {
    commitments[id] = json::array{json::value(m.owner),      m.made_at.value(),           m.due_at.value(),
                                  static_cast<int>(m.state), OptMicros(m.closed_at),      m.made_recorded_at.value(),
                                  m.closed_entered_late,     OptMicros(m.due_moved_from), OptMicros(m.due_moved_at)};
  }
  o["m"] = std::move(commitments);
  return json::serialize(o);
}

Result<CustomerRecord> DecodeCustomer(std::string_view text, std::string_view key) {
  Result<json::object> parsed = payload::ParseState(text, key);
  if (!parsed.ok()) return parsed.status();
  const json::object& o = *parsed;
  CustomerRecord c;
  c.owner = Str(o, "o");
  try {
    for (const auto& [id, v] : o.at("r").as_object()) {
      const json::array& a = v.as_array();
      RequestRecord& r = c.requests[std::string(id)];
      r.opened_at = Timestamp(a.at(0).to_number<int64_t>());
      r.opened_by = a.at(1).as_string();
      r.assigned_at = OptMicros(a.at(2));
      r.assignee = a.at(3).as_string();
      r.first_response_at = OptMicros(a.at(4));
      r.responded_by = a.at(5).as_string();
      r.responsible = a.at(6).as_string();
      r.resolved_at = OptMicros(a.at(7));
      r.reopened = a.at(8).to_number<uint32_t>();
      r.opened_recorded_at = Timestamp(a.at(9).to_number<int64_t>());
      r.response_entered_late = a.at(10).to_number<int64_t>();
    }
    for (const auto& [id, v] : o.at("m").as_object()) {
      const json::array& a = v.as_array();
      CommitmentRecord& m = c.commitments[std::string(id)];
      m.owner = a.at(0).as_string();
      m.made_at = Timestamp(a.at(1).to_number<int64_t>());
      m.due_at = Timestamp(a.at(2).to_number<int64_t>());
      m.state = static_cast<CommitmentState>(a.at(3).to_number<int>());
      m.closed_at = OptMicros(a.at(4));
      m.made_recorded_at = Timestamp(a.at(5).to_number<int64_t>());
      m.closed_entered_late = a.at(6).to_number<int64_t>();
      m.due_moved_from = OptMicros(a.at(7));
      m.due_moved_at = OptMicros(a.at(8));
    }
  } catch (const std::exception& e) {
    return payload::StateMalformed(key, kAccountabilityProjection, e.what());
  }
  return c;
}

std::string Encode(const TeamIntervals& teams) {
  json::array t;
  for (const auto& [from, team] : teams) t.push_back(json::array{from.value(), json::value(team)});
  return json::serialize(json::object{{"t", std::move(t)}});
}

Result<TeamIntervals> DecodeTeams(std::string_view text, std::string_view key) {
  Result<json::object> parsed = payload::ParseState(text, key);
  if (!parsed.ok()) return parsed.status();
  TeamIntervals teams;
  try {
    for (const auto& v : parsed->at("t").as_array()) {
      const json::array& a = v.as_array();
      teams.emplace_back(Timestamp(a.at(0).to_number<int64_t>()), std::string(a.at(1).as_string()));
    }
  } catch (const std::exception& e) {
    return payload::StateMalformed(key, kAccountabilityProjection, e.what());
  }
  return teams;
}

// The team at `t`: the interval that began last at or before t; before the
// first one, the first team known.
std::string TeamAt(const TeamIntervals& teams, Timestamp t) {
  if (teams.empty()) return "";
  auto it = std::upper_bound(teams.begin(), teams.end(), t,
                             [](Timestamp x, const std::pair<Timestamp, std::string>& i) { return x < i.first; });
  return it == teams.begin() ? teams.front().second : std::prev(it)->second;
}

Status ApplyToCustomer(CustomerRecord& c, const Event& e) {
  const std::string& t = e.type;
  const bool relevant = t == "customer.owner_assigned" || t.starts_with("request.") || t.starts_with("commitment.");
  if (!relevant) return Status::Ok();
  Result<json::object> parsed = payload::ParseData(e);
  if (!parsed.ok()) return parsed.status();
  const json::object& d = *parsed;
  if (t == "customer.owner_assigned") {
    c.owner = Str(d, "owner");
  } else if (t == "request.opened") {
    RequestRecord& r = c.requests[Str(d, "request_id")];
    r = RequestRecord{};
    r.opened_at = e.occurred_at;
    r.opened_recorded_at = e.recorded_at;
    r.opened_by = e.actor;
  } else if (t.starts_with("request.")) {
    auto it = c.requests.find(Str(d, "request_id"));
    if (it == c.requests.end()) return Status::Ok();
    RequestRecord& r = it->second;
    if (t == "request.assigned") {
      r.assignee = Str(d, "assignee");
      if (!r.assigned_at) r.assigned_at = e.occurred_at;
    } else if (t == "request.responded") {
      if (!r.first_response_at) {
        r.first_response_at = e.occurred_at;
        r.response_entered_late = EnteredLate(r.opened_at, r.opened_recorded_at, e);
        r.responded_by = e.actor;
        r.responsible = IsStaff(r.assignee) ? r.assignee : IsStaff(c.owner) ? c.owner
                                                        : IsStaff(r.opened_by) ? r.opened_by
                                                                               : std::string();
      }
    } else if (t == "request.resolved") {
      r.resolved_at = e.occurred_at;
    } else if (t == "request.reopened") {
      r.resolved_at.reset();
      ++r.reopened;
    }
  } else if (t == "commitment.made") {
    CommitmentRecord& m = c.commitments[Str(d, "commitment_id")];
    m = CommitmentRecord{};
    const std::string owner = Str(d, "owner");
    m.owner = owner.empty() ? e.actor : owner;
    m.made_at = e.occurred_at;
    m.made_recorded_at = e.recorded_at;
    m.due_at = DueAt(d, e);
  } else if (t == "commitment.reassigned") {
    // Whoever holds it answers for keeping it.
    auto it = c.commitments.find(Str(d, "commitment_id"));
    if (it != c.commitments.end() && it->second.state == CommitmentState::kOpen) it->second.owner = Str(d, "owner");
  } else if (t == "commitment.fulfilled" || t == "commitment.cancelled") {
    auto it = c.commitments.find(Str(d, "commitment_id"));
    if (it == c.commitments.end() || it->second.state != CommitmentState::kOpen) return Status::Ok();
    it->second.state = t == "commitment.fulfilled" ? CommitmentState::kFulfilled : CommitmentState::kCancelled;
    it->second.closed_at = e.occurred_at;
    it->second.closed_entered_late = EnteredLate(it->second.made_at, it->second.made_recorded_at, e);
  }
  return Status::Ok();
}

// The due dates that a correction of commitment.made moved later after they
// had passed (FindDueMoves), on each promise's making. `events`: the customer's stream as stored, through
// the fix being folded; `c` folded from them as the fixes make them (a
// retracted commitment.made is not in it).
void NoteDueMoves(CustomerRecord& c, std::span<const Event> events) {
  const DueMoves moves = FindDueMoves(events);
  for (const auto& [commitment, making] : moves.promise) {
    auto m = moves.by_making.find(making);
    auto it = c.commitments.find(commitment);
    if (m == moves.by_making.end() || it == c.commitments.end()) continue;
    it->second.due_moved_from = m->second.from;
    it->second.due_moved_at = m->second.at;
  }
}

Status ApplyToStaff(TeamIntervals& teams, const Event& e) {
  if (e.type != "staff.joined" && e.type != "staff.role_changed") return Status::Ok();
  Result<json::object> parsed = payload::ParseData(e);
  if (!parsed.ok()) return parsed.status();
  const std::string team = Str(*parsed, "team");
  if (team.empty() && e.type == "staff.role_changed") return Status::Ok();  // role or manager only
  // Keep the intervals ordered by business time, so a late entry lands in place.
  auto it = std::upper_bound(teams.begin(), teams.end(), e.occurred_at,
                             [](Timestamp x, const std::pair<Timestamp, std::string>& i) { return x < i.first; });
  teams.insert(it, {e.occurred_at, team});
  return Status::Ok();
}

class AccountabilityProjection final : public Projection {
 public:
  AccountabilityProjection(const EventLog* log, std::optional<Timestamp> happened_by) : log_(log), happened_by_(happened_by) {}
  std::string_view name() const override { return kAccountabilityProjection; }
  // 2: corrections and retractions take effect (state of version 1 counts
  // fixed events as first recorded, so it is folded again). 3: steps entered
  // late are measured (recorded times kept). 4: due dates moved after they
  // passed are kept (NoteDueMoves). 5: a retracted correction corrects
  // nothing, and a retracted making is no promise (logs from before rules
  // `fix` and `reference`).
  uint32_t state_version() const override { return 5; }

  Status Apply(std::span<const Event> events, StateView& state) const override {
    // Group by stream, keeping each stream's order: each touched key is read
    // and written once per chunk.
    std::map<std::string_view, std::vector<const Event*>> by_stream;
    for (const Event& e : events) {
      if (e.stream.starts_with("customer-") || e.stream.starts_with("staff-")) by_stream[e.stream].push_back(&e);
    }
    for (const auto& [stream, list] : by_stream) {
      const std::string key = (stream.starts_with("staff-") ? "s/" : "c/") + std::string(stream);
      if (stream.starts_with("staff-")) {
        Result<TeamIntervals> teams = LoadRecord<TeamIntervals>(state, key, DecodeTeams);
        if (!teams.ok()) return teams.status();
        for (const Event* e : list) CUSTODIAN_RETURN_IF_ERROR(ApplyToStaff(*teams, *e));
        if (!teams->empty()) state.Put(key, Encode(*teams));
        continue;
      }
      Result<CustomerRecord> c = LoadRecord<CustomerRecord>(state, key, DecodeCustomer);
      if (!c.ok()) return c.status();
      // At a fix, after the fold again: the due dates the corrections moved after they passed.
      CUSTODIAN_RETURN_IF_ERROR(FoldStream<CustomerRecord>(
          log_, list, *c, [](CustomerRecord& r, const Event& x) { return ApplyToCustomer(r, x); }, happened_by_,
          NoteDueMoves));
      if (!c->owner.empty() || !c->requests.empty() || !c->commitments.empty()) state.Put(key, Encode(*c));
    }
    return Status::Ok();
  }

 private:
  const EventLog* log_;
  const std::optional<Timestamp> happened_by_;  // a view as of a business time: what it selects
};

bool InPeriod(const AccountabilityFilter& f, Timestamp t) { return (!f.from || t >= *f.from) && (!f.to || t < *f.to); }

void Summarize(std::map<std::string, AccountabilitySummary>& out, std::map<std::string, std::vector<int64_t>>& times,
               const std::string& who, const RequestAccount& r) {
  AccountabilitySummary& s = out[who];
  s.who = who;
  ++s.requests;
  if (auto d = r.TimeToFirstResponse()) {
    ++s.answered;
    times[who].push_back(*d);
  }
  if (r.Unanswered()) ++s.unanswered;
  if (r.response_entered_late) ++s.entered_late;
}

void Summarize(std::map<std::string, AccountabilitySummary>& out, const std::string& who, const CommitmentAccount& c) {
  AccountabilitySummary& s = out[who];
  s.who = who;
  ++s.commitments;
  switch (c.outcome) {
    case CommitmentOutcome::kPending: ++s.pending; break;
    case CommitmentOutcome::kOverdue: ++s.overdue; break;
    case CommitmentOutcome::kKeptOnTime: ++s.kept_on_time; break;
    case CommitmentOutcome::kKeptLate: ++s.kept_late; break;
    case CommitmentOutcome::kCancelled: ++s.cancelled; break;
  }
  if (c.closed_entered_late) ++s.entered_late;
  if (c.due_moved_from) ++s.due_moved;
}

std::vector<AccountabilitySummary> Finish(std::map<std::string, AccountabilitySummary>& out,
                                          std::map<std::string, std::vector<int64_t>>& times) {
  std::vector<AccountabilitySummary> v;
  for (auto& [who, s] : out) {
    s.median_first_response = Percentile(times[who], 0.5);
    s.p90_first_response = Percentile(times[who], 0.9);
    v.push_back(std::move(s));
  }
  return v;
}

// Whole seconds, rounded: a response time is read in hours and days, and a
// JSON double would be written as, say, 8.64E3 (Boost.JSON's form).
json::value Seconds(const std::optional<int64_t>& micros) {
  if (!micros) return nullptr;
  const int64_t half = *micros >= 0 ? 500'000 : -500'000;
  return json::value((*micros + half) / 1'000'000);
}
json::value OrNull(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

}  // namespace

std::unique_ptr<Projection> MakeAccountabilityProjection(const EventLog* log, std::optional<Timestamp> happened_by) {
  return std::make_unique<AccountabilityProjection>(log, happened_by);
}

std::optional<int64_t> RequestAccount::TimeToAssign() const {
  return assigned_at ? std::optional<int64_t>(assigned_at->value() - opened_at.value()) : std::nullopt;
}
std::optional<int64_t> RequestAccount::TimeToFirstResponse() const {
  return first_response_at ? std::optional<int64_t>(first_response_at->value() - opened_at.value()) : std::nullopt;
}
std::optional<int64_t> RequestAccount::TimeToResolve() const {
  return resolved_at ? std::optional<int64_t>(resolved_at->value() - opened_at.value()) : std::nullopt;
}

std::string_view CommitmentOutcomeName(CommitmentOutcome outcome) {
  switch (outcome) {
    case CommitmentOutcome::kPending: return "pending";
    case CommitmentOutcome::kOverdue: return "overdue";
    case CommitmentOutcome::kKeptOnTime: return "kept_on_time";
    case CommitmentOutcome::kKeptLate: return "kept_late";
    case CommitmentOutcome::kCancelled: return "cancelled";
  }
  return "pending";
}

std::optional<int64_t> Percentile(std::vector<int64_t> values, double p) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const double rank = p * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  const double frac = rank - static_cast<double>(lo);
  const double v = static_cast<double>(values[lo]) + frac * static_cast<double>(values[hi] - values[lo]);
  return static_cast<int64_t>(std::llround(v));
}

Result<AccountabilityReport> BuildAccountabilityReport(const StateReader& state, const AccountabilityFilter& filter,
                                                       Timestamp now) {
  std::map<std::string, TeamIntervals, std::less<>> teams;
  Status failed = Status::Ok();
  CUSTODIAN_RETURN_IF_ERROR(state.Scan("s/", [&](std::string_view key, std::string_view value) {
    Result<TeamIntervals> t = DecodeTeams(value, key);
    if (!t.ok()) {
      failed = t.status();
      return false;
    }
    teams.emplace(std::string(key.substr(2)), std::move(*t));
    return true;
  }));
  CUSTODIAN_RETURN_IF_ERROR(failed);
  auto team_of = [&](const std::string& staff, Timestamp t) {
    auto it = teams.find(staff);
    return it == teams.end() ? std::string() : TeamAt(it->second, t);
  };
  auto wanted = [&](const std::string& staff, const std::string& team) {
    return (filter.staff.empty() || staff == filter.staff) && (filter.team.empty() || team == filter.team);
  };

  AccountabilityReport report;
  report.now = now;
  CUSTODIAN_RETURN_IF_ERROR(state.Scan("c/", [&](std::string_view key, std::string_view value) {
    Result<CustomerRecord> c = DecodeCustomer(value, key);
    if (!c.ok()) {
      failed = c.status();
      return false;
    }
    const std::string customer(key.substr(2));
    for (const auto& [id, r] : c->requests) {
      if (!InPeriod(filter, r.opened_at)) continue;
      RequestAccount a;
      a.customer = customer;
      a.request_id = id;
      a.opened_at = r.opened_at;
      a.opened_by = r.opened_by;
      a.assigned_at = r.assigned_at;
      a.assignee = r.assignee;
      a.first_response_at = r.first_response_at;
      a.responded_by = r.responded_by;
      a.resolved_at = r.resolved_at;
      a.reopened = r.reopened;
      if (r.first_response_at) {
        a.responsible = r.responsible;
        if (r.response_entered_late > kEnteredLateMicros) a.response_entered_late = r.response_entered_late;
      } else {
        a.responsible = IsStaff(r.assignee) ? r.assignee : IsStaff(c->owner) ? c->owner
                                                         : IsStaff(r.opened_by) ? r.opened_by
                                                                                : std::string();
      }
      a.team = team_of(a.responsible, r.opened_at);
      if (wanted(a.responsible, a.team)) report.requests.push_back(std::move(a));
    }
    for (const auto& [id, m] : c->commitments) {
      CommitmentAccount a;
      a.due_at = m.due_at;
      a.due_moved_from = m.due_moved_from;
      a.due_moved_at = m.due_moved_at;
      // Judged against the due date that passed, when a correction moved it after.
      const Timestamp due = a.JudgedDue();
      if (!InPeriod(filter, due)) continue;
      a.customer = customer;
      a.commitment_id = id;
      a.owner = m.owner;
      a.team = team_of(m.owner, due);
      a.made_at = m.made_at;
      a.closed_at = m.closed_at;
      if (m.closed_at && m.closed_entered_late > kEnteredLateMicros) a.closed_entered_late = m.closed_entered_late;
      switch (m.state) {
        case CommitmentState::kOpen:
          a.outcome = due < now ? CommitmentOutcome::kOverdue : CommitmentOutcome::kPending;
          break;
        case CommitmentState::kFulfilled:
          a.outcome = *m.closed_at <= due ? CommitmentOutcome::kKeptOnTime : CommitmentOutcome::kKeptLate;
          break;
        case CommitmentState::kCancelled:
          a.outcome = CommitmentOutcome::kCancelled;
          break;
      }
      if (wanted(a.owner, a.team)) report.commitments.push_back(std::move(a));
    }
    return true;
  }));
  CUSTODIAN_RETURN_IF_ERROR(failed);

  std::sort(report.requests.begin(), report.requests.end(), [](const RequestAccount& a, const RequestAccount& b) {
    return std::tie(a.opened_at, a.customer, a.request_id) < std::tie(b.opened_at, b.customer, b.request_id);
  });
  std::sort(report.commitments.begin(), report.commitments.end(),
            [](const CommitmentAccount& a, const CommitmentAccount& b) {
              return std::tuple(a.JudgedDue(), a.customer, a.commitment_id) <
                     std::tuple(b.JudgedDue(), b.customer, b.commitment_id);
            });
  std::map<std::string, AccountabilitySummary> staff, team;
  std::map<std::string, std::vector<int64_t>> staff_times, team_times;
  for (const RequestAccount& r : report.requests) {
    Summarize(staff, staff_times, r.responsible, r);
    if (!r.team.empty()) Summarize(team, team_times, r.team, r);
  }
  for (const CommitmentAccount& c : report.commitments) {
    Summarize(staff, c.owner, c);
    if (!c.team.empty()) Summarize(team, c.team, c);
  }
  report.by_staff = Finish(staff, staff_times);
  report.by_team = Finish(team, team_times);
  return report;
}

std::string RequestAccountToJson(const RequestAccount& r) {
  json::object o;
  o["kind"] = "request";
  o["customer"] = r.customer;
  o["request_id"] = r.request_id;
  o["opened_at"] = FormatRfc3339(r.opened_at);
  o["opened_by"] = r.opened_by;
  o["assignee"] = OrNull(r.assignee);
  o["assigned_at"] = payload::TimeJson(r.assigned_at);
  o["first_response_at"] = payload::TimeJson(r.first_response_at);
  o["responded_by"] = OrNull(r.responded_by);
  o["resolved_at"] = payload::TimeJson(r.resolved_at);
  o["reopened"] = r.reopened;
  o["responsible"] = OrNull(r.responsible);
  o["team"] = OrNull(r.team);
  o["seconds_to_assign"] = Seconds(r.TimeToAssign());
  o["seconds_to_first_response"] = Seconds(r.TimeToFirstResponse());
  o["seconds_to_resolve"] = Seconds(r.TimeToResolve());
  o["unanswered"] = r.Unanswered();
  o["response_entered_late_seconds"] = Seconds(r.response_entered_late);
  return json::serialize(o);
}

std::string CommitmentAccountToJson(const CommitmentAccount& c) {
  json::object o;
  o["kind"] = "commitment";
  o["customer"] = c.customer;
  o["commitment_id"] = c.commitment_id;
  o["owner"] = c.owner;
  o["team"] = OrNull(c.team);
  o["made_at"] = FormatRfc3339(c.made_at);
  o["due_at"] = FormatRfc3339(c.due_at);
  o["closed_at"] = payload::TimeJson(c.closed_at);
  o["outcome"] = CommitmentOutcomeName(c.outcome);
  o["closed_entered_late_seconds"] = Seconds(c.closed_entered_late);
  o["due_moved_from"] = payload::TimeJson(c.due_moved_from);
  o["due_moved_at"] = payload::TimeJson(c.due_moved_at);
  return json::serialize(o);
}

std::string SummaryToJson(std::string_view kind, const AccountabilitySummary& s) {
  json::object o;
  o["kind"] = kind;
  o[kind == "team" ? "team" : "staff"] = OrNull(s.who);
  o["requests"] = s.requests;
  o["answered"] = s.answered;
  o["unanswered"] = s.unanswered;
  o["median_first_response_seconds"] = Seconds(s.median_first_response);
  o["p90_first_response_seconds"] = Seconds(s.p90_first_response);
  o["commitments"] = s.commitments;
  o["overdue"] = s.overdue;
  o["kept_on_time"] = s.kept_on_time;
  o["kept_late"] = s.kept_late;
  o["cancelled"] = s.cancelled;
  o["pending"] = s.pending;
  o["entered_late"] = s.entered_late;
  o["due_moved"] = s.due_moved;
  return json::serialize(o);
}

}  // namespace custodian
