// PackFile: one git pack (objects/pack/pack-<hash>.pack with its .idx), mapped, and its entries'
// headers decoded and bounds-checked (gitformat-pack(5)). Inflating and resolving deltas is
// PackReader's (pack_reader.h).
//
// Why read packs ourselves: the reachability walk (reachability.h) reads every commit between
// the allowed refs and the answer when the repository has no commit-graph, tens of thousands
// of them. Through libgit2 each read goes through its object cache, its pack window locks and a
// SHA-1 of the object, about twice what git itself pays per commit; read here, a commit costs
// one inflate. Only reading is done here, and only what the walk needs; anything this reader
// does not handle (loose objects, alternates, a delta against another pack) is read through
// libgit2 by the caller, so the answer never depends on which path read it.
//
// The pack must match its index (the index names the pack's trailing checksum, and the pack's
// header the same object count), or Open refuses it.
//
// Thread safety: immutable after Open; const methods may be called from several threads.
#pragma once

#include <git2/oid.h>

#include <cstdint>
#include <optional>
#include <string>

#include "agent/core/status.h"
#include "agent/git/mapped_file.h"
#include "agent/git/pack_index.h"

namespace bg {

// Object types as a pack writes them.
enum class PackType : std::uint8_t {
  kCommit = 1,
  kTree = 2,
  kBlob = 3,
  kTag = 4,
  kOfsDelta = 6,  // delta against the entry at an earlier offset of the same pack
  kRefDelta = 7,  // delta against the object named by id
};

// One entry's header.
struct PackEntry {
  PackType type = PackType::kCommit;
  std::uint64_t size = 0;                // inflated size (for a delta: of the delta itself)
  const std::uint8_t* data = nullptr;    // the zlib stream
  std::size_t available = 0;             // bytes from `data` to the pack's trailer
  std::uint64_t base_offset = 0;         // kOfsDelta
  git_oid base_id{};                     // kRefDelta
};

class PackFile {
 public:
  // `idx_path`: ".../pack-<hash>.idx"; the pack is the same path with ".pack".
  static Result<PackFile> Open(const std::string& idx_path);

  std::optional<std::uint64_t> Find(const git_oid& oid) const { return index_.Find(oid); }
  // The entry at `offset`; nullopt when its header is malformed or runs off the pack.
  std::optional<PackEntry> EntryAt(std::uint64_t offset) const;

 private:
  PackFile(PackIndex index, MappedFile pack) : index_(std::move(index)), pack_(std::move(pack)) {}

  PackIndex index_;
  MappedFile pack_;
};

}  // namespace bg
