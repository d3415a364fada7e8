#include "agent/git/git_report.h"

namespace bg {
namespace {

constexpr const char* kCheck = "git";

Json FindingJson(const GitFinding& f) {
  Json j = {{"reason", ReasonCode(f.reason)}};
  if (!f.path.empty()) j["path"] = f.path;
  j["detail"] = f.detail;
  for (const auto& [key, value] : f.extra.items()) j[key] = value;
  return j;
}

}  // namespace

void GitReport::Add(Reason reason, std::string detail, std::string path, Json extra) {
  findings.push_back({reason, std::move(path), std::move(detail), std::move(extra)});
}

CheckResult GitReport::ToResult() const {
  if (findings.empty()) {
    CheckResult r = CheckResult::Pass(kCheck, pass_summary);
    r.details = details;
    r.metrics = metrics;
    return r;
  }
  const GitFinding& first = findings.front();
  std::string summary = first.path.empty() ? first.detail : first.path + ": " + first.detail;
  if (findings.size() > 1) summary += " (and " + std::to_string(findings.size() - 1) + " more)";
  CheckResult r = CheckResult::Fail(kCheck, first.reason, summary);
  r.details = details;
  Json list = Json::array();
  for (const auto& f : findings) list.push_back(FindingJson(f));
  r.details["findings"] = std::move(list);
  r.metrics = metrics;
  return r;
}

CheckResult GitReport::CouldNotRun(const Status& status) const {
  CheckResult r =
      CheckResult::Error(kCheck, Reason::kCommitUnknown, "could not run: " + status.message());
  r.details = details;
  r.details["error"] = status.message();
  r.metrics = metrics;
  return r;
}

}  // namespace bg
