// `bundlegate check DIR [--config FILE] [--json]`: every check on one bundle, without moving it.
// Exit 0 when it would be promoted, 1 when rejected, 2 on usage or config errors.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "agent/checks/check_registry.h"
#include "agent/cli/command.h"
#include "agent/cli/config_loader.h"
#include "agent/core/json.h"
#include "agent/plugin/describe_cache.h"

namespace bg::cli {
namespace {

struct CheckArgs {
  std::string dir;
  std::string config;
  bool json = false;
};

void PrintHuman(const BundleReport& report) {
  std::printf("bundle %s\n", report.bundle_dir.c_str());
  if (report.manifest) {
    std::printf("  %s %s  commit %s  digest %s\n", report.manifest->name.c_str(),
                report.manifest->version.c_str(), report.manifest->source.commit.c_str(),
                report.digest.c_str());
  }
  for (const auto& r : report.results) {
    std::string line = r.summary;
    if (!r.reason.empty()) line = r.reason + ": " + line;
    std::printf("  %-5s %-14s %9.1f ms  %s\n", std::string(VerdictName(r.verdict)).c_str(),
                r.check.c_str(), r.duration_ms, line.c_str());
    if (r.details.contains("findings") && r.details["findings"].size() > 1) {
      for (const auto& f : r.details["findings"]) {
        std::printf("        - %s: %s%s\n", f.value("reason", "").c_str(),
                    f.contains("path") ? (f["path"].get<std::string>() + ": ").c_str() : "",
                    f.value("detail", "").c_str());
      }
    }
  }
  if (report.held) {
    std::printf("result: NOT CHECKED (the check could not read or run, not a verdict): %s\n",
                report.held_why.c_str());
  } else if (report.passed) {
    std::printf("result: PASS%s\n", report.already_served ? " (already served, identical)" : "");
  } else {
    std::printf("result: FAIL %s (%s)\n", report.reason.c_str(), report.message.c_str());
  }
}

int RunCheck(const CheckArgs& args) {
  std::error_code ec;
  if (!std::filesystem::is_directory(args.dir, ec)) {
    std::fprintf(stderr, "bundlegate check: %s is not a directory\n", args.dir.c_str());
    return kExitUsage;
  }
  auto config = LoadConfigForCli(args.config);
  if (!config.ok()) {
    std::fprintf(stderr, "bundlegate check: %s\n", config.status().message().c_str());
    return kExitUsage;
  }
  // Plugins' --describe answers are remembered across runs (describe_cache.h), and a plugin
  // not remembered is asked only when the bundle gets to its check.
  BuildOptions build;
  build.describes =
      std::make_shared<DescribeCache>(DescribeCacheFile(/*agent=*/false, config->paths.root));
  build.lazy_describe = true;
  auto pipeline = BuildPipeline(*config, build);
  if (!pipeline.ok()) {
    std::fprintf(stderr, "bundlegate check: %s\n", pipeline.status().message().c_str());
    return kExitUsage;
  }
  const std::string dir = std::filesystem::absolute(args.dir).lexically_normal().string();
  const BundleReport report =
      (*pipeline)->Run(dir, nullptr, static_cast<int>(config->workers));
  if (args.json) {
    std::cout << DumpJson(report.ToJson(), 2) << "\n";
  } else {
    PrintHuman(report);
  }
  // Not a verdict when the bundle could not be read (EACCES, EIO...): an environment error.
  if (report.held) return kExitUsage;
  return report.passed ? kExitOk : kExitFailed;
}

}  // namespace

Command CheckCommand() {
  return {"check", "Run every check on one bundle directory, without moving it",
          [](CLI::App& sub) {
            auto args = std::make_shared<CheckArgs>();
            sub.add_option("DIR", args->dir, "The bundle directory")->required();
            sub.add_option("--config", args->config, "Config file");
            sub.add_flag("--json", args->json, "Print the report as JSON");
            return [args] { return RunCheck(*args); };
          }};
}

}  // namespace bg::cli
