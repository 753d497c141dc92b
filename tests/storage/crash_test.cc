// kill -9 in the middle of appends (after LevelDB's recovery_test.cc): every
// event the log acknowledged before the kill is there after reopening, intact,
// at its position, and positions and stream versions stay dense.
#include "storage/event_log.h"
// The header under test comes first, to prove it is self-contained.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/storage/event_log_test_util.h"
#include "tests/test_util.h"

namespace custodian {
namespace {

// One line of crash_appender's output: an acknowledged event.
struct Ack {
  uint64_t position = 0;
  std::string id;
  std::string stream;
  uint64_t version = 0;
  std::string data;
};

bool ParseAck(const std::string& line, Ack* ack) {
  std::istringstream in(line);
  return static_cast<bool>(in >> ack->position >> ack->id >> ack->stream >> ack->version >> ack->data);
}

// Runs crash_appender on `dir`, kills it with SIGKILL after `delay`, and
// returns every complete line it printed. Fails the test if the child ended
// on its own.
std::vector<std::string> RunAndKill(const std::string& dir, const std::string& tag, std::chrono::milliseconds delay) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execl(CUSTODIAN_CRASH_APPENDER, CUSTODIAN_CRASH_APPENDER, dir.c_str(), tag.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);

  std::string buffer;
  char chunk[65536];
  auto drain = [&] {
    while (true) {
      ssize_t n = ::read(fds[0], chunk, sizeof chunk);
      if (n > 0) {
        buffer.append(chunk, static_cast<size_t>(n));
        continue;
      }
      return n == 0;  // true at end of file
    }
  };
  const auto kill_at = std::chrono::steady_clock::now() + delay;
  bool eof = false;
  while (!eof) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= kill_at) break;
    pollfd p{fds[0], POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(kill_at - now).count()) + 1);
    eof = drain();
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  // The pipe's writer is gone: read what is left up to end of file.
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) & ~O_NONBLOCK);
  while (!drain()) {
  }
  ::close(fds[0]);
  INFO("crash_appender exited on its own (status " << status << ") instead of being killed");
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);

  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(buffer.substr(start, nl - start));
  }
  return lines;  // a torn last line (no newline) is dropped
}

TEST_CASE("Events acknowledged before a kill -9 survive it intact, and the log stays dense across crashes", "[crash]") {
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("store");
  constexpr int kRounds = 5;
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(50, 500);
  std::map<uint64_t, Ack> acked;  // by position, over all rounds
  std::set<std::string> acked_ids;

  for (int round = 0; round < kRounds; ++round) {
    const auto delay = std::chrono::milliseconds(delay_ms(rng));
    INFO("round " << round << ", killed after " << delay.count() << " ms");
    const std::vector<std::string> lines = RunAndKill(dir, "round" + std::to_string(round), delay);
    for (const std::string& line : lines) {
      Ack ack;
      INFO("line: " << line);
      REQUIRE(ParseAck(line, &ack));
      REQUIRE(acked.count(ack.position) == 0);   // no position acknowledged twice
      REQUIRE(acked_ids.insert(ack.id).second);  // no id acknowledged twice
      acked[ack.position] = ack;
    }

    // Reopen in this process, as a restart after the crash would.
    EventLogOptions options;
    Result<std::unique_ptr<EventLog>> opened = EventLog::Open(dir, options);
    if (!opened.ok() && lines.empty() && round == 0) continue;  // killed before it made the store
    INFO(opened.status().ToString());
    REQUIRE(opened.ok());
    EventLog& log = **opened;

    std::vector<Event> all;
    Status scan = log.ScanAll(Position(0), [&](const Event& e) {
      all.push_back(e);
      return true;
    });
    INFO(scan.ToString());
    REQUIRE(scan.ok());
    REQUIRE(log.end() == Position(all.size()));
    size_t misplaced = 0;
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i].position != Position(i)) ++misplaced;
    }
    CHECK(misplaced == 0);

    // Every acknowledged event, of this round and all before, is there as acknowledged.
    size_t lost = 0, changed = 0;
    for (const auto& [position, ack] : acked) {
      if (position >= all.size()) {
        ++lost;
        continue;
      }
      const Event& e = all[position];
      if (e.id.ToString() != ack.id || e.stream != ack.stream || e.version.value() != ack.version ||
          e.data != ack.data) {
        ++changed;
      }
    }
    CHECK(lost == 0);
    CHECK(changed == 0);

    // Stream versions are dense and the stream index agrees with the log.
    std::map<std::string, std::vector<uint64_t>> positions_by_stream;
    for (const Event& e : all) positions_by_stream[e.stream].push_back(e.position.value());
    for (const auto& [stream, positions] : positions_by_stream) {
      std::vector<Event> events = testing::ReadWholeStream(log, stream);
      INFO("stream " << stream);
      REQUIRE(events.size() == positions.size());
      for (size_t v = 0; v < events.size(); ++v) {
        CHECK(events[v].version == StreamVersion(v));
        CHECK(events[v].position == Position(positions[v]));
      }
    }
    Result<LogStats> stats = log.Stats();
    REQUIRE(stats.ok());
    CHECK(stats->stream_count == positions_by_stream.size());

    // The id index lost nothing it held in memory: every acknowledged id is
    // known, a retried event gets its original position, and the store verifies.
    size_t unknown = 0;
    for (const auto& [position, ack] : acked) {
      Result<EventId> id = EventId::Parse(ack.id);
      REQUIRE(id.ok());
      Result<bool> has = log.Contains(*id);
      REQUIRE(has.ok());
      if (!*has) ++unknown;
    }
    CHECK(unknown == 0);
    if (!acked.empty()) {
      for (uint64_t p : {acked.begin()->first, acked.rbegin()->first}) {
        Event again = all[p];
        Result<AppendResult> r = log.Append(again.stream, {again});
        INFO("retry of position " << p << ": " << r.status().ToString());
        REQUIRE(r.ok());
        CHECK(r->written == 0);
        CHECK(r->positions == std::vector<Position>{Position(p)});
      }
    }
    Result<VerifyReport> report = log.Verify();
    REQUIRE(report.ok());
    INFO(report->problem);
    CHECK(report->ok);
  }
  INFO("acknowledged events over all rounds: " << acked.size());
  CHECK(acked.size() > 0);  // the child got to append at all, so the checks above meant something
}

}  // namespace
}  // namespace custodian
