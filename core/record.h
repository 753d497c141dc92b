// The stored record of an event: the value in the `events` column family
// (docs/event-format.md, "Record"). Encoded with cereal's portable binary
// archive and versioned with CEREAL_CLASS_VERSION; cereal stays in record.cc.
//
// Old records must always decode: tests/golden/ holds version-1 records that
// are never edited, and tests/core/record_test.cc decodes them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/event.h"
#include "core/status.h"

namespace custodian {

// The newest version: new records with a recorded_by are written with it;
// those without one keep version 1's bytes.
constexpr uint32_t kRecordVersion = 2;

// Every field of the event, including position, version and recorded_at.
std::string EncodeRecord(const Event& e);

// Sets position, version and recorded_at in a record EncodeRecord made: they
// sit at fixed offsets (5, 13, 21, little-endian; docs/event-format.md), so a
// writer can encode a record before it knows them.
void SetRecordLogFields(std::string* record, Position position, StreamVersion version, Timestamp recorded_at);

// The position, stream version and stream name of a record, read from their
// fixed places without decoding the rest (for scans that need only those).
// False when the record is too short or not of version 1 or 2.
bool PeekRecordStream(std::string_view record, Position* position, StreamVersion* version, std::string_view* stream);

// Decodes any version up to kRecordVersion into *out. Corruption when the
// bytes are truncated or malformed; Unsupported when written by a newer format.
Status DecodeRecord(std::string_view bytes, Event* out);

}  // namespace custodian
