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

// Moves `source` to inbox/<name> (or a free variant of it) and says where.
Status MoveToInbox(const Config& config, const std::string& source, const std::string& name,
                   const std::string& id, Env& env, std::string* where) {
  std::string target = config.paths.inbox + "/" + name;
  if (PathExists(target)) target += ".recovered-" + id;
  if (!SameFilesystem(source, config.paths.inbox)) {
    // Staged under a dot-name (ignored by the agent) and renamed in, like any producer.
    const std::string staging = config.paths.inbox + "/.bundlegate-returning-" + id;
    std::error_code ec;
    fs::remove_all(staging, ec);
    fs::copy(source, staging, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) return Status::Error("copy " + source + " back to the inbox: " + ec.message());
    BG_RETURN_IF_ERROR(FsyncTree(staging));
    BG_RETURN_IF_ERROR(env.Rename(staging, target, RenameMode::kNoReplace));
    BG_RETURN_IF_ERROR(env.RemoveTree(source));
  } else {
    BG_RETURN_IF_ERROR(env.Rename(source, target, RenameMode::kNoReplace));
  }
  BG_RETURN_IF_ERROR(env.FsyncDir(config.paths.inbox));
  *where = target;
  return Status::Ok();
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
    if (PathExists(work.paths().Dir(id))) continue;
    std::string where;
    Status st = MoveToInbox(config, e.path().string(), "recovered-" + id, id, env, &where);
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
