// Status and Result<T>: the error model of core/, storage/ and replay/.
//
// Nothing in those layers throws across its public API. A function that can
// fail returns Status (no value) or Result<T> (a value or a Status). Both are
// [[nodiscard]]: an error cannot be dropped silently. Only server/ and tools/
// turn a Status into an HTTP code, a message or an exit code.
//
// A message carries evidence: what was wrong, where, and what was expected,
// e.g. "field 'stream': \"Customer 42\" is not a stream name; expected
// <category>-<id> such as customer-42".
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace custodian {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input: malformed, missing or out-of-range values
  kConflict,            // wrong expected version, same id with other content
  kNotFound,            // no such store, stream or event
  kFailedPrecondition,  // read-only or stopped log, no signing key, ...
  kUnsupported,         // written by a newer format, or not a Custodian store
  kIoError,             // the disk or RocksDB failed
  kCorruption,          // stored bytes do not decode or do not agree
  kRuleViolation,       // an event breaks a rule of the log's state (core/rules.h)
  kUnavailable,         // another process holds the store read-write: may succeed later
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status Conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
  static Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status RuleViolation(std::string m) { return {StatusCode::kRuleViolation, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "conflict: <message>", or "ok".
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>"; same code.
  Status WithContext(const std::string& prefix) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value of type T, or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "a Result needs a value or an error");
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Precondition: ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // Ok() when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace custodian

// Returns early from the enclosing function when `expr` is not ok.
#define CUSTODIAN_RETURN_IF_ERROR(expr)            \
  do {                                             \
    ::custodian::Status _st = (expr);              \
    if (!_st.ok()) return _st;                     \
  } while (0)
