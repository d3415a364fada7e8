#include "agent/daemon/event_log_fields.h"

namespace bg {

std::string_view MessageIdFor(std::string_view event) {
  if (event == "promoted") return "4eb01afc0d6f4fc2918fa799e09277b1";
  if (event == "rejected") return "e26646b21c314eeca1f0fe4937515765";
  if (event == "noop") return "7abbbf0f52d143e58244b052cf6b8d84";
  if (event == "started") return "3102e830e4dc472b8f2290419e4cc53c";
  if (event == "stopped") return "c5a9dd8f884d4afa8d1e23351f1b6caf";
  return "";
}

std::string_view DecisionEventName(const Decision& d) {
  switch (d.action) {
    case Decision::Action::kPromote: return "promoted";
    case Decision::Action::kNoop: return "noop";
    case Decision::Action::kQuarantine: return "rejected";
  }
  return "rejected";
}

LogFields DecisionLogFields(const WorkItem& item, const Decision& d) {
  const std::string event(DecisionEventName(d));
  LogFields f = {{"MESSAGE_ID", std::string(MessageIdFor(event))}, {"BUNDLEGATE_EVENT", event}};
  if (!d.name.empty()) f.emplace_back("BUNDLEGATE_NAME", d.name);
  if (!d.version.empty()) f.emplace_back("BUNDLEGATE_VERSION", d.version);
  if (d.action == Decision::Action::kQuarantine && !d.reason.empty()) {
    f.emplace_back("BUNDLEGATE_REASON", d.reason);
  }
  f.emplace_back("BUNDLEGATE_INTAKE_ID", item.id);
  f.emplace_back("BUNDLEGATE_INBOX_NAME", item.inbox_name);
  if (!d.digest.empty()) f.emplace_back("BUNDLEGATE_DIGEST", d.digest);
  if (!d.target.empty()) f.emplace_back("BUNDLEGATE_TARGET", d.target);
  return f;
}

LogFields LifecycleLogFields(std::string_view event) {
  return {{"MESSAGE_ID", std::string(MessageIdFor(event))},
          {"BUNDLEGATE_EVENT", std::string(event)}};
}

}  // namespace bg
