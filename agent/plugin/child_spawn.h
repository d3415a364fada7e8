// SpawnChild: fork and exec one sandboxed child process, with pipes for its stdin, stdout and
// stderr. The only place in the agent that forks a plugin.
//
// The sandbox itself is agent/sandbox/ (sandbox.h: the layers, in order, and what each does);
// this file is its fork-exec caller. Before fork it prepares the sandbox for the request's
// sandbox::Spec (paths resolved, rules and filter built, the run's directory and cgroup made)
// and every string the child uses. The child, between fork and exec (async-signal-safe calls
// only, no allocation):
//   - leads its own session and process group (setsid: a timeout kills it with its
//     grandchildren; it has no controlling terminal and cannot join a process group of the
//     agent's session);
//   - gets SIGKILL when the forking thread dies (PR_SET_PDEATHSIG), and default signal
//     dispositions with an empty mask (SIG_IGN would otherwise survive exec);
//   - keeps only fds 0, 1 and 2 (and its setup-report pipe, closed by exec);
//   - enters the sandbox (PreparedSandbox::Enter), which may leave two small supervising
//     processes behind it (the PID layer) and fails closed when a required layer is missing;
//   - sets no_new_privs (in every case), enters `cwd`, and executes argv[0] (an absolute path)
//     with exactly `env` plus TMPDIR (the sandbox's private tmp, when the sandbox has a run
//     directory).
// Before exec it writes a binary setup report to the report pipe: each layer's outcome, or the
// step that failed; a failed exec adds a second record with its errno. Read it to EOF and decode
// it with DecodeSetupReport, before destroying the SpawnedChild's sandbox.
//
// Thread safety: SpawnChild may be called from several threads at once. It forks the calling
// thread; PR_SET_PDEATHSIG ties the child's life to that thread, so call it from a long-lived
// thread (the event loop's).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/json.h"
#include "agent/core/status.h"
#include "agent/core/unique_fd.h"
#include "agent/sandbox/sandbox.h"

namespace bg {

// A spawn's sandbox: layers rlimit and network only (open files 1024, no process limit), the
// plain confinement of a trusted helper. Plugins get the whole sandbox (plugin_launch.h).
sandbox::Spec MinimalSandbox();

struct SpawnRequest {
  std::vector<std::string> argv;  // argv[0]: the absolute path of the executable
  std::vector<std::string> env;   // "NAME=value", the child's whole environment (but TMPDIR)
  sandbox::Spec sandbox = MinimalSandbox();
  std::string cwd = "/";          // entered after the sandbox, so it sees the sandbox's view
};

// The parent's ends of a started child. The fds are close-on-exec.
struct SpawnedChild {
  pid_t pid = -1;  // also the child's process group id
  UniqueFd stdin_fd;   // write end
  UniqueFd stdout_fd;  // read end
  UniqueFd stderr_fd;  // read end
  UniqueFd report_fd;  // read end of the setup report (see DecodeSetupReport)
  // Owns the run's directory and cgroup: keep it until the child is reaped and its report read.
  std::unique_ptr<sandbox::PreparedSandbox> sandbox;
};

// Prepares the sandbox, forks and starts the child. Fails when the sandbox cannot be prepared
// (its message says why), or the pipes or the fork fail; a failed setup or exec is reported
// through the setup report, since it happens in the child.
Result<SpawnedChild> SpawnChild(const SpawnRequest& request);

// What the sandbox achieved for one child, as shown in a check's details.runner.isolation:
//   {"<layer>": {"applied": true|false, "why": "...", <facts>...}, ...}
// every layer, in sandbox.h's order, "why" present when there is something to say.
struct IsolationReport {
  std::vector<sandbox::LayerOutcome> layers;
  std::vector<std::string> notes;  // "<layer>: <why>" per layer asked for but not applied
  bool applied(sandbox::Layer layer) const;
  Json ToJson() const;
};

// Decodes the setup report read from report_fd, with the sandbox it was prepared from. Fails
// (naming the step and errno, or the required layer that was missing) when the child could not
// be set up or could not exec its program.
Result<IsolationReport> DecodeSetupReport(std::string_view bytes,
                                          const sandbox::PreparedSandbox& sandbox);

// Makes SIGPIPE ignored in this process when it has the default disposition (a plugin that
// exits without reading its stdin must not kill the agent). Idempotent. SpawnChild calls it.
void IgnoreSigpipeOnce();

}  // namespace bg
