// How a plugin process is started, for --describe and for a bundle alike: its resource limits
// (the runner's own [[checks]] options), a clean environment and the sandbox of SpawnChild.
//
// The environment is rebuilt, not inherited: PATH=/usr/local/bin:/usr/bin:/bin and only these
// from the agent's own environment, when set: LANG, LC_ALL, TZ, TMPDIR, LD_LIBRARY_PATH (where
// an administrator's LibTorch may live), CUDA_VISIBLE_DEVICES. No credentials or tokens of the
// agent's environment reach a plugin.
//
// Thread safety: plain functions and values.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/plugin/child_process.h"

namespace bg {

struct PluginLimits {
  std::chrono::seconds timeout{300};  // timeout_s: wall clock; the process group is killed
  // memory_mb: the address-space limit (RLIMIT_AS); 0: none. LibTorch maps far more address
  // space than it touches (the CPU build about 0.6 GiB before a model is loaded, glibc adds a
  // 64 MiB malloc arena per thread), hence a generous default.
  std::uint64_t memory_mb = 8192;
  std::uint64_t cpu_s = 0;           // cpu_s: RLIMIT_CPU; 0: none (the timeout still holds)
  std::uint64_t max_output_kb = 1024;  // max_output_kb: stdout beyond this kills the plugin
  std::uint64_t max_open_files = 1024;  // RLIMIT_NOFILE
};

inline constexpr std::size_t kStderrTailBytes = 4096;

// The plugin's environment ("NAME=value" strings).
std::vector<std::string> PluginEnvironment();

// A ChildRun for `path` with `args`, under `limits`; `readonly_dir` (may be empty) is mounted
// read-only and becomes the working directory.
ChildRun PluginChildRun(const std::string& path, const std::vector<std::string>& args,
                        const PluginLimits& limits, const std::string& readonly_dir);

}  // namespace bg
