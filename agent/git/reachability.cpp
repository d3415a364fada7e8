#include "agent/git/reachability.h"

#include <queue>

#include "agent/git/commit_reader.h"
#include "agent/git/walk_nodes.h"

namespace bg {
namespace {

constexpr std::int64_t kNotInGraph = -1;

// Paint (see reachability.h).
constexpr std::uint8_t kFromTarget = 1;
constexpr std::uint8_t kFromTip = 2;
constexpr std::uint8_t kStale = 4;

struct Node {
  git_oid oid{};
  std::int64_t time = 0;                // committer time: newest first
  std::int64_t position = kNotInGraph;  // in the commit-graph
  std::uint32_t level = 0;              // from the graph; 0 = unknown
  std::uint64_t generation = 0;         // from the graph (corrected commit date); 0 = unknown
  std::uint32_t label = 0;              // the tip whose paint reached it first
  std::uint32_t parents_begin = 0;      // into Walk::parents_, for commits read from objects
  std::uint32_t parent_count = 0;
  std::uint8_t paint = 0;
  bool queued = false;
  bool indexed = false;  // by id in WalkNodes (commits the graph has are found by position)
};

// Queued, painted from a tip and from nothing else: what keeps the walk going.
bool TipOnly(const Node& node) {
  return node.queued && (node.paint & (kFromTarget | kFromTip | kStale)) == kFromTip;
}

struct Entry {
  std::int64_t time;
  std::uint64_t seq;  // then first queued first, so ties keep ref order
  std::uint32_t node;
  bool operator<(const Entry& o) const { return time != o.time ? time < o.time : seq > o.seq; }
};

bool LevelKnown(std::uint32_t level) { return level > 0 && level < CommitGraphLayer::kMaxLevel; }

// What the target's place in the commit-graph lets the walk skip (see reachability.h). Both
// numbers grow strictly from parent to child, so a commit that is not above the target by
// either cannot have it as an ancestor. Generation numbers v2 (corrected commit dates) are the
// sharper test: a branch made after the history it forks from is above all of it.
struct Pruning {
  bool graph_lacks_target = false;
  std::uint32_t target_level = 0;
  std::uint64_t target_generation = 0;

  // `node` is neither the target nor able to reach it when this is true.
  bool Below(const Node& node, bool or_equal) const {
    if (node.position == kNotInGraph) return false;
    if (graph_lacks_target) return true;
    if (LevelKnown(node.level) && LevelKnown(target_level) &&
        (or_equal ? node.level <= target_level : node.level < target_level)) {
      return true;
    }
    return node.generation != 0 && target_generation != 0 &&
           (or_equal ? node.generation <= target_generation
                     : node.generation < target_generation);
  }
};

class PaintWalk {
 public:
  PaintWalk(git_repository* repo, const CommitGraph* graph, const std::atomic<bool>* cancelled)
      : graph_(graph), cancelled_(cancelled), reader_(repo) {
    if (graph_ != nullptr) by_position_.assign(graph_->size(), WalkNodes<Node>::kAbsent);
  }

  Result<Containment> Run(const git_oid& target, const std::vector<RefTip>& tips);

 private:
  void Prune(const git_oid& target);
  Result<std::uint32_t> NodeFor(const git_oid& oid, std::optional<std::uint32_t> position);
  Status Describe(Node& node, std::optional<std::uint32_t> position);
  void Paint(std::uint32_t number, std::uint8_t paint, std::uint32_t label);
  Status PaintParents(std::uint32_t number);
  Status PaintParent(const git_oid& oid, std::optional<std::uint32_t> position,
                     std::uint8_t paint, std::uint32_t label);

  const CommitGraph* graph_;
  const std::atomic<bool>* cancelled_;
  CommitReader reader_;
  Pruning pruning_;
  WalkNodes<Node> nodes_;
  std::vector<std::uint32_t> by_position_;  // graph position -> node: no id to hash per step
  std::vector<git_oid> parents_;  // of the commits read from objects, node by node
  std::priority_queue<Entry> queue_;
  std::uint64_t seq_ = 0;
  std::uint64_t tip_only_ = 0;  // queued nodes for which TipOnly holds
  std::uint32_t target_ = 0;
  std::optional<std::uint32_t> found_;  // the label that reached the target
  GraphCommit graph_entry_, expanding_;  // reused buffers: Describe's, PaintParents'
  CommitHeader header_;                  // reused buffer
};

Result<Containment> PaintWalk::Run(const git_oid& target, const std::vector<RefTip>& tips) {
  Prune(target);
  BG_ASSIGN_OR_RETURN(target_, NodeFor(target, std::nullopt));
  Paint(target_, kFromTarget, 0);
  for (std::size_t i = 0; i < tips.size() && !found_; ++i) {
    BG_ASSIGN_OR_RETURN(const std::uint32_t tip, NodeFor(tips[i].commit, std::nullopt));
    Paint(tip, kFromTip, static_cast<std::uint32_t>(i));
  }
  Containment out;
  while (!found_ && tip_only_ > 0) {
    const std::uint32_t next = queue_.top().node;
    queue_.pop();
    if (TipOnly(nodes_[next])) --tip_only_;
    nodes_[next].queued = false;
    ++out.commits_walked;
    if ((out.commits_walked & 1023) == 0 && cancelled_ && cancelled_->load()) {
      return Status::Error("cancelled while walking history");
    }
    BG_RETURN_IF_ERROR(PaintParents(next));
  }
  out.tip = found_;
  out.commits_read = reader_.read_from_packs() + reader_.read_through_libgit2();
  return out;
}

void PaintWalk::Prune(const git_oid& target) {
  if (graph_ == nullptr) return;
  const auto position = graph_->Find(target);
  pruning_.graph_lacks_target = !position;
  if (position && graph_->Read(*position, graph_entry_)) {
    pruning_.target_level = graph_entry_.level;
    pruning_.target_generation = graph_entry_.generation;
  }
}

// The node of `oid`, met (and described) now if it was not before.
// A commit the graph has is found by its position (no id to hash per step); any other by id.
Result<std::uint32_t> PaintWalk::NodeFor(const git_oid& oid, std::optional<std::uint32_t> position) {
  if (!position) {
    const std::uint32_t found = nodes_.Find(oid);
    if (found != WalkNodes<Node>::kAbsent) return found;
    if (graph_ != nullptr) position = graph_->Find(oid);
  }
  if (position && *position >= by_position_.size()) position.reset();  // a bad parent position
  if (position && by_position_[*position] != WalkNodes<Node>::kAbsent) {
    return by_position_[*position];
  }
  Node node;
  node.oid = oid;
  BG_RETURN_IF_ERROR(Describe(node, position));
  const std::uint32_t number = nodes_.Add(node, /*indexed=*/node.position == kNotInGraph);
  if (position) by_position_[*position] = number;
  return number;
}

// Time, level and position from the graph when it has the commit; else time and parents from
// the object.
Status PaintWalk::Describe(Node& node, std::optional<std::uint32_t> position) {
  if (position && graph_->Read(*position, graph_entry_)) {
    node.position = *position;
    node.time = graph_entry_.time;
    node.level = graph_entry_.level;
    node.generation = graph_entry_.generation;
    return Status::Ok();
  }
  BG_RETURN_IF_ERROR(reader_.Read(node.oid, header_));
  node.time = header_.time;
  node.parents_begin = static_cast<std::uint32_t>(parents_.size());
  node.parent_count = static_cast<std::uint32_t>(header_.parents.size());
  parents_.insert(parents_.end(), header_.parents.begin(), header_.parents.end());
  return Status::Ok();
}

// Adds `paint` to a node, and queues it when that is news it must pass on.
void PaintWalk::Paint(std::uint32_t number, std::uint8_t paint, std::uint32_t label) {
  Node& node = nodes_[number];
  if ((node.paint & paint) == paint) return;
  const bool was_tip_only = TipOnly(node);
  if ((paint & kFromTip) && !(node.paint & kFromTip)) {
    node.label = label;
    if (number == target_) found_ = label;
  }
  node.paint |= paint;
  if (!node.queued && !pruning_.Below(node, /*or_equal=*/false)) {
    node.queued = true;
    queue_.push(Entry{node.time, seq_++, number});
  }
  if (TipOnly(node) != was_tip_only) {
    if (was_tip_only) {
      --tip_only_;
    } else {
      ++tip_only_;
    }
  }
}

Status PaintWalk::PaintParents(std::uint32_t number) {
  const Node node = nodes_[number];  // a copy: painting may grow the node table
  if (pruning_.Below(node, /*or_equal=*/true)) return Status::Ok();  // its parents are lower
  std::uint8_t paint = node.paint;
  if ((paint & (kFromTarget | kFromTip)) == (kFromTarget | kFromTip)) paint |= kStale;
  if (node.position != kNotInGraph) {
    if (!graph_->Read(static_cast<std::uint32_t>(node.position), expanding_)) {
      return Status::Error("commit-graph entry changed while walking");  // immutable: a bug
    }
    for (const std::uint32_t parent : expanding_.parents) {
      if (parent < by_position_.size() && by_position_[parent] != WalkNodes<Node>::kAbsent) {
        Paint(by_position_[parent], paint, node.label);  // met before: no id to look up
        continue;
      }
      BG_RETURN_IF_ERROR(PaintParent(graph_->OidAt(parent), parent, paint, node.label));
    }
    return Status::Ok();
  }
  for (std::uint32_t i = 0; i < node.parent_count; ++i) {
    const git_oid parent = parents_[node.parents_begin + i];  // a copy: parents_ may grow
    BG_RETURN_IF_ERROR(PaintParent(parent, std::nullopt, paint, node.label));
  }
  return Status::Ok();
}

Status PaintWalk::PaintParent(const git_oid& oid, std::optional<std::uint32_t> position,
                              std::uint8_t paint, std::uint32_t label) {
  BG_ASSIGN_OR_RETURN(const std::uint32_t parent, NodeFor(oid, position));
  Paint(parent, paint, label);
  return Status::Ok();
}

}  // namespace

Result<Containment> FindContainingRef(git_repository* repo, const CommitGraph* graph,
                                      const git_oid& commit, const std::vector<RefTip>& tips,
                                      const std::atomic<bool>* cancelled) {
  for (std::size_t i = 0; i < tips.size(); ++i) {
    if (git_oid_equal(&tips[i].commit, &commit)) return Containment{i, 0, 0};  // tagged exactly
  }
  PaintWalk walk(repo, graph, cancelled);
  return walk.Run(commit, tips);
}

}  // namespace bg
