#include "agent/http/loop_heartbeat.h"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdint>

namespace bg {
namespace {

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// Shared with the pings posted to the watched loop, which may outlive the heartbeat.
struct LoopHeartbeat::State {
  std::atomic<std::int64_t> sent_ns{0};  // the ping waiting for an answer; 0: none
  std::atomic<std::int64_t> lag_ns{0};
  std::int64_t deadline_ns = 0;
};

LoopHeartbeat::LoopHeartbeat(boost::asio::io_context& watched, std::chrono::milliseconds period,
                             std::chrono::milliseconds deadline)
    : watched_(watched), period_(period), state_(std::make_shared<State>()) {
  state_->deadline_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline).count();
  thread_ = std::thread([this] { Run(); });
}

LoopHeartbeat::~LoopHeartbeat() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void LoopHeartbeat::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    std::int64_t idle = 0;
    const std::int64_t now = NowNs();
    if (state_->sent_ns.compare_exchange_strong(idle, now)) {  // one ping at a time
      boost::asio::post(watched_, [s = state_, now] {
        s->lag_ns = NowNs() - now;
        s->sent_ns = 0;
      });
    }
    wake_.wait_for(lock, period_, [this] { return stop_; });
  }
}

LoopHeartbeat::Reading LoopHeartbeat::Read() const {
  Reading r;
  const std::int64_t sent = state_->sent_ns.load();
  const std::int64_t waiting = sent == 0 ? 0 : NowNs() - sent;
  r.waiting_seconds = static_cast<double>(waiting) / 1e9;
  r.last_lag_seconds = static_cast<double>(state_->lag_ns.load()) / 1e9;
  r.deadline_seconds = static_cast<double>(state_->deadline_ns) / 1e9;
  r.healthy = waiting <= state_->deadline_ns;
  return r;
}

}  // namespace bg
