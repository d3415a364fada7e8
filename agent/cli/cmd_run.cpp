// `bundlegate run [--config FILE]`: the agent, in the foreground (systemd Type=notify).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "agent/cli/command.h"
#include "agent/cli/config_loader.h"
#include "agent/daemon/agent.h"
#include "agent/daemon/logging.h"

namespace bg::cli {

Command RunCommand() {
  return {"run", "Run the agent in the foreground: watch the inbox, check, promote or quarantine",
          [](CLI::App& sub) {
            auto path = std::make_shared<std::string>();
            sub.add_option("--config", *path,
                           "Config file (default: $BUNDLEGATE_CONFIG, then "
                           "/etc/bundlegate/bundlegate.toml, then built-in defaults)");
            return [path] {
              std::string used;
              auto config = LoadConfigForCli(*path, &used);
              if (!config.ok()) {
                std::fprintf(stderr, "bundlegate run: %s\n", config.status().message().c_str());
                return kExitUsage;
              }
              SetupLogging(config->log.level, config->log.journal);
              Agent agent(std::move(config).value(), used);
              return agent.Run();
            };
          }};
}

}  // namespace bg::cli
