// End-to-end tests of the `custodian` command line: the real binary, a real
// store in a temporary directory, exit codes and messages as a user sees them.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/json.h"
#include "storage/event_log.h"
#include "tests/raw_store.h"
#include "tests/test_util.h"
#include "tests/tools/cli_runner.h"

namespace custodian {
namespace {

using testing::CliResult;
using testing::RunCli;
using testing::Slurp;
using testing::TempDir;
using testing::WriteFile;

std::string EventJson(const std::string& id, const std::string& stream = "customer-42",
                      const std::string& data = R"({"channel":"call","direction":"outbound"})") {
  return R"({"id":")" + id + R"(","stream":")" + stream +
         R"(","type":"interaction.logged","actor":"system:crm-sync","occurred_at":"2026-03-01T10:15:00Z","data":)" + data +
         "}";
}

constexpr char kId1[] = "7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e41";
constexpr char kId2[] = "7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e42";
constexpr char kId3[] = "7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e43";
constexpr char kId4[] = "7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44";

// A store with one event in it, and a way to see everything it holds.
struct Store {
  TempDir tmp;
  std::string dir = tmp.Sub("store");

  Store() {
    REQUIRE(RunCli(tmp, dir, {"init"}).exit_code == 0);
    REQUIRE(RunCli(tmp, dir, {"append", EventJson(kId1)}).exit_code == 0);
  }
  CliResult Cli(std::vector<std::string> args, const std::string& input = "") {
    return RunCli(tmp, dir, std::move(args), input);
  }
  // What the store holds, read without recording a read.
  std::string Everything() { return testing::StoreLines(dir); }
  // Who reads customer data (read, read-all, tail record the read):
  // staff-1 joins (the next position) and names itself with --as.
  void JoinReader() {
    const std::string joined =
        R"({"id":"7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e99","stream":"staff-1","type":"staff.joined",)"
        R"("actor":"system:hr-sync","occurred_at":"2026-01-01T09:00:00Z","data":{"role":"account_executive"}})";
    CliResult r = Cli({"append", joined});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  CliResult Read(std::vector<std::string> args) {
    args.insert(args.begin(), {"--as", "staff-1"});
    return Cli(std::move(args));
  }
};

size_t Lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST_CASE("a reader or leaver the log does not know is not found (6), said plainly, and nothing is shown or written",
          "[cli]") {
  testing::SampleCompany c;
  const std::string before = RunCli(c.tmp, c.dir, {"stats"}).out;
  c.reader = "staff-77";
  CliResult show = c.Cli({"customer", "show", "1001"});
  CHECK(show.exit_code == 6);
  CHECK_THAT(show.err, Catch::Contains("staff-77 is not a member of staff the log knows"));
  CHECK_THAT(show.err, !Catch::Contains("rule 'actor'"));
  CHECK(show.out.empty());
  c.reader = "staff-3";
  CliResult plan = c.Cli({"handover", "plan", "--from", "99", "--to", "7"});
  CHECK(plan.exit_code == 6);
  CHECK_THAT(plan.err, Catch::Contains("staff-99 is not a member of staff the log knows"));
  CHECK(RunCli(c.tmp, c.dir, {"stats"}).out == before);
}

TEST_CASE("a mistyped command or option, or a page of nothing, is a usage error that says so and touches nothing",
          "[cli]") {
  TempDir tmp;
  const std::string dir = tmp.Sub("store");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"stat"}, "custodian: no command \"stat\"; did you mean `custodian stats`?"},
      {{"--as", "staff-1", "custmer", "show", "1"}, "did you mean `custodian customer`?"},
      {{"customer", "shw", "1"}, "`custodian customer` has no command \"shw\"; did you mean `custodian customer show`?"},
      {{"keys", "rotate"}, "did you mean `custodian keys rotate-master`?"},
      {{"read", "customer-1", "--limt", "5"}, "`custodian read` has no option --limt; did you mean --limit?"},
      {{"--dta", "x", "stats"}, "custodian: no option --dta; did you mean --data?"},
      {{"xyzzy"}, "custodian: no command \"xyzzy\" (`custodian --help` lists them)"},
      {{"read", "customer-1", "--limit", "0"}, "--limit: 0 reads nothing: give 1 or more"},
      {{"read-all", "--limit", "00"}, "--limit: 0 reads nothing"},
  };
  for (const auto& [args, said] : cases) {
    CliResult r = RunCli(tmp, dir, args);
    INFO(args.front() << ": " << r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains(said));
  }
  // What is not a mistyped name keeps CLI11's own message.
  CHECK_THAT(RunCli(tmp, dir, {"customer", "show"}).err, Catch::Contains("id is required"));
  CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("append prints the position and version, and read shows the event", "[cli]") {
  Store store;
  CliResult r = store.Cli({"append", "--json", EventJson(kId2)});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == std::string(R"({"id":")") + kId2 + R"(","stream":"customer-42","position":1,"version":1,"written":true})" + "\n");

  store.JoinReader();
  CliResult read = store.Read({"read", "customer-42", "--json"});
  INFO(read.err);
  REQUIRE(read.exit_code == 0);
  REQUIRE(Lines(read.out) == 2);
  Result<Event> second = ParseEventJson(read.out.substr(read.out.find('\n') + 1));
  REQUIRE(second.ok());
  CHECK(second->id.ToString() == kId2);
  CHECK(read.out.find(R"("position":1,"version":1,"recorded_at":")") != std::string::npos);
}

TEST_CASE("append reads the event from standard input with - or no argument", "[cli]") {
  Store store;
  CHECK(store.Cli({"append", "-"}, EventJson(kId2)).exit_code == 0);
  CHECK(store.Cli({"append"}, EventJson(kId3)).exit_code == 0);
  CHECK(Lines(store.Everything()) == 3);
  // Nothing on standard input (a pipe that gave nothing): said as such, a usage error.
  for (const std::string& nothing : {std::string(), std::string(" \n")}) {
    CliResult empty = store.Cli({"append"}, nothing);
    CHECK(empty.exit_code == 1);
    CHECK_THAT(empty.err, Catch::Contains("no event given (standard input was empty)"));
  }
  CHECK(Lines(store.Everything()) == 3);
}

TEST_CASE("appending the same event twice writes it once and reports the original position", "[cli]") {
  Store store;
  CliResult r = store.Cli({"append", "--json", EventJson(kId1)});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find(R"("position":0,"version":0,"written":false)") != std::string::npos);
  CHECK(Lines(store.Everything()) == 1);
}

TEST_CASE("bad input through the CLI gets its exit code and message and leaves the store unchanged", "[cli]") {
  Store store;
  const std::string before = store.Everything();
  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::string input;
    int exit_code;
    std::string message;
  };
  std::string oversized = R"({"blob":")" + std::string((1 << 20) + 10, 'x') + R"("})";
  std::string bad_utf8 = EventJson(kId2, "customer-42", "{\"text\":\"caf\xC3\x28\"}");
  std::vector<Case> cases = {
      {"malformed JSON", {"append", R"({"id": )"}, "", 2, "invalid JSON at byte"},
      {"missing actor",
       {"append", R"({"id":")" + std::string(kId2) +
                      R"(","stream":"customer-42","type":"note.added","occurred_at":"2026-03-01T10:15:00Z"})"},
       "",
       2,
       "field 'actor'"},
      {"bad stream name", {"append", EventJson(kId2, "Customer 42")}, "", 2, "field 'stream'"},
      {"bad id", {"append", EventJson("not-a-uuid")}, "", 2, "field 'id'"},
      {"oversized data", {"append", "-"}, EventJson(kId2, "customer-42", oversized), 2, "1 MiB"},
      {"invalid UTF-8", {"append", "-"}, bad_utf8, 2, "UTF-8"},
      {"a payload the catalogue refuses",
       {"append", EventJson(kId2, "customer-42", R"({"channel":"fax","direction":"inbound"})")},
       "",
       2,
       "field 'data.channel': expected one of call, email, meeting, visit, chat; got \"fax\""},
      {"an actor who never joined",
       {"append",
        R"({"id":")" + std::string(kId2) +
            R"(","stream":"customer-42","type":"note.added","actor":"staff-99","occurred_at":"2026-03-01T10:15:00Z","data":{"text":"x"}})"},
       "",
       2,
       "rule 'actor': note.added " + std::string(kId2) + " on customer-42: actor staff-99 has never joined"},
      {"an answer to a request never opened",
       {"append",
        R"({"id":")" + std::string(kId2) +
            R"(","stream":"customer-42","type":"request.responded","actor":"system","occurred_at":"2026-03-01T10:15:00Z","data":{"request_id":"req-1"}})"},
       "",
       2,
       "rule 'order'"},
      {"a type on the wrong stream",
       {"append", EventJson(kId2, "staff-7")},
       "",
       2,
       "type 'interaction.logged' belongs on a customer-<id> stream, not staff-7"},
      {"wrong expected version",
       {"append", "--expected-version", "5", EventJson(kId2)},
       "",
       3,
       "customer-42 is at version 0; expected version 5"},
      {"expected no stream", {"append", "--expected-version", "none", EventJson(kId2)}, "", 3, "already exists"},
      {"same id, other content",
       {"append", EventJson(kId1, "customer-42", R"({"channel":"email","direction":"inbound"})")},
       "",
       3,
       "with other content"},
      {"one id for two events in one file",
       {"import", "-"},
       EventJson(kId2) + "\n" + EventJson(kId2, "customer-7") + "\n",
       3,
       "line 2: event id " + std::string(kId2) + " is already used on line 1 with other content"},
      {"a fix on another stream than the line it fixes, from standard input",
       {"import", "-"},
       EventJson(kId2) + "\n" + R"({"id":")" + std::string(kId3) +
           R"(","stream":"customer-7","type":"event.retracted","actor":"system","occurred_at":"2026-03-01T10:15:00Z","data":{"event_id":")" +
           std::string(kId2) + R"(","reason":"wrong customer"}})" + "\n",
       2,
       "line 2: rule 'fix'"},
      {"unknown command", {"frobnicate"}, "", 1, ""},
      {"bad expected version", {"append", "--expected-version", "soon", EventJson(kId2)}, "", 1, "--expected-version"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      CliResult r = store.Cli(c.args, c.input);
      CHECK(r.exit_code == c.exit_code);
      CHECK_THAT(r.err, Catch::Contains(c.message));
      CHECK(store.Everything() == before);
    }
  }
}

TEST_CASE("a command on a directory that is not a store fails (6: no store there, 4: not a store) and touches nothing", "[cli]") {
  TempDir tmp;
  CliResult missing = RunCli(tmp, tmp.Sub("nowhere"), {"stats"});
  CHECK(missing.exit_code == 6);
  CHECK_THAT(missing.err, Catch::Contains("custodian init"));

  const std::string other = tmp.Sub("other");
  std::filesystem::create_directories(other);
  std::ofstream(other + "/notes.txt") << "not a store";
  CliResult refused = RunCli(tmp, other, {"append", EventJson(kId1)});
  CHECK(refused.exit_code == 4);
  CHECK_THAT(refused.err, Catch::Contains("not a Custodian store"));
  CHECK(std::distance(std::filesystem::directory_iterator(other), std::filesystem::directory_iterator()) == 1);
  CHECK(Slurp(other + "/notes.txt") == "not a store");
}

TEST_CASE("serve refuses cluster settings without the setting they belong to (a usage error), before it opens anything",
          "[cli]") {
  TempDir tmp;
  const std::string dir = tmp.Sub("store");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"serve", "--cluster-ca", tmp.Sub("ca.pem")},
        std::vector<std::string>{"serve", "--lease", "http://127.0.0.1:2379"},
        std::vector<std::string>{"serve", "--cluster", "nats://127.0.0.1:1", "--lease-credentials", tmp.Sub("c")}}) {
    CliResult r = RunCli(tmp, dir, args);
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("--cluster-key need --cluster") || Catch::Contains("--lease-credentials and --lease-ca need --lease"));
    CHECK_FALSE(std::filesystem::exists(dir));
  }
  // A lease's credentials file that cannot be used stops serve before it
  // connects to NATS (nothing answers at port 1) or creates the store.
  CliResult absent = RunCli(tmp, dir, {"serve", "--cluster", "nats://127.0.0.1:1", "--partition-writer", "--lease",
                                       "http://127.0.0.1:2379", "--lease-credentials", tmp.Sub("absent.creds")});
  CHECK(absent.exit_code != 0);
  CHECK_THAT(absent.err, Catch::Contains("no etcd credentials file at " + tmp.Sub("absent.creds")));
  CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("keys new-cluster makes an owner-only cluster key once, and serve --cluster needs one it can use, before it "
          "opens anything",
          "[cli]") {
  TempDir tmp;
  const std::string dir = tmp.Sub("store");
  const std::string key = tmp.Sub("cluster.key");
  CliResult made = RunCli(tmp, dir, {"keys", "new-cluster", "--out", key});
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  CHECK_THAT(made.out, Catch::Contains(key) && Catch::Contains("--cluster-key"));
  CHECK((std::filesystem::status(key).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  const std::string first = Slurp(key);
  CliResult again = RunCli(tmp, dir, {"keys", "new-cluster", "--out", key});
  CHECK(again.exit_code == 1);
  CHECK_THAT(again.err, Catch::Contains("is a Custodian key file"));
  CHECK(Slurp(key) == first);
  // Nor over any other file.
  WriteFile(tmp.Sub("notes.txt"), "mine");
  CliResult over = RunCli(tmp, dir, {"keys", "new-cluster", "--out", tmp.Sub("notes.txt")});
  CHECK(over.exit_code == 3);  // a conflict
  CHECK_THAT(over.err, Catch::Contains("never written over"));
  CHECK(Slurp(tmp.Sub("notes.txt")) == "mine");
  CHECK_FALSE(std::filesystem::exists(dir));

  // Without the key, with none at the path, or with one others may read: refused before NATS
  // is reached (nothing answers at port 1) or the store is created.
  CliResult without = RunCli(tmp, dir, {"serve", "--cluster", "nats://127.0.0.1:1"});
  CHECK(without.exit_code == 1);
  CHECK_THAT(without.err, Catch::Contains("--cluster needs --cluster-key") && Catch::Contains("keys new-cluster"));
  CliResult missing = RunCli(tmp, dir, {"serve", "--cluster", "nats://127.0.0.1:1", "--cluster-key", tmp.Sub("none")});
  CHECK(missing.exit_code != 0);
  CHECK_THAT(missing.err, Catch::Contains("no cluster key file at " + tmp.Sub("none")));
  std::filesystem::permissions(key, std::filesystem::perms::others_read, std::filesystem::perm_options::add);
  CliResult loose = RunCli(tmp, dir, {"serve", "--cluster", "nats://127.0.0.1:1", "--cluster-key", key});
  CHECK(loose.exit_code != 0);
  CHECK_THAT(loose.err, Catch::Contains("chmod"));
  CHECK_FALSE(std::filesystem::exists(dir));
  // --cluster-key belongs to --cluster.
  CliResult alone = RunCli(tmp, dir, {"serve", "--cluster-key", key});
  CHECK(alone.exit_code == 1);
  CHECK_THAT(alone.err, Catch::Contains("and --cluster-key need --cluster"));
}

TEST_CASE("a bad line refuses the whole import with its line number, and nothing of the file is written", "[cli]") {
  Store store;
  const std::string before = store.Everything();
  std::string file = EventJson(kId2) + "\n" + EventJson(kId3) + "\n" + EventJson(kId4) + "\n" +
                     R"({"id":"7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e45","stream":"customer-42"})" + "\n";
  CliResult r = store.Cli({"import", "--batch", "2", "-"}, file);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("line 4: field 'type' is missing"));
  CHECK_THAT(r.err, Catch::Contains("nothing was written"));
  CHECK(store.Everything() == before);  // lines 1-3 were fine, and are not written either
}

TEST_CASE("import --skip-invalid writes the valid lines and lists the bad ones", "[cli]") {
  Store store;
  std::string file = EventJson(kId2) + "\n" + "{broken\n" + "\n" + EventJson(kId3, "Bad Stream") + "\n" +
                     EventJson(kId4) + "\n" + EventJson(kId1, "customer-42", R"({"channel":"chat","direction":"inbound"})") + "\n";
  CliResult r = store.Cli({"import", "--skip-invalid", "--json", "-"}, file);
  CHECK(r.exit_code == 2);  // it did not import everything it was given
  CHECK_THAT(r.out, Catch::Contains(R"("lines":6,"events":5,"written":2,"already_present":0,"repeated":0)"));
  CHECK_THAT(r.out, Catch::Contains(R"({"line":2,"error":"invalid JSON)"));
  CHECK_THAT(r.out, Catch::Contains(R"({"line":4,"error":"field 'stream')"));
  CHECK_THAT(r.out, Catch::Contains(R"({"line":6,"error":"event id )"));
  CHECK(Lines(store.Everything()) == 3);
}

TEST_CASE("an import line that breaks a rule is named, and --skip-invalid skips it", "[cli]") {
  Store store;
  const std::string stranger = R"({"id":")" + std::string(kId3) +
                               R"(","stream":"customer-42","type":"note.added","actor":"staff-99","occurred_at":"2026-03-01T10:15:00Z","data":{"text":"x"}})";
  const std::string file = EventJson(kId2) + "\n" + stranger + "\n" + EventJson(kId4) + "\n";
  CliResult stopped = store.Cli({"import", "-"}, file);
  CHECK(stopped.exit_code == 2);
  CHECK_THAT(stopped.err, Catch::Contains("line 2: rule 'actor'"));
  CHECK(Lines(store.Everything()) == 1);  // nothing of the file was written
  CliResult skipped = store.Cli({"import", "--skip-invalid", "--json", "-"}, file);
  CHECK(skipped.exit_code == 2);
  CHECK_THAT(skipped.out, Catch::Contains(R"("written":2)"));
  CHECK_THAT(skipped.out, Catch::Contains(R"({"line":2,"error":"rule 'actor')"));
}

TEST_CASE("importing the same file twice writes its events once", "[cli]") {
  TempDir tmp;
  const std::string dir = tmp.Sub("store");
  const std::string sample = std::string(CUSTODIAN_SOURCE_DIR) + "/docs/examples/sample-events.jsonl";
  const size_t lines = Lines(Slurp(sample));
  REQUIRE(lines > 10);
  REQUIRE(RunCli(tmp, dir, {"init"}).exit_code == 0);
  CliResult first = RunCli(tmp, dir, {"import", "--json", sample});
  CHECK(first.exit_code == 0);
  CHECK_THAT(first.out, Catch::Contains("\"written\":" + std::to_string(lines) + ",\"already_present\":0"));
  CliResult second = RunCli(tmp, dir, {"import", "--json", sample});
  CHECK(second.exit_code == 0);
  CHECK_THAT(second.out, Catch::Contains("\"written\":0,\"already_present\":" + std::to_string(lines)));
  CliResult stats = RunCli(tmp, dir, {"stats", "--json"});
  CHECK_THAT(stats.out, Catch::Contains("\"events\":" + std::to_string(lines) + ","));
}

TEST_CASE("read goes backwards with a limit and read-all starts from a position", "[cli]") {
  Store store;
  REQUIRE(store.Cli({"append", EventJson(kId2)}).exit_code == 0);
  REQUIRE(store.Cli({"append", EventJson(kId3)}).exit_code == 0);
  store.JoinReader();  // position 3
  CliResult back = store.Read({"read", "customer-42", "--backwards", "--limit", "2", "--json"});
  REQUIRE(Lines(back.out) == 2);
  CHECK(back.out.find(kId3) < back.out.find(kId2));
  CHECK(back.out.find(kId1) == std::string::npos);

  CliResult from = store.Read({"read-all", "--from", "2", "--limit", "2", "--json"});
  REQUIRE(Lines(from.out) == 2);
  CHECK_THAT(from.out, Catch::Contains(kId3));
  CHECK_THAT(from.out, Catch::Contains("staff.joined"));

  CliResult human = store.Read({"read", "customer-42"});
  CHECK_THAT(human.out, Catch::Contains("POSITION"));
  CHECK_THAT(human.out, Catch::Contains("interaction.logged"));
}

TEST_CASE("stats describes the store and one stream", "[cli]") {
  Store store;
  REQUIRE(store.Cli({"append", EventJson(kId2, "customer-7")}).exit_code == 0);
  CliResult all = store.Cli({"stats", "--json"});
  CHECK_THAT(all.out, Catch::Contains(R"("events":2,"streams":2,)"));
  CliResult one = store.Cli({"stats", "--stream", "customer-7", "--json"});
  CHECK_THAT(one.out, Catch::Contains(R"("stream":"customer-7","events":1,"version":0,"first_position":1)"));
  CliResult none = store.Cli({"stats", "--stream", "customer-999"});
  CHECK(none.exit_code == 6);
  CHECK_THAT(none.err, Catch::Contains("customer-999 has no events"));
}

// The store's write-ahead log that holds the most.
std::string LargestWal(const std::string& dir) {
  std::string largest;
  uintmax_t size = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".log" && entry.file_size() > size) {
      largest = entry.path().string();
      size = entry.file_size();
    }
  }
  REQUIRE(size > 0);
  return largest;
}

TEST_CASE("stats on a store whose table file was deleted says the store is damaged and prints no figures",
          "[cli][damage]") {
  Store store;
  REQUIRE(store.Cli({"append", EventJson(kId2)}).exit_code == 0);  // opening again flushed the first event
  std::string events_table;
  for (const testing::TableFile& f : testing::LiveTableFiles(store.dir)) {
    if (f.family == "events") events_table = f.name;
  }
  REQUIRE(!events_table.empty());
  REQUIRE(std::filesystem::remove(store.dir + "/" + events_table));

  for (const std::vector<std::string>& args : {std::vector<std::string>{"stats"}, {"stats", "--json"}}) {
    CliResult r = store.Cli(args);
    INFO(r.out);
    CHECK(r.exit_code == 4);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains("the store at " + store.dir + " is damaged: its table file " + events_table +
                                      " (events family) is missing"));
    CHECK_THAT(r.err, Catch::Contains("restore it from a backup"));
  }
  CliResult read = store.Read({"read-all"});
  CHECK(read.exit_code == 4);
  CHECK(read.out.empty());
  CliResult append = store.Cli({"append", EventJson(kId3)});  // RocksDB's own open finds it too
  CHECK(append.exit_code == 4);
  CHECK_THAT(append.err, Catch::Contains("the store at " + store.dir + " is damaged"));
  CHECK(store.Cli({"stats"}).exit_code == 4);  // the refused open changed nothing
}

TEST_CASE("stats on a store whose write-ahead log was cut short says the store is damaged and a writer changes nothing",
          "[cli][damage]") {
  Store store;
  REQUIRE(store.Cli({"append", EventJson(kId2)}).exit_code == 0);
  REQUIRE(store.Cli({"append", EventJson(kId3, "customer-7")}).exit_code == 0);
  const std::string wal = LargestWal(store.dir);
  const uintmax_t full = std::filesystem::file_size(wal);
  std::filesystem::resize_file(wal, full / 2);
  const std::string name = std::filesystem::path(wal).filename().string();
  const std::string damaged = "the store at " + store.dir + " is damaged: its write-ahead log " + name +
                              " is cut short to " + std::to_string(full / 2) + " bytes, but held " +
                              std::to_string(full) + " bytes when the store was last closed";
  CliResult stats = store.Cli({"stats", "--json"});
  INFO(stats.out);
  CHECK(stats.exit_code == 4);
  CHECK(stats.out.empty());
  CHECK_THAT(stats.err, Catch::Contains(damaged));
  CliResult append = store.Cli({"append", EventJson(kId4)});
  CHECK(append.exit_code == 4);
  CHECK_THAT(append.err, Catch::Contains(damaged));
  // RocksDB did not replay the short log and move on without the lost events.
  CHECK(std::filesystem::file_size(wal) == full / 2);
  CHECK(store.Cli({"stats"}).exit_code == 4);
}

TEST_CASE("a store whose MANIFEST was deleted is named damaged, with the file and what to do", "[cli][damage]") {
  Store store;
  std::ifstream current(store.dir + "/CURRENT");
  std::string manifest;
  std::getline(current, manifest);
  REQUIRE(manifest.starts_with("MANIFEST-"));
  REQUIRE(std::filesystem::remove(store.dir + "/" + manifest));
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"stats"}, {"--as", "staff-1", "read-all"}, {"append", EventJson(kId2)}, {"verify"}}) {
    CliResult r = store.Cli(args);
    INFO(args.back());
    CHECK(r.exit_code == 4);
    CHECK_THAT(r.err, Catch::Contains("the store at " + store.dir + " is damaged: its MANIFEST (" + manifest +
                                      ", the list of its table files that CURRENT names) is missing; restore it "
                                      "from a backup"));
    CHECK_THAT(r.err, !Catch::Contains("primary may have switched"));
  }
}

TEST_CASE("a store in a directory that is not writable refuses writers clearly and still serves reads",
          "[cli][damage]") {
  Store store;
  store.JoinReader();
  const std::string before = store.Everything();
  // The command runs as an unprivileged user when this is root, for whom no mode makes a directory read-only.
  std::filesystem::permissions(store.tmp.path(), std::filesystem::perms::owner_all |
                                                     std::filesystem::perms::group_read |
                                                     std::filesystem::perms::group_exec |
                                                     std::filesystem::perms::others_read |
                                                     std::filesystem::perms::others_exec);
  for (const auto& entry : std::filesystem::directory_iterator(store.dir)) {
    if (entry.path().filename() != "log.key") {
      std::filesystem::permissions(entry.path(),
                                   std::filesystem::perms::others_read | std::filesystem::perms::group_read,
                                   std::filesystem::perm_options::add);
    }
  }
  std::filesystem::permissions(store.dir, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec |
                                              std::filesystem::perms::group_read | std::filesystem::perms::group_exec |
                                              std::filesystem::perms::others_read |
                                              std::filesystem::perms::others_exec);
  auto as_reader = [&](std::vector<std::string> args) {
    return RunCli(store.tmp, store.dir, std::move(args), "", testing::RunAs::kUnprivileged);
  };
  CliResult append = as_reader({"append", EventJson(kId2)});
  CHECK(append.exit_code == 4);
  CHECK_THAT(append.err, Catch::Contains("the store directory " + store.dir + " is not writable ("));
  CHECK_THAT(append.err, Catch::Contains("commands that only read still work"));
  CHECK_THAT(append.err, !Catch::Contains("rename"));
  CliResult stats = as_reader({"stats", "--json"});
  INFO(stats.err);
  CHECK(stats.exit_code == 0);
  CHECK_THAT(stats.out, Catch::Contains(R"("events":2,)"));
  // A stream that is not customer data is read; customer data is not shown,
  // since its read cannot be recorded.
  CliResult staff = as_reader({"read", "staff-1", "--json"});
  INFO(staff.err);
  CHECK(staff.exit_code == 0);
  CHECK_THAT(staff.out, Catch::Contains("staff.joined"));
  CliResult read = as_reader({"--as", "staff-1", "read-all", "--json"});
  CHECK(read.exit_code == 4);
  CHECK(read.out.empty());
  CHECK_THAT(read.err, Catch::Contains("to show customer data, whose every read is recorded"));
  std::filesystem::permissions(store.dir, std::filesystem::perms::owner_write, std::filesystem::perm_options::add);
  CHECK(store.Everything() == before);
}

TEST_CASE("init --origin on an existing store of another origin is refused naming both and the same origin is fine",
          "[cli]") {
  TempDir tmp;
  const std::string dir = tmp.Sub("store");
  REQUIRE(RunCli(tmp, dir, {"init", "--origin", "crm.example.com/audit"}).exit_code == 0);
  const std::string vkey = Slurp(dir + "/log.vkey");
  CliResult other = RunCli(tmp, dir, {"init", "--origin", "crm.example.org/other"});
  CHECK(other.exit_code == 2);
  CHECK_THAT(other.err, Catch::Contains("a Custodian store already exists at " + dir +
                                        " with origin crm.example.com/audit, not crm.example.org/other; nothing "
                                        "changed"));
  CHECK(Slurp(dir + "/log.vkey") == vkey);
  CliResult same = RunCli(tmp, dir, {"init", "--origin", "crm.example.com/audit"});
  CHECK(same.exit_code == 0);
  CHECK_THAT(same.out, Catch::Contains("already exists"));
  CHECK(RunCli(tmp, dir, {"init"}).exit_code == 0);  // no --origin: nothing asked that the store contradicts
  CHECK(Slurp(dir + "/log.vkey") == vkey);
}

TEST_CASE("negative counts, positions and days are usage errors that name the option", "[cli]") {
  Store store;
  struct Case {
    std::vector<std::string> args;
    std::string option, value;
  };
  const std::vector<Case> cases = {
      {{"read", "customer-42", "--limit", "-1"}, "--limit", "-1"},
      {{"read", "customer-42", "--from", "-3"}, "--from", "-3"},
      {{"read-all", "--from", "-5"}, "--from", "-5"},
      {{"read-all", "--limit", "-1"}, "--limit", "-1"},
      {{"tail", "--count", "-1"}, "--count", "-1"},
      {{"tail", "--from", "-2"}, "--from", "-2"},
      {{"prove", "inclusion", "--position", "-1"}, "--position", "-1"},
      {{"prove", "consistency", "--from", "-1"}, "--from", "-1"},
      {{"--as", "staff-3", "silent", "--days", "-5"}, "--days", "-5"},
      {{"read-all", "--limit", "ten"}, "--limit", "ten"},
  };
  for (const Case& c : cases) {
    INFO(c.args.front() << " " << c.option << " " << c.value);
    CliResult r = store.Cli(c.args);
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains(c.option + ": \"" + c.value + "\" is not a whole number of 0 or more"));
    CHECK(r.err.size() < 200);
  }
  // 0 is a position, and no usage error (a page is 1 or more).
  CliResult zero = store.Read({"read-all", "--from", "0", "--limit", "1"});
  INFO(zero.err);
  CHECK(zero.exit_code != 1);
  CHECK_THAT(zero.err, !Catch::Contains("--from"));
}

// The store held read-write by this process, as a server would hold it.
std::unique_ptr<EventLog> HoldStore(const std::string& dir) {
  Result<std::unique_ptr<EventLog>> holder = EventLog::Open(dir, EventLogOptions());
  INFO(holder.status().ToString());
  REQUIRE(holder.ok());
  return std::move(*holder);
}

TEST_CASE("a writer gives up after --wait seconds while another process holds the store and says so", "[cli][wait]") {
  Store store;
  const std::string before = store.Everything();
  std::unique_ptr<EventLog> holder = HoldStore(store.dir);
  for (const char* wait : {"1", "0"}) {
    INFO("--wait " << wait);
    CliResult r = store.Cli({"--wait", wait, "append", EventJson(kId2)});
    CHECK(r.exit_code == 4);
    CHECK_THAT(r.err, Catch::Contains("another process holds the store at " + store.dir + " read-write; waited " +
                                      wait + " s for it to finish"));
  }
  CHECK(store.Everything() == before);  // readers are not kept waiting
  holder.reset();
  CHECK(store.Everything() == before);
  CliResult bad = store.Cli({"--wait", "-1", "append", EventJson(kId2)});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Catch::Contains("--wait: \"-1\" is not a number of seconds"));
}

TEST_CASE("a writer waiting for the store appends once the process holding it lets go", "[cli][wait]") {
  Store store;
  std::unique_ptr<EventLog> holder = HoldStore(store.dir);
  std::thread release([&holder] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    holder.reset();
  });
  CliResult r = store.Cli({"append", "--json", EventJson(kId2)});  // the default wait is long enough
  release.join();
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(R"("position":1,"version":1,"written":true)"));
  CHECK(Lines(store.Everything()) == 2);
}

TEST_CASE("tail follows appends made by another process, and records each read before printing it", "[cli]") {
  Store store;
  store.JoinReader();  // position 1
  // The tail runs in a child process while this process appends through the CLI.
  const std::string out_path = store.tmp.Sub("tail.out"), err_path = store.tmp.Sub("tail.err");
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(err, 2);
    ::execl(CUSTODIAN_CLI, CUSTODIAN_CLI, "--data", store.dir.c_str(), "--as", "staff-1", "tail", "--from", "0",
            "--json", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  REQUIRE(store.Cli({"append", EventJson(kId2)}).exit_code == 0);
  REQUIRE(store.Cli({"append", EventJson(kId3, "customer-7")}).exit_code == 0);
  // Until the tail has printed the last append (or 20 s), then Ctrl-C.
  for (int i = 0; i < 400 && Slurp(out_path).find(kId3) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  INFO("tail's stderr: " << Slurp(err_path));
  CHECK(WEXITSTATUS(status) == 0);
  const std::string out = Slurp(out_path);
  REQUIRE(out.find(kId1) != std::string::npos);
  REQUIRE(out.find(kId3) != std::string::npos);
  CHECK(out.find(kId1) < out.find(kId2));
  CHECK(out.find(kId2) < out.find(kId3));
  // The tail held the store read-only: its reads went to the spool, which
  // the next writer appends; together they name both customers it showed.
  REQUIRE(store.Cli({"append", EventJson(kId4)}).exit_code == 0);
  const std::string reads = testing::StoreLines(store.dir, "access-staff-1");
  CHECK(Lines(reads) >= 2);
  CHECK_THAT(reads, Catch::Contains(R"("view":"event_log_live")"));
  CHECK_THAT(reads, Catch::Contains(R"("customer-42")"));
  CHECK_THAT(reads, Catch::Contains(R"("customer-7")"));
  CHECK((!std::filesystem::exists(store.dir + "/access-spool") ||
         std::filesystem::is_empty(store.dir + "/access-spool")));
}

TEST_CASE("a writing command given --checkpoint-every signs a checkpoint when it ends", "[cli]") {
  Store store;  // one event, no checkpoint
  CHECK(store.Cli({"checkpoint", "--list"}).out.empty());
  REQUIRE(store.Cli({"--checkpoint-every", "3600", "append", EventJson(kId2)}).exit_code == 0);
  CliResult list = store.Cli({"checkpoint", "--list", "--json"});
  REQUIRE(Lines(list.out) == 1);
  CHECK_THAT(list.out, Catch::Contains("\\n2\\n"));  // the checkpoint covers both events
  CHECK(store.Cli({"--checkpoint-every", "-1", "stats"}).exit_code == 1);
}

// Sets an environment variable for the commands run while it lives.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

TEST_CASE("a --checkpoint-every that is not a positive number of seconds is a usage error that names it", "[cli]") {
  Store store;
  const std::string before = store.Everything();
  for (const char* value : {"0", "-1", "nan", "inf", "-inf", "soon", "1e400", "10s", ""}) {
    INFO("--checkpoint-every " << value);
    CliResult r = store.Cli({"--checkpoint-every", value, "append", EventJson(kId2)});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("--checkpoint-every: \"" + std::string(value) +
                                      "\" is not a number of seconds from 0.001 to"));
    CHECK(r.err.size() < 200);  // no 309-digit bound
  }
  {
    ScopedEnv env("CUSTODIAN_CHECKPOINT_EVERY", "-1");
    CliResult r = store.Cli({"append", EventJson(kId2)});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("$CUSTODIAN_CHECKPOINT_EVERY: \"-1\" is not a number of seconds"));
  }
  CHECK(store.Everything() == before);
  {
    ScopedEnv env("CUSTODIAN_CHECKPOINT_EVERY", "garbage");  // the option, when given, wins
    CHECK(store.Cli({"--checkpoint-every", "0.5", "append", EventJson(kId2)}).exit_code == 0);
  }
  CHECK(Lines(store.Cli({"checkpoint", "--list", "--json"}).out) == 1);
}

TEST_CASE("a --checkpoint-every on a store without its signing key is a usage error and writes nothing", "[cli]") {
  Store store;
  const std::string before = store.Everything();
  std::filesystem::rename(store.dir + "/log.key", store.tmp.Sub("log.key.offline"));
  CliResult r = store.Cli({"--checkpoint-every", "60", "append", EventJson(kId2)});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("--checkpoint-every signs checkpoints, but the store at " + store.dir +
                                    " has no checkpoint signing key (" + store.dir + "/log.key)"));
  {
    ScopedEnv env("CUSTODIAN_CHECKPOINT_EVERY", "60");
    CHECK(store.Cli({"append", EventJson(kId2)}).exit_code == 1);
  }
  CHECK(store.Everything() == before);
  CHECK(store.Cli({"append", EventJson(kId2)}).exit_code == 0);  // without the option, appends need no key
}

TEST_CASE("help explains every command and exits 0", "[cli]") {
  TempDir tmp;
  CliResult r = RunCli(tmp, "", {"--help"});
  CHECK(r.exit_code == 0);
  for (const char* command : {"init", "append", "import", "read", "read-all", "tail", "stats", "Exit codes"}) {
    CHECK_THAT(r.out, Catch::Contains(command));
  }
  CliResult import_help = RunCli(tmp, "", {"import", "--help"});
  CHECK(import_help.exit_code == 0);
  CHECK_THAT(import_help.out, Catch::Contains("--skip-invalid"));
}

}  // namespace
}  // namespace custodian
