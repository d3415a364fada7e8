// The inside of Agent (agent.h), shared by its source files:
//   agent_lifecycle.cpp  start, recovery, signals, reload, timers, status, shutdown
//   agent_flow.cpp       one bundle's way: watch -> settle -> claim -> copy -> checks -> decision
//   agent_hold.cpp       the agent's own failures: holding, backoff, release; low-disk safety
//   agent_http.cpp       the HTTP endpoint: /metrics, /healthz, /readyz, /status
//   agent_gauges.cpp     what /metrics reads at scrape time (queues, state, disk, served, ...)
//   agent_readiness.cpp  the readiness conditions (/readyz, the "degraded" state)
// Everything here is touched only from the event loop thread, except what the pools' jobs
// capture by value.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "agent/audit/audit_log.h"
#include "agent/checks/pipeline.h"
#include "agent/config/config.h"
#include "agent/daemon/agent.h"
#include "agent/daemon/agent_metrics.h"
#include "agent/daemon/hold_book.h"
#include "agent/plugin/worker_pool.h"
#include "agent/daemon/readiness.h"
#include "agent/daemon/recovery.h"
#include "agent/daemon/root_setup.h"
#include "agent/daemon/systemd_notify.h"
#include "agent/http/http_server.h"
#include "agent/http/loop_heartbeat.h"
#include "agent/intake/work_area.h"
#include "agent/plugin/describe_cache.h"
#include "agent/serving/decision_executor.h"
#include "agent/serving/serving_lock.h"
#include "agent/watch/inbox_watcher.h"
#include "agent/watch/readiness_probe.h"
#include "agent/watch/settle_tracker.h"

namespace bg {

struct Agent::Impl {
  using Clock = std::chrono::steady_clock;

  Impl(Config config, std::string config_path, Env& env);
  ~Impl();

  // --- lifecycle (agent_lifecycle.cpp)
  int Run();
  Status Start();
  void Recover();
  void AdoptRecovered(RecoveryReport report);
  void FinishStart();
  void OnSignal(int signal);
  void Reload();
  void StopWarmWorkers();
  void BeginShutdown(const std::string& why);
  void MaybeFinishShutdown();
  void ArmRescanTimer();
  void ArmWatchdog(std::chrono::microseconds period);
  void ArmStatusTimer();
  void WriteStatus();
  std::string StatusLine() const;
  Json StatusJson() const;
  void Audit(const std::string& event, const Json& fields);

  // --- one bundle's way (agent_flow.cpp)
  void OnChange(const std::string& name);
  void Rescan(const std::string& why);
  void ArmSettleTimer();
  void OnSettleTimer();
  void OnProbed(const std::string& name, const ProbeResult& probe);
  void TryStartJobs();
  void Claim(const std::string& name);
  void ClaimExpired(const std::string& name, const std::string& why);
  void StartIntake(WorkItem item);
  void RunChecks(const WorkItem& item, const std::string& dir, std::optional<WalkReport> walk);
  void Decide(const WorkItem& item, Decision decision);
  void OnDecided(const WorkItem& item, Result<ExecutionResult> result);
  void ReturnUnfinished(const WorkItem& item, const std::string& why);
  void RunOnPromote(const Json& record);
  void ReleaseSlot(const std::string& id);
  void RetryDecision(const WorkItem& item, int attempt);
  void CopyFailed(WorkItem item, const Status& why);
  void OnCopied(WorkItem item, CopyResult copied);

  // --- the agent's own failures (agent_hold.cpp): held, never decided; low-disk safety
  // Holds an unclaimed inbox entry: it stays where it is, untracked until its next attempt.
  void HoldInbox(const std::string& name, const std::string& step, const Status& why);
  // Holds a claimed bundle: it goes back to the inbox (or stays in work/ if it cannot).
  void HoldClaimed(const WorkItem& item, const std::string& step, const Status& why);
  void ReturnHeld(const WorkItem& item);
  void LogHold(const std::string& name, HoldBook::News news);
  void ReleaseHold(const std::string& name, const std::string& how);
  void ArmHoldTimer();
  void OnHoldTimer();
  // statvfs of the root; logs crossing the floor (once each way). False when unknown.
  bool RefreshDisk();
  std::uint64_t DiskFloor() const;
  // Whether a copy of `bytes` fits above the floor; `why` says why not.
  bool Fits(std::uint64_t bytes, std::string* why) const;
  std::uint64_t Reserved() const;
  Json DiskJson() const;
  void ApplyReload(Config config, std::shared_ptr<const CheckPipeline> pipeline);

  // --- the HTTP endpoint (agent_http.cpp, agent_gauges.cpp, agent_readiness.cpp)
  Status StartHttp();
  void StopHttp();
  void ServeMetrics(const HttpRequest& request, HttpResponder respond);
  void ServeStatus(HttpResponder respond);
  std::vector<MetricFamily> CollectMetrics() const;
  std::vector<ReadinessCondition> Readiness() const;
  std::string AgentState() const;  // starting, recovering, running, draining, degraded
  void MaybeRefreshServed();

  // --- configuration
  Config config_;
  std::string config_path_;
  Env& env_;
  RootFacts facts_;
  std::shared_ptr<const CheckPipeline> pipeline_;
  // Plugins' --describe answers, kept for the agent's life and in <root>/cache: a reload
  // re-describes only the plugins whose files changed.
  std::shared_ptr<DescribeCache> describes_;

  // --- machinery
  boost::asio::io_context loop_;
  // Plugins that serve keep warm workers here (agent/plugin/worker_pool.h), on loop_, shared by
  // the pipelines a reload builds. Stopped, with pipeline_ released, before loop_ goes.
  std::shared_ptr<WarmWorkers> warm_workers_;
  std::unique_ptr<boost::asio::thread_pool> check_pool_;
  std::unique_ptr<boost::asio::thread_pool> probe_pool_;
  std::unique_ptr<boost::asio::thread_pool> io_pool_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer settle_timer_;
  boost::asio::steady_timer rescan_timer_;
  boost::asio::steady_timer watchdog_timer_;
  boost::asio::steady_timer status_timer_;
  boost::asio::steady_timer shutdown_timer_;
  boost::asio::steady_timer hold_timer_;
  std::optional<FileLock> agent_lock_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<WorkArea> work_;
  std::unique_ptr<DecisionExecutor> executor_;  // used and replaced on the I/O thread only
  ServingLayout layout_;  // paths never change on reload: the loop's own copy
  std::unique_ptr<InboxWatcher> watcher_;
  SettleTracker tracker_;
  SystemdNotifier notifier_;
  std::atomic<bool> cancelled_{false};
  AgentMetrics metrics_;
  std::unique_ptr<LoopHeartbeat> heartbeat_;  // with http_: the loop's liveness, for /healthz
  std::unique_ptr<HttpServer> http_;          // null when [http] listen is off
  std::shared_ptr<void> loop_stall_;          // test_stall.h

  // --- state
  enum class Phase { kStarting, kRecovering, kRunning };
  Phase phase_ = Phase::kStarting;
  bool stopping_ = false;
  bool stopped_ = false;
  int exit_code_ = 0;
  std::optional<Clock::time_point> settle_armed_for_;
  std::set<std::string> probing_;      // inbox names with a probe in flight
  std::deque<std::string> ready_;      // settled, waiting for a free worker
  std::set<std::string> claiming_;     // ready or being claimed: not tracked meanwhile
  std::map<std::string, WorkItem> in_flight_;  // claimed, by work id
  std::set<std::string> holding_slot_;         // work ids that count against `workers`
  std::deque<WorkItem> resumable_;             // recovered snapshots, checked before new claims
  int claims_pending_ = 0;                     // claims posted to the I/O thread, not back yet
  int hooks_running_ = 0;                      // on_promote commands not finished
  bool reloading_ = false;
  HoldBook holds_;                             // by inbox name: held for the agent's faults
  std::map<std::string, WorkItem> held_in_work_;  // held ones that could not go back yet
  std::optional<Clock::time_point> hold_armed_for_;
  std::map<std::string, std::uint64_t> ready_bytes_;  // what a copy of each ready entry needs
  std::map<std::string, std::uint64_t> reserved_;     // by work id or claim: copies in flight
  struct DiskState {
    bool known = false;
    DiskSpace space;
    bool below_floor = false;
    std::string since;  // when it crossed the floor
    std::string error;  // statvfs failed
  } disk_;
  std::uint64_t promoted_ = 0, rejected_ = 0, noops_ = 0;
  std::deque<Json> recent_;  // newest first, at most 20
  std::string started_at_;
  std::string watch_note_;
  bool status_dirty_ = true;
  // serving/ as /metrics shows it: listed off the loop after promotions and every 30 s.
  struct ServedModel {
    std::string name, current;
    std::size_t versions = 0;
  };
  std::vector<ServedModel> served_;
  std::uint64_t served_generation_ = ~0ull;  // metrics_.serving_generation() it was listed at
  Clock::time_point served_listed_at_{};
  bool served_listing_ = false;
};

}  // namespace bg
