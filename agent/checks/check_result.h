// CheckResult: what one check says about one bundle (SPEC.md "Checks and reason codes").
#pragma once

#include <string>
#include <string_view>

#include "agent/core/json.h"
#include "agent/core/reason.h"
#include "agent/core/status.h"

namespace bg {

enum class Verdict {
  kPass,
  kFail,   // the bundle is rejected for `reason`
  kError,  // the check could not run; fails closed like kFail. Its reason is the closest code
           // of the check's own family (a git repository that cannot be read: commit-unknown;
           // a plugin: plugin-error), and its summary says that the check could not run.
  kSkip,   // not run: a prerequisite failed, or the check does not apply to this bundle
  kHeld,   // not a verdict: the agent's own failure (it could not read the bundle, start a
           // plugin, write its copy: EIO, ENOSPC, EACCES, EMFILE...) stopped the check. A run
           // with a held result decides nothing: the bundle waits and is checked again later.
           // Only FromStatus and Held make one, from an operational error (never a Reason).
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
  int error_number = 0;  // kHeld: the errno behind it, when known

  static CheckResult Pass(std::string check, std::string summary);
  static CheckResult Fail(std::string check, Reason reason, std::string summary);
  static CheckResult Error(std::string check, Reason reason, std::string summary);
  static CheckResult Skip(std::string check, std::string summary);
  // `why` must be an operational error (not a verdict): the agent's own failure.
  static CheckResult Held(std::string check, const Status& why);
  // What a failure met while reading the bundle means: a verdict in its Status (unsafe-path,
  // file-missing, limit-exceeded...) fails the check with that reason; anything else is the
  // agent's own failure and holds it. The one place where a read failure is classified.
  static CheckResult FromStatus(std::string check, const Status& failed);

  bool blocks_promotion() const {
    return verdict == Verdict::kFail || verdict == Verdict::kError || verdict == Verdict::kHeld;
  }
  bool held() const { return verdict == Verdict::kHeld; }
  Json ToJson() const;
};

}  // namespace bg
