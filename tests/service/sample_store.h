// The sample company (docs/examples/sample-events.jsonl) in a real store,
// opened as the command line and the server open it (service/store.h), for
// tests that call service functions directly: staff-3 manages team north
// (staff-7, and staff-12, who left holding request req-9001 after handover
// ho-1 gave customer-1001 and customer-1003 to staff-7); staff-7 owns four
// customers.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/time.h"
#include "service/import.h"
#include "service/store.h"
#include "storage/event_log.h"
#include "tests/test_util.h"

namespace custodian::testing {

struct SampleStore {
  TempDir tmp;
  StoreOptions options;
  std::unique_ptr<EventLog> log;
  const Timestamp now = SystemClock().Now();

  SampleStore() {
    options.data_dir = tmp.Sub("store");
    Result<std::unique_ptr<EventLog>> r =
        OpenStore(options, EventLogOptions::Mode::kReadWrite, CreateIfMissing::kYes, "test.example/custodian");
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    log = std::move(*r);
    Result<ImportReport> imported =
        ImportJsonLines(*log, std::string(CUSTODIAN_SOURCE_DIR) + "/docs/examples/sample-events.jsonl", {});
    INFO(imported.status().ToString());
    REQUIRE(imported.ok());
  }

  // A caller as the server would name one.
  Caller As(const std::string& staff) const { return Caller{staff, "api", options.data_dir}; }

  std::vector<Event> Stream(const std::string& stream) const {
    Result<std::vector<Event>> events = log->ReadStream(stream, StreamVersion(0), Direction::kForward, SIZE_MAX);
    INFO(events.status().ToString());
    REQUIRE(events.ok());
    return *events;
  }

  // Appends one event (now) and returns its position.
  uint64_t Add(const std::string& stream, const std::string& type, const std::string& actor, const std::string& data,
               const std::string& personal = "") {
    Event e;
    e.id = RandomId();
    e.stream = stream;
    e.type = type;
    e.actor = actor;
    e.occurred_at = now;
    e.data = data;
    e.personal_plain = personal;
    Result<AppendResult> r = log->Append(stream, {e}, ExpectedVersion::Any());
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return r->positions.front().value();
  }
};

}  // namespace custodian::testing
