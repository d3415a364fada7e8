// PackReader: reads objects straight from a repository's pack files (pack_file.h): finds the
// pack that holds an id, inflates the entry, and rebuilds deltas against bases in the same pack,
// keeping recent bases in a small cache (git keeps most commits whole, and a delta's base is
// usually the commit read just before it).
//
// It is a fast path, never the only one: Read says false for anything it does not handle (no
// pack holds the id, a delta whose base lives elsewhere, a chain deeper than kMaxDeltaChain, an
// object larger than kMaxObject, a malformed entry, an object of another type than asked), and
// the caller reads that object through libgit2, which reports a real error if there is one.
// What it returns is checked by zlib (every inflate must end exactly at the declared size, with
// the stream's Adler-32 verified), as git itself checks pack reads.
//
// Thread safety: not thread-safe (one inflate stream, one cache); one reader per walk.
#pragma once

#include <git2/oid.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/git/pack_file.h"

namespace bg {

class PackReader {
 public:
  static constexpr std::size_t kMaxObject = 16u << 20;
  static constexpr std::size_t kMaxDeltaChain = 10000;

  // The packs of the object database at `objects_dir` ("<git dir>/objects"). A pack that
  // cannot be opened is left out (its objects are then read through libgit2).
  explicit PackReader(const std::string& objects_dir);
  ~PackReader();
  PackReader(const PackReader&) = delete;
  PackReader& operator=(const PackReader&) = delete;

  // The bytes of object `oid` when a pack holds it as an object of type `type` (kCommit,
  // kTree, kBlob or kTag) and this reader can rebuild it; false otherwise (see above).
  bool Read(const git_oid& oid, PackType type, std::string& out);

  // The type of object `oid` (kCommit, kTree, kBlob or kTag) from the entry headers alone, or
  // nullopt when no pack holds it or its delta chain cannot be followed here.
  std::optional<PackType> TypeOf(const git_oid& oid) const;

  std::size_t packs() const { return packs_.size(); }

 private:
  struct CachedBase {
    std::size_t pack = SIZE_MAX;
    std::uint64_t offset = 0;
    PackType type = PackType::kCommit;
    std::string data;
  };
  struct Inflater;
  struct Link {
    PackEntry entry;
    std::uint64_t offset;
  };

  std::optional<std::size_t> PackOf(const git_oid& oid, std::uint64_t& offset) const;
  bool ReadAt(std::size_t pack, std::uint64_t offset, PackType& type, std::string& out);
  bool Inflate(const PackEntry& entry, std::string& out);
  CachedBase& Slot(std::size_t pack, std::uint64_t offset);

  std::vector<PackFile> packs_;
  mutable std::size_t last_hit_ = 0;  // consecutive commits are usually in the same pack
  std::unique_ptr<Inflater> inflater_;
  std::array<CachedBase, 256> cache_;
  std::vector<Link> chain_;  // reused: the deltas above the base, top first
  std::string delta_;             // reused
};

}  // namespace bg
