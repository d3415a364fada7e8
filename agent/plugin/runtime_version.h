// The serving runtime's LibTorch version (CheckBuildContext::torch_version), which the lockfile
// check compares a bundle's torch pin with: config runtime.torch_version unless "auto"; else
// runtime.libtorch from the TorchScript plugin's --describe, when that plugin is found and
// describes itself (through `describes`, which remembers the answer: describe_cache.h); else the
// LibTorch version found when bundlegate was built (may be "").
//
// Thread safety: blocks while the plugin describes itself; call from a worker or at config
// load, never from the event loop.
#pragma once

#include <string>
#include <vector>

#include "agent/plugin/describe_cache.h"

namespace bg {

inline constexpr const char* kTorchScriptKind = "torchscript";

std::string ResolveTorchVersion(const std::string& configured,
                                const std::vector<std::string>& plugin_dirs,
                                const std::string& build_time_version, DescribeCache& describes);

}  // namespace bg
