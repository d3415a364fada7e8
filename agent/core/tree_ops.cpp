#include "agent/core/tree_ops.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "agent/core/errno_status.h"
#include "agent/core/unique_fd.h"

namespace bg {
namespace {

namespace fs = std::filesystem;

// Entries under root, children before their parents (so directories are handled last).
Result<std::vector<fs::directory_entry>> PostOrder(const std::string& root) {
  std::vector<fs::directory_entry> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) return Status::Error("list " + root + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Status::Error("list " + root + ": " + ec.message());
    out.push_back(*it);
  }
  // Deeper paths first: sort by depth descending (stable for determinism).
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::distance(a.path().begin(), a.path().end()) >
           std::distance(b.path().begin(), b.path().end());
  });
  return out;
}

}  // namespace

Status MakeTreeReadOnly(const std::string& root, bool directories, Env& env) {
  BG_ASSIGN_OR_RETURN(auto entries, PostOrder(root));
  for (const auto& e : entries) {
    std::error_code ec;
    if (e.is_symlink(ec)) continue;
    const bool dir = e.is_directory(ec);
    if (dir && !directories) continue;
    BG_RETURN_IF_ERROR(env.Chmod(e.path().string(), dir ? 0555 : 0444));
  }
  return Status::Ok();
}

namespace {

Status CheckDirectoryRemovable(const std::string& dir, const struct stat& st, uid_t euid) {
  if (euid == 0 || st.st_uid == euid) return Status::Ok();  // ours: made writable on the way
  if (::faccessat(AT_FDCWD, dir.c_str(), R_OK | W_OK | X_OK, AT_EACCESS) != 0) {
    return ErrnoStatus("cannot remove the entries of", dir);
  }
  if ((st.st_mode & S_ISVTX) == 0) return Status::Ok();
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    struct stat child;
    if (::lstat(e.path().c_str(), &child) == 0 && child.st_uid != euid) {
      return ErrnoStatus("cannot remove (sticky directory)", e.path().string(), EPERM);
    }
  }
  if (ec) return Status::SystemError(ec.value(), "list " + dir + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

Status CheckTreeRemovable(const std::string& root) {
  const uid_t euid = ::geteuid();
  struct stat st;
  if (::lstat(root.c_str(), &st) != 0) return ErrnoStatus("stat", root);
  if (!S_ISDIR(st.st_mode)) return Status::Ok();
  BG_RETURN_IF_ERROR(CheckDirectoryRemovable(root, st, euid));
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    BG_RETURN_IF_ERROR(CheckDirectoryRemovable(it->path().string(), st, euid));
  }
  if (ec) return Status::SystemError(ec.value(), "list " + root + ": " + ec.message());
  return Status::Ok();
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace bg
