#include "agent/plugin/child_process.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace bg {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

constexpr auto kExitPollInterval = std::chrono::milliseconds(20);
constexpr auto kCancelPollInterval = std::chrono::milliseconds(250);
// After a kill: how long the pipes may stay open before the run ends without their EOF.
constexpr auto kKillGrace = std::chrono::seconds(2);
constexpr std::size_t kMaxReportBytes = 1024;

double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double TimevalMillis(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) * 1000.0 + static_cast<double>(tv.tv_usec) / 1000.0;
}

// One of the child's output pipes, read to EOF.
struct OutputPipe {
  explicit OutputPipe(asio::io_context& loop) : sd(loop) {}
  asio::posix::stream_descriptor sd;
  std::vector<char> buf = std::vector<char>(64 * 1024);
  bool eof = false;
};

class ChildSession : public std::enable_shared_from_this<ChildSession> {
 public:
  ChildSession(asio::io_context& loop, ChildRun run, std::function<void(ChildOutcome)> done)
      : run_(std::move(run)), done_(std::move(done)), stdin_(loop), out_(loop), err_(loop),
        report_(loop), pidfd_(loop), deadline_(loop), poll_timer_(loop), cancel_timer_(loop) {}
  ~ChildSession();
  void Start();

 private:
  using Sink = void (ChildSession::*)(std::size_t n);
  void WriteStdin();
  void Read(OutputPipe& pipe, Sink sink);
  void OnStdout(std::size_t n);
  void OnStderr(std::size_t n);
  void OnReport(std::size_t n);
  void WatchExit();
  void PollExit();
  void OnExited();
  void Reap();
  void WatchCancel();
  void Abort(bool& why);
  void AwaitGrace();
  void KillGroup();
  void MaybeFinish();
  void Finish();

  ChildRun run_;
  std::function<void(ChildOutcome)> done_;
  ChildOutcome outcome_;
  pid_t pid_ = -1;
  std::unique_ptr<sandbox::PreparedSandbox> sandbox_;  // its run dir and cgroup, until the end
  bool reaped_ = true;  // nothing to reap until a child is started
  bool finished_ = false;
  std::string report_bytes_;
  Clock::time_point start_;
  asio::posix::stream_descriptor stdin_;
  OutputPipe out_, err_, report_;
  asio::posix::stream_descriptor pidfd_;
  asio::steady_timer deadline_, poll_timer_, cancel_timer_;
};

ChildSession::~ChildSession() {
  if (reaped_) return;
  // The loop went away mid-run: do not leave the child behind, nor its zombie.
  ::kill(-pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

void ChildSession::Start() {
  start_ = Clock::now();
  auto spawned = SpawnChild(run_.spawn);
  if (!spawned.ok()) {
    outcome_.start_error = spawned.status();
    Finish();
    return;
  }
  pid_ = spawned->pid;
  sandbox_ = std::move(spawned->sandbox);
  reaped_ = false;
  stdin_.assign(spawned->stdin_fd.Release());
  out_.sd.assign(spawned->stdout_fd.Release());
  err_.sd.assign(spawned->stderr_fd.Release());
  report_.sd.assign(spawned->report_fd.Release());
  WriteStdin();
  Read(out_, &ChildSession::OnStdout);
  Read(err_, &ChildSession::OnStderr);
  Read(report_, &ChildSession::OnReport);
  WatchExit();
  WatchCancel();
  deadline_.expires_after(run_.timeout);
  deadline_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
    if (!ec) self->Abort(self->outcome_.timed_out);
  });
}

void ChildSession::WriteStdin() {
  if (run_.stdin_data.empty()) {
    ErrorCode ignored;
    stdin_.close(ignored);
    return;
  }
  asio::async_write(stdin_, asio::buffer(run_.stdin_data),
                    [self = shared_from_this()](const ErrorCode& ec, std::size_t) {
                      if (ec && ec != asio::error::operation_aborted) {
                        self->outcome_.stdin_incomplete = true;
                      }
                      ErrorCode ignored;
                      self->stdin_.close(ignored);
                    });
}

void ChildSession::Read(OutputPipe& pipe, Sink sink) {
  pipe.sd.async_read_some(asio::buffer(pipe.buf), [self = shared_from_this(), &pipe, sink](
                                                      const ErrorCode& ec, std::size_t n) {
    if (self->finished_) return;
    if (ec) {
      pipe.eof = true;
      self->MaybeFinish();
      return;
    }
    ((*self).*sink)(n);
    self->Read(pipe, sink);
  });
}

void ChildSession::OnStdout(std::size_t n) {
  if (outcome_.stdout_overflow) return;  // draining what the dying group still wrote
  if (outcome_.out.size() + n > run_.max_stdout_bytes) {
    outcome_.stdout_overflow = true;
    KillGroup();
    return;
  }
  outcome_.out.append(out_.buf.data(), n);
}

void ChildSession::OnStderr(std::size_t n) {
  outcome_.err_bytes += n;
  outcome_.err_tail.append(err_.buf.data(), n);
  if (outcome_.err_tail.size() > 2 * run_.stderr_tail_bytes) {
    outcome_.err_tail.erase(0, outcome_.err_tail.size() - run_.stderr_tail_bytes);
  }
}

void ChildSession::OnReport(std::size_t n) {
  if (report_bytes_.size() < kMaxReportBytes) report_bytes_.append(report_.buf.data(), n);
}

void ChildSession::WatchExit() {
  const int fd = run_.poll_for_exit ? -1 : static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (fd < 0) {
    PollExit();
    return;
  }
  pidfd_.assign(fd);
  outcome_.exit_observed_by_pidfd = true;
  pidfd_.async_wait(asio::posix::stream_descriptor::wait_read,
                    [self = shared_from_this()](const ErrorCode& ec) {
                      if (self->finished_ || ec == asio::error::operation_aborted) return;
                      if (ec) {
                        self->PollExit();
                      } else {
                        self->OnExited();
                      }
                    });
}

void ChildSession::PollExit() {
  siginfo_t info{};
  const int r = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
  if ((r == 0 && info.si_pid == pid_) || (r < 0 && errno == ECHILD)) {
    OnExited();
    return;
  }
  poll_timer_.expires_after(kExitPollInterval);
  poll_timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
    if (!ec && !self->finished_) self->PollExit();
  });
}

// The child is a zombie: its pid, and so its group id, is still ours. Kill what it left in its
// group, then reap it.
void ChildSession::OnExited() {
  KillGroup();
  Reap();
  if (!reaped_) {  // not yet reapable after all: look again shortly
    PollExit();
    return;
  }
  ErrorCode ignored;
  pidfd_.close(ignored);
  MaybeFinish();
}

void ChildSession::Reap() {
  int status = 0;
  rusage ru{};
  pid_t r;
  while ((r = ::wait4(pid_, &status, WNOHANG, &ru)) < 0 && errno == EINTR) {
  }
  if (r == 0) return;
  reaped_ = true;
  outcome_.wall_ms = Millis(Clock::now() - start_);
  if (r < 0) {
    outcome_.status_lost = true;
    return;
  }
  outcome_.exited = WIFEXITED(status);
  if (outcome_.exited) outcome_.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) outcome_.signal = WTERMSIG(status);
  outcome_.cpu_ms = TimevalMillis(ru.ru_utime) + TimevalMillis(ru.ru_stime);
  outcome_.max_rss_kb = ru.ru_maxrss;
}

void ChildSession::WatchCancel() {
  if (run_.cancelled == nullptr) return;
  cancel_timer_.expires_after(kCancelPollInterval);
  cancel_timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
    if (ec || self->finished_) return;
    if (self->run_.cancelled->load()) {
      self->Abort(self->outcome_.cancelled);
    } else {
      self->WatchCancel();
    }
  });
}

// Timeout or cancellation: kill the group, then give the pipes a short grace to reach EOF.
void ChildSession::Abort(bool& why) {
  if (finished_) return;
  why = true;
  KillGroup();
  if (reaped_) {
    Finish();  // exited already; whatever holds the pipes left its group
  } else {
    AwaitGrace();
  }
}

void ChildSession::AwaitGrace() {
  deadline_.expires_after(kKillGrace);
  deadline_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
    if (ec || self->finished_) return;
    if (self->reaped_) {
      self->Finish();
    } else {
      self->KillGroup();  // still not dead (uninterruptible sleep?): insist
      self->AwaitGrace();
    }
  });
}

// Only while the child is unreaped: its pid (and so its group id) cannot have been reused. The
// child itself too, should it have moved to another group.
void ChildSession::KillGroup() {
  if (reaped_) return;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
}

void ChildSession::MaybeFinish() {
  if (!finished_ && reaped_ && out_.eof && err_.eof && report_.eof) Finish();
}

void ChildSession::Finish() {
  finished_ = true;
  deadline_.cancel();
  poll_timer_.cancel();
  cancel_timer_.cancel();
  ErrorCode ignored;
  for (auto* sd : {&stdin_, &out_.sd, &err_.sd, &report_.sd, &pidfd_}) sd->close(ignored);
  if (outcome_.err_tail.size() > run_.stderr_tail_bytes) {
    outcome_.err_tail.erase(0, outcome_.err_tail.size() - run_.stderr_tail_bytes);
  }
  if (pid_ > 0 && outcome_.start_error.ok() && sandbox_) {
    auto isolation = DecodeSetupReport(report_bytes_, *sandbox_);
    if (isolation.ok()) {
      outcome_.isolation = std::move(isolation).value();
    } else if (!outcome_.timed_out && !outcome_.cancelled) {
      outcome_.start_error = isolation.status().WithContext("starting " + run_.spawn.argv[0]);
    }
  }
  if (reaped_) sandbox_.reset();  // removes the run's directory and cgroup
  auto done = std::move(done_);
  done(std::move(outcome_));
}

}  // namespace

void RunChildAsync(asio::io_context& loop, ChildRun run, std::function<void(ChildOutcome)> done) {
  auto session = std::make_shared<ChildSession>(loop, std::move(run), std::move(done));
  asio::post(loop, [session] { session->Start(); });
}

ChildOutcome RunChild(ChildRun run) {
  asio::io_context loop;
  ChildOutcome out;
  RunChildAsync(loop, std::move(run), [&out](ChildOutcome o) { out = std::move(o); });
  loop.run();
  return out;
}

std::string SignalName(int signal) {
  const char* abbrev = ::sigabbrev_np(signal);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(signal);
}

}  // namespace bg
