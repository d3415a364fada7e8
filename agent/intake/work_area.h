// WorkArea: claiming bundles out of the inbox into work/, and copy intake.
//
// Claim: intake.json is written first, then the inbox entry is renamed (never replacing
// anything) to its claim location: work/<id>/received (copy intake), work/<id>/bundle (move
// intake), or inbox/.bundlegate-claimed/<id> when the inbox is on another filesystem (copy
// intake only). The rename is the claim: a producer still writing through an open descriptor
// keeps writing to the claimed inode, which is why copy intake exists.
//
// Producers of another user. Renaming a directory to another parent needs write permission on
// the directory itself (its ".." entry changes); renaming it within its parent does not. So a
// bundle directory the agent may read but not write (a producer's 0755 directory) cannot go to
// work/: it is claimed in place instead, renamed within the inbox to the hidden
// inbox/.bundlegate-claimed-<id> (the record says so first, durably), and copied from there
// (move intake falls back to a copy for it). Where the agent cannot even rename it in place (no
// write permission on the inbox, a sticky inbox), the claim fails with the errno and the
// bundle stays where it is, untouched.
//
// CopyIn: one pass over received/ that copies every regular file into bundle/ and hashes it in
// the same read, refusing unsafe entries (they are recorded, never followed or copied), each
// file read no further than its declared size plus one byte (a larger one is a size mismatch:
// see CopyResult::snapshot for what is then checked and quarantined). Durability per file and per
// directory on held descriptors (copy_visitor.h); the record then says snapshot_complete,
// durably, and only then does the original go. If the original cannot be removed whole (a
// directory in it the agent may not write), nothing of it is removed: it is kept, complete,
// under the hidden name inbox/.bundlegate-leftover-<id>, and CopyIn says so (CopyResult) for
// the log and the audit log. Nothing is ever half-deleted (Env::RemoveTree removes a tree whole
// or not at all).
//
// Every failure is returned as it came (an operational error with its errno, or a verdict from
// the tree, e.g. unsafe-path): the caller decides whether the bundle is held or rejected.
//
// Thread safety: operations on different work ids may run concurrently.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "agent/bundle/bundle_walk.h"
#include "agent/config/config.h"
#include "agent/core/env.h"
#include "agent/intake/work_item.h"

namespace bg {

// The hidden inbox names the agent uses (the inbox ignores names starting with '.').
inline constexpr const char* kClaimedDirName = ".bundlegate-claimed";
inline constexpr const char* kClaimedInPlacePrefix = ".bundlegate-claimed-";
inline constexpr const char* kLeftoverPrefix = ".bundlegate-leftover-";

struct CopyResult {
  WalkReport report;
  // Whether bundle/ holds the snapshot. Not when the tree is unsafe or over its limits, nor
  // when a file is larger than declared and the inbox is on the root's filesystem: then what is
  // checked, and quarantined as received, is the original (a faithful copy of a file larger
  // than declared would take reading it to its end, which copy intake never does).
  bool snapshot = true;
  // Set when the original could not be removed whole and was kept under a hidden name.
  std::string leftover;      // where it is now
  std::string leftover_why;  // why it could not be removed
  std::vector<std::string> warnings;  // failures after the snapshot was recorded (not the copy's)
};

class WorkArea {
 public:
  // `inbox_same_fs`: whether the inbox is on the work directory's filesystem.
  // `plugin_group`: where plugins run under a group of their own (the agent is root), work/ is
  // root's with that group, mode 2710 (PrepareRoot), and each work/<id> is made 0710 and
  // inherits the group: a warm worker (agent/plugin/warm_worker.h), which runs as the plugin
  // user and builds its request children's views itself, can then reach a bundle it is handed,
  // by name, and list nothing. Otherwise (false) work/<id> is 0700.
  WorkArea(const PathsConfig& paths, bool inbox_same_fs, Env& env, bool plugin_group = false);

  const WorkPaths& paths() const { return paths_; }

  // Claims inbox/<name>. Fails (with the inbox entry where it was) if the entry vanished or
  // the rename is refused even in place. Move intake on another filesystem is refused.
  Result<WorkItem> Claim(const std::string& inbox_name, IntakeMode mode, bool expired = false,
                         const std::string& why_incomplete = "");

  // Copies item.received into bundle/ while hashing. When the walk finds unsafe entries or
  // crosses a limit it stops, removes the partial copy and returns the report with its findings
  // (the caller quarantines received/ as it is). Otherwise finishes the snapshot as described
  // above. The returned report's hashes are those of the copied bytes. On failure the partial
  // copy is gone and received/ is untouched.
  Result<CopyResult> CopyIn(WorkItem& item, const LimitsConfig& limits,
                            const std::atomic<bool>* cancelled);

  // `durable`: the record and its directory are fsync'd (before a step that relies on it).
  Status WriteRecord(const WorkItem& item, bool durable = false);
  Result<WorkItem> ReadRecord(const std::string& id) const;
  // The ids present in work/, sorted (oldest first).
  std::vector<std::string> ListIds() const;
  // Removes work/<id> entirely.
  Status Remove(const std::string& id);

 private:
  std::string ClaimTarget(const std::string& id, IntakeMode mode) const;
  Status ClaimInPlace(WorkItem& item, const std::string& from, const Status& refused);
  void RemoveOriginal(const WorkItem& item, CopyResult& result);

  PathsConfig config_paths_;
  WorkPaths paths_;
  bool inbox_same_fs_;
  mode_t item_mode_;
  Env& env_;
};

}  // namespace bg
