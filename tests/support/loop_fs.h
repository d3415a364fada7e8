// LoopFs: a small real filesystem made at test time, in a sparse image file loop-mounted on a
// fresh directory, unmounted and deleted at the end. Kinds: "xfs-reflink" (mkfs.xfs -m
// reflink=1: FICLONE works), "ext4" (no reflinks). Needs root, loop devices and the mkfs tool;
// where any is missing, ok() is false and why() says which, so the test can skip with a reason.
//
// Thread safety: none; one per test.
#pragma once

#include <cstdint>
#include <string>

#include "tests/support/temp_dir.h"

namespace bg::test {

class LoopFs {
 public:
  explicit LoopFs(const std::string& kind, std::uint64_t bytes = 512ull << 20);
  ~LoopFs();
  LoopFs(const LoopFs&) = delete;
  LoopFs& operator=(const LoopFs&) = delete;

  bool ok() const { return !mount_.empty(); }
  const std::string& why() const { return why_; }
  const std::string& path() const { return mount_; }  // the mounted filesystem's root

 private:
  TempDir dir_;  // holds the image and the mount point
  std::string mount_;
  std::string why_;
};

// True when the extents of the file at `path` are all shared with another file (FIEMAP's
// FIEMAP_EXTENT_SHARED): it is a reflink, not a copy. False for an empty file.
bool AllExtentsShared(const std::string& path);

}  // namespace bg::test
