#include "agent/core/errno_status.h"

#include <cerrno>
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
  return Status::Error(std::move(message));
}

Status ErrnoStatus(std::string_view what, std::string_view path) {
  return ErrnoStatus(what, path, errno);
}

}  // namespace bg
