// AgentMetrics: what the agent counts as bundles go through it, for /metrics.
//
// The agent calls three hooks from its loop, each a single line where the thing happens:
//   Sighted(name, first_seen)  agent_flow.cpp OnProbed: a settle probe came back (the tracker
//                              still knows when the bundle was first seen)
//   Checked(report)            agent_flow.cpp RunChecks: a bundle's checks ran
//   Decided(item, result)      agent_flow.cpp OnDecided: a decision was carried out
// and these become:
//   bundlegate_decisions_total{outcome,reason}        promoted|rejected|noop; a SPEC reason
//                                                     code, "none" (not rejected) or "other"
//   bundlegate_check_duration_seconds{kind}           histogram, per check that ran (not skipped)
//   bundlegate_plugin_runs_total{kind,status}         plugin checks: pass|fail|error|timeout|crashed
//   bundlegate_inbox_to_decision_seconds              histogram, first sight to decision, for
//                                                     bundles this process saw arrive
//   bundlegate_last_decision_timestamp_seconds        unix time of the last decision
// Everything read at scrape time instead (queues, state, readiness, disk, served versions, the
// audit log's counts, HTTP) is collected by the agent itself (agent_gauges.cpp).
//
// Label values are bounded: reasons by SPEC.md's list (anything else is "other"), kinds by the
// configured checks, and every family by a series cap (metric_series.h).
//
// Thread safety: none; owned by the agent's loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/checks/pipeline.h"
#include "agent/intake/work_item.h"
#include "agent/metrics/metric_registry.h"
#include "agent/serving/decision_executor.h"

namespace bg {

class AgentMetrics {
 public:
  using Clock = std::chrono::steady_clock;

  AgentMetrics();

  void Sighted(const std::string& inbox_name, std::optional<Clock::time_point> first_seen);
  void Checked(const BundleReport& report);
  void Decided(const WorkItem& item, const ExecutionResult& result);

  std::vector<MetricFamily> Collect() const;
  // Moves on with every promotion: what serving/ holds may have changed (the agent refreshes
  // its cached listing of it then).
  std::uint64_t serving_generation() const { return serving_generation_; }
  std::uint64_t decisions() const { return decisions_made_; }

 private:
  static constexpr std::size_t kMaxSightings = 10000;

  MetricRegistry registry_;
  SeriesFamily<Counter>& decisions_;
  SeriesFamily<Histogram>& check_duration_;
  SeriesFamily<Counter>& plugin_runs_;
  SeriesFamily<Histogram>& inbox_to_decision_;
  SeriesFamily<Gauge>& last_decision_;
  std::set<std::string> builtin_kinds_;
  std::map<std::string, Clock::time_point> first_seen_;  // by inbox name, until decided
  std::uint64_t serving_generation_ = 0;
  std::uint64_t decisions_made_ = 0;
};

}  // namespace bg
