#include "plugins/sdk/bundle_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace bg::sdk {
namespace {

Status OpenError(const std::string& path, int err) {
  if (err == ELOOP) return Status::Error(path + ": is a symlink (refused)");
  if (err == ENOTDIR) return Status::Error(path + ": a parent is not a directory (or a symlink)");
  return Status::Error(path + ": " + std::strerror(err));
}

// Opens one component below `dir` without following a symlink.
Result<UniqueFd> OpenComponent(int dir, const std::string& name, bool directory,
                               const std::string& path) {
  const int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | (directory ? O_DIRECTORY : 0);
  int fd;
  do {
    fd = ::openat(dir, name.c_str(), flags);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return OpenError(path, errno);
  return UniqueFd(fd);
}

}  // namespace

bool IsSafeBundlePath(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos) {
    return false;
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

Result<UniqueFd> OpenBundleFile(const std::string& bundle_dir, const std::string& path) {
  if (!IsSafeBundlePath(path)) return Status::Error(path + ": not a safe relative path (refused)");
  const int root = ::open(bundle_dir.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY);
  if (root < 0) return Status::Error("bundle_dir " + bundle_dir + ": " + std::strerror(errno));
  UniqueFd dir(root);
  std::size_t start = 0;
  for (std::size_t slash; (slash = path.find('/', start)) != std::string::npos; start = slash + 1) {
    BG_SDK_ASSIGN_OR_RETURN(
        dir, OpenComponent(dir.get(), path.substr(start, slash - start), true, path));
  }
  BG_SDK_ASSIGN_OR_RETURN(UniqueFd file, OpenComponent(dir.get(), path.substr(start), false, path));
  struct stat st;
  if (::fstat(file.get(), &st) != 0) return OpenError(path, errno);
  if (!S_ISREG(st.st_mode)) return Status::Error(path + ": not a regular file (refused)");
  // Regular files never block; clear O_NONBLOCK (set only so that opening a FIFO cannot hang).
  (void)::fcntl(file.get(), F_SETFL, 0);
  return file;
}

Result<std::string> ReadAllBounded(int fd, std::uint64_t max_bytes, const std::string& what) {
  std::string out;
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(st.st_size, max_bytes)));
  }
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Error(what + ": " + std::strerror(errno));
    if (n == 0) return out;
    if (out.size() + static_cast<std::uint64_t>(n) > max_bytes) {
      return Status::Error(what + ": larger than the limit of " + std::to_string(max_bytes) +
                           " bytes");
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

Result<std::string> ReadBundleFile(const std::string& bundle_dir, const std::string& path,
                                   std::uint64_t max_bytes) {
  BG_SDK_ASSIGN_OR_RETURN(UniqueFd fd, OpenBundleFile(bundle_dir, path));
  struct stat st;
  if (::fstat(fd.get(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    return Status::Error(path + ": " + std::to_string(st.st_size) + " bytes, over the limit of " +
                         std::to_string(max_bytes));
  }
  return ReadAllBounded(fd.get(), max_bytes, path);
}

}  // namespace bg::sdk
