// `bundlegate rollback NAME [--to VERSION]`: point serving/NAME/current at an earlier version.
// Exit 0 when `current` moved and the move is audited; 2 otherwise: then either nothing moved and
// nothing was audited, or the move is audited and the next rollback or agent start completes it
// (the message says which; serving/rollback.h: intent, then audit record, then the link).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "agent/cli/command.h"
#include "agent/cli/config_loader.h"
#include "agent/serving/rollback.h"

namespace bg::cli {
namespace {

struct RollbackArgs {
  std::string name;
  std::string to;
  std::string config;
};

int RunRollback(const RollbackArgs& args) {
  auto config = LoadConfigForCli(args.config);
  if (!config.ok()) {
    std::fprintf(stderr, "bundlegate rollback: %s\n", config.status().message().c_str());
    return kExitUsage;
  }
  auto audit = AuditLog::Open(config->paths.audit_log);
  if (!audit.ok()) {
    std::fprintf(stderr, "bundlegate rollback: %s\n", audit.status().message().c_str());
    return kExitUsage;
  }
  auto result = Rollback(*config, args.name, args.to, **audit);
  if (!result.ok()) {
    std::fprintf(stderr, "bundlegate rollback: %s\n", result.status().message().c_str());
    return kExitUsage;
  }
  if (!result->finished.empty()) std::printf("first %s\n", result->finished.c_str());
  std::printf("%s: current %s -> %s (audit seq %lld)\n", args.name.c_str(),
              result->from.empty() ? "(none)" : result->from.c_str(), result->to.c_str(),
              static_cast<long long>(result->record.value("seq", 0)));
  return kExitOk;
}

}  // namespace

Command RollbackCommand() {
  return {"rollback", "Point serving/NAME/current at an earlier version", [](CLI::App& sub) {
            auto args = std::make_shared<RollbackArgs>();
            sub.add_option("NAME", args->name, "The model name")->required();
            sub.add_option("--to", args->to,
                           "The version to serve (default: the one served before the current one)");
            sub.add_option("--config", args->config, "Config file");
            return [args] { return RunRollback(*args); };
          }};
}

}  // namespace bg::cli
