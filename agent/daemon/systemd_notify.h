// The systemd service protocol (sd_notify(3)): READY=1 once the startup rescan is done,
// STATUS= lines as work progresses, STOPPING=1, RELOADING=1, and WATCHDOG=1 pings from the
// event loop itself, so that a loop stuck for longer than WatchdogSec gets the agent restarted.
// Every call is a no-op when NOTIFY_SOCKET is unset (not under systemd).
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace bg {

class SystemdNotifier {
 public:
  void Ready(const std::string& status);
  void Status(const std::string& status);
  void Reloading();
  void Stopping();
  void Watchdog();
  // Half the watchdog interval, when systemd asked for pings (WATCHDOG_USEC for our pid).
  std::optional<std::chrono::microseconds> WatchdogPeriod() const;

 private:
  std::string last_status_;
};

}  // namespace bg
