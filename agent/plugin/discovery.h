// Plugin discovery: a check kind that is not built in is a plugin, the executable
// `bundlegate-check-<kind>` in one of the plugin directories, the first one holding it winning
// (git's `git-<cmd>` and CNI's convention).
//
// Default directories (config `plugin_dirs` empty), in order: the directory of the running
// bundlegate binary (the build tree's bin/, where the in-tree plugins are built), then
// <that>/../lib/bundlegate/plugins (the install prefix), /usr/local/lib/bundlegate/plugins and
// /usr/lib/bundlegate/plugins.
//
// Thread safety: plain functions over the filesystem; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/core/status.h"

namespace bg {

inline constexpr std::string_view kPluginPrefix = "bundlegate-check-";

// [a-z0-9][a-z0-9_-]*, at most 64 characters.
bool IsValidPluginKind(std::string_view kind);

// The default plugin directories (see above), without duplicates.
std::vector<std::string> DefaultPluginDirs();

// The path of bundlegate-check-<kind> in the first of `dirs` holding it as an executable
// regular file (a symlink to one counts). The error names the kind and every directory
// searched, and a candidate that was found but is not executable.
Result<std::string> FindPlugin(std::string_view kind, const std::vector<std::string>& dirs);

struct PluginEntry {
  std::string kind;
  std::string path;
  bool shadowed = false;  // a directory earlier in the list has the same kind: this one is unused
};

// Every plugin in `dirs`, directory by directory in order, each sorted by kind. Missing or
// unreadable directories are skipped.
std::vector<PluginEntry> ListPlugins(const std::vector<std::string>& dirs);

}  // namespace bg
