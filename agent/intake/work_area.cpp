#include "agent/intake/work_area.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "agent/bundle/bundle_dir.h"
#include "agent/bundle/declared_files.h"
#include "agent/core/clock.h"
#include "agent/core/errno_status.h"
#include "agent/core/file_contents.h"
#include "agent/core/tree_ops.h"
#include "agent/intake/copy_visitor.h"
#include "agent/manifest/manifest.h"
#include "agent/toml/toml_document.h"

namespace bg {
namespace {

// The claim rename was refused for a reason that an in-place rename may not have: the
// directory itself is not writable to the agent (its ".." cannot change).
bool RefusedForPermission(const Status& st) {
  return st.error_number() == EACCES || st.error_number() == EPERM;
}

// [[files]] sizes from the bundle's own bundle.toml, read leniently: the bound of each read.
// Empty when the manifest is missing, unsafe, over its limit or does not parse (then every file
// is bounded by its size when opened); an operational failure is returned.
Result<DeclaredFiles> ReadBounds(const BundleDir& source, const LimitsConfig& limits) {
  auto text = source.ReadFile(kManifestFileName, limits.max_manifest_bytes);
  if (!text.ok()) {
    if (text.status().IsVerdict()) return DeclaredFiles{};
    return text.status();
  }
  auto doc = ParseToml(*text, kManifestFileName);
  if (!doc.ok()) return DeclaredFiles{};
  return ReadDeclaredFiles(doc->root);
}

}  // namespace

WorkArea::WorkArea(const PathsConfig& paths, bool inbox_same_fs, Env& env, bool plugin_group)
    : config_paths_(paths), paths_{paths.work}, inbox_same_fs_(inbox_same_fs),
      item_mode_(plugin_group ? 0710 : 0700), env_(env) {}

std::string WorkArea::ClaimTarget(const std::string& id, IntakeMode mode) const {
  if (mode == IntakeMode::kMove) return paths_.Bundle(id);
  if (inbox_same_fs_) return paths_.Received(id);
  return config_paths_.inbox + "/" + kClaimedDirName + "/" + id;
}

Status WorkArea::WriteRecord(const WorkItem& item, bool durable) {
  return env_.WriteFileAtomic(paths_.Record(item.id), DumpJson(item.ToJson(), 2) + "\n", 0600,
                              durable);
}

Result<WorkItem> WorkArea::ReadRecord(const std::string& id) const {
  const auto text = ReadFileContents(paths_.Record(id));
  if (!text) return Status::Error("no intake record in " + paths_.Dir(id));
  const Json j = Json::parse(*text, nullptr, false);
  if (j.is_discarded()) return Status::Error("unreadable intake record in " + paths_.Dir(id));
  return WorkItem::FromJson(j);
}

Result<WorkItem> WorkArea::Claim(const std::string& inbox_name, IntakeMode mode, bool expired,
                                 const std::string& why_incomplete) {
  if (mode == IntakeMode::kMove && !inbox_same_fs_) {
    return Status::Error("move intake needs the inbox on the root's filesystem");
  }
  WorkItem item;
  item.id = NewWorkId();
  item.inbox_name = inbox_name;
  item.mode = mode;
  item.received = ClaimTarget(item.id, mode);
  item.claimed_at = NowRfc3339();
  item.arrival = NewArrivalKey();
  item.snapshot_complete = mode == IntakeMode::kMove;
  item.expired = expired;
  item.why_incomplete = why_incomplete;

  BG_RETURN_IF_ERROR(env_.MakeDir(paths_.Dir(item.id), item_mode_, false));
  Status recorded = WriteRecord(item);
  if (!recorded.ok()) {
    (void)env_.RemoveTree(paths_.Dir(item.id));
    return recorded;
  }
  env_.CrashPoint("claim.after-record");
  Status renamed = Status::Ok();
  if (!inbox_same_fs_) {
    renamed = env_.MakeDir(config_paths_.inbox + "/" + kClaimedDirName, 0700, true);
  }
  const std::string from = config_paths_.inbox + "/" + inbox_name;
  if (renamed.ok()) renamed = env_.Rename(from, item.received, RenameMode::kNoReplace);
  if (!renamed.ok() && RefusedForPermission(renamed) && IsDirectory(from)) {
    renamed = ClaimInPlace(item, from, renamed);
  }
  if (!renamed.ok()) {
    (void)env_.RemoveTree(paths_.Dir(item.id));
    return renamed;
  }
  env_.CrashPoint("claim.after-rename");
  // Move intake checks the producer's own files: read-only from here on, like a copy's. Best
  // effort: files another user owns cannot be chmod'ed, and the claim stands regardless (move
  // intake is for trusted producers; promotion makes the tree read-only or fails loudly).
  if (item.mode == IntakeMode::kMove && IsDirectory(item.received)) {
    (void)MakeTreeReadOnly(item.received, /*directories=*/false, env_);
  }
  return item;
}

Status WorkArea::ClaimInPlace(WorkItem& item, const std::string& from, const Status& refused) {
  // A copy from inside the inbox: the record says where the original is before it is there,
  // durably, so that recovery finds it under its hidden name after any crash.
  item.mode = IntakeMode::kCopy;
  item.snapshot_complete = false;
  item.received = config_paths_.inbox + "/" + kClaimedInPlacePrefix + item.id;
  BG_RETURN_IF_ERROR(WriteRecord(item, /*durable=*/true));
  Status renamed = env_.Rename(from, item.received, RenameMode::kNoReplace);
  if (!renamed.ok()) {
    return renamed.WithContext("claiming in place (" + refused.message() + ")");
  }
  return Status::Ok();
}

Result<CopyResult> WorkArea::CopyIn(WorkItem& item, const LimitsConfig& limits,
                                    const std::atomic<bool>* cancelled) {
  const std::string dir = paths_.Dir(item.id);
  const std::string bundle = paths_.Bundle(item.id);
  BG_RETURN_IF_ERROR(env_.RemoveTree(bundle));  // a partial copy from before (a crash, a fault)
  // Held across the creation of bundle/ and the rename of the record (env.h, "Durability").
  BG_ASSIGN_OR_RETURN(UniqueFd work_dir, env_.OpenDirectory(dir));
  BG_ASSIGN_OR_RETURN(BundleDir source, BundleDir::Open(item.received, env_));
  BG_ASSIGN_OR_RETURN(const DeclaredFiles bounds, ReadBounds(source, limits));
  BG_RETURN_IF_ERROR(env_.MakeDir(bundle, 0755, false));
  CopyResult result;
  {
    auto dest = env_.OpenDirectory(bundle);
    if (!dest.ok()) {
      (void)env_.RemoveTree(bundle);
      return dest.status();
    }
    CopyVisitor copier(dest->get(), bundle, env_, cancelled);
    WalkOptions options;
    options.declared = &bounds.sizes;
    options.env = &env_;
    Result<WalkReport> report = WalkBundle(source, limits, copier, options);
    Status synced = copier.FinishSyncs();
    item.copied_by = copier.MethodCounts();
    if (synced.ok() && report.ok() && report->safe()) synced = env_.Fsync(dest->get(), bundle);
    if (report.ok() && synced.ok() && report->safe()) synced = env_.Fsync(work_dir.get(), dir);
    const bool faithful = report.ok() && report->safe() && (!report->truncated() || !inbox_same_fs_);
    if (!report.ok() || !synced.ok() || !faithful) {
      // Unsafe, or a file larger than declared: no snapshot, the original is what gets checked
      // and quarantined as received. Failed (a read, a write, a sync): the copy is thrown away
      // whole and made afresh the next time.
      (void)env_.RemoveTree(bundle);
      if (!report.ok()) return report.status();
      if (!synced.ok()) return synced;
      result.report = std::move(report).value();
      result.snapshot = false;
      return result;
    }
    result.report = std::move(report).value();
  }
  env_.CrashPoint("copy.after-snapshot");
  item.snapshot_complete = true;
  // The copy is durable before the record says so, and the record before the original goes.
  Status recorded = WriteRecord(item, /*durable=*/true);
  if (!recorded.ok()) {
    item.snapshot_complete = false;
    (void)env_.RemoveTree(bundle);
    return recorded;
  }
  env_.CrashPoint("copy.after-record");
  RemoveOriginal(item, result);
  return result;
}

void WorkArea::RemoveOriginal(const WorkItem& item, CopyResult& result) {
  Status removable = CheckTreeRemovable(item.received);
  if (removable.ok()) {
    // Failing here is not the copy's failure: the decision's cleanup removes it later.
    Status removed = env_.RemoveTree(item.received);
    if (!removed.ok()) result.warnings.push_back("the original stays until the decision: " + removed.message());
    return;
  }
  // Removing part of it would leave a half-deleted bundle: keep it whole, out of the way,
  // where its producer can remove it. The snapshot is complete and recorded: the bundle is
  // decided once, from the snapshot.
  const std::string leftover = config_paths_.inbox + "/" + kLeftoverPrefix + item.id;
  Status renamed = env_.Rename(item.received, leftover, RenameMode::kNoReplace);
  result.leftover = renamed.ok() ? leftover : item.received;
  result.leftover_why = removable.message();
  if (!renamed.ok()) result.leftover_why += "; setting it aside failed too: " + renamed.message();
}

std::vector<std::string> WorkArea::ListIds() const {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(paths_.work, ec)) {
    const std::string name = e.path().filename().string();
    if (!name.empty() && name[0] != '.') ids.push_back(name);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Status WorkArea::Remove(const std::string& id) {
  env_.CrashPoint("cleanup.before-remove");
  // Not synced: a record left behind by a power cut is finished or discarded by recovery.
  return env_.RemoveTree(paths_.Dir(id));
}

}  // namespace bg
