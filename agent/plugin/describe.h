// `bundlegate-check-<kind> --describe`: what a plugin says about itself (SPEC.md "Plugins"):
//   {"protocol": 1, "kind": "torchscript", "version": "0.1.0",
//    "runtime": {"libtorch": "1.13.0", ...}, "model_formats": ["torchscript"]}
// `model_formats` (optional; also accepted inside `runtime`) lists the bundle model formats the
// plugin handles; a bundle of another format is skipped by it. Absent: every format.
// `serve` (optional, false when absent): the plugin can run as a warm worker (`--serve`,
// plugins/sdk/serve.h), which the agent then uses (warm_worker.h).
//
// The plugin runs sandboxed like any run (plugin_launch.h), without a bundle, with a short
// timeout, and must exit 0 with exactly that object; the kind must be the one of its file name.
//
// Thread safety: DescribePlugin blocks (a private event loop); call it at startup or from a
// worker, never from the agent's event loop.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/json.h"
#include "agent/core/status.h"
#include "agent/plugin/plugin_launch.h"

namespace bg {

inline constexpr std::chrono::seconds kDescribeTimeout{30};

struct PluginDescription {
  std::string kind;
  std::string version;
  Json runtime = Json::object();
  std::vector<std::string> model_formats;  // empty: handles every format
  bool serve = false;                      // offers --serve
  Json raw = Json::object();               // what it printed

  bool HandlesFormat(std::string_view format) const;
};

// Validates --describe's output. `kind`: the kind the file name says.
Result<PluginDescription> ParseDescription(std::string_view out, std::string_view kind);

// Runs `path --describe` under `limits` (its timeout capped at kDescribeTimeout). Errors name
// the plugin and what went wrong (timeout, signal, exit status, invalid output).
Result<PluginDescription> DescribePlugin(const std::string& path, std::string_view kind,
                                         PluginLimits limits = {},
                                         const PluginSandbox& sandbox = DefaultPluginSandbox());

}  // namespace bg
