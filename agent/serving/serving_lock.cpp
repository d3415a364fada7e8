#include "agent/serving/serving_lock.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>

#include "agent/core/errno_status.h"

namespace bg {
std::string AgentLockPath(const std::string& root) { return root + "/agent.lock"; }
std::string ServingLockPath(const std::string& root) { return root + "/serving.lock"; }

Result<FileLock> FileLock::Acquire(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640));
  if (!fd) return ErrnoStatus("open lock", path);
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return ErrnoStatus("lock", path);
  }
  return FileLock(std::move(fd));
}

Result<FileLock> FileLock::TryAcquire(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640));
  if (!fd) return ErrnoStatus("open lock", path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Status::Error(path + " is held by another process");
    return ErrnoStatus("lock", path);
  }
  return FileLock(std::move(fd));
}

bool FileLock::IsHeld(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) return false;
  return errno == EWOULDBLOCK;
}

}  // namespace bg
