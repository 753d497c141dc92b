// One customer as a reader sees it (DESIGN.md, Projections and "As of"):
// its picture now or as of a time (`customer show`), every event of it in
// plain words with the corrections and retractions beside what they fix
// (`customer timeline`), and who owned it when (`customer custody`).
//
// Each operation reads customer data for a caller: it records the read on
// access-<staff> (service/store.h: RecordRead) before it opens any personal
// part and before it returns; when the read cannot be recorded (a reader
// who has left, a full disk) it returns that error and no data. None of them
// prints. Each result has one ToJson, the body of `--json` and of the API.
//
// The customer's JSON here (CustomerViewToJson) is the API's; the stored
// projection keeps its own encoding (replay/customer.h: CustomerToJson), so
// either can change without the other. Today they hold the same fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "replay/customer.h"
#include "replay/people.h"
#include "service/store.h"
#include "storage/event_log.h"

namespace custodian {

// The customer now: the stored projection when it has folded the whole log
// (a writable log whose caller caught it up), else a replay of its stream
// through the same fold. NotFound when it has no events. Records nothing:
// the caller's operation records its read.
Result<CustomerState> CurrentCustomer(const EventLog& log, const std::string& customer);

// --- customer show ---

// A time to reconstruct the customer at, and which clock it is on: AsOfTime
// (replay/state_reader.h).

// An event that an as-of view points out: recorded long after it occurred
// (late), or occurred by the time but recorded after it (not known then).
struct NotedEvent {
  uint64_t position = 0;
  std::string type;
  Timestamp occurred_at, recorded_at;
};

struct CustomerView {
  CustomerState state;
  std::vector<ContactView> people;  // the contacts, their personal fields opened for the caller
  Timestamp at;                     // the time the view describes: now, or the as-of time

  // Only for a view as of a time:
  std::optional<AsOfTime> as_of;
  uint64_t events_folded = 0;
  std::vector<NotedEvent> late;            // folded events recorded long after they occurred (kLateAfterMicros)
  std::vector<NotedEvent> not_known_then;  // AsOf::kBusiness: occurred by then, recorded only after

  // Whole days from the last contact to `at`; nothing when none was logged.
  std::optional<int64_t> DaysSinceLastContact() const;
  // Whether an open commitment was due before `at` (by its judged due date,
  // the one that passed when a correction moved it later afterwards).
  bool Overdue(const CustomerState::Commitment& c) const;
};

// " (moved from 2026-03-01 after it passed)" for a promise whose due date a
// correction moved later after it had passed (it is judged against the date
// that passed: overdue since then), else "".
std::string DueMovedNote(const CustomerState::Commitment& c);

// The customer `customer` ("customer-42"): now, from the stored projection
// when `log` is writable and the projection has folded the whole log (the
// caller caught it up: OpenForQuery, or a server that runs the projections),
// else by replaying the customer's stream through the same fold; or, with
// `as_of`, replayed as of that time (an as-of view of a customer with no
// events then is empty, not an error). Records the read ("customer_profile",
// or "customer_as_of" / "customer_as_of_business" counting the events
// folded), then opens the contacts.
// NotFound ("customer-42 has no events") for a customer the log does not know
// (without `as_of`).
Result<CustomerView> ShowCustomer(EventLog& log, const Caller& caller, const std::string& customer,
                                  std::optional<AsOfTime> as_of, Timestamp now);
// Now: the customer's fields (as CustomerToJson names them) with "people":
// the contacts opened (ContactViewToJson). As of a time:
// {"as_of":T,"by":"knowledge"|"business","customer":{...},"events_folded":N,
//  "late_positions":[...],"not_known_then_positions":[...]}.
std::string CustomerViewToJson(const CustomerView& v);

// --- finding customers ---

struct CustomerMatch {
  std::string id, name, owner, team, status;
};
struct CustomerSearch {
  std::string query;
  std::vector<CustomerMatch> customers;  // by id
  size_t more = 0;                       // matches past the limit, not shown
  // Words of the query too short to search for (one letter, in lower case:
  // "a", and "j" of "J."; BlindTerms), left out of the match, so that the
  // caller can say so.
  std::vector<std::string> not_searched;
};
// The customers whose id or registered name holds every word of `query`
// (any case; words split as the blind index splits a name: core/personal.h,
// BlindTerms), of those the caller serves at `now` (replay/alerts.h:
// ServiceScope; every customer for a company-wide role), from the stored
// customer projection; at most `limit`. A person-customer's name is
// personal and is not in the projection, so it is found by id only (people
// are found through the blind index: service/personal.h, FindPeople).
// InvalidArgument for a query with no word. Records a read of the
// customers shown (view "customer_search").
Result<CustomerSearch> FindCustomers(EventLog& log, const Caller& caller, std::string_view query, Timestamp now,
                                     size_t limit = 50);
// One object: {"query", "customers": [{"id", "name", "owner", "team", "status"}], "more"}.
std::string CustomerSearchToJson(const CustomerSearch& s);

// --- customer timeline ---

// One event of the timeline.
struct TimelineEntry {
  Event event;          // its personal part opened for the caller, unless personal data cannot be opened
  std::string summary;  // the event in words ("deal deal-5001 WON, 12000"), from its data; not made terminal-safe
  bool late = false;    // recorded long after it occurred (kLateAfterMicros), on its own: not in a backfill
  // The corrections and retractions that name this event (data.event_id), in log order.
  struct Fix {
    bool retracted = false;  // event.retracted, else event.corrected
    std::string actor;
    uint64_t position = 0;
    std::string data;     // the fixing event's data, as recorded
    std::string summary;  // in words: what it sets and why ("value 9800.00 (a discount left out)")
  };
  std::vector<Fix> fixes;
};
// A run of the stream's events loaded together long after they occurred (a
// migration from another CRM): at least kBackfillMinEvents consecutive
// events, each recorded more than kLateAfterMicros after it occurred, all
// recorded within kBackfillWindowMicros of the first. The timeline says so
// once, rather than marking each event late.
struct Backfill {
  size_t first = 0, count = 0;  // entries [first, first + count)
  Timestamp occurred_from, occurred_to, recorded_from, recorded_to;
};
inline constexpr size_t kBackfillMinEvents = 3;
inline constexpr int64_t kBackfillWindowMicros = int64_t{3600} * 1'000'000;
// The line a timeline shows before a backfill's first event.
std::string BackfillNote(const Backfill& b);

struct CustomerTimelineResult {
  std::string customer;
  std::vector<TimelineEntry> entries;  // every event of the stream, in stream order
  std::vector<Backfill> backfills;     // in order; their entries are not marked late
  // Why personal parts are shown sealed (no master key), when any event has
  // one and personal data cannot be opened; empty otherwise.
  std::string personal_unavailable;
};
// Every event of `customer`, in words. Records the read ("timeline", counting
// the events) before it opens any personal part. NotFound for a customer
// with no events; a personal part that does not open (altered, moved) is an
// error naming the event.
Result<CustomerTimelineResult> CustomerTimeline(EventLog& log, const Caller& caller, const std::string& customer);
// JSON Lines: each event (EventToJson with the log's fields) on a line ending
// in "\n", with one member more, last: "timeline": {"summary", "late",
// "backfill" (BackfillNote, on a backfill's first event), "fixes": [{"kind":
// "corrected"|"retracted", "actor", "position", "summary"}]}.
std::string CustomerTimelineToJson(const CustomerTimelineResult& t);

// --- customer custody ---

// What `customer custody` asks: the whole chain; or, with `at`, who owned
// the customer then; or, with `at` and `request`, who was responsible for
// that request then.
struct CustodyQuery {
  std::optional<Timestamp> at;
  std::string request;  // a request id ("req-9001"); needs `at`
};
struct CustodyAnswer {
  std::string customer;
  CustodyQuery query;
  std::vector<CustomerState::Custody> chain;    // no `at`: every stretch of ownership, oldest first
  std::optional<CustomerState::Custody> owner;  // `at` only: the stretch in force then, if any
  std::optional<std::string> responsible;       // `at` and `request`: who had it then; nothing when it was not open
};
// Answers `query` from the customer's stream, replayed. Records the read
// ("custody", counting the stretches of ownership) first. InvalidArgument for
// a request without a time; NotFound for a customer with no events, or a
// request the customer never had ("customer-42 has no request req-1").
Result<CustodyAnswer> CustomerCustody(EventLog& log, const Caller& caller, const std::string& customer,
                                      const CustodyQuery& query);
// The chain: JSON Lines, one stretch a line ending in "\n"
// ({"customer","owner","from","to","reason","previous_owner","handover_id","assigned_by","position"}).
// At a time: {"customer","at","owner","reason","since"} (null when nobody owned it).
// For a request: {"customer","request","at","responsible"}.
std::string CustodyAnswerToJson(const CustodyAnswer& a);

}  // namespace custodian
