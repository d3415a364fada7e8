// Wall-clock time in the two textual forms the product uses: RFC 3339 UTC for the audit log and
// JSON ("2026-11-28T10:00:00.123Z") and a compact form for directory names ("20261128T100000.123Z").
#pragma once

#include <chrono>
#include <string>

namespace bg {

using WallTime = std::chrono::system_clock::time_point;

std::string Rfc3339Utc(WallTime t);
std::string CompactUtc(WallTime t);
inline std::string NowRfc3339() { return Rfc3339Utc(std::chrono::system_clock::now()); }

}  // namespace bg
