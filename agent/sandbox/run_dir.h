// The per-run directory of a sandbox: the mount point of the new root when the mount layer
// applies, else the plugin's only writable place (TMPDIR, granted by Landlock). Made empty and
// private (0700, owned by the plugin user where one is given) before fork; removed, with
// whatever the plugin left in it, after the run. Removal never follows a symlink: the plugin
// controls what is inside.
//
// Thread safety: plain functions over the filesystem.
#pragma once

#include <string>

namespace bg::sandbox::internal {

struct RunDir {
  std::string path;
  std::string error;  // non-empty: not made
};

// mkdtemp("<parent>/bundlegate-sandbox-XXXXXX"); parent "" is $TMPDIR, else /tmp. uid/gid -1:
// keep the caller's.
RunDir CreateRunDir(const std::string& parent, long uid, long gid);

// Removes `path` and everything under it (best effort; nothing is followed).
void RemoveRunDir(const std::string& path);

// Kills what is left in the run's cgroup and removes it (cgroup_layer.cpp).
void RemoveRunCgroup(const std::string& dir);

}  // namespace bg::sandbox::internal
