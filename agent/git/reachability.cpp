#include "agent/git/reachability.h"

#include <git2/commit.h>

#include <cstring>
#include <queue>
#include <unordered_map>

#include "agent/git/git_handles.h"
#include "agent/git/git_status.h"

namespace bg {
namespace {

constexpr std::int64_t kNotInGraph = -1;

struct OidHash {
  std::size_t operator()(const git_oid& oid) const {
    std::size_t h;  // an object id is already a uniform hash
    std::memcpy(&h, oid.id, sizeof h);
    return h;
  }
};

struct OidEqual {
  bool operator()(const git_oid& a, const git_oid& b) const { return git_oid_equal(&a, &b) != 0; }
};

struct Node {
  std::int64_t time = 0;  // committer time: newest first
  std::uint64_t seq = 0;  // then first queued first, so ties keep ref order
  git_oid oid{};
  std::int64_t position = kNotInGraph;
  std::uint32_t level = 0;  // from the graph; 0 = unknown
  bool operator<(const Node& o) const { return time != o.time ? time < o.time : seq > o.seq; }
};

bool LevelKnown(std::uint32_t level) { return level > 0 && level < CommitGraphLayer::kMaxLevel; }

// What the target's place in the commit-graph lets the walk skip (see reachability.h).
struct Pruning {
  bool graph_lacks_target = false;
  std::uint32_t target_level = 0;

  // `node` is neither the target nor able to reach it when this is true.
  bool Below(const Node& node, bool or_equal) const {
    if (node.position == kNotInGraph) return false;
    if (graph_lacks_target) return true;
    if (!LevelKnown(node.level) || !LevelKnown(target_level)) return false;
    return or_equal ? node.level <= target_level : node.level < target_level;
  }
};

class LabeledWalk {
 public:
  LabeledWalk(git_repository* repo, const CommitGraph* graph, const std::atomic<bool>* cancelled)
      : repo_(repo), graph_(graph), cancelled_(cancelled) {}

  void Prune(const git_oid& target);
  // Queues `oid`, labelled with ref `label`, unless it was reached already or cannot lead to the
  // target. `position`: its graph position when the caller knows it.
  Status Push(const git_oid& oid, std::size_t label, std::optional<std::uint32_t> position);
  Result<Containment> Run(const git_oid& target);

 private:
  Status Describe(Node& node, std::optional<std::uint32_t> position);
  Status PushParents(const Node& node, std::size_t label);
  Status PushParentsFromObject(const git_oid& oid, std::size_t label);
  Result<CommitPtr> Lookup(const git_oid& oid);

  git_repository* repo_;
  const CommitGraph* graph_;
  const std::atomic<bool>* cancelled_;
  Pruning pruning_;
  std::unordered_map<git_oid, std::size_t, OidHash, OidEqual> label_;
  std::priority_queue<Node> queue_;
  std::uint64_t seq_ = 0;
  GraphCommit expanding_, probing_;  // reused buffers
};

void LabeledWalk::Prune(const git_oid& target) {
  if (graph_ == nullptr) return;
  const auto position = graph_->Find(target);
  pruning_.graph_lacks_target = !position;
  if (position && graph_->Read(*position, probing_)) pruning_.target_level = probing_.level;
}

Status LabeledWalk::Push(const git_oid& oid, std::size_t label,
                         std::optional<std::uint32_t> position) {
  if (!label_.emplace(oid, label).second) return Status::Ok();
  Node node;
  node.oid = oid;
  BG_RETURN_IF_ERROR(Describe(node, position));
  if (pruning_.Below(node, /*or_equal=*/false)) return Status::Ok();
  node.seq = seq_++;
  queue_.push(node);
  return Status::Ok();
}

// Fills in time (and level, position) from the graph when it has the commit, else the object.
Status LabeledWalk::Describe(Node& node, std::optional<std::uint32_t> position) {
  if (graph_ != nullptr && !position) position = graph_->Find(node.oid);
  if (position && graph_->Read(*position, probing_)) {
    node.position = *position;
    node.time = probing_.time;
    node.level = probing_.level;
    return Status::Ok();
  }
  BG_ASSIGN_OR_RETURN(CommitPtr commit, Lookup(node.oid));
  node.time = git_commit_time(commit.get());
  return Status::Ok();
}

Result<Containment> LabeledWalk::Run(const git_oid& target) {
  Containment out;
  while (!queue_.empty()) {
    const Node next = queue_.top();
    queue_.pop();
    ++out.commits_walked;
    const std::size_t label = label_.at(next.oid);
    if (git_oid_equal(&next.oid, &target)) {
      out.tip = label;
      return out;
    }
    if ((out.commits_walked & 1023) == 0 && cancelled_ && cancelled_->load()) {
      return Status::Error("cancelled while walking history");
    }
    if (!pruning_.Below(next, /*or_equal=*/true)) BG_RETURN_IF_ERROR(PushParents(next, label));
  }
  return out;
}

Status LabeledWalk::PushParents(const Node& node, std::size_t label) {
  const auto position = static_cast<std::uint32_t>(node.position);
  if (node.position == kNotInGraph || !graph_->Read(position, expanding_)) {
    return PushParentsFromObject(node.oid, label);
  }
  for (const std::uint32_t parent : expanding_.parents) {
    BG_RETURN_IF_ERROR(Push(graph_->OidAt(parent), label, parent));
  }
  return Status::Ok();
}

Status LabeledWalk::PushParentsFromObject(const git_oid& oid, std::size_t label) {
  BG_ASSIGN_OR_RETURN(CommitPtr commit, Lookup(oid));  // often a cache hit: read when queued
  const unsigned count = git_commit_parentcount(commit.get());
  for (unsigned i = 0; i < count; ++i) {
    BG_RETURN_IF_ERROR(Push(*git_commit_parent_id(commit.get(), i), label, std::nullopt));
  }
  return Status::Ok();
}

Result<CommitPtr> LabeledWalk::Lookup(const git_oid& oid) {
  git_commit* raw = nullptr;
  const int rc = git_commit_lookup(&raw, repo_, &oid);
  CommitPtr commit(raw);
  BG_RETURN_IF_ERROR(GitStatus(rc, std::string("reading commit ") + git_oid_tostr_s(&oid) +
                                       " (is the clone shallow or damaged?)"));
  return commit;
}

}  // namespace

Result<Containment> FindContainingRef(git_repository* repo, const CommitGraph* graph,
                                      const git_oid& commit, const std::vector<RefTip>& tips,
                                      const std::atomic<bool>* cancelled) {
  for (std::size_t i = 0; i < tips.size(); ++i) {
    if (git_oid_equal(&tips[i].commit, &commit)) return Containment{i, 0};  // tagged exactly
  }
  LabeledWalk walk(repo, graph, cancelled);
  walk.Prune(commit);
  for (std::size_t i = 0; i < tips.size(); ++i) {
    BG_RETURN_IF_ERROR(walk.Push(tips[i].commit, i, std::nullopt));
  }
  return walk.Run(commit);
}

}  // namespace bg
