#include "agent/daemon/recovery.h"

#include <sys/stat.h>

#include <filesystem>

#include "agent/core/tree_ops.h"
#include "agent/serving/durability.h"
#include "agent/serving/journal.h"
#include "agent/serving/rollback.h"
#include "agent/serving/serving_layout.h"
#include "agent/serving/serving_lock.h"

namespace bg {
namespace {

namespace fs = std::filesystem;

bool SameFilesystem(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return ::lstat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev;
}

std::string ReturningStaging(const Config& config, const std::string& id) {
  return config.paths.inbox + "/.bundlegate-returning-" + id;
}

// Where a snapshot is set aside once its copy in the inbox is complete (the commit point).
std::string SetAside(const std::string& source, const std::string& id) {
  return fs::path(source).parent_path().string() + "/.returned-" + id;
}

// Renames `from` into the inbox as `name`, or, when a producer has taken that name meanwhile,
// as a free "<name>.recovered-<id>[-n]" (the name shortened to stay within NAME_MAX).
Status RenameIntoInbox(const Config& config, const std::string& from, const std::string& name,
                       const std::string& id, Env& env, std::string* where) {
  BG_ASSIGN_OR_RETURN(DirectoryHandle inbox, DirectoryHandle::Open(env, config.paths.inbox));
  std::string target = config.paths.inbox + "/" + name;
  Status st = env.Rename(from, target, RenameMode::kNoReplace);
  const std::string stem = name.substr(0, 180) + ".recovered-" + id;
  for (int n = 1; !st.ok() && PathExists(target) && n <= 100; ++n) {
    target = config.paths.inbox + "/" + stem + (n == 1 ? "" : "-" + std::to_string(n));
    st = env.Rename(from, target, RenameMode::kNoReplace);
  }
  if (!st.ok()) return st;
  *where = target;
  return inbox.Sync();
}

// Copies `source` to the inbox's filesystem as described in the header, then renames it in.
Status CopyToInbox(const Config& config, const std::string& source, const std::string& name,
                   const std::string& id, Env& env, std::string* where) {
  const std::string staging = ReturningStaging(config, id);
  BG_RETURN_IF_ERROR(env.RemoveTree(staging));
  std::error_code ec;
  fs::copy(source, staging, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
  Status synced = ec ? Status::Error("copy " + source + " back to the inbox: " + ec.message())
                     : SyncTree(env, staging);  // the commit point is on another filesystem
  if (synced.ok()) {
    auto inbox = DirectoryHandle::Open(env, config.paths.inbox);
    synced = inbox.ok() ? inbox->Sync() : inbox.status();
  }
  if (!synced.ok()) {
    (void)env.RemoveTree(staging);  // a failed sync proves nothing: copy again next time
    return synced;
  }
  env.CrashPoint("return.after-copy");
  const std::string aside = SetAside(source, id);
  BG_ASSIGN_OR_RETURN(DirectoryHandle parent, DirectoryHandle::Open(env, ParentDirectory(source)));
  BG_RETURN_IF_ERROR(env.Rename(source, aside, RenameMode::kNoReplace));
  BG_RETURN_IF_ERROR(parent.Sync());
  env.CrashPoint("return.after-set-aside");
  BG_RETURN_IF_ERROR(RenameIntoInbox(config, staging, name, id, env, where));
  env.CrashPoint("return.after-rename");
  return env.RemoveTree(aside);
}

// Moves `source` to inbox/<name> (or a free variant of it) and says where.
Status MoveToInbox(const Config& config, const std::string& source, const std::string& name,
                   const std::string& id, Env& env, std::string* where) {
  if (!SameFilesystem(source, config.paths.inbox)) {
    return CopyToInbox(config, source, name, id, env, where);
  }
  return RenameIntoInbox(config, source, name, id, env, where);
}

// Removes work/<id>: renamed out of sight first (ListIds skips dot-names), so that a removal cut
// short leaves nothing that recovery would take for a claim.
Status RemoveWorkDir(WorkArea& work, const std::string& id, Env& env) {
  const std::string aside = work.paths().work + "/.removing-" + id;
  if (PathExists(work.paths().Dir(id))) {
    BG_RETURN_IF_ERROR(env.RemoveTree(aside));
    BG_RETURN_IF_ERROR(env.Rename(work.paths().Dir(id), aside, RenameMode::kNoReplace));
  }
  return env.RemoveTree(aside);
}

void SweepWork(WorkArea& work, Env& env, Json& actions) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(work.paths().work, ec)) {
    const std::string n = e.path().filename().string();
    if (n.rfind(".removing-", 0) != 0) continue;
    Status st = env.RemoveTree(e.path().string());
    actions.push_back({{"action", "finished removing a decided work directory"},
                       {"path", e.path().string()}, {"ok", st.ok()}});
  }
}

// Under the serving lock: half-done rollbacks, versions hidden for retirement by a promotion
// whose work directory is gone, temporary links.
void RecoverServing(const Config& config, WorkArea& work, AuditLog& audit, Env& env, Json& actions) {
  const ServingLayout layout{config.paths.serving, config.paths.quarantine};
  auto lock = FileLock::Acquire(ServingLockPath(config.paths.root));
  if (!lock.ok()) {
    actions.push_back({{"action", "could not take the serving lock"}, {"error", lock.status().message()}});
    return;
  }
  const auto ids = work.ListIds();
  for (const auto& model : ListModels(layout)) {
    auto finished = FinishPendingRollback(layout, model, audit, env);
    if (!finished.ok()) {
      actions.push_back({{"action", "could not finish a rollback"}, {"name", model},
                         {"error", finished.status().message()}});
    } else if (!finished->empty()) {
      actions.push_back({{"action", "half-done rollback"}, {"name", model}, {"what", *finished}});
    }
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(layout.ModelDir(model), ec)) {
      const std::string n = e.path().filename().string();
      if (n.rfind(".current.tmp-", 0) == 0) {
        fs::remove(e.path(), ec);
        actions.push_back({{"action", "removed a temporary link"}, {"path", e.path().string()}});
      } else if (n.rfind(".retired-", 0) == 0) {
        const bool owned = std::any_of(ids.begin(), ids.end(), [&](const std::string& id) {
          return n.size() > id.size() && n.compare(n.size() - id.size() - 1, std::string::npos, "-" + id) == 0;
        });
        if (owned) continue;  // its promotion's journal finishes it, audited once
        Status st = env.RemoveTree(e.path().string());
        actions.push_back({{"action", "removed a version hidden for retirement"},
                           {"path", e.path().string()}, {"ok", st.ok()}});
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

// A return to the inbox whose copy was complete when the kill came: the copy is the bundle.
Status FinishReturn(const Config& config, WorkArea& work, const WorkItem& item, Env& env,
                    std::string* where) {
  const std::string staging = ReturningStaging(config, item.id);
  if (PathExists(staging)) {
    BG_RETURN_IF_ERROR(RenameIntoInbox(config, staging, item.inbox_name, item.id, env, where));
  }
  return RemoveWorkDir(work, item.id, env);
}

}  // namespace

Decision DecidePoisoned(const WorkItem& item, const Json& attempts, const std::string& source,
                        const ServingLayout& layout) {
  const std::string n = std::to_string(attempts.size());
  return DecideRejection(item, Reason::kPluginCrashed,
                         "the agent died " + n + " times while checking this bundle; it is "
                         "quarantined rather than checked again (fail closed)",
                         Json{{"agent_deaths", attempts.size()}, {"attempts", attempts}}, source,
                         layout);
}

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
  return RemoveWorkDir(work, item.id, env);
}

RecoveryReport RecoverWorkArea(const Config& config, WorkArea& work, DecisionExecutor& executor,
                               AuditLog& audit, Env& env) {
  RecoveryReport report;
  SweepWork(work, env, report.actions);
  // Before any decision is finished: a resumed promotion must see an operator's rollback.
  RecoverServing(config, work, audit, env, report.actions);
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
      (void)RemoveWorkDir(work, id, env);
      report.actions.push_back(std::move(action));
      continue;
    }
    auto journal = DecisionJournal::Load(env, work.paths().Dir(id), id);
    if (!journal.ok()) {
      // Not trusted, not guessed at: the bundle stays where it is for a person to look at.
      report.actions.push_back({{"action", "left alone: unreadable journal"}, {"id", id},
                                {"error", journal.status().message()}});
      continue;
    }
    if (journal->Last("decision") != nullptr) {
      auto done = executor.Resume(*item);
      Json action = {{"action", "finished a decision"}, {"id", id}, {"inbox_name", item->inbox_name}};
      if (done.ok()) {
        action["decision"] = done->decision.ActionName();
        action["path"] = done->decision.target;
        if (done->decision.action == Decision::Action::kPromote &&
            done->record.value("event", "") == "promoted") {
          report.promoted.push_back(done->record);
        }
      } else {
        action["error"] = done.status().message();
      }
      report.actions.push_back(std::move(action));
      continue;
    }
    if (PathExists(SetAside(work.paths().Bundle(id), id))) {
      std::string where;
      Status st = FinishReturn(config, work, *item, env, &where);
      Json action = {{"action", "finished returning to the inbox"}, {"id", id},
                     {"inbox_name", item->inbox_name}, {"ok", st.ok()}};
      if (!where.empty()) action["to"] = where;
      if (!st.ok()) action["error"] = st.message();
      report.actions.push_back(std::move(action));
      continue;
    }
    (void)env.RemoveTree(ReturningStaging(config, id));  // a copy cut short: the snapshot stands
    if (item->expired && PathExists(item->received)) {
      report.expired.push_back(*item);
      report.actions.push_back({{"action", "quarantining an expired claim"}, {"id", id}});
      continue;
    }
    if (item->snapshot_complete && PathExists(work.paths().Bundle(id))) {
      if (item->mode == IntakeMode::kCopy && PathExists(item->received)) {
        (void)env.RemoveTree(item->received);
      }
      const auto attempts = journal->CheckAttempts();
      if (static_cast<std::int64_t>(attempts.size()) >= config.limits.max_check_attempts) {
        report.poisoned.push_back({*item, Json(attempts)});
        report.actions.push_back({{"action", "failing closed: the agent died checking it"},
                                  {"id", id}, {"inbox_name", item->inbox_name},
                                  {"agent_deaths", attempts.size()}});
        continue;
      }
      report.rerun.push_back(*item);
      report.actions.push_back({{"action", "checking again"}, {"id", id}, {"inbox_name", item->inbox_name},
                                {"previous_attempts", attempts.size()}});
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
  ReturnOrphanClaims(config, work, env, report.actions);
  return report;
}

}  // namespace bg
