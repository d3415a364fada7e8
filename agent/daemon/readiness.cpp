#include "agent/daemon/readiness.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace bg {

bool AllReady(const std::vector<ReadinessCondition>& conditions) {
  for (const auto& c : conditions) {
    if (!c.ok) return false;
  }
  return true;
}

Json ReadinessJson(const std::vector<ReadinessCondition>& conditions) {
  Json failing = Json::array();
  Json all = Json::array();
  for (const auto& c : conditions) {
    if (!c.ok) failing.push_back(c.name);
    all.push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
  }
  return {{"ready", failing.empty()}, {"failing", failing}, {"conditions", all}};
}

Result<DiskSpace> StatDiskSpace(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) {
    return Status::Error("statvfs " + path + ": " + std::strerror(errno));
  }
  DiskSpace d;
  d.available_bytes = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  d.size_bytes = static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize;
  return d;
}

std::string HumanBytes(std::uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 5) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", v, kUnits[unit]);
  return buf;
}

}  // namespace bg
