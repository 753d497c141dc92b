// Customer commands: customer show, timeline, custody; rebuild. Each parses
// its flags, calls service/customer.h or service/projections.h, and prints.
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "core/time.h"
#include "service/customer.h"
#include "service/projections.h"
#include "tools/cli.h"

namespace custodian::cli {
namespace {

// The events an as-of view points out, one line each, but a run of at least
// kBackfillMinEvents, each recorded long after it occurred and all within
// kBackfillWindowMicros of the first (a load from another CRM, as the
// timeline's backfill), on one line, under `many`. `recorded`: "was
// recorded" or "was only recorded".
void PrintNoted(std::string_view label, std::string_view many, std::string_view recorded,
                const std::vector<NotedEvent>& events) {
  for (size_t i = 0; i < events.size();) {
    size_t j = i + 1;
    auto late = [&](size_t k) { return events[k].recorded_at.value() - events[k].occurred_at.value() > kLateAfterMicros; };
    while (j < events.size() && late(i) && late(j) && events[j].recorded_at.value() >= events[i].recorded_at.value() &&
           events[j].recorded_at.value() - events[i].recorded_at.value() <= kBackfillWindowMicros) {
      ++j;
    }
    if (j - i < kBackfillMinEvents) j = i + 1;
    if (j == i + 1) {
      const NotedEvent& e = events[i];
      fmt::print("  {}: position {} ({}) occurred {} but {} {}\n", label, e.position, e.type, Minute(e.occurred_at),
                 recorded, Minute(e.recorded_at));
    } else {
      Timestamp from = events[i].occurred_at, to = events[i].occurred_at;
      for (size_t k = i; k < j; ++k) {
        from = std::min(from, events[k].occurred_at);
        to = std::max(to, events[k].occurred_at);
      }
      const std::string when = Minute(events[i].recorded_at) == Minute(events[j - 1].recorded_at)
                                   ? Minute(events[i].recorded_at)
                                   : Minute(events[i].recorded_at) + " to " + Minute(events[j - 1].recorded_at);
      fmt::print("  {}: {} events (positions {} to {}) that occurred {} to {}, all recorded {} (loaded together)\n",
                 many, j - i, events[i].position, events[j - 1].position, Minute(from), Minute(to), when);
    }
    i = j;
  }
}

// What a contact's personal fields say in a listing: the value of `field`
// (or of `fallback` when it is absent), at most `max` bytes on one line.
std::string PersonalText(const OpenedPersonal& p, std::string_view field, std::string_view fallback, size_t max) {
  std::string v = p.Field(field);
  if (v.empty() && !fallback.empty()) v = p.Field(fallback);
  return v.empty() ? "-" : OneLineText(v, max);
}

// The contacts, their personal fields opened at read time (replay/people.h):
// name, role, phone and e-mail; the erasure's position and reason for an
// erased person; "sealed" and why when they cannot be opened.
void PrintContacts(const std::vector<ContactView>& people) {
  if (people.empty()) return;
  fmt::print("\n  CONTACTS\n");
  for (const ContactView& v : people) {
    const CustomerState::Contact& c = v.contact;
    std::string about = c.department;
    if (!c.preferred_channel.empty()) about += (about.empty() ? "" : ", ") + ("prefers " + c.preferred_channel);
    if (c.key_contact) about += (about.empty() ? "" : ", ") + std::string("key contact");
    const std::string role = c.role.empty() ? "-" : OneLineText(c.role, 26);
    switch (v.personal.state) {
      case OpenedPersonal::State::kOpen:
      case OpenedPersonal::State::kNone:
        fmt::print("  {:<16} {:<24} {:<26} {:<18} {:<44} {}\n", v.contact_id, PersonalText(v.personal, "name", "", 24),
                   role, PersonalText(v.personal, "phone", "mobile", 18), PersonalText(v.personal, "email", "", 44),
                   about);
        break;
      case OpenedPersonal::State::kErased:
        fmt::print("  {:<16} {:<24} {:<26} erased at position {}: {}{}\n", v.contact_id, "(erased)", role,
                   v.personal.erased_position ? std::to_string(*v.personal.erased_position) : std::string("?"),
                   TerminalText(v.personal.erased_reason), about.empty() ? "" : "   " + about);
        break;
      case OpenedPersonal::State::kUnavailable:
        fmt::print("  {:<16} {:<24} {:<26} sealed: {}{}\n", v.contact_id, "(sealed)", role, TerminalText(v.personal.why),
                   about.empty() ? "" : "   " + about);
        break;
    }
  }
}

void PrintCustomer(const CustomerView& v) {
  const CustomerState& s = v.state;
  fmt::print("{}  {}\n", s.id, s.name.empty() ? "(no name registered)" : s.name);
  fmt::print("  status {}   segment {}   country {}   group {}   team {}\n", s.status, s.segment.empty() ? "-" : s.segment,
             s.country.empty() ? "-" : s.country, s.group.empty() ? "-" : s.group, s.team.empty() ? "-" : s.team);
  fmt::print("  owner {}", s.owner.empty() ? "nobody" : s.owner);
  if (!s.custody.empty()) {
    fmt::print(" since {} ({})", Day(s.custody.back().from), s.custody.back().reason);
  }
  fmt::print("\n  last contact: ");
  if (s.last_contact) {
    fmt::print("{} {} {} by {} ({} days ago)\n", Day(s.last_contact->at), s.last_contact->direction,
               s.last_contact->channel, s.last_contact->by, v.DaysSinceLastContact().value_or(0));
  } else {
    fmt::print("none logged\n");
  }
  fmt::print("  orders: {}", s.orders);
  for (const auto& [currency, v] : s.order_value) fmt::print("  {} {}", v.ToString(2), currency);
  fmt::print("   deals won {} lost {}   commitments kept {} late {} cancelled {}\n", s.deals_won, s.deals_lost,
             s.commitments_kept, s.commitments_late, s.commitments_cancelled);
  PrintContacts(v.people);
  if (!s.open_deals.empty()) {
    fmt::print("\n  OPEN DEALS\n");
    for (const auto& [id, d] : s.open_deals) {
      fmt::print("  {:<12} {:<34} {:>12} {:<4} {:<14} opened {} by {}\n", id, OneLineText(d.title, 34), d.value.ToString(2),
                 d.currency, d.stage, Day(d.opened_at), d.owner);
    }
  }
  if (!s.open_requests.empty()) {
    fmt::print("\n  OPEN REQUESTS\n");
    for (const auto& [id, r] : s.open_requests) {
      fmt::print("  {:<12} {:<34} {:<8} opened {} assignee {:<10} {}\n", id, OneLineText(r.title, 34), r.priority,
                 Day(r.opened_at), r.assignee.empty() ? "-" : r.assignee,
                 r.first_response_at ? "answered " + Day(r.first_response_at) : std::string("NOT ANSWERED"));
    }
  }
  if (!s.open_commitments.empty()) {
    fmt::print("\n  OPEN COMMITMENTS\n");
    for (const auto& [id, c] : s.open_commitments) {
      fmt::print("  {:<12} {:<44} due {}{}{}  by {}\n", id, OneLineText(c.promise, 44), Day(c.due_at), DueMovedNote(c),
                 v.Overdue(c) ? " OVERDUE" : "", c.owner);
    }
  }
}

}  // namespace


int RunCustomerShow(const Globals& g, const std::string& id, const std::string& as_of,
                    const std::string& as_of_business, bool json) {
  Result<std::string> stream = CustomerStream(id);
  if (!stream.ok()) return Fail(stream.status());
  Result<std::string> reader = Reader(g, "customer show");
  if (!reader.ok()) return UsageError(reader.status());
  if (!as_of.empty() && !as_of_business.empty()) {
    return UsageError(Status::InvalidArgument("give --as-of or --as-of-business, not both"));
  }
  Result<std::optional<Timestamp>> knowledge = OptionalTime(as_of, "--as-of");
  Result<std::optional<Timestamp>> business = OptionalTime(as_of_business, "--as-of-business");
  if (!knowledge.ok()) return Fail(knowledge.status());
  if (!business.ok()) return Fail(business.status());
  std::optional<AsOfTime> at;
  if (*knowledge) at = AsOfTime{**knowledge, AsOf::kKnowledge};
  if (*business) at = AsOfTime{**business, AsOf::kBusiness};

  // Now: the stored projection, caught up (or a replay of the stream while
  // another process holds the store); as of a time: a replay.
  bool caught_up = false;
  Result<std::unique_ptr<EventLog>> log = at ? OpenForReading(g) : OpenForQuery(g, &caught_up);
  if (!log.ok()) return Fail(log.status());
  Result<CustomerView> v = ShowCustomer(**log, g.CallerAs(*reader), *stream, at, SystemClock().Now());
  if (!v.ok()) return Fail(v.status());
  if (json) {
    fmt::print("{}\n", CustomerViewToJson(*v));
    return kExitOk;
  }
  if (v->as_of) {
    fmt::print("{} as of {} ({}): {} events folded\n", *stream, FormatRfc3339(v->as_of->at),
               v->as_of->by == AsOf::kKnowledge ? "what was recorded by then" : "what had happened by then",
               v->events_folded);
    // An event not known then is said once, as that, even when it was late too.
    std::set<uint64_t> not_known;
    for (const NotedEvent& e : v->not_known_then) not_known.insert(e.position);
    std::vector<NotedEvent> late;
    for (const NotedEvent& e : v->late) {
      if (!not_known.contains(e.position)) late.push_back(e);
    }
    PrintNoted("LATE ENTRY", "LATE ENTRIES", "was recorded", late);
    PrintNoted("NOT KNOWN THEN", "NOT KNOWN THEN", "was only recorded", v->not_known_then);
    fmt::print("\n");
  }
  PrintCustomer(*v);
  return kExitOk;
}

int RunCustomerTimeline(const Globals& g, const std::string& id, bool json) {
  Result<std::string> stream = CustomerStream(id);
  if (!stream.ok()) return Fail(stream.status());
  Result<std::string> reader = Reader(g, "customer timeline");
  if (!reader.ok()) return UsageError(reader.status());
  Result<std::unique_ptr<EventLog>> log = OpenForReading(g);
  if (!log.ok()) return Fail(log.status());
  Result<CustomerTimelineResult> t = CustomerTimeline(**log, g.CallerAs(*reader), *stream);
  if (!t.ok()) return Fail(t.status());
  if (!t->personal_unavailable.empty()) {
    fmt::print(stderr, "custodian: personal fields are shown sealed, because {}; everything else is complete\n",
               TerminalText(t->personal_unavailable));
  }
  if (json) {
    fmt::print("{}", CustomerTimelineToJson(*t));
    return kExitOk;
  }
  size_t next_backfill = 0;
  for (size_t i = 0; i < t->entries.size(); ++i) {
    const TimelineEntry& entry = t->entries[i];
    if (next_backfill < t->backfills.size() && t->backfills[next_backfill].first == i) {
      fmt::print("{}\n", BackfillNote(t->backfills[next_backfill++]));
    }
    const Event& e = entry.event;
    fmt::print("{}  {:<10} {:<24} {}{}{}\n", Minute(e.occurred_at), e.actor, e.type, TerminalText(entry.summary),
               entry.late ? "  [LATE: recorded " + Minute(e.recorded_at) + "]" : "",
               e.recorded_by.empty() ? "" : "  [through token " + TerminalText(e.recorded_by) + "]");
    if (!e.personal_plain.empty()) fmt::print("{:18}{:<36}personal: {}\n", "", "", TerminalText(e.personal_plain));
    for (const TimelineEntry::Fix& f : entry.fixes) {
      fmt::print("{:18}  ^ {} by {} at position {}: {}\n", "", f.retracted ? "retracted" : "corrected", f.actor,
                 f.position, TerminalText(f.summary));
    }
  }
  return kExitOk;
}

int RunCustomerFind(const Globals& g, const std::vector<std::string>& words, size_t limit, bool json) {
  Result<std::string> reader = Reader(g, "customer find");
  if (!reader.ok()) return UsageError(reader.status());
  std::string query;
  for (const std::string& w : words) query += (query.empty() ? "" : " ") + w;
  bool caught_up = false;
  Result<std::unique_ptr<EventLog>> log = OpenForQuery(g, &caught_up);
  if (!log.ok()) return Fail(log.status());
  Result<CustomerSearch> found = FindCustomers(**log, g.CallerAs(*reader), query, SystemClock().Now(), limit);
  if (!found.ok()) return Fail(found.status());
  if (json) {
    fmt::print("{}\n", CustomerSearchToJson(*found));
    return kExitOk;
  }
  auto not_searched = [&] {
    if (found->not_searched.empty()) return;
    std::string left_out;
    for (const std::string& w : found->not_searched) left_out += (left_out.empty() ? "" : " ") + w;
    fmt::print("(not searched, one letter matches too much: {})\n", OneLineText(left_out, 60));
  };
  if (found->customers.empty()) {
    fmt::print("no customer you serve matches \"{}\"\n", OneLineText(found->query, 60));
    not_searched();
    return kExitOk;
  }
  fmt::print("{:<16} {:<32} {:<12} {:<12} {}\n", "CUSTOMER", "NAME", "OWNER", "TEAM", "STATUS");
  for (const CustomerMatch& c : found->customers) {
    fmt::print("{:<16} {:<32} {:<12} {:<12} {}\n", c.id, OneLineText(OrDash(c.name), 32), OrDash(c.owner),
               OrDash(c.team), OrDash(c.status));
  }
  if (found->more > 0) fmt::print("\n({} more; narrow the words or raise --limit)\n", Thousands(found->more));
  not_searched();
  return kExitOk;
}

int RunCustomerCustody(const Globals& g, const std::string& id, const std::string& at, const std::string& request,
                       bool json) {
  Result<std::string> stream = CustomerStream(id);
  if (!stream.ok()) return Fail(stream.status());
  Result<std::string> reader = Reader(g, "customer custody");
  if (!reader.ok()) return UsageError(reader.status());
  Result<std::optional<Timestamp>> when = OptionalTime(at, "--at");
  if (!when.ok()) return Fail(when.status());
  if (!request.empty() && !*when) {
    return UsageError(Status::InvalidArgument("--request needs --at: who was responsible for it when?"));
  }
  Result<std::unique_ptr<EventLog>> log = OpenForReading(g);
  if (!log.ok()) return Fail(log.status());
  Result<CustodyAnswer> a = CustomerCustody(**log, g.CallerAs(*reader), *stream, CustodyQuery{*when, request});
  if (!a.ok()) return Fail(a.status());
  if (json) {
    const std::string body = CustodyAnswerToJson(*a);
    // The chain is JSON Lines, each line ending in a newline; an answer at a time is one object.
    fmt::print("{}{}", body, !a->query.at ? "" : "\n");
    return kExitOk;
  }
  if (!request.empty()) {
    if (a->responsible) {
      fmt::print("request {} of {} was with {} at {}\n", request, a->customer, *a->responsible, FormatRfc3339(**when));
    } else {
      fmt::print("request {} of {} was not open at {}\n", request, a->customer, FormatRfc3339(**when));
    }
    return kExitOk;
  }
  if (*when) {
    if (const auto& c = a->owner) {
      fmt::print("{} was owned by {} at {} (since {}, {})\n", a->customer, c->owner, FormatRfc3339(**when),
                 FormatRfc3339(c->from), c->reason);
    } else {
      fmt::print("{} had no owner at {}\n", a->customer, FormatRfc3339(**when));
    }
    return kExitOk;
  }
  fmt::print("{:<12} {:<17} {:<17} {:<10} {:<10} {}\n", "OWNER", "FROM (UTC)", "TO (UTC)", "REASON", "BY", "HANDOVER");
  for (const CustomerState::Custody& c : a->chain) {
    fmt::print("{:<12} {:<17} {:<17} {:<10} {:<10} {}\n", c.owner, Minute(c.from), c.to ? Minute(*c.to) : "now",
               c.reason, c.assigned_by, c.handover_id.empty() ? "-" : c.handover_id);
  }
  return kExitOk;
}

int RunRebuild(const Globals& g, const std::string& name, bool json) {
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());
  const std::vector<std::string> names = name.empty() ? ProjectionNames(**log) : std::vector<std::string>{name};
  const bool show_progress = ::isatty(STDERR_FILENO) && !json;
  for (const std::string& n : names) {
    Result<RebuildResult> r = RebuildProjection(**log, n, [&](uint64_t done, uint64_t total) {
      if (show_progress) fmt::print(stderr, "\rrebuilding {}: {} of {} events", n, Thousands(done), Thousands(total));
    });
    if (show_progress) fmt::print(stderr, "\r{:<70}\r", "");
    if (!r.ok()) return Fail(r.status());
    if (json) {
      fmt::print("{}\n", RebuildResultToJson(*r));
    } else {
      fmt::print("rebuilt {} from {} events in {:.1f}s; state digest {}\n", n, Thousands(r->events), r->seconds,
                 r->digest);
    }
  }
  return kExitOk;
}

}  // namespace custodian::cli
