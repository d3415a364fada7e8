// `bundlegate plugins [--config FILE] [--json]`: the check kinds this agent can run: the built-in
// ones, then every plugin found in the plugin directories with what its --describe says. Exit 0,
// or 2 on a config error or when a plugin in use (not shadowed) fails to describe itself.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "agent/checks/check_registry.h"
#include "agent/cli/command.h"
#include "agent/cli/config_loader.h"
#include "agent/core/json.h"
#include "agent/plugin/describe.h"
#include "agent/plugin/discovery.h"

namespace bg::cli {
namespace {

struct PluginsArgs {
  std::string config;
  bool json = false;
};

struct Listing {
  std::vector<std::string> dirs;
  std::vector<PluginEntry> plugins;
  std::vector<Result<PluginDescription>> descriptions;  // one per plugin; shadowed: not run
  bool broken = false;
};

Listing Collect(const Config& config) {
  Listing l;
  l.dirs = config.plugin_dirs.empty() ? DefaultPluginDirs() : config.plugin_dirs;
  l.plugins = ListPlugins(l.dirs);
  for (const auto& p : l.plugins) {
    if (p.shadowed) {
      l.descriptions.emplace_back(Status::Error("shadowed by an earlier directory"));
      continue;
    }
    l.descriptions.push_back(DescribePlugin(p.path, p.kind));
    l.broken = l.broken || !l.descriptions.back().ok();
  }
  return l;
}

Json ToJson(const Listing& l) {
  Json builtin = Json::array();
  for (const auto& k : BuiltinCheckKinds()) builtin.push_back({{"kind", k.kind}, {"help", k.help}});
  Json plugins = Json::array();
  for (std::size_t i = 0; i < l.plugins.size(); ++i) {
    const auto& p = l.plugins[i];
    Json j = {{"kind", p.kind}, {"path", p.path}, {"shadowed", p.shadowed}};
    if (l.descriptions[i].ok()) {
      j["describe"] = l.descriptions[i]->raw;
    } else if (!p.shadowed) {
      j["error"] = l.descriptions[i].status().message();
    }
    plugins.push_back(std::move(j));
  }
  return {{"plugin_dirs", l.dirs}, {"builtin", builtin}, {"plugins", plugins}};
}

std::string DescribeLine(const PluginDescription& d) {
  std::string line = "version " + d.version;
  if (!d.runtime.empty()) line += "  runtime " + DumpJson(d.runtime);
  if (!d.model_formats.empty()) {
    line += "  formats";
    for (const auto& f : d.model_formats) line += " " + f;
  }
  return line;
}

void PrintHuman(const Listing& l) {
  std::printf("plugin directories, in order:\n");
  for (const auto& dir : l.dirs) {
    std::error_code ec;
    const bool there = std::filesystem::is_directory(dir, ec);
    std::printf("  %s%s\n", dir.c_str(), there ? "" : "  (absent)");
  }
  std::printf("built-in checks:\n");
  for (const auto& k : BuiltinCheckKinds()) std::printf("  %-14s %s\n", k.kind, k.help);
  std::printf("plugins:%s\n", l.plugins.empty() ? " none found" : "");
  for (std::size_t i = 0; i < l.plugins.size(); ++i) {
    const auto& p = l.plugins[i];
    const auto& d = l.descriptions[i];
    const std::string what = p.shadowed ? "(shadowed by an earlier directory)"
                             : d.ok()   ? DescribeLine(*d)
                                        : "BROKEN: " + d.status().message();
    std::printf("  %-14s %s\n  %-14s %s\n", p.kind.c_str(), p.path.c_str(), "", what.c_str());
  }
}

int RunPlugins(const PluginsArgs& args) {
  auto config = LoadConfigForCli(args.config);
  if (!config.ok()) {
    std::fprintf(stderr, "bundlegate plugins: %s\n", config.status().message().c_str());
    return kExitUsage;
  }
  const Listing listing = Collect(*config);
  if (args.json) {
    std::cout << DumpJson(ToJson(listing), 2) << "\n";
  } else {
    PrintHuman(listing);
  }
  return listing.broken ? kExitUsage : kExitOk;
}

}  // namespace

Command PluginsCommand() {
  return {"plugins", "List the check kinds: built-in ones and plugins, with their --describe",
          [](CLI::App& sub) {
            auto args = std::make_shared<PluginsArgs>();
            sub.add_option("--config", args->config, "Config file (for plugin_dirs)");
            sub.add_flag("--json", args->json, "Print the listing as JSON");
            return [args] { return RunPlugins(*args); };
          }};
}

}  // namespace bg::cli
