// The subcommand table: each subcommand is one file (cmd_*.cpp) exporting a Command, and main()
// registers them all from one list, which drives both dispatch and --help (ninja's habit).
#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace bg::cli {

// Exit codes of SPEC.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // a bundle failed a check, or verify found tampering
inline constexpr int kExitUsage = 2;   // usage, configuration or environment error

struct Command {
  const char* name;
  const char* help;
  // Adds the subcommand's options to `sub` and returns the action to run when it is chosen.
  std::function<std::function<int()>(CLI::App& sub)> setup;
};

Command CheckCommand();
Command ConfigCommand();
Command AuditCommand();
Command VersionCommand();
Command RunCommand();
Command StatusCommand();
Command RollbackCommand();
Command PluginsCommand();
Command SignatureCommand();
Command ReloadCommand();

}  // namespace bg::cli
