#include "agent/plugin/runtime_version.h"

#include "agent/plugin/describe.h"
#include "agent/plugin/discovery.h"

namespace bg {

std::string ResolveTorchVersion(const std::string& configured,
                                const std::vector<std::string>& plugin_dirs,
                                const std::string& build_time_version, DescribeCache& describes) {
  if (configured != "auto") return configured;
  auto path = FindPlugin(kTorchScriptKind, plugin_dirs);
  if (!path.ok()) return build_time_version;
  auto description = describes.Describe(*path, kTorchScriptKind);
  if (!description.ok()) return build_time_version;
  const Json& libtorch = description->runtime.contains("libtorch")
                             ? description->runtime["libtorch"] : Json();
  if (!libtorch.is_string() || libtorch.get<std::string>().empty()) return build_time_version;
  return libtorch.get<std::string>();
}

}  // namespace bg
