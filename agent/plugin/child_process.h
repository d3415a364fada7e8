// RunChildAsync: one sandboxed child process (SpawnChild), driven from a Boost.Asio event loop
// from start to reaping, without ever blocking the loop.
//
// - stdin: `stdin_data` is written asynchronously, then closed. A child that exits without
//   reading it is not an error (SIGPIPE is ignored in the agent; see IgnoreSigpipeOnce).
// - stdout: kept up to `max_stdout_bytes`. One byte more and the whole process group is killed
//   (`stdout_overflow`): the output can no longer be a valid result, and draining an endless
//   writer would only burn CPU until the timeout.
// - stderr: drained to the end, keeping only its last `stderr_tail_bytes` (diagnostics; a
//   chatty child is not at fault).
// - exit: observed through a pidfd (pidfd_open, Linux 5.3+) whose readability is awaited with
//   async_wait; where pidfd_open is missing, a timer polls waitid(WNOHANG | WNOWAIT). Either
//   way the child is only a zombie then, so its process group id cannot have been reused: the
//   group is SIGKILLed (whatever the child left behind in it dies with it), then the child is
//   reaped with wait4, which gives its CPU time and peak RSS.
// - timeout: a steady_timer SIGKILLs the whole process group (grandchildren included). If the
//   child has exited but something outside its group (it called setsid) still holds its pipes
//   open, the timeout ends the run all the same, with whatever was read.
// - cancellation: with `cancelled` set, the flag is polled (250 ms) and the group killed.
// - `done` runs on the loop once the child is reaped and stdout, stderr and the setup report
//   are at EOF (or the timeout gave up on them). Every fd is closed by then; nothing is left
//   unreaped. Should the loop be destroyed first, the pending run kills and reaps its child
//   (blocking briefly) as it is destroyed.
//
// Thread safety: RunChildAsync may be called from any thread; each run's state is touched only
// from `loop` (run it on one thread). RunChild is a blocking form on a private loop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "agent/core/status.h"
#include "agent/plugin/child_spawn.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace bg {

struct ChildRun {
  SpawnRequest spawn;
  std::string stdin_data;
  std::chrono::milliseconds timeout{300'000};
  std::size_t max_stdout_bytes = 1 << 20;
  std::size_t stderr_tail_bytes = 4096;
  const std::atomic<bool>* cancelled = nullptr;  // set: kill the child and finish
  bool poll_for_exit = false;  // use the waitid-polling fallback even where pidfd_open works
};

struct ChildOutcome {
  Status start_error;  // not ok: the child could not be started; the fields below are unset
  bool exited = false;  // exited by itself (exit_code valid)
  int exit_code = -1;
  int signal = 0;       // killed by this signal (0: not)
  bool status_lost = false;  // someone else reaped it (SIGCHLD set to SIG_IGN?)
  bool timed_out = false;
  bool cancelled = false;
  bool stdout_overflow = false;
  bool stdin_incomplete = false;  // the child closed stdin before reading it all
  std::string out;
  std::string err_tail;
  std::uint64_t err_bytes = 0;  // all of stderr, of which err_tail is the end
  double wall_ms = 0;
  double cpu_ms = 0;            // user + system, from wait4
  std::int64_t max_rss_kb = 0;  // from wait4
  IsolationReport isolation;
  bool exit_observed_by_pidfd = false;
};

// Starts the child and returns at once; `done` is called exactly once, on `loop`.
void RunChildAsync(boost::asio::io_context& loop, ChildRun run,
                   std::function<void(ChildOutcome)> done);

// Blocking: runs the child to completion on a private loop.
ChildOutcome RunChild(ChildRun run);

// "SIGSEGV" for 11; "signal 77" for a number without a name.
std::string SignalName(int signal);

}  // namespace bg
