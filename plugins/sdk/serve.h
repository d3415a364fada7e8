// ServeRequests: the plugin half of a warm worker (issue 10, item 1): `--serve` keeps one
// process that has loaded the plugin's runtime (LibTorch mapped and initialised) and forks a
// fresh child for every request, so that the runtime's load cost is paid once while each check
// still runs in a process of its own that exits when it is done.
//
// STATUS: the plugin half only. The agent does not start workers yet (no "serve" in
// --describe, nothing in agent/plugin/ speaks this protocol), and the child does not yet enter
// the per-run sandbox (agent/sandbox/ on the sandbox branch: PreparedSandbox::Enter is where
// the marked line in serve.cpp goes). Until both exist this mode is for measuring what a warm
// worker saves (scripts/bench/warm_worker_bench.py), not for checking untrusted bundles.
//
// Protocol, on the worker's stdin and (real) stdout. Each frame is a JSON envelope line and,
// after it, exactly "bytes" bytes of payload:
//   worker -> agent, once at start:  {"serve": 1, "kind": K, "pid": P}
//   agent -> worker, per request:    {"id": N, "timeout_ms": T, "bytes": B} + a plugin request
//   worker -> agent, per request:    {"id": N, "outcome": O, "bytes": B, "ms": M,
//                                     "signal": S, "exit": E} + the child's result (B bytes)
// O is "result" (the payload is the check's result JSON, unparsed by the worker: the agent
// validates it as it does a cold run's stdout), "crashed" (the child died by signal S, or
// exited E without a result), "timeout" (killed after T ms, its whole process group), or
// "refused" (the worker cannot fork safely: it is not single-threaded; the agent should fall
// back to a cold run and replace the worker). A malformed envelope, or end of stdin, ends the
// worker. A plugin in another language serves the same way: load the runtime, print the hello
// line, then per frame fork, and in the child run the check and write the result to a pipe
// that the parent forwards.
//
// What the child can and cannot reach (the attacker's view; the sandbox adds the rest):
//   - the request is parsed only in the child, and the result is forwarded as bytes, never
//     parsed: the worker's heap holds no bundle's data, and it wipes (explicit_bzero) each
//     request and result buffer once done, so a later child (a copy of the worker's memory)
//     cannot find an earlier bundle's request or result in it;
//   - the child closes the worker's stdin and the response channel before it runs the check,
//     so it can neither read the next request nor forge a response; its only output is its own
//     result pipe, read by the worker up to kMaxRequestBytes;
//   - the worker is not dumpable (PR_SET_DUMPABLE 0): a child of the same uid cannot ptrace it
//     or write /proc/<worker>/mem; a child runs in its own process group, killed whole on a
//     timeout; whatever it leaks dies with it; the worker's memory is copy-on-write.
//
// Thread safety: call once, from main, in a single-threaded process.
#pragma once

#include <functional>

#include "plugins/sdk/plugin_main.h"

namespace bg::sdk {

// Serves until end of stdin; the exit status for main. `response_fd` is the real stdout
// (ResultChannel has moved descriptor 1 to stderr).
int ServeRequests(const PluginSpec& spec, int response_fd);

}  // namespace bg::sdk
