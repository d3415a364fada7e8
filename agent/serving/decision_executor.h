// DecisionExecutor: carries out a Decision so that SPEC.md's invariant holds at every instant,
// and so that it can be carried out again after a crash anywhere without deciding again.
//
// Make every choice once, record it, then act (journal.h). Execute, under the serving lock:
//   re-validate the verdict against serving/ now (a promotion whose version appeared meanwhile
//   becomes a no-op or duplicate-version; a no-op whose served copy is gone or differs becomes a
//   promotion or duplicate-version; a target that is not a plain version directory is refused:
//   manifest-invalid) -> fix the plan (decision.h) -> journal it, synced -> carry it out.
// Resume (recovery, or the retry of a failed step) replays the journal's last decision.
//
// The steps, each idempotent, each telling "already done" apart from "impossible now" (which
// leads to a new decision recorded in the journal, never to a lie in the audit log):
//   Promote    tree synced and read-only -> rename into serving/<name>/<version> (synced)
//              -> `current` moved if planned and still as expected -> .history.jsonl (synced)
//              -> audit "promoted" -> retention (retention.h) -> work/<id> removed
//   Noop       re-validated under the lock -> audit "promoted" with "noop": true -> removed
//   Quarantine REJECTED.json written into the bundle (synced) -> rename (or copy, across
//              filesystems) into quarantine/ (synced) -> audit "rejected" -> work/<id> removed
// "Already done" is a fact: what moved is recognized by the device and inode recorded in the
// plan; the audit record by its intake id, searched from the plan's audit mark on.
//
// `current` and rollback: the plan records whether to move `current` and what it was. A resume
// that finds `current` changed by `bundlegate rollback` since then does not move it again; the
// promotion is finished without making it current, and its record says so. Every "promoted"
// record says where `current` is once it is written ("current", "made_current").
//
// Durability is per file and per directory on descriptors held across the change
// (durability.h), never syncfs: a promotion does not wait for other tenants' dirty data. Per
// promotion: the journal's decision (fdatasync), a producer's own files in move intake (a
// snapshot made by copy intake is durable already), the model directory once after the
// rename, the link and the history line (whose fdatasync comes first), then the audit record.
//
// Crash points (env.h): check.after-attempt, decide.after-record, promote.after-rename,
// promote.after-link, promote.after-history, promote.after-audit, retire.after-plan,
// retire.after-hide, retire.after-audit, quarantine.after-rejected-json,
// quarantine.after-rename, quarantine.after-audit, noop.after-audit, cleanup.before-remove.
//
// Thread safety: calls must be serialized (the agent runs them on one I/O thread); changes to
// serving/ also take the serving lock, against `bundlegate rollback`.
#pragma once

#include <set>
#include <string>

#include "agent/audit/audit_log.h"
#include "agent/config/config.h"
#include "agent/core/env.h"
#include "agent/intake/work_area.h"
#include "agent/serving/decision.h"
#include "agent/serving/journal.h"
#include "agent/serving/serving_layout.h"

namespace bg {

struct ExecutionResult {
  Json record;             // the audit record ("promoted", "rejected" or "lost")
  Decision decision;       // as carried out (a promotion may have become a noop or a rejection)
  std::vector<Json> retired;  // audit records of versions removed by retention
  std::vector<std::string> warnings;  // failures after the record (retention, cleanup)
};

class DecisionExecutor {
 public:
  DecisionExecutor(const Config& config, WorkArea& work, AuditLog& audit, Env& env);

  // Records that the checks of `item` start now (journal "check-started"), before they do.
  Status RecordCheckAttempt(const WorkItem& item);
  // Makes the journal's own name durable (work/<id> and work/ synced). Called while the checks
  // run, so that recording the decision later costs one fdatasync; Execute does it otherwise.
  Status PrepareJournal(const WorkItem& item);
  // Records `decision` in the journal (unless the journal holds one already: then that one is
  // finished instead) and carries it out.
  Result<ExecutionResult> Execute(const WorkItem& item, Decision decision);
  // Finishes the decision recorded in the journal (recovery, retries). Fails when there is none.
  Result<ExecutionResult> Resume(const WorkItem& item);

  const ServingLayout& layout() const { return layout_; }

 private:
  struct Run;  // one Execute or Resume: the item, its journal, the result so far

  Result<ExecutionResult> Carry(Run& run, Decision d);
  // Revalidates `d` against serving/ now; returns it unchanged, or the decision that replaces it.
  Decision Revalidate(const WorkItem& item, Decision d) const;
  Status Plan(const WorkItem& item, Decision& d);
  Status Record(Run& run, const Decision& d);
  Result<ExecutionResult> Redecide(Run& run, Decision d, const std::string& why);
  Decision RejectAsDuplicate(const WorkItem& item, const Decision& d, const std::string& why) const;
  Decision PromotionOf(const WorkItem& item, const Decision& d, const std::string& why) const;

  // decision_executor.cpp
  Result<ExecutionResult> CarryNoop(Run& run, Decision d);
  // executor_promote.cpp
  Result<ExecutionResult> CarryPromote(Run& run, Decision d);
  enum class Moved { kDone, kImpossible };
  Result<Moved> MoveIntoServing(const Decision& d, bool snapshot_durable, std::string* why);
  // Whether d.source is a snapshot that copy intake made durable (no need to sync it again).
  bool SnapshotDurable(const WorkItem& item, const Decision& d) const;
  Status MoveCurrent(Run& run, Decision& d, Json& fields);
  // Versions of `name` that decisions recorded in other work items refer to (retention keeps them).
  std::set<std::string> PinnedVersions(const std::string& own_id, const std::string& name) const;
  // executor_quarantine.cpp
  Result<ExecutionResult> CarryQuarantine(Run& run, Decision d);
  Result<Moved> MoveIntoQuarantine(Run& run, Decision& d);

  Result<ExecutionResult> Lost(Run& run, const Decision& d, const std::string& what);
  Status Cleanup(const WorkItem& item, const Decision& d);
  Json AuditFields(const WorkItem& item, const Decision& d) const;

  std::set<std::string> journal_dirs_synced_;  // work ids whose journal's name is durable
  std::string root_;
  ServingLayout layout_;
  ServingConfig serving_;
  WorkArea& work_;
  AuditLog& audit_;
  Env& env_;
};

}  // namespace bg
