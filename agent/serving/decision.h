// Decision: what happens to a claimed bundle, written to work/<id>/decision.json before it
// happens, so that recovery can finish it after a crash (decision_executor.h).
#pragma once

#include <string>

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
