#include "service/tokens.h"

#include <catch2/catch.hpp>

#include <string>

#include "core/rules.h"
#include "core/time.h"
#include "storage/event_log.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

using testing::RandomId;
using testing::TempDir;

// A store with the log's rules: staff-1 an admin, staff-2 a rep, staff-900
// a registered auditor.
struct Store {
  TempDir tmp;
  std::unique_ptr<EventLog> log;
  const Timestamp now = *ParseRfc3339("2026-03-01T10:00:00Z");

  Store() {
    EventLogOptions options;
    options.create = CreateIfMissing::kYes;
    options.rules = CheckRules;
    Result<std::unique_ptr<EventLog>> r = EventLog::Open(tmp.Sub("store"), options);
    REQUIRE(r.ok());
    log = std::move(*r);
    Add("staff-1", "staff.joined", R"({"role":"admin"})");
    Add("staff-2", "staff.joined", R"({"role":"account_executive"})");
    Result<uint64_t> p = RegisterPrincipal(*log, PrincipalRequest{"staff-900", "auditor", "auditor", "Audit GmbH",
                                                                  "system:admin", now});
    INFO(p.status().ToString());
    REQUIRE(p.ok());
  }
  EventId Add(const std::string& stream, const std::string& type, const std::string& data) {
    Event e;
    e.id = RandomId();
    e.stream = stream;
    e.type = type;
    e.actor = "system:hr";
    e.occurred_at = now;
    e.data = data;
    REQUIRE(log->Append(stream, {e}, ExpectedVersion::Any()).ok());
    return e.id;
  }
  NewToken Make(const std::string& role, const std::string& staff) {
    Result<NewToken> t = CreateToken(*log, TokenRequest{role, "test", staff, "staff-1", now});
    INFO(t.status().ToString());
    REQUIRE(t.ok());
    return *t;
  }
};

TEST_CASE("a token authenticates as what it was made for, and no secret is ever written to the log", "[tokens]") {
  Store s;
  NewToken t = s.Make("auditor", "staff-900");
  Result<TokenInfo> who = Authenticate(*s.log, t.token);
  INFO(who.status().ToString());
  REQUIRE(who.ok());
  CHECK(who->token_id == t.info.token_id);
  CHECK(who->role == "auditor");
  CHECK(who->staff == "staff-900");
  // Only the hash: the secret is in no event.
  const std::string secret = t.token.substr(t.token.find('.') + 1);
  Result<std::vector<Event>> all = s.log->ReadAll(Position(0), 1000);
  REQUIRE(all.ok());
  for (const Event& e : *all) CHECK(e.data.find(secret) == std::string::npos);
  Result<std::vector<TokenInfo>> listed = ListTokens(*s.log);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().token_id == t.info.token_id);
  CHECK_FALSE(listed->front().revoked_at);
}

TEST_CASE("a wrong secret, an unknown or malformed token, a revoked token and a token whose holder left are all "
          "refused with the same message",
          "[tokens]") {
  Store s;
  NewToken rep = s.Make("rep", "staff-2");
  NewToken other = s.Make("ingest", "");
  std::string wrong = rep.token;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  const std::string swapped = rep.info.token_id + other.token.substr(other.token.find('.'));
  for (const std::string& bad : {wrong, swapped, std::string("tok-0000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                                 std::string("Bearer x"), std::string(""), rep.info.token_id}) {
    INFO(bad);
    std::string why;
    Result<TokenInfo> r = Authenticate(*s.log, bad, &why);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "invalid or revoked token");
    CHECK_FALSE(why.empty());
  }
  REQUIRE(Authenticate(*s.log, rep.token).ok());
  // The holder leaves: the token stops at once.
  s.Add("staff-2", "staff.departed", R"({})");
  std::string why;
  CHECK_FALSE(Authenticate(*s.log, rep.token, &why).ok());
  CHECK(why.find("has left") != std::string::npos);
  // Revoked: stops too; revoking twice is refused.
  REQUIRE(Authenticate(*s.log, other.token).ok());
  Result<uint64_t> revoked = RevokeToken(*s.log, other.info.token_id, "staff-1", "rotated", s.now);
  REQUIRE(revoked.ok());
  CHECK_FALSE(Authenticate(*s.log, other.token, &why).ok());
  CHECK(why.find("revoked") != std::string::npos);
  Result<uint64_t> again = RevokeToken(*s.log, other.info.token_id, "staff-1", "again", Timestamp(s.now.value() + 1000000));
  CHECK(again.status().code() == StatusCode::kRuleViolation);
  CHECK(RevokeToken(*s.log, "tok-ffffffffffffffff", "staff-1", "", s.now).status().code() == StatusCode::kNotFound);
  Result<std::vector<TokenInfo>> listed = ListTokens(*s.log);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  CHECK(listed->back().revoked_at == *revoked);
}

TEST_CASE("only an admin makes tokens, for a known role", "[tokens]") {
  Store s;
  CHECK(CreateToken(*s.log, TokenRequest{"superuser", "x", "staff-2", "staff-1", s.now}).status().code() ==
        StatusCode::kInvalidArgument);
  Result<NewToken> by_rep = CreateToken(*s.log, TokenRequest{"rep", "x", "staff-2", "staff-2", s.now});
  CHECK(by_rep.status().code() == StatusCode::kRuleViolation);
  Result<std::vector<TokenInfo>> listed = ListTokens(*s.log);
  REQUIRE(listed.ok());
  CHECK(listed->empty());
}

TEST_CASE("a token that reads every customer is bounded by its holder's own role, at creation and at every use",
          "[tokens]") {
  Store s;
  // An account executive may hold a rep or manager token, not an admin or auditor one.
  for (const char* role : {"admin", "auditor"}) {
    INFO(role);
    Result<NewToken> t = CreateToken(*s.log, TokenRequest{role, "x", "staff-2", "staff-1", s.now});
    CHECK(t.status().code() == StatusCode::kRuleViolation);
    CHECK(t.status().message().find("its holder's role is account_executive") != std::string::npos);
    CHECK(t.status().message().find("(staff-2)") != std::string::npos);
  }
  CHECK(CreateToken(*s.log, TokenRequest{"manager", "x", "staff-2", "staff-1", s.now}).ok());
  // A registered auditor holds an auditor token, not an admin one.
  CHECK(CreateToken(*s.log, TokenRequest{"admin", "x", "staff-900", "staff-1", s.now}).status().code() ==
        StatusCode::kRuleViolation);
  NewToken audit = s.Make("auditor", "staff-900");
  // So may a principal registered for another duty (outside counsel) and a
  // member of staff whose duty is personal data.
  REQUIRE(RegisterPrincipal(*s.log, PrincipalRequest{"staff-901", "outside_counsel", "outside_counsel", "Kanzlei",
                                                     "system:admin", s.now})
              .ok());
  CHECK(CreateToken(*s.log, TokenRequest{"auditor", "x", "staff-901", "staff-1", s.now}).ok());
  s.Add("staff-5", "staff.joined", R"({"role":"data_protection_officer"})");
  CHECK(CreateToken(*s.log, TokenRequest{"auditor", "x", "staff-5", "staff-1", s.now}).ok());
  CHECK(CreateToken(*s.log, TokenRequest{"admin", "x", "staff-5", "staff-1", s.now}).status().code() ==
        StatusCode::kRuleViolation);
  // A company-wide role holds an auditor token; an admin holds both.
  s.Add("staff-3", "staff.joined", R"({"role":"head_of_sales"})");
  NewToken head = s.Make("auditor", "staff-3");
  s.Add("staff-4", "staff.joined", R"({"role":"admin"})");
  NewToken admin = s.Make("admin", "staff-4");
  REQUIRE(Authenticate(*s.log, admin.token).ok());
  REQUIRE(Authenticate(*s.log, head.token).ok());
  // Demoted: their tokens stop at the next request, with the reason kept for the server.
  s.Add("staff-4", "staff.role_changed", R"({"role":"account_executive"})");
  s.Add("staff-3", "staff.role_changed", R"({"role":"sales_manager"})");
  for (const NewToken* t : {&admin, &head}) {
    std::string why;
    Result<TokenInfo> r = Authenticate(*s.log, t->token, &why);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "invalid or revoked token");
    CHECK(why.find("its holder's role is") != std::string::npos);
  }
  CHECK(Authenticate(*s.log, audit.token).ok());
  // Given the role back, the same token works again.
  s.Add("staff-4", "staff.role_changed", R"({"role":"admin"})");
  CHECK(Authenticate(*s.log, admin.token).ok());
}

TEST_CASE("a token of an earlier employment stays dead when its holder joins again, and nobody leaving gets a new one",
          "[tokens]") {
  Store s;
  NewToken rep = s.Make("rep", "staff-2");
  REQUIRE(Authenticate(*s.log, rep.token).ok());
  s.Add("staff-2", "staff.departed", R"({})");
  s.Add("staff-2", "staff.joined", R"({"role":"account_executive"})");
  std::string why;
  CHECK_FALSE(Authenticate(*s.log, rep.token, &why).ok());
  CHECK_THAT(why, Catch::Contains("left and joined again after it was made"));
  NewToken again = s.Make("rep", "staff-2");  // a new token for the new employment works
  CHECK(Authenticate(*s.log, again.token).ok());
  const EventId announced = s.Add("staff-2", "staff.departure_announced", R"({"effective_at":"2026-04-01T00:00:00Z"})");
  Result<NewToken> leaving = CreateToken(*s.log, TokenRequest{"rep", "x", "staff-2", "staff-1", s.now});
  CHECK(leaving.status().code() == StatusCode::kRuleViolation);
  CHECK_THAT(leaving.status().message(), Catch::Contains("token holder staff-2 announced their departure"));
  // The announcement withdrawn: a token again.
  s.Add("staff-2", "event.retracted", R"({"event_id":")" + announced.ToString() + R"(","reason":"by mistake"})");
  CHECK(CreateToken(*s.log, TokenRequest{"rep", "x", "staff-2", "staff-1", s.now}).ok());
}

}  // namespace
}  // namespace custodian
