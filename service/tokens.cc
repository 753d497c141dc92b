#include "service/tokens.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>

#include "core/base64.h"
#include "core/crypto.h"
#include "core/roles.h"
#include "core/sha256.h"
#include "core/text.h"
#include "core/types.h"

namespace custodian {

namespace json = boost::json;

namespace {

constexpr size_t kSecretBytes = 32;

std::string Str(const json::object& o, std::string_view k) {
  auto it = o.find(k);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}

std::string Base64Url(std::string_view bytes) {
  std::string s = Base64Encode(bytes);
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::string SecretHash(std::string_view secret) { return "sha256:" + HexOf(Sha256(secret)); }

Result<TokenInfo> Parse(const std::string& id, const std::string& record) {
  boost::system::error_code ec;
  json::value v = json::parse(record, ec);
  if (ec || !v.is_object()) return Status::Corruption("the rules' record of token " + id + " does not parse");
  const json::object& o = v.get_object();
  TokenInfo t;
  t.token_id = id;
  t.role = Str(o, "role");
  t.name = Str(o, "name");
  t.staff = Str(o, "staff");
  t.created_by = Str(o, "created_by");
  if (const json::value* p = o.if_contains("created_at"); p && p->is_number()) t.created_at = p->to_number<uint64_t>();
  if (const json::value* p = o.if_contains("revoked_at"); p && p->is_number()) t.revoked_at = p->to_number<uint64_t>();
  return t;
}

Result<std::optional<TokenInfo>> Find(const EventLog& log, const std::string& id, std::string* hash = nullptr) {
  Result<std::optional<std::string>> record = log.RuleRecord("token/" + id);
  if (!record.ok()) return record.status();
  if (!*record) return std::optional<TokenInfo>();
  Result<TokenInfo> t = Parse(id, **record);
  if (!t.ok()) return t.status();
  if (hash) {
    boost::system::error_code ec;
    json::value v = json::parse(**record, ec);
    if (!ec && v.is_object()) *hash = Str(v.get_object(), "secret_hash");
  }
  return std::optional<TokenInfo>(std::move(*t));
}

json::object InfoObject(const TokenInfo& t) {
  json::object o{{"token_id", t.token_id}, {"role", t.role},         {"name", t.name},
                 {"staff", t.staff},       {"created_at", t.created_at}, {"created_by", t.created_by}};
  o["revoked_at"] = t.revoked_at ? json::value(*t.revoked_at) : json::value(nullptr);
  return o;
}

Status AppendOne(EventLog& log, Event e, uint64_t* position) {
  e.id = EventId::FromSeed(e.stream + "\n" + e.type + "\n" + e.data + "\n" + std::to_string(e.occurred_at.value()));
  std::string stream = e.stream;
  Result<AppendResult> r = log.Append(stream, {std::move(e)}, ExpectedVersion::Any());
  if (!r.ok()) return r.status();
  *position = r->positions.front().value();
  return Status::Ok();
}

}  // namespace

bool IsTokenRole(std::string_view role) {
  return std::find(std::begin(kTokenRoles), std::end(kTokenRoles), role) != std::end(kTokenRoles);
}

std::string TokenInfoToJson(const TokenInfo& t) { return json::serialize(InfoObject(t)); }

std::string TokensToJson(const std::vector<TokenInfo>& tokens) {
  std::string out;
  for (const TokenInfo& t : tokens) out += TokenInfoToJson(t) + "\n";
  return out;
}

Result<NewToken> CreateToken(EventLog& log, const TokenRequest& request) {
  if (!IsTokenRole(request.role)) {
    return Status::InvalidArgument("role " + QuotedText(request.role, 40) +
                                   " is not a token role; one of ingest, rep, manager, auditor, admin");
  }
  if (request.name.empty()) return Status::InvalidArgument("a token needs a name that says what it is for, e.g. crm-integration");
  // The holder's own role bounds the token's, and nobody leaving gets one.
  // Checked here, where every token is made, and again at every use
  // (Authenticate); not in rule 'tokens', which a node replaying tokens made
  // before these checks would then stop at.
  Result<std::optional<std::string>> employed =
      request.staff.empty() ? Result<std::optional<std::string>>(std::optional<std::string>())
                            : log.RuleRecord("staff/" + request.staff);
  if (!employed.ok()) return employed.status();
  // Someone who never joined or has left is the rule's to refuse, saying so.
  if (*employed && (*employed)->starts_with("joined")) {
    Result<std::optional<std::string>> role = log.RuleRecord("role/" + request.staff);
    if (!role.ok()) return role.status();
    Result<std::optional<std::string>> principal = log.RuleRecord("principal/" + request.staff);
    if (!principal.ok()) return principal.status();
    const std::string refused =
        TokenRoleRefusal(request.role, role->value_or(""), *principal && !(*principal)->empty());
    if (!refused.empty()) return Status::RuleViolation("rule 'tokens': " + refused + " (" + request.staff + ")");
    Result<std::optional<std::string>> leaving = log.RuleRecord("leaving/" + request.staff);
    if (!leaving.ok()) return leaving.status();
    if (*leaving && !(*leaving)->empty()) {
      return Status::RuleViolation("rule 'tokens': token holder " + request.staff +
                                   " announced their departure; no new token is made for them");
    }
  }
  NewToken out;
  out.info.token_id = "tok-" + HexOf(Sha256(crypto::RandomBytes(16))).substr(0, 16);
  const std::string secret = Base64Url(crypto::RandomBytes(kSecretBytes));
  out.token = out.info.token_id + "." + secret;
  out.info.role = request.role;
  out.info.name = request.name;
  out.info.staff = request.staff;
  out.info.created_by = request.actor;
  json::object d{{"token_id", out.info.token_id}, {"role", request.role}, {"name", request.name}};
  if (!request.staff.empty()) d["staff"] = request.staff;
  d["secret_hash"] = SecretHash(secret);
  Event e;
  e.stream = "tokens";
  e.type = "token.created";
  e.actor = request.actor;
  e.occurred_at = request.now;
  e.source = "cli";
  e.data = json::serialize(d);
  CUSTODIAN_RETURN_IF_ERROR(AppendOne(log, std::move(e), &out.info.created_at));
  return out;
}

std::string NewTokenToJson(const NewToken& t) {
  json::object o = InfoObject(t.info);
  o["token"] = t.token;
  return json::serialize(o);
}

Result<std::vector<TokenInfo>> ListTokens(const EventLog& log) {
  Result<std::vector<std::pair<std::string, std::string>>> records = log.RuleRecords("token/");
  if (!records.ok()) return records.status();
  std::vector<TokenInfo> out;
  for (const auto& [id, value] : *records) {
    Result<TokenInfo> t = Parse(id, value);
    if (!t.ok()) return t.status();
    out.push_back(std::move(*t));
  }
  std::sort(out.begin(), out.end(), [](const TokenInfo& a, const TokenInfo& b) { return a.created_at < b.created_at; });
  return out;
}

Result<uint64_t> RevokeToken(EventLog& log, const std::string& token_id, const std::string& actor,
                             const std::string& reason, Timestamp now) {
  Result<std::optional<TokenInfo>> found = Find(log, token_id);
  if (!found.ok()) return found.status();
  if (!*found) return Status::NotFound("there is no token " + token_id + " (custodian token list shows them)");
  json::object d{{"token_id", token_id}};
  if (!reason.empty()) d["reason"] = reason;
  Event e;
  e.stream = "tokens";
  e.type = "token.revoked";
  e.actor = actor;
  e.occurred_at = now;
  e.source = "cli";
  e.data = json::serialize(d);
  uint64_t position = 0;
  CUSTODIAN_RETURN_IF_ERROR(AppendOne(log, std::move(e), &position));
  return position;
}

Result<TokenInfo> Authenticate(const EventLog& log, std::string_view token, std::string* why) {
  const auto refuse = [&](std::string reason) -> Status {
    if (why) *why = std::move(reason);
    return Status::FailedPrecondition("invalid or revoked token");
  };
  const size_t dot = token.find('.');
  if (dot == std::string_view::npos || dot != 20 || !token.starts_with("tok-") ||
      token.find_first_not_of("0123456789abcdef", 4) != dot || token.size() - dot - 1 < 16 ||
      token.size() > 200) {
    return refuse("malformed token");
  }
  const std::string id(token.substr(0, dot));
  std::string stored_hash;
  Result<std::optional<TokenInfo>> found = Find(log, id, &stored_hash);
  if (!found.ok()) return found.status();
  if (!*found) return refuse("no token " + id);
  if (!crypto::ConstantTimeEqual(SecretHash(token.substr(dot + 1)), stored_hash)) return refuse("wrong secret for " + id);
  if ((*found)->revoked_at) return refuse(id + " was revoked at position " + std::to_string(*(*found)->revoked_at));
  if (!(*found)->staff.empty()) {
    Result<std::optional<std::string>> staff = log.RuleRecord("staff/" + (*found)->staff);
    if (!staff.ok()) return staff.status();
    if (!*staff || !(*staff)->starts_with("joined")) return refuse(id + "'s holder " + (*found)->staff + " has left");
    // Joined again after leaving: a token of the earlier employment stays
    // dead (its holder's access then was ended on purpose).
    if (std::strtoull((*staff)->c_str() + 6, nullptr, 10) > (*found)->created_at) {
      return refuse(id + "'s holder " + (*found)->staff + " left and joined again after it was made");
    }
    // A holder whose role changed since keeps only what the new role carries.
    Result<std::optional<std::string>> role = log.RuleRecord("role/" + (*found)->staff);
    if (!role.ok()) return role.status();
    Result<std::optional<std::string>> principal = log.RuleRecord("principal/" + (*found)->staff);
    if (!principal.ok()) return principal.status();
    const std::string refused =
        TokenRoleRefusal((*found)->role, role->value_or(""), *principal && !(*principal)->empty());
    if (!refused.empty()) return refuse(id + ": " + refused);
  }
  return std::move(**found);
}

Result<uint64_t> RegisterPrincipal(EventLog& log, const PrincipalRequest& request) {
  json::object d{{"kind", request.kind}, {"role", request.role}};
  if (!request.organization.empty()) d["organization"] = request.organization;
  Event e;
  e.stream = request.id;
  e.type = "principal.registered";
  e.actor = request.actor;
  e.occurred_at = request.now;
  e.source = "cli";
  e.data = json::serialize(d);
  uint64_t position = 0;
  CUSTODIAN_RETURN_IF_ERROR(AppendOne(log, std::move(e), &position));
  return position;
}

}  // namespace custodian
