// Readiness: named conditions the agent must meet to do its work, for /readyz, the
// bundlegate_ready_condition metric and the "degraded" state.
//
// Each condition says whether it holds and why, in a line an operator can act on. The agent
// lists its conditions in one place (Agent::Impl::Readiness, agent_readiness.cpp); a new one
// (a disk floor, a stuck decision) is one more entry there.
//
// Thread safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/core/env.h"
#include "agent/core/json.h"
#include "agent/core/status.h"

namespace bg {

struct ReadinessCondition {
  std::string name;  // snake_case, stable: it is a metric label and a JSON key
  bool ok = false;
  std::string detail;
};

bool AllReady(const std::vector<ReadinessCondition>& conditions);

// {"ready": bool, "failing": [names], "conditions": [{"name", "ok", "detail"}...]}
Json ReadinessJson(const std::vector<ReadinessCondition>& conditions);

// Space on the filesystem holding `path` (statvfs): what an unprivileged writer may still use,
// and the size (DiskSpace: env.h).
Result<DiskSpace> StatDiskSpace(const std::string& path);

// "1.5 GiB", "12 MiB", "512 B": for messages.
std::string HumanBytes(std::uint64_t bytes);

}  // namespace bg
