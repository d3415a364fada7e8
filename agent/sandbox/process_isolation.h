// What /proc says of a process's confinement, read from outside: for the agent to verify that a
// process it did not fork itself (a warm worker's child) is sandboxed before trusting its
// result, and for tests that check the sandbox from the agent's side.
//
// Thread safety: plain functions over /proc.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bg::sandbox {

struct ProcessIsolation {
  bool readable = false;        // /proc/<pid>/status could be read
  std::string name;             // Name:
  long uid = -1, euid = -1;     // Uid: real and effective, as the reader's namespace sees them
  int seccomp_mode = -1;        // Seccomp: 0 none, 1 strict, 2 filter
  bool no_new_privs = false;    // NoNewPrivs: 1
  std::uint64_t cap_eff = ~0ull, cap_prm = ~0ull, cap_inh = ~0ull, cap_bnd = ~0ull,
                cap_amb = ~0ull;
  // Whether each namespace differs from the reader's own (false also when it cannot be read:
  // /proc/<pid>/ns/* needs ptrace access, which a non-dumpable process denies).
  bool own_mnt = false, own_pid = false, own_net = false, own_user = false;
  bool ns_readable = false;

  // Seccomp filter, no_new_privs, no capabilities at all, not root.
  bool Confined() const;
};

ProcessIsolation ReadProcessIsolation(pid_t pid);

// The children of `pid` (from /proc/<pid>/task/*/children).
std::vector<pid_t> ChildrenOf(pid_t pid);

// The sandboxed payload under a sandbox's first process `first` (A): A's child B and B's child
// C where there is a PID namespace, else `first` itself. -1 when it cannot be found (yet).
pid_t FindSandboxPayload(pid_t first);

}  // namespace bg::sandbox
