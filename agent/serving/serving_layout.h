// ServingLayout: where things live under serving/ and quarantine/, and the per-model history.
//
//   serving/<name>/<version>/       a promoted bundle, read-only
//   serving/<name>/current          symlink -> <version>, swapped atomically
//   serving/<name>/.history.jsonl   every promotion and rollback of <name>, in order (agent-private;
//                                   model servers ignore dot-files). Rollback and retention read
//                                   the promotion order from it.
//
// Thread safety: stateless helpers; SwapCurrent and AppendHistory must be serialized by the
// caller (the serving lock, see serving_lock.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/core/env.h"
#include "agent/core/json.h"
#include "agent/core/status.h"

namespace bg {

struct ServingLayout {
  std::string serving;
  std::string quarantine;

  std::string ModelDir(const std::string& name) const { return serving + "/" + name; }
  std::string VersionDir(const std::string& name, const std::string& version) const {
    return ModelDir(name) + "/" + version;
  }
  std::string CurrentLink(const std::string& name) const { return ModelDir(name) + "/current"; }
  std::string HistoryFile(const std::string& name) const { return ModelDir(name) + "/.history.jsonl"; }
};

// The version `current` points at, if the link exists.
std::optional<std::string> ReadCurrent(const ServingLayout& layout, const std::string& name);

// Points serving/<name>/current at `version`: a temporary link renamed over the old one. A no-op
// when it already points there. The caller makes it durable (Env::SyncFilesystem).
Status SwapCurrent(const ServingLayout& layout, const std::string& name, const std::string& version,
                   Env& env);

// One line of .history.jsonl.
struct HistoryEntry {
  // "promoted": made current. "added": promoted, but not made current, because a bundle that
  // arrived later is current already. "rolled-back": made current by `bundlegate rollback`.
  std::string event;
  std::string version;
  std::string time;
  std::string arrival;  // promotions: the bundle's WorkItem::arrival (claim order)
};

// The arrival key of the promotion that made `version` current, if the history has one.
std::optional<std::string> ArrivalOf(const std::vector<HistoryEntry>& history,
                                       const std::string& version);

std::vector<HistoryEntry> ReadHistory(const ServingLayout& layout, const std::string& name);
// Appends (the caller syncs); skips when the last entry is the same event for the same version.
Status AppendHistory(const ServingLayout& layout, const std::string& name, const HistoryEntry& entry,
                     Env& env);
// Promoted versions ("promoted" and "added") in promotion order, each once (its latest counts).
std::vector<std::string> PromotionOrder(const std::vector<HistoryEntry>& history);
// What `current` has pointed at, as a stack: a promotion pushes its version; a rollback pops
// back to its target (or pushes it, when it is not on the stack). The top is current; the one
// below is "the one before it": what a rollback returns to, and what retention never removes.
std::vector<std::string> CurrentStack(const std::vector<HistoryEntry>& history);
// The version below current on the stack that still exists, if any.
std::optional<std::string> VersionBeforeCurrent(const ServingLayout& layout, const std::string& name);
// Model names under serving/, sorted.
std::vector<std::string> ListModels(const ServingLayout& layout);
// Version directories of a model, sorted by name.
std::vector<std::string> ListVersions(const ServingLayout& layout, const std::string& name);

}  // namespace bg
