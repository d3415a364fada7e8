// Env: the thin interface through which the agent changes the filesystem.
//
// Every step that matters to the crash-safety invariant of SPEC.md (write, fsync, syncfs,
// rename, symlink, unlink) goes through here, so that tests can fail a step (a full disk, a rename that
// is refused) with a subclass, and so that the kill -9 test hook lives in one place:
//
//   BUNDLEGATE_CRASH_AT=<step>[:<n>]   the n-th time (default 1st) the agent passes the named
//                                      crash point, it SIGKILLs itself. Inert unless set.
//
// Crash points are named "<component>.<step>", e.g. "promote.after-rename"; `grep CrashPoint`
// lists them all, and tests/integration/crash_test.cpp drives each one.
//
// Reading is not routed here: safe_walk opens bundles relative to directory descriptors itself.
//
// Thread safety: Env::Default() is safe to use from any thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "agent/core/status.h"
#include "agent/core/unique_fd.h"

namespace bg {

enum class RenameMode {
  kReplace,    // rename(2): atomically replaces an existing target
  kNoReplace,  // RENAME_NOREPLACE: fails with "exists" when the target exists
};

class Env {
 public:
  virtual ~Env() = default;
  // The process-wide POSIX implementation.
  static Env& Default();

  virtual Result<UniqueFd> Open(const std::string& path, int flags, mode_t mode);
  // Writes all of `data`, retrying short writes and EINTR.
  virtual Status WriteAll(int fd, std::string_view data, const std::string& path);
  virtual Status Fsync(int fd, const std::string& path);
  // Opens `dir` and fsyncs it, making renames and creations inside it durable.
  virtual Status FsyncDir(const std::string& dir);
  virtual Status Truncate(int fd, off_t length, const std::string& path);
  virtual Status Rename(const std::string& from, const std::string& to, RenameMode mode);
  // Creates one directory; an existing directory is not an error when `exist_ok`.
  virtual Status MakeDir(const std::string& path, mode_t mode, bool exist_ok);
  virtual Status Symlink(const std::string& target, const std::string& link_path);
  virtual Status Unlink(const std::string& path);
  // Removes a directory tree without following symlinks. A missing path is not an error.
  virtual Status RemoveTree(const std::string& path);
  // Flushes everything written on the filesystem holding `path` (syncfs(2)): one journal
  // commit for a whole step, where an fsync per file and directory would cost one each.
  virtual Status SyncFilesystem(const std::string& path);
  // Writes `data` to `path` through a temporary file and a rename, so that readers see the old
  // or the new content, never a mix. With `durable`, the file and its directory are fsync'd;
  // without, the caller orders durability with SyncFilesystem.
  Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                         bool durable = true);

  // Test hook (see the header comment). Called at each named step.
  virtual void CrashPoint(std::string_view step);
};

}  // namespace bg
