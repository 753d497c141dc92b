// custodian: the command line of Custodian.
//
//   custodian [--data DIR] init [--origin NAME]
//   custodian [--data DIR] append [--expected-version V] [JSON|-]
//   custodian [--data DIR] import FILE|- [--skip-invalid] [--batch N]
//   custodian [--data DIR] read STREAM [--from V] [--backwards] [--limit N]
//   custodian [--data DIR] read-all [--from P] [--limit N]
//   custodian [--data DIR] tail [--from P] [--stream S] [--count N]
//   custodian [--data DIR] stats [--stream S]
//   custodian [--data DIR] permissions [--fix]
//   custodian [--data DIR] key show
//   custodian [--data DIR] checkpoint [--list]
//   custodian [--data DIR] prove inclusion --position P [--size N] [--json]
//   custodian [--data DIR] prove consistency --from M [--to N] [--json]
//   custodian [--data DIR] verify [--against CHECKPOINT_FILE [--key VKEY]]
//   custodian [--data DIR] bundle --stream S [--from T] [--to T] --out FILE
//   custodian verify-bundle FILE [--key VKEY]
//   custodian [--data DIR] dispute --customer ID --at T [--out DIR]
//   custodian [--data DIR] customer show ID [--as-of T | --as-of-business T]
//   custodian [--data DIR] customer timeline ID
//   custodian [--data DIR] customer custody ID [--at T [--request R]]
//   custodian [--data DIR] customer find WORD... [--limit N]
//   custodian [--data DIR] staff portfolio ID [--as-of T | --as-of-business T]
//   custodian [--data DIR] accountability [--staff ID | --team NAME] [--from T] [--to T] [--as-of T | --as-of-business T]
//   custodian [--data DIR] silent [--days N] [--as-of T | --as-of-business T]
//   custodian [--data DIR] pipeline [--team NAME]
//   custodian [--data DIR] rebuild [NAME]
//   custodian [--data DIR] departures [--all] [--as-of T | --as-of-business T]
//   custodian [--data DIR] orphans [--as-of T | --as-of-business T]
//   custodian [--data DIR] handover plan --from STAFF (--to STAFF | --balance-team TEAM)
//   custodian [--data DIR] handover execute HANDOVER_ID
//   custodian [--data DIR] handover report HANDOVER_ID [--format md|html|json] [--for STAFF] [--out FILE]
//   custodian [--data DIR] demo [--seed N] [--staff N] [--customers N] [--years N] [--until DATE]
//
// Every query takes --json: listings print JSON Lines, single answers one
// JSON document. Exit codes: 0 ok, 1 usage, 2 rejected input, 3 conflict,
// 4 storage error, 5 verification failed, 6 not found. Commands that only
// read open the store read-only, so they work while another process writes
// to it; commands that write wait up to --wait SECONDS (default 10) for such
// a process to finish (cli_common.cc, OpenStore).
// The commands themselves are in cli_log.cc, cli_evidence.cc, cli_customer.cc and cli_staff.cc.
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "core/catalogue.h"
#include "core/text.h"
#include "tools/cli.h"

namespace {

// For counts, positions, sizes and versions: a whole number of 0 or more.
// CLI11 would read "-1" into an unsigned option as 2^64-1.
const CLI::Validator kWholeNumber(
    [](std::string& text) -> std::string {
      if (!text.empty() && text.size() <= 20 && text.find_first_not_of("0123456789") == std::string::npos) return "";
      return "\"" + text + "\" is not a whole number of 0 or more";
    },
    "N", "whole number");

// For a page's size: 0 would read nothing and say the stream is empty.
const CLI::Validator kAtLeastOne(
    [](std::string& text) -> std::string {
      return text.find_first_not_of('0') == std::string::npos ? "0 reads nothing: give 1 or more" : "";
    },
    "", "at least one");

// Levenshtein distance, for suggesting a command.
size_t Distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The nearest of `names` to `word` (within two edits, or one it begins),
// "" when none is near.
std::string Nearest(std::string_view word, const std::vector<std::string>& names) {
  std::string nearest;
  size_t best = 3;
  for (const std::string& n : names) {
    const size_t d = n.starts_with(word) ? 1 : Distance(word, n);
    if (d < best) best = d, nearest = n;
  }
  return nearest;
}

// When CLI11 refuses a command line: a word where a command was expected
// and none is named so ("custodian stat"), or an option no command along the
// way has ("--limt"), said plainly with the nearest name; empty when the
// trouble is elsewhere.
std::string MistypedCommand(CLI::App& app, int argc, char** argv) {
  CLI::App* at = &app;
  std::string path = "custodian";
  auto has_no = [&] { return at == &app ? std::string("custodian: no") : "custodian: `" + path + "` has no"; };
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--") return "";
    if (word.starts_with("-")) {
      const std::string name = word.substr(0, word.find('='));
      const CLI::Option* found = nullptr;
      for (CLI::App* in = at; in != nullptr && found == nullptr; in = in->get_parent()) {
        found = in->get_option_no_throw(name);
      }
      if (found == nullptr) {
        if (!name.starts_with("--")) return "";
        std::vector<std::string> names;
        for (CLI::App* in = at; in != nullptr; in = in->get_parent()) {
          for (const CLI::Option* o : in->get_options()) {
            for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
          }
        }
        const std::string nearest = Nearest(name, names);
        return has_no() + " option " + custodian::OneLineText(name, 40) +
               (nearest.empty() ? "" : "; did you mean " + nearest + "?") + " (`" + path + " --help` lists them)";
      }
      if (word.find('=') == std::string::npos && found->get_items_expected_min() > 0) ++i;
      continue;
    }
    const std::vector<CLI::App*> commands = at->get_subcommands([](CLI::App*) { return true; });
    if (commands.empty()) continue;  // an argument of a command
    CLI::App* next = nullptr;
    std::vector<std::string> names;
    for (CLI::App* c : commands) {
      if (c->get_name() == word) next = c;
      names.push_back(c->get_name());
    }
    if (next == nullptr) {
      const std::string nearest = Nearest(word, names);
      return has_no() + " command \"" +
             custodian::OneLineText(word, 40) + "\"" +
             (nearest.empty() ? "" : "; did you mean `" + path + " " + nearest + "`?") + " (`" + path +
             " --help` lists them)";
    }
    at = next;
    path += " " + word;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace custodian::cli;
  // Whatever this process creates (store files, reports, bundles, spooled
  // reads) is its owner's alone; a store's directory is made 0700 as well.
  ::umask(077);
  CLI::App app{
      "Custodian keeps a company's customer relationships as company assets: every interaction, commitment,\n"
      "ownership change and read of customer data is an event in an append-only, durable log."};
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok, 1 usage, 2 rejected input, 3 conflict, 4 storage error, 5 verification failed, 6 not found\n"
      "(no store there, or no customer, member of staff, person or handover by that name).\n"
      "Run `custodian COMMAND --help` for the options of each command.");

  Globals g;
  const char* env_dir = std::getenv("CUSTODIAN_DATA");
  g.data_dir = env_dir && *env_dir ? env_dir : "./custodian-data";
  app.add_option("--data", g.data_dir, "The store's directory (default ./custodian-data, or $CUSTODIAN_DATA)");
  std::string checkpoint_every;
  auto* checkpoint_every_option = app.add_option(
      "--checkpoint-every", checkpoint_every,
      "While a command writes, sign a checkpoint every this many seconds (0.001 to a year), and one at the end if "
      "events came after it; needs the store's signing key (default: only `custodian checkpoint`; or "
      "$CUSTODIAN_CHECKPOINT_EVERY)");

  std::string wait;
  auto* wait_option = app.add_option("--wait", wait,
                 "Commands that write: while another process holds the store read-write, wait up to this many "
                 "seconds for it to finish before giving up (default 10; 0: give up at once)");

  if (const char* key = std::getenv("CUSTODIAN_MASTER_KEY_FILE"); key && *key) g.master_key = key;
  app.add_option("--master-key", g.master_key,
                 "The master key file that wraps every person's data key; kept outside the store (default "
                 "<data>.keys/master.key, made by init; or $CUSTODIAN_MASTER_KEY_FILE). Without it the store serves "
                 "everything but personal data");
  if (const char* as = std::getenv("CUSTODIAN_AS"); as && *as) g.as = as;
  app.add_option("--as", g.as,
                 "Who is reading: the member of staff (7 or staff-7) to whom commands that show customer data "
                 "record the read, as data.viewed / data.exported on access-<staff> (or $CUSTODIAN_AS)");

  bool json = false;
  std::string origin = custodian::DefaultOrigin();  // init sees whether --origin was given
  auto* init = app.add_subcommand(
      "init", "Create an empty store in the --data directory, with its Ed25519 checkpoint key (log.key, readable only "
              "by its owner) and the public verifier key to give auditors (log.vkey)");
  auto* init_origin = init->add_option("--origin", origin,
                   "The log's name on its signed checkpoints, e.g. crm.example.com/audit (default: " + origin + ")");
  init->add_flag("--json", json, "Print the result as JSON");

  std::string append_json, expected;
  auto* append = app.add_subcommand(
      "append",
      "Append one event given in its JSON form, as an argument or on standard input; exits 0 only once it is on "
      "disk. Example:\n  custodian append '{\"id\":\"7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44\",\"stream\":\"customer-42\","
      "\"type\":\"interaction.logged\",\"actor\":\"system:crm-sync\",\"occurred_at\":\"2026-03-01T10:15:00Z\","
      "\"data\":{\"channel\":\"call\",\"direction\":\"outbound\"}}'");
  append->add_option("event", append_json, "The event as JSON, or - (the default) to read it from standard input");
  append->add_option("--expected-version", expected,
                     "Append only if the stream is at this version: a number, 'none' (the stream must not exist) or "
                     "'any' (the default)");
  append->add_flag("--json", json, "Print the result as JSON");

  std::string import_file;
  bool skip_invalid = false;
  size_t batch_size = 1000;
  auto* import = app.add_subcommand(
      "import",
      "Import events from a JSON Lines file (one event per line). All or nothing: the whole file is checked first "
      "(JSON, envelope, payload, ids, and the log's rules as the file would apply them), and a bad line refuses the "
      "import with its line number before anything is written. The same event twice is written once; an event "
      "already in the log is skipped. Only a storage failure while writing can leave an import part-written, and "
      "running it again completes it. A line may hold at most 4 MiB.");
  import->add_option("file", import_file, "The file, or - for standard input")->required();
  import->add_flag("--skip-invalid", skip_invalid,
                   "Write the valid lines and list the bad ones instead of refusing the file; exits 2 when it skipped "
                   "any");
  import->add_option("--batch", batch_size, "Events per atomic batch (default 1000)")->check(CLI::Range(1, 100000));
  import->add_flag("--json", json, "Print the summary as JSON");

  bool fix_permissions = false;
  auto* permissions = app.add_subcommand(
      "permissions", "List what in the store other accounts on this machine can read or enter (a store must be "
                     "owner-only: directories 0700, files 0600); exits 5 when there is any");
  permissions->add_flag("--fix", fix_permissions, "Make every path of the store owner-only");
  permissions->add_flag("--json", json, "Print the result as JSON");

  std::string stream;
  uint64_t from = 0, limit = UINT64_MAX;
  bool backwards = false;
  auto* read = app.add_subcommand(
      "read", "Print the events of one stream, in stream order (a customer's or an access stream: name yourself with "
              "--as; the read is recorded)");
  read->add_option("stream", stream, "The stream, e.g. customer-42")->required();
  read->add_option("--from", from, "First version to print (default: the first, or the last with --backwards)")
      ->check(kWholeNumber);
  read->add_flag("--backwards", backwards, "Newest first");
  read->add_option("--limit", limit, "Print at most this many events (1 or more)")->check(kWholeNumber & kAtLeastOne);
  read->add_flag("--json", json, "One JSON object per line");

  auto* read_all = app.add_subcommand(
      "read-all", "Print every event of the log, in log order (name yourself with --as: the read of customer data is "
                  "recorded)");
  read_all->add_option("--from", from, "First position to print (default 0)")->check(kWholeNumber);
  read_all->add_option("--limit", limit, "Print at most this many events (1 or more)")->check(kWholeNumber & kAtLeastOne);
  read_all->add_flag("--json", json, "One JSON object per line");

  std::optional<uint64_t> tail_from;
  uint64_t count = UINT64_MAX;
  auto* tail = app.add_subcommand(
      "tail", "Follow the log live: print new events as they are appended (by any process), until Ctrl-C (name "
              "yourself with --as, unless --stream is neither a customer's nor an access stream: each batch's read "
              "is recorded before it is printed)");
  tail->add_option("--from", tail_from, "Start at this position, catching up first (default: the current end)")
      ->check(kWholeNumber);
  tail->add_option("--stream", stream, "Only this stream");
  tail->add_option("--count", count, "Stop after this many events")->check(kWholeNumber);
  tail->add_flag("--json", json, "One JSON object per line");

  auto* stats = app.add_subcommand("stats", "Print the size of the store, or of one stream with --stream");
  stats->add_option("--stream", stream, "Describe this stream: events, current version, first and last times");
  stats->add_flag("--json", json, "Print as JSON");

  // --- tamper evidence ---
  auto* key = app.add_subcommand("key", "The log's checkpoint key");
  key->require_subcommand(1);
  auto* key_show = key->add_subcommand("show", "Print the public verifier key in C2SP vkey form (give it to auditors)");
  key_show->add_flag("--json", json, "Print as JSON");

  bool list = false;
  auto* checkpoint = app.add_subcommand(
      "checkpoint", "Sign the log's current size and Merkle root as a C2SP checkpoint, store it and print it");
  checkpoint->add_flag("--list", list, "Print every stored checkpoint instead");
  checkpoint->add_flag("--json", json, "Print as JSON");

  uint64_t position = 0, from_size = 0;
  std::optional<uint64_t> tree_size, to_size;
  auto* prove = app.add_subcommand("prove", "Print a Merkle proof as JSON (hashes in base64)");
  prove->require_subcommand(1);
  auto* prove_inclusion = prove->add_subcommand("inclusion", "Prove that the event at a position is in the log");
  prove_inclusion->add_option("--position", position, "The event's position")->required()->check(kWholeNumber);
  prove_inclusion->add_option("--size", tree_size, "Against the tree of this many events (default: the whole log)")
      ->check(kWholeNumber);
  prove_inclusion->add_flag("--json", json, "Print as JSON (the default: the proof is always JSON)");
  auto* prove_consistency =
      prove->add_subcommand("consistency", "Prove that the log of --from events is a prefix of the log of --to");
  prove_consistency->add_option("--from", from_size, "The older size")->required()->check(kWholeNumber);
  prove_consistency->add_option("--to", to_size, "The newer size (default: the whole log)")->check(kWholeNumber);
  prove_consistency->add_flag("--json", json, "Print as JSON (the default: the proof is always JSON)");

  std::string against, key_text;
  auto* verify = app.add_subcommand(
      "verify",
      "Recompute every leaf from the stored records and check the stored Merkle tree, every signed checkpoint and "
      "the indexes; name the first disagreement and exit 5 if there is one");
  verify->add_option("--against", against,
                     "Also prove the log extends this checkpoint (a signed note an auditor kept)");
  verify->add_option("--key", key_text, "Check --against with this verifier key (text or file) instead of the store's");
  verify->add_flag("--json", json, "Print the report as JSON");

  std::string bundle_stream, bundle_from, bundle_to, bundle_out;
  auto* bundle = app.add_subcommand(
      "bundle", "Write a self-contained evidence file: a stream's events, a signed checkpoint, an inclusion proof for "
                "each event, the verifier key and a summary. It verifies offline with verify-bundle");
  bundle->add_option("--stream", bundle_stream, "The stream, e.g. customer-42")->required();
  bundle->add_option("--from", bundle_from, "Only events that occurred at or after this RFC 3339 time");
  bundle->add_option("--to", bundle_to, "Only events that occurred at or before this RFC 3339 time");
  bundle->add_option("--out", bundle_out, "The file to write")->required();
  bundle->add_flag("--json", json, "Print the result as JSON");

  std::string bundle_file;
  auto* verify_bundle = app.add_subcommand(
      "verify-bundle", "Check an evidence bundle offline, with no store; say which event fails and why; exit 5 if one does");
  verify_bundle->add_option("file", bundle_file, "The bundle")->required();
  verify_bundle->add_option("--key", key_text,
                            "The verifier key to trust (text or file); without it, the key in the bundle is used");
  verify_bundle->add_flag("--json", json, "Print the verdict as JSON");
  bool inclusion_only = false;
  verify_bundle->add_flag("--inclusion-only", inclusion_only,
                          "Accept a bundle that proves only that its events are in the log, not that its stream has "
                          "no others (format 1 or 2, made before 2026-12-05); without it such a bundle exits 5");

  std::string cosigned_file;
  std::vector<std::string> witnesses;
  size_t require_cosignatures = 1;
  auto* verify_cosigned = app.add_subcommand(
      "verify-cosignatures",
      "Check, offline, which witnesses (nodes of a cluster: POST /v1/checkpoints/cosign) cosigned a checkpoint note "
      "(C2SP tlog-cosignature); exit 5 when fewer than --require did");
  verify_cosigned->add_option("file", cosigned_file, "The checkpoint note with its cosignature lines")->required();
  verify_cosigned->add_option("--witness", witnesses,
                              "A witness's key, <name>+<key id>+<base64 key> (each node's \"cosigner\"); repeat it")
      ->required();
  verify_cosigned->add_option("--require", require_cosignatures, "How many of them must have cosigned")
      ->capture_default_str();
  verify_cosigned->add_flag("--json", json, "Print the verdict as JSON");

  std::string dispute_customer, dispute_at, dispute_out;
  auto* dispute = app.add_subcommand(
      "dispute", "Make one folder about a customer at a time, for a dispute: the customer as known and as it had "
                 "happened then, its timeline with corrections, its custody chain, who was responsible for each "
                 "open request and promise, and the evidence bundle with its completeness proof; a README says how "
                 "to verify it offline with only the published key");
  dispute->add_option("--customer", dispute_customer, "The customer, e.g. customer-42 or 42")->required();
  dispute->add_option("--at", dispute_at, "The time in dispute (RFC 3339, e.g. 2026-03-01T00:00:00Z)")->required();
  dispute->add_option("--out", dispute_out,
                      "The folder to make (must not exist, or be empty); default dispute-<customer>-<date of --at>");
  dispute->add_flag("--json", json, "Print the result as JSON");

  // --- customers and projections ---
  std::string customer_id, as_of, as_of_business, at;
  auto* customer = app.add_subcommand("customer", "One customer: its picture, history and chain of custody");
  customer->require_subcommand(1);
  auto* customer_show = customer->add_subcommand(
      "show", "Profile, owner, contacts, open deals, requests and commitments, last contact, orders; with --as-of "
              "or --as-of-business, the customer as it stood then, replayed from its events");
  customer_show->add_option("id", customer_id, "The customer: 42 or customer-42")->required();
  customer_show->add_option("--as-of", as_of, "What we knew at this RFC 3339 time (events recorded by then)");
  customer_show->add_option("--as-of-business", as_of_business,
                            "What had happened by this time (events that occurred by then); flags late entries");
  customer_show->add_flag("--json", json, "Print as JSON");
  auto* customer_timeline = customer->add_subcommand(
      "timeline", "Every event of the customer in plain words, corrections next to what they fix");
  customer_timeline->add_option("id", customer_id, "The customer")->required();
  customer_timeline->add_flag("--json", json, "One event per line, as JSON");
  auto* customer_custody =
      customer->add_subcommand("custody", "Who owned the customer when, and why it changed hands");
  customer_custody->add_option("id", customer_id, "The customer")->required();
  customer_custody->add_option("--at", at, "Only: who owned it at this RFC 3339 time");
  std::string request_id;
  customer_custody->add_option("--request", request_id,
                               "With --at: who was responsible for this request (e.g. req-9001) at that time");
  customer_custody->add_flag("--json", json, "Print as JSON");
  std::vector<std::string> find_words;
  size_t find_limit = 50;
  auto* customer_find = customer->add_subcommand(
      "find", "The customers you serve whose id or registered name holds every word given (any case; one-letter words are not searched); a "
              "person who is a customer is found by id, people at customers with `custodian find`. The read is recorded, so name "
              "yourself with --as");
  customer_find->add_option("words", find_words, "Words of the name or id, e.g. acme or customer-42")->required();
  customer_find->add_option("--limit", find_limit, "Show at most this many (default 50)")->check(CLI::Range(1, 10000));
  customer_find->add_flag("--json", json, "One JSON object: query, customers, how many more matched, and the words not searched");

  // --- across customers: staff portfolio, accountability, silent customers ---
  std::string staff_id;
  // --as-of / --as-of-business of the views across customers (one command runs).
  std::string view_as_of, view_as_of_business;
  auto add_as_of = [&](CLI::App* command) {
    auto* knowledge = command->add_option(
        "--as-of", view_as_of,
        "As we knew it at this RFC 3339 time: replays what the log had recorded by then (reads the log from the "
        "start, like a rebuild); silence and overdue are judged at that time");
    command
        ->add_option("--as-of-business", view_as_of_business,
                     "As things stood at this RFC 3339 time by what we know now: replays every event that had "
                     "occurred by then, including those recorded later")
        ->excludes(knowledge);
  };
  auto* staff = app.add_subcommand("staff", "Members of staff and what they hold");
  staff->require_subcommand(1);
  auto* staff_portfolio = staff->add_subcommand(
      "portfolio", "The customers a member of staff owns, with the open deals, requests and commitments they hold and "
                   "their last activity on each; also open work on customers others own");
  staff_portfolio->add_option("id", staff_id, "The member of staff: 7 or staff-7")->required();
  add_as_of(staff_portfolio);
  staff_portfolio->add_flag("--json", json, "One customer per line, as JSON");

  std::string acc_staff, acc_team, acc_from, acc_to;
  auto* accountability = app.add_subcommand(
      "accountability", "First-response times (median, 90th percentile), unanswered requests, overdue and kept "
                        "commitments, per member of staff and team; with --staff or --team, every request and "
                        "commitment too. Overdue is judged against the wall clock");
  auto* acc_staff_opt = accountability->add_option("--staff", acc_staff, "Only this member of staff: 7 or staff-7");
  accountability->add_option("--team", acc_team, "Only this team")->excludes(acc_staff_opt);
  accountability->add_option("--from", acc_from, "Requests opened / commitments due at or after this RFC 3339 time");
  accountability->add_option("--to", acc_to, "Requests opened / commitments due before this RFC 3339 time");
  add_as_of(accountability);
  accountability->add_flag("--json", json, "One JSON object per line, each with a \"kind\"");

  int silent_days = 60;
  auto* silent = app.add_subcommand(
      "silent", "Owned customers with no logged contact for more than N days, and deals won or orders placed with no "
                "logged contact in the N days before them");
  silent->add_option("--days", silent_days, "The window N, in days (default 60)")->check(kWholeNumber);
  add_as_of(silent);
  silent->add_flag("--json", json, "One JSON object per line, each with a \"kind\"");

  std::string pipeline_team;
  auto* pipeline = app.add_subcommand(
      "pipeline", "The open deals of the customers owned by the staff you oversee (yourself, your team and those "
                  "you manage; everyone for a company-wide role), and without --team those of customers nobody owns "
                  "that you serve, by stage: how many, the mean probability, the value by currency. The read is "
                  "recorded, so name yourself with --as");
  pipeline->add_option("--team", pipeline_team, "Only the customers owned by this team's members");
  pipeline->add_flag("--json", json,
                     "One JSON object: team, now, customers counted, how many of them nobody owns, stages");

  std::string projection;
  auto* rebuild = app.add_subcommand("rebuild", "Fold a projection (or all) again from the first event, with progress");
  rebuild->add_option("name", projection, "The projection, e.g. customer (default: all)");
  rebuild->add_flag("--json", json, "Print the result as JSON");

  DemoOptions demo_options;
  auto* demo = app.add_subcommand(
      "demo", "Generate a company from a seed (staff joining and leaving, customers won and lost, requests, "
              "commitments, reads and exports, one leaver exporting far too much), load it into an empty store "
              "(created if missing) and print a tour of what to look at");
  demo->add_option("--seed", demo_options.seed, "The same seed gives the same company, event for event (default 1)")
      ->check(kWholeNumber);
  demo->add_option("--staff", demo_options.staff, "Staff at the start, in teams of about 8 (default 40)");
  demo->add_option("--customers", demo_options.customers, "Customers over the whole history (default 5000)");
  demo->add_option("--years", demo_options.years, "Years of history, ending with --until (default 3)");
  demo->add_option("--until", demo_options.until,
                   "The history's last day, YYYY-MM-DD (default: yesterday, UTC, so that silent customers and overdue "
                   "promises are current today). The same seed and --until give the same company");
  demo->add_option("--origin", origin, "The log's name on its checkpoints, when the store is created");
  demo->add_flag("--json", json, "Print the summary and the tour's picks as JSON");

  bool all_departures = false;
  auto* departures = app.add_subcommand(
      "departures", "Departures announced or made, and what is still left with each leaver: a departure is complete "
                    "only when nothing is");
  departures->add_flag("--all", all_departures, "Also list completed departures");
  add_as_of(departures);
  departures->add_flag("--json", json, "One JSON object per leaver");
  auto* orphans = app.add_subcommand(
      "orphans", "Customers, open requests and open commitments still held by people who have left");
  add_as_of(orphans);
  orphans->add_flag("--json", json, "One JSON object per customer");

  std::string handover_from, handover_to, handover_team;
  auto* handover = app.add_subcommand("handover", "Hand a leaver's customers and open work over to successors");
  handover->require_subcommand(1);
  auto* handover_plan = handover->add_subcommand(
      "plan", "List everything the leaver holds, customer by customer (open deals, requests and promises, key "
              "contacts, last contact, risks), propose a successor for each, and record the plan (handover.planned); "
              "changes nothing else");
  handover_plan->add_option("--from", handover_from, "The leaver: 12 or staff-12")->required();
  auto* to_option = handover_plan->add_option("--to", handover_to, "One successor for everything");
  auto* team_option = handover_plan->add_option(
      "--balance-team", handover_team,
      "Spread the customers over this team by open workload, keeping related customers (same group) together");
  to_option->excludes(team_option);
  handover_plan->add_flag("--json", json, "Print the plan as one JSON document");
  std::string handover_id;
  auto* handover_execute = handover->add_subcommand(
      "execute", "Carry out a recorded plan: per customer, atomically, the ownership change and the reassignment of "
                 "each open request and commitment, then handover.completed. A plan made stale by later events is "
                 "refused with what changed; running an executed plan again changes nothing");
  handover_execute->add_option("handover_id", handover_id, "The plan's id, e.g. ho-304a97a4")->required();
  handover_execute->add_flag("--json", json, "Print the result as JSON");
  std::string report_format = "md", report_for, report_out;
  auto* handover_report = handover->add_subcommand(
      "report", "The successor's briefing, customer by customer: who they are, history in brief, open work, promises "
                "made on the company's behalf, the people to call, the last conversations");
  handover_report->add_option("handover_id", handover_id, "The handover's id")->required();
  handover_report->add_option("--format", report_format,
                              "md (default), html (one self-contained file that prints well) or json (JSON Lines)");
  handover_report->add_option("--for", report_for, "Only the customers going to this successor");
  handover_report->add_option("--out", report_out, "Write to this file instead of standard output");

  std::string access_staff, access_customer, access_from, access_to;
  auto* access = app.add_subcommand(
      "access", "Who read or exported what: every read of one member of staff (--staff), or everyone who read one "
                "customer (--customer)");
  auto* access_staff_opt = access->add_option("--staff", access_staff, "What this member of staff read: 7 or staff-7");
  access->add_option("--customer", access_customer, "Who read this customer: 42 or customer-42")
      ->excludes(access_staff_opt);
  access->add_option("--from", access_from, "Only reads at or after this RFC 3339 time");
  access->add_option("--to", access_to, "Only reads before this RFC 3339 time");
  access->add_flag("--json", json, "One JSON object per line");

  std::string alerts_staff;
  std::vector<std::string> alert_settings;
  auto* alerts = app.add_subcommand(
      "alerts", "Exfiltration alerts: reads and exports above a person's own 30-day baseline (stricter once their "
                "departure is announced), mass exports, reads of customers they neither own nor serve. Raises what "
                "the rules found first (alert.raised in the alerts stream, and the webhook if one is set)");
  alerts->add_option("--staff", alerts_staff, "Only alerts about this member of staff");
  alerts->add_flag("--json", json, "One JSON object per alert");
  auto* alerts_config = alerts->add_subcommand(
      "config", "Print the rules' settings, or change them with --set (recorded as alerts.configured; applies from "
                "then on; only a head of sales, sales director, compliance officer or admin who is not leaving)");
  alerts_config->add_option("--set", alert_settings,
                            "KEY=VALUE, repeatable: e.g. mass_export_customers=150, "
                            "webhook=https://user:password@host:8443/hook (the credential is kept in <data>/webhook.url, "
                            "never in the log; $CUSTODIAN_WEBHOOK_CA_FILE: trust only this CA) or webhook=off");
  alerts_config->add_flag("--json", json, "Print the settings as JSON");

  // --- people (service/personal.h) ---
  std::string find_email, find_phone, find_name;
  auto* find = app.add_subcommand(
      "find", "Find the people at customers by e-mail, phone or name, through the blind index (the store holds no "
              "plaintext index); the read is recorded, so name yourself with --as");
  find->add_option("--email", find_email, "An e-mail address (any case)");
  find->add_option("--phone", find_phone, "A phone number (spaces, dashes and brackets are ignored)");
  find->add_option("--name", find_name, "A name, or any of its words; several words must all match");
  find->add_flag("--json", json, "Print as JSON");

  std::string subject, subject_out, subject_format = "json";
  auto* export_subject = app.add_subcommand(
      "export-subject", "Subject-access export: everything held about one person (every event that names them, "
                        "opened) and who read or exported their customer's data; recorded as an export");
  export_subject->add_option("subject", subject,
                             "customer-<id>/contact-<contact id> (or customer-<id>/<contact id>), or customer-<id> "
                             "for a customer who is a person")
      ->required();
  export_subject->add_option("--out", subject_out, "The file to write (owner-only)")->required();
  export_subject->add_option("--format", subject_format, "json (default) or html (one printable page)");
  export_subject->add_flag("--json", json, "Print the summary as JSON");

  std::string erase_reason, erase_code = "data_subject_request", erase_ref;
  auto* erase = app.add_subcommand(
      "erase", "Erase a person: their key is destroyed and removed from every file of the store, subject.erased is "
               "appended; events, proofs and bundles stay valid and show the fields as erased. Refused under a "
               "legal hold; only an admin, compliance officer, data protection officer or legal counsel (--as)");
  erase->add_option("--subject", subject, "customer-<id>/contact-<contact id>, or customer-<id>")->required();
  erase->add_option("--reason", erase_reason, "Why, in words (e.g. the person's request of 3 March)")->required();
  erase->add_option("--code", erase_code, "data_subject_request (default), retention_expired or legal_order");
  erase->add_option("--ref", erase_ref, "The data-protection request's reference");
  erase->add_flag("--json", json, "Print as JSON");

  std::string hold_id;
  auto* hold = app.add_subcommand("hold", "Legal holds: a person's data is kept, and erasure refused, while one is "
                                          "in force");
  hold->require_subcommand(1);
  auto* hold_add = hold->add_subcommand("add", "Place a hold (subject.hold_placed)");
  hold_add->add_option("--subject", subject, "customer-<id>/contact-<contact id>, or customer-<id>")->required();
  hold_add->add_option("--reason", erase_reason, "Why the data must be kept")->required();
  hold_add->add_option("--id", hold_id,
                       "The hold's id (default: hold-<date>-<time>, then -2, -3... for another that second)");
  hold_add->add_flag("--json", json, "Print as JSON");
  auto* hold_remove = hold->add_subcommand("remove", "Release a hold (subject.hold_released)");
  hold_remove->add_option("--subject", subject, "customer-<id>/contact-<contact id>, or customer-<id>")->required();
  hold_remove->add_option("--id", hold_id, "The hold's id (hold list)")->required();
  hold_remove->add_option("--reason", erase_reason, "Why it ends");
  hold_remove->add_flag("--json", json, "Print as JSON");
  auto* hold_list = hold->add_subcommand("list", "The holds in force (a recorded read: name yourself with --as)");
  hold_list->add_option("--subject", subject, "Only this subject's");
  hold_list->add_flag("--json", json, "Print as JSON");

  std::string token_role, token_name, token_staff, token_id, token_reason;
  auto* token = app.add_subcommand("token", "HTTP API tokens: each names a role and, but for ingest, the member of "
                                            "staff or principal it acts for (docs/http-api.md)");
  token->require_subcommand(1);
  auto* token_create = token->add_subcommand(
      "create", "Make a token and print it once (only its hash is kept); an admin makes it (--as)");
  token_create->add_option("--role", token_role, "ingest, rep, manager, auditor or admin")->required();
  token_create->add_option("--name", token_name, "What it is for, e.g. crm-integration")->required();
  token_create->add_option("--staff", token_staff,
                           "Whom it acts for (their reads are recorded; it stops when they leave); required but for "
                           "ingest");
  token_create->add_flag("--json", json, "Print as JSON (with the token)");
  auto* token_list = token->add_subcommand("list", "Every token made, and whether it was revoked (never the secret)");
  token_list->add_flag("--json", json, "Print as JSON Lines");
  auto* token_revoke = token->add_subcommand("revoke", "Stop a token at once; an admin revokes it (--as)");
  token_revoke->add_option("token_id", token_id, "The token's id (tok-...; token list)")->required();
  token_revoke->add_option("--reason", token_reason, "Why");
  token_revoke->add_flag("--json", json, "Print as JSON");

  std::string principal_id, principal_kind, principal_role, principal_org, principal_by = "system:admin";
  auto* principal = app.add_subcommand(
      "principal", "Readers who are not sales staff: auditors, data-protection officers, outside counsel, integrations");
  principal->require_subcommand(1);
  auto* principal_add = principal->add_subcommand(
      "add", "Register a principal (principal.registered): they act and read as staff do, and own nothing");
  principal_add->add_option("--id", principal_id, "Their id in the staff id space, e.g. 900 or staff-900")->required();
  // principal.registered's data.kind, from the catalogue; checked here so that a typo names --kind.
  std::vector<std::string> kinds;
  if (const custodian::EventTypeSpec* spec = custodian::FindEventType("principal.registered", 1)) {
    for (const custodian::FieldSpec& f : spec->fields) {
      if (f.name == "kind") kinds.assign(f.values.begin(), f.values.end());
    }
  }
  principal_add->add_option("--kind", principal_kind, "What they are (principal.registered's kind)")
      ->required()
      ->check(CLI::IsMember(kinds));
  principal_add->add_option("--role", principal_role, "Their role (default: the kind), e.g. auditor or admin");
  principal_add->add_option("--organization", principal_org, "Whom they work for, when not the company");
  principal_add->add_option("--by", principal_by, "Who registers them (default system:admin)");
  principal_add->add_flag("--json", json, "Print as JSON");

  ServeOptions serve_options;
  auto* serve = app.add_subcommand(
      "serve", "Serve the HTTP API (docs/http-api.md) in front of the store until Ctrl-C or SIGTERM, which finish the "
               "requests in flight and close the store cleanly; tokens: custodian token create");
  serve->add_option("--listen", serve_options.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  serve->add_option("--threads", serve_options.threads, "I/O threads")->capture_default_str();
  serve->add_option("--tls-cert", serve_options.tls_cert, "PEM certificate chain: serve HTTPS (with --tls-key)");
  serve->add_option("--tls-key", serve_options.tls_key, "PEM private key of --tls-cert");
  serve->add_option("--body-limit", serve_options.body_limit, "Largest request body in bytes")->capture_default_str();
  serve->add_option("--max-lag", serve_options.max_lag,
                    "Answer appends with 503 and Retry-After while the projections are more than this many events "
                    "behind the log (0: no bound)")
      ->capture_default_str();
  serve->add_option("--web", serve_options.web,
                    "The web UI's built files (web/, npm run build), served at / (default: the build's own, "
                    "build/ui, when the UI was built)");
  serve->add_option("--cluster", serve_options.cluster,
                    "Run as one node of a cluster (docs/scale-out.md): nats://HOST:PORT,... of the NATS servers whose "
                    "JetStream stream is the log of record. The store (created when missing) follows that stream; "
                    "appends go to the partition writer");
  serve->add_option("--cluster-credentials", serve_options.cluster_credentials,
                    "With --cluster: how this node signs in to NATS servers that admit only the nodes: an owner-only "
                    "file holding a NATS credentials file (JWT and seed), or one line USER:PASSWORD, or a token. "
                    "Better than a password in the URLs, which the process list shows")
      ->envname("CUSTODIAN_CLUSTER_CREDENTIALS");
  serve->add_option("--cluster-ca", serve_options.cluster_ca,
                    "With --cluster, for NATS servers that speak TLS (they should: followers forward appends, "
                    "personal parts included, to the writer through them): the PEM file of the CA that signed their "
                    "certificates. The node then speaks only TLS and refuses a server whose certificate does not "
                    "verify (signed by neither that CA nor one this machine trusts, or not for the host its URL "
                    "names)")
      ->envname("CUSTODIAN_CLUSTER_CA");
  serve->add_option("--cluster-key", serve_options.cluster_key,
                    "With --cluster (required): the cluster's key file, the same on every node (custodian keys "
                    "new-cluster --out FILE makes one; owner-only). The nodes believe only the rounds, forwarded "
                    "appends, answers and cosignatures tagged with it, so whoever may publish to the NATS servers "
                    "without it cannot write or stop the nodes")
      ->envname("CUSTODIAN_CLUSTER_KEY");
  serve->add_flag("--partition-writer", serve_options.partition_writer,
                  "With --cluster: this node checks and publishes the appends (one writer per cluster; with --lease, "
                  "a candidate that writes while it holds the lease)");
  serve->add_option("--lease", serve_options.lease,
                    "With --cluster: etcd's client URL (http://HOST:PORT or https://HOST:PORT) holding the writer's "
                    "lease, so that the writer's role moves to another --partition-writer node when the writer dies "
                    "or pauses");
  serve->add_option("--lease-credentials", serve_options.lease_credentials,
                    "With --lease, for an etcd with authentication on (which it should have unless only the nodes "
                    "reach it: whoever may write the lease's key decides who writes): an owner-only file of one "
                    "line, USER:PASSWORD, of a user whose role may write /custodian/<stream>/writer")
      ->envname("CUSTODIAN_LEASE_CREDENTIALS");
  serve->add_option("--lease-ca", serve_options.lease_ca,
                    "With an https:// --lease (so that the sign-in does not cross the network readable): the PEM file "
                    "of the CA that signed etcd's certificate, which must also name the URL's host (default: this "
                    "machine's CAs)")
      ->envname("CUSTODIAN_LEASE_CA");
  serve->add_option("--cluster-stream", serve_options.cluster_stream, "With --cluster: the JetStream stream's name")
      ->capture_default_str();
  serve->add_option("--replicas", serve_options.replicas,
                    "With --cluster: copies of the stream the NATS servers keep (3: a round is acknowledged once two "
                    "hold it)")
      ->capture_default_str();

  std::string backup_to, restore_from, restore_to;
  auto* backup = app.add_subcommand(
      "backup", "A consistent, verified copy of the store in a new directory (RocksDB checkpoint); the master key "
                "stays out of it");
  backup->add_option("--to", backup_to, "The new directory")->required();
  backup->add_flag("--json", json, "Print as JSON");
  auto* restore = app.add_subcommand(
      "restore", "Restore a backup into a new store directory, verify it, and erase again everyone erased since the "
                 "backup (the list is kept beside the master key; give it with --master-key)");
  restore->add_option("--from", restore_from, "The backup's directory")->required();
  restore->add_option("--to", restore_to, "The new store directory (absent or empty)")->required();
  bool without_master_key = false;
  restore->add_flag("--without-master-key", without_master_key,
                    "Restore a backup that holds people although their master key is lost (else refused: the "
                    "erasures made since the backup could not be made again); they stay sealed, and opened with the "
                    "key one day, the store makes those erasures then");
  restore->add_flag("--json", json, "Print as JSON");

  auto* keys = app.add_subcommand("keys", "The master key that wraps every person's data key, and a cluster's key");
  keys->require_subcommand(1);
  auto* rotate_master = keys->add_subcommand(
      "rotate-master", "Re-wrap every data key under a new master key; cut short anywhere, every key still opens with "
                       "the old key or the new one, and running it again finishes it");
  rotate_master->add_flag("--json", json, "Print as JSON");
  std::string cluster_key_out;
  auto* new_cluster = keys->add_subcommand(
      "new-cluster", "Make a cluster's key (docs/scale-out.md): copy the file to every node and give it to serve "
                     "--cluster-key; the nodes believe only messages tagged with it");
  new_cluster->add_option("--out", cluster_key_out, "The new key file (owner-only; never written over)")->required();
  new_cluster->add_flag("--json", json, "Print as JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (const std::string mistyped = MistypedCommand(app, argc, argv); !mistyped.empty()) {
      std::fprintf(stderr, "%s\n", mistyped.c_str());
      return kExitUsage;
    }
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (wait_option->count() > 0) {
    custodian::Result<double> seconds = ParseWaitSeconds(wait);
    if (!seconds.ok()) return UsageError(seconds.status());
    g.wait_seconds = *seconds;
  }
  {
    const char* env_every = std::getenv("CUSTODIAN_CHECKPOINT_EVERY");
    const bool from_option = checkpoint_every_option->count() > 0;
    if (from_option || (env_every && *env_every)) {
      custodian::Result<double> seconds = ParseCheckpointEvery(from_option ? checkpoint_every : std::string(env_every),
                                                    from_option ? "--checkpoint-every" : "$CUSTODIAN_CHECKPOINT_EVERY");
      if (!seconds.ok()) return UsageError(seconds.status());
      g.checkpoint_every_seconds = *seconds;
      if (custodian::Status s = CheckCheckpointSigning(g); !s.ok()) return UsageError(s);
    }
  }

  if (init->parsed()) return RunInit(g, init_origin->count() > 0 ? std::optional(origin) : std::nullopt, json);
  if (append->parsed()) return RunAppend(g, append_json, expected, json);
  if (permissions->parsed()) return RunPermissions(g, fix_permissions, json);
  if (import->parsed()) return RunImport(g, import_file, skip_invalid, batch_size, json);
  if (read->parsed()) return RunRead(g, stream, from, backwards, limit, json);
  if (read_all->parsed()) return RunReadAll(g, from, limit, json);
  if (tail->parsed()) return RunTail(g, tail_from, stream, count, json);
  if (stats->parsed()) return RunStats(g, stream, json);
  if (key_show->parsed()) return RunKeyShow(g, json);
  if (checkpoint->parsed()) return RunCheckpoint(g, list, json);
  if (prove_inclusion->parsed()) return RunProveInclusion(g, position, tree_size, json);
  if (prove_consistency->parsed()) return RunProveConsistency(g, from_size, to_size, json);
  if (verify->parsed()) return RunVerify(g, against, key_text, json);
  if (bundle->parsed()) return RunBundle(g, bundle_stream, bundle_from, bundle_to, bundle_out, json);
  if (verify_bundle->parsed()) return RunVerifyBundle(bundle_file, key_text, json, inclusion_only);
  if (verify_cosigned->parsed()) return RunVerifyCosignatures(cosigned_file, witnesses, require_cosignatures, json);
  if (dispute->parsed()) return RunDispute(g, dispute_customer, dispute_at, dispute_out, json);
  if (customer_show->parsed()) return RunCustomerShow(g, customer_id, as_of, as_of_business, json);
  if (customer_timeline->parsed()) return RunCustomerTimeline(g, customer_id, json);
  if (customer_custody->parsed()) return RunCustomerCustody(g, customer_id, at, request_id, json);
  if (staff_portfolio->parsed()) return RunStaffPortfolio(g, staff_id, view_as_of, view_as_of_business, json);
  if (accountability->parsed()) {
    return RunAccountability(g, acc_staff, acc_team, acc_from, acc_to, view_as_of, view_as_of_business, json);
  }
  if (customer_find->parsed()) return RunCustomerFind(g, find_words, find_limit, json);
  if (pipeline->parsed()) return RunPipeline(g, pipeline_team, json);
  if (silent->parsed()) return RunSilent(g, silent_days, view_as_of, view_as_of_business, json);
  if (rebuild->parsed()) return RunRebuild(g, projection, json);
  if (departures->parsed()) return RunDepartures(g, all_departures, view_as_of, view_as_of_business, json);
  if (orphans->parsed()) return RunOrphans(g, view_as_of, view_as_of_business, json);
  if (handover_plan->parsed()) return RunHandoverPlan(g, handover_from, handover_to, handover_team, json);
  if (handover_execute->parsed()) return RunHandoverExecute(g, handover_id, json);
  if (handover_report->parsed()) return RunHandoverReport(g, handover_id, report_format, report_for, report_out);
  if (alerts_config->parsed()) return RunAlertsConfig(g, alert_settings, json);
  if (alerts->parsed()) return RunAlerts(g, alerts_staff, json);
  if (access->parsed()) return RunAccess(g, access_staff, access_customer, access_from, access_to, json);
  if (find->parsed()) return RunFind(g, find_email, find_phone, find_name, json);
  if (export_subject->parsed()) return RunExportSubject(g, subject, subject_out, subject_format, json);
  if (erase->parsed()) return RunErase(g, subject, erase_reason, erase_code, erase_ref, json);
  if (hold_add->parsed()) return RunHold(g, "add", subject, hold_id, erase_reason, json);
  if (hold_remove->parsed()) return RunHold(g, "remove", subject, hold_id, erase_reason, json);
  if (hold_list->parsed()) return RunHold(g, "list", subject, hold_id, erase_reason, json);
  if (serve->parsed()) return RunServe(g, serve_options);
  if (token_create->parsed()) return RunTokenCreate(g, token_role, token_name, token_staff, json);
  if (token_list->parsed()) return RunTokenList(g, json);
  if (token_revoke->parsed()) return RunTokenRevoke(g, token_id, token_reason, json);
  if (principal_add->parsed()) {
    return RunPrincipalAdd(g, principal_id, principal_kind, principal_role, principal_org, principal_by, json);
  }
  if (backup->parsed()) return RunBackup(g, backup_to, json);
  if (restore->parsed()) return RunRestore(g, restore_from, restore_to, without_master_key, json);
  if (rotate_master->parsed()) return RunRotateMaster(g, json);
  if (new_cluster->parsed()) return RunNewClusterKey(g, cluster_key_out, json);
  if (demo->parsed()) {
    demo_options.origin = origin;
    return RunDemo(g, demo_options, json);
  }
  return kExitUsage;
}
