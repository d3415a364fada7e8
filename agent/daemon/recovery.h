// Recovery: on startup, reconcile the disk with the log after a crash (or kill -9) at any step.
//
// First serving/, under the serving lock: a rollback that a crash left half done is finished or
// withdrawn (rollback.h), versions hidden for retirement whose promotion is gone are deleted,
// temporary `current` links are removed. Then each work/<id>/ left behind, by its journal
// (serving/journal.h) and intake record:
//   a decision recorded     -> finished from the journal (DecisionExecutor::Resume), never
//                              decided again: the bundle ends in serving/ or quarantine/ with
//                              exactly one audit record
//   a return to the inbox   -> finished: the complete copy in the inbox is the bundle (the
//   committed               -> snapshot was set aside before it got its name there)
//   snapshot complete       -> its checks are run again (returned as `rerun`), unless they
//                              were started max_check_attempts times already with the agent
//                              dying each time: then it is quarantined (plugin-crashed, fail
//                              closed: `poisoned`) rather than crash-looping the gate
//   claimed, not copied     -> the original goes back to the inbox under its name (or
//                              <name>.recovered-<id> if that name was taken meanwhile), the
//                              partial copy is removed; an expired one is quarantined at once
//   nothing moved in        -> the empty claim is removed
// plus leftovers outside work/: claimed originals without a record, work directories being
// removed. Everything done is listed in `actions`, for one "recovered" audit record.
//
// Returning to the inbox across filesystems (copy intake, inbox elsewhere) copies the snapshot
// to inbox/.bundlegate-returning-<id> (ignored: a dot-name), syncs it, then sets the snapshot
// aside (work/<id>/.returned-<id>: the commit point), then renames the copy into place. A kill
// anywhere leaves the bundle in exactly one place: the snapshot before the commit point, the
// copy after it.
#pragma once

#include <vector>

#include "agent/audit/audit_log.h"
#include "agent/core/json.h"
#include "agent/intake/work_area.h"
#include "agent/serving/decision_executor.h"

namespace bg {

struct RecoveryReport {
  Json actions = Json::array();
  std::vector<WorkItem> rerun;    // snapshot complete: check again
  std::vector<WorkItem> expired;  // claimed as incomplete: quarantine
  struct Poisoned {
    WorkItem item;
    Json attempts;  // the journal's check-started records
  };
  std::vector<Poisoned> poisoned;  // the agent died checking it max_check_attempts times
  // Promotions finished here: their on_promote hook may not have run (it runs again: at least
  // once, not exactly once).
  std::vector<Json> promoted;
};

RecoveryReport RecoverWorkArea(const Config& config, WorkArea& work, DecisionExecutor& executor,
                               AuditLog& audit, Env& env);

// Returns a claimed bundle that will not be decided now (shutdown) to the inbox.
Status ReturnToInbox(const Config& config, WorkArea& work, const WorkItem& item, Env& env,
                     std::string* where);

// The rejection of a bundle whose checks killed the agent `attempts.size()` times.
Decision DecidePoisoned(const WorkItem& item, const Json& attempts, const std::string& source,
                        const ServingLayout& layout);

}  // namespace bg
