#include "agent/serving/retention.h"

#include <algorithm>

#include "agent/core/tree_ops.h"
#include "agent/serving/audit_once.h"
#include "agent/serving/durability.h"

namespace bg {
namespace {

bool Protected(const ServingLayout& layout, const std::string& name, const std::string& version) {
  return ReadCurrent(layout, name) == version || VersionBeforeCurrent(layout, name) == version;
}

// Steps 2-4 for one version; a null Json when it was kept.
Result<Json> RetireOne(const RetentionContext& ctx, const std::string& name,
                       const std::string& version, const AuditMark& mark) {
  const ServingLayout& layout = ctx.layout;
  const std::string visible = layout.VersionDir(name, version);
  const std::string hidden = layout.RetiringDir(name, version, ctx.intake_id);
  if (!PathExists(hidden)) {
    if (!IsDirectory(visible)) return Json();  // deleted before a crash, and audited before that
    if (Protected(layout, name, version)) return Json();  // current again since the choice
    if (ctx.pinned.count(version)) return Json();  // a pending decision refers to it now
    BG_ASSIGN_OR_RETURN(DirectoryHandle model, DirectoryHandle::Open(ctx.env, layout.ModelDir(name)));
    BG_RETURN_IF_ERROR(ctx.env.Rename(visible, hidden, RenameMode::kNoReplace));
    BG_RETURN_IF_ERROR(model.Sync());
    ctx.env.CrashPoint("retire.after-hide");
  }
  const Json fields = {{"name", name},
                       {"version", version},
                       {"path", visible},
                       {"keep_versions", ctx.keep_versions},
                       {"intake_id", ctx.intake_id}};
  BG_ASSIGN_OR_RETURN(Json record, AuditOnce(ctx.audit, mark, "retired", "intake_id", ctx.intake_id,
                                             fields, Json{{"version", version}}));
  ctx.env.CrashPoint("retire.after-audit");
  BG_RETURN_IF_ERROR(ctx.env.RemoveTree(hidden));
  return record;
}

}  // namespace

std::vector<std::string> ChooseRetired(const ServingLayout& layout, const std::string& name,
                                       std::int64_t keep_versions, const std::string& promoted,
                                       const std::set<std::string>& pinned) {
  std::vector<std::string> chosen;
  if (keep_versions <= 0) return chosen;
  const auto current = ReadCurrent(layout, name);
  const auto before = VersionBeforeCurrent(layout, name);
  const auto existing = ListVersions(layout, name);
  auto count = static_cast<std::int64_t>(existing.size());
  for (const auto& v : PromotionOrder(ReadHistory(layout, name))) {
    if (count <= keep_versions) break;
    if (std::find(existing.begin(), existing.end(), v) == existing.end()) continue;
    if (v == current || v == before || v == promoted || pinned.count(v)) continue;
    chosen.push_back(v);
    --count;
  }
  return chosen;
}

Result<std::vector<Json>> ApplyRetention(const RetentionContext& ctx, const std::string& name,
                                         const std::string& promoted, DecisionJournal& journal) {
  const Json* plan = journal.Last("retire");
  if (plan == nullptr) {
    const auto chosen = ChooseRetired(ctx.layout, name, ctx.keep_versions, promoted, ctx.pinned);
    BG_ASSIGN_OR_RETURN(const AuditMark mark, ReadAuditMark(ctx.audit.path()));
    // Synced only when it chooses something: nothing acts on an empty choice.
    BG_RETURN_IF_ERROR(journal.Append(
        {{"type", "retire"}, {"name", name}, {"versions", chosen}, {"audit_mark", mark.ToJson()}},
        /*durable=*/!chosen.empty()));
    plan = journal.Last("retire");
    if (!chosen.empty()) ctx.env.CrashPoint("retire.after-plan");
  }
  const AuditMark mark = AuditMark::FromJson(plan->value("audit_mark", Json::object()));
  std::vector<Json> retired;
  for (const auto& v : plan->value("versions", Json::array())) {
    if (!v.is_string() || !IsPlainVersion(name, v.get<std::string>())) continue;
    BG_ASSIGN_OR_RETURN(Json record, RetireOne(ctx, name, v.get<std::string>(), mark));
    if (!record.is_null()) retired.push_back(std::move(record));
  }
  return retired;
}

}  // namespace bg
