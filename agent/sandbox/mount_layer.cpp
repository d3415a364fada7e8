// The mount layer: a mount namespace whose root is an empty, read-only tmpfs holding only the
// view (view.cpp): the exec paths bound read-only, the data paths (the bundle) bound read-only
// and noexec at their own paths, a minimal /dev, a fresh /proc of the run's PID namespace, and
// a private size-limited tmpfs at /tmp and /dev/shm (the only writable place, noexec). Nothing
// else of the host is there: not the agent's root, not /home, /run, /var or the host's /tmp. The
// directories made on the way to a bound path (/srv/bundlegate/work/<id> above the bundle) are
// mode 0111 on a read-only root: they can be passed through but not listed. A masked path (the
// agent's config directory inside /etc) is covered, once its exec path is bound, by an empty
// read-only tmpfs (a masked file by /dev/null on a nodev mount: opening it fails).
//
// Phase 1 unshares the namespace (and makes every mount private, so nothing propagates to the
// agent); phase 2, inside the PID namespace (a proc mount shows the namespace of its mounter),
// builds the root at the run directory, bind by bind, with mount_setattr(2) applying read-only
// recursively (Linux 5.12+), then switches to it with pivot_root(".", ".") and detaches the old
// root. Any failure before the switch undoes the half-built root (the process keeps the host's
// view, and Landlock still confines it); a failure after it is fatal.
//
// A fresh proc needs the host's /proc to be fully visible to the user namespace; where it is
// not (a container that masks parts of it), the host's /proc is bound read-only instead and the
// report says so.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "agent/sandbox/layer.h"

namespace bg::sandbox::internal {
namespace {

enum Step : std::int32_t {
  kStepUnshare = 1,
  kStepPrivate,
  kStepChdir,
  kStepPivot,
  kStepOps = 100,  // + index of the failing MountOp
};

constexpr std::uint64_t kReadOnly = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
constexpr std::int32_t kInfoHostProc = 1;
constexpr mode_t kSkeletonMode = 0111;

// ---- Parent ----

class Builder {
 public:
  explicit Builder(Prepared& p) : p_(p), root_(p.run_dir) {}

  void Op(MountOp::Kind kind, std::string source, const std::string& path, std::string data = "",
          std::uint64_t attr = 0) {
    p_.mount_ops.push_back({kind, std::move(source), root_ + path, std::move(data), attr});
  }
  void Tmpfs(const std::string& path, const std::string& options, std::uint64_t attr) {
    Dir(path);
    Op(MountOp::kTmpfs, "tmpfs", path, options, attr);
  }
  // mkdir of `path` and every directory above it not made yet.
  void Dir(const std::string& path) {
    std::size_t at = 1;
    while (at <= path.size()) {
      const std::size_t slash = path.find('/', at);
      const std::string prefix = path.substr(0, slash);
      if (!made_.count(prefix) && prefix.size() > 0) {
        made_.insert(prefix);
        Op(MountOp::kMkdir, "", prefix);
      }
      if (slash == std::string::npos) break;
      at = slash + 1;
    }
  }
  void Parent(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash > 0) Dir(path.substr(0, slash));
  }

 private:
  Prepared& p_;
  std::string root_;
  std::set<std::string> made_;
};

void Prepare(Prepared& p) {
  if (p.run_dir.empty()) {
    p.unavailable[static_cast<int>(Layer::kMount)] = "no run directory";
    return;
  }
  Builder b(p);
  p.mount_ops.push_back({MountOp::kTmpfs, "tmpfs", p.run_dir, "size=1m,nr_inodes=16384,mode=0755",
                         MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV});
  b.Tmpfs("/dev", "size=64k,nr_inodes=1024,mode=0755",
          MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
  for (const auto& dev : p.view_devices) {
    b.Parent(dev);
    b.Op(MountOp::kMkfile, "", dev);
    b.Op(MountOp::kBindFile, dev, dev, "", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
  }
  b.Op(MountOp::kSymlink, "/proc/self/fd", "/dev/fd");
  b.Op(MountOp::kSymlink, "/proc/self/fd/0", "/dev/stdin");
  b.Op(MountOp::kSymlink, "/proc/self/fd/1", "/dev/stdout");
  b.Op(MountOp::kSymlink, "/proc/self/fd/2", "/dev/stderr");
  b.Dir("/proc");
  b.Op(MountOp::kProc, "proc", "/proc", "",
       (p.spec.proc_writable ? MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV : kReadOnly) | MOUNT_ATTR_NOEXEC);
  const std::string tmp_options = "size=" + std::to_string(p.spec.tmp_bytes) + ",mode=1777";
  b.Tmpfs("/tmp", tmp_options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  b.Dir("/dev/shm");
  b.Op(MountOp::kBindTree, p.run_dir + "/tmp", "/dev/shm", "",
       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  for (const auto& v : p.view) {
    b.Dir(v.path);
    b.Op(MountOp::kBindTree, v.path, v.path, "", kReadOnly | (v.data ? MOUNT_ATTR_NOEXEC : 0));
  }
  for (const auto& [path, text] : p.view_links) {
    b.Parent(path);
    b.Op(MountOp::kSymlink, text, path);
  }
  constexpr std::uint64_t kSealed = kReadOnly | MOUNT_ATTR_NOEXEC;
  for (const auto& mask : p.view_masks) {
    if (mask.dir) {
      b.Op(MountOp::kTmpfs, "tmpfs", mask.path, "size=4k,nr_inodes=2,mode=0111", kSealed);
    } else {
      b.Op(MountOp::kBindFile, "/dev/null", mask.path, "", kSealed);
    }
  }
}

// ---- Child ----

bool SetAttr(const char* path, std::uint64_t attr, bool recursive) {
  if (attr == 0) return true;
  mount_attr a{};
  a.attr_set = attr;
  return ::syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &a,
                   sizeof a) == 0;
}

bool MountProc(const MountOp& op, Report& r) {
  // Read-only from the start where it is to be: a proc mount may not be less restricted than
  // the one this namespace already shows.
  const unsigned long flags =
      MS_NOSUID | MS_NODEV | MS_NOEXEC | ((op.attr & MOUNT_ATTR_RDONLY) ? MS_RDONLY : 0);
  if (::mount("proc", op.target.c_str(), "proc", flags, "hidepid=invisible") != 0 &&
      ::mount("proc", op.target.c_str(), "proc", flags, nullptr) != 0) {
    // Not fully visible to this user namespace: the host's, read-only.
    if (::mount("/proc", op.target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      return false;
    }
    r.of(Layer::kMount).info = kInfoHostProc;
  }
  return SetAttr(op.target.c_str(), op.attr, true);
}

bool Run(const MountOp& op, Report& r) {
  const char* target = op.target.c_str();
  switch (op.kind) {
    case MountOp::kTmpfs: {
      unsigned long flags = 0;
      if (op.attr & MOUNT_ATTR_NOSUID) flags |= MS_NOSUID;
      if (op.attr & MOUNT_ATTR_NODEV) flags |= MS_NODEV;
      if (op.attr & MOUNT_ATTR_NOEXEC) flags |= MS_NOEXEC;
      if (op.attr & MOUNT_ATTR_RDONLY) flags |= MS_RDONLY;
      return ::mount("tmpfs", target, "tmpfs", flags, op.data.c_str()) == 0;
    }
    case MountOp::kMkdir:
      // Traversable, not listable, whoever asks: a directory on the way to a bound path (the
      // agent's root above the bundle) shows nothing of what it holds. chmod, not the umask.
      if (::mkdir(target, kSkeletonMode) != 0) return errno == EEXIST;
      return ::chmod(target, kSkeletonMode) == 0;
    case MountOp::kMkfile: {
      const int fd = ::open(target, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd < 0) return errno == EEXIST;
      ::close(fd);
      return true;
    }
    case MountOp::kSymlink:
      return ::symlink(op.source.c_str(), target) == 0 || errno == EEXIST;
    case MountOp::kBindTree:
      return ::mount(op.source.c_str(), target, nullptr, MS_BIND | MS_REC, nullptr) == 0 &&
             SetAttr(target, op.attr, true);
    case MountOp::kBindFile:
      return ::mount(op.source.c_str(), target, nullptr, MS_BIND, nullptr) == 0 &&
             SetAttr(target, op.attr, false);
    case MountOp::kProc:
      return MountProc(op, r);
  }
  errno = EINVAL;
  return false;
}

void Enter(const Prepared&, Report& r) {
  LayerResult& res = r.of(Layer::kMount);
  if (::unshare(CLONE_NEWNS) != 0) {
    MarkFailed(res, kStepUnshare, errno);
    return;
  }
  // From now on no mount or unmount of ours reaches the agent's namespace.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    MarkFailed(res, kStepPrivate, errno);
    return;
  }
  MarkApplied(res);
}

void Undo(const Prepared& p, LayerResult& res, std::int32_t step) {
  const int err = errno;
  ::umount2(p.run_dir.c_str(), MNT_DETACH);
  MarkFailed(res, step, err);
}

void Apply(const Prepared& p, Report& r) {
  LayerResult& res = r.of(Layer::kMount);
  for (std::size_t i = 0; i < p.mount_ops.size(); ++i) {
    if (!Run(p.mount_ops[i], r)) {
      Undo(p, res, kStepOps + static_cast<std::int32_t>(i));
      return;
    }
  }
  if (::chdir(p.run_dir.c_str()) != 0) {
    Undo(p, res, kStepChdir);
    return;
  }
  if (::syscall(SYS_pivot_root, ".", ".") != 0) {
    const int err = errno;
    ::chdir("/");
    errno = err;
    Undo(p, res, kStepPivot);
    return;
  }
  // The old root is stacked on the new one: detach it, then seal the new root and /dev.
  if (::umount2(".", MNT_DETACH) != 0 || ::chdir("/") != 0 ||
      !SetAttr("/", MOUNT_ATTR_RDONLY, false) || !SetAttr("/dev", MOUNT_ATTR_RDONLY, false)) {
    Fatal(r, kFatalMountPivot, errno);
    return;
  }
  res.step = 0;
}

std::string OpText(const MountOp& op, const std::string& root) {
  const std::string where = op.target.rfind(root, 0) == 0 && op.target.size() > root.size()
                                ? op.target.substr(root.size())
                                : op.target;
  switch (op.kind) {
    case MountOp::kTmpfs: return "mounting a tmpfs at " + where;
    case MountOp::kMkdir: return "making the mount point " + where;
    case MountOp::kMkfile: return "making the mount point " + where;
    case MountOp::kSymlink: return "making the symlink " + where;
    case MountOp::kBindTree: return "binding " + op.source + " read-only at " + where;
    case MountOp::kBindFile: return "binding " + op.source + " at " + where;
    case MountOp::kProc: return "mounting /proc";
  }
  return "mounting";
}

void Describe(const Prepared& p, const Report& r, LayerOutcome& out) {
  const LayerResult& res = r.of(Layer::kMount);
  if (res.state == LayerState::kApplied) {
    out.facts.emplace_back("proc", res.info == kInfoHostProc
                                       ? "the agent's, read-only (a new one was refused)"
                                       : "its own");
    out.facts.emplace_back("tmp_bytes", std::to_string(p.spec.tmp_bytes));
    return;
  }
  std::string what;
  switch (res.step) {
    case kStepUnshare: what = "unshare(CLONE_NEWNS)"; break;
    case kStepPrivate: what = "making mounts private"; break;
    case kStepChdir: what = "entering the new root"; break;
    case kStepPivot: what = "pivot_root"; break;
    default:
      if (res.step >= kStepOps && res.step - kStepOps < static_cast<int>(p.mount_ops.size())) {
        what = OpText(p.mount_ops[static_cast<std::size_t>(res.step - kStepOps)], p.run_dir);
      } else {
        what = "mount setup";
      }
  }
  out.why = what + ": " + ErrnoName(res.err);
  if (res.step == kStepUnshare && r.userns < 0) {
    out.why += "; no user namespace either: " + ErrnoName(r.userns_err);
  }
}

}  // namespace

const LayerOps kMountLayer = {Layer::kMount, Prepare, Enter, Apply, Describe};

}  // namespace bg::sandbox::internal
