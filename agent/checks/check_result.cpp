#include "agent/checks/check_result.h"

#include <cmath>

#include "agent/core/errno_status.h"

namespace bg {

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kPass: return "pass";
    case Verdict::kFail: return "fail";
    case Verdict::kError: return "error";
    case Verdict::kSkip: return "skip";
    case Verdict::kHeld: return "held";
  }
  return "error";
}

CheckResult CheckResult::Pass(std::string check, std::string summary) {
  CheckResult r;
  r.check = std::move(check);
  r.verdict = Verdict::kPass;
  r.summary = std::move(summary);
  return r;
}

CheckResult CheckResult::Fail(std::string check, Reason reason, std::string summary) {
  CheckResult r;
  r.check = std::move(check);
  r.verdict = Verdict::kFail;
  r.reason = std::string(ReasonCode(reason));
  r.summary = std::move(summary);
  return r;
}

CheckResult CheckResult::Error(std::string check, Reason reason, std::string summary) {
  CheckResult r = Fail(std::move(check), reason, std::move(summary));
  r.verdict = Verdict::kError;
  return r;
}

CheckResult CheckResult::Skip(std::string check, std::string summary) {
  CheckResult r;
  r.check = std::move(check);
  r.verdict = Verdict::kSkip;
  r.summary = std::move(summary);
  return r;
}

CheckResult CheckResult::Held(std::string check, const Status& why) {
  CheckResult r;
  r.check = std::move(check);
  r.verdict = Verdict::kHeld;
  r.summary = "the agent could not check this bundle (not a verdict): " + why.message();
  r.error_number = why.error_number();
  return r;
}

CheckResult CheckResult::FromStatus(std::string check, const Status& failed) {
  if (failed.IsVerdict()) return Fail(std::move(check), failed.reason(), failed.message());
  return Held(std::move(check), failed);
}

Json CheckResult::ToJson() const {
  Json j;
  j["check"] = check;
  j["status"] = VerdictName(verdict);
  if (!reason.empty()) j["reason"] = reason;
  j["summary"] = summary;
  j["duration_ms"] = std::round(duration_ms * 1000.0) / 1000.0;
  if (!details.empty()) j["details"] = details;
  if (!metrics.empty()) j["metrics"] = metrics;
  if (error_number != 0) j["errno"] = ErrnoName(error_number);
  return j;
}

}  // namespace bg
