#include "agent/plugin/plugin_launch.h"

#include <glob.h>
#include <grp.h>
#include <pwd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace bg {
namespace {

namespace fs = std::filesystem;

std::string DirOf(const std::string& path) { return fs::path(path).parent_path().string(); }

// The interpreter of a "#!" script ("" for anything else).
std::string Interpreter(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[2] = {};
  if (!in.read(head, 2) || head[0] != '#' || head[1] != '!') return "";
  std::string line;
  std::getline(in, line);
  const auto begin = line.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  const auto end = line.find_first_of(" \t\r", begin);
  return line.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// Where the program and what it loads live.
std::vector<std::string> ProgramDirs(const std::string& path) {
  std::vector<std::string> dirs = {DirOf(path)};
  std::error_code ec;
  const auto real = fs::canonical(path, ec);
  if (!ec) dirs.push_back(real.parent_path().string());
  const std::string interpreter = Interpreter(path);
  if (!interpreter.empty() && interpreter[0] == '/') {
    dirs.push_back(DirOf(interpreter));
    const auto real_interpreter = fs::canonical(interpreter, ec);
    if (!ec) dirs.push_back(real_interpreter.parent_path().string());
  }
  if (const char* libs = std::getenv("LD_LIBRARY_PATH")) {
    std::string list = libs;
    std::size_t at = 0;
    while (at <= list.size()) {
      const auto colon = list.find(':', at);
      const std::string dir = list.substr(at, colon == std::string::npos ? colon : colon - at);
      if (!dir.empty() && dir[0] == '/') dirs.push_back(dir);
      if (colon == std::string::npos) break;
      at = colon + 1;
    }
  }
  return dirs;
}

std::vector<std::string> ExpandDevices(const std::vector<std::string>& patterns) {
  std::vector<std::string> out;
  for (const auto& pattern : patterns) {
    glob_t g{};
    if (::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    }
    ::globfree(&g);
  }
  return out;
}

// What of the agent's config to mask: its directory (keys and trust files live beside it), or
// the file alone where the directory is "/", a read path itself, or holds a path the plugin
// must see (its own directory, the bundle: a config beside the agent's root).
std::string ConfigMask(const std::string& config_file, const sandbox::Spec& spec) {
  const fs::path dir = fs::path(config_file).parent_path();
  if (dir.empty() || dir == dir.root_path()) return config_file;
  std::vector<std::string> shown = spec.exec_paths;
  shown.insert(shown.end(), spec.data_paths.begin(), spec.data_paths.end());
  for (const auto& path : shown) {
    const fs::path e = fs::path(path).lexically_normal();
    if (e == dir) return config_file;
    const auto rel = e.lexically_relative(dir);
    if (!rel.empty() && *rel.begin() != "..") return config_file;  // inside the directory
  }
  return dir.string();
}

}  // namespace

PluginSandbox PluginSandboxFor(const Config& config) {
  PluginSandbox s;
  s.config = config.sandbox;
  const PathsConfig& p = config.paths;
  s.hidden_paths = {p.root, p.inbox, p.serving, p.quarantine, p.audit_log};
  std::error_code ec;
  if (!config.source.empty() && config.source[0] != '<' && fs::exists(config.source, ec)) {
    s.config_file = fs::absolute(config.source, ec).lexically_normal().string();
  }
  return s;
}

const PluginSandbox& DefaultPluginSandbox() {
  static const PluginSandbox sandbox = PluginSandboxFor(DefaultConfig());
  return sandbox;
}

bool PluginGroupIsExclusive(long uid, long gid) {
  if (uid < 0 || gid < 0) return false;
  const passwd* self = ::getpwuid(static_cast<uid_t>(uid));
  if (self == nullptr) return false;
  const std::string name = self->pw_name;
  bool exclusive = true;
  ::setpwent();
  while (const passwd* pw = ::getpwent()) {
    if (pw->pw_gid == static_cast<gid_t>(gid) && pw->pw_uid != static_cast<uid_t>(uid)) {
      exclusive = false;
    }
  }
  ::endpwent();
  if (const group* gr = ::getgrgid(static_cast<gid_t>(gid))) {
    for (char** m = gr->gr_mem; m != nullptr && *m != nullptr; ++m) {
      if (name != *m) exclusive = false;
    }
  }
  return exclusive;
}

std::vector<std::string> PluginEnvironment() {
  std::vector<std::string> env{"PATH=/usr/local/bin:/usr/bin:/bin"};
  for (const char* name : {"LANG", "LC_ALL", "TZ", "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES"}) {
    if (const char* value = std::getenv(name); value != nullptr) {
      env.push_back(std::string(name) + "=" + value);
    }
  }
  return env;
}

ChildRun PluginChildRun(const std::string& path, const std::vector<std::string>& args,
                        const PluginLimits& limits, const std::string& bundle_dir,
                        const PluginSandbox& sandbox) {
  ChildRun run;
  run.spawn.argv = {path};
  run.spawn.argv.insert(run.spawn.argv.end(), args.begin(), args.end());
  run.spawn.env = PluginEnvironment();
  run.spawn.cwd = bundle_dir.empty() ? "/" : bundle_dir;
  const SandboxConfig& c = sandbox.config;
  sandbox::Spec& s = run.spawn.sandbox;
  s = sandbox::Spec();
  s.layers = c.layers;
  if (!bundle_dir.empty()) s.required = c.require_isolation | limits.require_isolation;
  s.exec_paths = c.read_paths;
  for (auto& dir : ProgramDirs(path)) s.exec_paths.push_back(std::move(dir));
  if (!bundle_dir.empty()) s.data_paths = {bundle_dir};
  s.devices = ExpandDevices(c.devices);
  s.hidden_paths = sandbox.hidden_paths;
  if (!sandbox.config_file.empty()) s.masked_paths = {ConfigMask(sandbox.config_file, s)};
  s.tmp_bytes = limits.tmpfs_mb << 20;
  s.uid = c.plugin_uid;
  s.gid = c.plugin_gid;
  s.address_space_bytes = limits.memory_mb << 20;
  s.cpu_seconds = limits.cpu_s;
  s.open_files = limits.max_open_files;
  s.processes = limits.pids_max;
  s.memory_bytes = limits.memory_mb << 20;
  if (c.layers.Has(sandbox::Layer::kCgroup)) {
    s.cgroup_parent = sandbox::DelegatedCgroup(c.cgroup, &s.cgroup_unavailable);
  }
  run.timeout = limits.timeout;
  run.max_stdout_bytes = static_cast<std::size_t>(limits.max_output_kb) << 10;
  run.stderr_tail_bytes = kStderrTailBytes;
  return run;
}

}  // namespace bg
