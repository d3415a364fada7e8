// The cgroup layer: the run's own cgroup v2, a child of a delegated parent (DelegatedCgroup),
// with memory.max (the check's memory_mb: real memory, tmpfs pages included, where RLIMIT_AS
// only bounds address space), memory.swap.max = 0, memory.oom.group = 1 (an OOM kill takes the
// whole run) and pids.max (a fork bomb stops there whatever the uid). The child joins it first,
// before any namespace hides the cgroup filesystem. After the run, cgroup.kill (Linux 5.14+)
// ends whatever is left and the cgroup is removed.
//
// The parent is found once per process: "auto" takes this process's own cgroup when it is
// delegated (systemd Delegate=yes, or a writable subtree): writable, with the memory and pids
// controllers available. Because a cgroup with processes cannot enable controllers for its
// children, the process first moves itself into the leaf <parent>/agent.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "agent/sandbox/layer.h"
#include "agent/sandbox/run_dir.h"

namespace bg::sandbox {
namespace internal {
namespace {

constexpr const char* kRunPrefix = "bundlegate-run-";

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool WriteText(const std::string& path, const std::string& text, int* err) {
  if (WriteWholeFile(path.c_str(), text.data(), text.size())) return true;
  *err = errno;
  return false;
}

bool HasWord(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    if (w == word) return true;
  }
  return false;
}

bool HasControllers(const std::string& list) {
  return HasWord(list, "memory") && HasWord(list, "pids");
}

// The cgroup2 mount point, from /proc/self/mountinfo ("" when none).
std::string Cgroup2Mount() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream after(line.substr(dash + 3));
    std::string fstype;
    after >> fstype;
    if (fstype != "cgroup2") continue;
    std::istringstream before(line.substr(0, dash));
    std::string id, parent, devno, root, mount_point;
    before >> id >> parent >> devno >> root >> mount_point;
    if (root == "/") return mount_point;
  }
  return "";
}

// This process's cgroup v2 path ("0::<path>"), "" when none.
std::string OwnCgroup() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  }
  return "";
}

// Runs left by a process of ours that is gone (killed before it could clean up). A run is
// named bundlegate-run-<pid>-<n> after the process that made it: another live agent's runs under
// the same parent are left alone.
void RemoveStaleRuns(const std::string& parent) {
  DIR* d = ::opendir(parent.c_str());
  if (d == nullptr) return;
  const std::string prefix = kRunPrefix;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind(prefix, 0) != 0) continue;
    const long owner = std::atol(name.c_str() + prefix.size());
    if (owner > 0 && (::kill(static_cast<pid_t>(owner), 0) == 0 || errno == EPERM)) continue;
    RemoveRunCgroup(parent + "/" + name);
  }
  ::closedir(d);
}

// Whether `dir` holds processes other than this one.
bool SharedWithOthers(const std::string& dir) {
  std::istringstream procs(ReadText(dir + "/cgroup.procs"));
  long pid = 0;
  while (procs >> pid) {
    if (pid != ::getpid()) return true;
  }
  return false;
}

std::string SetUpAuto(std::string* why) {
  const std::string mount = Cgroup2Mount();
  if (mount.empty()) {
    *why = "no cgroup v2 filesystem is mounted";
    return "";
  }
  const std::string own = OwnCgroup();
  if (own.empty()) {
    *why = "this process is in no cgroup v2 (/proc/self/cgroup has no 0:: line)";
    return "";
  }
  const std::string dir = mount + (own == "/" ? "" : own);
  const std::string available = ReadText(dir + "/cgroup.controllers");
  if (!HasControllers(available)) {
    *why = dir + " offers the controllers \"" + available.substr(0, available.find('\n')) +
           "\", not memory and pids (not delegated to us, or a hybrid v1/v2 hierarchy)";
    return "";
  }
  if (::access((dir + "/cgroup.subtree_control").c_str(), W_OK) != 0 ||
      ::access((dir + "/cgroup.procs").c_str(), W_OK) != 0 || ::access(dir.c_str(), W_OK) != 0) {
    *why = dir + " is not writable by this process (no delegation: systemd Delegate=yes)";
    return "";
  }
  if (!HasControllers(ReadText(dir + "/cgroup.subtree_control"))) {
    int err = 0;
    if (own != "/") {  // the root cgroup may hold processes and enable controllers at once
      // No internal processes: move out of the parent before enabling controllers below it,
      // but only where the cgroup is ours alone (a delegated service's), not a login session's.
      if (SharedWithOthers(dir)) {
        *why = dir + " holds other processes than this one: not a cgroup delegated to it";
        return "";
      }
      const std::string leaf = dir + "/agent";
      if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) {
        *why = "cannot make " + leaf + ": " + ErrnoName(errno);
        return "";
      }
      if (!WriteText(leaf + "/cgroup.procs", std::to_string(::getpid()), &err)) {
        *why = "cannot move this process into " + leaf + ": " + ErrnoName(err);
        return "";
      }
    }
    if (!WriteText(dir + "/cgroup.subtree_control", "+memory +pids", &err)) {
      *why = "cannot enable memory and pids in " + dir + "/cgroup.subtree_control: " +
             ErrnoName(err) + (err == EBUSY ? " (other processes share the cgroup)" : "");
      return "";
    }
  }
  RemoveStaleRuns(dir);
  return dir;
}

std::string SetUpGiven(const std::string& dir, std::string* why) {
  if (!HasControllers(ReadText(dir + "/cgroup.subtree_control"))) {
    *why = dir + "/cgroup.subtree_control does not enable memory and pids";
    return "";
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    *why = dir + " is not writable by this process";
    return "";
  }
  RemoveStaleRuns(dir);
  return dir;
}

void Prepare(Prepared& p) {
  const Spec& s = p.spec;
  std::string& why = p.unavailable[static_cast<int>(Layer::kCgroup)];
  if (s.cgroup_parent.empty()) {
    why = s.cgroup_unavailable.empty() ? "no delegated cgroup v2" : s.cgroup_unavailable;
    return;
  }
  static std::atomic<unsigned> serial{0};
  const std::string dir = s.cgroup_parent + "/" + kRunPrefix + std::to_string(::getpid()) + "-" +
                          std::to_string(serial.fetch_add(1));
  if (::mkdir(dir.c_str(), 0755) != 0) {
    why = "cannot make " + dir + ": " + ErrnoName(errno);
    return;
  }
  p.cgroup_dir = dir;
  int err = 0;
  const std::string memory = s.memory_bytes > 0 ? std::to_string(s.memory_bytes) : "max";
  const std::string pids = s.processes > 0 ? std::to_string(s.processes) : "max";
  if (!WriteText(dir + "/memory.max", memory, &err) || !WriteText(dir + "/pids.max", pids, &err)) {
    why = "cannot set the limits of " + dir + ": " + ErrnoName(err);
    return;
  }
  WriteText(dir + "/memory.swap.max", "0", &err);  // absent without swap accounting
  WriteText(dir + "/memory.oom.group", "1", &err);
  p.cgroup_procs = dir + "/cgroup.procs";
}

void Enter(const Prepared& p, Report& r) {
  LayerResult& res = r.of(Layer::kCgroup);
  if (WriteWholeFile(p.cgroup_procs.c_str(), "0", 1)) {
    MarkApplied(res);
  } else {
    MarkFailed(res, 1, errno);
  }
}

void Describe(const Prepared& p, const Report& r, LayerOutcome& out) {
  const LayerResult& res = r.of(Layer::kCgroup);
  out.facts.emplace_back("cgroup", p.cgroup_dir);
  if (res.state != LayerState::kApplied) {
    out.why = "joining " + p.cgroup_dir + ": " + ErrnoName(res.err);
  }
}

}  // namespace

void RemoveRunCgroup(const std::string& dir) {
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
  int err = 0;
  WriteText(dir + "/cgroup.kill", "1", &err);
  for (int i = 0; i < 200; ++i) {  // the killed take a moment to leave
    if (::rmdir(dir.c_str()) == 0 || errno != EBUSY) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

const LayerOps kCgroupLayer = {Layer::kCgroup, Prepare, Enter, nullptr, Describe};

}  // namespace internal

std::string DelegatedCgroup(const std::string& mode, std::string* why) {
  static std::mutex mu;
  static bool done = false;
  static std::string cached_mode, cached_dir, cached_why;
  std::lock_guard<std::mutex> lock(mu);
  if (!done || cached_mode != mode) {
    cached_why.clear();
    if (mode == "off") {
      cached_dir.clear();
      cached_why = "turned off";
    } else if (mode == "auto") {
      cached_dir = internal::SetUpAuto(&cached_why);
    } else {
      cached_dir = internal::SetUpGiven(mode, &cached_why);
    }
    cached_mode = mode;
    done = true;
  }
  *why = cached_why;
  return cached_dir;
}

}  // namespace bg::sandbox
