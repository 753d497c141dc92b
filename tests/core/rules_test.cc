#include "core/rules.h"

#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "core/time.h"
#include "core/validation.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

// The rule state in memory, with the log's positions assigned in order.
class Log final : public RuleState {
 public:
  Result<std::optional<std::string>> Get(std::string_view key) override {
    auto it = kv_.find(std::string(key));
    if (it == kv_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  void Put(std::string key, std::string value) override { kv_[std::move(key)] = std::move(value); }
  Result<bool> EventExists(const EventId& id) override { return ids_.count(id.ToString()) > 0; }
  Result<std::optional<Event>> FindEvent(const EventId& id) override {
    auto it = events_.find(id.ToString());
    return it == events_.end() ? std::optional<Event>() : std::optional<Event>(it->second);
  }

  // Checks and, when accepted, "appends" the event.
  Status Append(const std::string& stream, const std::string& type, const std::string& actor, const char* occurred,
                const std::string& data, EventId* id_out = nullptr, const std::string& personal = "") {
    Event e;
    e.id = testing::RandomId();
    e.stream = stream;
    e.type = type;
    e.actor = actor;
    e.occurred_at = *ParseRfc3339(occurred);
    e.data = data;
    e.personal_plain = personal;
    e.recorded_by = through;
    e.position = Position(next_++);
    Status valid = ValidateEvent(e, *ParseRfc3339("2027-01-01T00:00:00Z"));
    REQUIRE(valid.ok());  // the rules see only valid events
    std::map<std::string, std::string> before = kv_;
    Status s = CheckRules(e, *this);
    if (!s.ok()) {
      CHECK(kv_ == before);  // a refused event changes no state
      --next_;
      return s;
    }
    ids_.insert(e.id.ToString());
    events_.emplace(e.id.ToString(), e);
    if (id_out) *id_out = e.id;
    return s;
  }

  std::string through;  // the API token the events come through (recorded_by); empty: the command line
  bool applying = false;  // as a node applying another writer's round
  bool Applying() const override { return applying; }

 private:
  std::map<std::string, std::string> kv_;
  std::set<std::string> ids_;
  std::map<std::string, Event> events_;
  uint64_t next_ = 0;
};

constexpr char kHr[] = "system:hr-sync";

void Join(Log& log, const std::string& staff, const char* at = "2025-01-01T00:00:00Z") {
  REQUIRE(log.Append(staff, "staff.joined", kHr, at, R"({"role":"account_executive","team":"north"})").ok());
}

void Leave(Log& log, const std::string& staff, const char* at = "2025-06-30T00:00:00Z") {
  REQUIRE(log.Append(staff, "staff.departed", kHr, at, R"({})").ok());
}

TEST_CASE("a staff actor must have joined", "[rules]") {
  Log log;
  Status s = log.Append("customer-1", "note.added", "staff-7", "2025-02-01T00:00:00Z", R"({"text":"hi"})");
  CHECK(s.code() == StatusCode::kRuleViolation);
  CHECK_THAT(s.message(), Catch::Contains("rule 'actor'"));
  CHECK_THAT(s.message(), Catch::Contains("staff-7 has never joined"));
  Join(log, "staff-7");
  CHECK(log.Append("customer-1", "note.added", "staff-7", "2025-02-01T00:00:00Z", R"({"text":"hi"})").ok());
  // System actors are not staff.
  CHECK(log.Append("customer-1", "note.added", "system:crm-sync", "2025-02-01T00:00:00Z", R"({"text":"x"})").ok());
}

TEST_CASE("a staff member who left can no longer act, and the message says when they left", "[rules]") {
  Log log;
  Join(log, "staff-7");
  Leave(log, "staff-7", "2025-06-30T00:00:00Z");
  Status s = log.Append("customer-1", "note.added", "staff-7", "2025-07-01T00:00:00Z", R"({"text":"hi"})");
  CHECK(s.code() == StatusCode::kRuleViolation);
  CHECK_THAT(s.message(), Catch::Contains("left on 2025-06-30T00:00:00Z"));
  CHECK_THAT(s.message(), Catch::Contains("can no longer act"));
  // Rehired: may act again.
  Join(log, "staff-7", "2026-01-01T00:00:00Z");
  CHECK(log.Append("customer-1", "note.added", "staff-7", "2026-01-02T00:00:00Z", R"({"text":"back"})").ok());
}

TEST_CASE("joining twice without leaving, and leaving without joining, are refused", "[rules]") {
  Log log;
  CHECK(log.Append("staff-8", "staff.departed", kHr, "2025-01-01T00:00:00Z", R"({})").code() ==
        StatusCode::kRuleViolation);
  Join(log, "staff-8");
  Status twice = log.Append("staff-8", "staff.joined", kHr, "2025-01-02T00:00:00Z", R"({"role":"x"})");
  CHECK_THAT(twice.message(), Catch::Contains("already joined"));
}

TEST_CASE("nothing is assigned to someone who left or never joined", "[rules]") {
  Log log;
  Join(log, "staff-1");
  Join(log, "staff-2");
  Leave(log, "staff-2");
  const char* at = "2025-08-01T00:00:00Z";
  struct Case {
    std::string type, data, who;
  };
  std::vector<Case> cases = {
      {"customer.owner_assigned", R"({"owner":"staff-2","reason":"initial"})", "new owner staff-2"},
      {"customer.owner_assigned", R"({"owner":"staff-9","reason":"initial"})", "new owner staff-9"},
      {"commitment.made", R"({"commitment_id":"c1","promise":"p","due_at":"2025-09-01T00:00:00Z","owner":"staff-2"})",
       "owner staff-2"},
      {"deal.opened", R"({"deal_id":"d1","title":"t","value":1,"currency":"EUR","stage":"s","owner":"staff-9"})",
       "owner staff-9"},
  };
  for (const Case& c : cases) {
    INFO(c.type << " " << c.data);
    Status s = log.Append("customer-1", c.type, "staff-1", at, c.data);
    CHECK(s.code() == StatusCode::kRuleViolation);
    CHECK_THAT(s.message(), Catch::Contains("rule 'assignment'"));
    CHECK_THAT(s.message(), Catch::Contains(c.who));
  }
  REQUIRE(log.Append("customer-1", "request.opened", "staff-1", at, R"({"request_id":"r1","title":"q"})").ok());
  Status assignee = log.Append("customer-1", "request.assigned", "staff-1", at, R"({"request_id":"r1","assignee":"staff-2"})");
  CHECK_THAT(assignee.message(), Catch::Contains("assignee staff-2 left"));
  CHECK(log.Append("customer-1", "request.assigned", "staff-1", at, R"({"request_id":"r1","assignee":"staff-1"})").ok());
  Status successor = log.Append("staff-1", "staff.departure_announced", kHr, at,
                                R"({"effective_at":"2025-09-30T00:00:00Z","successor":"staff-2"})");
  CHECK_THAT(successor.message(), Catch::Contains("successor staff-2"));
}

TEST_CASE("a registered principal acts and reads as staff do, but nothing is ever assigned to them", "[rules]") {
  Log log;
  Join(log, "staff-1");
  const char* at = "2025-08-01T00:00:00Z";
  // Before registration they cannot act.
  CHECK(log.Append("customer-1", "note.added", "staff-900", at, R"({"text":"x"})").code() == StatusCode::kRuleViolation);
  REQUIRE(log.Append("staff-900", "principal.registered", kHr, at,
                     R"({"kind":"auditor","role":"auditor","organization":"Audit GmbH"})")
              .ok());
  CHECK(log.Append("customer-1", "note.added", "staff-900", at, R"({"text":"audit started"})").ok());
  CHECK(log.Append("access-staff-900", "data.viewed", "staff-900", at,
                   R"({"view":"customer_profile","customers":["customer-1"],"records":1,"interface":"api"})")
            .ok());
  // Registered twice is refused, as joining twice is.
  CHECK_THAT(log.Append("staff-900", "principal.registered", kHr, at, R"({"kind":"auditor","role":"auditor"})").message(),
             Catch::Contains("already joined"));
  // Nothing is assigned to them, whatever the way.
  for (const auto& [type, data] : std::vector<std::pair<std::string, std::string>>{
           {"customer.owner_assigned", R"({"owner":"staff-900","reason":"initial"})"},
           {"commitment.made", R"({"commitment_id":"c1","promise":"p","due_at":"2025-09-01T00:00:00Z","owner":"staff-900"})"},
       }) {
    INFO(type);
    Status s = log.Append("customer-1", type, "staff-1", at, data);
    CHECK(s.code() == StatusCode::kRuleViolation);
    CHECK_THAT(s.message(), Catch::Contains("rule 'assignment'"));
    CHECK_THAT(s.message(), Catch::Contains("staff-900 is a registered auditor"));
  }
  Status successor = log.Append("staff-1", "staff.departure_announced", kHr, at,
                                R"({"effective_at":"2025-09-30T00:00:00Z","successor":"staff-900"})");
  CHECK_THAT(successor.message(), Catch::Contains("registered auditor"));
  // Removed as staff leave: they can no longer act.
  Leave(log, "staff-900", "2025-08-02T00:00:00Z");
  CHECK(log.Append("customer-1", "note.added", "staff-900", "2025-08-03T00:00:00Z", R"({"text":"x"})").code() ==
        StatusCode::kRuleViolation);
  // A member of staff who joins under an id a principal once had is staff.
  Join(log, "staff-900", "2025-09-01T00:00:00Z");
  CHECK(log.Append("customer-1", "customer.owner_assigned", "staff-1", "2025-09-02T00:00:00Z",
                   R"({"owner":"staff-900","reason":"initial"})")
            .ok());
}

TEST_CASE("API tokens are made and revoked only by an admin, name an employed holder, are made once and revoked once",
          "[rules]") {
  Log log;
  const char* at = "2025-08-01T00:00:00Z";
  REQUIRE(log.Append("staff-1", "staff.joined", kHr, at, R"({"role":"admin"})").ok());
  Join(log, "staff-2");  // account_executive
  Join(log, "staff-3");
  Leave(log, "staff-3", "2025-07-31T00:00:00Z");
  const std::string hash = "sha256:" + std::string(64, 'a');
  const auto created = [&](const std::string& actor, const std::string& data) {
    return log.Append("tokens", "token.created", actor, at, data);
  };
  const std::string rep = R"({"token_id":"tok-1","role":"rep","name":"n","staff":"staff-2","secret_hash":")" + hash + "\"}";
  for (const auto& [actor, why] : std::vector<std::pair<std::string, std::string>>{
           {"system:cli", "not by system:cli"}, {"staff-2", "staff-2's role is account_executive"}}) {
    Status s = created(actor, rep);
    CHECK(s.code() == StatusCode::kRuleViolation);
    CHECK_THAT(s.message(), Catch::Contains("rule 'tokens'"));
    CHECK_THAT(s.message(), Catch::Contains(why));
  }
  CHECK_THAT(created("staff-1", R"({"token_id":"tok-1","role":"rep","name":"n","secret_hash":")" + hash + "\"}").message(),
             Catch::Contains("names the member of staff"));
  CHECK_THAT(created("staff-1", R"({"token_id":"tok-1","role":"rep","name":"n","staff":"staff-3","secret_hash":")" + hash +
                                    "\"}")
                 .message(),
             Catch::Contains("token holder staff-3 left"));
  CHECK_THAT(created("staff-1", R"({"token_id":"tok-1","role":"rep","name":"n","staff":"staff-2","secret_hash":"s3cret"})")
                 .message(),
             Catch::Contains("never the secret itself"));
  REQUIRE(created("staff-1", rep).ok());
  CHECK_THAT(created("staff-1", rep).message(), Catch::Contains("token id tok-1 is taken"));
  // An ingest token may name nobody.
  CHECK(created("staff-1", R"({"token_id":"tok-2","role":"ingest","name":"crm","secret_hash":")" + hash + "\"}").ok());
  // Revoked once, and only what exists.
  CHECK_THAT(log.Append("tokens", "token.revoked", "staff-1", at, R"({"token_id":"tok-9"})").message(),
             Catch::Contains("there is no token tok-9"));
  CHECK(log.Append("tokens", "token.revoked", "staff-2", at, R"({"token_id":"tok-1"})").code() ==
        StatusCode::kRuleViolation);
  REQUIRE(log.Append("tokens", "token.revoked", "staff-1", at, R"({"token_id":"tok-1"})").ok());
  CHECK_THAT(log.Append("tokens", "token.revoked", "staff-1", at, R"({"token_id":"tok-1"})").message(),
             Catch::Contains("revoked already"));
  Result<std::optional<std::string>> record = log.Get("token/tok-1");
  REQUIRE(record.ok());
  REQUIRE(*record);
  CHECK_THAT(**record, Catch::Contains("\"revoked_at\""));
  CHECK_THAT(**record, Catch::Contains(hash));
}

// The token an event came through (recorded_by) is the log's, unlike its
// actor: rule 'tokens' wants one made and not revoked as of the event, and
// rule 'fix' keeps a token off its holder's own staff record, and off every
// staff record while its holder is leaving.
TEST_CASE(
    "an event appended through a token: the token is in force at its position, and fixes no staff record of its "
    "holder, nor any while its holder is leaving",
    "[rules]") {
  Log log;
  const char* at = "2025-08-01T00:00:00Z";
  REQUIRE(log.Append("staff-1", "staff.joined", kHr, at, R"({"role":"admin"})").ok());
  REQUIRE(log.Append("staff-2", "staff.joined", kHr, at, R"({"role":"admin"})").ok());
  Join(log, "staff-21");
  const std::string hash = "sha256:" + std::string(64, 'a');
  for (const auto& [id, staff] : {std::pair{"tok-a", "staff-1"}, std::pair{"tok-b", "staff-2"}}) {
    REQUIRE(log.Append("tokens", "token.created", "staff-1", at,
                       std::string(R"({"token_id":")") + id + R"(","role":"admin","name":"n","staff":")" + staff +
                           R"(","secret_hash":")" + hash + "\"}")
                .ok());
  }
  log.through = "tok-zzz";
  Status unknown = log.Append("staff-30", "staff.joined", kHr, at, R"({"role":"account_executive"})");
  CHECK(unknown.code() == StatusCode::kRuleViolation);
  CHECK_THAT(unknown.message(),
             Catch::Contains("rule 'tokens'") && Catch::Contains("tok-zzz, which the log never made"));

  // staff-1's own announcement, through staff-1's token: not withdrawn by it,
  // whoever the event claims did it.
  log.through = "tok-a";
  EventId own, theirs;
  REQUIRE(
      log.Append("staff-1", "staff.departure_announced", kHr, at, R"({"effective_at":"2025-12-31T00:00:00Z"})", &own)
          .ok());
  const auto retract = [&](const std::string& stream, const EventId& id) {
    return log.Append(stream, "event.retracted", kHr, at,
                      R"({"event_id":")" + id.ToString() + R"(","reason":"by mistake"})");
  };
  Status self = retract("staff-1", own);
  CHECK_THAT(self.message(),
             Catch::Contains("rule 'fix'") && Catch::Contains("tok-a of staff-1, whose own staff record"));
  // Nor, while staff-1 is leaving, anyone's.
  REQUIRE(log.Append("staff-21", "staff.departure_announced", kHr, at, R"({"effective_at":"2025-12-31T00:00:00Z"})",
                     &theirs)
              .ok());
  Status leaving = retract("staff-21", theirs);
  CHECK_THAT(leaving.message(),
             Catch::Contains("rule 'fix'") && Catch::Contains("staff-1, who announced their departure"));
  // Another admin's token may; then staff-1's token may fix others' again.
  log.through = "tok-b";
  REQUIRE(retract("staff-1", own).ok());
  log.through = "tok-a";
  CHECK(retract("staff-21", theirs).ok());

  // A revoked token appends nothing after its revocation (in log order).
  log.through.clear();
  REQUIRE(log.Append("tokens", "token.revoked", "staff-1", at, R"({"token_id":"tok-b"})").ok());
  log.through = "tok-b";
  Status revoked = log.Append("staff-31", "staff.joined", kHr, at, R"({"role":"account_executive"})");
  CHECK_THAT(revoked.message(), Catch::Contains("rule 'tokens'") && Catch::Contains("tok-b, revoked at position"));
  // The command line (no token) is not bound by these.
  log.through.clear();
  CHECK(log.Append("staff-31", "staff.joined", kHr, at, R"({"role":"account_executive"})").ok());
  // Nor is a node applying a round another writer checked (whose build may
  // not have had these rules): the same history never stops a node.
  log.through = "tok-b";
  log.applying = true;
  CHECK(log.Append("staff-32", "staff.joined", kHr, at, R"({"role":"account_executive"})").ok());
  log.applying = false;

  // A token stops with its holder's employment, and a re-hire does not give it back.
  log.through.clear();
  REQUIRE(
      log.Append("tokens", "token.created", "staff-1", at,
                 R"({"token_id":"tok-c","role":"admin","name":"n","staff":"staff-2","secret_hash":")" + hash + "\"}")
          .ok());
  REQUIRE(log.Append("staff-2", "staff.departed", kHr, at, R"({})").ok());
  log.through = "tok-c";
  CHECK_THAT(log.Append("staff-33", "staff.joined", kHr, at, R"({"role":"account_executive"})").message(),
             Catch::Contains("tok-c of staff-2, who left"));
  log.through.clear();
  REQUIRE(log.Append("staff-2", "staff.joined", kHr, at, R"({"role":"admin"})").ok());
  log.through = "tok-c";
  CHECK_THAT(log.Append("staff-33", "staff.joined", kHr, at, R"({"role":"account_executive"})").message(),
             Catch::Contains("who joined again since it was made"));

  // A token's name is the admin's free text: it cannot pass for the record's
  // own members (the record is read in place, member by member).
  log.through.clear();
  REQUIRE(
      log.Append(
             "tokens", "token.created", "staff-1", at,
             R"({"token_id":"tok-d","role":"admin","name":"x\",\"staff\":\"staff-9\",\"revoked_at\":1,\"y\":\"\\","staff":"staff-1","secret_hash":")" +
                 hash + "\"}")
          .ok());
  log.through = "tok-d";
  CHECK(log.Append("staff-34", "staff.joined", kHr, at, R"({"role":"account_executive"})").ok());
  EventId mistaken;
  log.through.clear();
  REQUIRE(log.Append("staff-1", "staff.departure_announced", kHr, at, R"({"effective_at":"2025-12-31T00:00:00Z"})",
                     &mistaken)
              .ok());
  log.through = "tok-d";
  CHECK_THAT(retract("staff-1", mistaken).message(), Catch::Contains("tok-d of staff-1, whose own staff record"));
}

TEST_CASE("a request is answered only after it was opened, in the log and in business time", "[rules]") {
  Log log;
  Join(log, "staff-1");
  Status never = log.Append("customer-1", "request.responded", "staff-1", "2025-03-01T00:00:00Z", R"({"request_id":"r1"})");
  CHECK(never.code() == StatusCode::kRuleViolation);
  CHECK_THAT(never.message(), Catch::Contains("rule 'order'"));
  CHECK_THAT(never.message(), Catch::Contains("never opened"));
  REQUIRE(log.Append("customer-1", "request.opened", "staff-1", "2025-03-01T10:00:00Z",
                     R"({"request_id":"r1","title":"q"})")
              .ok());
  Status early = log.Append("customer-1", "request.responded", "staff-1", "2025-03-01T09:59:59Z", R"({"request_id":"r1"})");
  CHECK_THAT(early.message(), Catch::Contains("was opened at 2025-03-01T10:00:00Z"));
  CHECK(log.Append("customer-1", "request.responded", "staff-1", "2025-03-01T10:00:00Z", R"({"request_id":"r1"})").ok());
  // The same request id on another customer is another request.
  CHECK_FALSE(log.Append("customer-2", "request.resolved", "staff-1", "2025-03-02T00:00:00Z", R"({"request_id":"r1"})").ok());
  Status again = log.Append("customer-1", "request.opened", "staff-1", "2025-03-03T00:00:00Z",
                            R"({"request_id":"r1","title":"q"})");
  CHECK_THAT(again.message(), Catch::Contains("already exists"));
}

TEST_CASE("deals, commitments and corrected events that an event names must exist", "[rules]") {
  Log log;
  Join(log, "staff-1");
  const char* at = "2025-03-01T00:00:00Z";
  Status deal = log.Append("customer-1", "deal.won", "staff-1", at, R"({"deal_id":"d1"})");
  CHECK_THAT(deal.message(), Catch::Contains("rule 'reference'"));
  CHECK_THAT(deal.message(), Catch::Contains("deal d1 does not exist on customer-1 (no deal.opened for it)"));
  REQUIRE(log.Append("customer-1", "deal.opened", "staff-1", at,
                     R"({"deal_id":"d1","title":"t","value":1,"currency":"EUR","stage":"s"})")
              .ok());
  CHECK(log.Append("customer-1", "deal.won", "staff-1", at, R"({"deal_id":"d1"})").ok());

  Status kept = log.Append("customer-1", "commitment.fulfilled", "staff-1", at, R"({"commitment_id":"c1"})");
  CHECK_THAT(kept.message(), Catch::Contains("commitment c1 does not exist"));

  EventId note;
  REQUIRE(log.Append("customer-1", "note.added", "staff-1", at, R"({"text":"typo"})", &note).ok());
  const std::string missing = testing::RandomId().ToString();
  Status bad = log.Append("customer-1", "event.retracted", "staff-1", at,
                          R"({"event_id":")" + missing + R"(","reason":"wrong customer"})");
  CHECK_THAT(bad.message(), Catch::Contains(missing + ", is not in the log"));
  CHECK(log.Append("customer-1", "event.retracted", "staff-1", at,
                   R"({"event_id":")" + note.ToString() + R"(","reason":"wrong customer"})")
            .ok());
}

TEST_CASE("only the reader records on their own access stream: reads, exports and their fixes by anyone else are "
          "refused",
          "[rules]") {
  Log log;
  Join(log, "staff-3");
  Join(log, "staff-7");
  const char* at = "2025-03-01T00:00:00Z";
  const std::string exported = R"({"customers":["customer-1"],"records":500,"format":"csv"})";
  const std::string viewed = R"({"customers":["customer-1"],"view":"portfolio","count":1})";
  // staff-3 records an export as if staff-7 had made it: the alerts would blame staff-7.
  for (const auto& [type, data] : {std::pair{"data.exported", exported}, std::pair{"data.viewed", viewed}}) {
    INFO(type);
    Status forged = log.Append("access-staff-7", type, "staff-3", at, data);
    CHECK(forged.code() == StatusCode::kRuleViolation);
    CHECK_THAT(forged.message(), Catch::Contains("rule 'reader'"));
    CHECK_THAT(forged.message(), Catch::Contains("on access-staff-7"));
    CHECK_THAT(forged.message(), Catch::Contains("actor staff-3 is not staff-7"));
    // Nor may a system actor speak for a reader.
    Status system = log.Append("access-staff-7", type, "system:crm-sync", at, data);
    CHECK_THAT(system.message(), Catch::Contains("rule 'reader'"));
    CHECK_THAT(system.message(), Catch::Contains("actor system:crm-sync is not staff-7"));
  }
  // staff-7's own records go in.
  EventId own;
  REQUIRE(log.Append("access-staff-7", "data.exported", "staff-7", at, exported, &own).ok());
  CHECK(log.Append("access-staff-3", "data.viewed", "staff-3", at, viewed).ok());

  // A record of a read is never fixed: not by someone else (rule 'reader': not their stream), nor by the
  // reader (rule 'fix').
  const std::string retract = R"({"event_id":")" + own.ToString() + R"(","reason":"never happened"})";
  const std::string correct = R"({"event_id":")" + own.ToString() + R"(","reason":"fewer","corrected":{"records":5}})";
  for (const auto& [type, data] : {std::pair{"event.retracted", retract}, std::pair{"event.corrected", correct}}) {
    for (const char* actor : {"staff-3", "staff-7"}) {
      INFO(type << " by " << actor);
      Status forged = log.Append("access-staff-7", type, actor, at, data);
      CHECK(forged.code() == StatusCode::kRuleViolation);
      if (std::string(actor) == "staff-3") {
        CHECK_THAT(forged.message(), Catch::Contains("rule 'reader'"));
      } else {
        CHECK_THAT(forged.message(), Catch::Contains("rule 'fix'") && Catch::Contains("is a data.exported"));
      }
    }
  }
  // A reader who left records nothing, on their own stream either.
  Leave(log, "staff-7", "2025-06-30T00:00:00Z");
  CHECK_THAT(log.Append("access-staff-7", "data.viewed", "staff-7", "2025-07-01T00:00:00Z", viewed).message(),
             Catch::Contains("rule 'actor'"));
}

TEST_CASE("a departure announcement withdrawn (retracted) gives back what announcing took, unless another is in force",
          "[rules]") {
  Log log;
  REQUIRE(log.Append("staff-21", "staff.joined", kHr, "2025-01-01T00:00:00Z", R"({"role":"head_of_sales"})").ok());
  auto configure = [&](const char* when) {
    return log.Append("alerts", "alerts.configured", "staff-21", when, R"({"mass_export_customers":5000})");
  };
  auto retract = [&](const EventId& id, const char* when) {
    return log.Append("staff-21", "event.retracted", kHr, when,
                      R"({"event_id":")" + id.ToString() + R"(","reason":"announced by mistake"})");
  };
  EventId mistaken;
  REQUIRE(log.Append("staff-21", "staff.departure_announced", kHr, "2025-04-01T09:00:00Z",
                     R"({"effective_at":"2025-04-30T00:00:00Z"})", &mistaken)
              .ok());
  CHECK_THAT(configure("2025-04-02T00:00:00Z").message(), Catch::Contains("announced their departure"));
  REQUIRE(retract(mistaken, "2025-04-03T00:00:00Z").ok());
  CHECK(configure("2025-04-04T00:00:00Z").ok());

  // Two announcements, the earlier withdrawn: the later one still holds.
  EventId first;
  REQUIRE(log.Append("staff-21", "staff.departure_announced", kHr, "2025-05-01T09:00:00Z",
                     R"({"effective_at":"2025-06-30T00:00:00Z"})", &first)
              .ok());
  REQUIRE(log.Append("staff-21", "staff.departure_announced", kHr, "2025-05-02T09:00:00Z",
                     R"({"effective_at":"2025-05-31T00:00:00Z"})")
              .ok());
  REQUIRE(retract(first, "2025-05-03T00:00:00Z").ok());
  CHECK_THAT(configure("2025-05-04T00:00:00Z").message(), Catch::Contains("announced their departure on 2025-05-02"));
}

TEST_CASE("the later of two departure announcements withdrawn: the earlier one holds again", "[rules]") {
  Log log;
  REQUIRE(log.Append("staff-21", "staff.joined", kHr, "2025-01-01T00:00:00Z", R"({"role":"head_of_sales"})").ok());
  REQUIRE(log.Append("staff-21", "staff.departure_announced", kHr, "2025-02-01T09:00:00Z",
                     R"({"effective_at":"2025-06-30T00:00:00Z"})")
              .ok());
  EventId later;
  REQUIRE(log.Append("staff-21", "staff.departure_announced", kHr, "2025-02-10T09:00:00Z",
                     R"({"effective_at":"2025-05-31T00:00:00Z"})", &later)
              .ok());
  REQUIRE(log.Append("staff-21", "event.retracted", kHr, "2025-02-11T00:00:00Z",
                     R"({"event_id":")" + later.ToString() + R"(","reason":"entered twice"})")
              .ok());
  Status s = log.Append("alerts", "alerts.configured", "staff-21", "2025-02-12T00:00:00Z",
                        R"({"mass_export_customers":5000})");
  CHECK(s.code() == StatusCode::kRuleViolation);
  CHECK_THAT(s.message(), Catch::Contains("announced their departure on 2025-02-01"));
}

TEST_CASE("a departure announcement is not fixed by the leaver, nor by anyone leaving", "[rules]") {
  Log log;
  REQUIRE(log.Append("staff-21", "staff.joined", kHr, "2025-01-01T00:00:00Z", R"({"role":"admin"})").ok());
  REQUIRE(log.Append("staff-22", "staff.joined", kHr, "2025-01-01T00:00:00Z", R"({"role":"admin"})").ok());
  EventId announced, other;
  REQUIRE(log.Append("staff-21", "staff.departure_announced", kHr, "2025-02-01T09:00:00Z",
                     R"({"effective_at":"2025-06-30T00:00:00Z"})", &announced)
              .ok());
  const std::string retraction = R"({"event_id":")" + announced.ToString() + R"(","reason":"changed my mind"})";
  Status self = log.Append("staff-21", "event.retracted", "staff-21", "2025-02-02T00:00:00Z", retraction);
  CHECK(self.code() == StatusCode::kRuleViolation);
  CHECK_THAT(self.message(), Catch::Contains("rule 'fix'") && Catch::Contains("the leaver may not fix it"));
  Status corrected = log.Append("staff-21", "event.corrected", "staff-21", "2025-02-02T00:00:00Z",
                                R"({"event_id":")" + announced.ToString() +
                                    R"(","corrected":{"effective_at":"2030-01-01T00:00:00Z"},"reason":"later"})");
  CHECK_THAT(corrected.message(), Catch::Contains("the leaver may not fix it"));
  // Another admin who is leaving too may not either.
  REQUIRE(log.Append("staff-22", "staff.departure_announced", kHr, "2025-02-01T10:00:00Z",
                     R"({"effective_at":"2025-06-30T00:00:00Z"})", &other)
              .ok());
  Status leaving = log.Append("staff-21", "event.retracted", "staff-22", "2025-02-02T00:00:00Z", retraction);
  CHECK_THAT(leaving.message(), Catch::Contains("staff-22 announced their departure on 2025-02-01T10:00:00Z"));
  // HR may.
  CHECK(log.Append("staff-21", "event.retracted", kHr, "2025-02-02T00:00:00Z", retraction).ok());
}

TEST_CASE("only a role with that duty changes the alert settings, and never someone who announced their departure",
          "[rules]") {
  Log log;
  auto join = [&](const std::string& staff, const std::string& role, const char* at = "2025-01-01T00:00:00Z") {
    REQUIRE(log.Append(staff, "staff.joined", kHr, at, R"({"role":")" + role + R"(","team":"north"})").ok());
  };
  join("staff-1", "account_executive");
  join("staff-3", "sales_manager");
  join("staff-20", "compliance_officer");
  join("staff-21", "head_of_sales");
  const char* at = "2025-03-01T00:00:00Z";
  const std::string looser = R"({"mass_export_customers":5000,"webhook":"off"})";
  auto configure = [&](const std::string& actor, const char* when = "2025-03-01T00:00:00Z") {
    return log.Append("alerts", "alerts.configured", actor, when, looser);
  };
  for (const char* staff : {"staff-1", "staff-3"}) {
    INFO(staff);
    Status s = configure(staff);
    CHECK(s.code() == StatusCode::kRuleViolation);
    CHECK_THAT(s.message(), Catch::Contains("rule 'settings'"));
    CHECK_THAT(s.message(), Catch::Contains(std::string(staff) + "'s role is "));
    CHECK_THAT(s.message(),
               Catch::Contains("alert settings are changed only by admin, compliance_officer, head_of_sales or "
                               "sales_director"));
  }
  CHECK_THAT(configure("staff-3").message(), Catch::Contains("role is sales_manager"));
  Status system = configure("system:crm-sync");
  CHECK_THAT(system.message(), Catch::Contains("rule 'settings'"));
  CHECK_THAT(system.message(), Catch::Contains("not by system:crm-sync"));
  CHECK(configure("staff-20").ok());
  CHECK(configure("staff-21").ok());

  // The duty follows the role.
  REQUIRE(log.Append("staff-3", "staff.role_changed", kHr, at, R"({"role":"sales_director"})").ok());
  CHECK(configure("staff-3").ok());
  REQUIRE(log.Append("staff-20", "staff.role_changed", kHr, at, R"({"role":"account_executive"})").ok());
  CHECK_THAT(configure("staff-20").message(), Catch::Contains("role is account_executive"));
  REQUIRE(log.Append("staff-20", "staff.role_changed", kHr, at, R"({"team":"south"})").ok());  // no role: unchanged
  CHECK_THAT(configure("staff-20").message(), Catch::Contains("role is account_executive"));

  // A head of sales who announces their departure can no longer touch the settings.
  REQUIRE(log.Append("staff-21", "staff.departure_announced", kHr, "2025-04-01T09:00:00Z",
                     R"({"effective_at":"2025-04-30T00:00:00Z"})")
              .ok());
  Status leaver = configure("staff-21", "2025-04-02T00:00:00Z");
  CHECK(leaver.code() == StatusCode::kRuleViolation);
  CHECK_THAT(leaver.message(), Catch::Contains("rule 'settings'"));
  CHECK_THAT(leaver.message(), Catch::Contains("staff-21 announced their departure on 2025-04-01T09:00:00Z"));
  // Nor after leaving.
  REQUIRE(log.Append("staff-21", "staff.departed", kHr, "2025-04-30T00:00:00Z", R"({})").ok());
  CHECK_THAT(configure("staff-21", "2025-05-01T00:00:00Z").message(), Catch::Contains("rule 'actor'"));
  // Rehired, as admin: no longer leaving.
  join("staff-21", "admin", "2026-01-01T00:00:00Z");
  CHECK(configure("staff-21", "2026-01-02T00:00:00Z").ok());
}

TEST_CASE("alert settings never write a credential to the log: a webhook URL is valid, and redacted with a "
          "fingerprint",
          "[rules]") {
  Log log;
  REQUIRE(log.Append("staff-20", "staff.joined", kHr, "2025-01-01T00:00:00Z", R"({"role":"compliance_officer"})").ok());
  const char* at = "2025-03-01T00:00:00Z";
  auto configure = [&](const std::string& data) {
    return log.Append("alerts", "alerts.configured", "staff-20", at, data);
  };
  const std::string fp = "sha256:0123456789abcdef0123456789abcdef";
  for (const std::string& url : {std::string("https://bot:secret@soc.example.com/hook"),
                                 std::string("https://soc.example.com/hook?token=secret"),
                                 std::string("https://***@soc.example.com/hook?token=secret")}) {
    INFO(url);
    Status s = configure(R"({"webhook":")" + url + R"(","webhook_fingerprint":")" + fp + R"("})");
    CHECK(s.code() == StatusCode::kRuleViolation);
    CHECK_THAT(s.message(), Catch::Contains("rule 'settings'"));
    CHECK_THAT(s.message(), Catch::Contains("the webhook URL carries a credential"));
    CHECK_THAT(s.message(), !Catch::Contains("secret@"));
    CHECK_THAT(s.message(), !Catch::Contains("token=secret"));
  }
  Status bad = configure(R"({"webhook":"https://soc.example.com:70000/hook"})");
  CHECK_THAT(bad.message(), Catch::Contains("field 'data.webhook': webhook URL: the port '70000' is not a number"));
  CHECK_THAT(configure(R"({"webhook":"ftp://soc.example.com/"})").message(), Catch::Contains("scheme 'ftp'"));
  Status no_fp = configure(R"({"webhook":"https://***@soc.example.com/hook"})");
  CHECK_THAT(no_fp.message(), Catch::Contains("needs its webhook_fingerprint"));
  CHECK_THAT(configure(R"({"webhook":"https://soc.example.com/hook","webhook_fingerprint":")" + fp + R"("})").message(),
             Catch::Contains("without a credential"));
  CHECK_THAT(configure(R"({"webhook":"off","webhook_fingerprint":")" + fp + R"("})").message(),
             Catch::Contains("without a webhook URL"));

  CHECK(configure(R"({"webhook":"https://***@soc.example.com/hook?token=***","webhook_fingerprint":")" + fp + R"("})")
            .ok());
  CHECK(configure(R"({"webhook":"http://soc.example.com:8080/hook"})").ok());
  CHECK(configure(R"({"webhook":"off"})").ok());
}

TEST_CASE("only a role whose duty is personal data erases or places and releases legal holds, never a system actor "
          "or someone who announced their departure",
          "[rules]") {
  Log log;
  auto join = [&](const std::string& staff, const std::string& role) {
    REQUIRE(log.Append(staff, "staff.joined", kHr, "2025-01-01T00:00:00Z", R"({"role":")" + role + R"("})").ok());
  };
  const char* at = "2025-03-01T00:00:00Z";
  auto hold = [&](const std::string& actor, const std::string& type, const std::string& id) {
    return log.Append("customer-1", type, actor, at,
                      R"({"subject":"contact-c-1","hold_id":")" + id + R"(","reason":"litigation"})");
  };
  auto erase = [&](const std::string& actor, const std::string& contact) {
    return log.Append("customer-1", "subject.erased", actor, at,
                      R"({"subject":"contact-)" + contact + R"(","details":"asked"})");
  };
  const std::string roles = "admin, compliance_officer, data_protection_officer or legal_counsel";

  int n = 10;
  for (const char* role : {"admin", "compliance_officer", "data_protection_officer", "legal_counsel"}) {
    INFO(role);
    const std::string staff = "staff-" + std::to_string(n++);
    join(staff, role);
    CHECK(hold(staff, "subject.hold_placed", "h-" + staff).ok());
    CHECK(hold(staff, "subject.hold_released", "h-" + staff).ok());
    CHECK(erase(staff, "by-" + staff).ok());
  }
  for (const char* role : {"account_executive", "sales_manager", "head_of_sales", "sales_director"}) {
    INFO(role);
    const std::string staff = "staff-" + std::to_string(n++);
    join(staff, role);
    const std::string said = staff + "'s role is " + role;
    Status placed = hold(staff, "subject.hold_placed", "h-" + staff);
    CHECK(placed.code() == StatusCode::kRuleViolation);
    CHECK_THAT(placed.message(), Catch::Contains("rule 'privacy'"));
    CHECK_THAT(placed.message(), Catch::Contains(said + "; legal holds are placed and released only by " + roles));
    Status erased = erase(staff, "by-" + staff);
    CHECK(erased.code() == StatusCode::kRuleViolation);
    CHECK_THAT(erased.message(), Catch::Contains("rule 'privacy'"));
    CHECK_THAT(erased.message(), Catch::Contains(said + "; personal data is erased only by " + roles));
  }
  // A hold placed by one who may is not released by one who may not.
  REQUIRE(hold("staff-10", "subject.hold_placed", "h-kept").ok());
  CHECK_THAT(hold("staff-14", "subject.hold_released", "h-kept").message(), Catch::Contains("rule 'privacy'"));
  CHECK(hold("staff-11", "subject.hold_released", "h-kept").ok());

  for (const char* system : {"system:crm-sync", "system:hr-sync"}) {
    INFO(system);
    Status s = erase(system, "by-system");
    CHECK(s.code() == StatusCode::kRuleViolation);
    CHECK_THAT(s.message(), Catch::Contains("rule 'privacy'"));
    CHECK_THAT(s.message(), Catch::Contains("personal data is erased by a named member of staff whose role is " +
                                            roles + ", not by " + system));
    CHECK_THAT(hold(system, "subject.hold_placed", "h-system").message(),
               Catch::Contains("legal holds are placed and released by a named member of staff"));
  }

  // The duty follows the role.
  REQUIRE(log.Append("staff-14", "staff.role_changed", kHr, at, R"({"role":"legal_counsel"})").ok());
  CHECK(erase("staff-14", "after-promotion").ok());
  REQUIRE(log.Append("staff-12", "staff.role_changed", kHr, at, R"({"role":"account_executive"})").ok());
  CHECK_THAT(erase("staff-12", "after-demotion").message(), Catch::Contains("staff-12's role is account_executive"));

  // A legal counsel who announced their departure no longer erases, nor
  // changes holds; once gone, the actor rule speaks.
  REQUIRE(log.Append("staff-13", "staff.departure_announced", kHr, "2025-02-01T09:00:00Z",
                     R"({"effective_at":"2025-04-30T00:00:00Z"})")
              .ok());
  Status leaving = erase("staff-13", "by-leaver");
  CHECK(leaving.code() == StatusCode::kRuleViolation);
  CHECK_THAT(leaving.message(), Catch::Contains("rule 'privacy'"));
  CHECK_THAT(leaving.message(), Catch::Contains("staff-13 announced their departure on 2025-02-01T09:00:00Z"));
  CHECK_THAT(leaving.message(), Catch::Contains("can no longer erase data or change holds"));
  CHECK_THAT(hold("staff-13", "subject.hold_placed", "h-leaver").message(),
             Catch::Contains("announced their departure"));
  REQUIRE(log.Append("staff-13", "staff.departed", kHr, "2025-04-30T00:00:00Z", R"({})").ok());
  CHECK_THAT(log.Append("customer-1", "subject.erased", "staff-13", "2025-05-01T00:00:00Z",
                        R"({"subject":"contact-gone","details":"asked"})")
                 .message(),
             Catch::Contains("rule 'actor'"));
}

TEST_CASE("a customer's own personal part is kept only for a person, and a refused registration records no kind",
          "[rules]") {
  Log log;
  const char* at = "2025-03-01T00:00:00Z";
  Status company = log.Append("customer-5", "customer.registered", kHr, at, R"({"name":"Eva Lda"})", nullptr,
                              R"({"email":"eva@example.com"})");
  CHECK(company.code() == StatusCode::kRuleViolation);
  CHECK_THAT(company.message(), Catch::Contains("rule 'subject'"));
  CHECK_THAT(company.message(), Catch::Contains("which is an organization, not a person"));
  // The refused registration left nothing: customer-5 registers as a person.
  REQUIRE(log.Append("customer-5", "customer.registered", kHr, at, R"({"kind":"individual"})", nullptr,
                     R"({"name":"Eva Sousa"})")
              .ok());
  CHECK(log.Append("customer-5", "note.added", kHr, at, R"({"text":"called"})", nullptr, R"({"notes":"prefers email"})")
            .ok());
  CHECK_THAT(log.Append("customer-5", "customer.updated", kHr, at, R"({"name":"Eva S."})").message(),
             Catch::Contains("customer-5 is a person: their name is personal data"));
}

TEST_CASE("a subject is erased once: a second erasure is refused naming the position and reason of the first",
          "[rules]") {
  Log log;
  REQUIRE(log.Append("staff-1", "staff.joined", kHr, "2025-01-01T00:00:00Z", R"({"role":"data_protection_officer"})")
              .ok());  // position 0
  const char* at = "2025-03-01T00:00:00Z";
  REQUIRE(log.Append("customer-1", "subject.erased", "staff-1", at,
                     R"({"subject":"contact-c-1","reason":"data_subject_request","details":"she asked on 3 March"})")
              .ok());  // position 1
  Status again = log.Append("customer-1", "subject.erased", "staff-1", at,
                            R"({"subject":"contact-c-1","reason":"retention_expired"})");
  CHECK(again.code() == StatusCode::kRuleViolation);
  CHECK_THAT(again.message(), Catch::Contains("rule 'erased'"));
  CHECK_THAT(again.message(),
             Catch::Contains("contact-c-1 of customer-1 was erased already (position 1: she asked on 3 March)"));

  // Without details the reason code is the reason.
  REQUIRE(log.Append("customer-1", "subject.erased", "staff-1", at,
                     R"({"subject":"contact-c-2","reason":"retention_expired"})")
              .ok());  // position 2
  CHECK_THAT(log.Append("customer-1", "subject.erased", "staff-1", at, R"({"subject":"contact-c-2"})").message(),
             Catch::Contains("contact-c-2 of customer-1 was erased already (position 2: retention_expired)"));

  // Another subject, or the same contact id at another customer, is another person.
  CHECK(log.Append("customer-2", "subject.erased", "staff-1", at, R"({"subject":"contact-c-1"})").ok());
  CHECK(log.Append("customer-1", "subject.erased", "staff-1", at, R"({"subject":"contact-c-10"})").ok());
}

TEST_CASE("an erasure is refused while a legal hold is in force and allowed once every hold is released", "[rules]") {
  Log log;
  REQUIRE(log.Append("staff-1", "staff.joined", kHr, "2025-01-01T00:00:00Z", R"({"role":"legal_counsel"})").ok());
  const char* at = "2025-03-01T00:00:00Z";
  auto hold = [&](const std::string& type, const std::string& id) {
    return log.Append("customer-1", type, "staff-1", at,
                      R"({"subject":"contact-c-1","hold_id":")" + id + R"(","reason":"litigation )" + id + R"("})");
  };
  auto erase = [&] {
    return log.Append("customer-1", "subject.erased", "staff-1", at, R"({"subject":"contact-c-1","details":"asked"})");
  };
  REQUIRE(hold("subject.hold_placed", "h1").ok());
  REQUIRE(hold("subject.hold_placed", "h2").ok());
  Status held = erase();
  CHECK(held.code() == StatusCode::kRuleViolation);
  CHECK_THAT(held.message(), Catch::Contains("rule 'hold'"));
  CHECK_THAT(held.message(),
             Catch::Contains("contact-c-1 of customer-1 is under legal hold h1 (litigation h1) and 1 more"));
  CHECK_THAT(hold("subject.hold_placed", "h1").message(), Catch::Contains("hold h1 is already in force"));
  REQUIRE(hold("subject.hold_released", "h1").ok());
  CHECK_THAT(hold("subject.hold_released", "h1").message(),
             Catch::Contains("hold h1 is not in force on contact-c-1 of customer-1"));
  CHECK_THAT(erase().message(), Catch::Contains("under legal hold h2"));
  // A hold on another contact does not keep this one.
  REQUIRE(log.Append("customer-1", "subject.hold_placed", "staff-1", at,
                     R"({"subject":"contact-c-2","hold_id":"h3","reason":"x"})")
              .ok());
  REQUIRE(hold("subject.hold_released", "h2").ok());
  CHECK(erase().ok());
}

}  // namespace
}  // namespace custodian
