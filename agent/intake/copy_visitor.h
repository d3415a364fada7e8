// CopyVisitor: the WalkVisitor of copy intake. Each regular file is read once: the bytes are
// written into the snapshot and hashed in the same pass, so what is checked is exactly what was
// copied. Files are created with O_EXCL under a directory descriptor and made 0444; the caller
// makes them durable (one syncfs for the whole copy).
#pragma once

#include <atomic>
#include <string>

#include "agent/bundle/bundle_walk.h"
#include "agent/core/unique_fd.h"

namespace bg {

class CopyVisitor : public WalkVisitor {
 public:
  // `dest` must be an empty directory descriptor.
  CopyVisitor(int dest_fd, const std::atomic<bool>* cancelled)
      : dest_fd_(dest_fd), cancelled_(cancelled) {}
  Status OnDirectory(const std::string& rel) override;
  Status OnFile(const std::string& rel, int fd, std::uint64_t stat_size, WalkedFile* out) override;

 private:
  int dest_fd_;
  const std::atomic<bool>* cancelled_;
};

}  // namespace bg
