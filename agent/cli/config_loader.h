// How every subcommand finds its config: --config FILE, else $BUNDLEGATE_CONFIG, else
// /etc/bundlegate/bundlegate.toml when it exists, else the built-in defaults.
#pragma once

#include <string>

#include "agent/config/config.h"
#include "agent/core/status.h"

namespace bg::cli {

Result<Config> LoadConfigForCli(const std::string& flag_value);

}  // namespace bg::cli
