// RunRequestChild: one request of a warm worker (serve.h), checked in a fresh child forked from
// the worker, confined by the sandbox the agent sent for it.
//
// In the worker (single-threaded, so that the fork is safe), before the fork: the sandbox is
// prepared for RequestSpec(run, bundle_dir) (agent/sandbox/sandbox.h, "Two callers"): the cold
// run's spec with this bundle as its only data path. Then, in the child:
//   - SIGKILL when the worker dies (PR_SET_PDEATHSIG); its own process group; stdin is /dev/null; stdout and stderr go to a pipe of its own
//     (the worker keeps the last kStderrTailBytes for the agent); every other descriptor of the
//     worker is closed (the request stream, the response stream, anything a library opened);
//   - PreparedSandbox::Enter: the user, mount, PID and network namespaces, rlimits, Landlock and
//     seccomp of a cold run (the worker's cgroup holds all its children); the setup report goes
//     to the worker on a pipe; a failed required layer ends the child before the request is read;
//   - TMPDIR is the sandbox's private tmp, the working directory the bundle;
//   - only now is the request parsed and the check run; the result goes to its own pipe.
// The worker reads the result (at most max_output_bytes: one byte more kills the child's group,
// as a cold run's stdout limit does) and the stderr tail until the child exits or the deadline
// passes (then the whole group is killed), reaps it with wait4 (CPU time, peak RSS) and
// describes the setup report per layer.
//
// Thread safety: call from the worker's only thread.
#pragma once

#include <cstdint>
#include <string>

#include "agent/sandbox/sandbox.h"
#include "plugins/sdk/json.h"
#include "plugins/sdk/plugin_main.h"

namespace bg::sdk {

inline constexpr std::size_t kStderrTailBytes = 4096;

struct ChildRequest {
  const std::string* request = nullptr;  // the request text (wiped by the caller)
  sandbox::Spec run;                     // the cold run's spec, from the agent
  std::string bundle_dir;                // absolute: the only data path
  double timeout_ms = 600e3;
  std::uint64_t max_output_bytes = 1 << 20;
  int response_fd = -1;                  // the worker's response stream: closed in the child
};

struct ChildAnswer {
  // "result", "crashed", "timeout", "overflow", "sandbox-error" (the sandbox could not be
  // prepared or entered: `message` says why) or "refused" (the worker could not fork safely).
  std::string outcome;
  std::string message;
  std::string result;       // the child's result bytes (outcome "result")
  std::string stderr_tail;  // the child's last kStderrTailBytes of stdout and stderr
  int signal = 0;           // killed by
  int exit_code = -1;       // exited with
  double ms = 0, cpu_ms = 0;
  std::int64_t max_rss_kb = 0;
  Json isolation = Json::object();  // per layer, as the agent's details.runner.isolation
};

// Runs one request; `answer` is filled whatever happens.
void RunRequestChild(const PluginSpec& spec, const ChildRequest& req, ChildAnswer* answer);

// Overwrites a buffer's whole capacity with zeros and frees it.
void Wipe(std::string& s);

}  // namespace bg::sdk
