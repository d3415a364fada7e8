// Rollback: point serving/<name>/current at an earlier version (`bundlegate rollback`).
//
// Under the serving lock (so it never interleaves with a promotion by the running agent):
// resolves the target (--to VERSION, else the version below current on the current-stack, see
// serving_layout.h), swaps the link, records it in .history.jsonl and appends a "rolled-back"
// audit record. Nothing is deleted.
#pragma once

#include <string>

#include "agent/audit/audit_log.h"
#include "agent/config/config.h"
#include "agent/core/env.h"

namespace bg {

struct RollbackResult {
  std::string from;  // "" when there was no current link
  std::string to;
  Json record;  // the audit record
};

// `to_version` "" means "the one before current". Errors (unknown model, no earlier version,
// target missing or already current) are operational errors with a message for the user.
Result<RollbackResult> Rollback(const Config& config, const std::string& name,
                                const std::string& to_version, AuditLog& audit,
                                Env& env = Env::Default());

}  // namespace bg
