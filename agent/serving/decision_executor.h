// DecisionExecutor: carries out a Decision, in an order that keeps SPEC.md's invariant true at
// every instant, and idempotently, so that recovery can call it again after a crash anywhere.
//
// Promote:  decision.json, synced -> tree read-only -> rename into serving/<name>/<version>
//           -> .history.jsonl -> `current` swapped -> synced -> audit "promoted" (fsync'd)
//           -> retention -> work/<id> removed
// Noop:     decision.json  -> audit "promoted" with "noop": true -> work/<id> removed
// Quarantine: decision.json, synced -> REJECTED.json written into the bundle -> rename into
//           quarantine/ -> synced -> audit "rejected" (fsync'd) -> work/<id> removed
// Durability is ordered with one syncfs per step (Env::SyncFilesystem) rather than an fsync per
// file and directory: on this kind of disk each costs a journal commit of a few milliseconds.
// A bundle is in work/ until its rename, and in serving/ or quarantine/ after; the audit record
// follows the rename (recovery writes it if a crash came between) and names the intake id, so
// it is written exactly once.
//
// Crash points (env.h): decide.after-record, promote.after-rename, promote.after-history,
// promote.after-link, promote.after-audit, quarantine.after-rejected-json,
// quarantine.after-rename, quarantine.after-audit, cleanup.before-remove.
//
// Thread safety: Execute calls must be serialized (the agent runs them on one I/O thread);
// changes to serving/ also take the serving lock, against `bundlegate rollback`.
#pragma once

#include <string>

#include "agent/audit/audit_log.h"
#include "agent/config/config.h"
#include "agent/core/env.h"
#include "agent/intake/work_area.h"
#include "agent/serving/decision.h"
#include "agent/serving/serving_layout.h"

namespace bg {

struct ExecutionResult {
  Json record;             // the audit record ("promoted" or "rejected")
  Decision decision;       // as carried out (a promotion may have become a noop or a rejection)
  std::vector<Json> retired;  // audit records of versions removed by retention
  std::vector<std::string> warnings;  // failures after the record (retention, cleanup)
};

class DecisionExecutor {
 public:
  DecisionExecutor(const Config& config, WorkArea& work, AuditLog& audit, Env& env);

  // Records `decision` in work/<id>/decision.json (unless recovery found it there already) and
  // carries it out.
  Result<ExecutionResult> Execute(const WorkItem& item, Decision decision);
  // Finishes the decision recorded in work/<id>/decision.json (recovery).
  Result<ExecutionResult> Resume(const WorkItem& item);

  const ServingLayout& layout() const { return layout_; }

 private:
  // A promotion whose version appeared in serving/ meanwhile: identical -> noop, else rejected.
  Decision Recheck(const WorkItem& item, Decision decision);
  Result<ExecutionResult> Carry(const WorkItem& item, Decision decision, bool resumed);
  Status MoveIntoServing(const Decision& d);
  Status MoveIntoQuarantine(const WorkItem& item, Decision& d);
  Result<Json> AuditOnce(const WorkItem& item, std::string_view event, const Json& fields,
                         bool resumed);
  Result<std::vector<Json>> ApplyRetention(const std::string& name);
  Status Cleanup(const WorkItem& item, const Decision& d);
  Json AuditFields(const WorkItem& item, const Decision& d) const;

  std::string root_;
  ServingLayout layout_;
  ServingConfig serving_;
  WorkArea& work_;
  AuditLog& audit_;
  Env& env_;
};

}  // namespace bg
