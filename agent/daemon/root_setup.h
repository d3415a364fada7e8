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

// Whether work/ is opened to the plugin user's group (mode 2710, work_area.h): where the agent
// is root and that group is the plugin user's alone (PluginGroupIsExclusive), so that warm
// workers, running as the plugin user, can reach the bundles they are handed.
bool WorkOpenToPlugins(const Config& config);

}  // namespace bg
