// Runs the real `custodian` binary for end-to-end tests (CUSTODIAN_CLI is its
// path, set by tests/CMakeLists.txt).
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "core/json.h"
#include "storage/event_log.h"
#include "tests/test_util.h"

namespace custodian::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  REQUIRE(out.good());
}

// Runs `custodian --data <data_dir> args...` (no --data when `data_dir` is
// empty) with `input` on standard input; collects exit code and output.
// Who runs the command: this process's user, or (for a directory that
// must not be writable even to root) the unprivileged user 65534 when this
// process is root.
enum class RunAs { kSelf, kUnprivileged };

inline CliResult RunCli(const TempDir& tmp, const std::string& data_dir, std::vector<std::string> args,
                        const std::string& input = "", RunAs run_as = RunAs::kSelf) {
  const std::string in_path = tmp.Sub("stdin"), out_path = tmp.Sub("stdout"), err_path = tmp.Sub("stderr");
  std::ofstream(in_path, std::ios::binary) << input;
  std::vector<std::string> argv_s = {CUSTODIAN_CLI};
  if (!data_dir.empty()) {
    argv_s.push_back("--data");
    argv_s.push_back(data_dir);
  }
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open(in_path.c_str(), O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (run_as == RunAs::kUnprivileged && ::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
      ::_exit(126);
    }
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = Slurp(out_path);
  r.err = Slurp(err_path);
  return r;
}

// The events of `stream` (of the whole log when empty), one JSON object a
// line as `custodian read --json` prints them (personal parts sealed), read
// straight from the store opened read-only: for tests that inspect what a
// command wrote without reading through the command line, which records
// reads of customer data and appends spooled ones.
inline std::string StoreLines(const std::string& dir, const std::string& stream = "") {
  EventLogOptions options;
  options.mode = EventLogOptions::Mode::kReadOnly;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(dir, options);
  INFO(log.status().ToString());
  REQUIRE(log.ok());
  Result<std::vector<Event>> events = stream.empty() ? (*log)->ReadAll(Position(0), SIZE_MAX)
                                                     : (*log)->ReadStream(stream, StreamVersion(0), Direction::kForward, SIZE_MAX);
  INFO(events.status().ToString());
  REQUIRE(events.ok());
  std::string lines;
  for (const Event& e : *events) lines += EventToJson(e, JsonFields::kWithLogFields) + "\n";
  return lines;
}

// A store holding the sample company (docs/examples/sample-events.jsonl).
struct SampleCompany {
  TempDir tmp;
  std::string dir = tmp.Sub("store");
  SampleCompany() {
    REQUIRE(RunCli(tmp, dir, {"init"}).exit_code == 0);
    REQUIRE(RunCli(tmp, dir, {"import", std::string(CUSTODIAN_SOURCE_DIR) + "/docs/examples/sample-events.jsonl"})
                .exit_code == 0);
  }
  // Who reads (--as): staff-3, the north team's sales manager. Commands that
  // show customer data record the read on access-staff-3.
  std::string reader = "staff-3";
  CliResult Cli(std::vector<std::string> args, const std::string& input = "") {
    if (!reader.empty()) args.insert(args.begin(), {"--as", reader});
    return RunCli(tmp, dir, std::move(args), input);
  }
};

// Personal data in the sample company: con-2001 of customer-1001 (owned by
// staff-7 since handover ho-1) becomes Petra Hartmann, managing director,
// with an e-mail and a phone, and staff-7's last call with her carries
// personal notes; staff-40 joins as the data-protection officer, who may
// erase. The people commands need the master key the first append makes.
inline constexpr char kPetraNotes[] = "asked us to call after 3pm, kids' school run";
inline void AddSamplePeople(SampleCompany& c) {
  for (const char* event : {
           R"({"id":"7b1c2d3e-4f50-4a61-8c7d-8e9f0a1b2c01","stream":"staff-40","type":"staff.joined","actor":"system:hr-sync","occurred_at":"2026-04-01T08:00:00Z","data":{"role":"data_protection_officer"}})",
           R"({"id":"7b1c2d3e-4f50-4a61-8c7d-8e9f0a1b2c02","stream":"customer-1001","type":"contact.updated","actor":"staff-7","occurred_at":"2026-04-01T09:00:00Z","data":{"contact_id":"con-2001","role":"managing director"},"personal":{"name":"Petra Hartmann","email":"p.hartmann@hartmann-logistik.de","phone":"+49 40 5550 1234"}})",
           R"({"id":"7b1c2d3e-4f50-4a61-8c7d-8e9f0a1b2c03","stream":"customer-1001","type":"interaction.logged","actor":"staff-7","occurred_at":"2026-04-02T15:30:00Z","data":{"channel":"call","direction":"outbound","contact_id":"con-2001"},"personal":{"notes":"asked us to call after 3pm, kids' school run"}})",
       }) {
    CliResult r = c.Cli({"append", event});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
}

// `text` without the lines that record reads (access-<staff> streams):
// for comparing what a command changed apart from recording that it read.
inline std::string WithoutAccess(const std::string& text) {
  std::string out, line;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    line = text.substr(at, end - at);
    if (line.find("\"access-staff-") == std::string::npos) out += line + "\n";
    at = end + 1;
  }
  return out;
}

}  // namespace custodian::testing
