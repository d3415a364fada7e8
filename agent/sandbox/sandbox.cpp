// The order of the layers (sandbox.h) and what ties them together: preparing each, running
// their child hooks phase by phase, the fail-closed check of required layers, and the report.
#include "agent/sandbox/sandbox.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "agent/sandbox/layer.h"
#include "agent/sandbox/run_dir.h"

namespace bg::sandbox {
namespace internal {
namespace {

constexpr std::int32_t kStepPending = -1;  // asked for, available, not reached yet

// Every layer, in Layer order (for prepare and describe).
const LayerOps* const kAllLayers[kLayerCount] = {
    &kCgroupLayer, &kNetworkLayer, &kMountLayer,    &kPidLayer,
    &kUserLayer,   &kRlimitLayer,  &kLandlockLayer, &kSeccompLayer,
};

// The order of application (sandbox.h). The user namespace comes between cgroup and network.
const LayerOps* const kPhase1[] = {&kCgroupLayer, &kNetworkLayer, &kMountLayer, &kPidLayer};
const LayerOps* const kPhase2[] = {&kMountLayer,    &kUserLayer,    &kRlimitLayer,
                                   &kLandlockLayer, &kSeccompLayer, &kPidLayer};
// The order in which reports list them.
const Layer kReportOrder[kLayerCount] = {
    Layer::kMount,  Layer::kLandlock, Layer::kPid,    Layer::kSeccomp,
    Layer::kUser,   Layer::kCgroup,   Layer::kNetwork, Layer::kRlimit,
};

bool Pending(const LayerResult& res) {
  return res.state == LayerState::kNotApplied && res.step == kStepPending;
}

bool NeedsNamespaces(const Report& r) {
  for (Layer l : {Layer::kNetwork, Layer::kMount, Layer::kPid}) {
    if (Pending(r.of(l))) return true;
  }
  return false;
}

void RunPhase1(const LayerOps& ops, const Prepared& p, Report& r) {
  if (ops.enter != nullptr && Pending(r.of(ops.layer))) ops.enter(p, r);
}

void RunPhase2(const LayerOps& ops, const Prepared& p, Report& r) {
  if (ops.apply == nullptr) return;
  const LayerResult& res = r.of(ops.layer);
  // A two-phase layer goes on only if phase 1 applied it; a phase-2 layer only if pending.
  const bool go = ops.enter != nullptr ? res.state == LayerState::kApplied : Pending(res);
  if (go) ops.apply(p, r);
}

std::string FatalText(const Report& r) {
  const std::string err = ErrnoName(r.fatal_err);
  switch (r.fatal_step) {
    case kFatalIdMaps: return "writing the user namespace's id maps: " + err;
    case kFatalDropIds: return "taking the plugin user's uid and gid: " + err;
    case kFatalParentGone: return "the parent died during sandbox setup";
    case kFatalFork: return "forking inside the PID namespace: " + err;
    case kFatalMountPivot: return "finishing the mount view after switching root: " + err;
    default: return "sandbox setup failed (step " + std::to_string(r.fatal_step) + "): " + err;
  }
}

}  // namespace

bool WriteWholeFile(const char* path, const char* text, std::size_t size) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t n = ::write(fd, text, size);
  const int err = errno;
  ::close(fd);
  errno = err;
  return n == static_cast<ssize_t>(size);
}

void CloseAllFdsExcept(int keep) {
  if (keep < 0) {
    if (::syscall(SYS_close_range, 0u, ~0u, 0u) == 0) return;
  } else {
    bool ok = keep == 0 || ::syscall(SYS_close_range, 0u, static_cast<unsigned>(keep - 1), 0u) == 0;
    ok = ok && ::syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u) == 0;
    if (ok) return;
  }
  for (int fd = 0; fd < 65536; ++fd) {
    if (fd != keep) ::close(fd);
  }
}

std::string ErrnoName(int err) {
  if (err == 0) return "no error";
  const char* name = ::strerrorname_np(err);
  const char* text = ::strerrordesc_np(err);
  std::string out = name ? name : "errno " + std::to_string(err);
  if (text) out += std::string(" (") + text + ")";
  return out;
}

std::string CanonicalPath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return "";
  return buf;
}

bool PathWithin(const std::string& path, const std::string& dir) {
  if (dir == "/") return !path.empty() && path[0] == '/';
  if (path.size() < dir.size() || path.compare(0, dir.size(), dir) != 0) return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}

}  // namespace internal

using namespace internal;

const char* LayerName(Layer layer) {
  switch (layer) {
    case Layer::kCgroup: return "cgroup";
    case Layer::kNetwork: return "network";
    case Layer::kMount: return "mount";
    case Layer::kPid: return "pid";
    case Layer::kUser: return "user";
    case Layer::kRlimit: return "rlimit";
    case Layer::kLandlock: return "landlock";
    case Layer::kSeccomp: return "seccomp";
  }
  return "?";
}

bool ParseLayerName(std::string_view name, Layer* out) {
  for (int i = 0; i < kLayerCount; ++i) {
    const auto layer = static_cast<Layer>(i);
    if (name == LayerName(layer)) {
      *out = layer;
      return true;
    }
  }
  return false;
}

std::vector<std::string> LayerSet::Names() const {
  std::vector<std::string> names;
  for (Layer l : kReportOrder) {
    if (Has(l)) names.emplace_back(LayerName(l));
  }
  return names;
}

Spec WarmWorkerSpec(const Spec& run, const std::string& readable_root) {
  Spec s = run;
  for (Layer l : {Layer::kSeccomp, Layer::kLandlock}) {
    s.layers.Remove(l);
    s.required.Remove(l);
  }
  s.data_paths = {readable_root};
  s.proc_writable = true;
  // CPU time is a per-request limit (RequestSpec keeps it): the worker's own would add up over
  // its requests until some later, innocent one is killed by it.
  s.cpu_seconds = 0;
  return s;
}

Spec RequestSpec(const Spec& run, const std::string& bundle_dir) {
  Spec s = run;
  s.data_paths = {bundle_dir};
  s.proc_writable = false;
  s.cgroup_parent.clear();
  s.cgroup_unavailable = "inside a warm worker: the worker's own cgroup holds every request";
  s.required.Remove(Layer::kCgroup);
  s.run_dir_parent.clear();
  return s;
}

PreparedSandbox::PreparedSandbox(std::unique_ptr<Prepared> p) : p_(std::move(p)) {}

PreparedSandbox::~PreparedSandbox() {
  if (!p_->cgroup_dir.empty()) RemoveRunCgroup(p_->cgroup_dir);
  if (!p_->run_dir.empty()) RemoveRunDir(p_->run_dir);
}

std::unique_ptr<PreparedSandbox> PreparedSandbox::Prepare(const Spec& spec, std::string* error) {
  auto p = std::make_unique<Prepared>();
  p->spec = spec;
  p->preparer = ::getpid();
  p->privileged = HasSysAdmin();
  const std::string uid = std::to_string(::getuid()), gid = std::to_string(::getgid());
  p->uid_map = uid + " " + uid + " 1\n";
  p->gid_map = gid + " " + gid + " 1\n";
  const LayerSet& asked = spec.layers;
  if (asked.Has(Layer::kMount) || asked.Has(Layer::kLandlock)) {
    ResolveView(*p);
    if (!p->spec_error.empty()) {
      *error = p->spec_error;
      return nullptr;
    }
    auto dir = CreateRunDir(spec.run_dir_parent, spec.uid, spec.gid);
    if (!dir.error.empty()) {
      *error = dir.error;
      return nullptr;
    }
    p->run_dir = dir.path;
  }
  // Owned from here on: an early return removes what was made.
  std::unique_ptr<PreparedSandbox> sandbox(new PreparedSandbox(std::move(p)));
  Prepared& prepared = *sandbox->p_;
  for (const LayerOps* ops : kAllLayers) {
    if (asked.Has(ops->layer) && ops->prepare != nullptr) ops->prepare(prepared);
  }
  if (!prepared.spec_error.empty()) {
    *error = prepared.spec_error;
    return nullptr;
  }
  // The view may not show what must stay hidden, whatever the kernel allows.
  for (const auto& hidden : spec.hidden_paths) {
    const std::string real = CanonicalPath(hidden);
    for (const auto& shown : prepared.view) {
      for (const std::string& h : {hidden, real}) {
        if (!h.empty() && PathWithin(h, shown.path)) {
          *error = "the sandbox would show " + hidden + " (it lies in " + shown.path +
                   "): remove that directory from the plugins' read paths";
          return nullptr;
        }
      }
    }
  }
  return sandbox;
}

bool PreparedSandbox::Enter(Report* report) const {
  const Prepared& p = *p_;
  Report& r = *report;
  std::memset(&r, 0, sizeof r);
  for (const LayerOps* ops : kAllLayers) {
    LayerResult& res = r.of(ops->layer);
    if (!p.spec.layers.Has(ops->layer)) {
      res.state = LayerState::kOff;
    } else if (!p.unavailable[static_cast<int>(ops->layer)].empty()) {
      MarkFailed(res, 0, 0);
    } else {
      MarkFailed(res, kStepPending, 0);
    }
  }
  // Phase 1, in A.
  RunPhase1(kCgroupLayer, p, r);
  if (NeedsNamespaces(r) && !EnterUserNamespace(p, r)) return false;
  for (const LayerOps* ops : kPhase1) {
    if (ops != &kCgroupLayer) RunPhase1(*ops, p, r);
  }
  if (r.fatal_step != kFatalNone) return false;
  // Phase 2, in B (the PID layer's enter forked) or still in A.
  for (const LayerOps* ops : kPhase2) {
    RunPhase2(*ops, p, r);
    if (r.fatal_step != kFatalNone) return false;
  }
  // Whatever was pending and never reached (its hook is missing) did not happen.
  for (auto& res : r.layers) {
    if (Pending(res)) res.step = 0;
  }
  r.uid = static_cast<std::int32_t>(::getuid());
  for (int i = 0; i < kLayerCount; ++i) {
    if (p.spec.required.Has(static_cast<Layer>(i)) && r.layers[i].state != LayerState::kApplied) {
      Fatal(r, kFatalRequired, i);
      return false;
    }
  }
  return true;
}

const char* PreparedSandbox::TmpDir(const Report& report) const {
  return report.applied(Layer::kMount) ? "/tmp" : p_->run_dir.c_str();
}

const std::string& PreparedSandbox::run_dir() const { return p_->run_dir; }

std::vector<LayerOutcome> PreparedSandbox::Describe(const Report& report) const {
  std::vector<LayerOutcome> out;
  for (Layer l : kReportOrder) {
    LayerOutcome o;
    o.layer = l;
    o.name = LayerName(l);
    o.state = report.of(l).state;
    const std::string& unavailable = p_->unavailable[static_cast<int>(l)];
    if (o.state == LayerState::kOff) {
      o.why = "not asked for";
    } else if (o.state == LayerState::kNotApplied && !unavailable.empty()) {
      o.why = unavailable;
    } else {
      kAllLayers[static_cast<int>(l)]->describe(*p_, report, o);
    }
    out.push_back(std::move(o));
  }
  return out;
}

std::string PreparedSandbox::DescribeFatal(const Report& report) const {
  if (report.fatal_step == kFatalNone) return "";
  if (report.fatal_step != kFatalRequired) return FatalText(report);
  const auto layer = static_cast<Layer>(report.fatal_err);
  for (const auto& o : Describe(report)) {
    if (o.layer == layer) {
      return "required isolation layer \"" + o.name + "\" was not applied" +
             (o.why.empty() ? "" : ": " + o.why);
    }
  }
  return "a required isolation layer was not applied";
}

}  // namespace bg::sandbox
