#include "agent/daemon/test_stall.h"

#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cstdlib>
#include <spdlog/spdlog.h>
#include <thread>

namespace bg {
namespace {

double SecondsFromEnv(const char* name) {
  const char* raw = std::getenv(name);
  if (raw == nullptr || *raw == '\0') return 0;
  return std::atof(raw);
}

void Sleep(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

struct LoopStall {
  explicit LoopStall(boost::asio::io_context& loop, double s) : signals(loop, SIGUSR2), seconds(s) {}
  void Wait() {
    signals.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      spdlog::warn("BUNDLEGATE_TEST_STALL_LOOP_S: blocking the event loop for {} s", seconds);
      Sleep(seconds);
      Wait();
    });
  }
  boost::asio::signal_set signals;
  double seconds;
};

}  // namespace

void StallForRecoveryIfAsked() {
  const double s = SecondsFromEnv("BUNDLEGATE_TEST_STALL_RECOVERY_S");
  if (s <= 0) return;
  spdlog::warn("BUNDLEGATE_TEST_STALL_RECOVERY_S: recovery waits {} s", s);
  Sleep(s);
}

std::shared_ptr<void> InstallLoopStallIfAsked(boost::asio::io_context& loop) {
  const double s = SecondsFromEnv("BUNDLEGATE_TEST_STALL_LOOP_S");
  if (s <= 0) return nullptr;
  auto stall = std::make_shared<LoopStall>(loop, s);
  stall->Wait();
  return stall;
}

}  // namespace bg
