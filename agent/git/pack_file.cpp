#include "agent/git/pack_file.h"

#include <cstring>

#include "agent/git/big_endian.h"

namespace bg {
namespace {

constexpr std::size_t kHash = 20;
constexpr std::size_t kHeader = 12;  // "PACK", version, object count

}  // namespace

Result<PackFile> PackFile::Open(const std::string& idx_path) {
  const std::string suffix = ".idx";
  if (idx_path.size() <= suffix.size() ||
      idx_path.compare(idx_path.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return Status::Error(idx_path + " is not a pack index");
  }
  const std::string pack_path = idx_path.substr(0, idx_path.size() - suffix.size()) + ".pack";
  BG_ASSIGN_OR_RETURN(MappedFile idx_file, MappedFile::Open(idx_path));
  BG_ASSIGN_OR_RETURN(PackIndex index, PackIndex::Parse(std::move(idx_file)));
  BG_ASSIGN_OR_RETURN(MappedFile pack, MappedFile::Open(pack_path));
  const std::uint8_t* p = pack.data();
  if (pack.size() < kHeader + kHash || std::memcmp(p, "PACK", 4) != 0 ||
      (Be32(p + 4) != 2 && Be32(p + 4) != 3)) {
    return Status::Error(pack_path + " is not a version 2 or 3 pack");
  }
  if (Be32(p + 8) != index.count() ||
      std::memcmp(p + pack.size() - kHash, index.pack_checksum(), kHash) != 0) {
    return Status::Error(pack_path + " does not match its index " + idx_path);
  }
  return PackFile(std::move(index), std::move(pack));
}

std::optional<PackEntry> PackFile::EntryAt(std::uint64_t offset) const {
  const std::size_t end = pack_.size() - kHash;  // the trailer is no entry's
  if (offset < kHeader || offset >= end) return std::nullopt;
  const std::uint8_t* p = pack_.data();
  std::size_t at = offset;
  // Type and size: 3 type bits and 4 size bits, then 7 more size bits a byte.
  std::uint8_t byte = p[at++];
  PackEntry entry;
  entry.type = static_cast<PackType>((byte >> 4) & 7);
  entry.size = byte & 0x0F;
  for (int shift = 4; byte & 0x80; shift += 7) {
    if (at >= end || shift > 57) return std::nullopt;
    byte = p[at++];
    entry.size |= std::uint64_t{byte & 0x7Fu} << shift;
  }
  switch (entry.type) {
    case PackType::kCommit:
    case PackType::kTree:
    case PackType::kBlob:
    case PackType::kTag:
      break;
    case PackType::kOfsDelta: {  // a distance back, big-endian 7 bits a byte, each +1
      if (at >= end) return std::nullopt;
      byte = p[at++];
      std::uint64_t back = byte & 0x7F;
      while (byte & 0x80) {
        if (at >= end || back >= (std::uint64_t{1} << 56)) return std::nullopt;
        byte = p[at++];
        back = ((back + 1) << 7) | (byte & 0x7F);
      }
      if (back == 0 || back > offset) return std::nullopt;
      entry.base_offset = offset - back;
      break;
    }
    case PackType::kRefDelta:
      if (end - at < kHash) return std::nullopt;
      git_oid_fromraw(&entry.base_id, p + at);
      at += kHash;
      break;
    default:
      return std::nullopt;  // 0 and 5 are reserved
  }
  entry.data = p + at;
  entry.available = end - at;
  return entry;
}

}  // namespace bg
