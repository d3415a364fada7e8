// ServeRequests: the plugin half of a warm worker (issue 10, item 1): `--serve` keeps one
// process that has loaded the plugin's runtime (LibTorch mapped and initialised) and forks a
// fresh child for every request, so that the runtime's load cost is paid once while each check
// still runs in a process of its own that exits when it is done.
//
// The agent starts one (or up to [[checks]] `warm_workers`) per plugin whose --describe says
// "serve": true (agent/plugin/warm_worker.h), itself sandboxed under WarmWorkerSpec: the
// cold run's namespaces, user and rlimits, with the agent's work/ area as its only data path
// (read-only, noexec), without seccomp and Landlock (its children must still make
// namespaces).
//
// Protocol, on the worker's stdin and (real) stdout. Each frame is a JSON envelope line of at
// most kMaxEnvelopeBytes and, after it, exactly the payload bytes it announces:
//   worker -> agent, once at start:  {"serve": 1, "kind": K, "pid": P}
//   agent -> worker, per request:    {"id": N, "timeout_ms": T, "max_output_bytes": O,
//                                     "bundle_dir": D, "sandbox": S, "bytes": B}
//                                    + B bytes: the plugin request, as a cold run reads it
//   worker -> agent, per request:    {"id": N, "outcome": O, "bytes": B, "stderr_bytes": E,
//                                     "ms": M, "cpu_ms": C, "max_rss_kb": R, "signal": S,
//                                     "exit": X, "isolation": {...}, "message": "..."}
//                                    + B bytes (the child's result) + E bytes (its output tail)
// S is the sandbox the cold run of this bundle would get (agent/sandbox/spec_json.h); the
// worker prepares RequestSpec(S, D) and every request child enters it before it reads its
// request (request_child.h). O is "result" (B bytes of result JSON, unparsed by the worker:
// the agent validates it as it does a cold run's stdout), "crashed" (the child died by signal
// S, or exited X without a result), "timeout" (its group killed after T ms), "overflow" (more
// than O bytes of result: killed), "sandbox-error" (the sandbox could not be prepared or a
// required layer could not be had: `message`; the bundle's check is plugin-error, as a cold
// run's failed setup is) or "refused" (the worker cannot fork safely: it is not
// single-threaded, or lost a child's status; the agent runs the bundle cold and replaces the
// worker). A sandbox spec the worker cannot honour (an unknown key from a newer agent, say) is
// answered "sandbox-error", never run with less. An envelope whose id or size cannot be read,
// or end of stdin, ends the worker.
//
// A plugin in another language serves the same way: load the runtime, print the hello line,
// then per frame fork, and in the child enter the sandbox S before touching the request (the
// sandbox library is agent/sandbox, C++ with a libc-only dependency: a Python worker would
// bind it through a small extension), run the check and write the result to a pipe that the
// parent forwards. A worker that cannot confine its children must not declare "serve".
//
// What the child can and cannot reach (the attacker's view; the sandbox adds the rest):
//   - the request is parsed only in the child, and the result is forwarded as bytes, never
//     parsed: the worker's heap holds no bundle's data, and it wipes (explicit_bzero) each
//     request and result buffer once done, so a later child (a copy of the worker's memory)
//     cannot find an earlier bundle's request or result in it;
//   - the child closes every descriptor of the worker's before it enters the sandbox, so it
//     can neither read the next request nor forge a response; its only outputs are its own
//     result and output pipes, read by the worker up to their limits;
//   - the worker is not dumpable (PR_SET_DUMPABLE 0); a child runs in its own process group,
//     user, PID and mount namespace, killed whole on a timeout; whatever it leaks dies with
//     it; the worker's memory is copy-on-write.
//
// Thread safety: call once, from main, in a single-threaded process.
#pragma once

#include <functional>

#include "plugins/sdk/plugin_main.h"

namespace bg::sdk {

// Serves until end of stdin; the exit status for main. `response_fd` is the real stdout
// (ResultChannel has moved descriptor 1 to stderr).
inline constexpr std::size_t kMaxEnvelopeBytes = 64 * 1024;

int ServeRequests(const PluginSpec& spec, int response_fd);

}  // namespace bg::sdk
