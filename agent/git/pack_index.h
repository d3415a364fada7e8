// PackIndex: one pack's index file (objects/pack/pack-<hash>.idx, version 2: gitformat-pack(5)),
// parsed and bounds-checked: which objects the pack holds, and where.
//
// Why read it ourselves: see pack_file.h. Version 1 indexes (git before 1.5.2) are refused; the
// caller then reads those objects through libgit2. Every table size is checked against the file
// size at Parse, and every offset the index hands out was checked against the pack's size by
// the caller (PackFile), so a truncated or garbled index is refused, never read out of bounds.
//
// Thread safety: immutable after Parse; const methods may be called from several threads.
#pragma once

#include <git2/oid.h>

#include <cstdint>
#include <optional>

#include "agent/core/status.h"
#include "agent/git/mapped_file.h"

namespace bg {

class PackIndex {
 public:
  static Result<PackIndex> Parse(MappedFile file);

  std::uint32_t count() const { return count_; }
  // The offset in the pack of the object `oid`, or nullopt when the pack does not hold it.
  std::optional<std::uint64_t> Find(const git_oid& oid) const;
  // The trailing checksum of the pack this index describes (the pack's own last 20 bytes).
  const std::uint8_t* pack_checksum() const { return pack_checksum_; }

 private:
  explicit PackIndex(MappedFile file) : file_(std::move(file)) {}
  std::optional<std::uint64_t> OffsetAt(std::uint32_t index) const;

  MappedFile file_;
  const std::uint8_t* fanout_ = nullptr;    // 256 x 4
  const std::uint8_t* oids_ = nullptr;      // count x 20
  const std::uint8_t* offsets_ = nullptr;   // count x 4
  const std::uint8_t* large_ = nullptr;     // large_count x 8
  const std::uint8_t* pack_checksum_ = nullptr;
  std::uint32_t count_ = 0;
  std::uint64_t large_count_ = 0;
};

}  // namespace bg
