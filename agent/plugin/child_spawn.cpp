#include "agent/plugin/child_spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "agent/core/errno_status.h"

namespace bg {
namespace {

// The steps of the child's setup, named in errors. kStageReady: all done, exec follows.
enum SetupStage : std::int32_t {
  kStageReady = 0,
  kStageProcessGroup,
  kStageDeathSignal,
  kStageIdMaps,
  kStageStdio,
  kStageLimits,
  kStageCwd,
  kStageNoNewPrivs,
  kStageExec,
};

constexpr std::uint32_t kFlagNetwork = 1;
constexpr std::uint32_t kFlagMountNs = 2;
constexpr std::uint32_t kFlagReadonly = 4;
constexpr std::uint32_t kFlagUserNs = 8;

// One record of the setup report; written with one write(2) (< PIPE_BUF, so atomic).
struct SetupRecord {
  std::int32_t stage = kStageReady;
  std::int32_t err = 0;
  std::uint32_t flags = 0;
  std::int32_t unshare_err = 0;  // errno of the direct unshare; 0 when it worked
  std::int32_t userns_err = 0;   // errno of the user-namespace attempt; 0 when not needed
  std::int32_t mount_err = 0;    // errno of the read-only bind mount
};

constexpr int kReportFdInChild = 3;

// Everything the child uses, prepared before fork: between fork and exec it may not allocate.
struct Prepared {
  std::vector<std::string> argv_strings, env_strings;
  std::vector<char*> argv, envp;
  pid_t parent = 0;
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1, report_fd = -1;
  int namespaces = 0;  // CLONE_NEW* flags wanted
  std::string readonly_dir;
  unsigned long remount_flags = 0;  // the mount's own flags, kept (a user namespace locks them)
  std::string uid_map, gid_map;
  rlimit as{}, cpu{}, nofile{};
  bool limit_as = false, limit_cpu = false;
  std::string cwd;
  unsigned max_fd = 1024;  // for closing fds where close_range(2) is missing
};

const char* StageName(std::int32_t stage) {
  switch (stage) {
    case kStageProcessGroup: return "setsid";
    case kStageDeathSignal: return "PR_SET_PDEATHSIG";
    case kStageIdMaps: return "writing the user namespace's id maps";
    case kStageStdio: return "redirecting stdio";
    case kStageLimits: return "setrlimit";
    case kStageCwd: return "chdir";
    case kStageNoNewPrivs: return "PR_SET_NO_NEW_PRIVS";
    case kStageExec: return "exec";
    default: return "setup";
  }
}

std::string ErrnoText(int err) {
  const char* text = ::strerrordesc_np(err);
  return text ? text : "errno " + std::to_string(err);
}

// ---- In the child: async-signal-safe calls only. ----

void WriteRecord(int fd, const SetupRecord& rec) {
  while (::write(fd, &rec, sizeof rec) < 0 && errno == EINTR) {
  }
}

[[noreturn]] void Die(int report_fd, SetupRecord rec, SetupStage stage) {
  rec.stage = stage;
  rec.err = errno;
  WriteRecord(report_fd, rec);
  ::_exit(127);
}

void ResetSignals() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

bool WriteProcFile(const char* path, const std::string& text) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

std::uint32_t NamespaceFlags(int namespaces) {
  return ((namespaces & CLONE_NEWNET) ? kFlagNetwork : 0) |
         ((namespaces & CLONE_NEWNS) ? kFlagMountNs : 0);
}

// Privileged: unshare directly. Unprivileged: through a user namespace mapping only our own ids.
// Neither: the network alone (CAP_NET_ADMIN without CAP_SYS_ADMIN), else nothing. False only
// when a user namespace was entered but its id maps could not be written (fatal: unmapped ids).
bool EnterNamespaces(const Prepared& p, SetupRecord& rec) {
  if (p.namespaces == 0) return true;
  if (::unshare(p.namespaces) == 0) {
    rec.flags |= NamespaceFlags(p.namespaces);
    return true;
  }
  rec.unshare_err = errno;
  if (::unshare(CLONE_NEWUSER | p.namespaces) == 0) {
    rec.flags |= kFlagUserNs | NamespaceFlags(p.namespaces);
    return WriteProcFile("/proc/self/setgroups", "deny") &&
           WriteProcFile("/proc/self/uid_map", p.uid_map) &&
           WriteProcFile("/proc/self/gid_map", p.gid_map);
  }
  rec.userns_err = errno;
  if ((p.namespaces & CLONE_NEWNET) && ::unshare(CLONE_NEWNET) == 0) rec.flags |= kFlagNetwork;
  return true;
}

// Private propagation first, so that the bind mount never shows in the agent's namespace.
void MountReadonly(const Prepared& p, SetupRecord& rec) {
  const char* dir = p.readonly_dir.c_str();
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      ::mount(dir, dir, nullptr, MS_BIND, nullptr) != 0 ||
      ::mount(nullptr, dir, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | p.remount_flags,
              nullptr) != 0) {
    rec.mount_err = errno;
    return;
  }
  rec.flags |= kFlagReadonly;
}

// The parent made sure every source fd is above 2, so no dup2 clobbers another source.
bool SetupStdio(const Prepared& p) {
  if (::dup2(p.stdin_fd, 0) < 0 || ::dup2(p.stdout_fd, 1) < 0 || ::dup2(p.stderr_fd, 2) < 0) {
    return false;
  }
  if (p.report_fd != kReportFdInChild &&
      ::dup3(p.report_fd, kReportFdInChild, O_CLOEXEC) < 0) {
    return false;
  }
  return true;
}

void CloseOtherFds(const Prepared& p) {
  if (::syscall(SYS_close_range, kReportFdInChild + 1, ~0U, 0) == 0) return;
  for (unsigned fd = kReportFdInChild + 1; fd < p.max_fd; ++fd) ::close(static_cast<int>(fd));
}

bool SetLimits(const Prepared& p) {
  const rlimit no_core{0, 0};
  return ::setrlimit(RLIMIT_CORE, &no_core) == 0 && ::setrlimit(RLIMIT_NOFILE, &p.nofile) == 0 &&
         (!p.limit_as || ::setrlimit(RLIMIT_AS, &p.as) == 0) &&
         (!p.limit_cpu || ::setrlimit(RLIMIT_CPU, &p.cpu) == 0);
}

[[noreturn]] void ChildMain(const Prepared& p) {
  SetupRecord rec;
  if (::setsid() < 0) Die(p.report_fd, rec, kStageProcessGroup);
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != p.parent) {
    Die(p.report_fd, rec, kStageDeathSignal);
  }
  ResetSignals();
  if (!EnterNamespaces(p, rec)) Die(p.report_fd, rec, kStageIdMaps);
  if (rec.flags & kFlagMountNs) MountReadonly(p, rec);
  if (!SetupStdio(p)) Die(p.report_fd, rec, kStageStdio);
  if (!SetLimits(p)) Die(kReportFdInChild, rec, kStageLimits);
  if (::chdir(p.cwd.c_str()) != 0) Die(kReportFdInChild, rec, kStageCwd);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Die(kReportFdInChild, rec, kStageNoNewPrivs);
  CloseOtherFds(p);
  WriteRecord(kReportFdInChild, rec);
  ::execve(p.argv[0], p.argv.data(), p.envp.data());
  Die(kReportFdInChild, rec, kStageExec);
}

// ---- In the parent. ----

// Moves `fd` above the standard streams (an agent started with stdin closed gets pipes at 0).
int AboveStdio(int fd) {
  if (fd > 2) return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return moved;
}

Status MakePipe(UniqueFd& read_end, UniqueFd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe2", "");
  read_end.Reset(AboveStdio(fds[0]));
  write_end.Reset(AboveStdio(fds[1]));
  if (!read_end || !write_end) return ErrnoStatus("fcntl(F_DUPFD_CLOEXEC)", "");
  return Status::Ok();
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

unsigned long MountFlagsOf(const std::string& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return 0;
  unsigned long flags = 0;
  if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

// `soft` and `hard`, lowered to the agent's own hard limit (an unprivileged child cannot raise it).
using RlimitResource = decltype(RLIMIT_AS);  // an enum in glibc's C++ declarations

rlimit Capped(RlimitResource resource, rlim_t soft, rlim_t hard) {
  rlimit current{};
  if (::getrlimit(resource, &current) != 0) current.rlim_max = RLIM_INFINITY;
  return {std::min(soft, current.rlim_max), std::min(hard, current.rlim_max)};
}

void PrepareLimits(const SandboxSpec& s, Prepared& p) {
  p.nofile = Capped(RLIMIT_NOFILE, s.max_open_files, s.max_open_files);
  rlimit fds{};
  ::getrlimit(RLIMIT_NOFILE, &fds);
  p.max_fd = static_cast<unsigned>(std::min<rlim_t>(fds.rlim_cur, 65536));
  p.limit_as = s.memory_bytes > 0;
  p.as = Capped(RLIMIT_AS, s.memory_bytes, s.memory_bytes);
  p.limit_cpu = s.cpu_seconds > 0;
  p.cpu = Capped(RLIMIT_CPU, s.cpu_seconds, s.cpu_seconds + 5);
}

void PrepareSandbox(const SandboxSpec& s, Prepared& p) {
  p.parent = ::getpid();
  p.namespaces = (s.isolate_network ? CLONE_NEWNET : 0) | (s.readonly_dir.empty() ? 0 : CLONE_NEWNS);
  p.readonly_dir = s.readonly_dir;
  if (!s.readonly_dir.empty()) p.remount_flags = MountFlagsOf(s.readonly_dir);
  const std::string uid = std::to_string(::getuid()), gid = std::to_string(::getgid());
  p.uid_map = uid + " " + uid + " 1\n";
  p.gid_map = gid + " " + gid + " 1\n";
  p.cwd = s.cwd.empty() ? "/" : s.cwd;
  PrepareLimits(s, p);
}

std::string NamespaceWhy(const SetupRecord& rec) {
  std::string why = "unshare: " + ErrnoText(rec.unshare_err);
  if (rec.userns_err != 0) why += "; with a user namespace: " + ErrnoText(rec.userns_err);
  return why;
}

}  // namespace

void IgnoreSigpipeOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction old {};
    if (::sigaction(SIGPIPE, nullptr, &old) != 0) return;
    if ((old.sa_flags & SA_SIGINFO) == 0 && old.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);
  });
}

Result<SpawnedChild> SpawnChild(const SpawnRequest& request) {
  if (request.argv.empty() || request.argv[0].empty() || request.argv[0][0] != '/') {
    return Status::Error("SpawnChild: argv[0] must be an absolute path");
  }
  IgnoreSigpipeOnce();
  SpawnedChild parent;
  UniqueFd child_in, child_out, child_err, child_report;
  BG_RETURN_IF_ERROR(MakePipe(child_in, parent.stdin_fd));
  BG_RETURN_IF_ERROR(MakePipe(parent.stdout_fd, child_out));
  BG_RETURN_IF_ERROR(MakePipe(parent.stderr_fd, child_err));
  BG_RETURN_IF_ERROR(MakePipe(parent.report_fd, child_report));

  Prepared p;
  p.argv_strings = request.argv;
  p.env_strings = request.env;
  p.argv = CStrings(p.argv_strings);
  p.envp = CStrings(p.env_strings);
  p.stdin_fd = child_in.get();
  p.stdout_fd = child_out.get();
  p.stderr_fd = child_err.get();
  p.report_fd = child_report.get();
  PrepareSandbox(request.sandbox, p);

  const pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus("fork", request.argv[0]);
  if (pid == 0) ChildMain(p);
  parent.pid = pid;
  return parent;
}

Json IsolationReport::ToJson() const {
  Json j = {{"network_namespace", network},
            {"read_only_mount", readonly_dir},
            {"user_namespace", user_namespace}};
  if (!notes.empty()) j["notes"] = notes;
  return j;
}

Result<IsolationReport> DecodeSetupReport(std::string_view bytes, const SandboxSpec& sandbox) {
  SetupRecord rec;
  if (bytes.size() < sizeof rec) {
    return Status::Error("the child ended before it was set up (no setup report)");
  }
  std::memcpy(&rec, bytes.data(), sizeof rec);
  if (bytes.size() >= 2 * sizeof rec) std::memcpy(&rec, bytes.data() + sizeof rec, sizeof rec);
  if (rec.stage != kStageReady) {
    return Status::Error(std::string(StageName(rec.stage)) + ": " + ErrnoText(rec.err));
  }
  IsolationReport r;
  r.network = rec.flags & kFlagNetwork;
  r.readonly_dir = rec.flags & kFlagReadonly;
  r.user_namespace = rec.flags & kFlagUserNs;
  if (sandbox.isolate_network && !r.network) {
    r.notes.push_back("no network namespace (" + NamespaceWhy(rec) + "): network reachable");
  }
  if (!sandbox.readonly_dir.empty() && !r.readonly_dir) {
    const std::string why = (rec.flags & kFlagMountNs) ? "mount: " + ErrnoText(rec.mount_err)
                                                       : NamespaceWhy(rec);
    r.notes.push_back("directory not mounted read-only (" + why +
                      "): only its file modes protect it");
  }
  return r;
}

}  // namespace bg
