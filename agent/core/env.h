// Env: the thin interface through which the agent changes the filesystem and reads bundles.
//
// Every step that matters to the crash-safety invariant of SPEC.md (create, write, fsync,
// rename, symlink, unlink, chmod) and every read of intake and of the checks goes through here,
// so that tests can fail any step (a full disk, an I/O error, a refused rename) and so that the
// test hooks live in one place. Two hooks, both inert unless their variable is set:
//
//   BUNDLEGATE_CRASH_AT=<step>[:<n>]   the n-th time (default 1st) the agent passes the named
//                                      crash point, it SIGKILLs itself. Crash points are named
//                                      "<component>.<step>", e.g. "promote.after-rename";
//                                      `grep CrashPoint` lists them all.
//   BUNDLEGATE_FAULT=<op>:<ERRNO>[:<nth>[:<count>]][@<path-pattern>][,...]
//                                      the n-th call of operation <op> on a matching path fails
//                                      with ERRNO, `count` times (0: forever). Also
//                                      BUNDLEGATE_FAULT_FILE (rules re-read when the file
//                                      changes) and BUNDLEGATE_FAULT_TRACE (log of every
//                                      operation). Full syntax: fault_injection.h. The <op>
//                                      of each method is named in its comment.
//
// Durability (SPEC.md; issue "fsyncgate"): on Linux a write-back error is reported by fsync only
// to descriptors that were open when it happened, and only once. So durability here is per
// file and per directory on descriptors held across the change: a file is fsync'd on the
// descriptor that wrote it; a directory is opened (OpenDirectory) *before* the entries are
// created or renamed in it and fsync'd on that descriptor after. A failed fsync means the data
// may be lost even though the pages look clean: the caller must redo the writes into a fresh
// file, never just call fsync again. SyncFilesystem (syncfs on a fresh descriptor) cannot see
// errors another caller already consumed; it remains for callers that batch a whole step.
//
// Thread safety: Env::Default() is safe to use from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/core/status.h"
#include "agent/core/unique_fd.h"

namespace bg {

enum class RenameMode {
  kReplace,    // rename(2): atomically replaces an existing target
  kNoReplace,  // RENAME_NOREPLACE: fails with "exists" when the target exists
};

// What statvfs says about a filesystem, in bytes.
struct DiskSpace {
  std::uint64_t size_bytes = 0;
  std::uint64_t available_bytes = 0;  // to unprivileged users (f_bavail): the conservative figure
};

class Env {
 public:
  virtual ~Env() = default;
  // The process-wide POSIX implementation.
  static Env& Default();

  // --- opening and reading ("open", "read")
  virtual Result<UniqueFd> Open(const std::string& path, int flags, mode_t mode);
  // openat(2) of `name` relative to `dirfd`; `path` names it in errors and fault rules.
  virtual Result<UniqueFd> OpenAt(int dirfd, const std::string& name, int flags, mode_t mode,
                                  const std::string& path);
  // A directory opened to be held across changes inside it, then fsync'd (Fsync) on this
  // descriptor: the way to make creations and renames in it durable ("open").
  Result<UniqueFd> OpenDirectory(const std::string& path);
  // Reads up to `n` bytes, retrying EINTR; 0 at the end of the file ("read").
  virtual Result<std::size_t> Read(int fd, char* buf, std::size_t n, const std::string& path);

  // --- writing a file ("write", "fallocate", "truncate", "fsync", "chmod")
  // Writes all of `data`, retrying short writes and EINTR.
  virtual Status WriteAll(int fd, std::string_view data, const std::string& path);
  // Reserves `length` bytes (fallocate(2)): a full disk shows before the copy, not midway.
  // Filesystems without fallocate are not an error.
  virtual Status Allocate(int fd, off_t length, const std::string& path);
  virtual Status Truncate(int fd, off_t length, const std::string& path);
  // fsync(2) on `fd`: a file's data, or a held directory's entries. On failure, redo the writes.
  virtual Status Fsync(int fd, const std::string& path);
  virtual Status Fchmod(int fd, mode_t mode, const std::string& path);
  virtual Status Chmod(const std::string& path, mode_t mode);

  // --- the namespace ("mkdir", "rename", "symlink", "unlink", "remove")
  // Creates one directory; an existing directory is not an error when `exist_ok`.
  virtual Status MakeDir(const std::string& path, mode_t mode, bool exist_ok);
  // mkdirat(2) of `name` under `dirfd` (never an existing one); `path` as in OpenAt.
  virtual Status MakeDirAt(int dirfd, const std::string& name, mode_t mode, const std::string& path);
  virtual Status Rename(const std::string& from, const std::string& to, RenameMode mode);
  virtual Status Symlink(const std::string& target, const std::string& link_path);
  virtual Status Unlink(const std::string& path);
  // Removes a directory tree without following symlinks, whole or not at all: when a directory
  // in it may not be changed by this process (another user's, a sticky one), nothing is removed
  // and the error says which (tree_ops.h, CheckTreeRemovable). A missing path is not an error.
  virtual Status RemoveTree(const std::string& path);

  // --- durability and space ("fsync", "syncfs", "statvfs")
  // Opens `dir` and fsyncs it. A fresh descriptor: prefer OpenDirectory before the change and
  // Fsync after it, which also reports errors seen meanwhile by others.
  virtual Status FsyncDir(const std::string& dir);
  // Flushes everything written on the filesystem holding `path` (syncfs(2)): one journal
  // commit for a whole step. Not on the intake path (see the header comment).
  virtual Status SyncFilesystem(const std::string& path);
  virtual Result<DiskSpace> FreeSpace(const std::string& path);

  // Writes `data` to `path` through a fresh temporary file and a rename, so that readers see
  // the old or the new content, never a mix. With `durable`, the directory is opened before
  // the temporary file is made, the file is fsync'd before the rename and the directory after
  // it, on those descriptors. A failure (a failed fsync included) removes the temporary file:
  // calling again writes everything anew. Without `durable`, the caller orders durability.
  Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                         bool durable = true);

  // Test hook (see the header comment). Called at each named step.
  virtual void CrashPoint(std::string_view step);
  // Fault-injection hook for code that makes its own system calls (a process spawn, "spawn"):
  // ok, or the injected failure. Every method above calls it first with its own <op>.
  static Status Fault(std::string_view op, std::string_view path);
};

}  // namespace bg
