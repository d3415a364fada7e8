// Real small filesystems and real users for tests: a tmpfs of a given size mounted on a
// directory (root only; a test skips with the reason where mounting is not permitted), and the
// uid/gid helpers for running a process as another user (setpriv).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bg::test {

class TmpfsMount {
 public:
  // Mounts a tmpfs of `bytes` on `dir` (created). ok() false, with why_not(), when refused.
  TmpfsMount(const std::string& dir, std::uint64_t bytes);
  ~TmpfsMount();  // unmounts (lazily, should something still be open there)
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  bool ok() const { return mounted_; }
  const std::string& why_not() const { return why_not_; }
  // Grows or shrinks it in place (mount -o remount,size=).
  bool Resize(std::uint64_t bytes);
  // Bytes available (statvfs f_bavail).
  std::uint64_t Available() const;

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string why_not_;
};

// setpriv arguments that run a command as uid:gid with exactly `groups` as supplementary groups.
std::vector<std::string> AsUser(uid_t uid, gid_t gid, const std::vector<gid_t>& groups = {});
// Runs `script` with /bin/sh as uid:gid (setpriv), with `umask` first; the exit code.
int RunShellAs(uid_t uid, gid_t gid, const std::vector<gid_t>& groups, const std::string& umask,
               const std::string& script);
// Whether this process may switch users (is root) and setpriv exists: otherwise tests skip.
bool CanSwitchUsers(std::string* why_not);

}  // namespace bg::test
