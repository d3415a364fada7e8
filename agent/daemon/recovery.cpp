#include "agent/daemon/recovery.h"

#include <sys/stat.h>

#include <filesystem>

#include "agent/core/tree_ops.h"
#include "agent/serving/serving_layout.h"

namespace bg {
namespace {

namespace fs = std::filesystem;

bool SameFilesystem(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return ::lstat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev;
}

// Renames `from` into the inbox as `name`, or, when a producer has taken that name meanwhile,
// as a free "<name>.recovered-<id>[-n]" (the name shortened to stay within NAME_MAX).
Status RenameIntoInbox(const Config& config, const std::string& from, const std::string& name,
                       const std::string& id, Env& env, std::string* where) {
  std::string target = config.paths.inbox + "/" + name;
  Status st = env.Rename(from, target, RenameMode::kNoReplace);
  const std::string stem = name.substr(0, 180) + ".recovered-" + id;
  for (int n = 1; !st.ok() && PathExists(target) && n <= 100; ++n) {
    target = config.paths.inbox + "/" + stem + (n == 1 ? "" : "-" + std::to_string(n));
    st = env.Rename(from, target, RenameMode::kNoReplace);
  }
  if (st.ok()) *where = target;
  return st;
}

// Moves `source` to inbox/<name> (or a free variant of it) and says where.
Status MoveToInbox(const Config& config, const std::string& source, const std::string& name,
                   const std::string& id, Env& env, std::string* where) {
  if (!SameFilesystem(source, config.paths.inbox)) {
    // Staged under a dot-name (ignored by the agent) and renamed in, like any producer. The
    // source is then renamed aside before it is removed: a crash mid-removal must not leave a
    // partial bundle that looks like a snapshot to check again.
    const std::string staging = config.paths.inbox + "/.bundlegate-returning-" + id;
    std::error_code ec;
    fs::remove_all(staging, ec);
    fs::copy(source, staging, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) return Status::Error("copy " + source + " back to the inbox: " + ec.message());
    BG_RETURN_IF_ERROR(env.SyncFilesystem(staging));
    BG_RETURN_IF_ERROR(RenameIntoInbox(config, staging, name, id, env, where));
    const std::string discard = fs::path(source).parent_path().string() + "/.discard-" + id;
    BG_RETURN_IF_ERROR(env.Rename(source, discard, RenameMode::kNoReplace));
    BG_RETURN_IF_ERROR(env.RemoveTree(discard));
  } else {
    BG_RETURN_IF_ERROR(RenameIntoInbox(config, source, name, id, env, where));
  }
  return env.SyncFilesystem(config.paths.inbox);
}

void RemoveTemporaryLinks(const Config& config, Json& actions) {
  const ServingLayout layout{config.paths.serving, config.paths.quarantine};
  for (const auto& model : ListModels(layout)) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(layout.ModelDir(model), ec)) {
      const std::string n = e.path().filename().string();
      if (n.rfind(".current.tmp-", 0) == 0) {
        fs::remove(e.path(), ec);
        actions.push_back({{"action", "removed a temporary link"}, {"path", e.path().string()}});
      }
    }
  }
}

// Claimed originals on another filesystem whose work/<id> is gone: back to the inbox.
void ReturnOrphanClaims(const Config& config, WorkArea& work, Env& env, Json& actions) {
  const std::string claimed = config.paths.inbox + "/.bundlegate-claimed";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(claimed, ec)) {
    const std::string id = e.path().filename().string();
    if (id.rfind(".discard-", 0) == 0) {  // an original already copied: finish removing it
      if (!PathExists(work.paths().Dir(id.substr(9)))) (void)env.RemoveTree(e.path().string());
      continue;
    }
    if (id[0] == '.' || PathExists(work.paths().Dir(id))) continue;
    std::string where;
    Status st = MoveToInbox(config, e.path().string(), "recovered-" + id, id, env, &where);
    actions.push_back({{"action", "returned an orphaned claim to the inbox"},
                       {"path", e.path().string()},
                       {"to", where},
                       {"ok", st.ok()}});
  }
  // Claims made in place (work_area.h: a directory the agent may not move) whose record is gone.
  const std::string prefix = kClaimedInPlacePrefix;
  for (const auto& e : fs::directory_iterator(config.paths.inbox, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string id = name.substr(prefix.size());
    if (PathExists(work.paths().Dir(id))) continue;
    std::string where;
    Status st = RenameIntoInbox(config, e.path().string(), "recovered-" + id, id, env, &where);
    actions.push_back({{"action", "returned an orphaned claim to the inbox"},
                       {"path", e.path().string()},
                       {"to", where},
                       {"ok", st.ok()}});
  }
}

}  // namespace

Status ReturnToInbox(const Config& config, WorkArea& work, const WorkItem& item, Env& env,
                     std::string* where) {
  const std::string bundle = work.paths().Bundle(item.id);
  std::string source;
  if (item.snapshot_complete && PathExists(bundle)) {
    source = bundle;
  } else if (PathExists(item.received)) {
    source = item.received;
    if (item.received != bundle) (void)env.RemoveTree(bundle);  // a partial copy
  }
  if (!source.empty()) {
    BG_RETURN_IF_ERROR(MoveToInbox(config, source, item.inbox_name, item.id, env, where));
  }
  if (item.mode == IntakeMode::kCopy && item.snapshot_complete && PathExists(item.received)) {
    BG_RETURN_IF_ERROR(env.RemoveTree(item.received));  // the copy was complete: it is the bundle
  }
  return work.Remove(item.id);
}

RecoveryReport RecoverWorkArea(const Config& config, WorkArea& work, DecisionExecutor& executor,
                               Env& env) {
  RecoveryReport report;
  for (const auto& id : work.ListIds()) {
    auto item = work.ReadRecord(id);
    if (!item.ok()) {
      // The claim's record is written before its rename: without one, nothing was moved in.
      // Anything found is kept all the same, back in the inbox.
      Json action = {{"action", "removed a claim without a record"}, {"id", id}};
      for (const char* sub : {"received", "bundle"}) {
        const std::string path = work.paths().Dir(id) + "/" + sub;
        std::string where;
        if (PathExists(path) && MoveToInbox(config, path, "recovered-" + id, id, env, &where).ok()) {
          action["returned_to_inbox"] = where;
        }
      }
      (void)work.Remove(id);
      report.actions.push_back(std::move(action));
      continue;
    }
    if (PathExists(work.paths().Decision(id))) {
      auto done = executor.Resume(*item);
      Json action = {{"action", "finished a decision"}, {"id", id}, {"inbox_name", item->inbox_name}};
      if (done.ok()) {
        action["decision"] = done->decision.ActionName();
        action["path"] = done->decision.target;
        if (done->decision.action == Decision::Action::kPromote) report.promoted.push_back(done->record);
      } else {
        action["error"] = done.status().message();
      }
      report.actions.push_back(std::move(action));
      continue;
    }
    if (item->expired && PathExists(item->received)) {
      report.expired.push_back(*item);
      report.actions.push_back({{"action", "quarantining an expired claim"}, {"id", id}});
      continue;
    }
    if (item->snapshot_complete && PathExists(work.paths().Bundle(id))) {
      if (item->mode == IntakeMode::kCopy && PathExists(item->received)) {
        (void)env.RemoveTree(item->received);
      }
      report.rerun.push_back(*item);
      report.actions.push_back({{"action", "checking again"}, {"id", id}, {"inbox_name", item->inbox_name}});
      continue;
    }
    std::string where;
    Status st = ReturnToInbox(config, work, *item, env, &where);
    Json action = {{"action", where.empty() ? "removed an empty claim" : "returned to the inbox"},
                   {"id", id},
                   {"inbox_name", item->inbox_name}};
    if (!where.empty()) action["to"] = where;
    if (!st.ok()) action["error"] = st.message();
    report.actions.push_back(std::move(action));
  }
  RemoveTemporaryLinks(config, report.actions);
  ReturnOrphanClaims(config, work, env, report.actions);
  return report;
}

}  // namespace bg
