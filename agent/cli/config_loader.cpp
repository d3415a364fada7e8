#include "agent/cli/config_loader.h"

#include <cstdlib>
#include <filesystem>

namespace bg::cli {

Result<Config> LoadConfigForCli(const std::string& flag_value) {
  if (!flag_value.empty()) return LoadConfigFile(flag_value);
  if (const char* env = std::getenv("BUNDLEGATE_CONFIG"); env != nullptr && *env != '\0') {
    return LoadConfigFile(env);
  }
  std::error_code ec;
  if (std::filesystem::exists(kDefaultConfigPath, ec)) return LoadConfigFile(kDefaultConfigPath);
  return DefaultConfig();
}

}  // namespace bg::cli
