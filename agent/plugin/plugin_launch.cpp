#include "agent/plugin/plugin_launch.h"

#include <cstdlib>

namespace bg {

std::vector<std::string> PluginEnvironment() {
  std::vector<std::string> env{"PATH=/usr/local/bin:/usr/bin:/bin"};
  for (const char* name :
       {"LANG", "LC_ALL", "TZ", "TMPDIR", "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES"}) {
    if (const char* value = std::getenv(name); value != nullptr) {
      env.push_back(std::string(name) + "=" + value);
    }
  }
  return env;
}

ChildRun PluginChildRun(const std::string& path, const std::vector<std::string>& args,
                        const PluginLimits& limits, const std::string& readonly_dir) {
  ChildRun run;
  run.spawn.argv = {path};
  run.spawn.argv.insert(run.spawn.argv.end(), args.begin(), args.end());
  run.spawn.env = PluginEnvironment();
  SandboxSpec& s = run.spawn.sandbox;
  s.memory_bytes = limits.memory_mb << 20;
  s.cpu_seconds = limits.cpu_s;
  s.max_open_files = limits.max_open_files;
  s.isolate_network = true;
  s.readonly_dir = readonly_dir;
  s.cwd = readonly_dir.empty() ? "/" : readonly_dir;
  run.timeout = limits.timeout;
  run.max_stdout_bytes = static_cast<std::size_t>(limits.max_output_kb) << 10;
  run.stderr_tail_bytes = kStderrTailBytes;
  return run;
}

}  // namespace bg
