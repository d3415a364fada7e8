// The check registry: turns the config's [[checks]] tables into Check objects.
//
// Built-in kinds have a factory each (the table below in check_registry.cpp); any other kind is a
// plugin, found as bundlegate-check-<kind> in the plugin directories. Each factory validates its
// own options through a TableReader, so an unknown or ill-typed option is reported like any
// config error, with file, line and key.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/checks/check.h"
#include "agent/checks/pipeline.h"
#include "agent/config/config.h"
#include "agent/core/status.h"
#include "agent/toml/table_reader.h"

namespace bg {

class DescribeCache;  // agent/plugin/describe_cache.h
class WarmWorkers;    // agent/plugin/worker_pool.h

// How checks are built, beyond the config.
struct BuildOptions {
  // Plugins' --describe answers, remembered (a process's own, or kept across runs in a file);
  // null: a fresh one in memory.
  std::shared_ptr<DescribeCache> describes;
  // Describe a plugin when a bundle first needs its description, not while building: what
  // `bundlegate check` wants (one bundle, perhaps rejected before any plugin matters). The
  // agent and `config check` describe at build, so that a broken plugin is a config error.
  bool lazy_describe = false;
  // The agent's warm workers (plugins that serve keep one loaded; worker_pool.h), shared by
  // the pipelines it builds on reload; null: every plugin run is cold (bundlegate check).
  std::shared_ptr<WarmWorkers> warm_workers;
};

// What a factory may need beyond its own options.
struct CheckBuildContext {
  const Config* config = nullptr;
  std::vector<std::string> plugin_dirs;  // resolved: configured, or the defaults
  // The serving runtime's LibTorch version ("1.13.1"): runtime.torch_version, or with "auto"
  // what the TorchScript plugin's --describe reports, else the LibTorch found at build time.
  // Empty when unknown. Resolved on first use (a --describe starts a LibTorch process unless
  // its answer is remembered), at most once per BuildChecks; safe to call from several threads.
  std::function<std::string()> torch_version = [] { return std::string(); };
  std::shared_ptr<DescribeCache> describes;  // never null inside BuildChecks
  bool lazy_describe = false;
  std::shared_ptr<WarmWorkers> warm_workers;  // null: no warm path
};

// A factory reads its options from `options` (which already knows "kind"), reports problems
// through options.Fail() and returns the check (nullptr only after reporting an error).
using CheckFactory = std::unique_ptr<Check> (*)(TableReader& options, const CheckBuildContext& ctx);

struct BuiltinCheckKind {
  const char* kind;
  const char* help;
  CheckFactory factory;
};

// The built-in kinds, for `bundlegate plugins` and the reference config.
const std::vector<BuiltinCheckKind>& BuiltinCheckKinds();

// Builds every configured check. Errors name the config file, line and key.
Result<std::vector<std::shared_ptr<Check>>> BuildChecks(const Config& config,
                                                        const BuildOptions& build = {});

// The pipeline for `config`: its checks, limits, serving directory and parity rule.
Result<std::shared_ptr<const CheckPipeline>> BuildPipeline(const Config& config,
                                                           const BuildOptions& build = {});

}  // namespace bg
