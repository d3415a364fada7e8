// A [[checks]] entry whose kind is not built in: the plugin bundlegate-check-<kind> (SPEC.md
// "Plugins"), run per bundle as a sandboxed child process driven from the event loop: a cold
// run (fork, exec, one request), or, for a plugin whose --describe says "serve": true and where
// the agent keeps warm workers (CheckBuildContext::warm_workers), a request to a warm worker
// (worker_pool.h) whose fresh child is confined by the very sandbox spec a cold run of the
// bundle would get; whatever the warm path cannot do for a bundle, it runs cold (noted in
// details.runner.notes).
//
// The runner's own options in the [[checks]] table (see plugin_launch.h for their meaning):
//   timeout_s (default 300), memory_mb (8192; 0: none), cpu_s (0: none), max_output_kb (1024),
//   tmpfs_mb, pids_max, require_isolation; warm (true), warm_workers (0: the agent's
//   `workers`), warm_idle_s (600).
// Every other key (but `kind`) goes to the plugin, as JSON, in the request's "config".
//
// At build time the plugin is found (a config error naming the kind and the directories
// searched when absent) and described once (--describe: protocol 1 and the same kind, else a
// config error), through ctx.describes, which may remember the answer from an earlier run
// (describe_cache.h). With ctx.lazy_describe (bundlegate check) a plugin whose answer is not
// remembered is described when the first bundle gets to it instead, and a failure then is the
// check's `error` (plugin-error). Per bundle: a plugin whose description lists model_formats skips a bundle of
// another format; otherwise it gets on stdin
//   {"protocol": 1, "bundle_dir": "<absolute path>", "manifest": {...}, "config": {...}}
// with the bundle mounted read-only where the kernel permits, and its result (or its failure)
// becomes the check's result (plugin_result.h). For a bundle with inference.device = "cuda" the
// address-space limit is not applied (the CUDA driver reserves address space far beyond any
// sensible memory_mb); details.runner.notes says so.
//
// Isolation that the kernel refuses is noted in every result's details.runner.isolation and
// logged once per process on stderr.
//
// Thread safety: a built check is immutable; RunAsync may run for several bundles at once.
#pragma once

#include <memory>
#include <string>

#include "agent/checks/check.h"
#include "agent/checks/check_registry.h"
#include "agent/toml/table_reader.h"

namespace bg {

// Builds the plugin check for `kind`; on error reports through options.Fail() and returns null.
std::unique_ptr<Check> MakePluginCheck(const std::string& kind, TableReader& options,
                                       const CheckBuildContext& ctx);

}  // namespace bg
