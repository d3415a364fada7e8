#include "agent/plugin/discovery.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

namespace bg {
namespace {

bool IsKindChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool IsRegularFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool IsExecutableFile(const std::string& path) {
  return IsRegularFile(path) && ::access(path.c_str(), X_OK) == 0;
}

std::string ExeDir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::vector<std::string> KindsIn(const std::string& dir) {
  std::vector<std::string> kinds;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return kinds;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name.substr(0, kPluginPrefix.size()) != kPluginPrefix) continue;
    const std::string_view kind = name.substr(kPluginPrefix.size());
    if (IsValidPluginKind(kind) && IsExecutableFile(dir + "/" + std::string(name))) {
      kinds.emplace_back(kind);
    }
  }
  ::closedir(d);
  std::sort(kinds.begin(), kinds.end());
  return kinds;
}

}  // namespace

bool IsValidPluginKind(std::string_view kind) {
  if (kind.empty() || kind.size() > 64 || kind[0] == '_' || kind[0] == '-') return false;
  return std::all_of(kind.begin(), kind.end(), IsKindChar);
}

std::vector<std::string> DefaultPluginDirs() {
  std::vector<std::string> candidates;
  if (const std::string exe_dir = ExeDir(); !exe_dir.empty()) {
    candidates.push_back(exe_dir);
    candidates.push_back(
        (std::filesystem::path(exe_dir) / "../lib/bundlegate/plugins").lexically_normal().string());
  }
  candidates.emplace_back("/usr/local/lib/bundlegate/plugins");
  candidates.emplace_back("/usr/lib/bundlegate/plugins");
  std::vector<std::string> dirs;
  for (auto& dir : candidates) {
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(std::move(dir));
  }
  return dirs;
}

Result<std::string> FindPlugin(std::string_view kind, const std::vector<std::string>& dirs) {
  const std::string name = std::string(kPluginPrefix) + std::string(kind);
  if (!IsValidPluginKind(kind)) {
    return Status::Error("\"" + std::string(kind) +
                         "\" is not a valid check kind ([a-z0-9][a-z0-9_-]*)");
  }
  std::vector<std::string> not_executable;
  for (const auto& dir : dirs) {
    const std::string path = dir + "/" + name;
    if (IsExecutableFile(path)) return path;
    if (IsRegularFile(path)) not_executable.push_back(path);
  }
  std::string message = "unknown check kind \"" + std::string(kind) + "\": not built in, and no " +
                        name + " in the plugin directories (" + Join(dirs) + ")";
  if (!not_executable.empty()) message += "; not executable: " + Join(not_executable);
  return Status::Error(message);
}

std::vector<PluginEntry> ListPlugins(const std::vector<std::string>& dirs) {
  std::vector<PluginEntry> out;
  std::set<std::string> seen;
  for (const auto& dir : dirs) {
    for (auto& kind : KindsIn(dir)) {
      const bool shadowed = !seen.insert(kind).second;
      out.push_back({kind, dir + "/" + std::string(kPluginPrefix) + kind, shadowed});
    }
  }
  return out;
}

}  // namespace bg
