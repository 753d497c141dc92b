// The people behind the customers (DESIGN.md, Personal data and erasure;
// docs/events.md, "Personal data"): finding them, what is held about one of
// them, erasing them, legal holds, backups that keep erasures, and the
// master key's rotation. Each operation is a function with a typed result;
// the command line (tools/cli_people.cc) parses flags, records reads, calls
// them and prints, and the server will do the same.
//
// Subjects are named as the log names them (core/personal.h): a contact as
// "customer-<id>/contact-<contact id>", a customer who is a person as
// "customer-<id>".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/personal.h"
#include "core/status.h"
#include "replay/access.h"
#include "replay/state_reader.h"
#include "storage/event_log.h"

namespace custodian {

// A subject as given on the command line or in a URL: "customer-1001/contact-con-2001",
// "customer-1001/con-2001" (the contact id alone), or "customer-1001".
// InvalidArgument, with the accepted forms, for anything else.
Result<SubjectRef> ParseSubjectArg(std::string_view text);

// --- One person ---

// What the log holds about a subject now: its personal fields merged from
// every event that describes them (contact.added / contact.updated, or
// customer.registered / customer.updated for a person), later values over
// earlier; the contact's role; or that they were erased, or that personal
// data cannot be opened (no master key), with why.
struct Person {
  std::string subject;     // subject id
  std::string customer;    // customer-<id>
  std::string contact_id;  // empty for a customer who is a person
  std::string role;        // contact role (data.role), if any
  bool removed = false;    // contact.removed since
  enum class State { kNone, kOpen, kErased, kUnavailable };
  State state = State::kNone;  // kNone: no personal data was ever recorded
  std::vector<std::pair<std::string, std::string>> fields;  // kOpen: (field, value), in first-seen order
  std::optional<uint64_t> erased_position;                   // kErased
  std::string erased_reason;                                 // kErased
  std::string why;                                           // kUnavailable
  std::string Field(std::string_view name) const;
};
// The person as the events that describe them make them, each as its fixes
// make it (a corrected role, a retracted contact.added: EffectiveEvents).
// NotFound when the customer has no such contact (or, for a person, is not
// registered, or is an organization). Reads the customer's stream.
Result<Person> LookUpPerson(const EventLog& log, const SubjectRef& subject);
std::string PersonToJson(const Person& p);

// --- find ---

struct FindResult {
  std::string by;     // "email", "phone" or "name"
  std::string value;  // as asked
  std::vector<Person> people;
  std::vector<std::string> customers() const;  // their customers, sorted, once each
};
// The people whose e-mail, phone or name (any word of it; all words of a
// name of several) matches, through the blind index. FailedPrecondition
// without the master key (the index's key is beside it).
Result<FindResult> FindPeople(const EventLog& log, BlindKind kind, std::string_view value);
std::string FindResultToJson(const FindResult& r);

// --- Subject-access export ---

struct SubjectExport {
  Person person;
  Timestamp generated_at;
  std::string generated_by;
  struct Item {
    Event event;           // personal_plain: the opened part (EventLog::PersonalJson)
  };
  std::vector<Item> events;           // every event that names them, in stream order
  std::vector<AccessEntry> accesses;  // who read or exported their customer's data, oldest first
  std::vector<std::pair<std::string, std::string>> holds;  // legal holds in force: (hold id, reason)
};
// Everything held about the subject: the events of its customer's stream
// that name them (data.contact_id, data.subject, or a personal part of
// theirs; every event for a customer who is a person), and the corrections
// and retractions of those, with their personal parts opened (a part of
// another person, a contact of a person-customer, stays sealed); and the
// reads and exports of the customer's data (the access projection, caught
// up by the caller). FailedPrecondition, before anything is recorded, when
// a part of theirs cannot be opened here (no master key, or a node without
// their key): an export without their data would look complete.
Result<SubjectExport> ExportSubject(const EventLog& log, const StateReader& access, const SubjectRef& subject,
                                    const std::string& reader, Timestamp now);
std::string SubjectExportToJson(const SubjectExport& x);
// One self-contained, printable HTML page (no script, no outside resource).
std::string SubjectExportToHtml(const SubjectExport& x);

// --- Erasure and legal holds ---

struct ErasureRequest {
  SubjectRef subject;
  std::string actor;         // staff-<id>: rule 'privacy'
  std::string reason_code;   // data_subject_request (default), retention_expired, legal_order
  std::string details;       // the reason in words (required)
  std::string request_ref;   // optional
  Timestamp now;
};
struct ErasureResult {
  std::string subject;
  uint64_t position = 0;    // of subject.erased
  bool already = false;     // it was erased before (position and reason of that erasure)
  std::string reason;
  uint64_t events_sealed = 0;  // events whose personal part no longer opens
};
// Appends subject.erased; the log destroys the subject's key and blind-index
// entries as it commits it and removes them from the store's files
// (storage/event_log.h). RuleViolation naming the hold while one is in force
// (rule 'hold'), or naming the actor's role (rule 'privacy'). NotFound, and
// nothing appended, for a subject the log does not know (LookUpPerson's
// reasons): a mistyped id would erase nobody and block that id for good.
Result<ErasureResult> EraseSubject(EventLog& log, const ErasureRequest& request);
std::string ErasureResultToJson(const ErasureResult& r);

struct Hold {
  std::string subject;  // subject id
  std::string hold_id, reason;
};
struct HoldRequest {
  SubjectRef subject;
  std::string actor;
  std::string hold_id;  // empty: made from the time (hold-YYYYMMDD-HHMMSS, then -2, -3... if in force)
  std::string reason;   // required to place one
  Timestamp now;
};
// subject.hold_placed / subject.hold_released; returns the hold and the position.
// A hold is placed only on a subject the log knows (NotFound, as EraseSubject).
Result<std::pair<Hold, uint64_t>> PlaceHold(EventLog& log, const HoldRequest& request);
Result<std::pair<Hold, uint64_t>> ReleaseHold(EventLog& log, const HoldRequest& request);
// The holds in force, by subject; only `subject`'s when given.
Result<std::vector<Hold>> ListHolds(const EventLog& log, const std::optional<SubjectRef>& subject);
std::string HoldsToJson(const std::vector<Hold>& holds);

// --- Backup and restore ---

struct BackupResult {
  std::string dir;
  uint64_t events = 0;
  std::string root;  // the Merkle root of those events, hex
  uint64_t files = 0, bytes = 0;
};
// A consistent copy of the store in `dir` (a new directory): the store in
// dir/store (EventLog::CopyTo), verified (every leaf and the tree), and
// dir/backup.json saying what it holds.
Result<BackupResult> BackupStore(EventLog& log, const std::string& dir);
std::string BackupResultToJson(const BackupResult& r);

struct RestoreResult {
  std::string data_dir;
  uint64_t events = 0;
  std::string root;
  size_t erasures_reapplied = 0;  // erased after the backup, erased again
  size_t keys_rewrapped = 0;      // wrapped with a master key retired since the backup, now with the one in force
  std::string personal;           // empty when personal data opens; else why not (no master key)
};
// Copies the backup in `from` to `data_dir` (which must not exist, or be
// empty), opens it read-write with `options.master_key_file` (so that every
// erasure listed beside the master key since the backup is made again and
// purged, and keys wrapped with a master key retired since are re-wrapped)
// and verifies it. Refuses a directory that is not a backup; and a backup
// that holds people when the master key does not open them (those erased
// since could not be erased again), leaving `data_dir` as it was, unless
// `without_master_key`: then they stay sealed until the store is opened
// with the key, which makes those erasures then.
Result<RestoreResult> RestoreStore(const std::string& from, const std::string& data_dir,
                                   const EventLogOptions& options, bool without_master_key = false);
std::string RestoreResultToJson(const RestoreResult& r);

}  // namespace custodian
