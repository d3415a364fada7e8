#include "agent/git/commit_graph_layer.h"

#include <cstring>

#include "agent/git/big_endian.h"

namespace bg {
namespace {

constexpr std::size_t kHash = 20;        // SHA-1
constexpr std::size_t kHeader = 8;       // "CGPH", version, hash version, chunks, bases
constexpr std::size_t kChunkEntry = 12;  // id, 8-byte offset
constexpr std::size_t kDataEntry = kHash + 16;
constexpr std::uint32_t kParentNone = 0x70000000;
constexpr std::uint32_t kExtraEdges = 0x80000000;  // in the 2nd parent: an index into EDGE
constexpr std::uint32_t kLastEdge = 0x80000000;

constexpr std::uint32_t ChunkId(const char (&id)[5]) {
  return (std::uint32_t(std::uint8_t(id[0])) << 24) | (std::uint32_t(std::uint8_t(id[1])) << 16) |
         (std::uint32_t(std::uint8_t(id[2])) << 8) | std::uint32_t(std::uint8_t(id[3]));
}

Status Bad(const std::string& why) { return Status::Error("invalid commit-graph file: " + why); }

}  // namespace

Result<CommitGraphLayer> CommitGraphLayer::Parse(MappedFile file, std::uint32_t first_position,
                                                 const std::vector<git_oid>& base_hashes) {
  CommitGraphLayer layer(std::move(file));
  layer.first_ = first_position;
  const std::uint8_t* p = layer.file_.data();
  if (layer.file_.size() < kHeader + kChunkEntry + kHash) return Bad("too short");
  if (std::memcmp(p, "CGPH", 4) != 0) return Bad("no CGPH signature");
  if (p[4] != 1) return Bad("unsupported version " + std::to_string(p[4]));
  if (p[5] != 1) return Bad("not a SHA-1 graph");
  BG_RETURN_IF_ERROR(layer.ParseChunks());
  BG_RETURN_IF_ERROR(layer.CheckBases(p[7], base_hashes));
  return layer;
}

Status CommitGraphLayer::ParseChunks() {
  struct Span {
    const std::uint8_t* data = nullptr;
    std::uint64_t size = 0;
  } oidf, oidl, cdat, edge, base, gda2, gdo2;
  const std::uint8_t* p = file_.data();
  const std::size_t chunks = p[6];
  const std::size_t table_end = kHeader + (chunks + 1) * kChunkEntry;
  const std::size_t body_end = file_.size() - kHash;
  if (table_end > body_end) return Bad("chunk table runs past the end");
  for (std::size_t i = 0; i < chunks; ++i) {
    const std::uint8_t* entry = p + kHeader + i * kChunkEntry;
    const std::uint64_t start = Be64(entry + 4);
    const std::uint64_t end = Be64(entry + kChunkEntry + 4);
    if (start < table_end || start > end || end > body_end) return Bad("chunk out of bounds");
    const Span span{p + start, end - start};
    switch (Be32(entry)) {
      case ChunkId("OIDF"): oidf = span; break;
      case ChunkId("OIDL"): oidl = span; break;
      case ChunkId("CDAT"): cdat = span; break;
      case ChunkId("EDGE"): edge = span; break;
      case ChunkId("BASE"): base = span; break;
      case ChunkId("GDA2"): gda2 = span; break;
      case ChunkId("GDO2"): gdo2 = span; break;
      default: break;  // Bloom filters: not needed
    }
  }
  if (!oidf.data || oidf.size != 256 * 4) return Bad("no valid OIDF chunk");
  if (!oidl.data || oidl.size % kHash != 0) return Bad("no valid OIDL chunk");
  count_ = static_cast<std::uint32_t>(oidl.size / kHash);
  if (!cdat.data || cdat.size != std::uint64_t{count_} * kDataEntry)
    return Bad("no valid CDAT chunk");
  if (edge.size % 4 != 0) return Bad("EDGE chunk size");
  fanout_ = oidf.data;
  oids_ = oidl.data;
  data_ = cdat.data;
  edges_ = edge.data;
  edge_count_ = static_cast<std::uint32_t>(edge.size / 4);
  bases_ = base.data;
  bases_size_ = base.size;
  if (gda2.data != nullptr) {  // generation data of another size is ignored, never trusted
    if (gda2.size == std::uint64_t{count_} * 4 && gdo2.size % 8 == 0) {
      generations_ = gda2.data;
      overflow_ = gdo2.data;
      overflow_count_ = gdo2.size / 8;
    }
  }
  if (Be32(fanout_ + 255 * 4) != count_) return Bad("fanout and OIDL disagree");
  for (int i = 1; i < 256; ++i) {
    if (Be32(fanout_ + i * 4) < Be32(fanout_ + (i - 1) * 4)) return Bad("fanout not sorted");
  }
  return Status::Ok();
}

Status CommitGraphLayer::CheckBases(std::uint32_t base_count,
                                    const std::vector<git_oid>& base_hashes) const {
  if (base_count != base_hashes.size()) return Bad("its chain of base graphs does not match");
  if (base_count > 0 && bases_size_ != std::uint64_t{base_count} * kHash) return Bad("BASE size");
  for (std::uint32_t i = 0; i < base_count; ++i) {
    if (std::memcmp(bases_ + i * kHash, base_hashes[i].id, kHash) != 0) {
      return Bad("its BASE chunk does not name the chain's layers");
    }
  }
  return Status::Ok();
}

git_oid CommitGraphLayer::checksum() const {
  git_oid oid;
  git_oid_fromraw(&oid, file_.data() + file_.size() - kHash);
  return oid;
}

std::optional<std::uint32_t> CommitGraphLayer::Find(const git_oid& oid) const {
  const std::uint8_t first = oid.id[0];
  std::uint32_t lo = first == 0 ? 0 : Be32(fanout_ + (first - 1) * 4);
  std::uint32_t hi = Be32(fanout_ + first * 4);
  while (lo < hi) {
    const std::uint32_t mid = lo + (hi - lo) / 2;
    const int cmp = std::memcmp(oids_ + std::size_t{mid} * kHash, oid.id, kHash);
    if (cmp == 0) return mid;
    if (cmp < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return std::nullopt;
}

git_oid CommitGraphLayer::OidAt(std::uint32_t index) const {
  git_oid oid;
  std::memcpy(oid.id, oids_ + std::size_t{index} * kHash, kHash);
  return oid;
}

bool CommitGraphLayer::Read(std::uint32_t index, std::uint32_t total, GraphCommit& out) const {
  if (index >= count_) return false;
  const std::uint8_t* e = data_ + std::size_t{index} * kDataEntry + kHash;
  const std::uint32_t p1 = Be32(e), p2 = Be32(e + 4), high = Be32(e + 8), low = Be32(e + 12);
  out.level = high >> 2;
  out.time = static_cast<std::int64_t>((std::uint64_t{high & 3} << 32) | low);
  out.parents.clear();
  if (!ReadGeneration(index, out)) return false;
  if (p1 == kParentNone) return true;
  if (p1 >= total) return false;
  out.parents.push_back(p1);
  if (p2 == kParentNone) return true;
  if ((p2 & kExtraEdges) != 0) return ReadExtraEdges(p2 & ~kExtraEdges, total, out);
  if (p2 >= total) return false;
  out.parents.push_back(p2);
  return true;
}

// The corrected commit date is stored as an offset from the commit time: 31 bits, or with the
// top bit set, the index of a 64-bit offset in GDO2.
bool CommitGraphLayer::ReadGeneration(std::uint32_t index, GraphCommit& out) const {
  out.generation = 0;
  if (generations_ == nullptr) return true;
  const std::uint32_t stored = Be32(generations_ + std::size_t{index} * 4);
  std::uint64_t offset = stored;
  if (stored & 0x80000000u) {
    const std::uint32_t at = stored & 0x7FFFFFFFu;
    if (at >= overflow_count_) return false;
    offset = Be64(overflow_ + std::size_t{at} * 8);
  }
  out.generation = static_cast<std::uint64_t>(out.time) + offset;
  return true;
}

bool CommitGraphLayer::ReadExtraEdges(std::uint32_t start, std::uint32_t total,
                                      GraphCommit& out) const {
  for (std::uint32_t i = start; i < edge_count_; ++i) {
    const std::uint32_t edge = Be32(edges_ + std::size_t{i} * 4);
    if ((edge & ~kLastEdge) >= total) return false;
    out.parents.push_back(edge & ~kLastEdge);
    if ((edge & kLastEdge) != 0) return true;
  }
  return false;  // ran off the end of EDGE (or there is none)
}

}  // namespace bg
