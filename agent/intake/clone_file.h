// CloneFile: copies one open regular file into another by the cheapest means the filesystems
// offer, and hashes what landed in the copy.
//
// Copy intake exists so that what is checked is immune to later writes by the producer. A full
// copy reads and writes every byte; on a copy-on-write filesystem (XFS with reflink=1, btrfs,
// bcachefs) the kernel can instead share the source's extents with the copy (FICLONE): O(1) in
// the file's size, and the copy is still immune (a later write to either side is copied on
// write, the other keeps the old blocks). The means tried, best first:
//   1. reflink: ioctl(FICLONE), the whole file at once, atomic against concurrent writers;
//   2. copy_file_range: the kernel copies (or remaps, or offloads to an NFS server) without the
//      bytes crossing into user space;
//   3. read/write: the bytes through a 128 KiB buffer, hashed on the way (today's copy).
// A means that the filesystems do not support (EXDEV across filesystems, EOPNOTSUPP, EINVAL,
// ENOTTY, ENOSYS) falls through to the next one, silently; any other failure (ENOSPC, EIO,
// EDQUOT) is returned, so the caller can tell the agent's trouble from the bundle's.
//
// Reflink and copy_file_range hash the copy afterwards by reading it back (at most `limit`
// bytes): the digest is of the bytes the copy holds, never of the source, which the producer may
// change at any moment. Read/write hashes the bytes as they are written. Either way the digest
// and size describe exactly the destination file.
//
// `limit` bounds the copy: a source longer than that is copied to `limit` bytes (a reflinked
// copy is truncated to it), as the bounded read of copy intake does.
//
// Neither descriptor's file position is used or moved (explicit offsets throughout). `dst` must be
// an empty regular file opened O_RDWR. Nothing is fsync'd here.
//
// Thread safety: none needed; distinct calls on distinct files are independent.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/status.h"

namespace bg {

enum class CopyMethod { kReflink = 0, kCopyRange = 1, kReadWrite = 2 };

// "reflink", "copy_file_range", "read-write": the names the audit record uses.
std::string_view CopyMethodName(CopyMethod m);

struct ClonedFile {
  CopyMethod method = CopyMethod::kReadWrite;
  std::uint64_t size = 0;
  std::string sha256;  // 64 lower-case hex characters, of the destination's bytes
};

struct CloneOptions {
  std::uint64_t limit = std::numeric_limits<std::uint64_t>::max();
  // The best means to try: tests force the fallbacks with kCopyRange or kReadWrite.
  CopyMethod best = CopyMethod::kReflink;
  // Read/write only: reserve `size_hint` bytes first (a full disk shows before the copy).
  std::uint64_t size_hint = 0;
  const std::atomic<bool>* cancelled = nullptr;
  // Read/write only: writes `data` at the end of what was written so far (the copy is written
  // in order from offset 0). Unset: pwrite(2). Set it to route the writes through Env (fault
  // injection, env.h).
  std::function<Status(int fd, std::string_view data)> write_all;
};

// Copies `src` into `dst`; `rel` names the file in errors.
Result<ClonedFile> CloneFile(int src, int dst, const std::string& rel, const CloneOptions& options);

// The kernel's means only (1 and 2): nullopt when neither applies here and `dst` is untouched,
// so that a caller with its own read/write copy (copy intake's, through Env) can make it.
Result<std::optional<ClonedFile>> CloneFast(int src, int dst, const std::string& rel,
                                             const CloneOptions& options);

}  // namespace bg
