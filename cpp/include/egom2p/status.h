// Status and Result: how every fallible call in the runtime reports failure (no exceptions
// cross the library boundary).
#pragma once

#include <string>
#include <utility>

namespace egom2p {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // a caller's value is wrong (shape, dtype, name, order)
  kNotFound,            // a file or tensor name does not exist
  kFailedPrecondition,  // a file exists but is not usable (corrupt, wrong version)
  kUnavailable,         // a backend or provider is not built or not installed here
  kInternal,            // a backend reported an error we did not expect
};

const char* StatusCodeName(StatusCode code);

// A status is either ok or a code with a message that names the file, field or value, what was
// expected, and what to do.
class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or an error status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT(runtime/explicit)
  Result(Status status) : status_(std::move(status)) {}  // NOLINT(runtime/explicit)

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() { return value_; }
  const T& value() const { return value_; }

 private:
  Status status_;
  T value_{};
};

}  // namespace egom2p
