// The child process of personal_test.cc: opens the store at DIR read-write
// with the master key MASTER, rotates the master key (EventLog::RotateMasterKey)
// and kills itself with SIGKILL when the rotation reaches STEP, one of the
// names it passes to its pause callback ("new key written", "keys wrapped
// under both", "new key in force"). So the parent sees the store and the key
// directory exactly as a crash at that step leaves them.
//
// Usage: rotation_child DIR MASTER STEP
// Exits 0 when the rotation finished without reaching STEP, 1 on an error
// (printed to stderr), 2 on bad usage.
#include <signal.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "storage/event_log.h"

int main(int argc, char** argv) {
  using namespace custodian;
  if (argc != 4) {
    std::fprintf(stderr, "usage: rotation_child DIR MASTER STEP\n");
    return 2;
  }
  const std::string_view kill_at = argv[3];
  EventLogOptions options;
  options.master_key_file = argv[2];
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(argv[1], options);
  if (!log.ok()) {
    std::fprintf(stderr, "rotation_child: %s\n", log.status().ToString().c_str());
    return 1;
  }
  if (Status s = (*log)->PersonalStatus(); !s.ok()) {
    std::fprintf(stderr, "rotation_child: %s\n", s.ToString().c_str());
    return 1;
  }
  Result<size_t> rotated = (*log)->RotateMasterKey([&](std::string_view step) {
    if (step == kill_at) ::raise(SIGKILL);
  });
  if (!rotated.ok()) {
    std::fprintf(stderr, "rotation_child: %s\n", rotated.status().ToString().c_str());
    return 1;
  }
  return 0;
}
