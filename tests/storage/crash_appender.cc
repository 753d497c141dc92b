// The child process of crash_test.cc: appends to the store at argv[1] from
// several threads until it is killed, and prints one line per acknowledged
// event to stdout:
//
//   <position> <event id> <stream> <version> <data>
//
// Each line goes out in one write(2) to fd 1, after the append that carried
// it returned success, so every complete line the parent reads names an event
// the log has promised to keep. `data` is a JSON object without spaces.
//
// Usage: crash_appender DIR [TAG]   (TAG goes into every event's data)
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/time.h"
#include "storage/event_log.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

constexpr int kThreads = 4;
constexpr int kStreams = 6;

// Writes all of `line` to stdout in one call; a pipe keeps such writes whole.
bool WriteLine(const std::string& line) {
  ssize_t n;
  do {
    n = ::write(STDOUT_FILENO, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(line.size());
}

bool Report(const std::vector<Event>& events, const AppendResult& result) {
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    std::string line = std::to_string(result.positions[i].value()) + " " + e.id.ToString() + " " + e.stream + " " +
                       std::to_string(result.versions[i].value()) + " " + e.data + "\n";
    if (!WriteLine(line)) return false;
  }
  return true;
}

Event NewEvent(const std::string& stream, const std::string& tag, int thread, uint64_t seq) {
  Event e = testing::MakeEvent(
      stream, "note.added",
      R"({"text":"crash-test","tag":")" + tag + R"(","thread":)" + std::to_string(thread) + R"(,"seq":)" +
          std::to_string(seq) + "}");  // no spaces: crash_test reads the data as one word
  e.occurred_at = SystemClock().Now();
  return e;
}

std::string StreamName(int n) { return "customer-" + std::to_string(n); }

void AppendForever(EventLog& log, const std::string& tag, int thread, std::atomic<bool>& failed) {
  std::mt19937 rng(static_cast<uint32_t>(std::random_device{}()) + static_cast<uint32_t>(thread));
  uint64_t seq = 0;
  while (!failed.load()) {
    const int shape = static_cast<int>(rng() % 10);
    if (shape < 7) {
      // One stream, one to three events.
      const std::string stream = StreamName(static_cast<int>(rng() % kStreams));
      std::vector<Event> events;
      const int n = 1 + static_cast<int>(rng() % 3);
      for (int i = 0; i < n; ++i) events.push_back(NewEvent(stream, tag, thread, seq++));
      Result<AppendResult> r = log.Append(stream, events);
      if (!r.ok()) {
        std::fprintf(stderr, "crash_appender: append failed: %s\n", r.status().ToString().c_str());
        failed.store(true);
        return;
      }
      if (!Report(events, *r)) failed.store(true);
    } else {
      // Two streams in one atomic batch.
      const int a = static_cast<int>(rng() % kStreams);
      const int b = (a + 1 + static_cast<int>(rng() % (kStreams - 1))) % kStreams;
      std::vector<AppendRequest> requests(2);
      requests[0].stream = StreamName(a);
      requests[0].events = {NewEvent(StreamName(a), tag, thread, seq++)};
      requests[1].stream = StreamName(b);
      requests[1].events = {NewEvent(StreamName(b), tag, thread, seq++), NewEvent(StreamName(b), tag, thread, seq++)};
      std::vector<std::vector<Event>> sent = {requests[0].events, requests[1].events};
      Result<std::vector<AppendResult>> r = log.AppendBatch(std::move(requests));
      if (!r.ok()) {
        std::fprintf(stderr, "crash_appender: batch failed: %s\n", r.status().ToString().c_str());
        failed.store(true);
        return;
      }
      if (!Report(sent[0], (*r)[0]) || !Report(sent[1], (*r)[1])) failed.store(true);
    }
  }
}

int Run(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: crash_appender DIR [TAG]\n");
    return 2;
  }
  const std::string tag = argc > 2 ? argv[2] : "run";
  EventLogOptions options;
  options.create = CreateIfMissing::kYes;
  options.id_spill_at = 97;  // the id index spills many times before the kill
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(argv[1], options);
  if (!log.ok()) {
    std::fprintf(stderr, "crash_appender: %s\n", log.status().ToString().c_str());
    return 1;
  }
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { AppendForever(**log, tag, t, failed); });
  }
  for (auto& t : threads) t.join();
  return 1;  // only reached when something failed: the parent kills us otherwise
}

}  // namespace
}  // namespace custodian

int main(int argc, char** argv) { return custodian::Run(argc, argv); }
