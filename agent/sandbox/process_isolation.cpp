#include "agent/sandbox/process_isolation.h"

#include <dirent.h>
#include <unistd.h>

#include <climits>
#include <fstream>
#include <sstream>

namespace bg::sandbox {
namespace {

std::string NsLink(const std::string& proc, const char* ns) {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink((proc + "/ns/" + ns).c_str(), buf, sizeof buf - 1);
  return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

std::uint64_t Hex(const std::string& text) {
  try {
    return std::stoull(text, nullptr, 16);
  } catch (...) {
    return ~0ull;
  }
}

bool SameNamespace(pid_t pid, const char* ns, bool* readable) {
  const std::string theirs = NsLink("/proc/" + std::to_string(pid), ns);
  const std::string ours = NsLink("/proc/self", ns);
  if (theirs.empty() || ours.empty()) {
    *readable = false;
    return true;
  }
  return theirs == ours;
}

}  // namespace

bool ProcessIsolation::Confined() const {
  return readable && seccomp_mode == 2 && no_new_privs && cap_eff == 0 && cap_prm == 0 &&
         cap_inh == 0 && cap_amb == 0 && uid != 0 && euid != 0;
}

ProcessIsolation ReadProcessIsolation(pid_t pid) {
  ProcessIsolation out;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    out.readable = true;
    std::istringstream in(line);
    std::string key, value;
    in >> key >> value;
    if (key == "Name:") out.name = value;
    if (key == "Uid:") {
      std::string effective;
      in >> effective;
      out.uid = std::stol(value);
      out.euid = std::stol(effective);
    }
    if (key == "Seccomp:") out.seccomp_mode = std::stoi(value);
    if (key == "NoNewPrivs:") out.no_new_privs = value == "1";
    if (key == "CapEff:") out.cap_eff = Hex(value);
    if (key == "CapPrm:") out.cap_prm = Hex(value);
    if (key == "CapInh:") out.cap_inh = Hex(value);
    if (key == "CapBnd:") out.cap_bnd = Hex(value);
    if (key == "CapAmb:") out.cap_amb = Hex(value);
  }
  bool readable = true;
  out.own_mnt = !SameNamespace(pid, "mnt", &readable);
  out.own_pid = !SameNamespace(pid, "pid", &readable);
  out.own_net = !SameNamespace(pid, "net", &readable);
  out.own_user = !SameNamespace(pid, "user", &readable);
  out.ns_readable = readable;
  if (!readable) out.own_mnt = out.own_pid = out.own_net = out.own_user = false;
  return out;
}

std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(task.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream children(task + "/" + e->d_name + "/children");
    pid_t child;
    while (children >> child) out.push_back(child);
  }
  ::closedir(d);
  return out;
}

pid_t FindSandboxPayload(pid_t first) {
  const ProcessIsolation a = ReadProcessIsolation(first);
  if (!a.readable) return -1;
  // With a PID namespace A has exactly one child, B (PID 1 inside), whose child is C.
  const auto bs = ChildrenOf(first);
  if (bs.empty()) return a.seccomp_mode == 2 ? first : -1;
  const auto cs = ChildrenOf(bs.front());
  return cs.empty() ? -1 : cs.front();
}

}  // namespace bg::sandbox
