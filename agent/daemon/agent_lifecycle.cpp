// Agent: start, recovery, signals, reload, timers, status, shutdown (see agent.h).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <filesystem>
#include <fstream>
#include <spdlog/spdlog.h>

#include "agent/checks/check_registry.h"
#include "agent/cli/build_info.h"
#include "agent/core/fault_injection.h"
#include "agent/core/clock.h"
#include "agent/daemon/agent_impl.h"
#include "agent/daemon/event_log_fields.h"
#include "agent/daemon/logging.h"
#include "agent/daemon/recovery.h"
#include "agent/daemon/test_stall.h"

namespace bg {

namespace {

std::string ReadLockHolder(const std::string& path) {
  std::ifstream in(path);
  std::string pid;
  std::getline(in, pid);
  return pid.empty() ? "unknown" : pid;
}

Json CheckKinds(const CheckPipeline& pipeline) {
  Json kinds = Json::array({"manifest", "integrity", "intake"});
  for (const auto& c : pipeline.checks()) kinds.push_back(std::string(c->kind()));
  return kinds;
}

SettleTracker::Options TrackerOptions(const WatchConfig& w) {
  return {std::chrono::milliseconds(w.settle_ms), std::chrono::seconds(w.incomplete_timeout_s),
          std::chrono::seconds(w.manifest_grace_s)};
}

HoldBook::Options HoldOptions(const WatchConfig& w) {
  return {std::chrono::milliseconds(w.hold_backoff_initial_ms),
          std::chrono::seconds(w.hold_backoff_max_s)};
}

bool SameStaticSettings(const Config& a, const Config& b, std::string* what) {
  const auto& p = a.paths;
  const auto& q = b.paths;
  if (p.root != q.root || p.inbox != q.inbox || p.serving != q.serving ||
      p.quarantine != q.quarantine || p.audit_log != q.audit_log) {
    *what = "[paths] changed";
  } else if (a.intake != b.intake) {
    *what = "intake changed";
  } else if (a.workers != b.workers) {
    *what = "workers changed";
  } else if (!(a.http == b.http)) {
    *what = "[http] changed";
  } else {
    return true;
  }
  return false;
}

}  // namespace

Agent::Agent(Config config, std::string config_path, Env& env)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(config_path), env)) {}
Agent::~Agent() = default;
int Agent::Run() { return impl_->Run(); }

Agent::Impl::Impl(Config config, std::string config_path, Env& env)
    : config_(std::move(config)),
      config_path_(std::move(config_path)),
      env_(env),
      signals_(loop_),
      settle_timer_(loop_),
      rescan_timer_(loop_),
      watchdog_timer_(loop_),
      status_timer_(loop_),
      shutdown_timer_(loop_),
      hold_timer_(loop_),
      tracker_(TrackerOptions(config_.watch)),
      holds_(HoldOptions(config_.watch)) {}

int Agent::Impl::Run() {
  // Plugins and hooks that exit early must not kill us through a broken pipe.
  ::signal(SIGPIPE, SIG_IGN);
  Status started = Start();
  if (!started.ok()) {
    spdlog::error("cannot start: {}", started.message());
    StopHttp();
    if (io_pool_) io_pool_->join();
    StopWarmWorkers();
    return 2;
  }
  loop_.run();
  StopWarmWorkers();
  StopHttp();
  for (auto* pool : {check_pool_.get(), probe_pool_.get(), io_pool_.get()}) {
    if (pool) pool->join();
  }
  const ScopedLogFields journal_fields(LifecycleLogFields("stopped"));
  spdlog::info("stopped");
  return exit_code_;
}

Status Agent::Impl::Start() {
  started_at_ = NowRfc3339();
  BG_ASSIGN_OR_RETURN(facts_, PrepareRoot(config_));
  const std::string lock_path = AgentLockPath(config_.paths.root);
  auto lock = FileLock::TryAcquire(lock_path);
  if (!lock.ok()) {
    return Status::Error("another bundlegate agent is running on " + config_.paths.root +
                         " (pid " + ReadLockHolder(lock_path) + ")");
  }
  agent_lock_.emplace(std::move(lock).value());
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(agent_lock_->fd(), 0) != 0 ||
      ::pwrite(agent_lock_->fd(), pid.data(), pid.size(), 0) < 0) {
    spdlog::warn("cannot write the pid into {}", lock_path);
  }
  describes_ =
      std::make_shared<DescribeCache>(DescribeCacheFile(/*agent=*/true, config_.paths.root));
  warm_workers_ = std::make_shared<WarmWorkers>(loop_);
  BG_ASSIGN_OR_RETURN(pipeline_,
                      BuildPipeline(config_, BuildOptions{describes_, false, warm_workers_}));
  BG_ASSIGN_OR_RETURN(audit_, AuditLog::Open(config_.paths.audit_log, env_));

  check_pool_ = std::make_unique<boost::asio::thread_pool>(static_cast<std::size_t>(config_.workers));
  probe_pool_ = std::make_unique<boost::asio::thread_pool>(1);
  io_pool_ = std::make_unique<boost::asio::thread_pool>(1);
  work_ = std::make_unique<WorkArea>(config_.paths, facts_.inbox_same_fs, env_,
                                     WorkOpenToPlugins(config_));
  executor_ = std::make_unique<DecisionExecutor>(config_, *work_, *audit_, env_);
  layout_ = executor_->layout();
  BG_RETURN_IF_ERROR(StartHttp());
  loop_stall_ = InstallLoopStallIfAsked(loop_);

  if (FaultInjectionActive()) {
    spdlog::warn("fault injection is on (BUNDLEGATE_FAULT*): for tests only");
  }
  RefreshDisk();
  // Recovery runs on the I/O thread while the loop answers /healthz and /readyz (and keeps
  // status.json current); nothing is watched or claimed before it is done (FinishStart).
  phase_ = Phase::kRecovering;
  ArmStatusTimer();
  boost::asio::post(*io_pool_, [this] {
    StallForRecoveryIfAsked();
    Recover();
    boost::asio::post(loop_, [this] { FinishStart(); });
  });
  return Status::Ok();
}

void Agent::Impl::FinishStart() {
  Json started = {{"version", BUNDLEGATE_VERSION},
                  {"pid", ::getpid()},
                  {"config", config_.source},
                  {"root", config_.paths.root},
                  {"inbox", config_.paths.inbox},
                  {"intake", config_.intake == IntakeMode::kCopy ? "copy" : "move"},
                  {"workers", config_.workers},
                  {"checks", CheckKinds(*pipeline_)}};

  WatchCallbacks callbacks{[this](const std::string& name) { OnChange(name); },
                           [this](const std::string& why) { Rescan(why); }};
  watcher_ = MakeInboxWatcher(loop_, config_.paths.inbox, config_.watch, callbacks, &watch_note_);
  if (Status watching = watcher_->Start(); !watching.ok()) {
    spdlog::error("cannot start: {}", watching.message());
    watcher_.reset();
    exit_code_ = 2;
    stopped_ = true;
    loop_.stop();
    return;
  }
  started["watch"] = watch_note_;
  Audit("started", started);
  {
    const ScopedLogFields journal_fields(LifecycleLogFields("started"));
    spdlog::info("bundlegate {} watching {} ({}), {} worker(s), checks: {}", BUNDLEGATE_VERSION,
                 config_.paths.inbox, watch_note_, config_.workers, DumpJson(started["checks"]));
  }

  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGHUP);
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (!ec) OnSignal(signal);
  });
  phase_ = Phase::kRunning;
  Rescan("startup");
  ArmRescanTimer();
  if (auto period = notifier_.WatchdogPeriod()) ArmWatchdog(*period);
  notifier_.Ready(StatusLine());
  TryStartJobs();
}

// On the I/O thread, before anything is claimed; what it hands back to the loop runs there.
void Agent::Impl::Recover() {
  auto torn = audit_->RepairTornTail();
  if (!torn.ok()) spdlog::error("audit log: {}", torn.status().message());
  if (torn.ok() && *torn) spdlog::warn("audit log had a torn last line; set aside and recorded");
  RecoveryReport report = RecoverWorkArea(config_, *work_, *executor_, *audit_, env_);
  if (report.actions.empty()) return;
  spdlog::warn("recovered after an unclean stop: {}", DumpJson(report.actions));
  // Synchronous: recovery finishes before anything new is claimed.
  auto recorded = audit_->Append("recovered", Json{{"actions", report.actions}});
  if (!recorded.ok()) spdlog::error("audit log: {}", recorded.status().message());
  boost::asio::post(loop_, [this, report = std::move(report)]() mutable {
    AdoptRecovered(std::move(report));
  });
}

// On the loop: the bundles recovery hands back, before anything new is claimed.
void Agent::Impl::AdoptRecovered(RecoveryReport report) {
  for (auto& item : report.rerun) {
    in_flight_[item.id] = item;
    resumable_.push_back(item);  // started by TryStartJobs, within `workers`
  }
  for (const auto& record : report.promoted) {
    boost::asio::post(loop_, [this, record] { RunOnPromote(record); });
  }
  for (auto& poisoned : report.poisoned) {
    in_flight_[poisoned.item.id] = poisoned.item;
    spdlog::error("{} ({}): the agent died {} times checking it: quarantining it (fail closed)",
                  poisoned.item.inbox_name, poisoned.item.id, poisoned.attempts.size());
    boost::asio::post(loop_, [this, poisoned] {
      Decide(poisoned.item, DecidePoisoned(poisoned.item, poisoned.attempts,
                                           work_->paths().Bundle(poisoned.item.id), layout_));
    });
  }
  for (auto& item : report.expired) {
    in_flight_[item.id] = item;
    boost::asio::post(loop_, [this, item] {
      Decide(item, DecideRejection(item, Reason::kIncomplete,
                                   "incomplete after " + std::to_string(config_.watch.incomplete_timeout_s) +
                                       " s: " + item.why_incomplete,
                                   Json::object(), item.received, layout_));
    });
  }
}

void Agent::Impl::Audit(const std::string& event, const Json& fields) {
  boost::asio::post(*io_pool_, [this, event, fields] {
    auto r = audit_->Append(event, fields);
    if (!r.ok()) spdlog::error("audit log: cannot record {}: {}", event, r.status().message());
  });
}

void Agent::Impl::OnSignal(int signal) {
  if (signal == SIGHUP) {
    Reload();
  } else if (stopping_) {
    spdlog::warn("second stop signal: cancelling the bundles in flight now");
    cancelled_ = true;
  } else {
    BeginShutdown(signal == SIGTERM ? "SIGTERM" : "SIGINT");
  }
  if (!stopped_) {
    signals_.async_wait([this](const boost::system::error_code& ec, int s) {
      if (!ec) OnSignal(s);
    });
  }
}

void Agent::Impl::Reload() {
  if (reloading_) {
    spdlog::warn("SIGHUP while a reload is in progress: ignored");
    return;
  }
  notifier_.Reloading();
  auto refuse = [this](const std::string& why) {
    spdlog::error("config reload refused, keeping the running config: {}", why);
    Audit("config-reloaded", Json{{"ok", false}, {"config", config_path_}, {"error", why}});
    notifier_.Ready(StatusLine());
  };
  if (config_path_.empty()) return refuse("the agent runs on built-in defaults: no file to reload");
  // Loading may run plugins' --describe (up to 30 s each): off the loop, on the probe thread.
  reloading_ = true;
  boost::asio::post(*probe_pool_, [this, refuse, path = config_path_, running = config_] {
    auto loaded = LoadConfigFile(path);
    std::string what;
    Result<std::shared_ptr<const CheckPipeline>> pipeline = Status::Error("not built");
    if (loaded.ok() && SameStaticSettings(running, *loaded, &what)) {
      pipeline = BuildPipeline(*loaded, BuildOptions{describes_, false, warm_workers_});
    }
    boost::asio::post(loop_, [this, refuse, loaded = std::move(loaded), what,
                              pipeline = std::move(pipeline)]() mutable {
      reloading_ = false;
      if (!loaded.ok()) {
        refuse(loaded.status().message());
      } else if (!what.empty()) {
        refuse(what + ": restart the agent for that");
      } else if (!pipeline.ok()) {
        refuse(pipeline.status().message());
      } else {
        ApplyReload(std::move(loaded).value(), std::move(pipeline).value());
      }
      MaybeFinishShutdown();
    });
  });
}

void Agent::Impl::ApplyReload(Config config, std::shared_ptr<const CheckPipeline> pipeline) {
  config_ = std::move(config);
  pipeline_ = std::move(pipeline);
  tracker_.SetOptions(TrackerOptions(config_.watch));
  holds_.SetOptions(HoldOptions(config_.watch));
  spdlog::set_level(spdlog::level::from_str(config_.log.level));
  // The executor is used on the I/O thread: replace it there, between two decisions.
  boost::asio::post(*io_pool_, [this, config = config_] {
    executor_ = std::make_unique<DecisionExecutor>(config, *work_, *audit_, env_);
  });
  ArmRescanTimer();
  spdlog::info("config reloaded from {}", config_path_);
  Audit("config-reloaded", Json{{"ok", true}, {"config", config_path_}, {"checks", CheckKinds(*pipeline_)}});
  notifier_.Ready(StatusLine());
}

// The warm workers are killed (each holds no state of its own: a request in flight would have
// been cancelled by now), and the pipeline that owns their pools released while loop_ exists.
void Agent::Impl::StopWarmWorkers() {
  if (warm_workers_) warm_workers_->Shutdown();
  pipeline_.reset();
}

void Agent::Impl::BeginShutdown(const std::string& why) {
  if (stopping_) return;
  stopping_ = true;
  spdlog::info("{}: no more claims; {} bundle(s) in flight get {} s to finish", why,
               in_flight_.size(), config_.shutdown_timeout_s);
  notifier_.Stopping();
  watcher_->Stop();
  settle_timer_.cancel();
  rescan_timer_.cancel();
  hold_timer_.cancel();
  ready_.clear();
  // Recovered snapshots not started yet go back to the inbox like any unfinished bundle.
  for (const auto& item : resumable_) ReturnUnfinished(item, "shutdown before it was checked");
  resumable_.clear();
  shutdown_timer_.expires_after(std::chrono::seconds(config_.shutdown_timeout_s));
  shutdown_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    spdlog::warn("shutdown timeout: cancelling {} bundle(s); they go back to the inbox",
                 in_flight_.size());
    cancelled_ = true;
  });
  MaybeFinishShutdown();
}

void Agent::Impl::MaybeFinishShutdown() {
  if (!stopping_ || stopped_ || !in_flight_.empty() || !probing_.empty() || claims_pending_ > 0 ||
      hooks_running_ > 0 || reloading_) {
    return;
  }
  stopped_ = true;
  shutdown_timer_.cancel();
  status_timer_.cancel();
  watchdog_timer_.cancel();
  signals_.cancel();
  Audit("stopped", Json{{"pid", ::getpid()}, {"promoted", promoted_}, {"rejected", rejected_}});
  status_dirty_ = true;
  WriteStatus();
  // The I/O thread runs its queue (the records above) in order; stop the loop after it.
  boost::asio::post(*io_pool_, [this] { boost::asio::post(loop_, [this] { loop_.stop(); }); });
}

void Agent::Impl::ArmRescanTimer() {
  rescan_timer_.cancel();
  if (config_.watch.rescan_interval_s <= 0 || stopping_) return;
  rescan_timer_.expires_after(std::chrono::seconds(config_.watch.rescan_interval_s));
  rescan_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    Rescan("periodic");
    ArmRescanTimer();
  });
}

void Agent::Impl::ArmWatchdog(std::chrono::microseconds period) {
  notifier_.Watchdog();
  watchdog_timer_.expires_after(period);
  watchdog_timer_.async_wait([this, period](const boost::system::error_code& ec) {
    if (!ec) ArmWatchdog(period);
  });
}

void Agent::Impl::ArmStatusTimer() {
  status_timer_.expires_after(std::chrono::seconds(1));
  status_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    // Low-disk safety: the floor is watched every second; space coming back resumes claims,
    // and bundles waiting for space are looked at again.
    RefreshDisk();
    if (!ready_.empty()) TryStartJobs();
    WriteStatus();
    MaybeRefreshServed();
    ArmStatusTimer();
  });
}

std::string Agent::Impl::StatusLine() const {
  std::string line = std::to_string(tracker_.size()) + " settling, " +
                     std::to_string(ready_.size()) + " ready, " +
                     std::to_string(in_flight_.size()) + " in flight; " +
                     std::to_string(promoted_) + " promoted, " + std::to_string(rejected_) +
                     " rejected";
  if (!holds_.empty()) line += "; " + std::to_string(holds_.size()) + " held";
  if (disk_.below_floor) line += "; disk below its floor, claiming nothing new";
  return line;
}

Json Agent::Impl::StatusJson() const {
  Json settling = Json::object();
  for (const auto& [name, why] : tracker_.Pending()) settling[name] = why;
  Json in_flight = Json::array();
  for (const auto& [id, item] : in_flight_) {
    in_flight.push_back({{"id", id}, {"inbox_name", item.inbox_name}, {"claimed_at", item.claimed_at}});
  }
  Json recent = Json::array();
  for (const auto& r : recent_) recent.push_back(r);
  return {{"pid", ::getpid()},
          {"version", BUNDLEGATE_VERSION},
          {"state", stopped_ ? "stopped" : AgentState()},
          {"held", holds_.ToJson(Clock::now(), std::chrono::system_clock::now())},
          {"disk", DiskJson()},
          {"started_at", started_at_},
          {"updated_at", NowRfc3339()},
          {"config", config_.source},
          {"root", config_.paths.root},
          {"inbox", config_.paths.inbox},
          {"watch", watch_note_},
          {"http", http_ ? http_->address() : ""},
          {"workers", config_.workers},
          {"settling", settling},
          {"ready", Json(std::vector<std::string>(ready_.begin(), ready_.end()))},
          {"in_flight", in_flight},
          {"counts", {{"promoted", promoted_}, {"rejected", rejected_}, {"noop", noops_}}},
          {"recent", recent}};
}

void Agent::Impl::WriteStatus() {
  notifier_.Status(StatusLine());
  if (!status_dirty_) return;
  status_dirty_ = false;
  const std::string path = config_.paths.root + "/status.json";
  boost::asio::post(*io_pool_, [this, path, text = DumpJson(StatusJson(), 2) + "\n"] {
    Status st = env_.WriteFileAtomic(path, text, 0644, /*durable=*/false);  // advisory
    if (!st.ok()) spdlog::warn("status file: {}", st.message());
  });
}

}  // namespace bg
