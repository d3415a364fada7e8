#include "agent/plugin/worker_pool.h"

#include <boost/asio/post.hpp>

#include "agent/plugin/file_identity.h"
#include "agent/sandbox/spec_json.h"

namespace bg {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
constexpr auto kQueuePoll = std::chrono::milliseconds(250);
constexpr auto kDyingSlot = std::chrono::seconds(5);

PoolAnswer Cold(std::string why) {
  PoolAnswer a;
  a.note = std::move(why);
  return a;
}

// Answers are posted: a caller's callback may call Run again, never inside Dispatch.
void Answer(asio::io_context& loop, std::function<void(PoolAnswer)> done, PoolAnswer a) {
  asio::post(loop, [done = std::move(done), a = std::move(a)]() mutable { done(std::move(a)); });
}

}  // namespace

WorkerPool::WorkerPool(asio::io_context& loop, WorkerPoolOptions options,
                       std::shared_ptr<std::uint64_t> started)
    : loop_(loop), options_(std::move(options)), started_(std::move(started)), timer_(loop) {}

WorkerPool::~WorkerPool() {
  // Possibly off the loop (the last pipeline released elsewhere): the workers end on it.
  if (workers_.empty()) return;
  asio::post(loop_, [workers = std::move(workers_)] {
    for (const auto& w : workers) w->Kill();
  });
}

std::size_t WorkerPool::live_workers() const {
  std::size_t n = 0;
  for (const auto& w : workers_) n += !w->dead();
  return n;
}

void WorkerPool::Run(ServeRequest request, std::chrono::milliseconds timeout,
                     const std::atomic<bool>* cancelled, std::function<void(PoolAnswer)> done) {
  if (shut_down_) {
    Answer(loop_, std::move(done), Cold("the agent is stopping its warm workers"));
    return;
  }
  waiting_.push_back(Waiting{std::move(request), timeout, cancelled, std::move(done)});
  Dispatch();
}

void WorkerPool::Dispatch() {
  workers_.erase(std::remove_if(workers_.begin(), workers_.end(),
                                [](const auto& w) { return w->dead(); }),
                 workers_.end());
  // Cancelled while waiting: answered at once.
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->cancelled != nullptr && it->cancelled->load()) {
      PoolAnswer a;
      a.ran = true;
      a.outcome.cancelled = true;
      auto done = std::move(it->done);
      it = waiting_.erase(it);
      Answer(loop_, std::move(done), std::move(a));
    } else {
      ++it;
    }
  }
  if (Clock::now() < backoff_until_) {  // the warm path is off for now: cold, at once
    std::deque<Waiting> cold;
    cold.swap(waiting_);
    for (auto& w : cold) {
      Answer(loop_, std::move(w.done), Cold("the warm worker is unavailable (" + unavailable_ + ")"));
    }
  }
  for (const auto& w : workers_) {
    if (waiting_.empty()) break;
    if (!w->idle()) continue;
    Waiting next = std::move(waiting_.front());
    waiting_.pop_front();
    Assign(w, std::move(next));
  }
  // Starting and dying ones count, but not one that has been dying longer than kDyingSlot (a
  // SIGKILL that does not land: a process stuck in the kernel, a hung driver or NFS): it is
  // still reaped when it goes, but the bundles waiting get a new worker meanwhile.
  const auto now = Clock::now();
  std::size_t live = 0;
  for (const auto& w : workers_) live += !(w->dying() && now - w->dying_since() > kDyingSlot);
  if (!waiting_.empty() && live < options_.max_workers && starting_ < waiting_.size()) {
    StartWorker();
  }
  ArmTimer();
}

void WorkerPool::StartWorker() {
  auto worker = std::make_shared<WarmWorker>(loop_, options_.kind, options_.worker_run,
                                             options_.max_payload);
  std::weak_ptr<WorkerPool> weak = weak_from_this();
  worker->OnChange([weak] {
    if (auto pool = weak.lock()) pool->Dispatch();
  });
  workers_.push_back(worker);
  ++starting_;
  ++*started_;
  worker->Start([weak, worker](Status ready) {
    auto pool = weak.lock();
    if (!pool) return;
    --pool->starting_;
    if (ready.ok()) {
      pool->backoff_ = kStartBackoffInitial;
      pool->unavailable_.clear();
    } else {
      pool->unavailable_ = ready.message();
      pool->backoff_until_ = Clock::now() + pool->backoff_;
      pool->backoff_ = std::min(pool->backoff_ * 2, std::chrono::seconds(kStartBackoffMax));
      worker->Kill();
    }
    pool->Dispatch();
  });
}

void WorkerPool::Assign(const std::shared_ptr<WarmWorker>& worker, Waiting w) {
  const pid_t pid = worker->pid();
  // Never less than a cold run: the namespaces the worker itself got (as a cold run would,
  // spawned by the agent) are required of the request child, which must make them without
  // privilege; where it cannot (no unprivileged user namespaces), it fails closed and the
  // bundle runs cold.
  for (sandbox::Layer l : {sandbox::Layer::kNetwork, sandbox::Layer::kMount, sandbox::Layer::kPid}) {
    if (worker->isolation().applied(l)) w.request.sandbox.required.Add(l);
  }
  std::weak_ptr<WorkerPool> weak = weak_from_this();
  worker->Submit(std::move(w.request), w.timeout, w.cancelled,
                 [done = std::move(w.done), pid, worker, weak](ChildOutcome outcome,
                                                               std::string note, bool run_cold) {
                   PoolAnswer a;
                   a.note = std::move(note);
                   if (auto pool = weak.lock()) pool->Count(run_cold, a.note);
                   if (!run_cold) {
                     a.ran = true;
                     a.outcome = std::move(outcome);
                     a.worker_pid = pid;
                     a.worker_served = worker->served();
                   }
                   done(std::move(a));
                 });
}

// kMaxColdStreak answers in a row that the worker could not give (refused, unconfinable,
// its own failure) put the pool in back-off as a failed start does: a plugin whose warm path
// never works costs one cold run per bundle, not a warm attempt and a cold run.
void WorkerPool::Count(bool run_cold, const std::string& why) {
  if (!run_cold) {
    cold_streak_ = 0;
    return;
  }
  if (++cold_streak_ < kMaxColdStreak) return;
  cold_streak_ = 0;
  unavailable_ = why;
  backoff_until_ = Clock::now() + backoff_;
  backoff_ = std::min(backoff_ * 2, std::chrono::seconds(kStartBackoffMax));
  auto workers = workers_;
  for (const auto& w : workers) {
    if (w->idle()) w->Kill();
  }
}

// One timer: polls for cancellation while requests wait, else wakes for the next idle expiry.
void WorkerPool::ArmTimer() {
  Clock::time_point when = Clock::time_point::max();
  if (!waiting_.empty()) when = Clock::now() + kQueuePoll;
  for (const auto& w : workers_) {
    if (w->idle()) when = std::min(when, w->idle_since() + options_.idle_timeout);
  }
  if (when == Clock::time_point::max()) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(when);
  std::weak_ptr<WorkerPool> weak = weak_from_this();
  timer_.async_wait([weak](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto pool = weak.lock()) pool->ReapIdle();
  });
}

void WorkerPool::ReapIdle() {
  const auto now = Clock::now();
  for (const auto& w : workers_) {
    if (w->idle() && w->idle_since() + options_.idle_timeout <= now) w->Kill();
  }
  Dispatch();
}

void WorkerPool::AddStats(WarmWorkerStats* stats) const {
  for (const auto& w : workers_) {
    stats->starting += w->starting();
    stats->idle += w->idle();
    stats->busy += w->busy();
  }
  stats->started = *started_;
}

void WorkerPool::Shutdown() {
  shut_down_ = true;
  std::deque<Waiting> cold;
  cold.swap(waiting_);
  for (auto& w : cold) Answer(loop_, std::move(w.done), Cold("the agent is stopping its warm workers"));
  auto workers = workers_;
  for (const auto& w : workers) w->Kill();
  timer_.cancel();
}

WarmWorkers::~WarmWorkers() = default;

Result<std::shared_ptr<WorkerPool>> WarmWorkers::PoolFor(const std::string& path,
                                                          WorkerPoolOptions options) {
  BG_ASSIGN_OR_RETURN(FileIdentity identity, FileIdentity::Of(path));
  const std::string key = DumpJson(Json{{"path", path},
                                        {"identity", identity.ToJson()},
                                        {"argv", options.worker_run.spawn.argv},
                                        {"env", options.worker_run.spawn.env},
                                        {"spec", sandbox::SpecToJson(options.worker_run.spawn.sandbox)},
                                        {"max_workers", options.max_workers},
                                        {"idle_s", options.idle_timeout.count()},
                                        {"max_payload", options.max_payload}});
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = pools_.begin(); it != pools_.end();) {
    it = it->second.expired() ? pools_.erase(it) : std::next(it);
  }
  if (auto running = pools_[key].lock()) return running;
  auto& started = started_[options.kind];
  if (!started) started = std::make_shared<std::uint64_t>(0);
  auto pool = std::make_shared<WorkerPool>(loop_, std::move(options), started);
  pools_[key] = pool;
  return pool;
}

std::vector<std::shared_ptr<WorkerPool>> WarmWorkers::Alive() {
  std::vector<std::shared_ptr<WorkerPool>> pools;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [key, weak] : pools_) {
    if (auto p = weak.lock()) pools.push_back(std::move(p));
  }
  return pools;
}

void WarmWorkers::Shutdown() {
  for (const auto& p : Alive()) p->Shutdown();
}

std::map<std::string, WarmWorkerStats> WarmWorkers::Stats() {
  std::map<std::string, WarmWorkerStats> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [kind, started] : started_) out[kind].started = *started;
  }
  for (const auto& p : Alive()) p->AddStats(&out[p->kind()]);
  return out;
}

}  // namespace bg
