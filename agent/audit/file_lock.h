// ExclusiveFileLock: an flock(2) LOCK_EX held on an open file, released on destruction.
//
// The audit log is appended by the agent and by CLI commands (rollback) in other processes;
// flock serializes them. flock locks belong to the open file description, so two threads sharing
// one descriptor do not exclude each other: AuditLog adds a mutex for that.
//
// Thread safety: a lock object belongs to one thread. The descriptor must outlive it.
#pragma once

#include <string>
#include <utility>

#include "agent/core/status.h"

namespace bg {

class ExclusiveFileLock {
 public:
  // Blocks until the lock is held (retrying EINTR).
  static Result<ExclusiveFileLock> Acquire(int fd, const std::string& path);

  ExclusiveFileLock(ExclusiveFileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ExclusiveFileLock& operator=(ExclusiveFileLock&& other) noexcept;
  ExclusiveFileLock(const ExclusiveFileLock&) = delete;
  ExclusiveFileLock& operator=(const ExclusiveFileLock&) = delete;
  ~ExclusiveFileLock() { Release(); }

  void Release();

 private:
  explicit ExclusiveFileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace bg
