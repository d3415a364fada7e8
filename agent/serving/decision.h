// Decision: what happens to a claimed bundle, and the plan for doing it. It is recorded in the
// bundle's journal (journal.h) before anything it decides moves, so that a resume after a crash
// carries out the same choice instead of making it again (decision_executor.h).
//
// Two parts:
//   the verdict   what the checks said, where the bundle goes (action, target, reason, checks)
//   the plan      what the executor fixed, under the serving lock, when it recorded the
//                 decision: where the audit log stood (so "already audited?" reads only what
//                 came after), the identity of what moves (so "already moved?" is a fact, not a
//                 guess), and for a promotion whether to move `current` and what `current` was.
// A decision that cannot be carried out as recorded (impossible now, not merely done) is
// superseded by a new one with `why` saying what changed; the journal keeps both.
//
// Paths and names are bytes; ToJson writes each with an exact hex copy (byte_names.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "agent/audit/audit_query.h"
#include "agent/checks/pipeline.h"
#include "agent/core/json.h"
#include "agent/core/reason.h"
#include "agent/intake/work_item.h"
#include "agent/serving/serving_layout.h"

namespace bg {

struct Decision {
  enum class Action { kPromote, kNoop, kQuarantine };
  Action action = Action::kQuarantine;
  std::string source;  // what moves: work/<id>/bundle, or the original as received
  std::string target;  // serving/<name>/<version> or quarantine/<...>
  std::string name, version, digest, commit;
  std::string reason, message;  // rejections
  Json checks = Json::array();  // each check's status, reason, duration and summary
  Json signer;                  // who signed the bundle (BundleReport::signer), or null
  Json rejected;                // REJECTED.json's body (quarantine only)
  std::string decided_at;
  std::string why;  // a re-decision: why the decision before it could not be carried out

  // --- the plan (DecisionExecutor fills it in when it records the decision)
  AuditMark audit_mark;                        // the audit log just before
  std::uint64_t source_dev = 0, source_ino = 0;  // the source directory (a rename keeps both)
  bool make_current = false;                   // promotions: move `current` to this version
  std::optional<std::string> expected_current;  // promotions: `current` then (nullopt: none)
  std::uint64_t history_len = 0;               // promotions: entries in .history.jsonl then
  std::string current_note;                    // promotions: why it is not made current

  Json ToJson() const;
  static Result<Decision> FromJson(const Json& j);
  std::string_view ActionName() const;
};

// The decision for a bundle whose checks ran. `source` is the directory the checks saw.
// Quarantine targets are quarantine/<name>@<version>.<utc>/ (or <inbox name>.<utc>/ when the
// manifest names none), made unique.
Decision DecideFromReport(const WorkItem& item, const BundleReport& report,
                          const std::string& source, const ServingLayout& layout);

// A rejection decided without running the checks (incomplete, not a directory, unsafe to copy).
Decision DecideRejection(const WorkItem& item, Reason reason, const std::string& message,
                         const Json& details, const std::string& source,
                         const ServingLayout& layout);

// A free quarantine path for `base` ("name@version" or the inbox name) at this instant.
std::string QuarantineTarget(const ServingLayout& layout, const std::string& base);

}  // namespace bg
