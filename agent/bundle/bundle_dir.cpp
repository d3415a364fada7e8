#include "agent/bundle/bundle_dir.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "agent/core/errno_status.h"
#include "agent/manifest/manifest.h"

namespace bg {
namespace {

int RawOpenat2(int dirfd, const char* path, std::uint64_t flags, std::uint64_t resolve) {
  struct open_how how {};
  how.flags = flags;
  how.resolve = resolve;
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

bool ProbeOpenat2() {
  const int fd = RawOpenat2(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC, RESOLVE_NO_SYMLINKS);
  if (fd >= 0) {
    ::close(fd);
    return true;
  }
  return false;  // ENOSYS (old kernel) or EPERM (seccomp)
}

Status UnsafeStatus(std::string_view rel, std::string_view why) {
  return Status::Reject(Reason::kUnsafePath, std::string(rel) + ": " + std::string(why));
}

Status OpenError(std::string_view rel, int err) {
  switch (err) {
    case ENOENT: return Status::Reject(Reason::kFileMissing, std::string(rel) + ": not found");
    case ELOOP: return UnsafeStatus(rel, "is or passes through a symlink");
    case EXDEV: return UnsafeStatus(rel, "escapes the bundle directory");
    case ENOTDIR: return UnsafeStatus(rel, "a path component is not a directory");
    default: return ErrnoStatus("open", rel, err);
  }
}

// The fallback for kernels without openat2: one component at a time, never following a link.
int OpenBeneathByComponents(int dirfd, std::string_view rel, int* err) {
  UniqueFd current(::fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = rel.find('/', start);
    const std::string part(rel.substr(start, slash == std::string_view::npos ? rel.npos
                                                                              : slash - start));
    const bool last = slash == std::string_view::npos;
    const int flags = O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
                      (last ? O_RDONLY : (O_PATH | O_DIRECTORY));
    const int fd = ::openat(current.get(), part.c_str(), flags);
    if (fd < 0) {
      *err = errno;
      return -1;
    }
    if (last) return fd;
    current.Reset(fd);
    start = slash + 1;
  }
}

}  // namespace

std::string_view FileTypeName(mode_t mode) {
  if (S_ISREG(mode)) return "file";
  if (S_ISDIR(mode)) return "directory";
  if (S_ISLNK(mode)) return "symlink";
  if (S_ISFIFO(mode)) return "fifo";
  if (S_ISSOCK(mode)) return "socket";
  if (S_ISBLK(mode)) return "block device";
  if (S_ISCHR(mode)) return "character device";
  return "special file";
}

namespace {
std::atomic<bool> g_force_component_walk{false};
}  // namespace

bool BundleDir::HasOpenat2() {
  static const bool has = ProbeOpenat2();
  return has && !g_force_component_walk.load(std::memory_order_relaxed);
}

void BundleDir::ForceComponentWalkForTesting(bool force) { g_force_component_walk = force; }

Result<BundleDir> BundleDir::Open(const std::string& path, Env& env) {
  auto fd = env.Open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
  if (!fd.ok()) {
    const int err = fd.status().error_number();
    if (err == ELOOP || err == ENOTDIR) {
      return Status::Reject(Reason::kUnsafePath, path + ": the bundle is not a directory");
    }
    return fd.status().WithContext("open bundle");
  }
  return BundleDir(std::move(fd).value(), path, env);
}

Result<UniqueFd> BundleDir::OpenFile(std::string_view rel) const {
  if (!IsSafeRelativePath(rel)) return UnsafeStatus(rel, "not a safe relative path");
  const std::string rel_s(rel);
  BG_RETURN_IF_ERROR(Env::Fault("open", path_ + "/" + rel_s));
  int fd;
  int err = 0;
  if (HasOpenat2()) {
    do {
      fd = RawOpenat2(fd_.get(), rel_s.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                      RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    } while (fd < 0 && (errno == EAGAIN || errno == EINTR));
    if (fd < 0) err = errno;
  } else {
    fd = OpenBeneathByComponents(fd_.get(), rel, &err);
  }
  if (fd < 0) return OpenError(rel, err);
  UniqueFd file(fd);
  struct stat st;
  if (::fstat(file.get(), &st) != 0) return ErrnoStatus("stat", rel);
  if (!S_ISREG(st.st_mode)) {
    return UnsafeStatus(rel, "is a " + std::string(FileTypeName(st.st_mode)) +
                                 ", not a regular file");
  }
  if (st.st_nlink > 1) return UnsafeStatus(rel, "is a hard link (" + std::to_string(st.st_nlink) + " links)");
  // Reads must block normally from here on.
  ::fcntl(file.get(), F_SETFL, ::fcntl(file.get(), F_GETFL) & ~O_NONBLOCK);
  return file;
}

Result<std::string> BundleDir::ReadFile(std::string_view rel, std::uint64_t max_bytes) const {
  BG_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(rel));
  std::string out;
  char buf[65536];
  const std::string where = path_ + "/" + std::string(rel);
  while (true) {
    BG_ASSIGN_OR_RETURN(const std::size_t n, env_->Read(fd.get(), buf, sizeof buf, where));
    if (n == 0) break;
    if (out.size() + n > max_bytes) {
      return Status::Reject(Reason::kLimitExceeded,
                            std::string(rel) + ": larger than the limit of " +
                                std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, n);
  }
  return out;
}

}  // namespace bg
