#include "agent/plugin/child_spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "agent/core/errno_status.h"
#include "agent/sandbox/spec_json.h"

namespace bg {
namespace {

// The steps of the child's setup, named in errors. kStageReady: all done, exec follows.
enum SetupStage : std::int32_t {
  kStageReady = 0,
  kStageProcessGroup,
  kStageDeathSignal,
  kStageStdio,
  kStageSandbox,
  kStageCwd,
  kStageNoNewPrivs,
  kStageExec,
};

// One record of the setup report; written with one write(2) (< PIPE_BUF, so atomic).
struct SetupRecord {
  std::int32_t stage = kStageReady;
  std::int32_t err = 0;
  sandbox::Report sandbox{};
};
static_assert(sizeof(SetupRecord) < 512, "a setup record must fit one atomic pipe write");

constexpr int kReportFdInChild = 3;

// Everything the child uses, prepared before fork: between fork and exec it may not allocate.
struct Prepared {
  std::vector<std::string> argv_strings;
  std::vector<char*> argv;
  // The environment twice: with TMPDIR for the sandbox's own tmpfs, and for its run directory.
  std::vector<std::string> env_in_view, env_on_host;
  std::vector<char*> envp_in_view, envp_on_host;
  pid_t parent = 0;
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1, report_fd = -1;
  const sandbox::PreparedSandbox* sandbox = nullptr;
  std::string cwd;
  unsigned max_fd = 1024;  // for closing fds where close_range(2) is missing
};

const char* StageName(std::int32_t stage) {
  switch (stage) {
    case kStageProcessGroup: return "setsid";
    case kStageDeathSignal: return "PR_SET_PDEATHSIG";
    case kStageStdio: return "redirecting stdio";
    case kStageSandbox: return "sandbox";
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

[[noreturn]] void Die(int report_fd, SetupRecord& rec, SetupStage stage) {
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

[[noreturn]] void ChildMain(const Prepared& p) {
  SetupRecord rec;
  if (::setsid() < 0) Die(p.report_fd, rec, kStageProcessGroup);
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != p.parent) {
    Die(p.report_fd, rec, kStageDeathSignal);
  }
  ResetSignals();
  if (!SetupStdio(p)) Die(p.report_fd, rec, kStageStdio);
  CloseOtherFds(p);  // the sandbox's supervisors must not hold the agent's fds
  if (!p.sandbox->Enter(&rec.sandbox)) Die(kReportFdInChild, rec, kStageSandbox);
  if (::chdir(p.cwd.c_str()) != 0) Die(kReportFdInChild, rec, kStageCwd);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Die(kReportFdInChild, rec, kStageNoNewPrivs);
  WriteRecord(kReportFdInChild, rec);
  char* const* envp = rec.sandbox.applied(sandbox::Layer::kMount) ? p.envp_in_view.data()
                                                                   : p.envp_on_host.data();
  ::execve(p.argv[0], p.argv.data(), envp);
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

void PrepareEnvironment(const SpawnRequest& request, const sandbox::PreparedSandbox& sandbox,
                        Prepared& p) {
  std::vector<std::string> env;
  const bool own_tmp = !sandbox.run_dir().empty();
  for (const auto& e : request.env) {
    if (!own_tmp || e.rfind("TMPDIR=", 0) != 0) env.push_back(e);
  }
  p.env_in_view = env;
  p.env_on_host = env;
  if (own_tmp) {
    p.env_in_view.push_back("TMPDIR=/tmp");
    p.env_on_host.push_back("TMPDIR=" + sandbox.run_dir());
  }
  p.envp_in_view = CStrings(p.env_in_view);
  p.envp_on_host = CStrings(p.env_on_host);
}

}  // namespace

sandbox::Spec MinimalSandbox() {
  sandbox::Spec spec;
  spec.layers = sandbox::LayerSet::Of({sandbox::Layer::kRlimit, sandbox::Layer::kNetwork});
  spec.processes = 0;
  return spec;
}

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
  std::string error;
  parent.sandbox = sandbox::PreparedSandbox::Prepare(request.sandbox, &error);
  if (!parent.sandbox) return Status::Error("preparing the sandbox: " + error);
  UniqueFd child_in, child_out, child_err, child_report;
  BG_RETURN_IF_ERROR(MakePipe(child_in, parent.stdin_fd));
  BG_RETURN_IF_ERROR(MakePipe(parent.stdout_fd, child_out));
  BG_RETURN_IF_ERROR(MakePipe(parent.stderr_fd, child_err));
  BG_RETURN_IF_ERROR(MakePipe(parent.report_fd, child_report));

  Prepared p;
  p.argv_strings = request.argv;
  p.argv = CStrings(p.argv_strings);
  PrepareEnvironment(request, *parent.sandbox, p);
  p.parent = ::getpid();
  p.stdin_fd = child_in.get();
  p.stdout_fd = child_out.get();
  p.stderr_fd = child_err.get();
  p.report_fd = child_report.get();
  p.sandbox = parent.sandbox.get();
  p.cwd = request.cwd.empty() ? "/" : request.cwd;
  rlimit fds{};
  ::getrlimit(RLIMIT_NOFILE, &fds);
  p.max_fd = static_cast<unsigned>(std::min<rlim_t>(fds.rlim_cur, 65536));

  const pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus("fork", request.argv[0]);
  if (pid == 0) ChildMain(p);
  parent.pid = pid;
  return parent;
}

bool IsolationReport::applied(sandbox::Layer layer) const {
  for (const auto& l : layers) {
    if (l.layer == layer) return l.state == sandbox::LayerState::kApplied;
  }
  return false;
}

Json IsolationReport::ToJson() const { return sandbox::LayersToJson(layers); }

Result<IsolationReport> DecodeSetupReport(std::string_view bytes,
                                          const sandbox::PreparedSandbox& sandbox) {
  SetupRecord rec;
  if (bytes.size() < sizeof rec) {
    return Status::Error("the child ended before it was set up (no setup report)");
  }
  std::memcpy(&rec, bytes.data(), sizeof rec);
  if (bytes.size() >= 2 * sizeof rec) std::memcpy(&rec, bytes.data() + sizeof rec, sizeof rec);
  if (rec.stage == kStageSandbox) return Status::Error(sandbox.DescribeFatal(rec.sandbox));
  if (rec.stage != kStageReady) {
    return Status::Error(std::string(StageName(rec.stage)) + ": " + ErrnoText(rec.err));
  }
  IsolationReport r;
  r.layers = sandbox.Describe(rec.sandbox);
  for (const auto& l : r.layers) {
    if (l.state == sandbox::LayerState::kNotApplied) r.notes.push_back(l.name + ": " + l.why);
  }
  return r;
}

}  // namespace bg
