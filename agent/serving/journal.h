// DecisionJournal: the write-ahead journal of one claimed bundle, work/<id>/journal.jsonl.
//
// The rule it serves: make every choice once, record it, then act. Whatever finishing a
// bundle's way would otherwise compute again after a crash (the verdict and its target, whether
// `current` moves and what it was, which old versions retention removes, where the audit log
// stood) is appended here, and made durable, before the first step acts on it. A resume - after
// kill -9, after a failed step, or, later, by another agent taking over a dead one's claims -
// replays the journal and never decides again; where a recorded choice has become impossible
// (the served copy of a no-op vanished, a version of the same name was promoted meanwhile), it
// records a new decision saying why, and carries that out instead.
//
// Format, version 1. JSON Lines, one object a line, appended, never edited in place. Every
// record has "type", "time" (RFC 3339 UTC) and "pid"; the first one is the header:
//   {"type":"begin","format":1,"intake_id":ID,"agent":{"host","boot_id","pid","started_at"}}
//       who wrote the journal: an agent taking over another's claims can tell whose it is
//   {"type":"check-started","attempt":N}
//       written before the checks start (not synced: it only counts deaths); N attempts with no
//       decision after them mean the agent died N times checking this bundle, and recovery
//       fails it closed instead of trying forever (see recovery.h)
//   {"type":"decision","decision":{...Decision::ToJson...}}
//       the verdict and the plan (decision.h); synced. The last one is the one in force: a
//       later one supersedes an earlier one, saying why in decision.why
//   {"type":"current","make_current":B,"note":TEXT}
//       a promotion's recorded choice about `current` revised because `current` was changed by
//       someone else before it could act (synced)
//   {"type":"retire","versions":[V...],"audit_mark":{...}}
//       the versions this promotion's retention removes, chosen once (synced)
// Paths and names inside records are bytes, written with an exact hex copy (byte_names.h).
// A reader ignores a torn last line (a crash mid-append) and fails on any other bad line, on a
// record larger than kMaxRecordBytes, and on a header of a newer format.
//
// Replay rules (DecisionExecutor::Resume, recovery.h; what a takeover must do the same way):
//  1. No "decision" record: nothing was chosen. The bundle is checked again, unless it has
//     limits.max_check_attempts "check-started" records: then it is quarantined as
//     plugin-crashed (the agent died checking it each time), never checked an n+1-th time.
//  2. Otherwise the LAST "decision" is carried out, under the serving lock, from its first step,
//     each step idempotent: a step already done is recognized (the source's recorded device and
//     inode at the target; the audit record with this intake id after decision.plan.audit_mark;
//     this intake id in serving/<name>/.history.jsonl after plan.history_len), never redone.
//  3. `current` is moved only if plan.make_current and `current` is still plan.expected_current
//     (or already this version). A rollback recorded in the history after plan.history_len (an
//     operator's, while the agent was down) stands: the promotion finishes without moving
//     `current` and its record says so. A later "current" record overrides plan.make_current.
//  4. A "retire" record is the retention choice: only those versions are hidden and audited
//     ("retired", once per version after its audit_mark) and deleted; one that became current,
//     the one before it, or that another pending decision refers to is kept.
//  5. A step that has become impossible (the served copy of a no-op is gone or differs, the
//     version was promoted by another bundle, the target collides with the layout) is not
//     retried: a new "decision" record with `why` is appended, synced, and carried out instead
//     (at most a few times: more is a bug, reported as an error). A source that is neither where
//     it was nor at its target is audited once as "lost", never as a promotion or rejection.
//  6. The journal is rewritten (new file, synced, renamed) before a resume acts on it, since a
//     sync that failed earlier proves nothing about what is on disk.
// work/<id> is removed (renamed to work/.removing-<id> first) only after the decision's audit
// record; so a journal without a work directory never exists, and the reverse means "undecided".
//
// Durability: a synced Append writes the line and fdatasyncs the descriptor it wrote with (and,
// the first time, the directory entries that lead to the file). After a failed sync the whole
// journal is written again through a new file and synced, rather than trusting a retried sync
// (fsyncgate); Rewrite() does the same on demand, which a resume calls before it acts.
//
// Thread safety: one DecisionJournal per work item at a time, used from one thread (the agent's
// I/O thread).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/core/env.h"
#include "agent/core/json.h"
#include "agent/core/status.h"
#include "agent/core/unique_fd.h"

namespace bg {

inline constexpr int kJournalFormat = 1;
inline constexpr std::size_t kMaxRecordBytes = 16u << 20;
inline constexpr std::size_t kMaxJournalBytes = 64u << 20;

class DecisionJournal {
 public:
  // The journal of work item `intake_id`, whose directory is `dir` (work/<id>). Loads the file
  // when it exists; otherwise starts an empty journal, created by the first Append. Fails on a
  // journal it cannot read or trust (see the header).
  static Result<DecisionJournal> Load(Env& env, const std::string& dir, const std::string& intake_id);
  // Whether work/<id> holds a journal file.
  static bool ExistsIn(const std::string& dir);
  static std::string PathIn(const std::string& dir) { return dir + "/journal.jsonl"; }

  // Appends `record` (an object with "type"; "time" and "pid" are added), writing the header
  // first when the journal is new. With `durable`, returns only once it is on disk (see the
  // header); on failure the record is not part of the journal.
  Status Append(Json record, bool durable);
  // Writes the whole journal again through a new file, synced and renamed over the old one.
  Status Rewrite();
  // Syncs the directories leading to the journal (work/<id>, work/) now, if not yet done.
  Status SyncDirectories();
  // The caller knows they were synced (by an earlier object for the same work item).
  void MarkDirectoriesSynced() { dirs_synced_ = true; }

  const std::vector<Json>& records() const { return records_; }
  // The last record of `type` (nullptr if none).
  const Json* Last(std::string_view type) const;
  // Check attempts since the last decision (all of them when there is none).
  std::vector<Json> CheckAttempts() const;
  // The next attempt number to record.
  int NextAttempt() const;

 private:
  DecisionJournal(Env& env, std::string dir, std::string intake_id)
      : env_(&env), dir_(std::move(dir)), intake_id_(std::move(intake_id)) {}
  Status WriteLine(const Json& record, bool durable, bool* sync_failed);

  Env* env_;
  std::string dir_;
  std::string intake_id_;
  std::vector<Json> records_;
  UniqueFd fd_;                 // O_APPEND, opened by the first append of this object
  bool dirs_synced_ = false;    // the file's name is durable
  bool needs_rewrite_ = false;  // a torn tail on disk, or a failed sync: rewrite before appending
};

// Who this agent process is, for journal headers and takeovers: host, boot id, pid, start time.
const Json& AgentIdentity();

}  // namespace bg
