// WorkerPool: the warm workers (warm_worker.h) of one plugin, and WarmWorkers, the agent's
// registry of pools.
//
// A pool serves one plugin file in one version (its FileIdentity) under one worker spec. It
// starts workers lazily, when a request finds none idle, up to `max_workers`; a request that
// finds them all busy waits in line (FIFO). A worker that dies is dropped and replaced by the
// next request that needs one. A worker idle for `idle_timeout` is stopped. A worker that
// fails to start, or kMaxColdStreak answers in a row that a worker could not give (it refused,
// could not confine the request, failed by itself), put the pool in back-off
// (kStartBackoffInitial, doubling up to kStartBackoffMax): meanwhile requests are answered "run
// it cold" with a note saying why, so a broken plugin installation costs what it cost before
// warm workers, never a bundle.
//
// The registry keys pools by plugin path, file identity, worker spec and pool options, and
// holds them weakly: a pipeline built on reload (SIGHUP) shares the running pool while the
// plugin file is the same, and gets a new pool, so new workers, when the binary changed; the
// old pool, and its workers, go when the old pipeline is released.
//
// Thread safety: WorkerPool is used on its loop's thread (its destructor may run anywhere: it
// posts the workers' end to the loop). WarmWorkers::PoolFor may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agent/plugin/warm_worker.h"

namespace bg {

inline constexpr std::chrono::seconds kStartBackoffInitial{30};
inline constexpr std::chrono::seconds kStartBackoffMax{600};
inline constexpr int kMaxColdStreak = 3;

struct WorkerPoolOptions {
  std::string kind;
  ChildRun worker_run;  // argv with --serve, env, WarmWorkerSpec; timeout: the start timeout
  std::size_t max_workers = 1;
  std::chrono::seconds idle_timeout{600};
  std::uint64_t max_payload = 1 << 20;
};

// For /metrics: one plugin kind's workers now, and how many were ever started.
struct WarmWorkerStats {
  std::size_t starting = 0, idle = 0, busy = 0;
  std::uint64_t started = 0;  // since the agent started (monotonic across reloads)
};

struct PoolAnswer {
  bool ran = false;  // false: not run; run it cold (`note` says why)
  ChildOutcome outcome;
  std::string note;
  pid_t worker_pid = -1;
  std::uint64_t worker_served = 0;  // requests this worker has answered, this one included
};

class WorkerPool : public std::enable_shared_from_this<WorkerPool> {
 public:
  // `started`: the kind's start counter, shared by its pools across reloads.
  WorkerPool(boost::asio::io_context& loop, WorkerPoolOptions options,
             std::shared_ptr<std::uint64_t> started = std::make_shared<std::uint64_t>(0));
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // `done` once, on the loop.
  void Run(ServeRequest request, std::chrono::milliseconds timeout,
           const std::atomic<bool>* cancelled, std::function<void(PoolAnswer)> done);
  // Stops every worker; requests waiting in line are answered "run it cold".
  void Shutdown();

  boost::asio::io_context& loop() { return loop_; }
  std::size_t live_workers() const;
  const std::string& kind() const { return options_.kind; }
  // Adds this pool's workers to `stats` (on the loop).
  void AddStats(WarmWorkerStats* stats) const;

 private:
  struct Waiting {
    ServeRequest request;
    std::chrono::milliseconds timeout;
    const std::atomic<bool>* cancelled;
    std::function<void(PoolAnswer)> done;
  };
  void Dispatch();
  void StartWorker();
  void Assign(const std::shared_ptr<WarmWorker>& worker, Waiting w);
  void ArmTimer();
  void ReapIdle();
  void Count(bool run_cold, const std::string& why);

  boost::asio::io_context& loop_;
  const WorkerPoolOptions options_;
  std::vector<std::shared_ptr<WarmWorker>> workers_;
  std::deque<Waiting> waiting_;
  std::size_t starting_ = 0;
  std::shared_ptr<std::uint64_t> started_;
  std::chrono::steady_clock::time_point backoff_until_{};
  std::chrono::seconds backoff_{kStartBackoffInitial};
  std::string unavailable_;  // why the warm path is in back-off
  int cold_streak_ = 0;
  bool shut_down_ = false;
  boost::asio::steady_timer timer_;
};

class WarmWorkers {
 public:
  explicit WarmWorkers(boost::asio::io_context& loop) : loop_(loop) {}
  ~WarmWorkers();

  // The pool for `path` (its identity now) under `options`: the running one if any, else new.
  // Fails when the plugin file cannot be stat'ed.
  Result<std::shared_ptr<WorkerPool>> PoolFor(const std::string& path, WorkerPoolOptions options);
  boost::asio::io_context& loop() { return loop_; }
  // Stops every worker of every pool still alive (the agent is stopping). On the loop's thread.
  void Shutdown();
  // Per plugin kind, every pool still alive (on the loop's thread).
  std::map<std::string, WarmWorkerStats> Stats();

 private:
  std::vector<std::shared_ptr<WorkerPool>> Alive();
  boost::asio::io_context& loop_;
  std::mutex mu_;
  std::map<std::string, std::weak_ptr<WorkerPool>> pools_;
  std::map<std::string, std::shared_ptr<std::uint64_t>> started_;  // by kind
};

}  // namespace bg
