// The catalogue's contents (docs/events.md mirrors them, and
// tests/core/catalogue_test.cc checks that it does). The checks are in
// catalogue.cc.
#include "core/catalogue.h"

namespace custodian {

const std::vector<std::string_view> kPersonalKeys = {
    "email",    "phone",      "mobile",    "firstname",   "lastname",  "fullname", "contactname",
    "surname",  "givenname",  "birthdate", "dateofbirth", "birthday",  "linkedin", "homeaddress",
};

namespace {

using FT = FieldType;
constexpr Presence kReq = Presence::kRequired;
constexpr Presence kOpt = Presence::kOptional;

const std::vector<std::string_view> kChannels = {"call", "email", "meeting", "visit", "chat"};
const std::vector<std::string_view> kDirections = {"inbound", "outbound"};
const std::vector<std::string_view> kCustomerStatuses = {"prospect", "active", "inactive", "churned"};
const std::vector<std::string_view> kPriorities = {"low", "normal", "high", "urgent"};
const std::vector<std::string_view> kLeaveReasons = {"resignation", "termination", "retirement", "transfer", "other"};
const std::vector<std::string_view> kInterfaces = {"web", "api", "cli"};

std::vector<EventTypeSpec> BuildCatalogue() {
  return {
      // --- customer ---
      {"customer.registered",
       1,
       StreamRule::kCustomer,
       "A customer becomes known: an organization or an individual.",
       {
           {"kind", FT::kEnum, kOpt, "organization (the default) or individual.", {"organization", "individual"}},
           {"name", FT::kString, kOpt,
            "Legal or trading name of an organization. Required for an organization; refused for an individual, "
            "whose name is personal data."},
           {"status", FT::kEnum, kOpt, "Lifecycle status; active when absent.", kCustomerStatuses},
           {"segment", FT::kString, kOpt, "Sales segment, e.g. enterprise, mid-market, small-business."},
           {"industry", FT::kString, kOpt, "Industry, e.g. logistics."},
           {"country", FT::kCountry, kOpt, "Country of the customer's seat."},
           {"group", FT::kRecordId, kOpt, "The customer group or parent account it belongs to."},
           {"external_id", FT::kString, kOpt, "Its id in the source CRM."},
       },
       {},
       "name is required unless kind is individual, and refused when kind is individual."},
      {"customer.updated",
       1,
       StreamRule::kCustomer,
       "Profile fields of a customer change; absent fields keep their value.",
       {
           {"name", FT::kString, kOpt, "New legal or trading name (organizations only)."},
           {"status", FT::kEnum, kOpt, "New lifecycle status.", kCustomerStatuses},
           {"segment", FT::kString, kOpt, "New sales segment."},
           {"industry", FT::kString, kOpt, "New industry."},
           {"country", FT::kCountry, kOpt, "New country."},
           {"group", FT::kRecordId, kOpt, "New customer group or parent account."},
           {"external_id", FT::kString, kOpt, "New id in the source CRM."},
       },
       {"name", "status", "segment", "industry", "country", "group", "external_id"}},
      // --- contacts ---
      {"contact.added",
       1,
       StreamRule::kCustomer,
       "A contact person at the customer is recorded.",
       {
           {"contact_id", FT::kRecordId, kReq, "The contact's id, stable across its events."},
           {"role", FT::kString, kOpt, "Job role, e.g. head of purchasing."},
           {"department", FT::kString, kOpt, "Department, e.g. procurement."},
           {"key_contact", FT::kBoolean, kOpt, "A decision maker or sponsor: listed in handover plans."},
           {"preferred_channel", FT::kEnum, kOpt, "How the contact prefers to be reached.", kChannels},
       }},
      {"contact.updated",
       1,
       StreamRule::kCustomer,
       "Business fields of a contact change; absent fields keep their value.",
       {
           {"contact_id", FT::kRecordId, kReq, "The contact."},
           {"role", FT::kString, kOpt, "New job role."},
           {"department", FT::kString, kOpt, "New department."},
           {"key_contact", FT::kBoolean, kOpt, "Whether the contact is now a key contact."},
           {"preferred_channel", FT::kEnum, kOpt, "New preferred channel.", kChannels},
       },
       {"role", "department", "key_contact", "preferred_channel"}},
      {"contact.removed",
       1,
       StreamRule::kCustomer,
       "A contact is no longer a contact of the customer.",
       {
           {"contact_id", FT::kRecordId, kReq, "The contact."},
           {"reason", FT::kText, kOpt, "Why, e.g. left the company."},
       }},
      // --- interactions and notes ---
      {"interaction.logged",
       1,
       StreamRule::kCustomer,
       "A contact with the customer happened: the basis of last-contact "
       "and silent-customer views.",
       {
           {"channel", FT::kEnum, kReq, "How.", kChannels},
           {"direction", FT::kEnum, kReq, "Who reached out: inbound (the customer) or outbound (us).", kDirections},
           {"summary", FT::kText, kOpt,
            "What was discussed (business content; remarks about a person go in personal)."},
           {"interaction_id", FT::kRecordId, kOpt, "Its id in the source CRM (call id, meeting id)."},
           {"contact_id", FT::kRecordId, kOpt, "The contact spoken with."},
           {"duration_s", FT::kCount, kOpt, "Length in seconds (calls, meetings, visits)."},
           {"deal_id", FT::kRecordId, kOpt, "The deal it was about."},
           {"request_id", FT::kRecordId, kOpt, "The request it was about."},
           {"participants", FT::kStaffIdArray, kOpt, "Other staff who took part, besides the actor."},
       }},
      {"note.added",
       1,
       StreamRule::kCustomer,
       "A note about the customer.",
       {
           {"text", FT::kText, kReq, "The note (business content; remarks about a person go in personal)."},
           {"note_id", FT::kRecordId, kOpt, "Its id in the source CRM."},
           {"deal_id", FT::kRecordId, kOpt, "The deal it is about."},
           {"request_id", FT::kRecordId, kOpt, "The request it is about."},
       }},
      // --- deals and orders ---
      {"deal.opened",
       1,
       StreamRule::kCustomer,
       "A sales opportunity is opened.",
       {
           {"deal_id", FT::kRecordId, kReq, "The deal's id, stable across its events."},
           {"title", FT::kString, kReq, "What is being sold."},
           {"value", FT::kAmount, kReq, "Expected value, in currency.", {}, "currency"},
           {"currency", FT::kCurrency, kReq, "Currency of value."},
           {"stage", FT::kString, kReq, "Pipeline stage (stages are the company's own), e.g. qualification."},
           {"probability", FT::kPercent, kOpt, "Chance of winning, in percent."},
           {"expected_close_at", FT::kTime, kOpt, "When it is expected to close."},
           {"owner", FT::kStaffId, kOpt, "Who works the deal, when not the customer's owner."},
       }},
      {"deal.stage_changed",
       1,
       StreamRule::kCustomer,
       "A deal moves to another stage.",
       {
           {"deal_id", FT::kRecordId, kReq, "The deal."},
           {"stage", FT::kString, kReq, "The new stage."},
           {"previous_stage", FT::kString, kOpt, "The stage it left."},
           {"probability", FT::kPercent, kOpt, "New chance of winning, in percent."},
           {"value", FT::kAmount, kOpt, "New expected value.", {}, "currency"},
           {"currency", FT::kCurrency, kOpt, "Currency of value."},
           {"expected_close_at", FT::kTime, kOpt, "New expected close."},
       },
       {},
       "stage differs from previous_stage; value needs currency."},
      {"deal.won",
       1,
       StreamRule::kCustomer,
       "A deal is won and closed.",
       {
           {"deal_id", FT::kRecordId, kReq, "The deal."},
           {"value", FT::kAmount, kOpt, "Final value.", {}, "currency"},
           {"currency", FT::kCurrency, kOpt, "Currency of value."},
           {"reason", FT::kText, kOpt, "Why it was won."},
       },
       {},
       "value needs currency."},
      {"deal.lost",
       1,
       StreamRule::kCustomer,
       "A deal is lost and closed.",
       {
           {"deal_id", FT::kRecordId, kReq, "The deal."},
           {"reason", FT::kText, kOpt, "Why it was lost."},
           {"competitor", FT::kString, kOpt, "Who won it instead."},
       }},
      {"order.placed",
       1,
       StreamRule::kCustomer,
       "The customer places an order.",
       {
           {"order_id", FT::kRecordId, kReq, "The order's id."},
           {"value", FT::kAmount, kReq, "Order value, in currency.", {}, "currency"},
           {"currency", FT::kCurrency, kReq, "Currency of value."},
           {"deal_id", FT::kRecordId, kOpt, "The deal it came from."},
           {"renewal_at", FT::kTime, kOpt, "When the contract it starts comes up for renewal."},
       }},
      // --- requests ---
      {"request.opened",
       1,
       StreamRule::kCustomer,
       "The customer asks for something: a question, a complaint, a quote.",
       {
           {"request_id", FT::kRecordId, kReq, "The request's id, stable across its events."},
           {"title", FT::kString, kReq, "What is asked."},
           {"channel", FT::kEnum, kOpt, "How it came in.", kChannels},
           {"priority", FT::kEnum, kOpt, "Urgency; normal when absent.", kPriorities},
           {"category", FT::kString, kOpt, "Kind of request, e.g. complaint, quote, support."},
           {"due_at", FT::kTime, kOpt, "When an answer is due (the service level)."},
           {"contact_id", FT::kRecordId, kOpt, "The contact who asked."},
       }},
      {"request.assigned",
       1,
       StreamRule::kCustomer,
       "A request is given to a member of staff to answer.",
       {
           {"request_id", FT::kRecordId, kReq, "The request."},
           {"assignee", FT::kStaffId, kReq, "Who must answer it."},
           {"previous_assignee", FT::kStaffId, kOpt, "Who held it before."},
           {"reason", FT::kText, kOpt, "Why, e.g. handover or escalation."},
       }},
      {"request.responded",
       1,
       StreamRule::kCustomer,
       "The customer got an answer to a request: its occurred_at is "
       "the response time.",
       {
           {"request_id", FT::kRecordId, kReq, "The request."},
           {"channel", FT::kEnum, kOpt, "How the answer went out.", kChannels},
           {"summary", FT::kText, kOpt, "What was answered."},
       }},
      {"request.resolved",
       1,
       StreamRule::kCustomer,
       "A request is closed as resolved.",
       {
           {"request_id", FT::kRecordId, kReq, "The request."},
           {"resolution", FT::kText, kOpt, "How it was resolved."},
       }},
      {"request.reopened",
       1,
       StreamRule::kCustomer,
       "A resolved request is opened again.",
       {
           {"request_id", FT::kRecordId, kReq, "The request."},
           {"reason", FT::kText, kOpt, "Why."},
       }},
      // --- commitments ---
      {"commitment.made",
       1,
       StreamRule::kCustomer,
       "Someone promised the customer something by a date.",
       {
           {"commitment_id", FT::kRecordId, kReq, "The commitment's id, stable across its events."},
           {"promise", FT::kText, kReq, "What was promised."},
           {"due_at", FT::kTime, kReq, "By when."},
           {"owner", FT::kStaffId, kOpt, "Who must keep it; the actor when absent."},
           {"request_id", FT::kRecordId, kOpt, "The request it answers."},
           {"deal_id", FT::kRecordId, kOpt, "The deal it belongs to."},
       }},
      {"commitment.fulfilled",
       1,
       StreamRule::kCustomer,
       "A commitment was kept.",
       {
           {"commitment_id", FT::kRecordId, kReq, "The commitment."},
           {"summary", FT::kText, kOpt, "How it was kept."},
       }},
      {"commitment.cancelled",
       1,
       StreamRule::kCustomer,
       "A commitment is withdrawn; it will not be kept.",
       {
           {"commitment_id", FT::kRecordId, kReq, "The commitment."},
           {"reason", FT::kText, kReq, "Why: a cancelled promise must say why."},
       }},
      {"commitment.reassigned",
       1,
       StreamRule::kCustomer,
       "A commitment passes to another member of staff, who answers for it from now on.",
       {
           {"commitment_id", FT::kRecordId, kReq, "The commitment."},
           {"owner", FT::kStaffId, kReq, "Who answers for it from now on."},
           {"previous_owner", FT::kStaffId, kOpt, "Who answered for it until now."},
           {"reason", FT::kText, kOpt, "Why it moves."},
           {"handover_id", FT::kRecordId, kOpt, "The handover that moves it."},
       }},
      // --- ownership ---
      {"customer.owner_assigned",
       1,
       StreamRule::kCustomer,
       "A customer gets an owner: the chain of custody.",
       {
           {"owner", FT::kStaffId, kReq, "The new owner."},
           {"previous_owner", FT::kStaffId, kOpt, "The owner before; absent or null for the first owner."},
           {"reason", FT::kEnum, kReq, "Why the owner changes.", {"initial", "rebalance", "handover", "departure"}},
           {"handover_id", FT::kRecordId, kOpt, "The handover this executes."},
       },
       {},
       "previous_owner is absent when reason is initial and present otherwise; owner differs from previous_owner; "
       "handover_id is required when reason is handover."},
      {"customer.team_changed",
       1,
       StreamRule::kCustomer,
       "A customer moves to another team.",
       {
           {"team", FT::kString, kReq, "The new team."},
           {"previous_team", FT::kString, kOpt, "The team before."},
           {"reason", FT::kText, kOpt, "Why."},
       }},
      // --- staff ---
      {"staff.joined",
       1,
       StreamRule::kStaff,
       "A member of staff joins; from now on they may act and own customers.",
       {
           {"role", FT::kString, kReq, "Role, e.g. account_executive, sales_manager."},
           {"team", FT::kString, kOpt, "Team."},
           {"manager", FT::kStaffId, kOpt, "Their manager."},
       }},
      {"staff.role_changed",
       1,
       StreamRule::kStaff,
       "A member of staff changes role, team or manager.",
       {
           {"role", FT::kString, kOpt, "New role."},
           {"previous_role", FT::kString, kOpt, "Role before."},
           {"team", FT::kString, kOpt, "New team."},
           {"previous_team", FT::kString, kOpt, "Team before."},
           {"manager", FT::kStaffId, kOpt, "New manager."},
       },
       {"role", "team", "manager"}},
      {"staff.departure_announced",
       1,
       StreamRule::kStaff,
       "A member of staff will leave: starts the departure and "
       "the watch on their reads and exports.",
       {
           {"effective_at", FT::kTime, kReq, "Their last working day ends at this time."},
           {"reason", FT::kEnum, kOpt, "Why they leave.", kLeaveReasons},
           {"successor", FT::kStaffId, kOpt, "Proposed successor for their customers."},
       }},
      {"staff.departed",
       1,
       StreamRule::kStaff,
       "A member of staff has left: they may no longer act or own anything.",
       {
           {"reason", FT::kEnum, kOpt, "Why they left.", kLeaveReasons},
       }},
      // --- handover ---
      {"handover.planned",
       1,
       StreamRule::kSystemOrCustomer,
       "A plan to move one member of staff's customers to "
       "successors.",
       {
           {"handover_id", FT::kRecordId, kReq, "The handover's id; ownership events that execute it name it."},
           {"from", FT::kStaffId, kReq, "Who hands over (the leaver)."},
           {"assignments", FT::kAssignments, kReq, "Each customer and its successor."},
           {"reason", FT::kEnum, kOpt, "Why.", {"departure", "rebalance", "absence"}},
           {"due_at", FT::kTime, kOpt, "When the handover must be complete."},
           {"open_deals", FT::kCount, kOpt, "Open deals moving with the customers."},
           {"open_requests", FT::kCount, kOpt, "Open requests moving with the customers."},
           {"open_commitments", FT::kCount, kOpt, "Open commitments moving with the customers."},
           {"risks", FT::kStringArray, kOpt, "Risks named by the planner, e.g. renewal due in 30 days."},
       },
       {},
       "no assignment goes to the member of staff handing over."},
      {"handover.completed",
       1,
       StreamRule::kSystemOrCustomer,
       "A handover is done; orphans lists what could not be "
       "moved.",
       {
           {"handover_id", FT::kRecordId, kReq, "The handover."},
           {"transferred", FT::kCount, kOpt, "Customers moved."},
           {"orphans", FT::kCustomerIdArray, kOpt, "Customers still with the leaver; empty when complete."},
           {"summary", FT::kText, kOpt, "Remarks."},
       }},
      // --- access ---
      {"data.viewed",
       1,
       StreamRule::kAccess,
       "A member of staff read customer data.",
       {
           {"customers", FT::kCustomerIdArray, kReq, "Customers whose data was shown."},
           {"view", FT::kString, kReq, "What was read, e.g. customer_profile, timeline, portfolio, search."},
           {"count", FT::kCount, kOpt, "Records shown."},
           {"interface", FT::kEnum, kOpt, "Where from.", kInterfaces},
       }},
      {"data.exported",
       1,
       StreamRule::kAccess,
       "A member of staff exported customer data.",
       {
           {"customers", FT::kCustomerIdArray, kReq, "Customers whose data left the system."},
           {"records", FT::kCount, kReq, "Records exported."},
           {"format", FT::kEnum, kOpt, "File format.", {"csv", "json", "jsonl", "xlsx", "pdf", "md", "html", "bundle"}},
           {"scope", FT::kString, kOpt, "What was exported, e.g. portfolio, contacts, evidence."},
           {"export_id", FT::kRecordId, kOpt, "The export's id."},
           {"interface", FT::kEnum, kOpt, "Where from.", kInterfaces},
       }},
      // --- alerts ---
      {"alert.raised",
       1,
       StreamRule::kAlerts,
       "A rule fired, e.g. a mass export by someone who is leaving.",
       {
           {"alert_id", FT::kRecordId, kReq, "The alert's id."},
           {"rule", FT::kRecordId, kReq, "The rule that fired, e.g. mass_export."},
           {"severity", FT::kEnum, kReq, "How serious.", {"info", "warning", "critical"}},
           {"staff", FT::kStaffId, kOpt, "Whom it is about."},
           {"customers", FT::kCustomerIdArray, kOpt, "Customers concerned."},
           {"evidence", FT::kEventIdArray, kOpt, "Events that made the rule fire."},
           {"window_from", FT::kTime, kOpt, "Start of the time window the rule looked at."},
           {"window_to", FT::kTime, kOpt, "End of that window."},
           {"count", FT::kCount, kOpt, "What the rule counted in the window."},
           {"threshold", FT::kNumber, kOpt, "The limit it was compared with."},
           {"summary", FT::kText, kOpt, "The alert in words."},
           {"changes", FT::kObject, kOpt,
            "settings_changed: each setting changed, as {\"from\": old, \"to\": new} in words."},
       },
       {},
       "window_from is not after window_to."},
      {"alerts.configured",
       1,
       StreamRule::kAlerts,
       "The exfiltration rules' thresholds or webhook change; they apply to accesses from then on "
       "(docs/access-and-alerts.md).",
       {
           {"export_records_per_day", FT::kCount, kOpt, "Records one person may export in a day before an alert."},
           {"export_records_per_day_leaving", FT::kCount, kOpt, "The same, once their departure is announced."},
           {"views_per_day", FT::kCount, kOpt, "Customer records one person may view in a day before an alert."},
           {"views_per_day_leaving", FT::kCount, kOpt, "The same, once their departure is announced."},
           {"baseline_factor", FT::kNumber, kOpt, "A day above this many times the person's own 30-day median alerts."},
           {"baseline_factor_leaving", FT::kNumber, kOpt, "The same, once their departure is announced."},
           {"mass_export_customers", FT::kCount, kOpt, "Customers in one export above which it is a mass export."},
           {"mass_export_customers_leaving", FT::kCount, kOpt, "The same, once their departure is announced."},
           {"unserved_customers_per_day", FT::kCount, kOpt,
            "Customers one person may read in a day that they neither own nor serve before an alert."},
           {"unserved_customers_per_day_leaving", FT::kCount, kOpt, "The same, once their departure is announced."},
           {"webhook", FT::kString, kOpt,
            "http:// or https:// URL to POST each new alert to, any credential in it replaced by ***; "
            "\"off\" for none."},
           {"webhook_fingerprint", FT::kString, kOpt,
            "With a redacted webhook: which secret URL it stands for (sha256: and 32 hex digits)."},
       }},
      // --- erasure and fixes ---
      {"subject.erased",
       1,
       StreamRule::kSubject,
       "A person's personal data was erased: their key is destroyed.",
       {
           {"subject", FT::kSubjectId, kReq, "Whose data."},
           {"reason", FT::kEnum, kOpt, "Why.", {"data_subject_request", "retention_expired", "legal_order"}},
           {"request_ref", FT::kString, kOpt, "The data-protection request's reference."},
       },
       {},
       "a customer-<id> subject is erased on its own stream, a staff-<id> subject on its own stream, a "
       "contact-<id> subject on its customer's stream."},
      {"event.corrected",
       1,
       StreamRule::kFixedEvent,
       "An earlier event was wrong; this gives the right values. "
       "Both stay visible.",
       {
           {"event_id", FT::kEventId, kReq, "The event it fixes."},
           {"reason", FT::kText, kReq, "What was wrong."},
           {"corrected", FT::kObject, kReq,
            "The fixed event's data fields with their right values; "
            "fields not named keep theirs."},
       }},
      {"event.retracted",
       1,
       StreamRule::kFixedEvent,
       "An earlier event should not have been recorded. Both stay "
       "visible; projections skip the retracted one.",
       {
           {"event_id", FT::kEventId, kReq, "The event it retracts."},
           {"reason", FT::kText, kReq, "Why."},
       }},
  };
}

}  // namespace

const std::vector<EventTypeSpec>& Catalogue() {
  static const std::vector<EventTypeSpec> catalogue = BuildCatalogue();
  return catalogue;
}

}  // namespace custodian
