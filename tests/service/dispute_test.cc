#include "service/dispute.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/bundle.h"
#include "service/evidence.h"
#include "tests/service/customer_store.h"

namespace custodian {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using testing::CustomerStore;
using testing::Text;

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

mode_t ModeOf(const fs::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

TEST_CASE("a dispute folder holds the customer at the time on both clocks, who was responsible, the timeline with "
          "its retraction, the custody chain and evidence that verifies with only the published key",
          "[dispute]") {
  CustomerStore s;
  const std::string dir = s.tmp.Sub("dispute");
  // Day -30: after the handover to staff-8 (day -40) and the order (occurred day -45,
  // recorded day -20), with request req-1 assigned to staff-8 (day -60).
  const Timestamp at = s.DaysAgo(30);
  Result<DisputeResult> r = MakeDispute(*s.log, s.As("staff-7"), DisputeRequest{"customer-42", at, dir}, s.now);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->complete);
  CHECK(r->events == 9);
  CHECK_THAT(r->completeness, Catch::StartsWith("complete: the signed stream map shows customer-42 has 9 events"));
  std::vector<std::string> names;
  for (const DisputeFile& f : r->files) {
    names.push_back(f.name);
    CHECK(f.bytes == fs::file_size(fs::path(dir) / f.name));
    CHECK(ModeOf(fs::path(dir) / f.name) == 0600);
  }
  CHECK(names == std::vector<std::string>{"README.md", "customer-as-known.json", "customer-as-happened.json",
                                          "responsibilities.json", "timeline.txt", "timeline.jsonl", "custody.jsonl",
                                          "evidence.json", "verifier.vkey"});
  CHECK(ModeOf(dir) == 0700);

  // As known at T the late order is not there; as it had happened, it is, and is pointed out.
  const json::object known = json::parse(Slurp(fs::path(dir) / "customer-as-known.json")).as_object();
  const json::object happened = json::parse(Slurp(fs::path(dir) / "customer-as-happened.json")).as_object();
  CHECK(Text(known, "by") == "knowledge");
  CHECK(Text(happened, "by") == "business");
  CHECK(known.at("customer").as_object().at("orders").to_number<uint64_t>() == 0);
  CHECK(happened.at("customer").as_object().at("orders").to_number<uint64_t>() == 1);
  CHECK(happened.at("not_known_then_positions").as_array() == json::array{s.order.value()});

  // Responsible at T: staff-8 owned it and held req-1.
  const json::object resp = json::parse(Slurp(fs::path(dir) / "responsibilities.json")).as_object();
  for (const char* clock : {"as_known", "as_happened"}) {
    INFO(clock);
    const json::object& o = resp.at(clock).as_object();
    CHECK(Text(o, "owner") == "staff-8");
    REQUIRE(o.at("open_requests").as_array().size() == 1);
    const json::object& req = o.at("open_requests").as_array()[0].as_object();
    CHECK(Text(req, "request") == "req-1");
    CHECK(Text(req, "assignee") == "staff-8");
  }

  // The timeline shows the retraction beside the note, and the contact's name (opened for staff-7).
  const std::string timeline = Slurp(fs::path(dir) / "timeline.txt");
  CHECK_THAT(timeline, Catch::Contains("^ retracted by staff-7 at position " + std::to_string(s.retraction.value())));
  CHECK_THAT(timeline, Catch::Contains("Ana Lima"));
  CHECK_THAT(Slurp(fs::path(dir) / "custody.jsonl"), Catch::Contains("\"handover_id\":\"ho-1\""));
  const std::string readme = Slurp(fs::path(dir) / "README.md");
  CHECK_THAT(readme, Catch::Contains("custodian verify-bundle evidence.json --key '<the published key>'"));
  CHECK_THAT(readme, Catch::Contains(r->completeness));

  // Every read it made was recorded for staff-7.
  std::vector<std::string> views;
  for (const json::object& read : s.Reads("staff-7")) {
    views.push_back(Text(read, "view").empty() ? Text(read, "format") : Text(read, "view"));
  }
  CHECK(views == std::vector<std::string>{"timeline", "customer_as_of", "customer_as_of_business", "custody", "bundle"});

  // The evidence verifies with only the verifier key, the store gone.
  const note::VerifierKey key = *s.log->verifier();
  CHECK(Slurp(fs::path(dir) / "verifier.vkey") == key.ToString() + "\n");
  s.log.reset();
  fs::remove_all(s.tmp.Sub("store"));
  Result<BundleVerdict> v = VerifyBundleFile((fs::path(dir) / "evidence.json").string(), key);
  REQUIRE(v.ok());
  INFO(v->problem);
  CHECK(v->ok);
  CHECK(v->complete);
  CHECK(v->stream_events == 9);
}

TEST_CASE("an auditor's dispute folder keeps every person's fields sealed, and still verifies", "[dispute]") {
  CustomerStore s;
  s.Add("staff-5", "staff.joined", "system:hr-sync", 100, R"({"role":"auditor","team":"audit"})");
  s.clock.Set(s.now);
  const std::string dir = s.tmp.Sub("dispute");
  Caller auditor = s.As("staff-5");
  auditor.personal = PersonalData::kSealed;  // as the server's auditor tokens read (server/api.cc)
  Result<DisputeResult> r = MakeDispute(*s.log, auditor, DisputeRequest{"customer-42", s.DaysAgo(30), dir}, s.now);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->complete);
  // Ana Lima's name and e-mail are in no file; her part is shown sealed for her.
  for (const DisputeFile& f : r->files) {
    INFO(f.name);
    const std::string text = Slurp(fs::path(dir) / f.name);
    CHECK(text.find("Ana Lima") == std::string::npos);
    CHECK(text.find("ana@example.com") == std::string::npos);
  }
  CHECK_THAT(Slurp(fs::path(dir) / "timeline.jsonl"), Catch::Contains("\"sealed_for\":\"customer-42/contact-c-1\""));
  // The same folder for a rep opens them: the check above can see a name when there is one.
  const std::string rep_dir = s.tmp.Sub("dispute-rep");
  REQUIRE(MakeDispute(*s.log, s.As("staff-7"), DisputeRequest{"customer-42", s.DaysAgo(30), rep_dir}, s.now).ok());
  CHECK_THAT(Slurp(fs::path(rep_dir) / "timeline.txt"), Catch::Contains("Ana Lima"));
  // The auditor's evidence verifies with only the published key.
  Result<BundleVerdict> v = VerifyBundleFile((fs::path(dir) / "evidence.json").string(), *s.log->verifier());
  REQUIRE(v.ok());
  CHECK(v->ok);
  CHECK(v->complete);
}

TEST_CASE("a dispute is refused into a folder that holds something, and for a customer with no events", "[dispute]") {
  CustomerStore s;
  const std::string dir = s.tmp.Sub("busy");
  fs::create_directories(dir);
  std::ofstream(fs::path(dir) / "notes.txt") << "mine";
  Result<DisputeResult> busy = MakeDispute(*s.log, s.As("staff-7"), DisputeRequest{"customer-42", s.now, dir}, s.now);
  REQUIRE_FALSE(busy.ok());
  CHECK(busy.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(busy.status().message(), Catch::Contains("is not an empty folder"));
  CHECK(Slurp(fs::path(dir) / "notes.txt") == "mine");

  const std::string none = s.tmp.Sub("none");
  Result<DisputeResult> unknown =
      MakeDispute(*s.log, s.As("staff-7"), DisputeRequest{"customer-404", s.now, none}, s.now);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == StatusCode::kNotFound);
  CHECK_FALSE(fs::exists(none));
}

}  // namespace
}  // namespace custodian
