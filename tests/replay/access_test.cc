// The access spool (replay/access.h: SpoolAccess, DrainAccessSpool): only
// records of reads, made by the stream's own reader, from an owner-only
// directory of owner-only regular files, are ever appended; anything else is
// refused whole, reported and moved aside. Real RocksDB with the log's rules.
#include "replay/access.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/rules.h"
#include "core/time.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

Timestamp T(const char* text) { return *ParseRfc3339(text); }

Event Ev(const std::string& stream, const std::string& type, const std::string& actor, const std::string& data) {
  Event e;
  e.id = testing::RandomId();
  e.stream = stream;
  e.type = type;
  e.actor = actor;
  e.occurred_at = T("2026-03-01T10:00:00Z");
  e.source = "crm";
  e.data = data;
  return e;
}

Event Read(const std::string& staff, const std::string& customer = "customer-1") {
  return Ev("access-" + staff, "data.viewed", staff, R"({"customers":[")" + customer + R"("],"view":"timeline"})");
}

// A store with the log's rules, staff-3 and staff-7 joined, and customer-1
// owned by staff-7.
struct SpoolFixture {
  TempDir tmp;
  std::string dir = tmp.Sub("store");
  std::string spool = dir + "/access-spool";
  std::unique_ptr<EventLog> log;

  SpoolFixture() {
    EventLogOptions options;
    options.create = CreateIfMissing::kYes;
    options.rules = CheckRules;
    Result<std::unique_ptr<EventLog>> r = EventLog::Open(dir, options);
    REQUIRE(r.ok());
    log = std::move(*r);
    for (const char* staff : {"staff-3", "staff-7"}) {
      REQUIRE(log->Append(staff, {Ev(staff, "staff.joined", "system:hr-sync", R"({"role":"account_executive"})")}).ok());
    }
    REQUIRE(log->Append("customer-1", {Ev("customer-1", "customer.owner_assigned", "system:crm-sync",
                                          R"({"owner":"staff-7","reason":"initial"})")})
                .ok());
  }

  // Writes a spool file the way another program could: `events` as JSON Lines.
  std::string Drop(const std::string& name, const std::vector<Event>& events, mode_t mode = 0600) {
    fs::create_directories(spool);
    ::chmod(spool.c_str(), 0700);
    const std::string path = spool + "/" + name;
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      for (const Event& e : events) out << EventToJson(e, JsonFields::kProducer) << "\n";
      REQUIRE(out.good());
    }
    REQUIRE(::chmod(path.c_str(), mode) == 0);
    return path;
  }

  std::set<std::string> Files() const {
    std::set<std::string> out;
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator(spool, ec)) out.insert(e.path().filename().string());
    return out;
  }

  uint64_t Events() const { return log->end().value(); }

  SpoolDrain Drain() {
    Result<SpoolDrain> d = DrainAccessSpool(*log, dir);
    INFO(d.status().ToString());
    REQUIRE(d.ok());
    return *d;
  }
};

// The one problem a drain reported, checked to name `file` and say `why`.
void CheckOneProblem(const SpoolDrain& d, const std::string& file, const std::string& why) {
  REQUIRE(d.problems.size() == 1);
  INFO(d.problems[0]);
  CHECK_THAT(d.problems[0], Catch::Contains(file));
  CHECK_THAT(d.problems[0], Catch::Contains(why));
  CHECK_THAT(d.problems[0], Catch::Contains(file.substr(file.rfind('/') + 1) + ".rejected"));
}

TEST_CASE("SpoolAccess creates an owner-only spool and file, and a drain appends them once", "[access][spool]") {
  SpoolFixture f;
  const mode_t old_umask = ::umask(0);  // a permissive umask must not widen the spool
  Status spooled = SpoolAccess(f.dir, std::vector<Event>{Read("staff-3")});
  ::umask(old_umask);
  REQUIRE(spooled.ok());
  struct stat st;
  REQUIRE(::lstat(f.spool.c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK((st.st_mode & 07777) == 0700);
  CHECK(st.st_uid == ::geteuid());
  REQUIRE(f.Files().size() == 1);
  const std::string file = f.spool + "/" + *f.Files().begin();
  REQUIRE(::lstat(file.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 07777) == 0600);

  const uint64_t before = f.Events();
  const SpoolDrain d = f.Drain();
  CHECK(d.problems.empty());
  CHECK(d.files == 1);
  CHECK(d.events == 1);
  CHECK(f.Events() == before + 1);
  CHECK(f.Files().empty());
}

TEST_CASE("SpoolAccess keeps nothing but the reader's own reads, and nothing in a spool others can write",
          "[access][spool]") {
  SpoolFixture f;
  const Event owner = Ev("customer-1", "customer.owner_assigned", "staff-3",
                         R"({"owner":"staff-3","previous_owner":"staff-7","reason":"rebalance"})");
  Status s = SpoolAccess(f.dir, std::vector<Event>{Read("staff-3"), owner});
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("customer.owner_assigned is not a record of a read"));
  Event forged = Read("staff-7");
  forged.actor = "staff-3";
  s = SpoolAccess(f.dir, std::vector<Event>{forged});
  CHECK_THAT(s.message(), Catch::Contains("actor staff-3 is not staff-7"));
  CHECK(f.Files().empty());

  fs::create_directories(f.spool);
  REQUIRE(::chmod(f.spool.c_str(), 0777) == 0);
  s = SpoolAccess(f.dir, std::vector<Event>{Read("staff-3")});
  CHECK(s.code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(s.message(), Catch::Contains("mode 0777, expected 0700"));
  CHECK(f.Files().empty());
}

TEST_CASE("a spooled file holding anything but reads is refused whole, reported and moved aside", "[access][spool]") {
  SpoolFixture f;
  const uint64_t before = f.Events();
  // A good read, then an ownership change someone slipped in: a valid event
  // with an employed actor, which the log itself would accept.
  const Event owner = Ev("customer-1", "customer.owner_assigned", "staff-3",
                         R"({"owner":"staff-3","previous_owner":"staff-7","reason":"rebalance"})");
  const std::string mixed = f.Drop("00000000000000000001-a.jsonl", {Read("staff-3"), owner});
  SpoolDrain d = f.Drain();
  CheckOneProblem(d, mixed, "line 2: event " + owner.id.ToString() + ": type customer.owner_assigned is not a record "
                            "of a read (expected data.viewed or data.exported)");
  CHECK(d.files == 0);
  CHECK(f.Events() == before);  // not even the good line
  CHECK(f.Files() == std::set<std::string>{"00000000000000000001-a.jsonl.rejected"});
  Result<bool> appended = f.log->Contains(owner.id);
  REQUIRE(appended.ok());
  CHECK_FALSE(*appended);

  // A read recorded in someone else's name.
  Event forged = Read("staff-7");
  forged.actor = "staff-3";
  const std::string other = f.Drop("00000000000000000002-b.jsonl", {forged});
  CheckOneProblem(f.Drain(), other, "actor staff-3 is not staff-7");
  // A line that is not an event.
  const std::string garbage = f.Drop("00000000000000000003-c.jsonl", {Read("staff-3")});
  std::ofstream(garbage, std::ios::app) << "{\"not\": \"an event\"}\n";
  CheckOneProblem(f.Drain(), garbage, "line 2:");
  // A read the log refuses: staff-9 never joined.
  const std::string stranger = f.Drop("00000000000000000004-d.jsonl", {Read("staff-9")});
  CheckOneProblem(f.Drain(), stranger, "staff-9 has never joined");
  // A file not named like a spooled one.
  const std::string odd = f.Drop("notes.txt", {Read("staff-3")});
  CheckOneProblem(f.Drain(), odd, "not a spooled access file");
  CHECK(f.Events() == before);

  // Refused files stay aside: the next drain neither appends nor reports them.
  const SpoolDrain again = f.Drain();
  CHECK(again.problems.empty());
  CHECK(again.files == 0);
  CHECK(f.Files().size() == 5);
  for (const std::string& name : f.Files()) CHECK(name.ends_with(".rejected"));
}

TEST_CASE("a spooled file that is not an owner-only regular file is refused unread", "[access][spool]") {
  SpoolFixture f;
  const uint64_t before = f.Events();
  // Readable by everyone.
  const std::string open_file = f.Drop("00000000000000000001-a.jsonl", {Read("staff-3")}, 0644);
  CheckOneProblem(f.Drain(), open_file, "mode 0644, expected 0600");
  // A symbolic link to a file of good reads elsewhere.
  const std::string target = f.tmp.Sub("elsewhere.jsonl");
  std::ofstream(target) << EventToJson(Read("staff-3"), JsonFields::kProducer) << "\n";
  REQUIRE(::chmod(target.c_str(), 0600) == 0);
  const std::string link = f.spool + "/00000000000000000002-b.jsonl";
  fs::create_symlink(target, link);
  CheckOneProblem(f.Drain(), link, "a symbolic link");
  CHECK(fs::exists(target));  // the link was moved, not what it named
  // A directory.
  const std::string sub = f.spool + "/00000000000000000003-c.jsonl";
  fs::create_directory(sub);
  CheckOneProblem(f.Drain(), sub, "not a regular file");
  // Another user's file (only root can make one).
  if (::geteuid() == 0) {
    const std::string theirs = f.Drop("00000000000000000004-d.jsonl", {Read("staff-3")});
    REQUIRE(::chown(theirs.c_str(), 65534, 65534) == 0);
    CheckOneProblem(f.Drain(), theirs, "owned by uid 65534, not by uid 0");
  }
  CHECK(f.Events() == before);
  // A good file next to the refused ones goes in.
  f.Drop("00000000000000000009-z.jsonl", {Read("staff-3")});
  const SpoolDrain d = f.Drain();
  CHECK(d.problems.empty());
  CHECK(d.files == 1);
  CHECK(f.Events() == before + 1);
}

TEST_CASE("a spool directory others can write, or a symbolic link, is not read at all and is moved aside",
          "[access][spool]") {
  SpoolFixture f;
  const uint64_t before = f.Events();
  f.Drop("00000000000000000001-a.jsonl", {Read("staff-3")});
  REQUIRE(::chmod(f.spool.c_str(), 0777) == 0);
  SpoolDrain d = f.Drain();
  REQUIRE(d.problems.size() == 1);
  INFO(d.problems[0]);
  CHECK_THAT(d.problems[0], Catch::Contains(f.spool + ": the access spool is mode 0777, expected 0700"));
  CHECK_THAT(d.problems[0], Catch::Contains("none of its files was appended"));
  CHECK_THAT(d.problems[0], Catch::Contains("moved to " + f.spool + ".rejected-"));
  CHECK(d.files == 0);
  CHECK(f.Events() == before);
  CHECK_FALSE(fs::exists(f.spool));
  // The next spool is a fresh, owner-only one.
  REQUIRE(SpoolAccess(f.dir, std::vector<Event>{Read("staff-3")}).ok());
  CHECK(f.Drain().files == 1);
  CHECK(f.Events() == before + 1);

  // A symbolic link to a directory of good reads.
  fs::remove(f.spool);
  const std::string elsewhere = f.tmp.Sub("elsewhere");
  fs::create_directories(elsewhere);
  REQUIRE(::chmod(elsewhere.c_str(), 0700) == 0);
  const std::string file = elsewhere + "/00000000000000000002-b.jsonl";
  std::ofstream(file) << EventToJson(Read("staff-3"), JsonFields::kProducer) << "\n";
  REQUIRE(::chmod(file.c_str(), 0600) == 0);
  fs::create_directory_symlink(elsewhere, f.spool);
  d = f.Drain();
  REQUIRE(d.problems.size() == 1);
  CHECK_THAT(d.problems[0], Catch::Contains("a symbolic link, not a directory"));
  CHECK(f.Events() == before + 1);
  CHECK(fs::exists(file));
  // And SpoolAccess does not write through a link either.
  fs::create_directory_symlink(elsewhere, f.spool);
  Status s = SpoolAccess(f.dir, std::vector<Event>{Read("staff-3")});
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("not a symbolic link"));
  size_t in_elsewhere = 0;
  for ([[maybe_unused]] const fs::directory_entry& e : fs::directory_iterator(elsewhere)) ++in_elsewhere;
  CHECK(in_elsewhere == 1);
}

}  // namespace
}  // namespace custodian
