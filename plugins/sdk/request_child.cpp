#include "plugins/sdk/request_child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>

#include "agent/sandbox/spec_json.h"
#include "plugins/sdk/request.h"

namespace bg::sdk {
namespace {

double NowMs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double TimevalMs(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
}

bool WriteAll(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, p + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Threads of this process: fork is safe only with one (the child would inherit locks held by
// threads that do not exist in it).
int ThreadCount() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return -1;
}

PluginResult ErrorResult(const std::string& what) {
  auto r = PluginResult::Error(kReasonPluginError, "the check could not run: " + what);
  r.details["error"] = what;
  return r;
}

// Every descriptor but 0, 1, 2 and `keep` (ascending) closed.
void CloseAllBut(int keep_a, int keep_b) {
  const int lo = std::min(keep_a, keep_b), hi = std::max(keep_a, keep_b);
  auto close_range = [](unsigned first, unsigned last) {
    if (first <= last) ::syscall(SYS_close_range, first, last, 0);
  };
  close_range(3, static_cast<unsigned>(lo) - 1);
  close_range(static_cast<unsigned>(lo) + 1, static_cast<unsigned>(hi) - 1);
  close_range(static_cast<unsigned>(hi) + 1, ~0u);
}

// In the forked child: never returns.
[[noreturn]] void RunChild(const PluginSpec& spec, const ChildRequest& req,
                           const sandbox::PreparedSandbox& box, int result_fd, int report_fd,
                           int output_fd, pid_t worker) {
  // Dies with the worker: where there is no PID namespace to take it along (no user
  // namespaces), nothing else would end a child whose worker was killed.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != worker) ::_exit(127);
  ::setpgid(0, 0);
  // Never the worker's request stream on descriptor 0: without /dev/null, no check.
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0 || ::dup2(null, STDIN_FILENO) < 0) ::_exit(127);
  ::dup2(output_fd, STDOUT_FILENO);
  ::dup2(output_fd, STDERR_FILENO);
  CloseAllBut(result_fd, report_fd);  // the worker's streams, the output pipe's spare end
  sandbox::Report report{};
  const bool entered = box.Enter(&report);
  WriteAll(report_fd, &report, sizeof report);
  ::close(report_fd);
  if (!entered) ::_exit(127);
  ::setenv("TMPDIR", box.TmpDir(report), 1);
  PluginResult result;
  if (::chdir(req.bundle_dir.c_str()) != 0) {
    result = ErrorResult("cannot enter the bundle directory: " + std::string(::strerror(errno)));
  } else {
    try {
      auto request = ParseRequest(*req.request);
      result = request.ok() ? spec.check(*request) : ErrorResult(request.status().message());
    } catch (const std::exception& e) {
      result = ErrorResult(std::string("internal error: ") + e.what());
    } catch (...) {
      result = ErrorResult("internal error: unknown exception");
    }
  }
  std::cout.flush();
  std::fflush(nullptr);
  const std::string text = DumpJson(result.ToJson());
  ::_exit(WriteAll(result_fd, text.data(), text.size()) ? 0 : 1);
}

// The parent's side of one child: its three pipes and its pidfd, until the child has exited
// and its result pipe is at EOF, or the deadline.
class Supervision {
 public:
  Supervision(pid_t child, int result_fd, int output_fd, int report_fd, double deadline,
              std::uint64_t max_output, ChildAnswer* answer)
      : child_(child), deadline_(deadline), max_output_(max_output), answer_(answer) {
    fds_[kResult] = {result_fd, POLLIN, 0};
    fds_[kOutput] = {output_fd, POLLIN, 0};
    fds_[kReport] = {report_fd, POLLIN, 0};
    fds_[kExit] = {static_cast<int>(::syscall(SYS_pidfd_open, child, 0)), POLLIN, 0};
    // Room for all of it up front: a buffer that grew would leave its old copy unwiped in the
    // heap that the next request's child is forked from.
    answer_->result.reserve(static_cast<std::size_t>(max_output_) + sizeof(Chunk));
    answer_->stderr_tail.reserve(kTailCapacity);
    report_.reserve(kReportCapacity);
  }
  ~Supervision() {
    if (fds_[kExit].fd >= 0) ::close(fds_[kExit].fd);
  }

  // False on a timeout (or when poll itself fails: `failed()`); `overflowed()` when the result
  // grew past its limit.
  bool Run() {
    double exited_at = -1;
    while (true) {
      const double now = NowMs();
      if (now >= deadline_) return false;
      // Once the child has exited, what still holds its pipes (a grandchild that left its
      // group where there is no PID namespace) gets a short grace, not the whole deadline.
      if (exited_at >= 0 && (Done() || now - exited_at > 200)) return true;
      if (exited_at < 0 && fds_[kExit].fd < 0 && Done()) {
        // No pidfd (a kernel before 5.3): the pipes closed, so wait for the exit itself (the
        // sandbox's supervisor relays the status after the payload's pipes have closed).
        if (Exited()) return true;
        ::usleep(5000);
        continue;
      }
      const double left = exited_at >= 0 ? 50 : std::min(deadline_ - now, 1000.0);
      const int r = ::poll(fds_, kCount, static_cast<int>(left) + 1);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        failed_ = true;
        failed_errno_ = errno;
        return false;
      }
      if (fds_[kExit].fd >= 0 && (fds_[kExit].revents & POLLIN) && exited_at < 0) {
        exited_at = NowMs();
        ::kill(-child_, SIGKILL);  // what the check left running in its group
        fds_[kExit].events = 0;
      }
      Drain(kResult);
      Drain(kOutput);
      Drain(kReport);
      if (overflowed_) return true;
    }
  }
  bool overflowed() const { return overflowed_; }
  bool failed() const { return failed_; }
  int failed_errno() const { return failed_errno_; }
  const std::string& report_bytes() const { return report_; }

 private:
  enum { kResult = 0, kOutput, kReport, kExit, kCount };

  using Chunk = char[16384];
  static constexpr std::size_t kTailCapacity = 2 * kStderrTailBytes + sizeof(Chunk);
  static constexpr std::size_t kReportCapacity = 4096 + sizeof(Chunk);

  bool Done() const { return fds_[kResult].fd < 0 && fds_[kOutput].fd < 0 && fds_[kReport].fd < 0; }

  bool Exited() const {
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(child_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == child_;
  }

  void Drain(int i) {
    pollfd& p = fds_[i];
    if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) return;
    Chunk buf;
    const ssize_t n = ::read(p.fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      p.fd = -1;  // closed by the caller
      return;
    }
    const std::size_t got = static_cast<std::size_t>(n);
    if (i == kResult) {
      if (answer_->result.size() + got > max_output_) {
        overflowed_ = true;
        ::kill(-child_, SIGKILL);
      } else {
        answer_->result.append(buf, got);
      }
    } else if (i == kOutput) {
      std::string& tail = answer_->stderr_tail;  // in place: never beyond its capacity
      if (got >= kStderrTailBytes) {
        tail.assign(buf + got - kStderrTailBytes, kStderrTailBytes);
      } else {
        if (tail.size() + got > kTailCapacity) tail.erase(0, tail.size() + got - kStderrTailBytes);
        tail.append(buf, got);
      }
    } else if (report_.size() < 4096) {
      report_.append(buf, got);
    }
    ::explicit_bzero(buf, sizeof buf);
  }

  const pid_t child_;
  const double deadline_;
  const std::uint64_t max_output_;
  ChildAnswer* const answer_;
  pollfd fds_[kCount];
  std::string report_;
  bool overflowed_ = false, failed_ = false;
  int failed_errno_ = 0;
};

struct Pipe {
  int r = -1, w = -1;
  bool Open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    r = fds[0];
    w = fds[1];
    return true;
  }
  void Close() {
    for (int* fd : {&r, &w}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }
};

// What a request left behind outside its group (a setsid grandchild, where there is no PID
// namespace to take it along): the worker is a subreaper (serve.cpp), so such orphans are its
// children now (only its own: no one else can reap them, so their pids cannot be reused). Each
// is killed and reaped, in rounds until none is left (their own orphans come to the worker in
// turn), at most 200 rounds: what is killed forks no more, and the request's process limit
// bounds the rest. Needs /proc/<tid>/children (CONFIG_PROC_CHILDREN, as on Debian's kernels).
void KillLeftovers() {
  const std::string path = "/proc/thread-self/children";
  for (int round = 0; round < 200; ++round) {
    std::ifstream in(path);
    bool any = false;
    for (long pid; in >> pid;) {
      any = true;
      ::kill(static_cast<pid_t>(pid), SIGKILL);
    }
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    if (!any) return;
    ::usleep(1000);
  }
}

}  // namespace

void Wipe(std::string& s) {
  if (s.capacity() > 0) ::explicit_bzero(s.data(), s.capacity());
  s.clear();
  s.shrink_to_fit();
}

void RunRequestChild(const PluginSpec& spec, const ChildRequest& req, ChildAnswer* answer) {
  const double start = NowMs();
  // The worker (the plugin user, in its own view of work/) must reach the bundle to show it to
  // the child; if it cannot, the agent checks the bundle cold instead.
  if (::access(req.bundle_dir.c_str(), R_OK | X_OK) != 0) {
    answer->outcome = "sandbox-error";
    answer->message = "the worker cannot reach " + req.bundle_dir + ": " + std::strerror(errno);
    return;
  }
  std::string error;
  auto box = sandbox::PreparedSandbox::Prepare(sandbox::RequestSpec(req.run, req.bundle_dir), &error);
  if (!box) {
    answer->outcome = "sandbox-error";
    answer->message = "the request's sandbox cannot be prepared: " + error;
    return;
  }
  Pipe result, output, report;
  if (ThreadCount() != 1 || !result.Open() || !output.Open() || !report.Open()) {
    result.Close(), output.Close(), report.Close();
    answer->outcome = "refused";
    answer->message = "the worker cannot fork safely (not single-threaded, or out of descriptors)";
    return;
  }
  std::fflush(nullptr);
  const pid_t worker = ::getpid();
  const pid_t child = ::fork();
  if (child == 0) RunChild(spec, req, *box, result.w, report.w, output.w, worker);
  ::close(result.w), ::close(output.w), ::close(report.w);
  if (child < 0) {
    ::close(result.r), ::close(output.r), ::close(report.r);
    answer->outcome = "refused";
    answer->message = std::string("fork: ") + ::strerror(errno);
    return;
  }
  ::setpgid(child, child);  // also in the child: whichever runs first
  Supervision watch(child, result.r, output.r, report.r, start + req.timeout_ms,
                    std::min<std::uint64_t>(req.max_output_bytes, kMaxRequestBytes), answer);
  const bool finished = watch.Run();
  ::close(result.r), ::close(output.r), ::close(report.r);
  ::kill(-child, SIGKILL);  // on a timeout or an overflow; else what is left in its group
  int status = -1;
  rusage ru{};
  pid_t waited;
  while ((waited = ::wait4(child, &status, 0, &ru)) < 0 && errno == EINTR) {
  }
  const bool status_known = waited == child;
  KillLeftovers();
  answer->ms = NowMs() - start;
  answer->cpu_ms = TimevalMs(ru.ru_utime) + TimevalMs(ru.ru_stime);
  answer->max_rss_kb = ru.ru_maxrss;
  if (status_known && WIFSIGNALED(status)) answer->signal = WTERMSIG(status);
  if (status_known && WIFEXITED(status)) answer->exit_code = WEXITSTATUS(status);

  sandbox::Report rep{};
  const std::string& bytes = watch.report_bytes();
  const bool reported = bytes.size() >= sizeof rep;
  if (reported) std::memcpy(&rep, bytes.data(), sizeof rep);
  if (watch.failed() || !status_known) {  // the worker's own trouble, not the bundle's
    answer->outcome = "refused";
    answer->message = watch.failed() ? std::string("poll: ") + std::strerror(watch.failed_errno())
                                     : "the request child's status was lost (SIGCHLD ignored?)";
  } else if (!finished) {
    answer->outcome = "timeout";
  } else if (watch.overflowed()) {
    answer->outcome = "overflow";
  } else if (!reported) {
    answer->outcome = answer->signal ? "crashed" : "sandbox-error";
    answer->message = "the request child ended before its sandbox was set up";
  } else if (rep.fatal_step != 0) {
    answer->outcome = "sandbox-error";
    answer->message = box->DescribeFatal(rep);
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !answer->result.empty()) {
    answer->outcome = "result";
  } else {
    answer->outcome = "crashed";
  }
  if (reported && rep.fatal_step == 0) answer->isolation = sandbox::LayersToJson(box->Describe(rep));
  if (answer->outcome != "result") Wipe(answer->result);
  std::string& tail = answer->stderr_tail;
  if (tail.size() > kStderrTailBytes) tail.erase(0, tail.size() - kStderrTailBytes);
}

}  // namespace bg::sdk
