// uv.lock: uv's lockfile (format `version = 1`), read through TomlDocument/TableReader.
//
//   version = 1
//   revision = 2
//   requires-python = ">=3.11"
//   [[package]]
//   name = "torch"
//   version = "2.5.1+cu121"
//   source = { registry = "https://download.pytorch.org/whl/cu121" }
//   wheels = [{ url = "...", hash = "sha256:...", size = 780000000 }]
//   [[package]]
//   name = "fraud-scorer"
//   version = "0.1.0"
//   source = { editable = "." }
//
// The project itself (source editable, virtual or directory ".") and the workspace members
// named in [manifest] members are the locked code, not dependencies: they go to
// Lockfile::projects. A registry package is pinned at its version; git, url, path, directory
// and other editable sources are direct references (unpinned). Hashes are those of `sdist` and
// `wheels`. Keys this reader does not need are ignored: uv adds fields between releases.
//
// Thread safety: a pure function.
#pragma once

#include <string>
#include <string_view>

#include "agent/lockfile/lockfile.h"

namespace bg {

Result<Lockfile> ParseUvLock(std::string_view text, const std::string& source);

}  // namespace bg
