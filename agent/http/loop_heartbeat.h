// LoopHeartbeat: whether an event loop still answers, measured from outside it.
//
// A thread of its own posts a ping to the watched loop every `period`; the loop's answer
// records when it ran. The loop is healthy while no ping has waited longer than `deadline`. A
// loop stuck in a handler (a blocking call, an endless loop) cannot answer, and this thread
// sees it: liveness that a stuck loop cannot fake, and that no HTTP client can delay.
//
// Thread safety: Read() from any thread; construct and destroy on one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace bg {

class LoopHeartbeat {
 public:
  struct Reading {
    bool healthy = true;
    double last_lag_seconds = 0;  // the last answered ping's round trip
    double waiting_seconds = 0;   // how long the current ping has waited (0: none waiting)
    double deadline_seconds = 0;
  };

  // Starts pinging `watched` at once. Pings posted to a loop that never runs them are freed with
  // it; they hold no reference to this object.
  LoopHeartbeat(boost::asio::io_context& watched, std::chrono::milliseconds period,
                std::chrono::milliseconds deadline);
  ~LoopHeartbeat();  // stops and joins the thread
  LoopHeartbeat(const LoopHeartbeat&) = delete;
  LoopHeartbeat& operator=(const LoopHeartbeat&) = delete;

  Reading Read() const;

 private:
  struct State;
  void Run();

  boost::asio::io_context& watched_;
  const std::chrono::milliseconds period_;
  std::shared_ptr<State> state_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace bg
