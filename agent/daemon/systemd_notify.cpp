#include "agent/daemon/systemd_notify.h"

#include <systemd/sd-daemon.h>

namespace bg {

void SystemdNotifier::Ready(const std::string& status) {
  last_status_ = status;
  sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
}

void SystemdNotifier::Status(const std::string& status) {
  if (status == last_status_) return;
  last_status_ = status;
  sd_notifyf(0, "STATUS=%s", status.c_str());
}

void SystemdNotifier::Reloading() { sd_notify(0, "RELOADING=1"); }
void SystemdNotifier::Stopping() { sd_notify(0, "STOPPING=1"); }
void SystemdNotifier::Watchdog() { sd_notify(0, "WATCHDOG=1"); }

std::optional<std::chrono::microseconds> SystemdNotifier::WatchdogPeriod() const {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec / 2);
}

}  // namespace bg
