// CopyVisitor: the WalkVisitor of copy intake. Each regular file is reflinked into the snapshot
// where the filesystem can (O(1)), else copied in the kernel (copy_file_range), else read once, up
// to its bound (bundle_walk.h: declared size + 1), and written and hashed in the same pass
// (through Env); a kernel copy is hashed from the snapshot's copy (clone_file.h). Either way what
// is checked is exactly what was copied.
//
// Durability, per file and per directory on held descriptors (env.h): each directory of the
// snapshot is created and opened before anything is created in it, and fsync'd on that
// descriptor once its last entry is in; each file is fsync'd on the descriptor that wrote it
// (on the FsyncQueue's threads, while the copy goes on). FinishSyncs() reports the first failure:
// the caller then throws the whole copy away and makes a fresh one later, never just syncs
// again. Every step goes through Env, so that a test can fail any of them.
//
// Files are created with O_EXCL under their directory's descriptor, space reserved with
// fallocate (a full disk shows before the copy, not midway), and made 0444.
//
// Thread safety: one walk at a time.
#pragma once

#include <atomic>
#include <map>
#include <string>

#include "agent/bundle/bundle_walk.h"
#include "agent/core/env.h"
#include "agent/core/json.h"
#include "agent/core/unique_fd.h"
#include "agent/intake/clone_file.h"
#include "agent/intake/fsync_queue.h"

namespace bg {

class CopyVisitor : public WalkVisitor {
 public:
  // `dest_fd`: the snapshot's (empty) root directory, held open by the caller, who fsyncs it;
  // `dest_path` names it in errors.
  CopyVisitor(int dest_fd, std::string dest_path, Env& env, const std::atomic<bool>* cancelled);
  Status OnDirectory(const std::string& rel) override;
  Status OnLeaveDirectory(const std::string& rel) override;
  Status OnFile(const std::string& rel, const FileToRead& file, WalkedFile* out) override;
  // Waits for every file's fsync. The first failure of the copy's durability, if any.
  Status FinishSyncs();
  // The best copy means to try (tests force the fallbacks).
  void set_best_method(CopyMethod best) { best_ = best; }
  // How many files each means copied: {"reflink": 3, "read-write": 1} (for the audit record).
  Json MethodCounts() const;

 private:
  int DirFd(const std::string& rel_dir) const;

  int dest_fd_;
  std::string dest_path_;
  Env& env_;
  const std::atomic<bool>* cancelled_;
  std::map<std::string, UniqueFd> dirs_;  // subdirectories being filled, by relative path
  FsyncQueue fsyncs_;
  CopyMethod best_ = CopyMethod::kReflink;
  std::uint64_t methods_[3] = {0, 0, 0};
};

}  // namespace bg
