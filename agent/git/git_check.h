// The "git" check: was this bundle trained from released, committed code?
//
// For the manifest's [source] it finds, in a configured clone or bare mirror of the training
// repository (optionally fetched first, through libgit2):
//   commit-unknown          source.commit is not a commit of the repository
//   commit-not-released     no allowed ref (git_check_options.h) has the commit in its history
//   dirty-tree              source.dirty = true and require_clean = true
//   file-differs-at-commit  the bundle's lockfile or preprocessing spec is not byte-identical to
//                           <commit>:<source.lockfile_path> / <commit>:<source.preprocessing_path>
// Every finding is reported; the first, in that order, gives the reason. Details name the
// commit (summary line, author, author time) and the allowed ref that contains it
// (reachability.h says which one, and how one walk answers for thousands of tags), and both
// hashes of each file. A repository that cannot be read or a fetch that fails is an `error`
// verdict (commit-unknown, "could not run: ..."), never a pass.
//
// Big histories: keep git's commit-graph of the mirror current (`git gc`, `git maintenance`, or
// `git commit-graph write --reachable` after fetching) and its refs packed; the check reads the
// graph (commit_graph.h) and then walks 50,000 commits in tens of milliseconds, where reading the
// commit objects themselves takes hundreds (scripts/bench/git_check_bench.sh measures both).
//
// Thread safety: one check serves every worker at once. Each run opens its own git_repository
// (libgit2 repositories must not be shared between threads); runs that fetch take turns, so that
// two fetches never race for the repository's ref locks.
#pragma once

#include <memory>

#include "agent/checks/check.h"
#include "agent/checks/check_registry.h"
#include "agent/toml/table_reader.h"

namespace bg {

// The registry's factory for kind "git". Reports bad options through `options` (file, line,
// key) and returns nullptr then.
std::unique_ptr<Check> MakeGitCheck(TableReader& options, const CheckBuildContext& ctx);

}  // namespace bg
