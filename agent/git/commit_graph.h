// CommitGraph: git's commit-graph of a repository, whole: objects/info/commit-graph, or else the
// split chain objects/info/commit-graphs/commit-graph-chain (what `git maintenance` and
// fetch.writeCommitGraph write), as git itself looks for them.
//
// A graph is a cache: it may lack the newest commits (fetched after it was written), and then
// the walk reads those from the object database. What it holds is closed under parents (a parent
// is stored as a position in the graph), so a commit that is not in the graph is not an
// ancestor of any commit that is: reachability.cpp relies on that to stop early.
//
// Thread safety: immutable after Open; const methods may be called from several threads.
#pragma once

#include <git2/oid.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/status.h"
#include "agent/git/commit_graph_layer.h"

namespace bg {

class CommitGraph {
 public:
  // The graph of the object database at `objects_dir` ("<git dir>/objects"). nullptr when the
  // repository has none; an error when there is one but it cannot be used (the caller then
  // walks without it: a graph only ever makes a walk faster).
  static Result<std::unique_ptr<CommitGraph>> Open(const std::string& objects_dir);

  // The global position of `oid`, or nullopt when the graph does not have it.
  std::optional<std::uint32_t> Find(const git_oid& oid) const;
  git_oid OidAt(std::uint32_t position) const;
  // False when the entry is malformed; `out` is then unspecified.
  bool Read(std::uint32_t position, GraphCommit& out) const;

  std::uint32_t size() const { return total_; }
  // Whether Read's generation numbers v2 can be used: git uses them only when every layer of a
  // chain has them (a layer written by an older git has none), and so does this.
  bool has_generation() const { return has_generation_; }
  std::size_t layers() const { return layers_.size(); }

 private:
  explicit CommitGraph(std::vector<CommitGraphLayer> layers);
  const CommitGraphLayer* LayerOf(std::uint32_t position) const;

  std::vector<CommitGraphLayer> layers_;  // base first
  std::uint32_t total_ = 0;
  bool has_generation_ = false;
};

}  // namespace bg
