// WorkItem: one claimed bundle in work/<id>/, and its record on disk (work/<id>/intake.json).
//
// Layout of work/<id>/ (agent-private):
//   intake.json    this record, written (fsync'd) before the claim's rename, updated atomically
//   received/      the inbox directory as the producer left it (copy intake, same filesystem);
//                  with the inbox on another filesystem it stays there, as inbox/.bundlegate-claimed/<id>
//   bundle/        what is checked: the copy (copy intake) or the renamed original (move intake)
//   journal.jsonl  the decision journal (agent/serving/journal.h): verdict, plan, progress
//
// Every step is recorded before or after it in an order that lets recovery (reconcile.h) finish
// or undo it after kill -9 at any instant.
#pragma once

#include <string>

#include "agent/config/config.h"
#include "agent/core/json.h"
#include "agent/core/status.h"

namespace bg {

struct WorkItem {
  std::string id;           // "<compact utc>-<pid>-<n>", unique and sortable
  std::string inbox_name;   // the entry's name in the inbox
  IntakeMode mode = IntakeMode::kCopy;
  std::string received;     // where the original is after the claim (absolute)
  std::string claimed_at;   // RFC 3339
  // Claim order: "<ns since the epoch, 20 digits>-<per-process counter, 9 digits>"; compares
  // as a string. Decides which of two promotions of one model becomes current.
  std::string arrival;
  bool snapshot_complete = false;  // bundle/ holds everything, fsync'd (always true for move)
  bool expired = false;            // claimed because it stayed incomplete too long
  std::string why_incomplete;      // for expired ones: what was missing
  // Copy intake: how many files each means copied ({"reflink": 12} or {"read-write": 3}, see
  // clone_file.h); null until the copy is made. Said in the audit record as "intake_copy".
  Json copied_by;

  Json ToJson() const;
  static Result<WorkItem> FromJson(const Json& j);
};

// Paths inside the work area.
struct WorkPaths {
  std::string work;  // <root>/work
  std::string Dir(const std::string& id) const { return work + "/" + id; }
  std::string Record(const std::string& id) const { return Dir(id) + "/intake.json"; }
  std::string Received(const std::string& id) const { return Dir(id) + "/received"; }
  std::string Bundle(const std::string& id) const { return Dir(id) + "/bundle"; }
};

// A new unique work id.
std::string NewWorkId();
// A new arrival key (see WorkItem::arrival), strictly increasing within a process.
std::string NewArrivalKey();

}  // namespace bg
