// WarmWorker: one long-lived `<plugin> --serve` process (plugins/sdk/serve.h), driven from the
// agent's event loop: started, handed one request at a time, watched until it dies.
//
// The worker is spawned like any plugin run (SpawnChild, the only place that forks a plugin)
// under the spec its pool gives it: sandbox::WarmWorkerSpec of the cold run's spec, so the
// worker itself has the cold run's namespaces, user and rlimits, and sees the agent's work/
// area read-only and nothing else of the agent's root. It is ready once it has printed its
// hello (within the start timeout) and its setup report says it was confined as asked
// (required layers included). Each request child it forks enters the request's own sandbox
// (RequestSpec, sent in the frame) before it reads the bundle.
//
// One request at a time. Its answer is a ChildOutcome as a cold run gives one, judged by the
// same InterpretPluginRun. Besides the worker's own per-request timeout, the agent keeps a
// deadline of its own (the request's timeout plus kWorkerGrace): a worker that does not answer
// by then is killed, and the request is a timeout. What becomes of a request whose worker ends
// while it is out depends on who ended it:
//   killed by a signal the agent did not send (kill -9, the OOM killer: the worker's cgroup
//     holds its children, so a bundle's allocations can get it killed)   plugin-crashed
//   killed by the agent for the request's timeout, or for shutdown      timeout, cancelled
//   anything else the bundle cannot have caused: the worker broke the protocol, wrote while
//     idle, exited by itself, refused                                   run cold (`run_cold`)
// An answer already complete in the pipe when the worker dies is used. A worker being killed
// takes no request (it is "dying" until reaped), and a dead worker is never reused: the pool
// starts a fresh one.
//
// Thread safety: every method on the loop's thread; every callback is posted to the loop (never
// run inside a method). Destroying a worker kills and reaps it.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agent/core/status.h"
#include "agent/plugin/child_process.h"
#include "agent/plugin/plugin_launch.h"
#include "agent/plugin/serve_protocol.h"

namespace bg {

inline constexpr std::chrono::seconds kWorkerGrace{10};

class WarmWorker : public std::enable_shared_from_this<WarmWorker> {
 public:
  using Ready = std::function<void(Status)>;
  // The request's outcome and a note for details.runner.notes ("" when none); with `run_cold`
  // the worker could not check this bundle in a confined child (it refused to fork, or could
  // not prepare the sandbox: the note says why) and the outcome means nothing: the caller runs
  // the bundle cold, where the same sandbox failing is the verdict.
  using Answer = std::function<void(ChildOutcome, std::string note, bool run_cold)>;

  // `run`: argv (with "--serve"), env and sandbox for the worker; its timeout is the start
  // timeout. `max_payload`: the most result plus output bytes one answer may carry.
  WarmWorker(boost::asio::io_context& loop, std::string kind, ChildRun run,
             std::uint64_t max_payload);
  ~WarmWorker();
  WarmWorker(const WarmWorker&) = delete;
  WarmWorker& operator=(const WarmWorker&) = delete;

  // Spawns it; `ready` once, on the loop: ok when it can take requests.
  void Start(Ready ready);
  // Only when idle(). `done` once, on the loop.
  void Submit(ServeRequest request, std::chrono::milliseconds deadline,
              const std::atomic<bool>* cancelled, Answer done);
  // Kills it (the whole group); a pending request runs cold.
  void Kill();
  // Called on the loop whenever it becomes idle again or dies.
  void OnChange(std::function<void()> changed) { changed_ = std::move(changed); }

  bool idle() const { return state_ == State::kIdle; }  // not while dying
  bool busy() const { return state_ == State::kBusy; }
  bool starting() const { return state_ == State::kStarting || state_ == State::kNew; }
  bool dead() const { return state_ == State::kDead; }
  bool dying() const { return state_ == State::kDying; }
  // Since when it has been dying (meaningful while dying()).
  std::chrono::steady_clock::time_point dying_since() const { return dying_since_; }
  pid_t pid() const { return pid_; }  // as the agent sees it (the sandbox's first process)
  std::uint64_t served() const { return served_; }
  std::chrono::steady_clock::time_point idle_since() const { return idle_since_; }
  // The worker's own confinement, from its setup report.
  const IsolationReport& isolation() const { return isolation_; }

 private:
  enum class State { kNew, kStarting, kIdle, kBusy, kDying, kDead };
  // Why it is being killed (what a pending request becomes).
  enum class Cause { kNone, kTimeout, kCancel, kAgent };
  void ReadOut();
  void ReadErr();
  void ReadReport();
  void WatchExit();
  void OnOutput();
  void MaybeReady();
  void OnExited();
  void Finish();
  void DrainOutput();
  void HandleResponses();
  void Broken(const std::string& why, Cause cause = Cause::kAgent);
  void Closing(const std::string& why);
  void Complete(ChildOutcome outcome, std::string note, bool run_cold);
  void ArmDeadline(std::chrono::milliseconds after);
  void WatchCancel();
  void KillGroup();
  void Changed();

  boost::asio::io_context& loop_;
  const std::string kind_;
  ChildRun run_;
  const std::uint64_t max_payload_;
  ServeReader reader_;
  State state_ = State::kNew;
  pid_t pid_ = -1;
  bool reaped_ = true;
  bool hello_ = false, report_eof_ = false;
  int death_signal_ = 0, death_exit_ = -1;
  Cause cause_ = Cause::kNone;
  bool started_failed_ = false;  // it died before it was ready
  std::string failure_;  // why it stopped being usable
  std::unique_ptr<sandbox::PreparedSandbox> sandbox_;
  IsolationReport isolation_;
  std::string report_bytes_, err_tail_;
  std::uint64_t next_id_ = 1, served_ = 0;
  std::chrono::steady_clock::time_point idle_since_, dying_since_;
  Ready ready_;
  struct Pending {  // every field set by Submit (no initialisers: clang 14 could not emplace it)
    std::uint64_t id;
    const std::atomic<bool>* cancelled;
    Answer done;
  };
  std::optional<Pending> pending_;
  std::function<void()> changed_;
  boost::asio::posix::stream_descriptor in_, out_, err_, report_, pidfd_;
  boost::asio::steady_timer deadline_, cancel_timer_, reap_timer_;
  std::vector<char> out_buf_ = std::vector<char>(64 * 1024), err_buf_ = std::vector<char>(4096),
                    report_buf_ = std::vector<char>(1024);
};

}  // namespace bg
