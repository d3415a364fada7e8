// The PID layer: a PID namespace, so that everything the payload starts dies with it, at exit
// or at the caller's timeout, whatever it did to escape (setsid, double fork, a new process
// group). Three processes:
//   A  the process the caller forked, outside the namespace. After unshare(CLONE_NEWPID) it
//      forks B and waits; it then exits as the payload did (its exit status, or the same
//      signal), so the caller sees one child whose status is the plugin's and whose rusage
//      covers them all. It keeps no fd but its link to B.
//   B  PID 1 of the namespace: phase 2 runs here, then it forks C and stays as init, reaping
//      orphans, until C exits; it then writes C's wait status to A and exits, and the kernel
//      kills whatever is left in the namespace. It dies with A (PR_SET_PDEATHSIG, re-armed
//      after the user layer changed its credentials, and a check of the link for the race).
//      It is not dumpable, so the payload cannot read or write its memory.
//   C  PID 2: the payload, which Enter returns in.
// Killing A's process group (the caller's timeout) kills A and B (C too unless it left the
// group), and with B the whole namespace. PID 1 ignores signals from inside its namespace that
// it has no handler for, so the payload cannot kill B either.
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "agent/sandbox/layer.h"

namespace bg::sandbox::internal {
namespace {

enum Step : std::int32_t { kStepUnshare = 1 };

int g_link = -1;  // B's end of the link to A (per process; set after fork)

bool ParentGone(int link) {
  pollfd pfd{link, POLLIN | POLLRDHUP, 0};
  return ::poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
}

void DieWithParent(int link) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (ParentGone(link)) ::_exit(127);
}

// A: wait for B, then end as the payload ended.
[[noreturn]] void Relay(pid_t b, int link) {
  int status = 0;
  while (::waitpid(b, &status, 0) < 0) {
    if (errno != EINTR) ::_exit(127);
  }
  int payload = 0;
  ssize_t n;
  while ((n = ::read(link, &payload, sizeof payload)) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof payload)) status = payload;
  if (WIFEXITED(status)) ::_exit(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    ::prctl(PR_SET_DUMPABLE, 0);  // the payload dumped core already, if anything did
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(sig, &dfl, nullptr);
    sigset_t set;
    ::sigemptyset(&set);
    ::sigaddset(&set, sig);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    ::kill(::getpid(), sig);
    ::_exit(128 + sig);
  }
  ::_exit(127);
}

// B, as init: reap everything until C exits.
[[noreturn]] void Init(pid_t c, int link) {
  for (;;) {
    int status = 0;
    const pid_t w = ::waitpid(-1, &status, 0);
    if (w == c) {
      while (::write(link, &status, sizeof status) < 0 && errno == EINTR) {
      }
      ::_exit(0);
    }
    if (w < 0 && errno == ECHILD) ::_exit(127);
  }
}

void Enter(const Prepared&, Report& r) {
  LayerResult& res = r.of(Layer::kPid);
  if (::unshare(CLONE_NEWPID) != 0) {
    MarkFailed(res, kStepUnshare, errno);
    return;
  }
  int link[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, link) != 0) {
    Fatal(r, kFatalFork, errno);
    return;
  }
  const pid_t b = ::fork();
  if (b < 0) {
    Fatal(r, kFatalFork, errno);
    return;
  }
  if (b > 0) {
    CloseAllFdsExcept(link[0]);
    Relay(b, link[0]);
  }
  ::close(link[0]);
  g_link = link[1];
  DieWithParent(g_link);
  MarkApplied(res);
}

void Apply(const Prepared&, Report& r) {
  const pid_t c = ::fork();
  if (c < 0) {
    Fatal(r, kFatalFork, errno);
    return;
  }
  if (c == 0) {
    ::close(g_link);
    g_link = -1;
    return;
  }
  CloseAllFdsExcept(g_link);
  ::prctl(PR_SET_DUMPABLE, 0);
  DieWithParent(g_link);  // the user layer's change of credentials cleared it
  Init(c, g_link);
}

void Describe(const Prepared&, const Report& r, LayerOutcome& out) {
  const LayerResult& res = r.of(Layer::kPid);
  if (res.state == LayerState::kApplied) return;
  out.why = "unshare(CLONE_NEWPID): " + ErrnoName(res.err);
  if (r.userns < 0) out.why += "; no user namespace either: " + ErrnoName(r.userns_err);
}

}  // namespace

const LayerOps kPidLayer = {Layer::kPid, nullptr, Enter, Apply, Describe};

}  // namespace bg::sandbox::internal
