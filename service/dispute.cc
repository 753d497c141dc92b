#include "service/dispute.h"

#include <boost/json.hpp>
#include <fmt/core.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <tuple>
#include <vector>

#include "core/json.h"
#include "replay/customer.h"
#include "service/customer.h"
#include "service/evidence.h"
#include "storage/store_files.h"

namespace json = boost::json;
namespace fs = std::filesystem;

namespace custodian {
namespace {

json::value TimeOrNull(std::optional<Timestamp> t) {
  return t ? json::value(FormatRfc3339(*t)) : json::value(nullptr);
}

// Who owned the customer at `at` and who held each open request and promise,
// in `view` (a view as of `at`).
json::object Responsibilities(const CustomerView& view, Timestamp at) {
  json::object o;
  std::optional<CustomerState::Custody> owner = OwnerAt(view.state, at);
  o["owner"] = owner ? json::value(owner->owner) : json::value(nullptr);
  o["owner_since"] = owner ? TimeOrNull(owner->from) : json::value(nullptr);
  json::array requests;
  for (const auto& [id, r] : view.state.open_requests) {
    requests.push_back(json::object{{"request", id},
                                    {"title", r.title},
                                    {"assignee", r.assignee.empty() ? json::value(nullptr) : json::value(r.assignee)},
                                    {"opened_at", FormatRfc3339(r.opened_at)},
                                    {"opened_by", r.opened_by},
                                    {"due_at", TimeOrNull(r.due_at)},
                                    {"answered", r.first_response_at.has_value()},
                                    {"overdue", r.due_at.has_value() && *r.due_at < at}});
  }
  o["open_requests"] = std::move(requests);
  json::array commitments;
  for (const auto& [id, c] : view.state.open_commitments) {
    commitments.push_back(json::object{{"commitment", id},
                                       {"promise", c.promise},
                                       {"owner", c.owner},
                                       {"made_at", FormatRfc3339(c.made_at)},
                                       {"due_at", FormatRfc3339(c.due_at)},
                                       {"due_moved_from", TimeOrNull(c.due_moved_from)},
                                       {"overdue", view.Overdue(c)}});
  }
  o["open_commitments"] = std::move(commitments);
  return o;
}

std::string TimelineText(const CustomerTimelineResult& t) {
  std::string out;
  size_t next_backfill = 0;
  for (size_t i = 0; i < t.entries.size(); ++i) {
    const TimelineEntry& entry = t.entries[i];
    if (next_backfill < t.backfills.size() && t.backfills[next_backfill].first == i) {
      out += BackfillNote(t.backfills[next_backfill++]) + "\n";
    }
    const Event& e = entry.event;
    out += fmt::format("{}  position {:<6} {:<10} {:<24} {}{}{}\n", FormatRfc3339(e.occurred_at), e.position.value(),
                       e.actor, e.type, entry.summary,
                       entry.late ? "  [LATE: recorded " + FormatRfc3339(e.recorded_at) + "]" : "",
                       e.recorded_by.empty() ? "" : "  [through token " + e.recorded_by + "]");
    if (!e.personal_plain.empty()) out += fmt::format("{:32}personal: {}\n", "", e.personal_plain);
    for (const TimelineEntry::Fix& f : entry.fixes) {
      out += fmt::format("{:32}^ {} by {} at position {}: {}\n", "", f.retracted ? "retracted" : "corrected", f.actor,
                         f.position, f.summary);
    }
  }
  if (!t.personal_unavailable.empty()) {
    out += "\n(personal fields are shown sealed, because " + t.personal_unavailable + ")\n";
  }
  return out;
}

std::string Readme(const DisputeResult& r, const Caller& caller, Timestamp now, const std::string& origin) {
  std::string files;
  for (const DisputeFile& f : r.files) files += fmt::format("- `{}`: {}\n", f.name, f.what);
  return fmt::format(
      "# Dispute file: {customer} at {at}\n\n"
      "Made {now} by {by} from the Custodian log `{origin}`.\n\n"
      "## Files\n\n{files}\n"
      "## How to check it offline\n\n"
      "Obtain the company's published verifier key through a channel you trust (a contract, the company's "
      "site); `verifier.vkey` in this folder is only for comparison. Then, with no store and no network:\n\n"
      "```sh\n"
      "custodian verify-bundle evidence.json --key '<the published key>'\n"
      "```\n\n"
      "It recomputes every event's Merkle leaf from the fields shown, checks each inclusion proof against the "
      "signed checkpoint (tree size {size}) and the signature against the key, and checks the stream map's "
      "completeness proof: that the bundle accounts for every event of {customer} in the log up to that size, "
      "so that nothing was left out. When this folder was made it said: {completeness}.\n\n"
      "The other files are read from the same events: the customer as of {at} by knowledge time (what had been "
      "recorded by then) and by business time (what had happened by then, including what was recorded later, "
      "listed in `not_known_then_positions`), the timeline with each correction and retraction beside the "
      "event it fixes, the chain of custody, and who was responsible for each open request and promise at {at}. "
      "Every event they rest on is in `evidence.json` by its position.\n\n"
      "## What it does not prove\n\n"
      "- What was never recorded: a call nobody logged is not here. The log proves what was recorded, when, and "
      "that it was not changed afterwards.\n"
      "- Events recorded after the checkpoint of size {size}.\n"
      "- Who did what, beyond what the producer said: an event's `actor` is its producer's word (a CRM's feed "
      "writes for whoever did the work). An event appended over the HTTP API names the token that handed it in "
      "(`recorded_by`, shown in the timeline as \"through token\"), and that is in its leaf hash.\n\n"
      "This folder holds personal data of the customer's contacts as {by} was allowed to see it; the reads that "
      "made it are recorded in the log.\n",
      fmt::arg("customer", r.customer), fmt::arg("at", FormatRfc3339(r.at)), fmt::arg("now", FormatRfc3339(now)),
      fmt::arg("by", caller.principal), fmt::arg("origin", origin), fmt::arg("files", files),
      fmt::arg("size", r.tree_size), fmt::arg("completeness", r.completeness));
}

}  // namespace

Result<DisputeResult> MakeDispute(EventLog& log, const Caller& caller, const DisputeRequest& request, Timestamp now) {
  std::error_code ec;
  const fs::path dir(request.out);
  // A folder of our own: an empty one, never one reached through a link.
  const fs::file_status st = fs::symlink_status(dir, ec);
  if (fs::is_symlink(st)) return Status::InvalidArgument(request.out + " is a symbolic link; choose another --out");
  if (fs::exists(st) && !(fs::is_directory(st) && fs::is_empty(dir, ec))) {
    return Status::InvalidArgument(request.out + " exists and is not an empty folder; choose another --out");
  }
  if (log.verifier() == nullptr) {
    return Status::FailedPrecondition("the store has no checkpoint key, so it cannot vouch for a dispute file");
  }
  DisputeResult r;
  r.customer = request.customer;
  r.at = request.at;
  r.dir = request.out;
  r.verifier_key = log.verifier()->ToString();

  // The reads, each recorded as its operation records it; the timeline first,
  // as it is the one that refuses a customer with no events.
  Result<CustomerTimelineResult> timeline = CustomerTimeline(log, caller, request.customer);
  if (!timeline.ok()) return timeline.status();
  Result<CustomerView> known = ShowCustomer(log, caller, request.customer, AsOfTime{request.at, AsOf::kKnowledge}, now);
  if (!known.ok()) return known.status();
  Result<CustomerView> happened =
      ShowCustomer(log, caller, request.customer, AsOfTime{request.at, AsOf::kBusiness}, now);
  if (!happened.ok()) return happened.status();
  Result<CustodyAnswer> custody = CustomerCustody(log, caller, request.customer, CustodyQuery{});
  if (!custody.ok()) return custody.status();
  Result<EvidenceBundle> bundle = MakeBundle(log, caller, BundleRequest{request.customer, {}, {}});
  if (!bundle.ok()) return bundle.status();

  // Made now, by this process (mkdir fails on anything put there since the
  // check, a link included), or the empty folder checked above, opened
  // without following a link and made owner-only through that handle.
  if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno != EEXIST) return Status::IoError("cannot make " + request.out + ": " + std::strerror(errno));
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const bool owned = fd >= 0 && ::fchmod(fd, 0700) == 0 && fs::is_empty(dir, ec);
    if (fd >= 0) ::close(fd);
    if (!owned) return Status::InvalidArgument(request.out + " changed while the folder was made; choose another --out");
  }
  auto fail = [&](Status s) {
    fs::remove_all(dir, ec);
    return s;
  };
  auto write = [&](const std::string& name, const std::string& what, const std::string& contents) -> Status {
    CUSTODIAN_RETURN_IF_ERROR(store_files::WriteFileDurably(dir / name, contents));
    r.files.push_back({name, what, contents.size()});
    return Status::Ok();
  };

  // The evidence first: it must verify as written, or there is no folder.
  Result<WrittenBundle> written = WriteBundleFile(*bundle, (dir / "evidence.json").string());
  if (!written.ok()) return fail(written.status());
  if (!written->verified) {
    return fail(Status::Corruption("the evidence bundle of " + request.customer +
                                   " does not verify as written, so no dispute file was made: " + written->problem +
                                   "; run `custodian verify` to find what in the store disagrees"));
  }
  ::chmod((dir / "evidence.json").c_str(), 0600);
  Result<BundleVerdict> verdict = VerifyBundleFile((dir / "evidence.json").string(), *log.verifier());
  if (!verdict.ok()) return fail(verdict.status());
  r.events = verdict->events;
  r.tree_size = verdict->tree_size;
  r.complete = verdict->complete;
  r.completeness = verdict->completeness;

  json::object responsibilities{{"customer", request.customer},
                                {"at", FormatRfc3339(request.at)},
                                {"as_known", Responsibilities(*known, request.at)},
                                {"as_happened", Responsibilities(*happened, request.at)}};
  const std::vector<std::tuple<std::string, std::string, std::string>> files = {
      {"customer-as-known.json",
       "the customer as the company knew it at " + FormatRfc3339(request.at) + " (events recorded by then)",
       CustomerViewToJson(*known) + "\n"},
      {"customer-as-happened.json",
       "the customer as things had happened by " + FormatRfc3339(request.at) +
           " (events that occurred by then, whenever recorded; those recorded later are listed)",
       CustomerViewToJson(*happened) + "\n"},
      {"responsibilities.json",
       "who owned the customer at " + FormatRfc3339(request.at) +
           " and who was responsible for each open request and promise then, as known then and as it happened",
       json::serialize(responsibilities) + "\n"},
      {"timeline.txt", "every event of the customer in words, corrections and retractions beside what they fix",
       TimelineText(*timeline)},
      {"timeline.jsonl", "the same events as JSON, one a line", CustomerTimelineToJson(*timeline)},
      {"custody.jsonl", "the chain of custody: who owned the customer when, and why it changed hands",
       CustodyAnswerToJson(*custody)},
      {"verifier.vkey", "the key the checkpoint was signed with, for comparison with the published one",
       r.verifier_key + "\n"},
  };
  for (const auto& [name, what, contents] : files) {
    Status s = write(name, what, contents);
    if (!s.ok()) return fail(s);
  }
  r.files.insert(r.files.end() - 1,  // before verifier.vkey
                 DisputeFile{"evidence.json",
                             "the evidence bundle: every event with its inclusion proof, the signed checkpoint and "
                             "the completeness proof (check it with custodian verify-bundle)",
                             bundle->bundle.json.size()});
  const std::string readme = Readme(r, caller, now, log.verifier()->name());
  Status s = store_files::WriteFileDurably(dir / "README.md", readme);
  if (!s.ok()) return fail(s);
  r.files.insert(r.files.begin(), DisputeFile{"README.md", "what each file is and how to check it offline",
                                              readme.size()});
  return r;
}

std::string DisputeResultToJson(const DisputeResult& r) {
  json::array files;
  for (const DisputeFile& f : r.files) files.push_back(json::object{{"name", f.name}, {"what", f.what}, {"bytes", f.bytes}});
  return json::serialize(json::object{{"customer", r.customer},
                                      {"at", FormatRfc3339(r.at)},
                                      {"dir", r.dir},
                                      {"files", std::move(files)},
                                      {"events", r.events},
                                      {"tree_size", r.tree_size},
                                      {"complete", r.complete},
                                      {"completeness", r.completeness},
                                      {"verifier_key", r.verifier_key}});
}

}  // namespace custodian
