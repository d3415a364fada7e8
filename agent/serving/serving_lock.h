// Locks in the root that serialize the agent and the CLI (flock(2), released by the kernel when
// the holder dies, so a kill -9 never leaves a stale lock):
//   <root>/agent.lock    held by the running agent for its whole life (one agent per root); its
//                        content is the agent's pid, for `bundlegate status`
//   <root>/serving.lock  held briefly around every change to serving/ (promotion, retention,
//                        rollback), by the agent and by `bundlegate rollback` alike
#pragma once

#include <string>

#include "agent/core/status.h"
#include "agent/core/unique_fd.h"

namespace bg {

class FileLock {
 public:
  // Blocks until the exclusive lock on `path` (created if absent) is held.
  static Result<FileLock> Acquire(const std::string& path);
  // Fails at once, with "held by another process", when the lock is held.
  static Result<FileLock> TryAcquire(const std::string& path);
  // Whether some process holds the lock on `path` now (false when the file is absent).
  static bool IsHeld(const std::string& path);

  int fd() const { return fd_.get(); }

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

std::string AgentLockPath(const std::string& root);
std::string ServingLockPath(const std::string& root);

}  // namespace bg
