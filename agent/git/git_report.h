// GitReport: what one run of the git check found, and how it reads as a CheckResult.
//
// Every finding is kept (a dirty tree AND a lockfile that differs are both reported), in the
// order SPEC.md lists the git codes; the first one gives the reason and the summary. A run that
// could not finish (unreadable repository, failed fetch, damaged history) is an `error` verdict
// with the closest git code, commit-unknown, and a summary that starts "could not run".
//
// Thread safety: plain data, one per run.
#pragma once

#include <string>
#include <vector>

#include "agent/checks/check_result.h"
#include "agent/core/json.h"
#include "agent/core/reason.h"
#include "agent/core/status.h"

namespace bg {

struct GitFinding {
  Reason reason = Reason::kNone;
  std::string path;             // the repository path it is about, or ""
  std::string detail;           // one line
  Json extra = Json::object();  // e.g. both hashes
};

struct GitReport {
  std::vector<GitFinding> findings;
  Json details = Json::object();
  Json metrics = Json::object();
  std::string pass_summary;  // used when there is no finding

  void Add(Reason reason, std::string detail, std::string path = "", Json extra = Json::object());
  // fail with the first finding's reason, or pass.
  CheckResult ToResult() const;
  // error: the check could not run because of `status`.
  CheckResult CouldNotRun(const Status& status) const;
};

}  // namespace bg
