#include "agent/daemon/agent_metrics.h"

#include <algorithm>

#include "agent/checks/check_registry.h"
#include "agent/core/reason.h"
#include "agent/daemon/event_log_fields.h"

namespace bg {
namespace {

std::string ReasonLabel(const Decision& d) {
  if (d.action != Decision::Action::kQuarantine) return "none";
  return ParseReason(d.reason) ? d.reason : "other";
}

std::string PluginStatus(const CheckResult& r) {
  if (r.reason == ReasonCode(Reason::kPluginTimeout)) return "timeout";
  if (r.reason == ReasonCode(Reason::kPluginCrashed)) return "crashed";
  return std::string(VerdictName(r.verdict));
}

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

AgentMetrics::AgentMetrics()
    : decisions_(registry_.AddCounter(
          {"bundlegate_decisions", "Bundles decided, by outcome (promoted, rejected, noop: an "
                                   "identical re-drop) and reason code.", ""},
          {"outcome", "reason"}, 100)),
      check_duration_(registry_.AddHistogram(
          {"bundlegate_check_duration_seconds", "How long each check of a bundle took, by check "
                                                "kind (checks that ran; skipped ones are not "
                                                "counted).", "seconds"},
          CheckDurationBounds(), {"kind"}, 100)),
      plugin_runs_(registry_.AddCounter(
          {"bundlegate_plugin_runs", "Plugin check runs, by kind and status (pass, fail, error, "
                                     "timeout, crashed).", ""},
          {"kind", "status"}, 500)),
      inbox_to_decision_(registry_.AddHistogram(
          {"bundlegate_inbox_to_decision_seconds", "Time from a bundle's first sight in the inbox "
                                                   "to its decision.", "seconds"},
          LatencyBoundsLong())),
      last_decision_(registry_.AddGauge(
          {"bundlegate_last_decision_timestamp_seconds", "Unix time of the last decision, 0 "
                                                         "before the first.", "seconds"})) {
  builtin_kinds_ = {"manifest", "integrity", "intake"};
  for (const auto& k : BuiltinCheckKinds()) builtin_kinds_.insert(k.kind);
  // Known series start at zero, so that increase() sees the first one of each.
  decisions_.With({"promoted", "none"});
  decisions_.With({"noop", "none"});
  for (int r = static_cast<int>(Reason::kManifestInvalid); r <= static_cast<int>(Reason::kPluginCrashed); ++r) {
    decisions_.With({"rejected", std::string(ReasonCode(static_cast<Reason>(r)))});
  }
  inbox_to_decision_.Get();
  last_decision_.Get();
}

void AgentMetrics::Sighted(const std::string& inbox_name,
                           std::optional<Clock::time_point> first_seen) {
  if (!first_seen) return;
  auto [it, inserted] = first_seen_.try_emplace(inbox_name, *first_seen);
  if (!inserted) it->second = std::min(it->second, *first_seen);
  if (first_seen_.size() > kMaxSightings) {
    // Names that vanished from the inbox undecided: forget the longest-waiting one.
    const auto oldest = std::min_element(first_seen_.begin(), first_seen_.end(),
                                         [](const auto& a, const auto& b) { return a.second < b.second; });
    first_seen_.erase(oldest);
  }
}

void AgentMetrics::Checked(const BundleReport& report) {
  if (report.cancelled) return;
  for (const auto& r : report.results) {
    if (r.verdict == Verdict::kSkip) continue;
    check_duration_.With({r.check}).Observe(r.duration_ms / 1000.0);
    if (!builtin_kinds_.count(r.check)) plugin_runs_.With({r.check, PluginStatus(r)}).Inc();
  }
}

void AgentMetrics::Decided(const WorkItem& item, const ExecutionResult& result) {
  const Decision& d = result.decision;
  decisions_.With({std::string(DecisionEventName(d)), ReasonLabel(d)}).Inc();
  last_decision_.Get().Set(UnixNow());
  ++decisions_made_;
  if (d.action == Decision::Action::kPromote) ++serving_generation_;
  const auto seen = first_seen_.find(item.inbox_name);
  if (seen != first_seen_.end()) {
    inbox_to_decision_.Get().Observe(
        std::chrono::duration<double>(Clock::now() - seen->second).count());
    first_seen_.erase(seen);
  }
}

std::vector<MetricFamily> AgentMetrics::Collect() const { return registry_.Collect(); }

}  // namespace bg
