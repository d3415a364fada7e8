#include "agent/serving/rollback.h"

#include <unistd.h>

#include <atomic>
#include <chrono>

#include "agent/core/bounded_json.h"
#include "agent/core/clock.h"
#include "agent/core/file_contents.h"
#include "agent/core/tree_ops.h"
#include "agent/manifest/manifest.h"
#include "agent/serving/audit_once.h"
#include "agent/serving/durability.h"
#include "agent/serving/serving_lock.h"

namespace bg {
namespace {

struct Intent {
  std::string id, name, from, to;
  AuditMark mark;
};

std::string NewRollbackId() {
  static std::atomic<unsigned> counter{0};
  return "rb-" + CompactUtc(std::chrono::system_clock::now()) + "-" + std::to_string(::getpid()) +
         "-" + std::to_string(counter.fetch_add(1));
}

Status WriteIntent(const ServingLayout& layout, const Intent& intent, Env& env) {
  const Json j = {{"format", 1},
                  {"rollback_id", intent.id},
                  {"name", intent.name},
                  {"from", intent.from},
                  {"to", intent.to},
                  {"audit_mark", intent.mark.ToJson()},
                  {"pid", ::getpid()},
                  {"time", NowRfc3339()}};
  return env.WriteFileAtomic(layout.PendingRollback(intent.name), DumpJson(j, 2) + "\n", 0640,
                             /*durable=*/true);
}

Result<std::optional<Intent>> ReadIntent(const ServingLayout& layout, const std::string& name) {
  const std::string path = layout.PendingRollback(name);
  if (!PathExists(path)) return std::optional<Intent>();
  const auto text = ReadFileContents(path);
  if (!text) return Status::Error("cannot read " + path);
  auto j = ParseBoundedJson(*text, path, JsonLimits{1 << 20, 8});
  if (!j.ok() || !j->is_object()) {
    // Written through a temporary file and a rename: a damaged one is not ours to trust.
    return Status::Error(path + ": not a rollback intent; move it away to go on");
  }
  Intent intent;
  intent.id = j->value("rollback_id", "");
  intent.name = name;
  intent.from = j->value("from", "");
  intent.to = j->value("to", "");
  intent.mark = AuditMark::FromJson(j->value("audit_mark", Json::object()));
  if (intent.id.empty() || !IsPlainVersion(name, intent.to)) {
    return Status::Error(path + ": not a rollback intent; move it away to go on");
  }
  return std::optional<Intent>(intent);
}

Status WithdrawIntent(const ServingLayout& layout, const std::string& name, Env& env) {
  BG_ASSIGN_OR_RETURN(DirectoryHandle dir, DirectoryHandle::Open(env, layout.ModelDir(name)));
  BG_RETURN_IF_ERROR(env.Unlink(layout.PendingRollback(name)));
  return dir.Sync();
}

// Steps 5 and 6 of the header: what follows an audited intent, each step redoable.
Status Complete(const ServingLayout& layout, const Intent& intent, Env& env) {
  BG_ASSIGN_OR_RETURN(DirectoryHandle dir, DirectoryHandle::Open(env, layout.ModelDir(intent.name)));
  BG_RETURN_IF_ERROR(SwapCurrent(layout, intent.name, intent.to, env));
  BG_RETURN_IF_ERROR(dir.Sync());
  env.CrashPoint("rollback.after-swap");
  BG_RETURN_IF_ERROR(AppendHistory(layout, intent.name,
                                   {"rolled-back", intent.to, NowRfc3339(), "", "", intent.id,
                                    intent.from},
                                   env));
  BG_RETURN_IF_ERROR(env.Unlink(layout.PendingRollback(intent.name)));
  return dir.Sync();
}

}  // namespace

Result<std::string> FinishPendingRollback(const ServingLayout& layout, const std::string& name,
                                          AuditLog& audit, Env& env) {
  BG_ASSIGN_OR_RETURN(std::optional<Intent> intent, ReadIntent(layout, name));
  if (!intent) return std::string();
  BG_ASSIGN_OR_RETURN(std::optional<Json> record,
                      FindAudited(audit, intent->mark, "rolled-back", "rollback_id", intent->id));
  if (!record) {
    BG_RETURN_IF_ERROR(WithdrawIntent(layout, name, env));
    return "withdrew rollback " + intent->id + " of " + name + " to " + intent->to +
           ": it stopped before its audit record, and current was not moved";
  }
  if (!IsDirectory(layout.VersionDir(name, intent->to))) {
    BG_RETURN_IF_ERROR(WithdrawIntent(layout, name, env));
    return "rollback " + intent->id + " of " + name + " to " + intent->to +
           " was audited but its version is gone; current left at " +
           ReadCurrent(layout, name).value_or("(none)");
  }
  BG_RETURN_IF_ERROR(Complete(layout, *intent, env));
  return "finished rollback " + intent->id + " of " + name + ": current -> " + intent->to +
         " (audit seq " + std::to_string(record->value("seq", 0)) + ")";
}

Result<RollbackResult> Rollback(const Config& config, const std::string& name,
                                const std::string& to_version, AuditLog& audit, Env& env) {
  const ServingLayout layout{config.paths.serving, config.paths.quarantine};
  if (!IsValidBundleName(name) || !IsDirectory(layout.ModelDir(name))) {
    return Status::Error("no model \"" + name + "\" in " + layout.serving);
  }
  BG_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(ServingLockPath(config.paths.root)));
  RollbackResult result;
  BG_ASSIGN_OR_RETURN(result.finished, FinishPendingRollback(layout, name, audit, env));
  result.from = ReadCurrent(layout, name).value_or("");
  if (to_version.empty()) {
    const auto before = VersionBeforeCurrent(layout, name);
    if (!before) {
      return Status::Error(name + ": no earlier version to roll back to (current: " +
                           (result.from.empty() ? "none" : result.from) + ")");
    }
    result.to = *before;
  } else {
    if (!IsPlainVersion(name, to_version) || !IsDirectory(layout.VersionDir(name, to_version))) {
      return Status::Error(name + ": no version \"" + to_version + "\" in " + layout.ModelDir(name));
    }
    result.to = to_version;
  }
  if (result.to == result.from) return Status::Error(name + ": " + result.to + " is already current");

  Intent intent{NewRollbackId(), name, result.from, result.to, {}};
  BG_ASSIGN_OR_RETURN(intent.mark, ReadAuditMark(audit.path()));
  BG_RETURN_IF_ERROR(WriteIntent(layout, intent, env).WithContext("recording the rollback's intent"));
  env.CrashPoint("rollback.after-intent");
  Json fields = {{"name", name},         {"version", result.to},
                 {"from", result.from},  {"to", result.to},
                 {"path", layout.VersionDir(name, result.to)}, {"rollback_id", intent.id}};
  auto record = audit.Append("rolled-back", fields);
  if (!record.ok()) {
    Status withdrawn = WithdrawIntent(layout, name, env);
    std::string message = record.status().message() + "; current was not changed (still " +
                          (result.from.empty() ? "none" : result.from) + ")";
    if (!withdrawn.ok()) {
      message += "; the intent stays in " + layout.PendingRollback(name) +
                 " and is withdrawn by the next rollback or agent start (" + withdrawn.message() + ")";
    }
    return Status::Error(message);
  }
  result.record = std::move(record).value();
  env.CrashPoint("rollback.after-audit");
  Status completed = Complete(layout, intent, env);
  if (!completed.ok()) {
    return Status::Error("rollback " + intent.id + " is audited (seq " +
                         std::to_string(result.record.value("seq", 0)) + ") but not finished: " +
                         completed.message() + "; the next rollback or agent start finishes it");
  }
  return result;
}

}  // namespace bg
