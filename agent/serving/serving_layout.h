// ServingLayout: where things live under serving/ and quarantine/, and the per-model history.
//
//   serving/<name>/<version>/       a promoted bundle, read-only
//   serving/<name>/current          symlink -> <version>, swapped atomically
//   serving/<name>/.history.jsonl   every promotion and rollback of <name>, in order (agent-private;
//                                   model servers ignore dot-files). Rollback and retention read
//                                   the promotion order from it. Each line is a fact, written
//                                   after the change it records; promotions name their intake
//                                   id and rollbacks their rollback id, so that a step redone
//                                   after a crash finds its own line and never writes it twice.
//   serving/<name>/.rollback-pending.json   a rollback's intent (rollback.h), while it runs
//   serving/<name>/.retired-<version>-<id>  a version being retired: renamed out of sight first,
//                                   then audited, then deleted (retention.h)
//   serving/<name>/.current.tmp-*   the new link, for an instant, before it is renamed over `current`
//
// Every name the agent keeps in serving/<name>/ is `current` or starts with '.', which is why the
// manifest rules refuse those as names and versions (manifest.h); IsPlainVersion says whether a
// name can be a version directory.
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
  std::string PendingRollback(const std::string& name) const {
    return ModelDir(name) + "/.rollback-pending.json";
  }
  std::string RetiringDir(const std::string& name, const std::string& version,
                          const std::string& id) const {
    return ModelDir(name) + "/.retired-" + version + "-" + id;
  }
};

// Whether `name` and `version` are a model and version the layout can hold as
// serving/<name>/<version>/ (the manifest's rules: no reserved word, no leading '.').
bool IsPlainVersion(const std::string& name, const std::string& version);

// The version `current` points at, if the link exists.
std::optional<std::string> ReadCurrent(const ServingLayout& layout, const std::string& name);

// Points serving/<name>/current at `version`: a temporary link renamed over the old one. A no-op
// when it already points there. Refuses a version that is not a plain version name. The caller
// makes it durable (an fsync of the model directory).
Status SwapCurrent(const ServingLayout& layout, const std::string& name, const std::string& version,
                   Env& env);

// One line of .history.jsonl.
struct HistoryEntry {
  // "promoted": made current. "added": promoted, but not made current (a bundle that arrived
  // later is current already, or a rollback moved `current` since the promotion was decided).
  // "rolled-back": made current by `bundlegate rollback`.
  std::string event;
  std::string version;
  std::string time;
  std::string arrival;    // promotions: the bundle's WorkItem::arrival (claim order)
  std::string intake_id;  // promotions: whose promotion it was
  std::string rollback_id;  // rollbacks
  std::string from;         // rollbacks: what was current before
};

// The arrival key of the promotion that made `version` current, if the history has one.
std::optional<std::string> ArrivalOf(const std::vector<HistoryEntry>& history,
                                       const std::string& version);

// Every entry, oldest first. Lines that are not JSON objects (a torn last line after a crash)
// are skipped; each line is parsed within bounds (ParseBoundedJson).
std::vector<HistoryEntry> ReadHistory(const ServingLayout& layout, const std::string& name);
// Appends `entry` and fdatasyncs the file on the descriptor it wrote with; after a failed sync
// the whole file is written again through a new file (synced, renamed over). Skips an entry
// already there: one with the same event and intake or rollback id, or, for entries without
// ids, when the last entry is the same event for the same version. The model directory's own
// fsync (a new file's name) is the caller's.
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
// Version directories of a model, sorted by name (plain version names only).
std::vector<std::string> ListVersions(const ServingLayout& layout, const std::string& name);

}  // namespace bg
