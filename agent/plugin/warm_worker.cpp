#include "agent/plugin/warm_worker.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <cerrno>

namespace bg {
namespace {

namespace asio = boost::asio;
using ErrorCode = boost::system::error_code;
constexpr auto kCancelPoll = std::chrono::milliseconds(250);
constexpr auto kReapPoll = std::chrono::milliseconds(20);
constexpr auto kCloseGrace = std::chrono::seconds(2);
constexpr std::size_t kMaxReportBytes = 1024;

std::string LastLine(const std::string& text) {
  const std::size_t end = text.find_last_not_of("\r\n");
  if (end == std::string::npos) return "";
  const std::size_t nl = text.rfind('\n', end);
  const std::size_t begin = nl == std::string::npos ? 0 : nl + 1;
  return text.substr(begin, end - begin + 1);
}

}  // namespace

WarmWorker::WarmWorker(asio::io_context& loop, std::string kind, ChildRun run,
                       std::uint64_t max_payload)
    : loop_(loop), kind_(std::move(kind)), run_(std::move(run)), max_payload_(max_payload),
      reader_(max_payload),
      in_(loop), out_(loop), err_(loop), report_(loop), pidfd_(loop), deadline_(loop),
      cancel_timer_(loop), reap_timer_(loop) {}

WarmWorker::~WarmWorker() {
  if (reaped_) return;
  KillGroup();
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

void WarmWorker::Start(Ready ready) {
  ready_ = std::move(ready);
  state_ = State::kStarting;
  auto spawned = SpawnChild(run_.spawn);
  if (!spawned.ok()) {
    state_ = State::kDead;
    failure_ = spawned.status().message();
    asio::post(loop_, [r = std::move(ready_), s = spawned.status()] { r(s); });
    return;
  }
  pid_ = spawned->pid;
  reaped_ = false;
  sandbox_ = std::move(spawned->sandbox);
  in_.assign(spawned->stdin_fd.Release());
  out_.assign(spawned->stdout_fd.Release());
  err_.assign(spawned->stderr_fd.Release());
  report_.assign(spawned->report_fd.Release());
  ReadOut();
  ReadErr();
  ReadReport();
  WatchExit();
  ArmDeadline(run_.timeout);
}

void WarmWorker::ReadOut() {
  out_.async_read_some(asio::buffer(out_buf_), [self = shared_from_this()](const ErrorCode& ec,
                                                                           std::size_t n) {
    if (self->state_ == State::kDead || self->state_ == State::kDying) return;
    if (ec) {
      self->Closing("it closed its output");
      return;
    }
    self->reader_.Feed(std::string_view(self->out_buf_.data(), n));
    self->OnOutput();
    self->ReadOut();
  });
}

void WarmWorker::ReadErr() {
  // The worker's own diagnostics (its children's output comes in their answers): the tail is
  // kept for the message of a worker that fails to start or dies.
  err_.async_read_some(asio::buffer(err_buf_), [self = shared_from_this()](const ErrorCode& ec,
                                                                           std::size_t n) {
    if (ec) return;
    self->err_tail_.append(self->err_buf_.data(), n);
    if (self->err_tail_.size() > 2 * kStderrTailBytes) {
      self->err_tail_.erase(0, self->err_tail_.size() - kStderrTailBytes);
    }
    self->ReadErr();
  });
}

void WarmWorker::ReadReport() {
  report_.async_read_some(asio::buffer(report_buf_), [self = shared_from_this()](
                                                         const ErrorCode& ec, std::size_t n) {
    if (self->state_ == State::kDead || self->state_ == State::kDying) return;
    if (ec) {
      self->report_eof_ = true;
      self->MaybeReady();
      return;
    }
    if (self->report_bytes_.size() < kMaxReportBytes) {
      self->report_bytes_.append(self->report_buf_.data(), n);
    }
    self->ReadReport();
  });
}

void WarmWorker::WatchExit() {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (fd < 0) return;  // pre-5.3 kernel: death shows as the end of its output
  pidfd_.assign(fd);
  pidfd_.async_wait(asio::posix::stream_descriptor::wait_read,
                    [self = shared_from_this()](const ErrorCode& ec) {
                      if (ec || self->state_ == State::kDead) return;
                      // Exited: its status is final, so killing what is left of its group
                      // cannot change it.
                      if (self->state_ != State::kDying) {
                        self->Broken("it exited", Cause::kNone);
                      } else {
                        self->KillGroup();
                        self->OnExited();
                      }
                    });
}

void WarmWorker::OnOutput() {
  try {
    if (state_ == State::kStarting) {
      if (!hello_) {
        pid_t inner = 0;
        hello_ = reader_.ReadHello(kind_, &inner);
        if (!reader_.error().empty()) return Broken(reader_.error());
      }
      MaybeReady();
      return;
    }
    if (state_ == State::kIdle) return Broken("it wrote while no request was out");
    HandleResponses();
  } catch (const std::exception& e) {  // a response the agent could not even read
    Broken(std::string("it broke the protocol: ") + e.what());
  }
}

void WarmWorker::HandleResponses() {
  while (state_ == State::kBusy) {
    auto response = reader_.Next();
    if (!reader_.error().empty()) return Broken("it broke the protocol: " + reader_.error());
    if (!response) return;
    if (!pending_ || response->id != pending_->id) {
      return Broken("it answered a request it was not given");
    }
    ++served_;
    if (response->outcome == "refused") {
      // It cannot fork safely any more: replaced; the caller runs this bundle cold.
      Complete(ChildOutcome(), "the warm worker refused it (" + response->message + ")", true);
      Broken("it refused a request: " + response->message);
      return;
    }
    if (response->outcome == "sandbox-error") {
      Complete(ChildOutcome(), "the warm worker could not confine it (" + response->message + ")",
               true);
      continue;
    }
    Complete(OutcomeFromResponse(*response), "", false);
  }
}

void WarmWorker::MaybeReady() {
  if (state_ != State::kStarting || !hello_ || !report_eof_) return;
  auto isolation = DecodeSetupReport(report_bytes_, *sandbox_);
  if (!isolation.ok()) {
    Broken(isolation.status().message());
    return;
  }
  isolation_ = std::move(isolation).value();
  deadline_.cancel();
  state_ = State::kIdle;
  idle_since_ = std::chrono::steady_clock::now();
  if (auto r = std::move(ready_)) asio::post(loop_, [r = std::move(r)] { r(Status::Ok()); });
}

void WarmWorker::Submit(ServeRequest request, std::chrono::milliseconds deadline,
                        const std::atomic<bool>* cancelled, Answer done) {
  request.id = next_id_++;
  auto frame = std::make_shared<std::string>(EncodeServeFrame(request));
  pending_.emplace();
  pending_->id = request.id;
  pending_->cancelled = cancelled;
  pending_->done = std::move(done);
  state_ = State::kBusy;
  asio::async_write(in_, asio::buffer(*frame),
                    [self = shared_from_this(), frame, id = request.id](const ErrorCode& ec,
                                                                      std::size_t) {
                      if (ec && self->state_ == State::kBusy && self->pending_ &&
                          self->pending_->id == id) {
                        self->Closing("it stopped reading requests");
                      }
                    });
  ArmDeadline(deadline + kWorkerGrace);
  WatchCancel();
}

void WarmWorker::ArmDeadline(std::chrono::milliseconds after) {
  deadline_.expires_after(after);
  // The request it was armed for: a handler already queued when the answer came must not time
  // out the next request.
  const std::uint64_t id = pending_ ? pending_->id : 0;
  deadline_.async_wait([self = shared_from_this(), id](const ErrorCode& ec) {
    if (ec) return;
    if (self->state_ == State::kStarting) {
      self->Broken("no hello within " + std::to_string(self->run_.timeout.count() / 1000) + " s");
    } else if (self->state_ == State::kBusy && self->pending_ && self->pending_->id == id) {
      self->Broken("it did not answer within the request's timeout", Cause::kTimeout);
    }
  });
}

void WarmWorker::WatchCancel() {
  if (!pending_ || pending_->cancelled == nullptr) return;
  cancel_timer_.expires_after(kCancelPoll);
  cancel_timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
    if (ec || self->state_ != State::kBusy || !self->pending_) return;
    if (self->pending_->cancelled->load()) {
      self->Broken("the agent is stopping", Cause::kCancel);
    } else {
      self->WatchCancel();
    }
  });
}

// Unusable from now on: no request is given to it (dying), its group is killed, and once it
// is reaped (OnExited) whatever was pending is answered according to `cause`.
void WarmWorker::Broken(const std::string& why, Cause cause) {
  if (state_ == State::kDead || state_ == State::kDying) return;
  if (failure_.empty()) failure_ = why;
  cause_ = cause;
  const bool was_starting = state_ == State::kStarting || state_ == State::kNew;
  state_ = State::kDying;
  dying_since_ = std::chrono::steady_clock::now();
  deadline_.cancel();
  cancel_timer_.cancel();
  if (was_starting) started_failed_ = true;
  KillGroup();
  OnExited();
}

// Its output or input closed: it is going, or gone. Its first process (the sandbox's, which
// relays the worker's exit status) may still be relaying: killing it now would turn a worker's
// own exit into a SIGKILL. With a pidfd the exit is awaited for kCloseGrace (WatchExit's handler
// finishes); only past that is it killed, as the agent's doing (the request runs cold).
void WarmWorker::Closing(const std::string& why) {
  if (state_ == State::kDead || state_ == State::kDying) return;
  if (!pidfd_.is_open()) return Broken(why);
  if (failure_.empty()) failure_ = why;
  cause_ = Cause::kNone;
  if (state_ == State::kStarting || state_ == State::kNew) started_failed_ = true;
  state_ = State::kDying;
  dying_since_ = std::chrono::steady_clock::now();
  deadline_.cancel();
  cancel_timer_.cancel();
  reap_timer_.expires_after(kCloseGrace);
  reap_timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
    if (ec || self->state_ == State::kDead) return;
    self->cause_ = Cause::kAgent;
    self->KillGroup();
    self->OnExited();
  });
}

// Reaps it (polling briefly until the kill has landed), then Finish.
void WarmWorker::OnExited() {
  if (state_ == State::kDead) return;
  if (!reaped_) {
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(pid_, &status, WNOHANG)) < 0 && errno == EINTR) {
    }
    if (r == 0) {
      reap_timer_.expires_after(kReapPoll);
      reap_timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
        if (!ec) self->OnExited();
      });
      return;
    }
    reaped_ = true;
    if (r > 0 && WIFSIGNALED(status)) death_signal_ = WTERMSIG(status);
    if (r > 0 && WIFEXITED(status)) death_exit_ = WEXITSTATUS(status);
  }
  Finish();
}

// What the dead worker had already written: an answer complete in the pipe counts.
void WarmWorker::DrainOutput() {
  if (!out_.is_open()) return;
  const int fd = out_.native_handle();
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  char buf[65536];
  std::size_t left = 2 * max_payload_ + kMaxServeEnvelopeBytes;  // one answer, at most
  ssize_t n;
  while (left > 0 && ((n = ::read(fd, buf, std::min(sizeof buf, left))) > 0 ||
                      (n < 0 && errno == EINTR))) {
    if (n <= 0) continue;
    reader_.Feed(std::string_view(buf, static_cast<std::size_t>(n)));
    left -= static_cast<std::size_t>(n);
  }
}

void WarmWorker::Finish() {
  const bool was_starting = started_failed_;
  if (pending_ && cause_ == Cause::kNone) {
    // Died by itself: an answer it finished before it went counts (nothing here may end the
    // worker again: it is being finished).
    DrainOutput();
    try {
      if (auto r = reader_.Next(); r && r->id == pending_->id) {
        ++served_;
        const bool cold = r->outcome == "refused" || r->outcome == "sandbox-error";
        Complete(cold ? ChildOutcome() : OutcomeFromResponse(*r),
                 cold ? "the warm worker could not check it (" + r->message + ")" : "", cold);
      }
    } catch (const std::exception&) {
    }
  }
  state_ = State::kDead;
  deadline_.cancel();
  cancel_timer_.cancel();
  reap_timer_.cancel();
  ErrorCode ignored;
  for (auto* sd : {&in_, &out_, &err_, &report_, &pidfd_}) sd->close(ignored);
  sandbox_.reset();
  if (failure_.empty() || cause_ == Cause::kNone) {
    failure_ = death_signal_ ? "it was killed by " + SignalName(death_signal_)
                             : "it exited with status " + std::to_string(death_exit_);
  }
  const std::string last = LastLine(err_tail_);
  if (!last.empty()) failure_ += " (its last words: " + last.substr(0, 300) + ")";
  if (was_starting) {
    if (auto r = std::move(ready_)) {
      asio::post(loop_, [r = std::move(r), s = Status::Error("the warm worker did not start: " + failure_)] {
        r(s);
      });
    }
  } else if (pending_) {
    ChildOutcome o;
    o.err_tail = err_tail_;
    const std::string note = "the warm worker failed while checking this bundle: " + failure_;
    switch (cause_) {
      case Cause::kTimeout:
        o.timed_out = true;
        Complete(std::move(o), note, false);
        break;
      case Cause::kCancel:
        o.cancelled = true;
        Complete(std::move(o), note, false);
        break;
      case Cause::kAgent:
        Complete(std::move(o), note + ": ran cold", true);
        break;
      case Cause::kNone:
        if (death_signal_ != 0) {  // killed from outside, as a cold run can be
          o.signal = death_signal_;
          Complete(std::move(o), note, false);
        } else {  // its own exit: nothing the bundle could have caused
          Complete(std::move(o), note + ": ran cold", true);
        }
        break;
    }
  }
  Changed();
}

void WarmWorker::Complete(ChildOutcome outcome, std::string note, bool run_cold) {
  if (!pending_) return;
  auto done = std::move(pending_->done);
  pending_.reset();
  cancel_timer_.cancel();
  if (state_ == State::kBusy) {
    state_ = State::kIdle;
    deadline_.cancel();
    idle_since_ = std::chrono::steady_clock::now();
  }
  if (done) {
    asio::post(loop_, [done = std::move(done), o = std::move(outcome), n = std::move(note),
                       run_cold]() mutable { done(std::move(o), std::move(n), run_cold); });
  }
  if (state_ == State::kIdle) Changed();
}

void WarmWorker::Kill() { Broken(failure_.empty() ? "stopped by the agent" : failure_); }

// Only while unreaped: its pid, and so its group id, cannot have been reused.
void WarmWorker::KillGroup() {
  if (reaped_ || pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
}

// Posted, as every callback of a worker: the pool may drop (destroy) a worker when told.
void WarmWorker::Changed() {
  if (changed_) asio::post(loop_, changed_);
}

}  // namespace bg
