// SpawnChild: fork and exec one sandboxed child process, with pipes for its stdin, stdout and
// stderr. The only place in the agent that forks a plugin.
//
// The child, between fork and exec (async-signal-safe calls only; everything it needs is
// prepared before fork):
//   - leads its own session and process group (setsid: a timeout kills it with its
//     grandchildren; it has no controlling terminal and cannot join a process group of the
//     agent's session);
//   - gets SIGKILL when the forking thread dies (PR_SET_PDEATHSIG), and default signal
//     dispositions with an empty mask (SIG_IGN would otherwise survive exec);
//   - enters a new network namespace (no interface but a downed loopback: no network at all)
//     and, when `readonly_dir` is set, a new mount namespace in which that directory is
//     bind-mounted read-only onto itself. Privileged agents do this directly; unprivileged ones
//     through a user namespace (mapping only their own uid and gid). Where neither is allowed
//     (a container without user namespaces, a seccomp filter) the child runs without that
//     isolation and says so in its setup report: isolation degrades, running does not;
//   - gets rlimits (address space, CPU seconds, open files, no core dumps) and no_new_privs;
//   - keeps only fds 0, 1 and 2 (and its setup-report pipe, closed by exec);
//   - executes argv[0] (an absolute path) with exactly `env`, in `cwd`.
// Before exec it writes a binary setup report to the report pipe: which isolation steps took
// hold and why the others did not; a failed exec adds a second record with its errno. Read it to
// EOF and decode it with DecodeSetupReport.
//
// Thread safety: SpawnChild may be called from several threads at once. It forks the calling
// thread; PR_SET_PDEATHSIG ties the child's life to that thread, so call it from a long-lived
// thread (the event loop's).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/json.h"
#include "agent/core/status.h"
#include "agent/core/unique_fd.h"

namespace bg {

struct SandboxSpec {
  std::uint64_t memory_bytes = 0;     // RLIMIT_AS; 0: not limited
  std::uint64_t cpu_seconds = 0;      // RLIMIT_CPU (soft; hard = soft + 5 s); 0: not limited
  std::uint64_t max_open_files = 1024;  // RLIMIT_NOFILE
  bool isolate_network = true;        // a new network namespace, where the kernel permits
  std::string readonly_dir;           // bind-mounted read-only in a new mount namespace; "" none
  std::string cwd = "/";              // entered after the mount, so it sees the read-only view
};

struct SpawnRequest {
  std::vector<std::string> argv;  // argv[0]: the absolute path of the executable
  std::vector<std::string> env;   // "NAME=value", the child's whole environment
  SandboxSpec sandbox;
};

// The parent's ends of a started child. The fds are close-on-exec.
struct SpawnedChild {
  pid_t pid = -1;  // also the child's process group id
  UniqueFd stdin_fd;   // write end
  UniqueFd stdout_fd;  // read end
  UniqueFd stderr_fd;  // read end
  UniqueFd report_fd;  // read end of the setup report (see DecodeSetupReport)
};

// Forks and starts the child. Fails only when the pipes or the fork fail; a failed exec is
// reported through the setup report, since it happens in the child.
Result<SpawnedChild> SpawnChild(const SpawnRequest& request);

// What the sandbox achieved for one child, as shown in a check's details.
struct IsolationReport {
  bool network = false;          // in its own network namespace
  bool readonly_dir = false;     // the directory was mounted read-only
  bool user_namespace = false;   // isolation went through a user namespace (unprivileged agent)
  std::vector<std::string> notes;  // one line per isolation step that did not take hold
  Json ToJson() const;
};

// Decodes the setup report read from report_fd. Fails (naming the step and errno) when the
// child could not be set up or could not exec its program.
Result<IsolationReport> DecodeSetupReport(std::string_view bytes, const SandboxSpec& sandbox);

// Makes SIGPIPE ignored in this process when it has the default disposition (a plugin that
// exits without reading its stdin must not kill the agent). Idempotent. SpawnChild calls it.
void IgnoreSigpipeOnce();

}  // namespace bg
