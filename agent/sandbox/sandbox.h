// The plugin sandbox: what a process that runs untrusted input (a plugin checking a bundle) is
// confined to, as a list of layers, one file each, applied in this order.
//
// Phase 1, in the process the caller forked ("A"; it stays outside the PID namespace):
//   cgroup    cgroup_layer.cpp    joins the run's own cgroup v2 (memory.max, pids.max,
//                                 memory.oom.group) under a delegated parent, where one exists
//   (user namespace)  not a layer: where the caller lacks CAP_SYS_ADMIN, a user namespace that
//                     maps only its own uid and gid, so that the namespaces below need no
//                     privilege (user_namespace.cpp)
//   network   network_layer.cpp   a network namespace: no interface but a downed loopback
//   mount     mount_layer.cpp     a mount namespace (its view is built in phase 2)
//   pid       pid_layer.cpp       a PID namespace; A forks its first process ("B", PID 1) and
//                                 waits, relaying B's exit status (or the payload's) as its own
// Phase 2, in B (or still in A where there is no PID namespace):
//   mount     the view: a read-only tmpfs root holding only the exec paths (system directories,
//             the program's directory; read-only), the data paths (the bundle; read-only,
//             noexec, at its own path), a minimal /dev (null, zero, full, random, urandom and
//             the configured devices), a fresh /proc of the new PID namespace (read-only), and a
//             private size-limited tmpfs at /tmp (also /dev/shm): the only writable place. The
//             agent's root, inbox, serving, quarantine and audit log are not in it at all.
//   user      the plugin's own unprivileged uid where the caller is root (setresuid), no
//             capabilities (bounding, ambient, effective, permitted, inheritable), no_new_privs
//   rlimit    core 0, open files, address space, CPU seconds, processes; file size where there
//             is no private tmpfs
//   landlock  landlock_layer.cpp: the same view as rules (ABI 1+: filesystem; 4+: no TCP bind
//             or connect; 6+: no signals or abstract unix sockets beyond the sandbox), so that a
//             kernel without user namespaces still confines the filesystem
//   seccomp   seccomp_layer.cpp: a raw-BPF deny list (ptrace, process_vm_*, mount family,
//             keyctl, bpf, perf_event_open, userfaultfd, kexec, modules, io_uring, new
//             namespaces, setns, sockets other than AF_UNIX, ...), architecture checked
//   pid       B forks the payload ("C", PID 2) and stays as the namespace's init, reaping; when
//             C exits, B exits and the kernel kills everything left in the namespace (a setsid
//             grandchild included). Killing A's process group (the caller's timeout) kills B,
//             which takes the namespace with it; B dies with A (PR_SET_PDEATHSIG).
// A layer that is not asked for is "off"; one the kernel or the host refuses is "not applied",
// with the reason; the run goes on without it unless Spec::required lists it (then setup fails
// closed before the payload runs). A few failures are always fatal: unmapped ids in a user
// namespace, a root caller that cannot drop to the plugin uid, a failed fork.
//
// How to use it. In the parent (may allocate, may block briefly):
//   auto sandbox = PreparedSandbox::Prepare(spec, &error);        // per run
// then fork(), and in the child (async-signal-safe from here on: no allocation, which makes it
// safe to fork from a multi-threaded parent):
//   Report report{};
//   if (!sandbox->Enter(&report)) { <write report to the parent>; _exit(127); }
//   <payload>   // the agent: chdir, write the report, execve (rlimit, user... all inherited)
// Enter returns in the payload process only; the supervising processes (A and B) never return
// from it: they close every fd they inherited but their own link and exit with the payload's
// status. Close what the payload must not keep before calling Enter. Back in the parent, once
// the child is reaped, Describe(report) says per layer what was applied and why not; destroying
// the PreparedSandbox removes the run's temporary directory and cgroup.
//
// Two callers:
//   (a) the agent's fork-exec path (agent/plugin/child_spawn.cpp): fork, stdio, Enter, execve.
//   (b) a warm worker (agent/plugin/warm_worker.h starts it, plugins/sdk/request_child.cpp is its
//       side): a long-lived plugin process that has loaded its runtime once and serves several
//       checks, each in a fresh child forked from it (a zygote):
//         agent:  run = the per-run Spec, as for a cold run, without data paths;
//                 spawn the worker under WarmWorkerSpec(run, <the work/ area>) (path (a));
//         worker: per request naming a bundle under that area, single-threaded:
//                   auto s = PreparedSandbox::Prepare(RequestSpec(run, bundle_dir), &error);
//                   fork(); child: s->Enter(&report), then open the bundle, check, _exit;
//                   parent: reads the child's report, enforces the request's timeout by
//                   killing the child's process group, reaps it, destroys `s`.
//       What the worker keeps: the network, mount (the whole work/ area read-only and noexec,
//       nothing else of the agent's root; its /proc read-write, for its children's id maps), pid, user (no capabilities, no_new_privs, plugin_user
//       where the agent is root), rlimit and cgroup layers of a cold run. What it lacks: seccomp
//       and Landlock, because its children must still make namespaces and mounts; the worker is
//       the plugin's own trusted code and must not touch a bundle itself (parsing or loading a
//       model happens only in a request child). What a request child gets: every layer of a cold
//       run, nested in the worker's (its own user, mount, PID and network namespaces, its bundle
//       alone at its own path, its own tmpfs, seccomp, Landlock, its own rlimits), except the
//       cgroup (the worker cannot create cgroups from inside its view: the worker's cgroup holds
//       every request, so memory.max and pids.max bound all requests together) and except that
//       a bundle the worker was handed before is not hidden from the worker itself. A request
//       child sees no other bundle, cannot signal or ptrace the worker or a sibling (PID
//       namespace, seccomp), and everything it starts dies with it. Every request child is
//       in the worker's PID namespace, so it dies with the worker, and the worker with its runner.
//       The worker must be single-threaded when it forks (no intra-op threads before the fork;
//       a LibTorch loaded in the worker may start its pool only in the child), so that Enter's
//       fork-safety holds, and it must close what a child must not keep (other requests' pipes)
//       before Enter. Spec holds only strings and numbers: the agent sends `run` to the worker
//       as it likes (the paths are the same in the worker's mount namespace).
// From outside, ReadProcessIsolation(pid) (process_isolation.h) reads what /proc says of a
// process (Seccomp, NoNewPrivs, CapEff/CapPrm/CapBnd, Uid, its namespaces against the caller's),
// and FindSandboxPayload(a_pid) finds C under A, so that the agent can verify a worker's child.
//
// Depends only on libc and kernel headers (plus the C++ standard library in the parent-side
// code), so that the plugins' standalone CMake can build it too.
//
// Thread safety: Prepare and Describe may run on any thread; a PreparedSandbox is used by one
// run. Enter is for a freshly forked, single-threaded child.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bg::sandbox {

enum class Layer : std::uint8_t {
  kCgroup = 0,
  kNetwork,
  kMount,
  kPid,
  kUser,
  kRlimit,
  kLandlock,
  kSeccomp,
};
inline constexpr int kLayerCount = 8;

// "cgroup", "network", "mount", "pid", "user", "rlimit", "landlock", "seccomp".
const char* LayerName(Layer layer);
// False for an unknown name.
bool ParseLayerName(std::string_view name, Layer* out);

class LayerSet {
 public:
  constexpr LayerSet() = default;
  static constexpr LayerSet All() { return LayerSet((1u << kLayerCount) - 1); }
  static LayerSet Of(std::initializer_list<Layer> layers) {
    LayerSet s;
    for (Layer l : layers) s.Add(l);
    return s;
  }
  constexpr bool Has(Layer l) const { return (bits_ >> static_cast<int>(l)) & 1u; }
  void Add(Layer l) { bits_ |= 1u << static_cast<int>(l); }
  void Remove(Layer l) { bits_ &= ~(1u << static_cast<int>(l)); }
  LayerSet operator|(LayerSet o) const { return LayerSet(bits_ | o.bits_); }
  bool empty() const { return bits_ == 0; }
  bool operator==(const LayerSet& o) const { return bits_ == o.bits_; }
  std::vector<std::string> Names() const;

 private:
  constexpr explicit LayerSet(std::uint32_t bits) : bits_(bits) {}
  std::uint32_t bits_ = 0;
};

// What a run asks for. Paths are absolute.
struct Spec {
  LayerSet layers = LayerSet::All();  // attempted
  LayerSet required;                  // without one of these, setup fails closed

  // The filesystem view (mount and landlock layers).
  std::vector<std::string> exec_paths;    // readable and executable (system dirs, the program's)
  std::vector<std::string> data_paths;    // readable only, noexec (the bundle), at their own path
  std::vector<std::string> devices;       // extra device nodes, readable and writable (GPUs)
  std::vector<std::string> hidden_paths;  // must stay invisible: Prepare refuses a view that
                                          // would contain one (the agent's root, audit log...)
  // Inside an exec path but never shown (the agent's config directory and keys under /etc):
  // the mount layer covers each with an empty read-only directory (a file with an unopenable
  // node), and Landlock grants the exec path entry by entry around it, so that a kernel
  // without the mount layer hides it too. One that does not exist or lies outside the view is
  // ignored; one that would hide a path of the view is refused by Prepare.
  std::vector<std::string> masked_paths;
  std::uint64_t tmp_bytes = 64ull << 20;  // the private tmpfs
  // The view's own /proc read-write (a warm worker's, whose request children write their user
  // namespaces' id maps there); else read-only. Without capabilities nothing in /proc/sys or
  // of another user is writable either way.
  bool proc_writable = false;
  std::string run_dir_parent;             // where the per-run directory goes; "": $TMPDIR, /tmp

  // user: the identity to take where the caller is root (plugin_user); -1: none configured.
  long uid = -1;
  long gid = -1;

  // rlimit (0: not limited, except open_files)
  std::uint64_t address_space_bytes = 0;
  std::uint64_t cpu_seconds = 0;
  std::uint64_t open_files = 1024;
  std::uint64_t processes = 512;  // RLIMIT_NPROC, and pids.max of the cgroup

  // cgroup: a delegated cgroup v2 directory to create the run's cgroup in (DelegatedCgroup()).
  std::string cgroup_parent;
  std::string cgroup_unavailable;  // why there is none, for the report
  std::uint64_t memory_bytes = 0;  // memory.max; 0: not limited
};

enum class LayerState : std::int32_t { kOff = 0, kApplied = 1, kNotApplied = 2 };

// One layer's outcome in the child. `step` and `err` (an errno) say where it failed; `info` is
// layer-specific (the Landlock ABI, how /proc was provided...).
struct LayerResult {
  LayerState state;
  std::int32_t step;
  std::int32_t err;
  std::int32_t info;
};

// The sandbox's own record of one setup, filled in the child as it goes and copied across its
// forks. Plain data, small enough for one atomic pipe write.
struct Report {
  LayerResult layers[kLayerCount];
  std::int32_t fatal_step;   // 0: none; else a FatalStep (sandbox.cpp)
  std::int32_t fatal_err;    // errno, or the missing required layer for kFatalRequired
  std::int32_t userns;       // 1: in a user namespace of its own; 0: not needed; -1: refused
  std::int32_t userns_err;   // why a user namespace was refused
  std::int32_t uid;          // the payload's uid as the caller sees it
  std::int32_t reserved;

  const LayerResult& of(Layer l) const { return layers[static_cast<int>(l)]; }
  LayerResult& of(Layer l) { return layers[static_cast<int>(l)]; }
  bool applied(Layer l) const { return of(l).state == LayerState::kApplied; }
};

// A layer's outcome in words, for a check's details.
struct LayerOutcome {
  Layer layer;
  std::string name;
  LayerState state = LayerState::kOff;
  std::string why;  // why not applied, or a note on how it was (may be empty)
  std::vector<std::pair<std::string, std::string>> facts;  // e.g. {"abi", "7"}, {"uid", "65534"}
};

namespace internal {
struct Prepared;
}

class PreparedSandbox {
 public:
  // Everything the child needs, computed now: paths resolved, the mount operations, Landlock
  // rules and the seccomp program built, the run directory (and cgroup) created. Null with
  // `*error` set when the spec cannot be honoured at all (a hidden path inside the view, a bad
  // path); unavailable layers are not errors (they are reported by Describe).
  static std::unique_ptr<PreparedSandbox> Prepare(const Spec& spec, std::string* error);
  ~PreparedSandbox();  // removes the run directory and the run's cgroup
  PreparedSandbox(const PreparedSandbox&) = delete;
  PreparedSandbox& operator=(const PreparedSandbox&) = delete;

  // In the forked child; see the top of this file. Async-signal-safe.
  bool Enter(Report* report) const;

  // TMPDIR for the payload: "/tmp" when the mount layer was applied, else the run directory.
  const char* TmpDir(const Report& report) const;
  const std::string& run_dir() const;

  // Per layer, in Layer order.
  std::vector<LayerOutcome> Describe(const Report& report) const;
  // What a fatal report means ("" when report.fatal_step is 0).
  std::string DescribeFatal(const Report& report) const;

 private:
  explicit PreparedSandbox(std::unique_ptr<internal::Prepared> p);
  std::unique_ptr<internal::Prepared> p_;
};

// A warm worker's own spec (see "Two callers" above): `run` without seccomp and Landlock (asked
// for or required) and without a CPU-time limit (its requests have theirs), showing
// `readable_root` (the agent's work/ area) read-only and noexec as its only data path.
Spec WarmWorkerSpec(const Spec& run, const std::string& readable_root);
// The spec of one request child of a warm worker: `run` with `bundle_dir` (inside the worker's
// readable root) as its only data path, and no cgroup of its own (the worker's holds it).
Spec RequestSpec(const Spec& run, const std::string& bundle_dir);

// The delegated cgroup v2 directory under which runs get their own cgroup, set up once per
// process: `mode` "auto" (this process's own cgroup, when it is delegated to us: writable, with
// the memory and pids controllers; the process then moves itself into a leaf "<dir>/agent" and
// enables both controllers for the runs' cgroups), "off", or the path of a directory prepared
// by an administrator. `*why` says why there is none when the result is "".
std::string DelegatedCgroup(const std::string& mode, std::string* why);

// The Landlock ABI of the running kernel (0: none; the error in *err).
int LandlockAbi(int* err = nullptr);

}  // namespace bg::sandbox
