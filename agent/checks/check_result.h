// CheckResult: what one check says about one bundle (SPEC.md "Checks and reason codes").
#pragma once

#include <string>
#include <string_view>

#include "agent/core/json.h"
#include "agent/core/reason.h"

namespace bg {

enum class Verdict {
  kPass,
  kFail,   // the bundle is rejected for `reason`
  kError,  // the check could not run; fails closed like kFail. Its reason is the closest code
           // of the check's own family (a git repository that cannot be read: commit-unknown;
           // a plugin: plugin-error), and its summary says that the check could not run.
  kSkip,   // not run: a prerequisite failed, or the check does not apply to this bundle
};

std::string_view VerdictName(Verdict v);  // "pass", "fail", "error", "skip"

struct CheckResult {
  std::string check;  // the check's kind: "manifest", "integrity", "git", "torchscript", ...
  Verdict verdict = Verdict::kPass;
  std::string reason;  // a SPEC.md code (or a plugin's own); empty on pass and skip
  std::string summary;  // one line
  Json details = Json::object();
  Json metrics = Json::object();  // name -> number
  double duration_ms = 0;

  static CheckResult Pass(std::string check, std::string summary);
  static CheckResult Fail(std::string check, Reason reason, std::string summary);
  static CheckResult Error(std::string check, Reason reason, std::string summary);
  static CheckResult Skip(std::string check, std::string summary);

  bool blocks_promotion() const { return verdict == Verdict::kFail || verdict == Verdict::kError; }
  Json ToJson() const;
};

}  // namespace bg
