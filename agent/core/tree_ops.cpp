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

Status MakeTreeReadOnly(const std::string& root, bool directories) {
  BG_ASSIGN_OR_RETURN(auto entries, PostOrder(root));
  for (const auto& e : entries) {
    std::error_code ec;
    if (e.is_symlink(ec)) continue;
    const bool dir = e.is_directory(ec);
    if (dir && !directories) continue;
    if (::chmod(e.path().c_str(), dir ? 0555 : 0444) != 0) {
      return ErrnoStatus("chmod", e.path().string());
    }
  }
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
