// Preparing the root before the agent starts: the directories exist, and the states that must
// move by rename(2) share one filesystem. Violations are configuration errors (exit 2) with a
// message that says what to change.
#pragma once

#include "agent/config/config.h"
#include "agent/core/status.h"

namespace bg {

struct RootFacts {
  bool inbox_same_fs = true;  // false only with copy intake
};

Result<RootFacts> PrepareRoot(const Config& config);

}  // namespace bg
