#include "agent/audit/file_lock.h"

#include <sys/file.h>

#include <cerrno>

#include "agent/core/errno_status.h"

namespace bg {

Result<ExclusiveFileLock> ExclusiveFileLock::Acquire(int fd, const std::string& path) {
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) return ErrnoStatus("lock", path);
  }
  return ExclusiveFileLock(fd);
}

ExclusiveFileLock& ExclusiveFileLock::operator=(ExclusiveFileLock&& other) noexcept {
  if (this != &other) {
    Release();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void ExclusiveFileLock::Release() {
  if (fd_ >= 0) ::flock(fd_, LOCK_UN);
  fd_ = -1;
}

}  // namespace bg
