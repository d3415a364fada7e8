// FileAtCommit: the SHA-256 of a file's bytes as committed, `git show <commit>:<path>`.
//
// The blob's raw content is hashed: no checkout filters (line endings, LFS smudging), so the
// comparison with a bundle file is byte for byte against what the commit recorded.
//
// Thread safety: uses only `repo`, which belongs to the calling thread.
#pragma once

#include <git2/oid.h>
#include <git2/repository.h>

#include <optional>
#include <string>

#include "agent/core/status.h"

namespace bg {

struct FileAtCommit {
  std::optional<std::string> sha256;  // 64 hex; nullopt when there is no file at the path
  std::string missing_why;            // then: "not found", "is a directory", "is a submodule"...
};

// `path`: '/'-separated, relative to the repository root. Fails only on an operational error
// (an object that cannot be read).
Result<FileAtCommit> ReadFileAtCommit(git_repository* repo, const git_oid& commit,
                                      const std::string& path);

}  // namespace bg
