// Allowed refs: the refs whose history counts as released, found from the configured globs.
//
// Globs are matched by libgit2 as git matches ref globs (wildmatch without WM_PATHNAME: '*' and
// '?' also match '/', "[...]" is a class), against full ref names ("refs/tags/v*"). Each matching
// ref is resolved (symbolic refs such as refs/remotes/origin/HEAD followed) and peeled to its
// commit, annotated tags included.
// Refs that peel to no commit (a tag of a tree or a blob, a dangling ref) cannot contain one and
// are skipped and counted, never an error: skipping only narrows what counts as released.
//
// Thread safety: uses only `repo`, which belongs to the calling thread.
#pragma once

#include <git2/oid.h>
#include <git2/repository.h>

#include <cstddef>
#include <string>
#include <vector>

#include "agent/core/status.h"
#include "agent/git/commit_graph.h"

namespace bg {

struct RefTip {
  std::string ref;  // full name, "refs/heads/main"
  git_oid commit{};
};

struct AllowedRefs {
  std::vector<RefTip> tips;  // glob order, then by name within a glob; each ref once
  std::size_t skipped = 0;   // matched but not peelable to a commit
};

// `graph` (may be null) spares reading objects for refs whose commit it has. Fails only on an
// operational error (an unreadable packed-refs file).
Result<AllowedRefs> ResolveAllowedRefs(git_repository* repo, const std::vector<std::string>& globs,
                                       const CommitGraph* graph = nullptr);

}  // namespace bg
