// bundlegate: the agent and its command line. main() reads top to bottom: the table of
// subcommands, parsing, running the chosen one. It is the only place that exits.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <vector>

#include "agent/cli/command.h"
#include "agent/cli/version_text.h"
#include "agent/daemon/logging.h"

int main(int argc, char** argv) {
  using namespace bg::cli;
  // Logs go to stderr from the start: stdout carries results (`check --json`, `status --json`).
  bg::SetupLogging("warn");
  const std::vector<Command> commands = {
      RunCommand(),
      CheckCommand(),
      ConfigCommand(),
      ReloadCommand(),
      AuditCommand(),
      RollbackCommand(),
      StatusCommand(),
      PluginsCommand(),
      SignatureCommand(),
      VersionCommand(),
  };

  CLI::App app{"bundlegate: the release gate for PyTorch model bundles.\n"
               "Watches an inbox, checks each bundle (integrity, provenance, prediction parity),\n"
               "promotes it to serving or quarantines it, and records every decision in an\n"
               "audit log.",
               "bundlegate"};
  app.set_version_flag("--version", [] { return VersionText(); });
  app.require_subcommand(1);
  std::function<int()> action;
  for (const auto& command : commands) {
    CLI::App* sub = app.add_subcommand(command.name, command.help);
    auto run = command.setup(*sub);
    sub->callback([&action, run] { action = run; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return action ? action() : kExitUsage;
}
