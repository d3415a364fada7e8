// DecisionExecutor: carrying out a quarantine (see decision_executor.h).
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "agent/core/file_contents.h"
#include "agent/core/tree_ops.h"
#include "agent/serving/audit_once.h"
#include "agent/serving/durability.h"
#include "agent/serving/executor_run.h"

namespace bg {
namespace {

// Copies `from` to `to` (absent) for a quarantine across filesystems: directories, regular files
// and symlinks (as links, never followed); other special files cannot be copied and are listed
// in to/NOT-COPIED.txt. Staged under a temporary name, synced, then renamed. A failure leaves no
// staging behind: after a failed sync the copy is made again, never just synced again.
Status CopyAcrossFilesystems(const std::string& from, const std::string& to, Env& env) {
  namespace fs = std::filesystem;
  const std::string staging = to + ".partial";
  auto fail = [&](Status st) {
    (void)env.RemoveTree(staging);
    return st;
  };
  BG_RETURN_IF_ERROR(env.RemoveTree(staging));
  std::error_code ec;
  fs::create_directory(staging, ec);
  if (ec) return Status::Error("create " + staging + ": " + ec.message());
  std::string not_copied;
  for (auto it = fs::recursive_directory_iterator(from, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    // Lexically: fs::relative would resolve a symlink in the bundle and aim outside it.
    const fs::path rel = it->path().lexically_relative(from);
    const fs::path dest = fs::path(staging) / rel;
    const auto status = it->symlink_status(ec);
    if (fs::is_symlink(status)) {
      fs::copy_symlink(it->path(), dest, ec);
    } else if (fs::is_directory(status)) {
      fs::create_directory(dest, ec);
    } else if (fs::is_regular_file(status)) {
      fs::copy_file(it->path(), dest, ec);
    } else {
      not_copied += rel.string() + "\n";
    }
    if (ec) return fail(Status::Error("copy " + it->path().string() + ": " + ec.message()));
  }
  if (ec) return fail(Status::Error("copy " + from + ": " + ec.message()));
  if (!not_copied.empty()) {
    std::ofstream(staging + "/NOT-COPIED.txt") << "special files that could not be copied:\n"
                                               << not_copied;
  }
  // Complete on disk no later than its name (the parent's sync below).
  Status synced = SyncTreeBefore(env, staging);
  if (!synced.ok()) return fail(synced);
  BG_ASSIGN_OR_RETURN(DirectoryHandle parent, DirectoryHandle::Open(env, ParentDirectory(to)));
  Status renamed = env.Rename(staging, to, RenameMode::kNoReplace);
  if (!renamed.ok()) return fail(renamed);
  return parent.Sync();
}

std::string Parent(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

// The names bundlegate may give its rejection file in a quarantined bundle, in order.
std::vector<std::string> RejectedFileNames() {
  std::vector<std::string> names = {"REJECTED.json", "REJECTED.bundlegate.json"};
  for (int n = 2; n <= 9; ++n) names.push_back("REJECTED.bundlegate-" + std::to_string(n) + ".json");
  return names;
}

bool IsOurRejection(const std::string& path, const std::string& intake_id) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  const auto text = ReadFileContents(path);
  return text && text->find("\"" + intake_id + "\"") != std::string::npos;
}

// The first name that is free (lstat: a dangling symlink is not free) or already ours: the
// bundle's own entries are never replaced.
std::string RejectedFileName(const std::string& dir, const std::string& intake_id) {
  for (const auto& name : RejectedFileNames()) {
    const std::string path = dir + "/" + name;
    if (!PathExists(path) || IsOurRejection(path, intake_id)) return name;
  }
  return "REJECTED.bundlegate-" + intake_id + ".json";
}

// Whether `dir` is this intake's quarantined bundle (copied there before a crash).
bool HoldsRejectionOf(const std::string& dir, const std::string& intake_id) {
  for (const auto& name : RejectedFileNames()) {
    if (IsOurRejection(dir + "/" + name, intake_id)) return true;
  }
  return IsOurRejection(dir + "/REJECTED.bundlegate-" + intake_id + ".json", intake_id);
}

bool SameInode(const std::string& path, std::uint64_t dev, std::uint64_t ino) {
  struct stat st;
  return ino != 0 && ::lstat(path.c_str(), &st) == 0 &&
         static_cast<std::uint64_t>(st.st_dev) == dev && static_cast<std::uint64_t>(st.st_ino) == ino;
}

}  // namespace

Result<DecisionExecutor::Moved> DecisionExecutor::MoveIntoQuarantine(Run& run, Decision& d) {
  const WorkItem& item = run.item;
  // Helpers live beside the source, on its filesystem, so that setting it aside is a rename:
  // a non-directory is wrapped in `wrapper`; an original copied across filesystems is renamed to
  // `discard` before it is removed, so that a crash mid-removal leaves nothing that looks like it.
  const std::string wrapper = Parent(d.source) + "/.quarantine-" + item.id;
  const std::string discard = Parent(d.source) + "/.discard-" + item.id;
  std::string source = d.source;
  if (!PathExists(source) && PathExists(wrapper)) source = wrapper;  // wrapped before a crash
  if (!PathExists(source)) {
    if (PathExists(discard)) BG_RETURN_IF_ERROR(env_.RemoveTree(discard));
    // Moved before a crash: the same directory (a rename), or our copy (across filesystems).
    if (PathExists(d.target) &&
        (SameInode(d.target, d.source_dev, d.source_ino) || HoldsRejectionOf(d.target, item.id))) {
      return Moved::kDone;
    }
    return Moved::kImpossible;
  }
  if (!IsDirectory(source)) {
    // Not a directory (a file or symlink dropped into the inbox): keep it, as received, inside
    // a directory of its own, so that REJECTED.json can sit beside it.
    BG_RETURN_IF_ERROR(env_.MakeDir(wrapper, 0755, true));
    BG_RETURN_IF_ERROR(env_.Rename(source, wrapper + "/" + item.inbox_name, RenameMode::kNoReplace));
    source = wrapper;
  }
  ::chmod(source.c_str(), 0755);  // snapshots are read-only: make room for REJECTED.json
  const std::string rejected_name = RejectedFileName(source, item.id);
  if (rejected_name != "REJECTED.json") {
    d.rejected["note"] = "the bundle brought a REJECTED.json of its own; bundlegate's is " + rejected_name;
  }
  BG_RETURN_IF_ERROR(env_.WriteFileAtomic(source + "/" + rejected_name,
                                          DumpJson(d.rejected, 2) + "\n", 0444, /*durable=*/true));
  env_.CrashPoint("quarantine.after-rejected-json");
  BG_RETURN_IF_ERROR(env_.MakeDir(layout_.quarantine, 0755, true));
  const bool copied_before_crash = PathExists(d.target) && HoldsRejectionOf(d.target, item.id);
  if (PathExists(d.target) && !copied_before_crash) {
    // Another bundle holds that name: take a new one, and record it before moving, so that a
    // resume looks for the bundle where it went.
    d.target = QuarantineTarget(layout_, std::filesystem::path(d.target).filename().string());
    BG_RETURN_IF_ERROR(run.journal.Append({{"type", "decision"}, {"decision", d.ToJson()}},
                                          /*durable=*/true));
  }
  struct stat from_st, to_st;
  const bool across = ::lstat(source.c_str(), &from_st) == 0 &&
                      ::stat(layout_.quarantine.c_str(), &to_st) == 0 && from_st.st_dev != to_st.st_dev;
  // What the record will say is in quarantine is on disk before the record is (a snapshot that
  // copy intake made durable is already).
  if (!SnapshotDurable(item, d)) BG_RETURN_IF_ERROR(SyncTreeBefore(env_, source));
  if (across) {
    // The original is on the inbox's own filesystem (copy intake across filesystems).
    if (!copied_before_crash) BG_RETURN_IF_ERROR(CopyAcrossFilesystems(source, d.target, env_));
    BG_RETURN_IF_ERROR(env_.Rename(source, discard, RenameMode::kNoReplace));
    BG_RETURN_IF_ERROR(env_.RemoveTree(discard));
  } else {
    BG_ASSIGN_OR_RETURN(DirectoryHandle quarantine, DirectoryHandle::Open(env_, layout_.quarantine));
    BG_RETURN_IF_ERROR(env_.Rename(source, d.target, RenameMode::kNoReplace));
    BG_RETURN_IF_ERROR(quarantine.Sync());
  }
  env_.CrashPoint("quarantine.after-rename");
  return Moved::kDone;
}

Result<ExecutionResult> DecisionExecutor::CarryQuarantine(Run& run, Decision d) {
  BG_ASSIGN_OR_RETURN(const Moved moved, MoveIntoQuarantine(run, d));
  if (moved == Moved::kImpossible) {
    return Lost(run, d, "the bundle was neither where it was claimed nor in quarantine when its "
                        "rejection was finished; nothing was moved");
  }
  BG_ASSIGN_OR_RETURN(run.out.record, AuditOnce(audit_, d.audit_mark, "rejected", "intake_id",
                                                run.item.id, AuditFields(run.item, d)));
  env_.CrashPoint("quarantine.after-audit");
  Status cleaned = Cleanup(run.item, d);
  if (!cleaned.ok()) run.out.warnings.push_back("cleanup of work/" + run.item.id + ": " + cleaned.message());
  run.out.decision = std::move(d);
  return std::move(run.out);
}

}  // namespace bg
