#include "agent/serving/decision_executor.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "agent/bundle/integrity.h"
#include "agent/checks/builtin_checks.h"
#include "agent/core/clock.h"
#include "agent/core/file_contents.h"
#include "agent/core/sha256.h"
#include "agent/core/tree_ops.h"
#include "agent/serving/serving_lock.h"

namespace bg {
namespace {

// Copies `from` to `to` (absent) for a quarantine across filesystems: directories, regular files
// and symlinks (as links, never followed); other special files cannot be copied and are listed
// in to/NOT-COPIED.txt. Staged under a temporary name and renamed, then fsync'd.
Status CopyAcrossFilesystems(const std::string& from, const std::string& to, Env& env) {
  namespace fs = std::filesystem;
  const std::string staging = to + ".partial";
  std::error_code ec;
  fs::remove_all(staging, ec);
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
    if (ec) return Status::Error("copy " + it->path().string() + ": " + ec.message());
  }
  if (ec) return Status::Error("copy " + from + ": " + ec.message());
  if (!not_copied.empty()) {
    std::ofstream(staging + "/NOT-COPIED.txt") << "special files that could not be copied:\n"
                                               << not_copied;
  }
  BG_RETURN_IF_ERROR(env.SyncFilesystem(staging));  // complete on disk before it has its name
  fs::rename(staging, to, ec);
  if (ec) return Status::Error("rename " + staging + ": " + ec.message());
  return Status::Ok();
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

}  // namespace

DecisionExecutor::DecisionExecutor(const Config& config, WorkArea& work, AuditLog& audit, Env& env)
    : root_(config.paths.root),
      layout_{config.paths.serving, config.paths.quarantine},
      serving_(config.serving),
      work_(work),
      audit_(audit),
      env_(env) {}

Json DecisionExecutor::AuditFields(const WorkItem& item, const Decision& d) const {
  Json j;
  if (!d.name.empty()) j["name"] = d.name;
  if (!d.version.empty()) j["version"] = d.version;
  if (!d.digest.empty()) j["digest"] = d.digest;
  if (!d.commit.empty()) j["commit"] = d.commit;
  if (!d.signer.is_null()) j["signer"] = d.signer;
  j["path"] = d.target;
  if (d.action == Decision::Action::kQuarantine) {
    j["reason"] = d.reason;
    j["message"] = d.message;
  }
  if (d.action == Decision::Action::kNoop) j["noop"] = true;
  j["intake_id"] = item.id;
  j["inbox_name"] = item.inbox_name;
  j["checks"] = d.checks;
  return j;
}

Decision DecisionExecutor::Recheck(const WorkItem& item, Decision d) {
  if (d.action != Decision::Action::kPromote || !PathExists(d.target)) return d;
  // Two bundles of one version were checked at once, and the other one won the race.
  const auto ours = ReadFileContents(d.source + "/bundle.toml");
  const auto manifest = ours ? ParseManifest(*ours) : Result<Manifest>(Status::Error("unreadable"));
  if (manifest.ok()) {
    CheckResult dup = DuplicateVersionCheckResult(*manifest, d.digest, Sha256Hex(*ours),
                                                  layout_.serving);
    if (dup.verdict == Verdict::kPass) {
      d.action = Decision::Action::kNoop;
      return d;
    }
  }
  Decision rejected = DecideRejection(item, Reason::kDuplicateVersion,
                                      d.name + " " + d.version +
                                          " was promoted with different content while this one was checked",
                                      Json{{"served_path", d.target}}, d.source, layout_);
  rejected.name = d.name;
  rejected.version = d.version;
  rejected.digest = d.digest;
  rejected.commit = d.commit;
  return rejected;
}

Result<ExecutionResult> DecisionExecutor::Execute(const WorkItem& item, Decision decision) {
  decision = Recheck(item, std::move(decision));
  BG_RETURN_IF_ERROR(env_.WriteFileAtomic(work_.paths().Decision(item.id),
                                          DumpJson(decision.ToJson(), 2) + "\n", 0600,
                                          /*durable=*/false));
  // The record is durable before anything it decides moves (and, in move intake, so are the
  // producer's files: same filesystem).
  BG_RETURN_IF_ERROR(env_.SyncFilesystem(work_.paths().Dir(item.id)));
  env_.CrashPoint("decide.after-record");
  return Carry(item, std::move(decision), /*resumed=*/false);
}

Result<ExecutionResult> DecisionExecutor::Resume(const WorkItem& item) {
  const auto text = ReadFileContents(work_.paths().Decision(item.id));
  if (!text) return Status::Error("no decision record for " + item.id);
  const Json j = Json::parse(*text, nullptr, false);
  if (j.is_discarded()) return Status::Error("unreadable decision record for " + item.id);
  BG_ASSIGN_OR_RETURN(Decision d, Decision::FromJson(j));
  return Carry(item, std::move(d), /*resumed=*/true);
}

Result<ExecutionResult> DecisionExecutor::Carry(const WorkItem& item, Decision d, bool resumed) {
  ExecutionResult out;
  switch (d.action) {
    case Decision::Action::kPromote: {
      BG_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(ServingLockPath(root_)));
      BG_RETURN_IF_ERROR(MoveIntoServing(d));
      // `current` follows arrival: a bundle claimed before the current one (its checks took
      // longer) is served beside it, not instead of it.
      const auto history = ReadHistory(layout_, d.name);
      const auto previous = ReadCurrent(layout_, d.name);
      const auto current_arrival = previous ? ArrivalOf(history, *previous) : std::nullopt;
      const bool make_current = !previous || *previous == d.version || !current_arrival ||
                                item.arrival.empty() || item.arrival > *current_arrival;
      BG_RETURN_IF_ERROR(AppendHistory(
          layout_, d.name,
          {make_current ? "promoted" : "added", d.version, d.decided_at, item.arrival}, env_));
      env_.CrashPoint("promote.after-history");
      Json fields = AuditFields(item, d);
      if (previous && *previous != d.version) fields["previous"] = *previous;
      if (make_current) {
        BG_RETURN_IF_ERROR(SwapCurrent(layout_, d.name, d.version, env_));
      } else {
        fields["current"] = *previous;
        fields["note"] = "not made current: " + *previous + " arrived later and is current";
      }
      // Everything the record will say is on disk before the record is.
      BG_RETURN_IF_ERROR(env_.SyncFilesystem(layout_.serving));
      env_.CrashPoint("promote.after-link");
      BG_ASSIGN_OR_RETURN(out.record, AuditOnce(item, "promoted", fields, resumed));
      env_.CrashPoint("promote.after-audit");
      // Past the record, failures are warnings: the promotion stands, and what is left over
      // (an old version, work/<id>) is finished by a later promotion or the next start.
      auto retired = ApplyRetention(d.name);
      if (retired.ok()) {
        out.retired = std::move(retired).value();
      } else {
        out.warnings.push_back("retention: " + retired.status().message());
      }
      break;
    }
    case Decision::Action::kNoop: {
      BG_ASSIGN_OR_RETURN(out.record, AuditOnce(item, "promoted", AuditFields(item, d), resumed));
      break;
    }
    case Decision::Action::kQuarantine: {
      BG_RETURN_IF_ERROR(MoveIntoQuarantine(item, d));
      BG_ASSIGN_OR_RETURN(out.record, AuditOnce(item, "rejected", AuditFields(item, d), resumed));
      env_.CrashPoint("quarantine.after-audit");
      break;
    }
  }
  Status cleaned = Cleanup(item, d);
  if (!cleaned.ok()) out.warnings.push_back("cleanup of work/" + item.id + ": " + cleaned.message());
  out.decision = std::move(d);
  return out;
}

Status DecisionExecutor::MoveIntoServing(const Decision& d) {
  if (!PathExists(d.source)) {
    if (IsDirectory(d.target)) return Status::Ok();  // renamed before a crash
    return Status::Error("promotion of " + d.name + " " + d.version + ": neither " + d.source +
                         " nor " + d.target + " exists");
  }
  BG_RETURN_IF_ERROR(env_.MakeDir(layout_.serving, 0755, true));
  BG_RETURN_IF_ERROR(env_.MakeDir(layout_.ModelDir(d.name), 0755, true));
  BG_RETURN_IF_ERROR(MakeTreeReadOnly(d.source, true));
  BG_RETURN_IF_ERROR(env_.Rename(d.source, d.target, RenameMode::kNoReplace));
  ::chmod(d.target.c_str(), 0555);
  env_.CrashPoint("promote.after-rename");
  return Status::Ok();
}

Status DecisionExecutor::MoveIntoQuarantine(const WorkItem& item, Decision& d) {
  // Helpers live beside the source, on its filesystem, so that setting it aside is a rename:
  // a non-directory is wrapped in `wrapper`; an original copied across filesystems is renamed to
  // `discard` before it is removed, so that a crash mid-removal leaves nothing that looks like it.
  const std::string wrapper = Parent(d.source) + "/.quarantine-" + item.id;
  const std::string discard = Parent(d.source) + "/.discard-" + item.id;
  std::string source = d.source;
  if (!PathExists(source) && PathExists(wrapper)) source = wrapper;  // wrapped before a crash
  if (!PathExists(source)) {
    if (PathExists(discard)) BG_RETURN_IF_ERROR(env_.RemoveTree(discard));
    if (PathExists(d.target)) return Status::Ok();  // moved before a crash
    return Status::Error("quarantine of " + item.inbox_name + ": neither " + d.source + " nor " +
                         d.target + " exists");
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
                                          DumpJson(d.rejected, 2) + "\n", 0444, /*durable=*/false));
  env_.CrashPoint("quarantine.after-rejected-json");
  BG_RETURN_IF_ERROR(env_.MakeDir(layout_.quarantine, 0755, true));
  const bool copied_before_crash = PathExists(d.target) && HoldsRejectionOf(d.target, item.id);
  if (PathExists(d.target) && !copied_before_crash) {
    // Another bundle holds that name: take a new one, and record it before moving, so that
    // recovery looks for the bundle where it went.
    d.target = QuarantineTarget(layout_, std::filesystem::path(d.target).filename().string());
    BG_RETURN_IF_ERROR(env_.WriteFileAtomic(work_.paths().Decision(item.id),
                                            DumpJson(d.ToJson(), 2) + "\n", 0600, /*durable=*/false));
    BG_RETURN_IF_ERROR(env_.SyncFilesystem(work_.paths().Dir(item.id)));
  }
  struct stat from_st, to_st;
  const bool across = ::lstat(source.c_str(), &from_st) == 0 &&
                      ::stat(layout_.quarantine.c_str(), &to_st) == 0 && from_st.st_dev != to_st.st_dev;
  if (across) {
    // The original is on the inbox's own filesystem (copy intake across filesystems).
    if (!copied_before_crash) BG_RETURN_IF_ERROR(CopyAcrossFilesystems(source, d.target, env_));
    BG_RETURN_IF_ERROR(env_.SyncFilesystem(layout_.quarantine));
    BG_RETURN_IF_ERROR(env_.Rename(source, discard, RenameMode::kNoReplace));
    BG_RETURN_IF_ERROR(env_.RemoveTree(discard));
  } else {
    BG_RETURN_IF_ERROR(env_.Rename(source, d.target, RenameMode::kNoReplace));
  }
  // In quarantine, REJECTED.json beside it, on disk before the audit record says so.
  BG_RETURN_IF_ERROR(env_.SyncFilesystem(layout_.quarantine));
  env_.CrashPoint("quarantine.after-rename");
  return Status::Ok();
}

Result<Json> DecisionExecutor::AuditOnce(const WorkItem& item, std::string_view event,
                                         const Json& fields, bool resumed) {
  // A first attempt can only find its record among the newest (a crash a step ago); a resumed
  // decision may have been recorded long ago, with the agent running on: read it all.
  auto recent = resumed ? ReadAuditRecords(audit_.path()) : TailAuditRecords(audit_.path(), 64);
  if (recent.ok()) {
    for (const auto& r : *recent) {
      if (r.value("intake_id", "") == item.id && r.value("event", "") == event) return r;
    }
  }
  return audit_.Append(event, fields);
}

Result<std::vector<Json>> DecisionExecutor::ApplyRetention(const std::string& name) {
  std::vector<Json> retired;
  if (serving_.keep_versions <= 0) return retired;
  const auto current = ReadCurrent(layout_, name);
  const auto before = VersionBeforeCurrent(layout_, name);
  auto existing = ListVersions(layout_, name);
  // Oldest first, by promotion; versions the history does not know are never removed.
  std::vector<std::string> candidates;
  for (const auto& v : PromotionOrder(ReadHistory(layout_, name))) {
    if (std::find(existing.begin(), existing.end(), v) != existing.end() && v != current &&
        v != before) {
      candidates.push_back(v);
    }
  }
  auto count = static_cast<std::int64_t>(existing.size());
  for (const auto& v : candidates) {
    if (count <= serving_.keep_versions) break;
    const std::string path = layout_.VersionDir(name, v);
    BG_ASSIGN_OR_RETURN(Json record,
                        audit_.Append("retired", Json{{"name", name},
                                                      {"version", v},
                                                      {"path", path},
                                                      {"keep_versions", serving_.keep_versions}}));
    BG_RETURN_IF_ERROR(env_.RemoveTree(path));
    retired.push_back(std::move(record));
    --count;
  }
  return retired;
}

Status DecisionExecutor::Cleanup(const WorkItem& item, const Decision& d) {
  // The original stays until here only when copy intake had not finished its snapshot: then it
  // is what was quarantined (d.source), and is gone. Otherwise it was removed after the copy.
  if (item.mode == IntakeMode::kCopy && item.snapshot_complete && PathExists(item.received) &&
      item.received != d.source) {
    BG_RETURN_IF_ERROR(env_.RemoveTree(item.received));
  }
  return work_.Remove(item.id);
}

}  // namespace bg
