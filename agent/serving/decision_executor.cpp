#include "agent/serving/decision_executor.h"

#include <sys/stat.h>

#include <filesystem>
#include <optional>

#include "agent/checks/builtin_checks.h"
#include "agent/core/clock.h"
#include "agent/core/file_contents.h"
#include "agent/core/sha256.h"
#include "agent/core/tree_ops.h"
#include "agent/serving/audit_once.h"
#include "agent/serving/byte_names.h"
#include "agent/serving/executor_run.h"
#include "agent/serving/rollback.h"
#include "agent/serving/serving_lock.h"

namespace bg {
namespace {

// A chain of re-decisions longer than this is a bug, not a state of the world.
constexpr int kMaxRedecisions = 4;

enum class Served { kAbsent, kIdentical, kDifferent };

// How the bundle at `d.source` compares with what serving/<name>/<version> holds now.
Served CompareWithServed(const Decision& d, const ServingLayout& layout) {
  const auto ours = ReadFileContents(d.source + "/bundle.toml");
  const auto manifest = ours ? ParseManifest(*ours) : Result<Manifest>(Status::Error("unreadable"));
  if (!manifest.ok()) return PathExists(d.target) ? Served::kDifferent : Served::kAbsent;
  const CheckResult dup =
      DuplicateVersionCheckResult(*manifest, d.digest, Sha256Hex(*ours), layout.serving);
  if (dup.verdict != Verdict::kPass) return Served::kDifferent;
  return dup.details.value("already_served", false) ? Served::kIdentical : Served::kAbsent;
}

bool IsQuarantineTarget(const ServingLayout& layout, const std::string& target) {
  const std::filesystem::path p(target);
  const std::string base = p.filename().string();
  return p.parent_path().string() == layout.quarantine && !base.empty() && base[0] != '.';
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
  PutBytes(j, "path", d.target);
  if (d.action == Decision::Action::kQuarantine) {
    j["reason"] = d.reason;
    j["message"] = d.message;
  }
  if (d.action == Decision::Action::kNoop) j["noop"] = true;
  j["intake_id"] = item.id;
  PutBytes(j, "inbox_name", item.inbox_name);
  if (item.copied_by.is_object()) j["intake_copy"] = item.copied_by;
  if (!d.why.empty()) j["redecided"] = d.why;
  // Where the audit log stood when this was decided: anything between that seq and this
  // record (an operator's rollback) happened while it was being carried out.
  j["decided_after_seq"] = d.audit_mark.seq;
  j["checks"] = d.checks;
  return j;
}

Status DecisionExecutor::RecordCheckAttempt(const WorkItem& item) {
  BG_ASSIGN_OR_RETURN(DecisionJournal journal,
                      DecisionJournal::Load(env_, work_.paths().Dir(item.id), item.id));
  // Not synced: it counts the agent's deaths, and a power cut that loses one costs one more try.
  BG_RETURN_IF_ERROR(journal.Append({{"type", "check-started"}, {"attempt", journal.NextAttempt()}},
                                    /*durable=*/false));
  env_.CrashPoint("check.after-attempt");
  return Status::Ok();
}

Status DecisionExecutor::PrepareJournal(const WorkItem& item) {
  if (journal_dirs_synced_.count(item.id)) return Status::Ok();
  BG_ASSIGN_OR_RETURN(DecisionJournal journal,
                      DecisionJournal::Load(env_, work_.paths().Dir(item.id), item.id));
  BG_RETURN_IF_ERROR(journal.SyncDirectories());
  journal_dirs_synced_.insert(item.id);
  return Status::Ok();
}

bool DecisionExecutor::SnapshotDurable(const WorkItem& item, const Decision& d) const {
  return item.mode == IntakeMode::kCopy && item.snapshot_complete &&
         d.source == work_.paths().Bundle(item.id);
}

Decision DecisionExecutor::RejectAsDuplicate(const WorkItem& item, const Decision& d,
                                             const std::string& why) const {
  Decision rejected = DecideRejection(
      item, Reason::kDuplicateVersion,
      d.name + " " + d.version + " is served with different content (" + why + ")",
      Json{{"served_path", layout_.VersionDir(d.name, d.version)}}, d.source, layout_);
  rejected.name = d.name;
  rejected.version = d.version;
  rejected.digest = d.digest;
  rejected.commit = d.commit;
  rejected.why = why;
  return rejected;
}

Decision DecisionExecutor::PromotionOf(const WorkItem&, const Decision& d,
                                       const std::string& why) const {
  Decision promoted = d;
  promoted.action = Decision::Action::kPromote;
  promoted.target = layout_.VersionDir(d.name, d.version);
  promoted.decided_at = NowRfc3339();
  promoted.why = why;
  return promoted;
}

Decision DecisionExecutor::Revalidate(const WorkItem& item, Decision d) const {
  if (d.action == Decision::Action::kQuarantine) {
    if (!IsQuarantineTarget(layout_, d.target)) {
      d.target = QuarantineTarget(layout_, d.name.empty() ? item.inbox_name : d.name + "@" + d.version);
    }
    return d;
  }
  if (!IsPlainVersion(d.name, d.version) || d.target != layout_.VersionDir(d.name, d.version)) {
    // Defense in depth: the manifest rules refuse such names, and so does the executor.
    Decision refused = DecideRejection(
        item, Reason::kManifestInvalid,
        "name \"" + d.name + "\" and version \"" + d.version +
            "\" do not make a plain version directory in serving/ (they collide with the layout)",
        Json{{"target", d.target}}, d.source, layout_);
    refused.name = d.name;
    refused.version = d.version;
    refused.digest = d.digest;
    refused.commit = d.commit;
    refused.why = "refused: not a plain version directory";
    return refused;
  }
  const Served served = CompareWithServed(d, layout_);
  if (d.action == Decision::Action::kPromote) {
    if (served == Served::kAbsent) return d;
    if (served == Served::kIdentical) {
      d.action = Decision::Action::kNoop;
      d.why = d.name + " " + d.version + " was promoted, identical, by another bundle meanwhile";
      return d;
    }
    return RejectAsDuplicate(item, d, "promoted by another bundle while this one was checked");
  }
  // A no-op: the identical version must still be served, now.
  if (served == Served::kIdentical) return d;
  if (served == Served::kAbsent) {
    return PromotionOf(item, d, d.name + " " + d.version +
                                    " was no longer served when this identical re-drop was "
                                    "decided (retired since it was checked): promoted again");
  }
  return RejectAsDuplicate(item, d, "the served copy changed since this re-drop was checked");
}

Status DecisionExecutor::Plan(const WorkItem& item, Decision& d) {
  BG_ASSIGN_OR_RETURN(d.audit_mark, ReadAuditMark(audit_.path()));
  struct stat st;
  if (::lstat(d.source.c_str(), &st) == 0) {
    d.source_dev = static_cast<std::uint64_t>(st.st_dev);
    d.source_ino = static_cast<std::uint64_t>(st.st_ino);
  }
  if (d.action != Decision::Action::kPromote) return Status::Ok();
  const auto history = ReadHistory(layout_, d.name);
  const auto previous = ReadCurrent(layout_, d.name);
  d.expected_current = previous;
  d.history_len = history.size();
  // `current` follows arrival: a bundle claimed before the current one (its checks took longer)
  // is served beside it, not instead of it.
  const auto current_arrival = previous ? ArrivalOf(history, *previous) : std::nullopt;
  d.make_current = !previous || *previous == d.version || !current_arrival ||
                   item.arrival.empty() || item.arrival > *current_arrival;
  d.current_note = d.make_current ? ""
                                  : "not made current: " + *previous + " arrived later and is current";
  return Status::Ok();
}

Status DecisionExecutor::Record(Run& run, const Decision& d) {
  return run.journal.Append({{"type", "decision"}, {"decision", d.ToJson()}}, /*durable=*/true);
}

Result<ExecutionResult> DecisionExecutor::Redecide(Run& run, Decision d, const std::string& why) {
  if (++run.redecisions > kMaxRedecisions) {
    return Status::Error("decision of " + run.item.id + " changed " +
                         std::to_string(kMaxRedecisions) + " times; last: " + why);
  }
  if (d.why.empty()) d.why = why;
  BG_RETURN_IF_ERROR(Plan(run.item, d));
  BG_RETURN_IF_ERROR(Record(run, d));
  return Carry(run, std::move(d));
}

Result<ExecutionResult> DecisionExecutor::Execute(const WorkItem& item, Decision decision) {
  BG_ASSIGN_OR_RETURN(DecisionJournal journal,
                      DecisionJournal::Load(env_, work_.paths().Dir(item.id), item.id));
  if (journal.Last("decision") != nullptr) return Resume(item);  // decided before: finish that
  if (journal_dirs_synced_.erase(item.id)) journal.MarkDirectoriesSynced();
  Run run{item, std::move(journal), {}, 0};
  std::optional<FileLock> lock;
  if (decision.action != Decision::Action::kQuarantine) {
    BG_ASSIGN_OR_RETURN(lock, FileLock::Acquire(ServingLockPath(root_)));
  }
  decision = Revalidate(item, std::move(decision));
  BG_RETURN_IF_ERROR(Plan(item, decision));
  BG_RETURN_IF_ERROR(Record(run, decision));
  env_.CrashPoint("decide.after-record");
  return Carry(run, std::move(decision));
}

Result<ExecutionResult> DecisionExecutor::Resume(const WorkItem& item) {
  BG_ASSIGN_OR_RETURN(DecisionJournal journal,
                      DecisionJournal::Load(env_, work_.paths().Dir(item.id), item.id));
  const Json* last = journal.Last("decision");
  if (last == nullptr) return Status::Error("no decision recorded for " + item.id);
  BG_ASSIGN_OR_RETURN(Decision d, Decision::FromJson(last->value("decision", Json::object())));
  // Redo the journal's own writes before acting on it: a sync that failed before this process
  // (or in it) proves nothing about what is on disk.
  BG_RETURN_IF_ERROR(journal.Rewrite());
  Run run{item, std::move(journal), {}, 0};
  std::optional<FileLock> lock;
  if (d.action != Decision::Action::kQuarantine) {
    BG_ASSIGN_OR_RETURN(lock, FileLock::Acquire(ServingLockPath(root_)));
  }
  return Carry(run, std::move(d));
}

Result<ExecutionResult> DecisionExecutor::Carry(Run& run, Decision d) {
  switch (d.action) {
    case Decision::Action::kPromote: return CarryPromote(run, std::move(d));
    case Decision::Action::kNoop: return CarryNoop(run, std::move(d));
    case Decision::Action::kQuarantine: return CarryQuarantine(run, std::move(d));
  }
  return Status::Error("unknown action");
}

Result<ExecutionResult> DecisionExecutor::CarryNoop(Run& run, Decision d) {
  BG_ASSIGN_OR_RETURN(std::optional<Json> found,
                      FindAudited(audit_, d.audit_mark, "promoted", "intake_id", run.item.id));
  if (found) {
    run.out.record = std::move(*found);
  } else {
    // Re-validated under the serving lock now, at the moment it is carried out: the served copy
    // that made it a no-op may be gone (retired while this one was checked) or different.
    Decision now = Revalidate(run.item, d);
    if (now.action != Decision::Action::kNoop) {
      const std::string why = now.why;
      return Redecide(run, std::move(now), why);
    }
    Json fields = AuditFields(run.item, d);
    fields["current"] = ReadCurrent(layout_, d.name) ? Json(*ReadCurrent(layout_, d.name)) : Json();
    BG_ASSIGN_OR_RETURN(run.out.record, audit_.Append("promoted", fields));
    env_.CrashPoint("noop.after-audit");
  }
  Status cleaned = Cleanup(run.item, d);
  if (!cleaned.ok()) run.out.warnings.push_back("cleanup of work/" + run.item.id + ": " + cleaned.message());
  run.out.decision = std::move(d);
  return std::move(run.out);
}

Result<ExecutionResult> DecisionExecutor::Lost(Run& run, const Decision& d, const std::string& what) {
  // Neither where it was nor where it was going: someone else removed it. Say so, once, and
  // stop trying; never claim a promotion or a rejection that did not happen.
  Json fields = {{"intake_id", run.item.id}};
  PutBytes(fields, "inbox_name", run.item.inbox_name);
  if (!d.name.empty()) fields["name"] = d.name;
  if (!d.version.empty()) fields["version"] = d.version;
  fields["decision"] = d.ActionName();
  PutBytes(fields, "source", d.source);
  PutBytes(fields, "path", d.target);
  fields["message"] = what;
  BG_ASSIGN_OR_RETURN(run.out.record,
                      AuditOnce(audit_, d.audit_mark, "lost", "intake_id", run.item.id, fields));
  Status cleaned = Cleanup(run.item, d);
  if (!cleaned.ok()) run.out.warnings.push_back("cleanup of work/" + run.item.id + ": " + cleaned.message());
  run.out.decision = d;
  return std::move(run.out);
}

Status DecisionExecutor::Cleanup(const WorkItem& item, const Decision& d) {
  // The original stays until here only when copy intake had not finished its snapshot: then it
  // is what was quarantined (d.source), and is gone. Otherwise it was removed after the copy.
  if (item.mode == IntakeMode::kCopy && item.snapshot_complete && PathExists(item.received) &&
      item.received != d.source) {
    BG_RETURN_IF_ERROR(env_.RemoveTree(item.received));
  }
  // Out of sight first: a removal cut short must not leave a journal-less work/<id> with a
  // partial bundle that recovery would take for a snapshot to check again.
  const std::string dir = work_.paths().Dir(item.id);
  const std::string aside = work_.paths().work + "/.removing-" + item.id;
  env_.CrashPoint("cleanup.before-remove");
  if (PathExists(dir)) {
    BG_RETURN_IF_ERROR(env_.RemoveTree(aside));
    BG_RETURN_IF_ERROR(env_.Rename(dir, aside, RenameMode::kNoReplace));
  }
  return env_.RemoveTree(aside);
}

}  // namespace bg
