// `bundlegate status [--json]`: whether the agent runs, what it is doing (from the status file
// it keeps in the root), and what is served (from serving/ itself).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "agent/cli/command.h"
#include "agent/cli/config_loader.h"
#include "agent/core/json.h"
#include "agent/daemon/status_report.h"

namespace bg::cli {
namespace {

struct StatusArgs {
  std::string config;
  bool json = false;
};

void PrintHuman(const Json& s) {
  const Json& agent = s["agent"];
  if (s["running"].get<bool>() && agent.is_object()) {
    std::printf("agent: running (pid %s, since %s), %s\n", DumpJson(agent["pid"]).c_str(),
                agent.value("started_at", "?").c_str(), agent.value("watch", "").c_str());
  } else {
    std::printf("agent: not running\n");
  }
  std::printf("root %s: %zu in inbox, %zu in work, %zu quarantined\n",
              s["root"].get<std::string>().c_str(), s["inbox_entries"].get<std::size_t>(),
              s["work_entries"].get<std::size_t>(), s["quarantined"].get<std::size_t>());
  if (s["running"].get<bool>() && agent.is_object()) {
    for (const auto& [name, why] : agent["settling"].items()) {
      std::printf("  settling %s: %s\n", name.c_str(), why.get<std::string>().c_str());
    }
    for (const auto& f : agent["in_flight"]) {
      std::printf("  checking %s (%s)\n", f.value("inbox_name", "").c_str(), f.value("id", "").c_str());
    }
  }
  std::printf("served:\n");
  if (s["served"].empty()) std::printf("  (nothing yet)\n");
  for (const auto& m : s["served"]) {
    std::string versions;
    for (const auto& v : m["versions"]) versions += (versions.empty() ? "" : " ") + v.get<std::string>();
    std::printf("  %-24s current %-16s versions: %s\n", m["name"].get<std::string>().c_str(),
                m["current"].get<std::string>().c_str(), versions.c_str());
  }
  if (agent.is_object() && !agent["recent"].empty()) {
    std::printf("recent decisions:\n");
    for (const auto& r : agent["recent"]) {
      std::printf("  %s %-10s %s %s %s\n", r.value("time", "").c_str(), r.value("decision", "").c_str(),
                  r.value("name", "").c_str(), r.value("version", "").c_str(),
                  r.value("reason", "").c_str());
    }
  }
}

int RunStatus(const StatusArgs& args) {
  auto config = LoadConfigForCli(args.config);
  if (!config.ok()) {
    std::fprintf(stderr, "bundlegate status: %s\n", config.status().message().c_str());
    return kExitUsage;
  }
  const Json s = CollectStatus(*config);
  if (args.json) {
    std::cout << DumpJson(s, 2) << "\n";
  } else {
    PrintHuman(s);
  }
  return kExitOk;
}

}  // namespace

Command StatusCommand() {
  return {"status", "What the agent is doing, and what is served", [](CLI::App& sub) {
            auto args = std::make_shared<StatusArgs>();
            sub.add_option("--config", args->config, "Config file");
            sub.add_flag("--json", args->json, "Print as JSON");
            return [args] { return RunStatus(*args); };
          }};
}

}  // namespace bg::cli
