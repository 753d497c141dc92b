// A store with the log's rules and a master key, holding one customer whose
// history has something for every customer query: a contact with personal
// data, a request handed on, a retracted note, a handover and a late entry.
// Shared by the tests of service/customer.h and service/log_queries.h.
#pragma once

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/rules.h"
#include "core/time.h"
#include "service/store.h"
#include "storage/event_log.h"
#include "tests/test_util.h"

namespace custodian::testing {

// staff-7 (who reads), staff-8 and staff-9 (who has left) joined 100 days
// ago. customer-42 "Acme Lda", owned by staff-7 from day -90 and by staff-8
// from day -40 (a handover); contact c-1 Ana Lima (personal part); request
// req-1 opened by staff-7 on day -70 and assigned to staff-8 on day -60; a
// note on day -50, retracted on day -49; order o-1 of 1200.50 EUR that
// occurred on day -45 but was recorded only on day -20 (late). Each event is
// recorded when it occurred unless said otherwise; the clock is back at the
// present when the fixture is built, so reads are recorded now.
struct CustomerStore {
  TempDir tmp;
  const Timestamp now = Timestamp((SystemClock().Now().value() / 1'000'000) * 1'000'000);
  FixedClock clock{now};
  std::unique_ptr<EventLog> log;
  Position contact_added, note, retraction, order, handover;

  static constexpr int64_t kDay = int64_t{86400} * 1'000'000;
  Timestamp DaysAgo(int days) const { return Timestamp(now.value() - days * kDay); }

  explicit CustomerStore(const std::string& master_key = "") {
    Open(master_key.empty() ? tmp.Sub("keys/master.key") : master_key);
    Add("staff-7", "staff.joined", "system:hr-sync", 100, R"({"role":"account_executive","team":"north"})");
    Add("staff-8", "staff.joined", "system:hr-sync", 100, R"({"role":"account_executive","team":"north"})");
    Add("staff-9", "staff.joined", "system:hr-sync", 100, R"({"role":"account_executive","team":"north"})");
    Add("staff-9", "staff.departed", "system:hr-sync", 99, R"({"reason":"resignation"})");
    Add("customer-42", "customer.registered", "staff-7", 90, R"({"name":"Acme Lda"})");
    Add("customer-42", "customer.owner_assigned", "staff-7", 90,
        R"({"owner":"staff-7","previous_owner":null,"reason":"initial"})");
    contact_added = Add("customer-42", "contact.added", "staff-7", 80, R"({"contact_id":"c-1","role":"buyer"})",
                        R"({"name":"Ana Lima","email":"ana@example.com"})");
    Add("customer-42", "request.opened", "staff-7", 70, R"({"request_id":"req-1","title":"pricing"})");
    Add("customer-42", "request.assigned", "staff-7", 60, R"({"request_id":"req-1","assignee":"staff-8"})");
    note = Add("customer-42", "note.added", "staff-7", 50, R"({"text":"wrong customer, sorry"})");
    retraction = Add("customer-42", "event.retracted", "staff-7", 49,
                     R"({"event_id":")" + note_id + R"(","reason":"logged on the wrong customer"})");
    handover = Add("customer-42", "customer.owner_assigned", "staff-7", 40,
                   R"({"owner":"staff-8","previous_owner":"staff-7","reason":"handover","handover_id":"ho-1"})");
    order = Add("customer-42", "order.placed", "staff-8", 45, R"({"order_id":"o-1","value":1200.50,"currency":"EUR"})",
                "", /*recorded_days_ago=*/20);
    clock.Set(now);
  }

  void Open(const std::string& master_key) {
    log.reset();
    EventLogOptions options;
    options.create = CreateIfMissing::kYes;
    options.rules = CheckRules;
    options.clock = &clock;
    options.master_key_file = master_key;
    Result<std::unique_ptr<EventLog>> r = EventLog::Open(tmp.Sub("store"), options);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    log = std::move(*r);
  }

  // Appends an event that occurred `days_ago`, recorded then (or `recorded_days_ago`).
  Position Add(const std::string& stream, const std::string& type, const std::string& actor, int days_ago,
               const std::string& data, const std::string& personal = "", int recorded_days_ago = -1) {
    Event e;
    e.id = RandomId();
    if (type == "note.added") note_id = e.id.ToString();
    e.stream = stream;
    e.type = type;
    e.actor = actor;
    e.occurred_at = DaysAgo(days_ago);
    e.source = "crm";
    e.data = data;
    e.personal_plain = personal;
    clock.Set(DaysAgo(recorded_days_ago >= 0 ? recorded_days_ago : days_ago));
    Result<AppendResult> r = log->Append(stream, {e}, ExpectedVersion::Any());
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return r->positions[0];
  }

  // The reads recorded on access-<staff>: each event's data.
  std::vector<boost::json::object> Reads(const std::string& staff) const {
    Result<std::vector<Event>> events =
        log->ReadStream("access-" + staff, StreamVersion(0), Direction::kForward, SIZE_MAX);
    REQUIRE(events.ok());
    std::vector<boost::json::object> out;
    for (const Event& e : *events) out.push_back(boost::json::parse(e.data).as_object());
    return out;
  }

  static Caller As(const std::string& staff) { return Caller{staff, "api", ""}; }

  std::string note_id;
};

inline std::string Text(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace custodian::testing
