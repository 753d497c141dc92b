// HTTP API tokens and the principals they name (DESIGN.md, Identity and
// roles; docs/http-api.md, "Tokens and roles"). A token is
// "<token id>.<secret>": the id ("tok-" and 16 hex digits) says which
// token.created to look at, the secret (32 random bytes, base64url) is shown
// once, when it is made, and only its SHA-256 is ever written (rule 'tokens').
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "storage/event_log.h"

namespace custodian {

// The roles a token can carry, least to most.
inline constexpr std::string_view kTokenRoles[] = {"ingest", "rep", "manager", "auditor", "admin"};
bool IsTokenRole(std::string_view role);

struct TokenInfo {
  std::string token_id, role, name;
  std::string staff;  // whose token; empty for an ingest token that names nobody
  uint64_t created_at = 0;  // position of token.created
  std::string created_by;
  std::optional<uint64_t> revoked_at;  // position of token.revoked
};
std::string TokenInfoToJson(const TokenInfo& t);
// JSON Lines: one TokenInfoToJson per line (`token list --json`, GET /v1/tokens).
std::string TokensToJson(const std::vector<TokenInfo>& tokens);

struct TokenRequest {
  std::string role;   // kTokenRoles
  std::string name;   // what it is for
  std::string staff;  // staff-<id>; required for every role but ingest
  std::string actor;  // the admin who makes it (rule 'tokens')
  Timestamp now;
};
struct NewToken {
  TokenInfo info;
  std::string token;  // "<token id>.<secret>": shown once, never stored
};
// Appends token.created with a new id and the hash of a new secret.
// InvalidArgument for an unknown role; RuleViolation for what rule 'tokens'
// refuses (an actor who is not an admin, a holder who left, ...).
Result<NewToken> CreateToken(EventLog& log, const TokenRequest& request);
std::string NewTokenToJson(const NewToken& t);

// Every token made, oldest first, revoked ones with revoked_at.
Result<std::vector<TokenInfo>> ListTokens(const EventLog& log);

// Appends token.revoked; returns its position. NotFound for an unknown id.
Result<uint64_t> RevokeToken(EventLog& log, const std::string& token_id, const std::string& actor,
                             const std::string& reason, Timestamp now);

// Who a presented token is: the token in force whose secret hashes to the
// stored hash, and whose staff member has not left. Every failure is
// kFailedPrecondition with the same message ("invalid or revoked token"),
// so that a caller learns nothing about which tokens exist; `why` (when not
// null) gets the reason for the server's own log.
Result<TokenInfo> Authenticate(const EventLog& log, std::string_view token, std::string* why = nullptr);

// --- principals ---

struct PrincipalRequest {
  std::string id;      // staff-<id>
  std::string kind;    // auditor, data_protection_officer, outside_counsel, integration, other
  std::string role;    // as for staff: auditor, data_protection_officer, admin, ...
  std::string organization;
  std::string actor;   // who registers them, e.g. system:admin or an admin's staff id
  Timestamp now;
};
// Appends principal.registered on the principal's own stream; returns its position.
Result<uint64_t> RegisterPrincipal(EventLog& log, const PrincipalRequest& request);

}  // namespace custodian
