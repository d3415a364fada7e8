// How a plugin process is started, for --describe and for a bundle alike: its resource limits
// (the runner's own [[checks]] options), a clean environment and the whole sandbox
// (agent/sandbox/sandbox.h) as the config's [sandbox] table sets it.
//
// The environment is rebuilt, not inherited: PATH=/usr/local/bin:/usr/bin:/bin and only these
// from the agent's own environment, when set: LANG, LC_ALL, TZ, LD_LIBRARY_PATH (where an
// administrator's LibTorch may live), CUDA_VISIBLE_DEVICES; TMPDIR is the sandbox's private
// tmp. No credentials or tokens of the agent's environment reach a plugin.
//
// What a plugin sees of the filesystem: sandbox.read_paths, the directory of the plugin (and of
// its target when it is a symlink), the directory of a script's interpreter, LD_LIBRARY_PATH's
// directories, the bundle (read-only, at its own path), and its private tmp. The agent's root,
// inbox, serving, quarantine and audit log are never in it (the config refuses a read path that
// would contain them). Nor is the agent's config: its directory (/etc/bundlegate, with the
// signing keys and allowed_signers beside it) is masked inside read_paths, or the file alone
// where the directory is a read path itself or holds what plugins must see.
//
// Thread safety: plain functions and values.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/plugin/child_process.h"
#include "agent/sandbox/sandbox.h"

namespace bg {

struct PluginLimits {
  std::chrono::seconds timeout{300};  // timeout_s: wall clock; the process group is killed
  // memory_mb: the address-space limit (RLIMIT_AS) and, where a delegated cgroup exists, the
  // run's memory.max; 0: none. LibTorch maps far more address space than it touches (the CPU
  // build about 0.6 GiB before a model is loaded, glibc adds a 64 MiB malloc arena per thread),
  // hence a generous default.
  std::uint64_t memory_mb = 8192;
  std::uint64_t cpu_s = 0;           // cpu_s: RLIMIT_CPU; 0: none (the timeout still holds)
  std::uint64_t max_output_kb = 1024;  // max_output_kb: stdout beyond this kills the plugin
  std::uint64_t max_open_files = 1024;  // RLIMIT_NOFILE
  std::uint64_t tmpfs_mb = 64;       // tmpfs_mb: the size of the plugin's private tmp
  std::uint64_t pids_max = 512;      // pids_max: processes and threads (RLIMIT_NPROC, pids.max)
  sandbox::LayerSet require_isolation;  // require_isolation: added to sandbox.require_isolation
};

inline constexpr std::size_t kStderrTailBytes = 4096;

// The agent-wide part of a plugin's sandbox: the [sandbox] table and the paths to hide.
struct PluginSandbox {
  SandboxConfig config;
  std::vector<std::string> hidden_paths;  // the agent's root, inbox, serving, quarantine, audit log
  std::string config_file;                // the agent's config ("": none), masked in the view
};

// From the agent's config.
PluginSandbox PluginSandboxFor(const Config& config);
// From the built-in defaults (DefaultConfig(): plugin user resolved).
const PluginSandbox& DefaultPluginSandbox();

// Whether group `gid` belongs to the plugin user `uid` alone: no other account has it as its
// primary group, and it lists no member but that user. Where plugins run as a user of their
// own (the agent is root), work/ is opened to this group for the warm workers (work_area.h)
// only when it is: nobody's nogroup, say, is shared with other daemons.
bool PluginGroupIsExclusive(long uid, long gid);

// The plugin's environment ("NAME=value" strings), without TMPDIR.
std::vector<std::string> PluginEnvironment();

// A ChildRun for `path` with `args`, under `limits` and `sandbox`; `bundle_dir` (may be empty)
// is shown read-only and becomes the working directory. Only a run with a bundle enforces the
// required layers (a --describe touches no bundle).
ChildRun PluginChildRun(const std::string& path, const std::vector<std::string>& args,
                        const PluginLimits& limits, const std::string& bundle_dir,
                        const PluginSandbox& sandbox);

}  // namespace bg
