// HTTP API tokens and registered principals: token create / list / revoke,
// principal add (service/tokens.h). Flags in, service call, printing out.
#include <fmt/core.h>

#include "core/time.h"
#include "service/tokens.h"
#include "tools/cli.h"

namespace custodian::cli {

int RunTokenCreate(const Globals& g, const std::string& role, const std::string& name, const std::string& staff_text,
                   bool json) {
  Result<std::string> actor = Reader(g, "token create");
  if (!actor.ok()) return UsageError(actor.status());
  std::string staff;
  if (!staff_text.empty()) {
    Result<std::string> s = StaffId(staff_text);
    if (!s.ok()) return UsageError(s.status().WithContext("--staff"));
    staff = *s;
  } else if (IsTokenRole(role) && role != "ingest") {  // an unknown role is refused by CreateToken
    // The log's rule 'tokens' refuses it too; said here in the command's terms.
    const std::string article = !role.empty() && std::string_view("aeiou").find(role[0]) != std::string_view::npos
                                    ? "an "
                                    : "a ";
    return UsageError(Status::InvalidArgument("--staff: " + article + role +
                                              " token acts for a member of staff or principal; name them (e.g. "
                                              "--staff 7), or make an ingest token, which acts for nobody"));
  }
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());
  Result<NewToken> t = CreateToken(**log, TokenRequest{role, name, staff, *actor, SystemClock().Now()});
  if (!t.ok()) return Fail(t.status());
  if (json) {
    fmt::print("{}\n", NewTokenToJson(*t));
    return kExitOk;
  }
  fmt::print("{}\n", t->token);
  fmt::print(stderr,
             "custodian: made token {} (role {}{}) at position {}. The line above is the token: it is shown this "
             "once, and only its hash is kept. Send it as \"Authorization: Bearer <token>\".\n",
             t->info.token_id, t->info.role, staff.empty() ? "" : ", for " + staff, t->info.created_at);
  return kExitOk;
}

int RunTokenList(const Globals& g, bool json) {
  Result<std::unique_ptr<EventLog>> log = OpenForReading(g);
  if (!log.ok()) return Fail(log.status());
  Result<std::vector<TokenInfo>> tokens = ListTokens(**log);
  if (!tokens.ok()) return Fail(tokens.status());
  if (json) {
    fmt::print("{}", TokensToJson(*tokens));
    return kExitOk;
  }
  if (tokens->empty()) {
    fmt::print("no tokens yet (custodian --as ADMIN token create --role ROLE --name NAME --staff ID)\n");
    return kExitOk;
  }
  fmt::print("{:<22} {:<8} {:<12} {:<10} {:>9} {}\n", "TOKEN", "ROLE", "STAFF", "BY", "POSITION", "NAME / STATE");
  for (const TokenInfo& t : *tokens) {
    fmt::print("{:<22} {:<8} {:<12} {:<10} {:>9} {}{}\n", t.token_id, t.role, t.staff.empty() ? "-" : t.staff,
               t.created_by, t.created_at, OneLineText(t.name, 40),
               t.revoked_at ? fmt::format("  [revoked at position {}]", *t.revoked_at) : std::string());
  }
  return kExitOk;
}

int RunTokenRevoke(const Globals& g, const std::string& token_id, const std::string& reason, bool json) {
  Result<std::string> actor = Reader(g, "token revoke");
  if (!actor.ok()) return UsageError(actor.status());
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());
  Result<uint64_t> position = RevokeToken(**log, token_id, *actor, reason, SystemClock().Now());
  if (!position.ok()) return Fail(position.status());
  if (json) {
    fmt::print("{{\"token_id\":\"{}\",\"revoked_at\":{}}}\n", token_id, *position);
  } else {
    fmt::print("revoked {} at position {}: it stops working at once\n", token_id, *position);
  }
  return kExitOk;
}

int RunPrincipalAdd(const Globals& g, const std::string& id, const std::string& kind, const std::string& role,
                    const std::string& organization, const std::string& by, bool json) {
  Result<std::string> staff = StaffId(id);
  if (!staff.ok()) return UsageError(staff.status().WithContext("--id"));
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());
  Result<uint64_t> position = RegisterPrincipal(
      **log, PrincipalRequest{*staff, kind, role.empty() ? kind : role, organization, by, SystemClock().Now()});
  if (!position.ok()) return Fail(position.status());
  if (json) {
    fmt::print("{{\"principal\":\"{}\",\"kind\":\"{}\",\"position\":{}}}\n", *staff, kind, *position);
  } else {
    fmt::print("registered {} ({}) at position {}: they may now read with --as {} and hold a token\n", *staff, kind,
               *position, *staff);
  }
  return kExitOk;
}

}  // namespace custodian::cli
