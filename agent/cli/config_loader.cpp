#include "agent/cli/config_loader.h"

#include <cstdlib>
#include <filesystem>

namespace bg::cli {

Result<Config> LoadConfigForCli(const std::string& flag_value, std::string* used_path) {
  std::string path = flag_value;
  if (path.empty()) {
    const char* env = std::getenv("BUNDLEGATE_CONFIG");
    std::error_code ec;
    if (env != nullptr && *env != '\0') {
      path = env;
    } else if (std::filesystem::exists(kDefaultConfigPath, ec)) {
      path = kDefaultConfigPath;
    }
  }
  if (used_path != nullptr) {
    *used_path = path.empty() ? "" : std::filesystem::absolute(path).lexically_normal().string();
  }
  if (path.empty()) return DefaultConfig();
  return LoadConfigFile(path);
}

}  // namespace bg::cli
