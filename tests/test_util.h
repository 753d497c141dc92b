// Helpers shared by the tests: temporary directories, fixed clocks, events.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "core/event.h"
#include "core/time.h"
#include "core/types.h"

namespace custodian::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base ? base : "/tmp") + "/custodian-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A clock that only moves when told to.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(Timestamp t) : now_(t.value()) {}
  Timestamp Now() override { return Timestamp(now_.load()); }
  void Set(Timestamp t) { now_.store(t.value()); }
  void Advance(int64_t micros) { now_.fetch_add(micros); }

 private:
  std::atomic<int64_t> now_;
};

// A random version-4 UUID.
// Runs `work` in a child process that may map at most `headroom` bytes more
// than this process has mapped now; true when the child returned true. An
// allocation past the headroom ends the child (std::bad_alloc, then abort),
// so a test can tell work that allocates by a claim from work that does not.
template <typename Work>
bool WithinMemory(size_t headroom, Work work) {
  long pages = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld", &pages) != 1) pages = 0;
    std::fclose(f);
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    const rlim_t limit = static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) + headroom;
    const struct rlimit l{limit, limit};
    ::setrlimit(RLIMIT_AS, &l);
    ::_exit(work() ? 0 : 1);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

inline EventId RandomId() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  std::array<uint8_t, 16> b;
  uint64_t a = rng(), c = rng();
  for (int i = 0; i < 8; ++i) {
    b[static_cast<size_t>(i)] = static_cast<uint8_t>(a >> (8 * i));
    b[static_cast<size_t>(8 + i)] = static_cast<uint8_t>(c >> (8 * i));
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  return EventId(b);
}

// An event of `type` with payload `data` for `stream`, occurring at
// 2026-03-01T10:15:00Z.
inline Event MakeEvent(const std::string& stream, const std::string& type, const std::string& data) {
  Event e;
  e.id = RandomId();
  e.stream = stream;
  e.type = type;
  e.actor = "staff-7";
  e.occurred_at = Timestamp(1772360100LL * 1'000'000);
  e.source = "crm";
  e.data = data;
  return e;
}

// An event of `type` by `actor` for `stream`, occurring at
// 2026-01-10T00:00:00Z, with a plain personal part when one is given (the
// log seals it).
inline Event EventBy(const std::string& stream, const std::string& type, const std::string& actor,
                     const std::string& data, const std::string& personal = "") {
  Event e;
  e.id = RandomId();
  e.stream = stream;
  e.type = type;
  e.actor = actor;
  e.occurred_at = Timestamp(1768003200LL * 1'000'000);
  e.data = data;
  e.personal_plain = personal;
  return e;
}

// A valid event for `stream`, occurring at 2026-03-01T10:15:00Z: a note on a
// customer stream, otherwise a catalogue type that belongs on that kind of
// stream (docs/events.md). On a stream of no catalogue category it is a note,
// which validation refuses.
inline Event MakeEvent(const std::string& stream) {
  if (stream.starts_with("staff-")) return MakeEvent(stream, "staff.role_changed", R"({"role":"account_manager"})");
  if (stream.starts_with("access-")) {
    return MakeEvent(stream, "data.viewed", R"({"customers":["customer-42"],"view":"customer_profile"})");
  }
  if (stream == "alerts") {
    return MakeEvent(stream, "alert.raised", R"({"alert_id":"alert-1","rule":"mass_export","severity":"warning"})");
  }
  if (stream == "system") {
    return MakeEvent(stream, "handover.planned",
                     R"({"handover_id":"ho-1","from":"staff-12","assignments":[{"customer":"customer-42","to":"staff-7"}]})");
  }
  return MakeEvent(stream, "note.added", R"({"text":"called about the renewal"})");
}

}  // namespace custodian::testing
