#include "agent/sandbox/run_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "agent/sandbox/layer.h"

namespace bg::sandbox::internal {
namespace {

constexpr int kMaxDepth = 128;

// Empties the directory open as `fd` (which it closes), depth-first, by name relative to it.
void EmptyDirectory(int fd, int depth) {
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return;
  }
  while (const dirent* e = ::readdir(dir)) {
    const char* name = e->d_name;
    if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
    if (::unlinkat(fd, name, 0) == 0) continue;
    if (errno != EISDIR && errno != EPERM) continue;
    if (depth < kMaxDepth) {
      ::fchmodat(fd, name, 0700, AT_SYMLINK_NOFOLLOW);  // a plugin may have made it unreadable
      const int child = ::openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child >= 0) EmptyDirectory(child, depth + 1);
    }
    ::unlinkat(fd, name, AT_REMOVEDIR);
  }
  ::closedir(dir);
}

}  // namespace

RunDir CreateRunDir(const std::string& parent, long uid, long gid) {
  std::string base = parent;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp != nullptr && *tmp == '/' ? tmp : "/tmp";
  }
  std::string templ = base + "/bundlegate-sandbox-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    return {"", "cannot make the sandbox's run directory in " + base + ": " + ErrnoName(errno)};
  }
  if ((uid >= 0 || gid >= 0) &&
      ::chown(templ.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0) {
    const int err = errno;
    ::rmdir(templ.c_str());
    return {"", "cannot give " + templ + " to the plugin user: " + ErrnoName(err)};
  }
  return {templ, ""};
}

void RemoveRunDir(const std::string& path) {
  if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return;
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) EmptyDirectory(fd, 0);
  ::rmdir(path.c_str());
}

}  // namespace bg::sandbox::internal
