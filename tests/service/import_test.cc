#include "service/import.h"

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/rules.h"
#include "storage/event_log.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

using testing::TempDir;

// A store with the log's rules, as every product entry point opens it.
struct Store {
  TempDir tmp;
  std::unique_ptr<EventLog> log;
  Store() {
    EventLogOptions options;
    options.create = CreateIfMissing::kYes;
    options.rules = CheckRules;
    Result<std::unique_ptr<EventLog>> r = EventLog::Open(tmp.Sub("store"), options);
    REQUIRE(r.ok());
    log = std::move(*r);
  }
  std::string File(const std::string& name, const std::string& text) {
    const std::string path = tmp.Sub(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  Result<ImportReport> Import(const std::string& text, ImportOptions options = {}) {
    return ImportJsonLines(*log, File("input.jsonl", text), options);
  }
};

std::string Id(uint64_t n) { return fmt::format("00000000-0000-4000-8000-{:012x}", n + 1); }

std::string Joined(uint64_t n, const std::string& staff) {
  return R"({"id":")" + Id(n) + R"(","stream":")" + staff +
         R"(","type":"staff.joined","actor":"system:hr","occurred_at":"2025-01-01T00:00:00Z","data":{"role":"rep","team":"north"}})";
}
std::string Departed(uint64_t n, const std::string& staff) {
  return R"({"id":")" + Id(n) + R"(","stream":")" + staff +
         R"(","type":"staff.departed","actor":"system:hr","occurred_at":"2025-02-01T00:00:00Z","data":{}})";
}
std::string Note(uint64_t n, const std::string& actor = "system:crm", const std::string& text = "called") {
  return R"({"id":")" + Id(n) + R"(","stream":"customer-)" + std::to_string(n % 50) + R"(","type":"note.added","actor":")" +
         actor + R"(","occurred_at":"2025-03-01T00:00:00Z","data":{"text":")" + text + R"("}})";
}

TEST_CASE("A file with a bad line in the middle is refused whole and writes nothing", "[import]") {
  Store s;
  std::string file;
  for (uint64_t i = 0; i < 10'000; ++i) file += (i == 4999 ? std::string(R"({"id":"x"})") : Note(i)) + "\n";
  ImportOptions options;
  options.batch_events = 1000;
  Result<ImportReport> r = s.Import(file, options);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(r.status().message(), Catch::StartsWith("line 5000: field 'id'"));
  CHECK(s.log->end().value() == 0);
  // Mended, it goes in whole.
  file.replace(file.find(R"({"id":"x"})"), 10, Note(4999));
  r = s.Import(file, options);
  REQUIRE(r.ok());
  CHECK(r->written == 10'000);
  CHECK(s.log->end().value() == 10'000);
}

TEST_CASE("The log's rules are checked as the file would apply them, earlier lines included", "[import]") {
  Store s;
  // staff-9 joins on line 1 and acts on line 2: fine, though neither is written yet when line 2 is checked.
  Result<ImportReport> ok = s.Import(Joined(0, "staff-9") + "\n" + Note(1, "staff-9") + "\n");
  REQUIRE(ok.ok());
  CHECK(ok->written == 2);
  // staff-9 leaves on line 1 and acts on line 3: refused at line 3, and line 1 is not written either.
  Result<ImportReport> refused = s.Import(Departed(2, "staff-9") + "\n" + Note(3) + "\n" + Note(4, "staff-9") + "\n");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kRuleViolation);
  CHECK_THAT(refused.status().message(), Catch::StartsWith("line 3: rule 'actor'"));
  CHECK_THAT(refused.status().message(), Catch::Contains("staff-9 left on 2025-02-01T00:00:00Z (position 2)"));
  CHECK(s.log->end().value() == 2);
}

std::string Line(uint64_t n, const std::string& stream, const std::string& type, const std::string& actor,
                 const std::string& data) {
  return R"({"id":")" + Id(n) + R"(","stream":")" + stream + R"(","type":")" + type + R"(","actor":")" + actor +
         R"(","occurred_at":"2025-03-01T00:00:00Z","data":)" + data + "}";
}

// Rule 'fix' reads the event a fix names. One earlier in the same file is
// not in the log yet: the check reads it again from the file, so a bad fix
// refuses the file before anything is written (before, it passed the check
// and the file was written up to the batch that held it).
TEST_CASE("A fix of an event earlier in the file is checked against that event, and a bad one writes nothing",
          "[import]") {
  Store s;
  ImportOptions one_at_a_time;
  one_at_a_time.batch_events = 1;  // each line its own write: a check missed would leave lines 1-2 written
  const std::string joined = Joined(0, "staff-9");
  const std::string announced = Line(1, "staff-9", "staff.departure_announced", "system:hr",
                                     R"({"effective_at":"2025-04-30T00:00:00Z"})");
  const std::string withdrawn_by_leaver = Line(2, "staff-9", "event.retracted", "staff-9",
                                               R"({"event_id":")" + Id(1) + R"(","reason":"changed my mind"})");
  Result<ImportReport> leaver = s.Import(std::string("\xEF\xBB\xBF") + joined + "\r\n" + announced + "\n" +
                                             withdrawn_by_leaver + "\n",
                                         one_at_a_time);
  REQUIRE_FALSE(leaver.ok());
  CHECK(leaver.status().code() == StatusCode::kRuleViolation);
  CHECK_THAT(leaver.status().message(), Catch::StartsWith("line 3: rule 'fix'") &&
                                            Catch::Contains("the leaver may not fix it"));
  CHECK(s.log->end().value() == 0);

  // A fix on another stream than its event's, and a correction that changes
  // what the event is about, are refused the same way.
  const std::string note = Note(3);  // on customer-3
  const std::string elsewhere = Line(4, "customer-4", "event.retracted", "system:crm",
                                     R"({"event_id":")" + Id(3) + R"(","reason":"wrong customer"})");
  Result<ImportReport> moved = s.Import(note + "\n" + elsewhere + "\n", one_at_a_time);
  REQUIRE_FALSE(moved.ok());
  CHECK_THAT(moved.status().message(), Catch::StartsWith("line 2: rule 'fix'") && Catch::Contains("not customer-4"));
  const std::string deal = Line(5, "customer-3", "deal.opened", "system:crm",
                                R"({"deal_id":"d-1","title":"pumps","value":100.00,"currency":"EUR","stage":"qualification"})");
  const std::string rekeyed = Line(6, "customer-3", "event.corrected", "system:crm",
                                   R"({"event_id":")" + Id(5) + R"(","reason":"typo","corrected":{"deal_id":"d-2"}})");
  Result<ImportReport> about_else = s.Import(deal + "\n" + rekeyed + "\n", one_at_a_time);
  REQUIRE_FALSE(about_else.ok());
  CHECK_THAT(about_else.status().message(),
             Catch::StartsWith("line 2: rule 'fix'") && Catch::Contains("field 'data.corrected.deal_id'"));
  CHECK(s.log->end().value() == 0);

  // The line a fix names is read again where it starts: on line 1 behind a
  // byte-order mark, and past the first 1 MiB the reader takes at a time.
  std::string big = "\xEF\xBB\xBF" + Note(1000) + "\n";  // customer-0
  for (uint64_t n = 1001; n <= 7000; ++n) big += Note(n, "system:crm", std::string(100, 'x')) + "\n";
  REQUIRE(big.size() > (size_t{1} << 20) + 200);
  auto wrong_stream = [&](uint64_t n, uint64_t fixed) {
    return Line(n, "customer-7", "event.retracted", "system:crm",
                R"({"event_id":")" + Id(fixed) + R"(","reason":"wrong customer"})") +
           "\n";
  };
  Result<ImportReport> first = s.Import(big + wrong_stream(9001, 1000));
  REQUIRE_FALSE(first.ok());
  CHECK_THAT(first.status().message(),
             Catch::StartsWith("line 6002: rule 'fix'") && Catch::Contains("is on customer-0, not customer-7"));
  Result<ImportReport> past = s.Import(big + wrong_stream(9002, 6999));
  REQUIRE_FALSE(past.ok());
  CHECK_THAT(past.status().message(),
             Catch::StartsWith("line 6002: rule 'fix'") && Catch::Contains("is on customer-49, not customer-7"));
  CHECK(s.log->end().value() == 0);

  // A good fix of an earlier line goes through, written with it.
  const std::string fixed = Line(7, "customer-3", "event.retracted", "system:crm",
                                 R"({"event_id":")" + Id(3) + R"(","reason":"logged twice"})");
  Result<ImportReport> ok = s.Import(note + "\n" + fixed + "\n", one_at_a_time);
  INFO(ok.status().ToString());
  REQUIRE(ok.ok());
  CHECK(ok->written == 2);
}

TEST_CASE("The same event twice in a file is written once, and one id for two events is a conflict naming both lines",
          "[import]") {
  Store s;
  Result<ImportReport> r = s.Import(Note(1) + "\n" + Note(2) + "\n\n" + Note(1) + "\n");
  REQUIRE(r.ok());
  CHECK(r->lines == 4);
  CHECK(r->events == 3);
  CHECK(r->written == 2);
  CHECK(r->repeated == 1);
  CHECK(s.log->end().value() == 2);
  // Across files too, and an id already in the log with other content is refused before anything is written.
  r = s.Import(Note(3) + "\n" + Note(1) + "\n");
  REQUIRE(r.ok());
  CHECK(r->written == 1);
  CHECK(r->already_present == 1);
  Result<ImportReport> conflict = s.Import(Note(4) + "\n" + Note(1, "system:crm", "other words") + "\n");
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.status().code() == StatusCode::kConflict);
  CHECK_THAT(conflict.status().message(), Catch::StartsWith("line 2: event id " + Id(1) + " is already in the log at position 0"));
  conflict = s.Import(Note(5) + "\n" + Note(5, "system:crm", "other words") + "\n");
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.status().message() ==
        "line 2: event id " + Id(5) + " is already used on line 1 with other content; an id names one event");
  CHECK(s.log->end().value() == 3);
}

TEST_CASE("skip_invalid writes the rest, lists what it left out, and a skipped event has no effect on later lines",
          "[import]") {
  Store s;
  const std::string file = Joined(0, "staff-3") + "\n" + "{broken\n" + Joined(2, "Staff 4") + "\n" + Note(3, "staff-3") +
                           "\n" + Note(4, "staff-4") + "\n";
  ImportOptions options;
  options.skip_invalid = true;
  Result<ImportReport> r = s.Import(file, options);
  REQUIRE(r.ok());
  CHECK(r->written == 2);
  REQUIRE(r->skipped.size() == 3);
  CHECK(r->skipped[0].first == 2);
  CHECK(r->skipped[1].first == 3);
  CHECK(r->skipped[2].first == 5);  // staff-4 never joined: its joining was the line left out
  CHECK_THAT(r->skipped[2].second, Catch::Contains("staff-4 has never joined"));
  CHECK(ImportReportToJson(*r).find(R"("skipped":[{"line":2,"error":"invalid JSON)") != std::string::npos);
}

TEST_CASE("A line longer than the limit is refused as soon as it passes it, whatever follows", "[import]") {
  Store s;
  std::string file = Note(1) + "\n" + std::string(kMaxLineBytes + 1, ' ') + "x\n" + Note(2) + "\n";
  Result<ImportReport> r = s.Import(file);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(r.status().message(), Catch::Contains("line 2 of"));
  CHECK_THAT(r.status().message(), Catch::Contains("is longer than 4194304 bytes"));
  CHECK(s.log->end().value() == 0);
  // /dev/zero never ends a line: refused at the limit instead of growing without end.
  r = ImportJsonLines(*s.log, "/dev/zero", {});
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("line 1 of /dev/zero is longer than"));
}

TEST_CASE("A byte-order mark, CRLF line ends and blank lines are accepted, and a directory is refused", "[import]") {
  Store s;
  Result<ImportReport> r = s.Import(std::string("\xEF\xBB\xBF") + Note(1) + "\r\n\r\n  \n" + Note(2) + "\r\n");
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->written == 2);
  Result<ImportReport> dir = ImportJsonLines(*s.log, s.tmp.path(), {});
  REQUIRE_FALSE(dir.ok());
  CHECK_THAT(dir.status().message(), Catch::Contains("is a directory"));
}

TEST_CASE("A file changed between the check and the writing is refused before anything unchecked is written",
          "[import]") {
  Store s;
  std::string file;
  for (uint64_t i = 0; i < 20; ++i) file += Note(i) + "\n";
  const std::string path = s.File("changing.jsonl", file);
  ImportOptions options;
  options.batch_events = 5;
  options.progress = [&](std::string_view phase, uint64_t) {
    if (phase != "checked") return;
    // Line 13 now names someone who never joined: unchecked, so it must not go in.
    std::string changed = file;
    const std::string line = Note(12);
    changed.replace(changed.find(line), line.size(), Note(12, "staff-66"));
    std::ofstream(path, std::ios::binary | std::ios::trunc) << changed;
  };
  Result<ImportReport> r = ImportJsonLines(*s.log, path, options);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(r.status().message(), Catch::Contains("changed while it was imported"));
  CHECK(s.log->end().value() == 10);  // the two chunks before the changed one, checked and unchanged
}

TEST_CASE("An import after one cut short writes only what is missing", "[import]") {
  Store s;
  std::string first_half, file;
  for (uint64_t i = 0; i < 100; ++i) {
    file += Note(i) + "\n";
    if (i < 37) first_half += Note(i) + "\n";
  }
  REQUIRE(s.Import(first_half).ok());
  Result<ImportReport> r = s.Import(file);
  REQUIRE(r.ok());
  CHECK(r->written == 63);
  CHECK(r->already_present == 37);
  CHECK(s.log->end().value() == 100);
}

}  // namespace
}  // namespace custodian
