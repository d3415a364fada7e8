// WalkNodes: the commits a history walk has met, numbered densely in the order met, with an
// index from commit id to number (open addressing, keyed by the id's first 8 bytes: an object
// id is already a uniform hash). A walk over a large history meets every commit once; a std::
// unordered_map costs an allocation per commit and a pointer chase per probe, this a probe in
// one array that holds the key's bytes next to the number.
//
// Thread safety: none; one per walk.
#pragma once

#include <git2/oid.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace bg {

template <typename Node>  // Node has members `git_oid oid` and `bool indexed`
class WalkNodes {
 public:
  static constexpr std::uint32_t kAbsent = UINT32_MAX;

  // The number of `oid`, or kAbsent.
  std::uint32_t Find(const git_oid& oid) const {
    if (slots_.empty()) return kAbsent;
    const std::uint64_t key = Key(oid);
    for (std::size_t at = key & mask_;; at = (at + 1) & mask_) {
      const Slot& slot = slots_[at];
      if (slot.number == 0) return kAbsent;
      if (slot.key == key && git_oid_equal(&nodes_[slot.number - 1].oid, &oid)) {
        return slot.number - 1;
      }
    }
  }

  // Adds `node` (whose id must not be present yet) and returns its number. Without `indexed`
  // Find will not find it (the caller keeps its own index, e.g. by commit-graph position).
  std::uint32_t Add(const Node& node, bool indexed = true) {
    if (indexed && (indexed_ + 1) * 2 > slots_.size()) Grow();
    const auto number = static_cast<std::uint32_t>(nodes_.size());
    nodes_.push_back(node);
    nodes_.back().indexed = indexed;
    if (indexed) {
      Place(number);
      ++indexed_;
    }
    return number;
  }

  Node& operator[](std::uint32_t number) { return nodes_[number]; }
  const Node& operator[](std::uint32_t number) const { return nodes_[number]; }
  std::size_t size() const { return nodes_.size(); }

 private:
  struct Slot {
    std::uint64_t key = 0;
    std::uint32_t number = 0;  // node number + 1; 0 = empty
  };

  static std::uint64_t Key(const git_oid& oid) {
    std::uint64_t key;
    std::memcpy(&key, oid.id, sizeof key);
    return key;
  }

  void Place(std::uint32_t number) {
    const std::uint64_t key = Key(nodes_[number].oid);
    std::size_t at = key & mask_;
    while (slots_[at].number != 0) at = (at + 1) & mask_;
    slots_[at] = Slot{key, number + 1};
  }

  void Grow() {
    slots_.assign(slots_.empty() ? 1024 : slots_.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].indexed) Place(i);
    }
  }

  std::vector<Node> nodes_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t indexed_ = 0;
};

}  // namespace bg
