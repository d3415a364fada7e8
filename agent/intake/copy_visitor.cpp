#include "agent/intake/copy_visitor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "agent/core/errno_status.h"

namespace bg {

Status CopyVisitor::OnDirectory(const std::string& rel) {
  if (rel.empty()) return Status::Ok();
  if (::mkdirat(dest_fd_, rel.c_str(), 0755) != 0) return ErrnoStatus("mkdir", rel);
  return Status::Ok();
}

Status CopyVisitor::OnFile(const std::string& rel, int fd, std::uint64_t stat_size, WalkedFile* out) {
  UniqueFd dest(::openat(dest_fd_, rel.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                         0644));
  if (!dest) return ErrnoStatus("create", rel);
  // Reflinked where the filesystem can (O(1)), else copied; hashed from the copy (clone_file.h).
  CloneOptions how;
  how.best = best_;
  how.size_hint = stat_size;
  how.cancelled = cancelled_;
  BG_ASSIGN_OR_RETURN(ClonedFile copied, CloneFile(fd, dest.get(), rel, how));
  ++methods_[static_cast<int>(copied.method)];
  // Not fsync'd one by one: CopyIn syncs the whole filesystem once, after the last file.
  if (::fchmod(dest.get(), 0444) != 0) return ErrnoStatus("chmod", rel);
  out->size = copied.size;
  out->sha256 = std::move(copied.sha256);
  return Status::Ok();
}

Json CopyVisitor::MethodCounts() const {
  Json j = Json::object();
  for (int m = 0; m < 3; ++m) {
    if (methods_[m] > 0) j[std::string(CopyMethodName(static_cast<CopyMethod>(m)))] = methods_[m];
  }
  return j;
}

}  // namespace bg
