// Whole-tree operations the agent needs around its renames: make a bundle read-only (files
// 0444, directories 0555). Symlinks are never followed; the trees these run on were walked
// safely before. Each chmod goes through `env` ("chmod"), so that a test can fail it.
#pragma once

#include <string>

#include "agent/core/env.h"
#include "agent/core/status.h"

namespace bg {

// chmod 0444 for files, and 0555 for directories when `directories`; `root` itself is left as
// it is (it may still have to be renamed, which needs write permission on it).
Status MakeTreeReadOnly(const std::string& root, bool directories, Env& env = Env::Default());
// Ok when this process can remove the whole tree at `root` (every directory in it is ours, or
// readable, writable and searchable to us, and no sticky directory holds another user's entry);
// otherwise an error (EACCES or EPERM) naming the first directory that stands in the way.
// Checked before removing a producer's tree, so that it is removed whole or not at all.
Status CheckTreeRemovable(const std::string& root);
// lstat-based existence, never following a symlink.
bool PathExists(const std::string& path);
bool IsDirectory(const std::string& path);  // a real directory, not a symlink to one

}  // namespace bg
