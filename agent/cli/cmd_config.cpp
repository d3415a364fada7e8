// `bundlegate config check [--config FILE]`: load a config and build its checks, reporting every
// error with its file, line and key. Exit 0 valid, 2 invalid.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "agent/checks/check_registry.h"
#include "agent/cli/command.h"
#include "agent/cli/config_loader.h"

namespace bg::cli {
namespace {

int RunConfigCheck(const std::string& path) {
  auto config = LoadConfigForCli(path);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().message().c_str());
    return kExitUsage;
  }
  auto checks = BuildChecks(*config);
  if (!checks.ok()) {
    std::fprintf(stderr, "%s\n", checks.status().message().c_str());
    return kExitUsage;
  }
  std::string kinds;
  for (const auto& c : *checks) kinds += (kinds.empty() ? "" : ", ") + std::string(c->kind());
  std::printf("%s: ok\n  root %s\n  inbox %s\n  serving %s\n  quarantine %s\n  audit log %s\n"
              "  checks: manifest, integrity, intake%s%s\n",
              config->source.c_str(), config->paths.root.c_str(), config->paths.inbox.c_str(),
              config->paths.serving.c_str(), config->paths.quarantine.c_str(),
              config->paths.audit_log.c_str(), kinds.empty() ? "" : ", ", kinds.c_str());
  return kExitOk;
}

}  // namespace

Command ConfigCommand() {
  return {"config", "Validate a configuration file", [](CLI::App& sub) {
            auto path = std::make_shared<std::string>();
            auto* check = sub.add_subcommand("check", "Validate a config, reporting errors with their line");
            check->add_option("--config", *path, "Config file");
            sub.require_subcommand(1);
            return [path] { return RunConfigCheck(*path); };
          }};
}

}  // namespace bg::cli
