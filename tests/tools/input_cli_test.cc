// End-to-end tests of what the command line accepts and how it keeps it: values
// kept as given, money exact, imports all or nothing, bounded input, and output
// that shows event data without letting it act on the terminal.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "storage/keys.h"
#include "tests/raw_store.h"
#include "tests/test_util.h"
#include "tests/tools/cli_runner.h"

namespace custodian {
namespace {

using testing::CliResult;
using testing::RunCli;
using testing::SampleCompany;
using testing::TempDir;
using testing::WriteFile;

std::string Order(const std::string& id, const std::string& value, const std::string& extra = "") {
  return R"({"id":")" + id +
         R"(","stream":"customer-1001","type":"order.placed","actor":"staff-7","occurred_at":"2026-03-01T10:15:00Z",)"
         R"("data":{"order_id":"o-)" +
         id.substr(34) + R"(","currency":"EUR","value":)" + value + extra + "}}";
}

size_t Lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST_CASE("Amounts a double would round are refused at append, and the customer stays readable", "[cli][input]") {
  SampleCompany company;
  // The reproduction from the hardening issue: two orders whose sum was Infinity.
  CliResult huge = company.Cli({"append", Order("5e1d7e90-8a2b-4f3c-b6d1-0e9f8a7b6c01", "1e308")});
  CHECK(huge.exit_code == 2);
  CHECK_THAT(huge.err, Catch::Contains("field 'data.value': expected an amount of money written as a plain decimal"));
  CHECK_THAT(huge.err, Catch::Contains("got 1e308, which has an exponent"));
  CHECK(company.Cli({"append", Order("5e1d7e90-8a2b-4f3c-b6d1-0e9f8a7b6c02", "1.7e308")}).exit_code == 2);
  // Exact decimals go in, and their sum is exact.
  REQUIRE(company.Cli({"append", Order("5e1d7e90-8a2b-4f3c-b6d1-0e9f8a7b6c03", "0.1")}).exit_code == 0);
  REQUIRE(company.Cli({"append", Order("5e1d7e90-8a2b-4f3c-b6d1-0e9f8a7b6c04", "0.2")}).exit_code == 0);
  CliResult show = company.Cli({"customer", "show", "1001", "--json"});
  REQUIRE(show.exit_code == 0);
  CHECK_THAT(show.out, Catch::Contains(R"("order_value":{"EUR":"81500.3"})"));
  CHECK(company.Cli({"customer", "timeline", "1001"}).exit_code == 0);
  CHECK(company.Cli({"customer", "custody", "1001"}).exit_code == 0);
}

TEST_CASE("Numbers keep every digit through append, read and an evidence bundle", "[cli][input]") {
  SampleCompany company;
  const std::string id = "5e1d7e90-8a2b-4f3c-b6d1-0e9f8a7b6c11";
  const std::string extension =
      R"(,"x_crm_id":12345678901234567890123,"x_big":18446744073709551617,"x_rate":1.10,"x_tiny":1e-400)";
  REQUIRE(company.Cli({"append", Order(id, "1250.50", extension)}).exit_code == 0);
  CliResult read = company.Cli({"read", "customer-1001", "--backwards", "--limit", "1", "--json"});
  REQUIRE(read.exit_code == 0);
  CHECK_THAT(read.out, Catch::Contains(R"("value":1250.50,"x_crm_id":12345678901234567890123,"x_big":18446744073709551617,"x_rate":1.10,"x_tiny":1e-400)"));
  // The same event again is the same event; with a key given twice it is refused, naming the key.
  CHECK(company.Cli({"append", Order(id, "1250.50", extension)}).exit_code == 0);
  CliResult twice = company.Cli({"append", Order("5e1d7e90-8a2b-4f3c-b6d1-0e9f8a7b6c12", "1", R"(,"currency":"USD")")});
  CHECK(twice.exit_code == 2);
  CHECK_THAT(twice.err, Catch::Contains("key 'data.currency' is given twice"));
  // The bundle hashes data byte for byte: a re-printed number would break its proof.
  const std::string bundle = company.tmp.Sub("evidence.json");
  CliResult made = company.Cli({"bundle", "--stream", "customer-1001", "--out", bundle});
  REQUIRE(made.exit_code == 0);
  CliResult verified = RunCli(company.tmp, "", {"verify-bundle", bundle});
  INFO(verified.out << verified.err);
  CHECK(verified.exit_code == 0);
}

TEST_CASE("An import is all or nothing, repeats are written once, and --skip-invalid exits 2", "[cli][input]") {
  SampleCompany company;
  const std::string before = testing::StoreLines(company.dir);
  std::string file;
  for (int i = 0; i < 10'000; ++i) {
    char id[64];
    std::snprintf(id, sizeof id, "5e1d7e90-8a2b-4f3c-b6d1-%012d", i);
    file += (i == 4999 ? Order(id, "-1") : Order(id, std::to_string(i))) + "\n";
  }
  const std::string path = company.tmp.Sub("orders.jsonl");
  WriteFile(path, file);
  CliResult refused = company.Cli({"import", path});
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Catch::Contains("line 5000: field 'data.value'"));
  CHECK(testing::StoreLines(company.dir) == before);

  CliResult skipped = company.Cli({"import", "--skip-invalid", "--json", path});
  CHECK(skipped.exit_code == 2);
  CHECK_THAT(skipped.out, Catch::Contains(R"("written":9999)"));
  CHECK_THAT(skipped.out, Catch::Contains(R"("skipped":[{"line":5000,)"));

  // The same event twice in one file, with a byte-order mark and CRLF: one event.
  const std::string again = company.tmp.Sub("again.jsonl");
  const std::string one = Order("5e1d7e90-8a2b-4f3c-b6d1-0e9f8a7b6c21", "7");
  WriteFile(again, "\xEF\xBB\xBF" + one + "\r\n" + one + "\r\n");
  CliResult twice = company.Cli({"import", "--json", again});
  CHECK(twice.exit_code == 0);
  CHECK_THAT(twice.out, Catch::Contains(R"("lines":2,"events":2,"written":1,"already_present":0,"repeated":1)"));
}

TEST_CASE("Unbounded or unreadable input is refused at once: a directory, an endless line", "[cli][input]") {
  SampleCompany company;
  CliResult dir = company.Cli({"import", company.tmp.path()});
  CHECK(dir.exit_code == 1);
  CHECK_THAT(dir.err, Catch::Contains("is a directory; give a JSON Lines file"));
  CliResult missing = company.Cli({"import", company.tmp.Sub("nowhere.jsonl")});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("cannot open"));
  // /dev/zero has no line end: refused once a line passes 4 MiB, not read forever.
  CliResult zero = company.Cli({"import", "/dev/zero"});
  CHECK(zero.exit_code == 2);
  CHECK_THAT(zero.err, Catch::Contains("line 1 of /dev/zero is longer than 4194304 bytes"));
  CliResult piped = company.Cli({"import", "-"}, std::string(5 << 20, '{'));
  CHECK(piped.exit_code == 2);
  CHECK_THAT(piped.err, Catch::Contains("line 1 of standard input is longer than"));
  // Noise (/dev/urandom) is refused at its first line that is not text, not
  // copied whole to the temporary directory first.
  CliResult noise = company.Cli({"import", "/dev/urandom"});
  CHECK(noise.exit_code == 2);
  CHECK_THAT(noise.err, Catch::Contains(": invalid JSON: the text is not valid UTF-8"));
  // From a pipe, too (bash's process substitution is one).
  CliResult later = company.Cli({"import", "/dev/stdin"}, "\n\xff\xfe{}\n" + std::string(1000, '\n'));
  CHECK(later.exit_code == 2);
  CHECK_THAT(later.err, Catch::Contains("line 2: invalid JSON") && Catch::Contains("not valid UTF-8"));
}

TEST_CASE("Event data cannot forge a line of terminal output or markup in a report", "[cli][input]") {
  SampleCompany company;
  const std::string forged = "note\\n2026-03-04 10:00  staff-12   deal.won                 deal deal-9 WON\\u001b[2J\\r";
  REQUIRE(company
              .Cli({"append", R"({"id":"5e1d7e90-8a2b-4f3c-b6d1-0e9f8a7b6c31","stream":"customer-1001","type":"note.added",)"
                              R"("actor":"staff-7","occurred_at":"2026-03-04T10:00:00Z","data":{"text":")" +
                                  forged + R"("}})"})
              .exit_code == 2);  // ESC is a control character a text may not hold
  const std::string text = "note\\n2026-03-04 10:00  staff-12   deal.won   deal deal-9 WON\\r\\t\u202eevil";
  REQUIRE(company
              .Cli({"append", R"({"id":"5e1d7e90-8a2b-4f3c-b6d1-0e9f8a7b6c32","stream":"customer-1001","type":"note.added",)"
                              R"("actor":"staff-7","occurred_at":"2026-03-04T10:00:00Z","data":{"text":")" +
                                  text + R"("}})"})
              .exit_code == 0);
  CliResult timeline = company.Cli({"customer", "timeline", "1001"});
  REQUIRE(timeline.exit_code == 0);
  CHECK(timeline.out.find("\n2026-03-04 10:00  staff-12") == std::string::npos);  // no forged line
  CHECK(timeline.out.find('\r') == std::string::npos);
  CHECK(timeline.out.find("\u202e") == std::string::npos);
  CHECK_THAT(timeline.out, Catch::Contains("note: note\\n2026-03-04 10:00  staff-12   deal.won   deal deal-9 WON\\r\\t\\u202eevil"));
  CliResult read = company.Cli({"read", "customer-1001", "--backwards", "--limit", "1"});
  CHECK(read.out.find('\r') == std::string::npos);
  CHECK(Lines(read.out) == 2);  // the header and the event
}

TEST_CASE("The Markdown briefing shows markup in event data as text", "[cli][input]") {
  SampleCompany company;  // handover ho-1 gave customer-1001 to staff-7
  REQUIRE(company
              .Cli({"append", R"({"id":"5e1d7e90-8a2b-4f3c-b6d1-0e9f8a7b6c41","stream":"customer-1001",)"
                              R"("type":"customer.updated","actor":"staff-7","occurred_at":"2026-03-05T10:00:00Z",)"
                              R"("data":{"name":"<script>alert(1)</script> *Hartmann*"}})"})
              .exit_code == 0);
  REQUIRE(company
              .Cli({"append", R"({"id":"5e1d7e90-8a2b-4f3c-b6d1-0e9f8a7b6c42","stream":"customer-1001",)"
                              R"("type":"interaction.logged","actor":"staff-7","occurred_at":"2026-03-05T11:00:00Z",)"
                              R"("data":{"channel":"call","direction":"outbound","summary":"see [x](javascript:alert(1))\n# Heading"}})"})
              .exit_code == 0);
  CliResult md = company.Cli({"handover", "report", "ho-1"});
  REQUIRE(md.exit_code == 0);
  CHECK_THAT(md.out, !Catch::Contains("<script>"));
  CHECK_THAT(md.out, !Catch::Contains("[x](javascript"));
  CHECK_THAT(md.out, !Catch::Contains("\n# Heading"));
  CHECK_THAT(md.out, Catch::Contains(R"(## \<script\>alert(1)\</script\> \*Hartmann\* (customer-1001))"));
  CHECK_THAT(md.out, Catch::Contains(R"(see \[x\](javascript:alert(1))\\n# Heading)"));
}

TEST_CASE("Staff and customer ids are taken in any case of their category, and a bad one is named", "[cli][input]") {
  SampleCompany company;
  company.reader = "";
  CliResult upper = company.Cli({"--as", "STAFF-3", "customer", "show", "Customer-1001", "--json"});
  INFO(upper.err);
  CHECK(upper.exit_code == 0);
  CHECK_THAT(upper.out, Catch::Contains(R"("id":"customer-1001")"));
  CHECK_THAT(company.Cli({"--as", "Staff-3", "read", "access-staff-3", "--backwards", "--limit", "1", "--json"}).out,
             Catch::Contains(R"("actor":"staff-3")"));
  CliResult bad = company.Cli({"--as", "staff-", "customer", "show", "1001"});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Catch::Contains("--as: \"staff-\" is not a staff id; expected e.g. 7 or staff-7"));
  CliResult nobody = company.Cli({"--as", "3 4", "customer", "show", "1001"});
  CHECK(nobody.exit_code == 1);
  CHECK_THAT(nobody.err, Catch::Contains("is not a staff id"));
}

TEST_CASE("A customer whose stored state does not decode is named with the cure, and rebuild heals it", "[cli][input]") {
  SampleCompany company;
  REQUIRE(company.Cli({"customer", "show", "1001"}).exit_code == 0);  // folds the projections
  const std::string good = company.Cli({"customer", "show", "1001", "--json"}).out;
  {
    // What the fold of two huge orders once stored, before amounts were exact.
    testing::RawStore raw(company.dir);
    raw.Put(keys::kProjectionsFamily, keys::ProjectionKey("customer", "customer-1001"),
            R"({"id":"customer-1001","order_value":{"EUR":Infinity}})");
  }
  CliResult broken = company.Cli({"customer", "show", "1001"});
  CHECK(broken.exit_code == 4);
  CHECK_THAT(broken.err, Catch::Contains("customer-1001 (customer projection, at position "));
  CHECK_THAT(broken.err, Catch::Contains("`custodian rebuild customer` folds it again from the log"));
  CliResult rebuilt = company.Cli({"rebuild", "customer"});
  INFO(rebuilt.err);
  CHECK(rebuilt.exit_code == 0);
  CliResult healed = company.Cli({"customer", "show", "1001", "--json"});
  CHECK(healed.exit_code == 0);
  CHECK(healed.out == good);
}

}  // namespace
}  // namespace custodian
