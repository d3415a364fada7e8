#include "agent/intake/clone_file.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "agent/core/errno_status.h"
#include "agent/core/sha256.h"

namespace bg {
namespace {

constexpr std::size_t kBlock = 128 << 10;  // stays in L2 between read and hash (bundle_walk_inl.h)
constexpr std::uint64_t kRangeChunk = 1 << 30;  // one copy_file_range call at most

// The errors that mean "this means is not available here", not "the copy failed".
bool Unsupported(int err) {
  return err == EXDEV || err == EOPNOTSUPP || err == EINVAL || err == ENOTTY || err == ENOSYS ||
         err == ETXTBSY;
}

Status CheckCancelled(const std::atomic<bool>* cancelled, const std::string& rel) {
  if (cancelled != nullptr && cancelled->load(std::memory_order_relaxed)) {
    return Status::Error("cancelled while copying " + rel);
  }
  return Status::Ok();
}

char* Buffer() {
  thread_local std::unique_ptr<char[]> buffer(new char[kBlock]);
  return buffer.get();
}

// Reads `fd` from offset 0 to its end, at most `limit` bytes, hashing each block and handing
// it to `sink` (which may fail) at its offset: the hashing of a clone and the read/write copy
// are the same loop. `what` names the read in errors ("read", "read back the copy of").
template <typename Sink>
Result<ClonedFile> ReadHashing(int fd, CopyMethod method, const char* what, const std::string& rel,
                               const CloneOptions& o, Sink&& sink) {
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  char* buf = Buffer();
  Sha256 hash;
  std::uint64_t off = 0;
  while (off < o.limit) {
    BG_RETURN_IF_ERROR(CheckCancelled(o.cancelled, rel));
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kBlock, o.limit - off));
    const ssize_t n = ::pread(fd, buf, want, static_cast<off_t>(off));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(what, rel);
    }
    if (n == 0) break;
    hash.Update(buf, static_cast<std::size_t>(n));
    BG_RETURN_IF_ERROR(sink(std::string_view(buf, static_cast<std::size_t>(n)), off));
    off += static_cast<std::uint64_t>(n);
  }
  return ClonedFile{method, off, hash.FinalHex()};
}

// Hashes `fd` (the copy) from offset 0 to its end, at most `limit` bytes.
Result<ClonedFile> HashCopy(int fd, CopyMethod method, const std::string& rel,
                            const CloneOptions& o) {
  return ReadHashing(fd, method, "read back the copy of", rel, o,
                     [](std::string_view, std::uint64_t) { return Status::Ok(); });
}

// 1. FICLONE. Returns false (and leaves `dst` empty) where the filesystems cannot.
Result<bool> TryReflink(int src, int dst, const std::string& rel, const CloneOptions& o) {
  if (::ioctl(dst, FICLONE, src) != 0) {
    const int err = errno;
    if (Unsupported(err) || err == EBADF) return false;  // EBADF: src on another mount
    return ErrnoStatus("clone", rel, err);
  }
  struct stat st;
  if (::fstat(dst, &st) != 0) return ErrnoStatus("stat the clone of", rel);
  if (static_cast<std::uint64_t>(st.st_size) > o.limit &&
      ::ftruncate(dst, static_cast<off_t>(o.limit)) != 0) {
    return ErrnoStatus("truncate the clone of", rel);
  }
  return true;
}

// 2. copy_file_range until the source's end (or `limit`). False where unsupported before the
// first byte; a failure midway is an error like any other.
Result<bool> TryCopyRange(int src, int dst, const std::string& rel, const CloneOptions& o) {
  loff_t in = 0, out = 0;
  while (static_cast<std::uint64_t>(in) < o.limit) {
    BG_RETURN_IF_ERROR(CheckCancelled(o.cancelled, rel));
    const auto want = static_cast<std::size_t>(
        std::min<std::uint64_t>(kRangeChunk, o.limit - static_cast<std::uint64_t>(in)));
    const ssize_t n = ::copy_file_range(src, &in, dst, &out, want, 0);
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      if (in == 0 && Unsupported(err)) return false;
      return ErrnoStatus("copy_file_range", rel, err);
    }
    if (n == 0) break;
  }
  return true;
}

// 3. read/write through user space, hashing on the way.
Result<ClonedFile> ReadWrite(int src, int dst, const std::string& rel, const CloneOptions& o) {
  if (o.size_hint > 0) {
    const int err = ::posix_fallocate(dst, 0, static_cast<off_t>(std::min(o.size_hint, o.limit)));
    if (err == ENOSPC || err == EDQUOT) return ErrnoStatus("reserve space for", rel, err);
  }
  BG_ASSIGN_OR_RETURN(
      ClonedFile copy,
      ReadHashing(src, CopyMethod::kReadWrite, "read", rel, o,
                  [dst, &rel, &o](std::string_view block, std::uint64_t off) -> Status {
                    if (o.write_all) return o.write_all(dst, block);
                    for (std::size_t done = 0; done < block.size();) {
                      const ssize_t w = ::pwrite(dst, block.data() + done, block.size() - done,
                                                 static_cast<off_t>(off + done));
                      if (w < 0) {
                        if (errno == EINTR) continue;
                        return ErrnoStatus("write", rel);
                      }
                      done += static_cast<std::size_t>(w);
                    }
                    return Status::Ok();
                  }));
  const std::uint64_t off = copy.size;
  // A file that shrank while being copied must not keep fallocate's tail.
  struct stat st;
  if (::fstat(dst, &st) != 0) return ErrnoStatus("stat the copy of", rel);
  if (static_cast<std::uint64_t>(st.st_size) != off && ::ftruncate(dst, static_cast<off_t>(off)) != 0) {
    return ErrnoStatus("truncate", rel);
  }
  return copy;
}

}  // namespace

std::string_view CopyMethodName(CopyMethod m) {
  switch (m) {
    case CopyMethod::kReflink: return "reflink";
    case CopyMethod::kCopyRange: return "copy_file_range";
    case CopyMethod::kReadWrite: return "read-write";
  }
  return "read-write";
}

Result<std::optional<ClonedFile>> CloneFast(int src, int dst, const std::string& rel,
                                             const CloneOptions& options) {
  if (options.best <= CopyMethod::kReflink) {
    BG_ASSIGN_OR_RETURN(bool cloned, TryReflink(src, dst, rel, options));
    if (cloned) {
      BG_ASSIGN_OR_RETURN(ClonedFile copy, HashCopy(dst, CopyMethod::kReflink, rel, options));
      return std::optional<ClonedFile>(std::move(copy));
    }
  }
  if (options.best <= CopyMethod::kCopyRange) {
    BG_ASSIGN_OR_RETURN(bool copied, TryCopyRange(src, dst, rel, options));
    if (copied) {
      BG_ASSIGN_OR_RETURN(ClonedFile copy, HashCopy(dst, CopyMethod::kCopyRange, rel, options));
      return std::optional<ClonedFile>(std::move(copy));
    }
  }
  return std::optional<ClonedFile>();
}

Result<ClonedFile> CloneFile(int src, int dst, const std::string& rel, const CloneOptions& options) {
  BG_ASSIGN_OR_RETURN(std::optional<ClonedFile> fast, CloneFast(src, dst, rel, options));
  if (fast) return std::move(*fast);
  return ReadWrite(src, dst, rel, options);
}

}  // namespace bg
