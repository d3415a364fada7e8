// Opening the training repository: a clone's work tree, its .git directory, or a bare mirror.
//
// libgit2 is initialized here, once per process, on first use (and never shut down: checks may
// run until the process exits). Repositories are opened per check run because a git_repository
// must not be used by two threads at once; opening one is cheap (no history is read).
//
// Thread safety: OpenRepository may be called from several threads at once.
#pragma once

#include <string>

#include "agent/core/status.h"
#include "agent/git/git_handles.h"

namespace bg {

// Opens exactly `path` (no search of parent directories, unlike `git`). Fails, naming the path,
// when it is missing, unreadable, not a repository, or owned by another user without a matching
// safe.directory (libgit2 applies git's ownership rule).
Result<RepositoryPtr> OpenRepository(const std::string& path);

// "<git dir>/objects": the object database (for a linked worktree, its main repository's).
std::string ObjectsDir(git_repository* repo);

}  // namespace bg
