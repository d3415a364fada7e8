// BundleDir: an open bundle directory, and the only way the agent opens files inside one.
//
// Every path is resolved relative to the directory's descriptor with openat2(RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) where the kernel has it (5.6+), or with a walk
// that opens one component at a time with O_NOFOLLOW where it does not. Either way a symlink
// anywhere on the path, an absolute path or ".." is refused, and the file opened is checked to be
// a regular file with a single link. A producer cannot make the agent read outside its bundle.
// Opens and reads go through Env ("open", "read": tests can fail them); an operational failure
// (EACCES, EIO, EMFILE) is an error with its errno, never a verdict.
//
// Thread safety: const methods may be called from several threads at once.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/core/env.h"
#include "agent/core/status.h"
#include "agent/core/unique_fd.h"

namespace bg {

class BundleDir {
 public:
  // Opens `path` itself without following a symlink at its last component.
  static Result<BundleDir> Open(const std::string& path, Env& env = Env::Default());

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  Env& env() const { return *env_; }

  // Opens the regular file at relative path `rel` read-only. Fails with unsafe-path for a
  // symlink, a special file, a hard link or an escaping path; file-missing when absent.
  Result<UniqueFd> OpenFile(std::string_view rel) const;
  // Reads a whole file; limit-exceeded when it is larger than `max_bytes`.
  Result<std::string> ReadFile(std::string_view rel, std::uint64_t max_bytes) const;

  // Whether this process uses openat2 (false on kernels before 5.6, or where seccomp blocks it).
  static bool HasOpenat2();
  // Tests: use the per-component O_NOFOLLOW walk even where openat2 exists.
  static void ForceComponentWalkForTesting(bool force);

 private:
  BundleDir(UniqueFd fd, std::string path, Env& env)
      : fd_(std::move(fd)), path_(std::move(path)), env_(&env) {}
  UniqueFd fd_;
  std::string path_;
  Env* env_;
};

// "symlink", "fifo", "socket", "block device", "character device", "directory", "file".
std::string_view FileTypeName(mode_t mode);

}  // namespace bg
