// Status and Result<T>: errors as values.
//
// A Status is either ok or carries a human-readable message and, when the error is a verdict on
// a bundle, a Reason (the machine-readable code of SPEC.md). Plain operational errors (I/O,
// configuration, usage) carry Reason::kNone, and the errno of the system call that failed when
// there was one. Nothing here throws; adapters that talk to throwing libraries (toml++,
// std::filesystem, LibTorch) convert at their boundary.
//
// The two kinds never mix: a verdict (IsVerdict) says what a bundle *is*; an operational error
// says what the agent could not do (a full disk, an I/O error, no file descriptors left, a
// permission it lacks). On a bundle's way through the gate an operational error never becomes
// a verdict: the bundle is held and tried again (checks/check_result.h: Verdict::kHeld).
//
// Thread safety: values; safe to copy and move between threads.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include "agent/core/reason.h"

namespace bg {

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  static Status Ok() { return Status(); }
  // An operational error: the operation could not be carried out.
  static Status Error(std::string message) { return Status(Reason::kNone, std::move(message)); }
  // An operational error from a system call that failed with `err` (see errno_status.h).
  static Status SystemError(int err, std::string message) {
    Status s(Reason::kNone, std::move(message));
    s.errno_ = err;
    return s;
  }
  // A verdict on a bundle: `reason` is one of SPEC.md's codes.
  static Status Reject(Reason reason, std::string message) {
    return Status(reason, std::move(message));
  }

  bool ok() const { return !failed_; }
  Reason reason() const { return reason_; }
  // A verdict on a bundle (a Reason), as opposed to an operational error.
  bool IsVerdict() const { return failed_ && reason_ != Reason::kNone; }
  // The errno of the failed system call behind an operational error; 0 when none is known.
  int error_number() const { return errno_; }
  const std::string& message() const { return message_; }
  // "reason-code: message", or the message alone for operational errors.
  std::string ToString() const;

  // Prefixes the message with context ("reading X: <message>"); keeps the reason.
  Status WithContext(const std::string& context) const;

 private:
  Status(Reason reason, std::string message)
      : failed_(true), reason_(reason), message_(std::move(message)) {}
  bool failed_ = false;
  Reason reason_ = Reason::kNone;
  int errno_ = 0;
  std::string message_;
};

// Either a value or a failed Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result from an ok Status has no value");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace bg

// Returns early from a function returning Status or Result<T> when `expr` failed.
#define BG_RETURN_IF_ERROR(expr)            \
  do {                                      \
    ::bg::Status bg_status_ = (expr);       \
    if (!bg_status_.ok()) return bg_status_; \
  } while (0)

#define BG_CONCAT_INNER(a, b) a##b
#define BG_CONCAT(a, b) BG_CONCAT_INNER(a, b)
#define BG_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
// `BG_ASSIGN_OR_RETURN(auto x, MakeX());`
#define BG_ASSIGN_OR_RETURN(lhs, expr) \
  BG_ASSIGN_OR_RETURN_IMPL(BG_CONCAT(bg_result_, __LINE__), lhs, expr)
