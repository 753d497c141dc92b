#include "core/rules.h"

#include <boost/json.hpp>
#include <charconv>

#include "core/catalogue.h"
#include "core/json.h"
#include "core/json_arena.h"
#include "core/personal.h"
#include "core/roles.h"
#include "core/text.h"
#include "core/time.h"
#include "core/webhook_url.h"

namespace json = boost::json;

namespace custodian {
namespace {

constexpr std::string_view kAccessPrefix = "access-";

// staff/<id> -> "joined <position>" or "left <position> <occurred_at micros>"
struct StaffRecord {
  bool joined = false;
  bool left = false;
  uint64_t position = 0;
  Timestamp left_at;
};

Result<StaffRecord> LoadStaff(RuleState& state, std::string_view staff) {
  Result<std::optional<std::string>> v = state.Get("staff/" + std::string(staff));
  if (!v.ok()) return v.status();
  StaffRecord r;
  if (!*v) return r;
  const std::string& s = **v;
  unsigned long long position = 0;
  long long at = 0;
  if (s.starts_with("joined ")) {
    r.joined = true;
    std::sscanf(s.c_str() + 7, "%llu", &position);
  } else if (s.starts_with("left ")) {
    r.joined = true;
    r.left = true;
    std::sscanf(s.c_str() + 5, "%llu %lld", &position, &at);
    r.left_at = Timestamp(at);
  }
  r.position = position;
  return r;
}

// role/<id> -> the role staff.joined or the latest staff.role_changed gave.
Result<std::string> LoadRole(RuleState& state, std::string_view staff) {
  Result<std::optional<std::string>> v = state.Get("role/" + std::string(staff));
  if (!v.ok()) return v.status();
  return *v ? **v : std::string();
}

// leaving/<id> -> "<position> <occurred_at micros>" of each departure
// announcement since they last joined and not retracted, ';' between, the
// latest last (the one in force); "" (or absent) when none is.
struct Announcement {
  uint64_t position = 0;
  Timestamp at;
};
std::vector<Announcement> ParseAnnouncements(std::string_view v) {
  std::vector<Announcement> out;
  while (!v.empty()) {
    const size_t semi = std::min(v.find(';'), v.size());
    unsigned long long position = 0;
    long long at = 0;
    if (std::sscanf(std::string(v.substr(0, semi)).c_str(), "%llu %lld", &position, &at) == 2) {
      out.push_back(Announcement{position, Timestamp(at)});
    }
    v.remove_prefix(std::min(semi + 1, v.size()));
  }
  return out;
}
std::string FormatAnnouncements(const std::vector<Announcement>& list) {
  std::string out;
  for (const Announcement& a : list) {
    if (!out.empty()) out += ';';
    out += std::to_string(a.position) + " " + std::to_string(a.at.value());
  }
  return out;
}
Result<std::optional<Announcement>> LoadAnnouncement(RuleState& state, std::string_view staff) {
  Result<std::optional<std::string>> v = state.Get("leaving/" + std::string(staff));
  if (!v.ok()) return v.status();
  if (!*v) return std::optional<Announcement>();
  const std::vector<Announcement> list = ParseAnnouncements(**v);
  if (list.empty()) return std::optional<Announcement>();
  return std::optional<Announcement>(list.back());
}

Status Broken(const char* rule, const Event& e, const std::string& why) {
  return Status::RuleViolation(std::string("rule '") + rule + "': " + e.type + " " + e.id.ToString() +
                                    " on " + e.stream + ": " + why);
}

std::string Str(const json::object& o, std::string_view k) {
  auto it = o.find(k);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}


// An alerts.configured's webhook is "off" or a valid URL whose credential,
// if any, is redacted and identified by its fingerprint: no credential is
// ever written to the log (core/webhook_url.h).
Status CheckWebhookSetting(const Event& e, const json::object& d) {
  const std::string webhook = Str(d, "webhook"), fingerprint = Str(d, "webhook_fingerprint");
  if (webhook.empty() || webhook == "off") {
    if (!fingerprint.empty()) return Broken("settings", e, "webhook_fingerprint is given without a webhook URL");
    return Status::Ok();
  }
  Result<WebhookUrl> url = ParseWebhookUrl(webhook);
  if (!url.ok()) return Broken("settings", e, "field 'data.webhook': " + url.status().message());
  if (!url->IsRedacted()) {
    return Broken("settings", e,
                  "the webhook URL carries a credential (a user and password, or a query value): the log keeps "
                  "only the URL with each replaced by *** and a webhook_fingerprint, the full URL stays in the "
                  "store's secrets file (custodian alerts config --set webhook=URL does both)");
  }
  const bool hex = fingerprint.size() == 39 && fingerprint.starts_with("sha256:") &&
                   fingerprint.find_first_not_of("0123456789abcdef", 7) == std::string::npos;
  if (url->HasCredential() && !hex) {
    return Broken("settings", e,
                  "a webhook URL with a redacted credential needs its webhook_fingerprint (sha256: and 32 hex "
                  "digits), got '" + fingerprint + "'");
  }
  if (!url->HasCredential() && !fingerprint.empty()) {
    return Broken("settings", e, "webhook_fingerprint is given for a webhook URL without a credential");
  }
  return Status::Ok();
}

// The staff member must be employed: joined and not left.
Status CheckEmployed(const char* rule, const Event& e, RuleState& state, const std::string& staff,
                     const char* role) {
  Result<StaffRecord> r = LoadStaff(state, staff);
  if (!r.ok()) return r.status();
  if (!r->joined) {
    return Broken(rule, e, std::string(role) + " " + staff + " has never joined (no staff.joined on " + staff + ")");
  }
  if (r->left) {
    return Broken(rule, e, std::string(role) + " " + staff + " left on " + FormatRfc3339(r->left_at) +
                               " (position " + std::to_string(r->position) + ")" +
                               (std::string_view(rule) == "actor" ? " and can no longer act"
                                                                  : "; nothing can be assigned to them"));
  }
  return Status::Ok();
}

std::string RefKey(const Event& e, std::string_view kind, std::string_view id) {
  return "ref/" + e.stream + "/" + std::string(kind) + "/" + std::string(id);
}

// The referenced deal, request or commitment was created earlier on this stream.
Result<std::optional<Timestamp>> LoadRef(RuleState& state, const Event& e, std::string_view kind,
                                         std::string_view id) {
  Result<std::optional<std::string>> v = state.Get(RefKey(e, kind, id));
  if (!v.ok()) return v.status();
  if (!*v) return std::optional<Timestamp>();
  const std::optional<int64_t> at = ParseInt64(**v);
  if (!at)
    return Status::Corruption("the rules' state " + RefKey(e, kind, id) + " holds " + QuotedText(**v) + ", not a time");
  return std::optional<Timestamp>(Timestamp(*at));
}

Status RequireRef(const Event& e, RuleState& state, std::string_view kind, std::string_view id,
                  const char* created_by, std::optional<Timestamp>* opened_at = nullptr) {
  Result<std::optional<Timestamp>> r = LoadRef(state, e, kind, id);
  if (!r.ok()) return r.status();
  if (!*r) {
    return Broken("reference", e,
                  std::string(kind) + " " + std::string(id) + " does not exist on " + e.stream + " (no " + created_by +
                      " for it)");
  }
  if (opened_at) *opened_at = *r;
  return Status::Ok();
}

Status CreateRef(const Event& e, RuleState& state, std::string_view kind, std::string_view id) {
  Result<std::optional<Timestamp>> r = LoadRef(state, e, kind, id);
  if (!r.ok()) return r.status();
  if (*r) {
    return Broken("reference", e, std::string(kind) + " " + std::string(id) + " already exists on " + e.stream +
                                      "; give a new one a new id");
  }
  state.Put(RefKey(e, kind, id), std::to_string(e.occurred_at.value()));
  return Status::Ok();
}

}  // namespace

const char* UnfixableReason(std::string_view type) {
  if (type == "subject.erased") return "the erasure destroyed the person's key, and nothing can bring the data back";
  if (type == "subject.hold_placed") return "a legal hold ends only with subject.hold_released, which records who lifted it";
  if (type == "subject.hold_released") return "a released hold is placed again with subject.hold_placed";
  if (type == "event.corrected" || type == "event.retracted") {
    return "fix the original event instead: correct it again, or retract it";
  }
  if (type == "data.viewed" || type == "data.exported") {
    return "a record of a read is the audit's evidence, and its reader could otherwise undo the reads the alerts "
           "watch";
  }
  if (type == "alerts.configured") return "the settings change with a new alerts.configured, which records who changed them";
  if (type == "alert.raised") return "an alert stands as raised: what answers it is recorded after it";
  return nullptr;
}

namespace {
Status CheckEvent(const Event& e, RuleState& state);
}  // namespace

Status CheckRules(const Event& e, RuleState& state) { return CheckEvent(e, state); }

namespace {

Status CannotBeFixed(const Event& e, const std::string& target, const std::string& type) {
  return Broken("fix", e,
                "the event it names, " + target + ", is a " + type + ", which cannot be " +
                    (e.type == "event.corrected" ? "corrected" : "retracted") + ": " + UnfixableReason(type));
}

// fix: what a correction names must make the fixed event one the log would
// have taken. Every projection folds the fixed event with the corrected
// fields in place (MergeJsonMembers, numbers as written), so a value of the
// wrong kind, an unknown field or an amount with three decimals would
// otherwise reach them unchecked. The ids that say which deal, request,
// promise, contact or event the original is about are not corrected: that
// would move its effect elsewhere, past the reference rules (and a contact's
// sealed part would name another person); it is retracted and recorded again.
Status CheckCorrection(const Event& e, const json::object& d, const Event& fixed) {
  const json::value* corrected = d.if_contains("corrected");
  if (corrected == nullptr || !corrected->is_object()) return Status::Ok();  // the catalogue refused it already
  for (const auto& [key, value] : corrected->get_object()) {
    if (key == "event_id" || key.ends_with("_id")) {
      return Broken("fix", e,
                    "field 'data.corrected." + std::string(key) + "': the correction would change which " +
                        std::string(key.substr(0, key.size() - 3)) + " the " + fixed.type + " " +
                        fixed.id.ToString() + " is about; retract it and record the right one instead");
    }
  }
  const std::optional<std::string_view> fields = JsonMemberText(e.data, "corrected");
  if (!fields) return Status::Ok();
  const std::string merged = MergeJsonMembers(fixed.data, *fields);
  if (Status s = ValidatePayload(fixed.type, fixed.schema, fixed.stream, merged); !s.ok()) {
    return Broken("fix", e,
                  "with the corrected fields, the " + fixed.type + " " + fixed.id.ToString() +
                      " would not be one the log takes: " + s.message() +
                      " (the fields are named as in the event it corrects)");
  }
  return Status::Ok();
}

Status CheckEvent(const Event& e, RuleState& state) {
  // The writer thread runs this for every event: parse on the stack.
  internal::ArenaJsonParser parser;
  Result<json::value> parsed = parser.Parse(e.data, "field 'data': ");
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object()) return Status::InvalidArgument("field 'data': not a JSON object");
  const json::object& d = parsed->get_object();
  const std::string& t = e.type;

  // The staff member an event on their own staff stream is about.
  const std::string subject = e.stream.starts_with("staff-") ? e.stream : std::string();

  // tokens: an event appended over the API names the token it came through
  // (recorded_by, set by the server). The token is one the log made and, as
  // of this position, has not revoked: a revocation recorded a moment
  // earlier is never raced past, whatever the node that took the request had
  // seen. Its holder is checked below (rule 'fix').
  std::string token_holder;
  if (!e.recorded_by.empty() && !state.Applying()) {
    Result<std::optional<std::string>> token = state.Get("token/" + e.recorded_by);
    if (!token.ok()) return token.status();
    if (!*token) return Broken("tokens", e, "it came through token " + e.recorded_by + ", which the log never made");
    // The record as rule 'tokens' wrote it (below): read in place, as every
    // event appended over the API passes here.
    if (const std::optional<std::string_view> revoked = JsonMemberText(**token, "revoked_at")) {
      return Broken("tokens", e,
                    "it came through token " + e.recorded_by + ", revoked at position " + std::string(*revoked) +
                        ": a revoked token appends nothing");
    }
    const std::string_view staff = JsonMemberText(**token, "staff").value_or("\"\"");
    if (staff.size() < 2 || staff.front() != '"' || staff.back() != '"') {
      return Status::Corruption("the rules' record of token " + e.recorded_by + " does not parse");
    }
    token_holder = std::string(staff.substr(1, staff.size() - 2));  // a staff id: nothing escaped
    // A token stops when its holder leaves, and is not given back by a
    // re-hire (service/tokens.cc, Authenticate): nor does it append.
    if (!token_holder.empty()) {
      Result<StaffRecord> holder = LoadStaff(state, token_holder);
      if (!holder.ok()) return holder.status();
      uint64_t created_at = 0;
      const std::string_view created = JsonMemberText(**token, "created_at").value_or("");
      (void)std::from_chars(created.data(), created.data() + created.size(), created_at);
      if (holder->left || !holder->joined || holder->position > created_at) {
        return Broken("tokens", e,
                      "it came through token " + e.recorded_by + " of " + token_holder + ", who " +
                          (holder->left     ? "left"
                           : holder->joined ? "joined again since it was made"
                                            : "never joined") +
                          ": their token appends nothing");
      }
    }
  }

  // actor: a staff actor is employed. (Joining makes the staff member exist;
  // it is recorded by someone else, e.g. system:hr-sync.)
  if (e.actor.starts_with("staff-")) {
    if ((t == "staff.joined" || t == "principal.registered") && e.actor == subject) {
      return Broken("actor", e, e.actor + " cannot record their own joining");
    }
    CUSTODIAN_RETURN_IF_ERROR(CheckEmployed("actor", e, state, e.actor, "actor"));
  }

  // reader: an access stream holds its reader's own records. Whoever could
  // write access-staff-7 as someone else could make the alerts blame staff-7,
  // or correct or retract staff-7's reads.
  if (e.stream.starts_with(kAccessPrefix)) {
    const std::string_view reader = std::string_view(e.stream).substr(kAccessPrefix.size());
    if (e.actor != reader) {
      return Broken("reader", e,
                    "actor " + e.actor + " is not " + std::string(reader) + ": " + e.stream + " holds only " +
                        std::string(reader) + "'s own reads and exports, recorded by " + std::string(reader) +
                        " (a read is recorded on its reader's own access-<staff> stream)");
    }
  }

  // settings: the alert rules' settings are changed only by a member of
  // staff whose role carries that duty, and never by a leaver (who would
  // switch off the watch on their own exports).
  if (t == "alerts.configured") {
    if (!e.actor.starts_with("staff-")) {
      return Broken("settings", e,
                    "alert settings are changed by a named member of staff whose role is " +
                        AlertSettingsRolesText() + ", not by " + e.actor);
    }
    Result<std::string> role = LoadRole(state, e.actor);
    if (!role.ok()) return role.status();
    if (!ChangesAlertSettings(*role)) {
      return Broken("settings", e,
                    e.actor + "'s role is " + (role->empty() ? std::string("not known to the log") : *role) +
                        "; alert settings are changed only by " + AlertSettingsRolesText());
    }
    Result<std::optional<Announcement>> leaving = LoadAnnouncement(state, e.actor);
    if (!leaving.ok()) return leaving.status();
    if (*leaving) {
      return Broken("settings", e,
                    e.actor + " announced their departure on " + FormatRfc3339((*leaving)->at) + " (position " +
                        std::to_string((*leaving)->position) + ") and can no longer change alert settings");
    }
    CUSTODIAN_RETURN_IF_ERROR(CheckWebhookSetting(e, d));
  }

  // assignment: whoever work goes to is employed.
  auto assignable = [&](const std::string& staff, const char* role) -> Status {
    CUSTODIAN_RETURN_IF_ERROR(CheckEmployed("assignment", e, state, staff, role));
    Result<std::optional<std::string>> principal = state.Get("principal/" + staff);
    if (!principal.ok()) return principal.status();
    if (*principal && !(*principal)->empty()) {
      return Broken("assignment", e,
                    std::string(role) + " " + staff + " is a registered " + **principal +
                        " (principal.registered), not a member of the sales staff: customers and work are not "
                        "assigned to them");
    }
    return Status::Ok();
  };
  auto assigned = [&](std::string_view field, const char* role) -> Status {
    const std::string staff = Str(d, field);
    return staff.empty() ? Status::Ok() : assignable(staff, role);
  };
  if (t == "customer.owner_assigned") CUSTODIAN_RETURN_IF_ERROR(assigned("owner", "new owner"));
  if (t == "request.assigned") CUSTODIAN_RETURN_IF_ERROR(assigned("assignee", "assignee"));
  if (t == "commitment.made" || t == "deal.opened" || t == "commitment.reassigned") {
    CUSTODIAN_RETURN_IF_ERROR(assigned("owner", "owner"));
  }
  if (t == "staff.departure_announced") CUSTODIAN_RETURN_IF_ERROR(assigned("successor", "successor"));
  if (t == "handover.planned") {
    if (auto it = d.find("assignments"); it != d.end() && it->value().is_array()) {
      for (const json::value& a : it->value().get_array()) {
        if (!a.is_object()) continue;
        const std::string to = Str(a.get_object(), "to");
        if (!to.empty()) CUSTODIAN_RETURN_IF_ERROR(assignable(to, "successor"));
      }
    }
  }

  // subject: a customer's own personal data (no contact named) is kept only
  // for a customer who is a natural person.
  if (t == "customer.updated" && (!Str(d, "name").empty() || !Str(d, "address").empty())) {
    Result<std::optional<std::string>> kind = state.Get("kind/" + e.stream);
    if (!kind.ok()) return kind.status();
    if (kind->value_or("") == "individual") {
      const std::string field = Str(d, "name").empty() ? "address" : "name";
      return Broken("subject", e,
                    e.stream + " is a person: their " + field + " is personal data and goes in the event's personal "
                    "part (personal." + field + "), which the log seals, not in data." + field);
    }
  }
  if (!e.personal.empty() || !e.personal_plain.empty()) {
    Result<std::string> whose = e.personal.empty() ? PersonalSubject(e) : Result<std::string>(e.personal.subject);
    if (!whose.ok()) return whose.status();
    if (*whose == e.stream) {
      Result<std::optional<std::string>> kind = state.Get("kind/" + e.stream);
      if (!kind.ok()) return kind.status();
      const std::string k = t == "customer.registered" ? (Str(d, "kind").empty() ? "organization" : Str(d, "kind"))
                                                        : kind->value_or("");
      if (k != "individual") {
        return Broken("subject", e,
                      "its personal part names no contact (data.contact_id), so it would be about " + e.stream +
                          " itself, which is " + (k.empty() ? "not registered" : "an " + k) +
                          ", not a person; name the contact it is about");
      }
    }
  }
  // Recorded once accepted (a refused event changes no state).
  if (t == "customer.registered") {
    state.Put("kind/" + e.stream, Str(d, "kind").empty() ? "organization" : Str(d, "kind"));
  }

  // privacy: erasures and legal holds are made by a named member of staff
  // whose role carries that duty, and never by a leaver.
  if (t == "subject.hold_placed" || t == "subject.hold_released" || t == "subject.erased") {
    const std::string what = t == "subject.erased" ? "personal data is erased" : "legal holds are placed and released";
    if (!e.actor.starts_with("staff-")) {
      return Broken("privacy", e, what + " by a named member of staff whose role is " + PrivacyRolesText() + ", not by " +
                                      e.actor);
    }
    Result<std::string> role = LoadRole(state, e.actor);
    if (!role.ok()) return role.status();
    if (!HandlesPersonalData(*role)) {
      return Broken("privacy", e,
                    e.actor + "'s role is " + (role->empty() ? std::string("not known to the log") : *role) + "; " +
                        what + " only by " + PrivacyRolesText());
    }
    Result<std::optional<Announcement>> leaving = LoadAnnouncement(state, e.actor);
    if (!leaving.ok()) return leaving.status();
    if (*leaving) {
      return Broken("privacy", e,
                    e.actor + " announced their departure on " + FormatRfc3339((*leaving)->at) + " (position " +
                        std::to_string((*leaving)->position) + ") and can no longer erase data or change holds");
    }
  }

  // tokens: HTTP API tokens are made and revoked by a member of staff whose
  // role is admin, never by a leaver; a token of any role but ingest names an
  // employed member of staff (whose reads it makes, and who may not be
  // someone leaving when it is made; CreateToken checks that, and that the
  // holder's role bounds the token's, outside the rules, so that replaying
  // tokens made before those checks never stops a node); a token id is used once; only a token
  // in force is revoked. "token/<id>" keeps it: the server looks tokens up there.
  if (t == "token.created" || t == "token.revoked") {
    if (!e.actor.starts_with("staff-")) {
      return Broken("tokens", e, "API tokens are made and revoked by a named member of staff whose role is admin, not by " +
                                     e.actor);
    }
    Result<std::string> role = LoadRole(state, e.actor);
    if (!role.ok()) return role.status();
    if (*role != "admin") {
      return Broken("tokens", e,
                    e.actor + "'s role is " + (role->empty() ? std::string("not known to the log") : *role) +
                        "; API tokens are made and revoked only by an admin");
    }
    Result<std::optional<Announcement>> leaving = LoadAnnouncement(state, e.actor);
    if (!leaving.ok()) return leaving.status();
    if (*leaving) {
      return Broken("tokens", e, e.actor + " announced their departure on " + FormatRfc3339((*leaving)->at) +
                                     " and can no longer make or revoke API tokens");
    }
    const std::string id = Str(d, "token_id");
    const std::string key = "token/" + id;
    Result<std::optional<std::string>> before = state.Get(key);
    if (!before.ok()) return before.status();
    if (t == "token.created") {
      if (*before) return Broken("tokens", e, "token id " + id + " is taken; a new token has a new id");
      const std::string token_role = Str(d, "role"), staff = Str(d, "staff"), hash = Str(d, "secret_hash");
      if (staff.empty() && token_role != "ingest") {
        return Broken("tokens", e, "a " + token_role + " token names the member of staff it acts for (data.staff)");
      }
      if (!staff.empty()) {
        CUSTODIAN_RETURN_IF_ERROR(CheckEmployed("tokens", e, state, staff, "token holder"));
      }
      if (hash.size() != 71 || !hash.starts_with("sha256:") ||
          hash.find_first_not_of("0123456789abcdef", 7) != std::string::npos) {
        return Broken("tokens", e, "data.secret_hash is sha256: and 64 lower-case hex digits, never the secret itself");
      }
      state.Put(key, json::serialize(json::object{{"role", token_role},
                                                  {"name", Str(d, "name")},
                                                  {"staff", staff},
                                                  {"secret_hash", hash},
                                                  {"created_at", e.position.value()},
                                                  {"created_by", e.actor}}));
    } else {
      if (!*before) return Broken("tokens", e, "there is no token " + id);
      boost::system::error_code ec;
      json::value v = json::parse(**before, ec);
      if (ec || !v.is_object()) return Status::Corruption("the rules' record of token " + id + " does not parse");
      json::object& o = v.as_object();
      if (o.contains("revoked_at")) {
        return Broken("tokens", e, "token " + id + " was revoked already (position " +
                                       json::serialize(o.at("revoked_at")) + ")");
      }
      o["revoked_at"] = e.position.value();
      state.Put(key, json::serialize(o));
    }
  }

  // erased: a subject is erased once; the log keeps who and why
  // ("erased/<subject id>"), and the store destroys the key when it commits
  // the event (storage/event_log.h, "Personal data").
  // Recorded once rule 'hold' below has let the erasure through: a refused
  // event changes no state.
  std::optional<std::pair<std::string, std::string>> erased_record;
  if (t == "subject.erased") {
    Result<ErasureOf> erasure = ErasureIn(e);
    if (!erasure.ok()) return erasure.status();
    const std::string key = "erased/" + erasure->subject_id;
    Result<std::optional<std::string>> before = state.Get(key);
    if (!before.ok()) return before.status();
    if (*before) {
      return Broken("erased", e, Str(d, "subject") + " of " + e.stream + " was erased already (" + **before + ")");
    }
    erased_record.emplace(key, "position " + std::to_string(e.position.value()) +
                                   (erasure->reason.empty() ? std::string() : ": " + erasure->reason));
  }

  // erased: nothing personal is recorded again about an erased subject.
  if (!e.personal_plain.empty() || !e.personal.empty()) {
    // The subject as PersonalSubject gives it, from the data parsed above
    // (the writer's events are sealed already and name it).
    const std::string contact = Str(d, "contact_id");
    const std::string subject_id = !e.personal.empty() ? e.personal.subject
                                   : contact.empty()   ? e.stream
                                                       : SubjectIdOf(e.stream, "contact-" + contact);
    const std::string* whose = &subject_id;
    Result<std::optional<std::string>> erased = state.Get("erased/" + *whose);
    if (!erased.ok()) return erased.status();
    if (*erased) {
      return Broken("erased", e,
                    "the personal data of " + *whose + " was erased (" + **erased +
                        "); nothing personal about them is recorded again (record the event without its personal part)");
    }
  }

  // hold: a legal hold keeps a subject's personal data; no erasure while one is in force.
  if (t == "subject.hold_placed" || t == "subject.hold_released" || t == "subject.erased") {
    const std::string key = "holds/" + e.stream + "/" + Str(d, "subject");
    Result<std::optional<std::string>> stored = state.Get(key);
    if (!stored.ok()) return stored.status();
    json::object holds;
    if (*stored) {
      boost::system::error_code ec;
      json::value v = json::parse(**stored, ec);
      if (!ec && v.is_object()) holds = v.as_object();
    }
    const std::string hold_id = Str(d, "hold_id");
    if (t == "subject.hold_placed") {
      if (holds.contains(hold_id)) {
        return Broken("hold", e, "hold " + hold_id + " is already in force on " + Str(d, "subject") + " of " + e.stream);
      }
      holds[hold_id] = Str(d, "reason");
      state.Put(key, json::serialize(holds));
    } else if (t == "subject.hold_released") {
      if (!holds.contains(hold_id)) {
        return Broken("hold", e, "hold " + hold_id + " is not in force on " + Str(d, "subject") + " of " + e.stream);
      }
      holds.erase(hold_id);
      state.Put(key, json::serialize(holds));
    } else if (!holds.empty()) {
      const auto& first = *holds.begin();
      return Broken("hold", e,
                    Str(d, "subject") + " of " + e.stream + " is under legal hold " + std::string(first.key()) + " (" +
                        (first.value().is_string() ? std::string(first.value().get_string()) : std::string()) + ")" +
                        (holds.size() > 1 ? " and " + std::to_string(holds.size() - 1) + " more" : "") +
                        "; its personal data must be kept until the hold is released");
    }
  }
  if (erased_record) state.Put(std::move(erased_record->first), std::move(erased_record->second));

  // Staff lifecycle, on the staff member's own stream.
  if (t == "staff.joined" || t == "principal.registered") {
    Result<StaffRecord> r = LoadStaff(state, subject);
    if (!r.ok()) return r.status();
    if (r->joined && !r->left) return Broken("actor", e, subject + " has already joined and not left");
    state.Put("staff/" + subject, "joined " + std::to_string(e.position.value()));
    state.Put("role/" + subject, Str(d, "role"));
    state.Put("leaving/" + subject, "");  // rehired: no longer leaving
    // A principal is no sales staff: rule 'assignment' gives them nothing.
    state.Put("principal/" + subject, t == "principal.registered" ? Str(d, "kind") : std::string());
  } else if (t == "staff.role_changed") {
    CUSTODIAN_RETURN_IF_ERROR(CheckEmployed("actor", e, state, subject, "staff member"));
    if (std::string role = Str(d, "role"); !role.empty()) state.Put("role/" + subject, std::move(role));
  } else if (t == "staff.departure_announced") {
    CUSTODIAN_RETURN_IF_ERROR(CheckEmployed("actor", e, state, subject, "staff member"));
    Result<std::optional<std::string>> before = state.Get("leaving/" + subject);
    if (!before.ok()) return before.status();
    std::vector<Announcement> list = ParseAnnouncements(before->value_or(""));
    list.push_back(Announcement{e.position.value(), e.occurred_at});
    state.Put("leaving/" + subject, FormatAnnouncements(list));
  } else if (t == "staff.departed") {
    CUSTODIAN_RETURN_IF_ERROR(CheckEmployed("actor", e, state, subject, "staff member"));
    state.Put("staff/" + subject,
              "left " + std::to_string(e.position.value()) + " " + std::to_string(e.occurred_at.value()));
  }

  // order and reference: follow-ups name something created earlier.
  if (t == "deal.opened") return CreateRef(e, state, "deal", Str(d, "deal_id"));
  if (t == "deal.stage_changed" || t == "deal.won" || t == "deal.lost") {
    return RequireRef(e, state, "deal", Str(d, "deal_id"), "deal.opened");
  }
  if (t == "request.opened") return CreateRef(e, state, "request", Str(d, "request_id"));
  if (t == "request.assigned" || t == "request.responded" || t == "request.resolved" || t == "request.reopened") {
    std::optional<Timestamp> opened_at;
    Status s = RequireRef(e, state, "request", Str(d, "request_id"), "request.opened", &opened_at);
    if (!s.ok()) {
      return t == "request.responded" ? Broken("order", e, "request " + Str(d, "request_id") +
                                                               " is answered but was never opened on " + e.stream)
                                      : s;
    }
    if (opened_at && e.occurred_at < *opened_at) {
      return Broken("order", e, "request " + Str(d, "request_id") + " was opened at " + FormatRfc3339(*opened_at) +
                                    ", after this event's " + FormatRfc3339(e.occurred_at));
    }
    return Status::Ok();
  }
  if (t == "commitment.made") return CreateRef(e, state, "commitment", Str(d, "commitment_id"));
  if (t == "commitment.fulfilled" || t == "commitment.cancelled" || t == "commitment.reassigned") {
    return RequireRef(e, state, "commitment", Str(d, "commitment_id"), "commitment.made");
  }
  if (t == "event.corrected" || t == "event.retracted") {
    Result<EventId> target = EventId::Parse(Str(d, "event_id"));
    if (!target.ok()) return target.status().WithContext("field 'data.event_id'");
    // fix: no token fixes its own holder's staff record, nor does the token
    // of a holder who announced their departure fix any (the actor is the
    // client's word: a leaver would withdraw the announcement and have back
    // what it took, the alert settings, tokens, an erasure).
    if (!token_holder.empty() && subject.starts_with("staff-")) {
      if (token_holder == subject) {
        return Broken("fix", e,
                      "it came through token " + e.recorded_by + " of " + token_holder +
                          ", whose own staff record it fixes; someone else's token does");
      }
      Result<std::optional<Announcement>> holder_leaving = LoadAnnouncement(state, token_holder);
      if (!holder_leaving.ok()) return holder_leaving.status();
      if (*holder_leaving) {
        return Broken("fix", e,
                      "it came through token " + e.recorded_by + " of " + token_holder +
                          ", who announced their departure on " + FormatRfc3339((*holder_leaving)->at) +
                          " and may not fix staff records");
      }
    }
    Result<bool> exists = state.EventExists(*target);
    if (!exists.ok()) return exists.status();
    if (!*exists) return Broken("reference", e, "the event it fixes, " + target->ToString() + ", is not in the log");
    // fix: a fix goes on the stream of the event it fixes.
    Result<std::optional<Event>> fixed = state.FindEvent(*target);
    if (!fixed.ok()) return fixed.status();
    if (*fixed) {
      const Event& f = **fixed;
      if (f.stream != e.stream) {
        return Broken("fix", e,
                      "the event it names, " + target->ToString() + ", is on " + f.stream + ", not " + e.stream +
                          ": a fix is recorded on the stream of the event it fixes");
      }
      // fix: some events' effect cannot be undone by a correction or
      // retraction (docs/events.md, "Corrections and retractions").
      if (UnfixableReason(f.type) != nullptr) return CannotBeFixed(e, target->ToString(), f.type);
      if (f.type == "staff.departure_announced") {
        // fix: a departure's announcement is fixed by someone else than the
        // leaver, and by nobody who is leaving: else a leaver would withdraw
        // it and have back what it took (the alert settings, tokens, erasure).
        Result<std::optional<Announcement>> actor_leaving = LoadAnnouncement(state, e.actor);
        if (!actor_leaving.ok()) return actor_leaving.status();
        if (e.actor == f.stream || *actor_leaving) {
          return Broken("fix", e,
                        "the event it names, " + target->ToString() + ", announces the departure of " + f.stream +
                            ": " +
                            (e.actor == f.stream
                                 ? std::string("the leaver may not fix it; someone else does")
                                 : e.actor + " announced their departure on " + FormatRfc3339((*actor_leaving)->at) +
                                       " and may not fix it"));
        }
      }
      if (t == "event.retracted" && f.type == "staff.departure_announced") {
        // A departure announced by mistake and withdrawn: no longer leaving
        // by it (a token, the alert settings, an erasure are theirs again,
        // unless an earlier announcement still stands).
        Result<std::optional<std::string>> before = state.Get("leaving/" + f.stream);
        if (!before.ok()) return before.status();
        std::vector<Announcement> list = ParseAnnouncements(before->value_or(""));
        std::erase_if(list, [&](const Announcement& a) { return a.position == f.position.value(); });
        state.Put("leaving/" + f.stream, FormatAnnouncements(list));
      }
      if (t == "event.corrected") {
        // assignment: a person a correction names is checked as if recorded
        // so (an owner corrected to someone who never joined is refused).
        const json::value* corrected = d.if_contains("corrected");
        const char* field = f.type == "request.assigned" ? "assignee"
                            : (f.type == "customer.owner_assigned" || f.type == "commitment.made" ||
                               f.type == "deal.opened" || f.type == "commitment.reassigned")
                                ? "owner"
                                : nullptr;
        if (field && corrected && corrected->is_object()) {
          const std::string staff = Str(corrected->get_object(), field);
          if (!staff.empty()) CUSTODIAN_RETURN_IF_ERROR(assignable(staff, field));
        }
        return CheckCorrection(e, d, f);
      }
    }
  }
  return Status::Ok();
}

}  // namespace

}  // namespace custodian
