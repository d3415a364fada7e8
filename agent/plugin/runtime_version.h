// The serving runtime's LibTorch version (CheckBuildContext::torch_version), which the lockfile
// check compares a bundle's torch pin with: config runtime.torch_version unless "auto"; else
// runtime.libtorch from the TorchScript plugin's --describe, when that plugin is found and
// describes itself; else the LibTorch version found when bundlegate was built (may be "").
//
// Thread safety: blocks while the plugin describes itself; call at config load.
#pragma once

#include <string>
#include <vector>

#include "agent/plugin/plugin_launch.h"

namespace bg {

inline constexpr const char* kTorchScriptKind = "torchscript";

std::string ResolveTorchVersion(const std::string& configured,
                                const std::vector<std::string>& plugin_dirs,
                                const std::string& build_time_version,
                                const PluginSandbox& sandbox = DefaultPluginSandbox());

}  // namespace bg
