// Rollback: point serving/<name>/current at an earlier version (`bundlegate rollback`).
//
// Intent first, so that no failure leaves `current` moved without a record. Under the serving
// lock (so it never interleaves with a promotion by the running agent):
//   1. finish any rollback of <name> that a crash left half done (below);
//   2. resolve the target (--to VERSION, else the version below current on the current-stack,
//      see serving_layout.h);
//   3. write the intent, serving/<name>/.rollback-pending.json (id, from, to, where the audit
//      log stood), durably;                                      crash point rollback.after-intent
//   4. append the "rolled-back" audit record (with the rollback id). If that fails, the intent
//      is withdrawn and the rollback fails: `current` did not move;  rollback.after-audit
//   5. swap the link, fsync the model directory;                 rollback.after-swap
//   6. record it in .history.jsonl, withdraw the intent.
// Nothing is deleted.
//
// A half-done rollback (an intent file left behind) is finished by whoever next changes that
// model's `current` under the lock (the next rollback, a promotion, the agent's start): if its
// record is in the audit log (searched from the intent's mark on), the swap and the history are
// completed; if not, the rollback never happened and the intent is withdrawn.
//
// Thread safety: takes the serving lock; safe beside a running agent and other rollbacks.
#pragma once

#include <string>

#include "agent/audit/audit_log.h"
#include "agent/config/config.h"
#include "agent/core/env.h"
#include "agent/serving/serving_layout.h"

namespace bg {

struct RollbackResult {
  std::string from;  // "" when there was no current link
  std::string to;
  Json record;  // the audit record
  std::string finished;  // what was done about a half-done rollback first ("" none)
};

// `to_version` "" means "the one before current". Errors (unknown model, no earlier version,
// target missing or already current, the audit log refusing the record) are operational errors
// with a message for the user; after any of them `current` is where it was.
Result<RollbackResult> Rollback(const Config& config, const std::string& name,
                                const std::string& to_version, AuditLog& audit,
                                Env& env = Env::Default());

// Finishes or withdraws a half-done rollback of `name`, as described above; the caller holds
// the serving lock. Returns what it did ("" when there was nothing to do).
Result<std::string> FinishPendingRollback(const ServingLayout& layout, const std::string& name,
                                          AuditLog& audit, Env& env);

}  // namespace bg
