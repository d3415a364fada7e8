// Retention: keeping at most serving.keep_versions versions of a model, never the current one,
// the one before it (what a rollback returns to), the one just promoted, or one that a decision
// recorded in work/ and not yet carried out refers to (an identical re-drop decided a no-op
// because that version is served: `pinned`; the no-op is re-validated when carried out anyway).
//
// After a promotion is audited, under the serving lock:
//   1. choose the versions to remove, once: journal record "retire" (synced)  retire.after-plan
//   2. for each: rename serving/<name>/<version> to serving/<name>/.retired-<version>-<id>
//      (synced) - a model server never sees a half-deleted version       retire.after-hide
//   3. audit "retired" once (searched from the plan's audit mark on)     retire.after-audit
//   4. delete the hidden directory.
// A resume after a kill anywhere replays the recorded choice: a hidden directory is audited (if
// it was not yet) and deleted; a version already gone was audited before it went; a version
// still visible is re-checked first, and kept if it has become current or the one before it
// (a rollback while the agent was down) or is pinned now.
//
// Thread safety: the caller holds the serving lock and serializes calls.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "agent/audit/audit_log.h"
#include "agent/core/env.h"
#include "agent/serving/journal.h"
#include "agent/serving/serving_layout.h"

namespace bg {

struct RetentionContext {
  const ServingLayout& layout;
  std::int64_t keep_versions;  // 0 keeps everything
  const std::string& intake_id;  // the promotion that retires
  AuditLog& audit;
  Env& env;
  std::set<std::string> pinned = {};  // versions pending decisions refer to: never removed
};

// Oldest first, by promotion; versions the history does not know are never removed.
std::vector<std::string> ChooseRetired(const ServingLayout& layout, const std::string& name,
                                       std::int64_t keep_versions, const std::string& promoted,
                                       const std::set<std::string>& pinned = {});

// Steps 1-4 above for the promotion of `name` `promoted`; returns the "retired" records.
Result<std::vector<Json>> ApplyRetention(const RetentionContext& ctx, const std::string& name,
                                         const std::string& promoted, DecisionJournal& journal);

}  // namespace bg
