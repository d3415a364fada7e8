// How every subcommand finds its config: --config FILE, else $BUNDLEGATE_CONFIG, else
// /etc/bundlegate/bundlegate.toml when it exists, else the built-in defaults.
#pragma once

#include <string>

#include "agent/config/config.h"
#include "agent/core/status.h"

namespace bg::cli {

// `used_path`, when given, receives the file read ("" for the built-in defaults).
Result<Config> LoadConfigForCli(const std::string& flag_value, std::string* used_path = nullptr);

}  // namespace bg::cli
