// Durability of the decision steps, per file and per directory, on descriptors held across the
// change they make durable.
//
// Why not syncfs(2) (one call per step, as before): it flushes every dirty page of the whole
// filesystem, so a training job writing a checkpoint beside the root made each promotion wait
// for gigabytes that are none of its business (issue 8: p99 6 s with a 3 GB writer). And an
// fsync or syncfs on a descriptor opened after a write-back error may not report it (fsyncgate):
// a descriptor held from before the change is the one that sees its error.
//
// After a failed sync the caller redoes the step's writes (a fresh copy, a rewritten file): the
// failed pages may have been dropped or marked clean, so syncing again proves nothing.
//
// Everything goes through Env (Open, Fsync), where fault injection can fail it.
//
// Thread safety: free functions; a DirectoryHandle belongs to one thread.
#pragma once

#include <string>

#include "agent/core/env.h"
#include "agent/core/status.h"
#include "agent/core/unique_fd.h"

namespace bg {

// A directory opened before the renames or creations in it that it will make durable.
class DirectoryHandle {
 public:
  static Result<DirectoryHandle> Open(Env& env, const std::string& dir);
  // fsync(2) of the held descriptor.
  Status Sync();
  const std::string& path() const { return path_; }

 private:
  DirectoryHandle(Env& env, std::string path, UniqueFd fd)
      : env_(&env), path_(std::move(path)), fd_(std::move(fd)) {}
  Env* env_;
  std::string path_;
  UniqueFd fd_;
};

// Makes every regular file and directory under `root` (never following a symlink) durable no
// later than the caller's next fsync, in that filesystem, of something it changes after this
// call (the rename that gives the tree its new name, say):
//  - on a filesystem whose one journal commits metadata in order (ext4, XFS: OrderedJournal),
//    write-back of each file is started, then waited for on the same descriptor (write-back
//    errors are reported here); that later fsync commits the journal with the files' blocks and
//    flushes the device cache first, so one flush covers the whole tree;
//  - elsewhere, each file and directory is fsync'd (children first, the root last).
// Either way the descriptors are held across the wait, a chunk of files at a time.
Status SyncTreeBefore(Env& env, const std::string& root);
// The same, durable when it returns: each file and directory fsync'd, whatever the filesystem
// (for a tree whose next step is in another filesystem).
Status SyncTree(Env& env, const std::string& root);

// Whether `path` is on ext3/ext4 or XFS (from /proc/self/mountinfo, by device).
bool OrderedJournal(const std::string& path);

// The directory holding `path` ("." when none).
std::string ParentDirectory(const std::string& path);

}  // namespace bg
