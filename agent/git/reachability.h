// FindContainingRef: is a commit reachable from any allowed ref, and from which one?
//
// One walk over the history of all the refs at once, never one walk per ref: a repository with
// thousands of release tags costs about what its history costs. It is git's own walk for
// `merge-base --is-ancestor` (paint_down_to_common), with labels:
//   - the target is painted "from target" and every ref tip "from tip", the tip remembering
//     which ref it is; commits come out of one queue, newest committer time first, and pass
//     their paint (and label) on to their parents;
//   - a commit painted from both sides is an ancestor of the target: it and everything below
//     it are "stale" and cannot lead to the target, so a ref whose history joins the target's
//     stops there (this is what stops a negative answer at the merge base instead of the root);
//   - the answer is yes as soon as the target is painted from a tip, with that tip's label:
//     the ref that reaches it "soonest", the nearest tag after it, or the branch when no tag
//     does (what `git describe --contains` would name); it is no as soon as no commit painted
//     from a tip alone is left in the queue.
// Commit times only order the walk. Correctness never rests on them: a commit is stale only
// when the walk has found it below the target, and a commit painted from a tip alone keeps the
// walk going whatever its time, so clock skew can make the walk longer, never the answer wrong.
//
// With git's commit-graph (commit_graph.h) a step reads a table entry instead of inflating a
// commit object, and the graph's topological levels prune (as git's generation cutoff does): a
// commit whose level is not above the target's cannot reach it, nor can any commit of the graph
// when the graph lacks the target. Commits newer than the graph, or every commit without one,
// are read from the pack files directly (commit_reader.h), each once.
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
  std::uint64_t commits_walked = 0;  // taken from the queue
  std::uint64_t commits_read = 0;    // objects inflated (the rest came from the commit-graph)
};

// `graph` may be null (no commit-graph). Fails on an operational error: a parent missing from
// the object database (a shallow or damaged clone: the answer would be a guess), a corrupt
// object, or `cancelled` set.
Result<Containment> FindContainingRef(git_repository* repo, const CommitGraph* graph,
                                      const git_oid& commit, const std::vector<RefTip>& tips,
                                      const std::atomic<bool>* cancelled = nullptr);

}  // namespace bg
