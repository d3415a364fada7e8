// The user layer: who the payload is. Where the caller is root, the plugin's own unprivileged
// uid and gid (plugin_user), no supplementary groups; in every case no capabilities at all
// (bounding set dropped, ambient cleared, effective, permitted and inheritable emptied) and
// no_new_privs (no setuid binary or file capability gives any back). A root caller that cannot
// take the plugin uid ends the setup: the payload never runs as root.
//
// Changing credentials clears PR_SET_PDEATHSIG; where this process is still the caller's
// direct child (no PID namespace), it is armed again and the parent checked.
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "agent/sandbox/layer.h"

namespace bg::sandbox::internal {
namespace {

enum Step : std::int32_t { kStepStillRoot = 1, kStepCapset, kStepNoNewPrivs };
constexpr std::int32_t kInfoSetIds = 1;

void Prepare(Prepared& p) {
  std::ifstream last("/proc/sys/kernel/cap_last_cap");
  int cap_last = 0;
  if (last >> cap_last && cap_last > 0 && cap_last < 64) p.cap_last = cap_last;
  if (::geteuid() != 0) return;
  if (p.spec.uid < 0 || p.spec.gid < 0) {
    p.unavailable[static_cast<int>(Layer::kUser)] =
        "the caller runs as root and no unprivileged plugin user was given";
    return;
  }
  if (p.spec.uid == 0) {
    p.unavailable[static_cast<int>(Layer::kUser)] = "the plugin user is root";
    return;
  }
  p.set_ids = true;
  p.target_uid = static_cast<uid_t>(p.spec.uid);
  p.target_gid = static_cast<gid_t>(p.spec.gid);
}

bool NoCapabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  for (const auto& d : data) {
    if (d.effective != 0 || d.permitted != 0 || d.inheritable != 0) return false;
  }
  return true;
}

void Apply(const Prepared& p, Report& r) {
  LayerResult& res = r.of(Layer::kUser);
  for (int cap = 0; cap <= p.cap_last; ++cap) ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  if (p.set_ids) {
    if (::setgroups(0, nullptr) != 0 ||
        ::setresgid(p.target_gid, p.target_gid, p.target_gid) != 0 ||
        ::setresuid(p.target_uid, p.target_uid, p.target_uid) != 0) {
      Fatal(r, kFatalDropIds, errno);
      return;
    }
    if (!r.applied(Layer::kPid)) {  // still the caller's own child
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != p.preparer) {
        Fatal(r, kFatalParentGone, 0);
        return;
      }
    }
  }
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none[2] = {};
  const int capset_err = ::syscall(SYS_capset, &header, none) == 0 ? 0 : errno;
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    MarkFailed(res, kStepNoNewPrivs, errno);
  } else if (::getuid() == 0 || ::geteuid() == 0) {
    MarkFailed(res, kStepStillRoot, 0);
  } else if (!NoCapabilities()) {
    MarkFailed(res, kStepCapset, capset_err);
  } else {
    MarkApplied(res, p.set_ids ? kInfoSetIds : 0);
  }
}

void Describe(const Prepared& p, const Report& r, LayerOutcome& out) {
  const LayerResult& res = r.of(Layer::kUser);
  out.facts.emplace_back("uid", std::to_string(r.uid));
  if (res.state == LayerState::kApplied) {
    out.why = res.info == kInfoSetIds
                  ? "runs as uid " + std::to_string(p.target_uid) + ", gid " +
                        std::to_string(p.target_gid) + ", no capabilities"
                  : "runs as the caller's uid " + std::to_string(r.uid) +
                        (r.userns > 0 ? " (in a user namespace of its own)" : "") +
                        ", no capabilities";
    return;
  }
  switch (res.step) {
    case kStepStillRoot: out.why = "still root"; break;
    case kStepCapset:
      out.why = "capabilities remain (capset: " + ErrnoName(res.err) +
                "); an exec'd program loses them, a forked one keeps them in its namespace";
      break;
    case kStepNoNewPrivs: out.why = "PR_SET_NO_NEW_PRIVS: " + ErrnoName(res.err); break;
    default: out.why = "not reached";
  }
}

}  // namespace

const LayerOps kUserLayer = {Layer::kUser, Prepare, nullptr, Apply, Describe};

}  // namespace bg::sandbox::internal
