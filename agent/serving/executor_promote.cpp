// DecisionExecutor: carrying out a promotion (see decision_executor.h).
#include <sys/stat.h>

#include "agent/core/clock.h"
#include "agent/core/tree_ops.h"
#include "agent/serving/audit_once.h"
#include "agent/serving/durability.h"
#include "agent/serving/executor_run.h"
#include "agent/serving/retention.h"
#include "agent/serving/rollback.h"

namespace bg {
namespace {

bool SameInode(const std::string& path, std::uint64_t dev, std::uint64_t ino) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  // A plan without an identity (recorded before the source existed) accepts any directory.
  return ino == 0 || (static_cast<std::uint64_t>(st.st_dev) == dev &&
                      static_cast<std::uint64_t>(st.st_ino) == ino);
}

const HistoryEntry* FindOwn(const std::vector<HistoryEntry>& history, std::size_t from,
                            const std::string& intake_id) {
  for (std::size_t i = from; i < history.size(); ++i) {
    if (history[i].intake_id == intake_id &&
        (history[i].event == "promoted" || history[i].event == "added")) {
      return &history[i];
    }
  }
  return nullptr;
}

const HistoryEntry* LastRollback(const std::vector<HistoryEntry>& history, std::size_t from) {
  const HistoryEntry* found = nullptr;
  for (std::size_t i = from; i < history.size(); ++i) {
    if (history[i].event == "rolled-back") found = &history[i];
  }
  return found;
}

}  // namespace

std::set<std::string> DecisionExecutor::PinnedVersions(const std::string& own_id,
                                                       const std::string& name) const {
  // Decisions recorded and not yet carried out (a crash, a failed step waiting for its retry):
  // the versions they promote or re-validate as served must not be retired under them.
  std::set<std::string> pinned;
  for (const auto& id : work_.ListIds()) {
    if (id == own_id) continue;
    auto journal = DecisionJournal::Load(env_, work_.paths().Dir(id), id);
    if (!journal.ok()) continue;
    const Json* last = journal->Last("decision");
    if (last == nullptr) continue;
    auto d = Decision::FromJson(last->value("decision", Json::object()));
    if (d.ok() && d->action != Decision::Action::kQuarantine && d->name == name) {
      pinned.insert(d->version);
    }
  }
  return pinned;
}

Result<DecisionExecutor::Moved> DecisionExecutor::MoveIntoServing(const Decision& d,
                                                                  bool snapshot_durable,
                                                                  std::string* why) {
  if (!PathExists(d.source)) {
    if (SameInode(d.target, d.source_dev, d.source_ino)) return Moved::kDone;  // before a crash
    *why = "lost";
    return Moved::kImpossible;
  }
  if (PathExists(d.target)) {
    *why = d.name + " " + d.version + " was promoted by another bundle after this decision was recorded";
    return Moved::kImpossible;
  }
  const std::string model_dir = layout_.ModelDir(d.name);
  BG_RETURN_IF_ERROR(env_.MakeDir(layout_.serving, 0755, true));
  const bool new_model = !IsDirectory(model_dir);
  BG_ASSIGN_OR_RETURN(DirectoryHandle serving, DirectoryHandle::Open(env_, layout_.serving));
  BG_RETURN_IF_ERROR(env_.MakeDir(model_dir, 0755, true));
  // What the record will say is served is on disk before it has its served name: a snapshot
  // copied by the agent is (copy intake syncs it before recording it complete); a producer's
  // own files (move intake) are synced here.
  if (!snapshot_durable) BG_RETURN_IF_ERROR(SyncTreeBefore(env_, d.source));
  BG_RETURN_IF_ERROR(MakeTreeReadOnly(d.source, true));
  Status renamed = env_.Rename(d.source, d.target, RenameMode::kNoReplace);
  if (!renamed.ok()) {
    if (PathExists(d.target)) {
      *why = d.name + " " + d.version + " appeared in serving/ during the rename";
      return Moved::kImpossible;
    }
    return renamed;
  }
  ::chmod(d.target.c_str(), 0555);
  // The new name is made durable with the link and the history, by one sync of the model
  // directory before the audit record (MoveCurrent).
  if (new_model) BG_RETURN_IF_ERROR(serving.Sync());
  env_.CrashPoint("promote.after-rename");
  return Moved::kDone;
}

Status DecisionExecutor::MoveCurrent(Run& run, Decision& d, Json& fields) {
  // A rollback that a crash left half done is finished (or withdrawn) before `current` is read.
  BG_ASSIGN_OR_RETURN(const std::string finished, FinishPendingRollback(layout_, d.name, audit_, env_));
  if (!finished.empty()) run.out.warnings.push_back(finished);
  // A choice about `current` revised before a crash (the "current" record) is replayed as made.
  if (const Json* revised = run.journal.Last("current")) {
    d.make_current = revised->value("make_current", false);
    const auto found = revised->find("found");
    d.expected_current = found != revised->end() && found->is_string()
                             ? std::optional<std::string>(found->get<std::string>())
                             : std::nullopt;
    d.current_note = revised->value("note", "");
  }
  const auto history = ReadHistory(layout_, d.name);
  const auto current = ReadCurrent(layout_, d.name);
  const std::size_t since = std::min<std::size_t>(d.history_len, history.size());
  // `made`: this promotion moved `current` to its version (the audit record's made_current).
  // `stays`: it is current once this step is done (the history's "promoted" vs "added", so that
  // the current-stack agrees with the link).
  bool made = false, stays = false, swap = false;
  std::string note;
  const auto rollback_note = [&](const HistoryEntry& rollback) {
    return "made current, then `bundlegate rollback` moved current to " + rollback.version +
           " before this record was written; left there";
  };
  if (const HistoryEntry* own = FindOwn(history, since, run.item.id)) {
    made = stays = own->event == "promoted";  // this step was done before a crash
    if (!made) note = d.current_note;
    const std::size_t own_index = static_cast<std::size_t>(own - history.data());
    if (const HistoryEntry* rollback = LastRollback(history, own_index + 1)) {
      note = rollback_note(*rollback);
    } else if (made && current != d.version) {
      swap = true;  // the line outlived the link (a power cut): the line is the record
    }
  } else if (!d.make_current) {
    note = d.current_note;
  } else if (const HistoryEntry* rollback = LastRollback(history, since)) {
    // An operator's rollback since this promotion was decided: it stands, even when it went to
    // this very version (then the rollback made it current, not this promotion).
    made = rollback->from == d.version;
    note = made ? rollback_note(*rollback)
                : "not made current by this promotion: `bundlegate rollback` moved current to " +
                      rollback->version + " after this promotion was decided";
  } else if (current == d.version) {
    made = stays = true;  // swapped before a crash
  } else if (current == d.expected_current) {
    made = stays = swap = true;
  } else {
    // Moved by another promotion while this one waited (a retry): decide again, by arrival.
    const auto arrival = current ? ArrivalOf(history, *current) : std::nullopt;
    made = stays = swap = !current || !arrival || run.item.arrival.empty() || run.item.arrival > *arrival;
    note = made ? "" : "not made current: " + *current + " arrived later and is current";
    BG_RETURN_IF_ERROR(run.journal.Append(
        {{"type", "current"}, {"make_current", made}, {"note", note},
         {"found", current ? Json(*current) : Json()},
         {"expected", d.expected_current ? Json(*d.expected_current) : Json()}},
        /*durable=*/true));
  }
  BG_ASSIGN_OR_RETURN(DirectoryHandle model, DirectoryHandle::Open(env_, layout_.ModelDir(d.name)));
  // The link is made durable by the model directory's sync below, after the history line; if
  // only the line survives a power cut, the resume above swaps again.
  if (swap) BG_RETURN_IF_ERROR(SwapCurrent(layout_, d.name, d.version, env_));
  env_.CrashPoint("promote.after-link");
  BG_RETURN_IF_ERROR(AppendHistory(
      layout_, d.name,
      {stays ? "promoted" : "added", d.version, d.decided_at, run.item.arrival, run.item.id, "", ""},
      env_));
  // One sync for the version's new name, the link and a new history file's name.
  BG_RETURN_IF_ERROR(model.Sync());
  env_.CrashPoint("promote.after-history");
  if (d.expected_current && *d.expected_current != d.version) fields["previous"] = *d.expected_current;
  const auto now = ReadCurrent(layout_, d.name);
  fields["made_current"] = made;
  fields["current"] = now ? Json(*now) : Json();
  if (!note.empty()) fields["note"] = note;
  return Status::Ok();
}

Result<ExecutionResult> DecisionExecutor::CarryPromote(Run& run, Decision d) {
  if (!IsPlainVersion(d.name, d.version) || d.target != layout_.VersionDir(d.name, d.version)) {
    Decision refused = Revalidate(run.item, d);  // a quarantine: manifest-invalid
    return Redecide(run, std::move(refused), "refused: not a plain version directory");
  }
  std::string why;
  BG_ASSIGN_OR_RETURN(const Moved moved, MoveIntoServing(d, SnapshotDurable(run.item, d), &why));
  if (moved == Moved::kImpossible) {
    if (why == "lost") {
      return Lost(run, d, "the bundle was neither in work/ nor in serving/ when its promotion "
                          "was finished; nothing was moved");
    }
    Decision next = Revalidate(run.item, d);  // served now: a no-op or duplicate-version
    if (next.action == Decision::Action::kPromote) return Status::Error(why);  // try again later
    return Redecide(run, std::move(next), why);
  }
  Json fields = AuditFields(run.item, d);
  BG_RETURN_IF_ERROR(MoveCurrent(run, d, fields));
  BG_ASSIGN_OR_RETURN(run.out.record,
                      AuditOnce(audit_, d.audit_mark, "promoted", "intake_id", run.item.id, fields));
  env_.CrashPoint("promote.after-audit");
  // Past the record, failures are warnings: the promotion stands, and what is left over (an old
  // version, work/<id>) is finished by the retry or the next start, from the journal.
  RetentionContext ctx{layout_, serving_.keep_versions, run.item.id, audit_, env_,
                       PinnedVersions(run.item.id, d.name)};
  auto retired = ApplyRetention(ctx, d.name, d.version, run.journal);
  if (retired.ok()) {
    run.out.retired = std::move(retired).value();
  } else {
    run.out.warnings.push_back("retention: " + retired.status().message());
  }
  Status cleaned = retired.ok() ? Cleanup(run.item, d) : Status::Ok();
  if (!cleaned.ok()) run.out.warnings.push_back("cleanup of work/" + run.item.id + ": " + cleaned.message());
  run.out.decision = std::move(d);
  return std::move(run.out);
}

}  // namespace bg
