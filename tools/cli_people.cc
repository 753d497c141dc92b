// The people behind the customers: find, export-subject, erase, hold,
// backup, restore, keys rotate-master. Parses, records reads, calls
// service/personal.h, prints.
#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/json.h"
#include "core/rules.h"
#include "core/time.h"
#include "service/personal.h"
#include "tools/cli.h"

namespace custodian::cli {
namespace fs = std::filesystem;

namespace {

// "Ana Lima <ana@example.com> +351 912 000 111" or what stands for it.
std::string PersonLine(const Person& p) {
  switch (p.state) {
    case Person::State::kNone:
      return "(no personal data recorded)";
    case Person::State::kErased:
      return "(erased at position " + (p.erased_position ? std::to_string(*p.erased_position) : std::string("?")) +
             (p.erased_reason.empty() ? std::string() : ": " + p.erased_reason) + ")";
    case Person::State::kUnavailable:
      return "(sealed: " + p.why + ")";
    case Person::State::kOpen:
      break;
  }
  std::string out = p.Field("name");
  if (std::string email = p.Field("email"); !email.empty()) out += " <" + email + ">";
  for (const char* f : {"phone", "mobile"}) {
    if (std::string v = p.Field(f); !v.empty()) out += "  " + v;
  }
  return out;
}

// --subject, parsed; a subject the log does not know is then not found (6).
Result<SubjectRef> Subject(const std::string& text) {
  Result<SubjectRef> s = ParseSubjectArg(text);
  if (!s.ok()) return s.status().WithContext("--subject");
  return s;
}

}  // namespace

int RunFind(const Globals& g, const std::string& email, const std::string& phone, const std::string& name, bool json) {
  const int given = !email.empty() + !phone.empty() + !name.empty();
  if (given != 1) return UsageError(Status::InvalidArgument("find: give one of --email, --phone or --name"));
  const BlindKind kind = !email.empty() ? BlindKind::kEmail : !phone.empty() ? BlindKind::kPhone : BlindKind::kName;
  const std::string& value = !email.empty() ? email : !phone.empty() ? phone : name;
  Result<std::string> reader = Reader(g, "find");
  if (!reader.ok()) return UsageError(reader.status());
  Result<std::unique_ptr<EventLog>> log = OpenForReading(g);
  if (!log.ok()) return Fail(log.status());
  Result<FindResult> found = FindPeople(**log, kind, value);
  if (!found.ok()) return Fail(found.status());
  // What is shown is customer data: recorded first, as every read.
  if (!found->people.empty()) {
    if (Status s = RecordAccess(g, **log, Access{*reader, false, "find", found->customers(), found->people.size(), "", "cli"});
        !s.ok()) {
      return Fail(s);
    }
  }
  if (json) {
    fmt::print("{}\n", FindResultToJson(*found));
    return kExitOk;
  }
  if (found->people.empty()) {
    fmt::print("nobody with that {}\n", found->by);
    return kExitOk;
  }
  for (const Person& p : found->people) {
    fmt::print("{:<36} {:<16} {}{}\n", TerminalText(p.subject), TerminalText(p.role.empty() ? "-" : p.role),
               TerminalText(PersonLine(p)), p.removed ? "  [no longer a contact]" : "");
  }
  return kExitOk;
}

int RunExportSubject(const Globals& g, const std::string& subject_text, const std::string& out,
                     const std::string& format, bool json) {
  Result<SubjectRef> subject = ParseSubjectArg(subject_text);
  if (!subject.ok()) return UsageError(subject.status());
  if (format != "json" && format != "html") {
    return UsageError(Status::InvalidArgument("--format: json or html, not " + format));
  }
  if (out.empty()) return UsageError(Status::InvalidArgument("--out: the file to write"));
  if (Status where = CheckOutPath(g, out); !where.ok()) return UsageError(where);
  Result<std::string> reader = Reader(g, "export-subject");
  if (!reader.ok()) return UsageError(reader.status());
  bool caught_up = false;
  Result<std::unique_ptr<EventLog>> log = OpenForQuery(g, &caught_up);
  if (!log.ok()) return Fail(log.status());
  Result<SubjectExport> x =
      ExportSubject(**log, StateReader::Stored(**log, kAccessProjection), *subject, *reader, SystemClock().Now());
  if (!x.ok()) return Fail(x.status());
  // The export is itself an export of the customer's data: recorded before
  // the file exists.
  if (Status s = RecordAccess(g, **log, Access{*reader, true, "subject_access", {subject->stream}, x->events.size(), format, "cli"});
      !s.ok()) {
    return Fail(s);
  }
  const std::string text = format == "json" ? SubjectExportToJson(*x) : SubjectExportToHtml(*x);
  // Owner-only: it is one person's whole file.
  if (Status s = WriteOwnerOnlyFile(out, text); !s.ok()) return Fail(s);
  if (!caught_up) {
    fmt::print(stderr, "custodian: another process holds the store; the reads it recorded in the last moments may be "
                       "missing from the export\n");
  }
  if (json) {
    fmt::print("{{\"subject\":\"{}\",\"out\":{},\"format\":\"{}\",\"events\":{},\"accesses\":{}}}\n", x->person.subject,
               JsonQuote(out), format, x->events.size(), x->accesses.size());
  } else {
    fmt::print("wrote {} ({}): {} events about {}, {} reads or exports of {}\n", out, format, x->events.size(),
               x->person.subject, x->accesses.size(), x->person.customer);
  }
  return kExitOk;
}

int RunErase(const Globals& g, const std::string& subject_text, const std::string& reason, const std::string& code,
             const std::string& request_ref, bool json) {
  Result<SubjectRef> subject = Subject(subject_text);
  if (!subject.ok()) return UsageError(subject.status());
  if (reason.empty()) return UsageError(Status::InvalidArgument("--reason: say why the data is erased"));
  Result<std::string> actor = Reader(g, "erase");
  if (!actor.ok()) return UsageError(actor.status());
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());
  ErasureRequest request{*subject, *actor, code, reason, request_ref, SystemClock().Now()};
  Result<ErasureResult> r = EraseSubject(**log, request);
  if (!r.ok()) return Fail(r.status());
  if (json) {
    fmt::print("{}\n", ErasureResultToJson(*r));
  } else if (r->already) {
    fmt::print("{} was erased already, at position {}{}\n", r->subject, r->position,
               r->reason.empty() ? "" : ": " + TerminalText(r->reason));
  } else {
    fmt::print("erased {} at position {}: its key is destroyed and gone from the store's files; {} events keep their "
               "personal part sealed for good, and every proof still verifies\n",
               r->subject, r->position, r->events_sealed);
  }
  return kExitOk;
}

int RunHold(const Globals& g, const std::string& action, const std::string& subject_text, const std::string& hold_id,
            const std::string& reason, bool json) {
  std::optional<SubjectRef> subject;
  if (!subject_text.empty()) {
    Result<SubjectRef> s = Subject(subject_text);
    if (!s.ok()) return UsageError(s.status());
    subject = *s;
  }
  if (action == "list") {
    // Holds name people and say why their data is kept: a read like any other.
    Result<std::string> reader = Reader(g, "hold list");
    if (!reader.ok()) return UsageError(reader.status());
    Result<std::unique_ptr<EventLog>> log = OpenForReading(g);
    if (!log.ok()) return Fail(log.status());
    Result<std::vector<Hold>> holds = ListHolds(**log, subject);
    if (!holds.ok()) return Fail(holds.status());
    if (!holds->empty()) {
      std::set<std::string> customers;
      for (const Hold& h : *holds) customers.insert(h.subject.substr(0, h.subject.find('/')));
      Access a{*reader, false, "legal_holds", {customers.begin(), customers.end()}, holds->size(), "", "cli"};
      if (Status s = RecordAccess(g, **log, a); !s.ok()) return Fail(s);
    }
    if (json) {
      fmt::print("{}\n", HoldsToJson(*holds));
      return kExitOk;
    }
    if (holds->empty()) fmt::print("no legal hold in force\n");
    for (const Hold& h : *holds) {
      fmt::print("{:<24} {:<40} {}\n", TerminalText(h.hold_id), TerminalText(h.subject), TerminalText(h.reason));
    }
    return kExitOk;
  }
  if (!subject) return UsageError(Status::InvalidArgument("--subject: whose data the hold keeps"));
  Result<std::string> actor = Reader(g, "hold " + action);
  if (!actor.ok()) return UsageError(actor.status());
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());
  HoldRequest request{*subject, *actor, hold_id, reason, SystemClock().Now()};
  Result<std::pair<Hold, uint64_t>> r = action == "add" ? PlaceHold(**log, request) : ReleaseHold(**log, request);
  if (!r.ok()) return Fail(r.status());
  if (json) {
    fmt::print("{{\"hold_id\":{},\"subject\":{},\"in_force\":{},\"position\":{}}}\n", JsonQuote(r->first.hold_id),
               JsonQuote(r->first.subject), action == "add" ? "true" : "false", r->second);
  } else {
    fmt::print("{} hold {} on {} (position {})\n", action == "add" ? "placed" : "released",
               TerminalText(r->first.hold_id), TerminalText(r->first.subject), r->second);
  }
  return kExitOk;
}

int RunBackup(const Globals& g, const std::string& to, bool json) {
  if (to.empty()) return UsageError(Status::InvalidArgument("--to: the new directory for the backup"));
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());
  Result<BackupResult> r = BackupStore(**log, to);
  if (!r.ok()) return Fail(r.status());
  if (json) {
    fmt::print("{}\n", BackupResultToJson(*r));
  } else {
    fmt::print("backed up {} events to {} ({} files, {} bytes), verified: root {}\n", Thousands(r->events), r->dir,
               r->files, Thousands(r->bytes), r->root);
    fmt::print("the master key is not in the backup: keep {} apart from it\n", fs::path(MasterKeyFile(g)).parent_path().string());
  }
  return kExitOk;
}

int RunRestore(const Globals& global, const std::string& from, const std::string& to, bool without_master_key,
               bool json) {
  if (from.empty()) return UsageError(Status::InvalidArgument("--from: the backup's directory"));
  if (to.empty()) return UsageError(Status::InvalidArgument("--to: the new store's directory"));
  Globals g = global;
  g.data_dir = to;  // its master key: --master-key, else <to>.keys/master.key
  EventLogOptions options;
  options.rules = CheckRules;
  options.master_key_file = MasterKeyFile(g);
  Result<RestoreResult> r = RestoreStore(from, g.data_dir, options, without_master_key);
  if (!r.ok()) {
    const int code = Fail(r.status());
    return r.status().code() == StatusCode::kCorruption ? kExitVerifyFailed : code;  // the backup does not verify
  }
  if (json) {
    fmt::print("{}\n", RestoreResultToJson(*r));
    return kExitOk;
  }
  fmt::print("restored {} to {}, verified: root {}\n", Counted(r->events, "event", "events"), r->data_dir, r->root);
  if (!r->personal.empty()) {
    fmt::print("personal data stays sealed: {}; opened with its master key, the store makes again the erasures made "
               "since the backup\n",
               r->personal);
    return kExitOk;
  }
  fmt::print("erasures made after the backup, made again: {}\n", r->erasures_reapplied);
  if (r->keys_rewrapped > 0) {
    fmt::print("data keys wrapped with a master key retired since the backup, re-wrapped under the one in force: {}\n",
               r->keys_rewrapped);
  }
  // A store finds its master key at <store>.keys/master.key unless told.
  Globals restored = global;
  restored.data_dir = r->data_dir;
  restored.master_key.clear();
  std::error_code ec;
  if (std::filesystem::exists(MasterKeyFile(g), ec) &&
      std::filesystem::weakly_canonical(MasterKeyFile(restored), ec) !=
          std::filesystem::weakly_canonical(MasterKeyFile(g), ec)) {
    fmt::print("its master key is {}: give --master-key {} with --data {} (or move that key directory to {})\n",
               MasterKeyFile(g), MasterKeyFile(g), r->data_dir,
               std::filesystem::path(MasterKeyFile(restored)).parent_path().string());
  }
  return kExitOk;
}

int RunRotateMaster(const Globals& g, bool json) {
  Result<std::unique_ptr<EventLog>> log = OpenStore(g, EventLogOptions::Mode::kReadWrite);
  if (!log.ok()) return Fail(log.status());
  Result<size_t> n = (*log)->RotateMasterKey();
  if (!n.ok()) return Fail(n.status());
  if (json) {
    fmt::print("{{\"rewrapped\":{},\"master_key\":{}}}\n", *n, JsonQuote(MasterKeyFile(g)));
  } else {
    fmt::print("re-wrapped {} data keys under a new master key in {}; the old one is kept in {} for the "
               "backups made before (delete it there once none is needed: their people then stay sealed)\n",
               *n, MasterKeyFile(g), (std::filesystem::path(MasterKeyFile(g)).parent_path() / "retired").string());
  }
  return kExitOk;
}

}  // namespace custodian::cli
