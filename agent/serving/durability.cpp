#include "agent/serving/durability.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "agent/core/errno_status.h"

namespace bg {

Result<DirectoryHandle> DirectoryHandle::Open(Env& env, const std::string& dir) {
  BG_ASSIGN_OR_RETURN(UniqueFd fd, env.Open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0));
  return DirectoryHandle(env, dir, std::move(fd));
}

Status DirectoryHandle::Sync() { return env_->Fsync(fd_.get(), path_); }

bool OrderedJournal(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  // mountinfo: "36 35 98:0 /root /mnt rw,noatime shared:1 - ext4 /dev/vda rw"
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  const std::string dev = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, majmin;
    fields >> id >> parent >> majmin;
    if (majmin != dev) continue;
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) return false;
    std::istringstream rest(line.substr(dash + 3));
    std::string type;
    rest >> type;
    return type == "ext4" || type == "ext3" || type == "xfs";
  }
  return false;
}

namespace {

Status SyncEntries(Env& env, const std::string& root, bool ordered) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, bool>> entries;  // path, is a directory
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::none, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const auto status = it->symlink_status(ec);
    if (ec) break;
    if (fs::is_regular_file(status)) entries.emplace_back(it->path().string(), false);
    if (fs::is_directory(status)) entries.emplace_back(it->path().string(), true);
  }
  if (ec) return Status::Error("list " + root + " to sync it: " + ec.message());
  // Deepest first, so that a directory is synced after what it holds.
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return std::count(a.first.begin(), a.first.end(), '/') >
           std::count(b.first.begin(), b.first.end(), '/');
  });
  entries.emplace_back(root, true);
  constexpr std::size_t kChunk = 128;
  for (std::size_t first = 0; first < entries.size(); first += kChunk) {
    const std::size_t last = std::min(entries.size(), first + kChunk);
    std::vector<UniqueFd> fds;
    for (std::size_t i = first; i < last; ++i) {
      const auto& [path, dir] = entries[i];
      BG_ASSIGN_OR_RETURN(UniqueFd fd, env.Open(path, O_RDONLY | O_NOFOLLOW | (dir ? O_DIRECTORY : 0), 0));
      if (!dir) (void)::sync_file_range(fd.get(), 0, 0, SYNC_FILE_RANGE_WRITE);  // start them all
      fds.push_back(std::move(fd));
    }
    for (std::size_t i = first; i < last; ++i) {
      const auto& [path, dir] = entries[i];
      if (!ordered) {
        BG_RETURN_IF_ERROR(env.Fsync(fds[i - first].get(), path));
      } else if (!dir) {
        constexpr unsigned kWait =
            SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
        if (::sync_file_range(fds[i - first].get(), 0, 0, kWait) != 0) {
          return ErrnoStatus("write back", path);
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status SyncTreeBefore(Env& env, const std::string& root) {
  return SyncEntries(env, root, OrderedJournal(root));
}

Status SyncTree(Env& env, const std::string& root) { return SyncEntries(env, root, false); }

std::string ParentDirectory(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace bg
