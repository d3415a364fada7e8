// Recovery: on startup, reconcile the disk with the log after a crash (or kill -9) at any step.
//
// For each work/<id>/ left behind:
//   decision.json present   -> the decision is finished (DecisionExecutor::Resume): the bundle
//                              ends in serving/ or quarantine/ with exactly one audit record
//   snapshot complete       -> its checks are run again (returned as `rerun`)
//   claimed, not copied     -> the original goes back to the inbox under its name (or
//                              <name>.recovered-<id> if that name was taken meanwhile), the
//                              partial copy is removed; an expired one is quarantined at once
//   nothing moved in        -> the empty claim is removed
// plus leftovers outside work/: temporary `current` links, claimed originals without a record.
// Everything done is listed in `actions`, for one "recovered" audit record.
#pragma once

#include <vector>

#include "agent/core/json.h"
#include "agent/intake/work_area.h"
#include "agent/serving/decision_executor.h"

namespace bg {

struct RecoveryReport {
  Json actions = Json::array();
  std::vector<WorkItem> rerun;    // snapshot complete: check again
  std::vector<WorkItem> expired;  // claimed as incomplete: quarantine
  // Promotions finished here: their on_promote hook may not have run (it runs again: at least
  // once, not exactly once).
  std::vector<Json> promoted;
};

RecoveryReport RecoverWorkArea(const Config& config, WorkArea& work, DecisionExecutor& executor,
                               Env& env);

// Returns a claimed bundle that will not be decided now (shutdown) to the inbox.
Status ReturnToInbox(const Config& config, WorkArea& work, const WorkItem& item, Env& env,
                     std::string* where);

}  // namespace bg
