// What a sandboxed process may see of the filesystem, resolved once in the parent and shared by
// the mount layer (which binds exactly these paths into an empty root) and the Landlock layer
// (which grants exactly these paths), so that both layers give one and the same view.
//
// Each exec or data path is resolved component by component: a symlink on the way (/lib ->
// usr/lib, /opt -> /srv/opt) is kept as a symlink in the view and resolution continues at its
// target, so that the given path and the real one both work. Paths that do not exist are
// skipped. A path inside another of the same kind is dropped (it is visible already); a data
// path inside an exec path is kept (it is bound again, noexec). Masked paths (the agent's
// config under /etc) are resolved to real paths and kept only where they lie inside the view.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

#include "agent/sandbox/layer.h"

namespace bg::sandbox::internal {
namespace {

constexpr int kMaxLinks = 16;
const char* const kStandardDevices[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                                        "/dev/urandom"};

std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    const std::size_t j = path.find('/', i);
    const std::string comp = path.substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (!comp.empty() && comp != ".") out.push_back(comp);
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

std::string ReadLink(const std::string& path) {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

// Adds `given` (absolute) to the view; `links` counts the symlinks followed so far.
void AddPath(Prepared& p, const std::string& given, bool data, int links) {
  if (given.empty() || given[0] != '/' || links > kMaxLinks) return;
  const auto comps = Components(given);
  std::string cur;
  for (std::size_t i = 0; i < comps.size(); ++i) {
    if (comps[i] == "..") {
      cur = cur.substr(0, cur.rfind('/'));
      continue;
    }
    const std::string next = cur + "/" + comps[i];
    struct stat st {};
    if (::lstat(next.c_str(), &st) != 0) return;  // absent: nothing to show
    if (S_ISLNK(st.st_mode)) {
      p.view_links.emplace_back(next, ReadLink(next));
      const std::string target = CanonicalPath(next);
      if (target.empty()) return;
      std::string rest;
      for (std::size_t k = i + 1; k < comps.size(); ++k) rest += "/" + comps[k];
      AddPath(p, target + rest, data, links + 1);
      return;
    }
    cur = next;
  }
  if (cur.empty()) {
    p.spec_error = "the sandbox cannot show \"/\" whole: list the directories plugins need";
    return;
  }
  p.view.push_back({cur, data});
}

// Inside another path of the same kind (an exec path within a data path, or the reverse, stays:
// its own bind gives it its own flags).
bool Covered(const std::vector<Prepared::ViewPath>& view, const std::string& path, bool data) {
  return std::any_of(view.begin(), view.end(), [&](const auto& v) {
    return v.data == data && v.path != path && PathWithin(path, v.path);
  });
}

void Tidy(Prepared& p) {
  std::sort(p.view.begin(), p.view.end(), [](const auto& a, const auto& b) {
    return a.path != b.path ? a.path < b.path : a.data < b.data;
  });
  std::vector<Prepared::ViewPath> kept;
  for (const auto& v : p.view) {
    const bool dup = std::any_of(kept.begin(), kept.end(), [&](const auto& k) {
      return k.path == v.path;  // the same path as exec and data: exec wins (listed first)
    });
    if (!dup && !Covered(p.view, v.path, v.data)) kept.push_back(v);
  }
  p.view = std::move(kept);
  std::vector<std::pair<std::string, std::string>> links;
  for (const auto& l : p.view_links) {
    const bool inside = std::any_of(p.view.begin(), p.view.end(),
                                    [&](const auto& v) { return PathWithin(l.first, v.path); });
    const bool dup = std::any_of(links.begin(), links.end(),
                                 [&](const auto& k) { return k.first == l.first; });
    if (!inside && !dup) links.push_back(l);
  }
  p.view_links = std::move(links);
}

void AddDevice(Prepared& p, const std::string& path) {
  struct stat st {};
  if (path.rfind("/dev/", 0) != 0 || ::stat(path.c_str(), &st) != 0) return;
  if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) return;
  if (std::find(p.view_devices.begin(), p.view_devices.end(), path) == p.view_devices.end()) {
    p.view_devices.push_back(path);
  }
}

void AddMask(Prepared& p, const std::string& given) {
  const std::string real = CanonicalPath(given);
  struct stat st {};
  if (real.empty() || ::stat(real.c_str(), &st) != 0) return;
  bool inside = false;
  for (const auto& v : p.view) {
    if (PathWithin(v.path, real)) {  // the mask would cover (part of) what must be shown
      p.spec_error = "the sandbox cannot hide " + given + ": it holds " + v.path +
                     ", which plugins must see";
      return;
    }
    inside = inside || PathWithin(real, v.path);
  }
  if (inside) p.view_masks.push_back({real, S_ISDIR(st.st_mode)});
}

}  // namespace

void ResolveView(Prepared& p) {
  for (const auto& path : p.spec.exec_paths) AddPath(p, path, false, 0);
  for (const auto& path : p.spec.data_paths) AddPath(p, path, true, 0);
  Tidy(p);
  for (const auto& path : p.spec.masked_paths) {
    if (p.spec_error.empty()) AddMask(p, path);
  }
  for (const char* dev : kStandardDevices) AddDevice(p, dev);
  for (const auto& dev : p.spec.devices) AddDevice(p, dev);
}

}  // namespace bg::sandbox::internal
