// FindContainingRef: is a commit reachable from any allowed ref, and from which one?
//
// One walk over the history of all the refs at once, never one walk per ref: a repository with
// thousands of release tags costs about what its history costs. The walk goes back in
// commit-time order from every ref tip (newest first); each commit remembers the first ref that
// reached it, so the answer is the ref that reaches the commit "soonest": the nearest tag after
// it, or the branch when no tag does (what `git describe --contains` would name). It stops when
// the commit comes out of the queue, so a commit near the tips costs a few steps. Commit times
// only order the walk; correctness never depends on them (skew delays finding, never hides).
//
// With git's commit-graph (commit_graph.h) a step reads a table entry instead of inflating a
// commit object, and the graph's topological levels prune: a commit whose level is not above the
// target's cannot reach it, nor can any commit of the graph when the graph lacks the target.
// Without a graph, proving that a commit is NOT released takes one pass over the refs' whole
// history (every ancestor must be seen); commits newer than the graph are read from the object
// database and walked the same way.
//
// Why not libgit2's git_graph_reachable_from_any: in libgit2 1.5 its cost grows with the number
// of tips (it rescans its queue, and tips below the commit keep it walking to the root), about
// 10x this walk with 5,000 tags; git_graph_descendant_of is one walk per ref; a git_revwalk
// cannot say which ref contains the commit. None of them can use the commit-graph files git
// 2.36+ writes.
//
// Thread safety: uses only `repo` (which belongs to the calling thread) and `graph` (immutable).
#pragma once

#include <git2/oid.h>
#include <git2/repository.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

#include "agent/core/status.h"
#include "agent/git/allowed_refs.h"
#include "agent/git/commit_graph.h"

namespace bg {

struct Containment {
  std::optional<std::size_t> tip;  // index into the tips of the ref that contains the commit
  std::uint64_t commits_walked = 0;
};

// `graph` may be null (no commit-graph). Fails on an operational error: a parent missing from
// the object database (a shallow or damaged clone: the answer would be a guess), a corrupt
// object, or `cancelled` set.
Result<Containment> FindContainingRef(git_repository* repo, const CommitGraph* graph,
                                      const git_oid& commit, const std::vector<RefTip>& tips,
                                      const std::atomic<bool>* cancelled = nullptr);

}  // namespace bg
