// Inside the sandbox library: the narrow interface every layer file implements, and the prepared
// state the child reads. Not for use outside agent/sandbox/.
//
// A layer is a LayerOps value defined in its own file (mount_layer.cpp...):
//   prepare   in the parent, before fork: computes what the child needs into Prepared (strings,
//             rule lists, a BPF program). May allocate and may block briefly. A layer that cannot
//             be had here (no Landlock, no delegated cgroup) records why in p.unavailable.
//   enter     phase 1, in A (outside the PID namespace), or null.
//   apply     phase 2, in B (PID 1 of the new namespace) or in A without one, or null.
//   describe  in the parent: the words for a result (why it was not applied, facts).
// The child hooks run after fork and before exec, in a single-threaded process of a possibly
// multi-threaded parent: async-signal-safe calls only, no allocation, no locks; they read
// Prepared and write their LayerResult in the Report. sandbox.cpp calls them in the order that
// sandbox.h documents, skipping a layer that is off or was found unavailable at prepare time
// (and, in phase 2, one that phase 1 could not apply).
#pragma once

#include <linux/filter.h>
#include <sys/resource.h>

#include <cstdint>
#include <string>
#include <vector>

#include "agent/sandbox/sandbox.h"

namespace bg::sandbox::internal {

// One step of building the mount view, relative to nothing: every path is complete.
struct MountOp {
  enum Kind : std::uint8_t {
    kTmpfs,       // mount a tmpfs at `target` with options `data`, then apply `attr`
    kMkdir,       // mkdir `target` (EEXIST is fine)
    kMkfile,      // create an empty file `target` as a mount point
    kSymlink,     // symlink `target` -> `source` (the link's text)
    kBindTree,    // bind `source` recursively at `target`, then apply `attr` recursively
    kBindFile,    // bind the single node `source` at `target`, then apply `attr`
    kProc,        // a new proc at `target` (falls back to a recursive bind of /proc), `attr`
  };
  Kind kind;
  std::string source;
  std::string target;
  std::string data;
  std::uint64_t attr = 0;  // MOUNT_ATTR_* to set
};

struct LandlockRule {
  std::string path;
  std::uint64_t access = 0;  // LANDLOCK_ACCESS_FS_*, before masking by the kernel's ABI
};

struct Prepared {
  Spec spec;
  pid_t preparer = 0;  // the process that prepared (and forks): the child's expected parent
  bool privileged = false;  // has CAP_SYS_ADMIN: namespaces without a user namespace
  std::string unavailable[kLayerCount];  // non-empty: the layer cannot be had, and why

  // user namespace and user layer
  std::string uid_map, gid_map;
  bool set_ids = false;  // the caller is root and takes spec.uid/gid
  uid_t target_uid = 0;
  gid_t target_gid = 0;
  int cap_last = 40;

  std::string spec_error;  // set by a prepare hook: the spec cannot be honoured at all

  // The view (view.cpp), shared by the mount and landlock layers: exec and data paths resolved
  // to real directories (symlinks on the way kept as symlinks), and the device nodes found.
  struct ViewPath {
    std::string path;
    bool data = false;  // read-only and noexec (the bundle); else readable and executable
  };
  std::vector<ViewPath> view;
  std::vector<std::pair<std::string, std::string>> view_links;  // path, the link's text
  std::vector<std::string> view_devices;
  struct Mask {
    std::string path;  // real path, strictly inside a view path
    bool dir = false;
  };
  std::vector<Mask> view_masks;

  // mount layer
  std::string run_dir;               // per run: the new root's mount point, or TMPDIR without one
  std::vector<MountOp> mount_ops;    // building the root at run_dir, in order

  // landlock layer: rules with the mount view, and without it (host paths)
  int landlock_abi = 0;
  std::vector<LandlockRule> landlock_in_view, landlock_on_host;

  // rlimit layer
  rlimit nofile{}, as{}, cpu{}, nproc{}, fsize{};
  bool limit_as = false, limit_cpu = false, limit_nproc = false;

  // seccomp layer
  std::vector<sock_filter> seccomp;

  // cgroup layer
  std::string cgroup_dir, cgroup_procs;
};

struct LayerOps {
  Layer layer;
  void (*prepare)(Prepared& p);
  void (*enter)(const Prepared& p, Report& r);
  void (*apply)(const Prepared& p, Report& r);
  void (*describe)(const Prepared& p, const Report& r, LayerOutcome& out);
};

extern const LayerOps kCgroupLayer;
extern const LayerOps kNetworkLayer;
extern const LayerOps kMountLayer;
extern const LayerOps kPidLayer;
extern const LayerOps kUserLayer;
extern const LayerOps kRlimitLayer;
extern const LayerOps kLandlockLayer;
extern const LayerOps kSeccompLayer;

// Steps that end the setup (Report::fatal_step).
enum FatalStep : std::int32_t {
  kFatalNone = 0,
  kFatalIdMaps,       // a user namespace's id maps could not be written
  kFatalDropIds,      // a root caller could not take the plugin uid
  kFatalParentGone,   // the parent died during setup
  kFatalFork,         // the PID namespace's fork failed
  kFatalMountPivot,   // the mount view failed after the root was switched
  kFatalRequired,     // a required layer was not applied (fatal_err: the Layer)
};

// Resolves spec.exec_paths, data_paths and devices into p.view* (view.cpp); sets spec_error
// when a path would expose the whole filesystem.
void ResolveView(Prepared& p);

// Phase 1's user namespace (user_namespace.cpp): entered when a namespace layer is asked for
// and the caller lacks CAP_SYS_ADMIN. Records Report::userns; false only on fatal failure.
bool EnterUserNamespace(const Prepared& p, Report& r);
// Whether the calling process has CAP_SYS_ADMIN in its user namespace (capget).
bool HasSysAdmin();

// ---- Child helpers: async-signal-safe. ----
inline void MarkApplied(LayerResult& res, std::int32_t info = 0) {
  res.state = LayerState::kApplied;
  res.info = info;
}
inline void MarkFailed(LayerResult& res, std::int32_t step, int err) {
  res.state = LayerState::kNotApplied;
  res.step = step;
  res.err = err;
}
inline void Fatal(Report& r, FatalStep step, int err) {
  if (r.fatal_step == kFatalNone) {
    r.fatal_step = step;
    r.fatal_err = err;
  }
}
// Writes `text` to the file at `path` in one write; false (errno set) on failure.
bool WriteWholeFile(const char* path, const char* text, std::size_t size);
// Closes every fd but `keep` (-1: none).
void CloseAllFdsExcept(int keep);

// ---- Parent helpers. ----
std::string ErrnoName(int err);  // "EPERM (Operation not permitted)"
std::string CanonicalPath(const std::string& path);  // realpath, or "" when it does not exist
bool PathWithin(const std::string& path, const std::string& dir);  // path == dir or below it

}  // namespace bg::sandbox::internal
