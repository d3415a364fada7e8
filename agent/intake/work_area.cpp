#include "agent/intake/work_area.h"

#include <fcntl.h>

#include <algorithm>
#include <filesystem>

#include "agent/bundle/bundle_dir.h"
#include "agent/core/clock.h"
#include "agent/core/errno_status.h"
#include "agent/core/file_contents.h"
#include "agent/core/tree_ops.h"
#include "agent/intake/copy_visitor.h"

namespace bg {

namespace {
constexpr const char* kClaimedDirName = ".bundlegate-claimed";
}  // namespace

WorkArea::WorkArea(const PathsConfig& paths, bool inbox_same_fs, Env& env)
    : config_paths_(paths), paths_{paths.work}, inbox_same_fs_(inbox_same_fs), env_(env) {}

std::string WorkArea::ClaimTarget(const std::string& id, IntakeMode mode) const {
  if (mode == IntakeMode::kMove) return paths_.Bundle(id);
  if (inbox_same_fs_) return paths_.Received(id);
  return config_paths_.inbox + "/" + kClaimedDirName + "/" + id;
}

Status WorkArea::WriteRecord(const WorkItem& item) {
  return env_.WriteFileAtomic(paths_.Record(item.id), DumpJson(item.ToJson(), 2) + "\n", 0600,
                              /*durable=*/false);
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

  BG_RETURN_IF_ERROR(env_.MakeDir(paths_.Dir(item.id), 0700, false));
  BG_RETURN_IF_ERROR(WriteRecord(item));
  env_.CrashPoint("claim.after-record");
  if (!inbox_same_fs_) {
    BG_RETURN_IF_ERROR(env_.MakeDir(config_paths_.inbox + "/" + kClaimedDirName, 0700, true));
  }
  const std::string from = config_paths_.inbox + "/" + inbox_name;
  Status renamed = env_.Rename(from, item.received, RenameMode::kNoReplace);
  if (!renamed.ok()) {
    (void)env_.RemoveTree(paths_.Dir(item.id));
    return renamed;
  }
  env_.CrashPoint("claim.after-rename");
  // Move intake checks the producer's own files: read-only from here on, like a copy's. Best
  // effort: files another user owns cannot be chmod'ed, and the claim stands regardless (move
  // intake is for trusted producers; promotion makes the tree read-only or fails loudly).
  if (mode == IntakeMode::kMove && IsDirectory(item.received)) {
    (void)MakeTreeReadOnly(item.received, /*directories=*/false);
  }
  return item;
}

Result<WalkReport> WorkArea::CopyIn(WorkItem& item, const LimitsConfig& limits,
                                    const std::atomic<bool>* cancelled) {
  const std::string bundle = paths_.Bundle(item.id);
  (void)env_.RemoveTree(bundle);  // a partial copy from before a crash
  BG_RETURN_IF_ERROR(env_.MakeDir(bundle, 0755, false));
  BG_ASSIGN_OR_RETURN(BundleDir source, BundleDir::Open(item.received));
  UniqueFd dest(::open(bundle.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dest) return ErrnoStatus("open", bundle);
  CopyVisitor copier(dest.get(), cancelled);
  auto report = WalkBundle(source, limits, copier);
  if (!report.ok() || !report->safe()) {
    (void)env_.RemoveTree(bundle);
    return report;
  }
  // The copy is durable before the record says so, and the record before the original goes.
  BG_RETURN_IF_ERROR(env_.SyncFilesystem(bundle));
  env_.CrashPoint("copy.after-snapshot");
  item.snapshot_complete = true;
  item.copied_by = copier.MethodCounts();
  BG_RETURN_IF_ERROR(WriteRecord(item));
  BG_RETURN_IF_ERROR(env_.SyncFilesystem(bundle));
  env_.CrashPoint("copy.after-record");
  BG_RETURN_IF_ERROR(env_.RemoveTree(item.received));
  return report;
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
