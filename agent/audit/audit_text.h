// The human form of an audit record, one line each (`bundlegate audit tail|show`):
//
//   2026-11-28T10:00:00.123Z  #12  rejected     fraud-scorer@2026.11.28-1  parity-mismatch
//       -> quarantine/...  digest=9b1c0d2e3f4a  checks: 5 pass; parity fail: 3 outputs differ
//
// (on one line): time, seq, event, name@version, reason, where it went (`path`), the other
// fields as key=value (long hex shortened to 12 characters, lists joined with ","; `prev` left
// out), the checks in brief, and the message or summary last. Nested objects are left to --json.
//
// Thread safety: a pure function.
#pragma once

#include <string>

#include "agent/core/json.h"

namespace bg {

std::string FormatAuditRecord(const Json& record);

}  // namespace bg
