#include "agent/serving/rollback.h"

#include "agent/core/clock.h"
#include "agent/core/tree_ops.h"
#include "agent/manifest/manifest.h"
#include "agent/serving/serving_layout.h"
#include "agent/serving/serving_lock.h"

namespace bg {

Result<RollbackResult> Rollback(const Config& config, const std::string& name,
                                const std::string& to_version, AuditLog& audit, Env& env) {
  const ServingLayout layout{config.paths.serving, config.paths.quarantine};
  if (!IsValidBundleName(name) || !IsDirectory(layout.ModelDir(name))) {
    return Status::Error("no model \"" + name + "\" in " + layout.serving);
  }
  BG_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(ServingLockPath(config.paths.root)));
  RollbackResult result;
  result.from = ReadCurrent(layout, name).value_or("");
  if (to_version.empty()) {
    const auto before = VersionBeforeCurrent(layout, name);
    if (!before) {
      return Status::Error(name + ": no earlier version to roll back to (current: " +
                           (result.from.empty() ? "none" : result.from) + ")");
    }
    result.to = *before;
  } else {
    if (!IsValidBundleVersion(to_version) || !IsDirectory(layout.VersionDir(name, to_version))) {
      return Status::Error(name + ": no version \"" + to_version + "\" in " + layout.ModelDir(name));
    }
    result.to = to_version;
  }
  if (result.to == result.from) return Status::Error(name + ": " + result.to + " is already current");
  BG_RETURN_IF_ERROR(SwapCurrent(layout, name, result.to, env));
  BG_RETURN_IF_ERROR(AppendHistory(layout, name, {"rolled-back", result.to, NowRfc3339(), ""}, env));
  BG_RETURN_IF_ERROR(env.SyncFilesystem(layout.serving));
  Json fields = {{"name", name}, {"version", result.to}, {"from", result.from}, {"to", result.to},
                 {"path", layout.VersionDir(name, result.to)}};
  BG_ASSIGN_OR_RETURN(result.record, audit.Append("rolled-back", fields));
  return result;
}

}  // namespace bg
