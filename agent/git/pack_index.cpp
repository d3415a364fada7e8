#include "agent/git/pack_index.h"

#include <cstring>

#include "agent/git/big_endian.h"

namespace bg {
namespace {

constexpr std::size_t kHash = 20;
constexpr std::size_t kHeader = 8;  // "\377tOc", version
constexpr std::size_t kFanout = 256 * 4;
constexpr std::uint32_t kLargeOffset = 0x80000000;

Status Bad(const std::string& why) { return Status::Error("invalid pack index: " + why); }

}  // namespace

Result<PackIndex> PackIndex::Parse(MappedFile file) {
  PackIndex index(std::move(file));
  const std::uint8_t* p = index.file_.data();
  const std::size_t size = index.file_.size();
  if (size < kHeader + kFanout + 2 * kHash) return Bad("too short");
  if (std::memcmp(p, "\377tOc", 4) != 0) return Bad("not a version 2 index");
  if (Be32(p + 4) != 2) return Bad("unsupported version " + std::to_string(Be32(p + 4)));
  index.fanout_ = p + kHeader;
  for (int i = 1; i < 256; ++i) {
    if (Be32(index.fanout_ + i * 4) < Be32(index.fanout_ + (i - 1) * 4)) {
      return Bad("fanout not sorted");
    }
  }
  index.count_ = Be32(index.fanout_ + 255 * 4);
  const std::uint64_t n = index.count_;
  const std::uint64_t tables = kHeader + kFanout + n * (kHash + 4 + 4);  // ids, CRCs, offsets
  if (tables + 2 * kHash > size) return Bad("tables run past the end");
  const std::uint64_t large_bytes = size - 2 * kHash - tables;
  if (large_bytes % 8 != 0) return Bad("large offset table size");
  index.oids_ = p + kHeader + kFanout;
  index.offsets_ = index.oids_ + n * (kHash + 4);
  index.large_ = index.offsets_ + n * 4;
  index.large_count_ = large_bytes / 8;
  index.pack_checksum_ = p + size - 2 * kHash;
  return index;
}

std::optional<std::uint64_t> PackIndex::Find(const git_oid& oid) const {
  const std::uint8_t first = oid.id[0];
  std::uint32_t lo = first == 0 ? 0 : Be32(fanout_ + (first - 1) * 4);
  std::uint32_t hi = Be32(fanout_ + first * 4);
  const std::uint64_t key = Be64(oid.id);  // ids compare as their first 8 bytes, big-endian
  while (lo < hi) {
    const std::uint32_t mid = lo + (hi - lo) / 2;
    const std::uint8_t* id = oids_ + std::size_t{mid} * kHash;
    const std::uint64_t head = Be64(id);
    const int cmp = head != key ? (head < key ? -1 : 1) : std::memcmp(id + 8, oid.id + 8, kHash - 8);
    if (cmp == 0) return OffsetAt(mid);
    if (cmp < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> PackIndex::OffsetAt(std::uint32_t index) const {
  const std::uint32_t small = Be32(offsets_ + std::size_t{index} * 4);
  if ((small & kLargeOffset) == 0) return small;
  const std::uint32_t large = small & ~kLargeOffset;
  if (large >= large_count_) return std::nullopt;  // garbled: treat as absent
  return Be64(large_ + std::size_t{large} * 8);
}

}  // namespace bg
