// WorkArea: claiming bundles out of the inbox into work/, and copy intake.
//
// Claim: intake.json is written and fsync'd first, then the inbox entry is renamed (never
// replacing anything) to its claim location: work/<id>/received (copy intake), work/<id>/bundle
// (move intake), or inbox/.bundlegate-claimed/<id> when the inbox is on another filesystem
// (copy intake only). The rename is the claim: a producer still writing through an open
// descriptor keeps writing to the claimed inode, which is why copy intake exists.
//
// CopyIn: one pass over received/ that copies every regular file into bundle/ and hashes it in
// the same read, refusing unsafe entries (they are recorded, never followed or copied). Then
// the filesystem is synced (syncfs: one journal commit for the whole copy), the record says
// snapshot_complete, is synced too, and only then is received/ removed.
//
// Durability: nothing in a claim is synced (a claim lost to a power cut leaves the bundle in the
// inbox, where it started); the copy is, before the original is removed.
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

class WorkArea {
 public:
  // `inbox_same_fs`: whether the inbox is on the work directory's filesystem.
  WorkArea(const PathsConfig& paths, bool inbox_same_fs, Env& env);

  const WorkPaths& paths() const { return paths_; }

  // Claims inbox/<name>. Fails (with the inbox untouched) if the entry vanished or the rename is
  // refused. Move intake on another filesystem is refused.
  Result<WorkItem> Claim(const std::string& inbox_name, IntakeMode mode, bool expired = false,
                         const std::string& why_incomplete = "");

  // Copies item.received into bundle/ while hashing. When the walk finds unsafe entries or
  // crosses a limit it stops, removes the partial copy and returns the report with its findings
  // (the caller quarantines received/ as it is). Otherwise finishes the snapshot as described
  // above. The returned report's hashes are those of the copied bytes.
  Result<WalkReport> CopyIn(WorkItem& item, const LimitsConfig& limits,
                            const std::atomic<bool>* cancelled);

  Status WriteRecord(const WorkItem& item);
  Result<WorkItem> ReadRecord(const std::string& id) const;
  // The ids present in work/, sorted (oldest first).
  std::vector<std::string> ListIds() const;
  // Removes work/<id> entirely.
  Status Remove(const std::string& id);

 private:
  std::string ClaimTarget(const std::string& id, IntakeMode mode) const;

  PathsConfig config_paths_;
  WorkPaths paths_;
  bool inbox_same_fs_;
  Env& env_;
};

}  // namespace bg
