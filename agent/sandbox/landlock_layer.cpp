// The Landlock layer: the view (view.cpp) again, as Landlock rules, so that the filesystem stays
// confined where the mount layer cannot be had (a kernel or host without unprivileged user
// namespaces), and doubly so where it can.
//   ABI 1+  every filesystem access right the kernel knows is handled; allowed: read and execute
//           beneath the exec paths, read beneath the data paths (the bundle) and /proc, read and
//           write on the standard devices and the configured ones, and everything but execute
//           and device creation in the private tmp (/tmp and /dev/shm in the mount view, the
//           run directory on the host without it). ABI 2 adds REFER, 3 TRUNCATE, 5 IOCTL_DEV
//           (allowed on the devices only).
//   ABI 4+  TCP bind and connect handled with no rule: no TCP at all.
//   ABI 6+  scoped: no signal to, and no abstract unix socket of, any process outside the
//           sandbox (the agent included) even where there is no PID or network namespace.
// Rules are opened (O_PATH) in the child, after the mount view is in place; a path that is not
// there is skipped. An exec path holding a masked path (the agent's config under /etc) is granted
// entry by entry, leaving out the masked one and symlinks (a symlink needs no rule: what it
// points to is checked where it lies), down to the masked path's parent; the directories on the
// way lose READ_DIR (they cannot be listed, only passed through). Landlock also forbids the sandboxed process any later mount(2).
#include <dirent.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/sandbox/layer.h"

// Newer than the kernel headers we build with (Debian 12 ships 6.1's, ABI 2).
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

namespace bg::sandbox {
namespace internal {
namespace {

// The kernel's struct landlock_ruleset_attr as of ABI 6; older kernels take a prefix of it.
struct RulesetAttr {
  std::uint64_t handled_access_fs;
  std::uint64_t handled_access_net;
  std::uint64_t scoped;
};

enum Step : std::int32_t { kStepCreate = 1, kStepAddRule, kStepNoNewPrivs, kStepRestrict };

constexpr std::uint64_t kRead = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
constexpr std::uint64_t kExec = kRead | LANDLOCK_ACCESS_FS_EXECUTE;
constexpr std::uint64_t kDevice = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                  LANDLOCK_ACCESS_FS_IOCTL_DEV;
constexpr std::uint64_t kWritable =
    kRead | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM |
    LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE;
// Rights that apply to a file (not only to a directory's contents).
constexpr std::uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                      LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                      LANDLOCK_ACCESS_FS_IOCTL_DEV;

std::uint64_t HandledFs(int abi) {
  std::uint64_t fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: bits 0..12
  if (abi >= 2) fs |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return fs;
}

bool HoldsMask(const Prepared& p, const std::string& path) {
  for (const auto& m : p.view_masks) {
    if (m.path != path && PathWithin(m.path, path)) return true;
  }
  return false;
}

bool IsMask(const Prepared& p, const std::string& path) {
  for (const auto& m : p.view_masks) {
    if (m.path == path) return true;
  }
  return false;
}

// `dir` with `access`, but around the masks beneath it.
template <typename Add>
void GrantAround(const Prepared& p, const std::string& dir, std::uint64_t access, const Add& add,
                 int depth) {
  if (!HoldsMask(p, dir)) {
    add(dir, access);
    return;
  }
  DIR* d = depth < 64 ? ::opendir(dir.c_str()) : nullptr;
  if (d == nullptr) return;
  while (const dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    const std::string path = (dir == "/" ? "" : dir) + "/" + e->d_name;
    struct stat st {};
    if (IsMask(p, path) || ::lstat(path.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) continue;
    if (S_ISDIR(st.st_mode)) {
      GrantAround(p, path, access, add, depth + 1);
    } else {
      add(path, access);
    }
  }
  ::closedir(d);
}

void Prepare(Prepared& p) {
  int err = 0;
  p.landlock_abi = LandlockAbi(&err);
  if (p.landlock_abi <= 0) {
    p.unavailable[static_cast<int>(Layer::kLandlock)] =
        err == EOPNOTSUPP ? "Landlock is built into this kernel but not enabled (lsm= at boot)"
                          : "this kernel has no Landlock (" + ErrnoName(err) + "; Linux 5.13+)";
    return;
  }
  auto both = [&p](const std::string& path, std::uint64_t access) {
    p.landlock_in_view.push_back({path, access});
    p.landlock_on_host.push_back({path, access});
  };
  for (const auto& v : p.view) GrantAround(p, v.path, v.data ? kRead : kExec, both, 0);
  for (const auto& dev : p.view_devices) both(dev, kDevice);
  both("/proc", kRead);
  p.landlock_in_view.push_back({"/dev", LANDLOCK_ACCESS_FS_READ_DIR});
  p.landlock_in_view.push_back({"/tmp", kWritable});
  p.landlock_in_view.push_back({"/dev/shm", kWritable});
  if (!p.run_dir.empty()) p.landlock_on_host.push_back({p.run_dir, kWritable});
}

int AddRules(int ruleset, const std::vector<LandlockRule>& rules, std::uint64_t handled) {
  for (const auto& rule : rules) {
    const int fd = ::open(rule.path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st {};
    std::uint64_t access = rule.access & handled;
    if (::fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) access &= kFileRights;
    if (access != 0) {
      landlock_path_beneath_attr beneath{};
      beneath.allowed_access = access;
      beneath.parent_fd = fd;
      if (::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) != 0) {
        const int err = errno;
        ::close(fd);
        return err;
      }
    }
    ::close(fd);
  }
  return 0;
}

void Apply(const Prepared& p, Report& r) {
  LayerResult& res = r.of(Layer::kLandlock);
  const int abi = p.landlock_abi;
  RulesetAttr attr{};
  attr.handled_access_fs = HandledFs(abi);
  std::size_t size = sizeof attr.handled_access_fs;
  if (abi >= 4) {
    attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
    size = 2 * sizeof(std::uint64_t);
  }
  if (abi >= 6) {
    attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
    size = sizeof attr;
  }
  const int ruleset = static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, size, 0));
  if (ruleset < 0) {
    MarkFailed(res, kStepCreate, errno);
    return;
  }
  const auto& rules = r.applied(Layer::kMount) ? p.landlock_in_view : p.landlock_on_host;
  if (const int err = AddRules(ruleset, rules, attr.handled_access_fs); err != 0) {
    ::close(ruleset);
    MarkFailed(res, kStepAddRule, err);
    return;
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    ::close(ruleset);
    MarkFailed(res, kStepNoNewPrivs, errno);
    return;
  }
  if (::syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
    const int err = errno;
    ::close(ruleset);
    MarkFailed(res, kStepRestrict, err);
    return;
  }
  ::close(ruleset);
  MarkApplied(res, abi);
}

void Describe(const Prepared& p, const Report& r, LayerOutcome& out) {
  const LayerResult& res = r.of(Layer::kLandlock);
  out.facts.emplace_back("abi", std::to_string(p.landlock_abi));
  if (res.state == LayerState::kApplied) {
    std::string what = "filesystem";
    if (p.landlock_abi >= 4) what += ", no TCP";
    if (p.landlock_abi >= 6) what += ", signals and abstract sockets scoped";
    out.why = what;
    return;
  }
  static const char* const kSteps[] = {"", "landlock_create_ruleset", "landlock_add_rule",
                                       "PR_SET_NO_NEW_PRIVS", "landlock_restrict_self"};
  const char* step = res.step > 0 && res.step <= kStepRestrict ? kSteps[res.step] : "landlock";
  out.why = std::string(step) + ": " + ErrnoName(res.err);
}

}  // namespace

const LayerOps kLandlockLayer = {Layer::kLandlock, Prepare, nullptr, Apply, Describe};

}  // namespace internal

int LandlockAbi(int* err) {
  const long abi =
      ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 0) {
    if (err != nullptr) *err = errno;
    return 0;
  }
  return static_cast<int>(abi);
}

}  // namespace bg::sandbox
