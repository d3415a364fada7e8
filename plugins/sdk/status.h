// Status and Result<T> for plugins: errors as values, without the agent's headers.
//
// The plugin SDK builds on its own (a plugin may be built against any LibTorch, outside this
// repository's agent build), so it carries its own small copy of the agent's error types. A
// Status is ok or holds one human-readable message; a verdict on the bundle is not a Status but
// a PluginResult (result.h). Nothing here throws.
//
// Thread safety: values; safe to copy and move between threads.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace bg::sdk {

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }
  // Prefixes the message ("reading X: <message>"); an ok Status stays ok.
  Status WithContext(const std::string& context) const {
    return ok() ? *this : Status(context + ": " + message_);
  }

 private:
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

// Either a value or a failed Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
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

}  // namespace bg::sdk

// Returns early from a function returning Status or Result<T> when `expr` failed.
#define BG_SDK_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::bg::sdk::Status bg_sdk_status_ = (expr);       \
    if (!bg_sdk_status_.ok()) return bg_sdk_status_; \
  } while (0)

#define BG_SDK_CONCAT_INNER(a, b) a##b
#define BG_SDK_CONCAT(a, b) BG_SDK_CONCAT_INNER(a, b)
#define BG_SDK_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
// `BG_SDK_ASSIGN_OR_RETURN(auto x, MakeX());`
#define BG_SDK_ASSIGN_OR_RETURN(lhs, expr) \
  BG_SDK_ASSIGN_OR_RETURN_IMPL(BG_SDK_CONCAT(bg_sdk_result_, __LINE__), lhs, expr)
