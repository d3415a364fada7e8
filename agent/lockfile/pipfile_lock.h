// Pipfile.lock: Pipenv's JSON lockfile.
//
//   {
//     "_meta": {"hash": {"sha256": "..."}, "pipfile-spec": 6, "requires": {...},
//               "sources": [{"name": "pypi", "url": "https://pypi.org/simple", ...}]},
//     "default": {
//       "torch": {"hashes": ["sha256:..."], "index": "pytorch", "version": "==2.5.1+cu121",
//                 "markers": "python_version >= '3.9'"},
//       "features": {"editable": true, "path": "./libs/features"}
//     },
//     "develop": {...}
//   }
//
// Both sections are checked ("develop" packages were resolved with the rest and may be
// installed in training); each entry records its section in LockedPackage::group. An entry is
// pinned by "version": "==X" (or "===X"); "*" or a range, "editable", "path", "file" and "git"
// entries are not. JSON has no line numbers in the parsed form: an entry's line is found by its
// key in the text, and a syntax error's from its byte offset.
//
// This is the one file that calls the throwing nlohmann parser; it catches at its boundary.
//
// Thread safety: a pure function.
#pragma once

#include <string>
#include <string_view>

#include "agent/lockfile/lockfile.h"

namespace bg {

Result<Lockfile> ParsePipfileLock(std::string_view text, const std::string& source);

}  // namespace bg
