#include "agent/core/clock.h"

#include <cstdio>
#include <ctime>

namespace bg {
namespace {

std::string Format(WallTime t, bool compact) {
  const auto since_epoch = t.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  const std::time_t tt = static_cast<std::time_t>(seconds.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char out[48];
  if (compact) {
    std::snprintf(out, sizeof out, "%04d%02d%02dT%02d%02d%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(millis));
  } else {
    std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(millis));
  }
  return out;
}

}  // namespace

std::string Rfc3339Utc(WallTime t) { return Format(t, false); }
std::string CompactUtc(WallTime t) { return Format(t, true); }

}  // namespace bg
