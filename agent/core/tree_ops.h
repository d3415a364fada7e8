// Whole-tree operations the agent needs around its renames: make a bundle read-only (files
// 0444, directories 0555). Symlinks are never followed; the trees these run on were walked
// safely before. (Durability is Env::SyncFilesystem's: one syncfs per step.)
#pragma once

#include <string>

#include "agent/core/status.h"

namespace bg {

// chmod 0444 for files, and 0555 for directories when `directories`; `root` itself is left as
// it is (it may still have to be renamed, which needs write permission on it).
Status MakeTreeReadOnly(const std::string& root, bool directories);
// lstat-based existence, never following a symlink.
bool PathExists(const std::string& path);
bool IsDirectory(const std::string& path);  // a real directory, not a symlink to one

}  // namespace bg
