// Reading a bundle's files from a plugin, refusing anything but regular files under the bundle.
//
// A plugin is handed `bundle_dir` and paths from the manifest. The agent has checked the bundle
// already (integrity: no symlinks, no "..", sizes and hashes), but a plugin trusts nothing it is
// handed: every component of the path is opened with O_NOFOLLOW relative to the directory
// before it (openat), so a symlink anywhere below bundle_dir, a "..", an absolute path, a
// device or a FIFO is refused rather than followed. bundle_dir itself is taken as given.
//
// Thread safety: stateless functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "plugins/sdk/status.h"
#include "plugins/sdk/unique_fd.h"

namespace bg::sdk {

// Relative, '/'-separated, no empty, "." or ".." component, no NUL or '\\'.
bool IsSafeBundlePath(std::string_view path);

// Opens `bundle_dir`/`path` read-only. Fails (naming the path) when the path is unsafe, a
// component is a symlink, or the file is not a regular file.
Result<UniqueFd> OpenBundleFile(const std::string& bundle_dir, const std::string& path);

// The whole content of the file; fails when it is larger than `max_bytes`.
Result<std::string> ReadBundleFile(const std::string& bundle_dir, const std::string& path,
                                   std::uint64_t max_bytes);

// Reads all of `fd` (a pipe or a file) up to `max_bytes`; fails beyond.
Result<std::string> ReadAllBounded(int fd, std::uint64_t max_bytes, const std::string& what);

}  // namespace bg::sdk
