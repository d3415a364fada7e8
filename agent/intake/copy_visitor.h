// CopyVisitor: the WalkVisitor of copy intake. Each regular file is reflinked into the snapshot
// where the filesystem can, else copied (clone_file.h), and hashed from the snapshot's copy, so
// what is checked is exactly what was copied. Files are created with O_EXCL under a directory descriptor and made 0444; the caller
// makes them durable (one syncfs for the whole copy).
#pragma once

#include <atomic>
#include <string>

#include "agent/bundle/bundle_walk.h"
#include "agent/core/json.h"
#include "agent/core/unique_fd.h"
#include "agent/intake/clone_file.h"

namespace bg {

class CopyVisitor : public WalkVisitor {
 public:
  // `dest` must be an empty directory descriptor.
  CopyVisitor(int dest_fd, const std::atomic<bool>* cancelled)
      : dest_fd_(dest_fd), cancelled_(cancelled) {}
  Status OnDirectory(const std::string& rel) override;
  Status OnFile(const std::string& rel, int fd, std::uint64_t stat_size, WalkedFile* out) override;
  // The best copy means to try (tests force the fallbacks).
  void set_best_method(CopyMethod best) { best_ = best; }
  // How many files each means copied: {"reflink": 3, "read-write": 1} (for the audit record).
  Json MethodCounts() const;

 private:
  int dest_fd_;
  const std::atomic<bool>* cancelled_;
  CopyMethod best_ = CopyMethod::kReflink;
  std::uint64_t methods_[3] = {0, 0, 0};
};

}  // namespace bg
