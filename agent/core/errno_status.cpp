#include "agent/core/errno_status.h"

#include <cerrno>
#include <charconv>
#include <cstring>

namespace bg {

Status ErrnoStatus(std::string_view what, std::string_view path, int err) {
  std::string message(what);
  if (!path.empty()) {
    message += ' ';
    message += path;
  }
  message += ": ";
  message += std::strerror(err);
  return Status::SystemError(err, std::move(message));
}

Status ErrnoStatus(std::string_view what, std::string_view path) {
  return ErrnoStatus(what, path, errno);
}

std::string ErrnoName(int err) {
  const char* name = err > 0 ? ::strerrorname_np(err) : nullptr;
  return name != nullptr ? std::string(name) : std::to_string(err);
}

std::optional<int> ParseErrno(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (value > 0) return value;
    return std::nullopt;
  }
  for (int err = 1; err < 4096; ++err) {
    const char* name = ::strerrorname_np(err);
    if (name != nullptr && text == name) return err;
  }
  return std::nullopt;
}

}  // namespace bg
