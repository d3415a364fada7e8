#include "agent/intake/copy_visitor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "agent/core/errno_status.h"
#include "agent/core/sha256.h"

namespace bg {

Status CopyVisitor::OnDirectory(const std::string& rel) {
  if (rel.empty()) return Status::Ok();
  if (::mkdirat(dest_fd_, rel.c_str(), 0755) != 0) return ErrnoStatus("mkdir", rel);
  return Status::Ok();
}

Status CopyVisitor::OnFile(const std::string& rel, int fd, std::uint64_t stat_size, WalkedFile* out) {
  UniqueFd dest(::openat(dest_fd_, rel.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                         0644));
  if (!dest) return ErrnoStatus("create", rel);
  if (stat_size > 0) ::posix_fallocate(dest.get(), 0, static_cast<off_t>(stat_size));
  Sha256 hash;
  auto read = ReadAll(fd, rel, cancelled_, [&](const char* data, std::size_t n) {
    hash.Update(data, n);
    while (n > 0) {
      const ssize_t w = ::write(dest.get(), data, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", rel);
      }
      data += w;
      n -= static_cast<std::size_t>(w);
    }
    return Status::Ok();
  });
  if (!read.ok()) return read.status();
  // A file that shrank while being copied must not keep fallocate's tail.
  if (::ftruncate(dest.get(), static_cast<off_t>(*read)) != 0) return ErrnoStatus("truncate", rel);
  // Not fsync'd one by one: CopyIn syncs the whole filesystem once, after the last file.
  if (::fchmod(dest.get(), 0444) != 0) return ErrnoStatus("chmod", rel);
  out->size = *read;
  out->sha256 = hash.FinalHex();
  return Status::Ok();
}

}  // namespace bg
