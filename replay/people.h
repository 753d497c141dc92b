// The people behind a customer's contacts, opened at read time (DESIGN.md,
// Personal data and erasure: projections never hold personal plaintext).
//
// The customer projection keeps, for each contact, only where its personal
// data is: the positions of the events that carry the contact's personal part
// and of the last conversation with them (replay/customer.h). This opens those
// events' sealed parts through the log (storage/event_log.h, "Personal data")
// when someone reads them, so an erasure takes effect in every view at once
// and no projection has to be cleaned of a name.
//
// Opening is a read of personal data: callers record the read first (as
// `read --as` and `customer timeline` do) and open only for a named reader.
// Thread-safe when the log is (it is).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "replay/customer.h"
#include "storage/event_log.h"

namespace custodian {

// A person's personal fields as the log opens them now.
struct OpenedPersonal {
  enum class State {
    kNone,         // no personal part was recorded
    kOpen,         // `fields`
    kErased,       // the subject was erased: `erased_position`, `erased_reason`
    kUnavailable,  // cannot be opened now: `why` (no master key; a part that does not open)
  };
  State state = State::kNone;
  // kOpen: (field, value) in the order first seen; a later part's value
  // replaces an earlier one's.
  std::vector<std::pair<std::string, std::string>> fields;
  std::optional<uint64_t> erased_position;  // of the subject.erased event
  std::string erased_reason;
  std::string why;

  // The value of field `name`; empty when it is absent (or not open).
  std::string Field(std::string_view name) const;
};

// Opens the personal parts of the events at `positions`, in order, and merges
// them: fields of later parts over earlier ones. Erased when any part's
// subject was erased (nothing of it is shown); unavailable when any part
// cannot be opened (without the master key, or a part that was altered or
// moved from another event: `why` names its position). Events without a
// personal part are skipped. Errors: NotFound for a position past the log's
// end; storage errors.
Result<OpenedPersonal> OpenPersonalAt(const EventLog& log, std::span<const uint64_t> positions);

// JSON: {"name":"...","email":"...",...}; {"erased":{"position":P,"reason":"..."}};
// {"unavailable":"<why>"}; null when nothing was recorded.
std::string OpenedPersonalToJson(const OpenedPersonal& p);

// One contact of a customer as a reader sees it: its business fields, its
// personal fields opened, and its last conversation with that event's
// personal notes opened.
struct ContactView {
  std::string contact_id;
  CustomerState::Contact contact;  // role, department, key contact, positions
  OpenedPersonal personal;         // from contact.personal_positions
  OpenedPersonal last_notes;       // the last conversation's personal part (its "notes")
};

// Opens one contact.
Result<ContactView> OpenContact(const EventLog& log, const std::string& contact_id,
                                const CustomerState::Contact& contact);
// Every contact of the customer, opened: key contacts first, then by id.
Result<std::vector<ContactView>> OpenContacts(const EventLog& log, const CustomerState& state);

// {"contact_id":...,"role":...,"department":...,"preferred_channel":...,
//  "key_contact":...,"personal":OpenedPersonalToJson,"last_conversation":
//  {"position":P,"at":...,"channel":...,"direction":...,"by":...,"notes":...}|null}
// where "notes" is the opened notes text, or {"erased":...}/{"unavailable":...}, or null.
// Replaces every opened (or erased) personal part of `people` by an
// unavailable one saying `why`: for a reader who may not see personal data.
void SealContacts(std::vector<ContactView>& people, std::string_view why);
std::string ContactViewToJson(const ContactView& v);

// The customer (CustomerToJson) with "people": its contacts opened
// (ContactViewToJson), for `customer show --json`.
std::string CustomerWithPeopleToJson(const CustomerState& state, const std::vector<ContactView>& people);

}  // namespace custodian
