// poetry.lock: Poetry's lockfile, lock-version 1.x (hashes in [metadata.files]) and 2.x (hashes
// in each package's `files`), read through TomlDocument/TableReader.
//
//   [[package]]
//   name = "torch"
//   version = "2.5.1+cpu"
//   optional = false
//   python-versions = ">=3.8.0"
//   groups = ["main"]
//   files = [{file = "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl", hash = "sha256:..."}]
//   [package.source]
//   type = "legacy"
//   url = "https://download.pytorch.org/whl/cpu"
//   reference = "pytorch-cpu"
//   [metadata]
//   lock-version = "2.0"
//
// The project itself is not in poetry.lock. A package from PyPI or a configured index (no
// [package.source], or type "legacy"/"pypi") is pinned at its version; git, directory, file and
// url sources, and `develop = true` installs, are direct references (unpinned). An unknown
// lock-version major (3 and later) is invalid rather than guessed at. Keys this reader does not
// need are ignored.
//
// Thread safety: a pure function.
#pragma once

#include <string>
#include <string_view>

#include "agent/lockfile/lockfile.h"

namespace bg {

Result<Lockfile> ParsePoetryLock(std::string_view text, const std::string& source);

}  // namespace bg
