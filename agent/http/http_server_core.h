// What the HTTP server's listener and its connections share (internal to agent/http): the
// options, the handler, the counters, and the gate through which replies from other threads
// reach the server's io_context only while it exists.
//
// Thread safety: the counters are atomics; the gate takes a mutex; the rest is immutable.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdint>
#include <mutex>

#include "agent/http/http_server.h"

namespace bg {

// Posts work to the server's io_context from any thread, until Close() (Stop): afterwards a post
// is dropped, so that a late reply from the agent's loop or a worker never touches a server
// that is gone.
class PostGate {
 public:
  explicit PostGate(boost::asio::io_context& io) : io_(&io) {}
  template <typename F>
  void Post(F&& f) {
    std::lock_guard<std::mutex> lock(mu_);
    if (io_ != nullptr) boost::asio::post(*io_, std::forward<F>(f));
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    io_ = nullptr;
  }

 private:
  std::mutex mu_;
  boost::asio::io_context* io_;
};

struct HttpServerCore {
  HttpServerCore(HttpServerOptions o, HttpHandler h, boost::asio::io_context& io)
      : options(std::move(o)), handler(std::move(h)), gate(std::make_shared<PostGate>(io)) {}

  const HttpServerOptions options;
  const HttpHandler handler;
  const std::shared_ptr<PostGate> gate;

  std::array<std::atomic<std::uint64_t>, HttpServerStats::kCodes.size() + 1> responses{};
  std::atomic<std::uint64_t> accepted{0}, refused{0}, open{0}, deadline_closes{0};

  void CountResponse(int status) {
    std::size_t i = 0;
    while (i < HttpServerStats::kCodes.size() && HttpServerStats::kCodes[i] != status) ++i;
    ++responses[i];
  }
};

}  // namespace bg
