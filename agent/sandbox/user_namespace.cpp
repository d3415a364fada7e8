// Phase 1's user namespace: not a layer of its own but what makes the namespace layers possible
// for a caller without CAP_SYS_ADMIN (the agent as an unprivileged service user). It maps only
// the caller's own uid and gid (to themselves), with setgroups denied, which an unprivileged
// process may do; inside it the caller has the capabilities to make mount, PID and network
// namespaces, and the user layer drops them all again in phase 2.
#include <linux/capability.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "agent/sandbox/layer.h"

namespace bg::sandbox::internal {

bool HasSysAdmin() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_SYS_ADMIN / 32].effective >> (CAP_SYS_ADMIN % 32)) & 1u;
}

bool EnterUserNamespace(const Prepared& p, Report& r) {
  if (p.privileged) return true;
  if (::unshare(CLONE_NEWUSER) != 0) {
    r.userns = -1;
    r.userns_err = errno;
    return true;  // the namespace layers will fail and say why
  }
  r.userns = 1;
  // /proc/self/*_map belong to root while the process is not dumpable (a caller that changed
  // its credentials without an exec since): dumpable for as long as the maps take.
  const int dumpable = ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  if (dumpable == 0) ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  const bool mapped = WriteWholeFile("/proc/self/setgroups", "deny", 4) &&
                      WriteWholeFile("/proc/self/uid_map", p.uid_map.data(), p.uid_map.size()) &&
                      WriteWholeFile("/proc/self/gid_map", p.gid_map.data(), p.gid_map.size());
  const int err = errno;
  if (dumpable == 0) ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (!mapped) {
    Fatal(r, kFatalIdMaps, err);
    return false;
  }
  return true;
}

}  // namespace bg::sandbox::internal
