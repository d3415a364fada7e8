#include "tests/support/mounts.h"

#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "tests/support/process.h"

namespace bg::test {

TmpfsMount::TmpfsMount(const std::string& dir, std::uint64_t bytes) : dir_(dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string options = "size=" + std::to_string(bytes) + ",mode=0755";
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) != 0) {
    why_not_ = "mount -t tmpfs on " + dir + ": " + std::strerror(errno) +
               " (needs root, or CAP_SYS_ADMIN)";
    return;
  }
  mounted_ = true;
}

TmpfsMount::~TmpfsMount() {
  if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
}

bool TmpfsMount::Resize(std::uint64_t bytes) {
  const std::string options = "size=" + std::to_string(bytes);
  return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, options.c_str()) == 0;
}

std::uint64_t TmpfsMount::Available() const {
  struct statvfs vfs;
  if (::statvfs(dir_.c_str(), &vfs) != 0) return 0;
  return static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

std::vector<std::string> AsUser(uid_t uid, gid_t gid, const std::vector<gid_t>& groups) {
  std::vector<std::string> argv = {"setpriv", "--reuid=" + std::to_string(uid),
                                   "--regid=" + std::to_string(gid)};
  if (groups.empty()) {
    argv.push_back("--clear-groups");
  } else {
    std::string list;
    for (gid_t g : groups) list += (list.empty() ? "" : ",") + std::to_string(g);
    argv.push_back("--groups=" + list);
  }
  return argv;
}

int RunShellAs(uid_t uid, gid_t gid, const std::vector<gid_t>& groups, const std::string& umask,
               const std::string& script) {
  auto argv = AsUser(uid, gid, groups);
  argv.insert(argv.end(), {"/bin/sh", "-c", "umask " + umask + " && " + script});
  return RunProcess(argv).exit_code;
}

bool CanSwitchUsers(std::string* why_not) {
  if (::geteuid() != 0) {
    *why_not = "not root: cannot run processes as other users";
    return false;
  }
  if (RunProcess({"setpriv", "--version"}).exit_code != 0) {
    *why_not = "setpriv (util-linux) not found";
    return false;
  }
  return true;
}

}  // namespace bg::test
