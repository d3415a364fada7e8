#include "agent/core/env.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <system_error>

#include "agent/core/errno_status.h"
#include "agent/core/fault_injection.h"
#include "agent/core/tree_ops.h"

namespace bg {
namespace {

// BUNDLEGATE_CRASH_AT parsed once: the step's name and the pass on which to die.
struct CrashSpec {
  std::string step;
  long hit = 1;
};

const CrashSpec& GetCrashSpec() {
  static const CrashSpec spec = [] {
    CrashSpec s;
    const char* raw = std::getenv("BUNDLEGATE_CRASH_AT");
    if (raw == nullptr) return s;
    std::string value(raw);
    const auto colon = value.rfind(':');
    if (colon != std::string::npos) {
      s.hit = std::strtol(value.c_str() + colon + 1, nullptr, 10);
      value.resize(colon);
    }
    s.step = value;
    return s;
  }();
  return spec;
}

std::string DirName(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace

Env& Env::Default() {
  // Never destroyed (as FaultState): a static of someone else's that outlives this one (a test's
  // temporary directory, removed at exit) may still use it from its destructor.
  static Env* env = new Env();
  return *env;
}

Status Env::Fault(std::string_view op, std::string_view path) { return CheckFault(op, path); }

Result<UniqueFd> Env::Open(const std::string& path, int flags, mode_t mode) {
  BG_RETURN_IF_ERROR(Fault("open", path));
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoStatus("open", path);
  return UniqueFd(fd);
}

Result<UniqueFd> Env::OpenAt(int dirfd, const std::string& name, int flags, mode_t mode,
                             const std::string& path) {
  BG_RETURN_IF_ERROR(Fault("open", path));
  int fd;
  do {
    fd = ::openat(dirfd, name.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoStatus("open", path);
  return UniqueFd(fd);
}

Result<UniqueFd> Env::OpenDirectory(const std::string& path) {
  return Open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
}

Result<std::size_t> Env::Read(int fd, char* buf, std::size_t n, const std::string& path) {
  BG_RETURN_IF_ERROR(Fault("read", path));
  while (true) {
    const ssize_t got = ::read(fd, buf, n);
    if (got >= 0) return static_cast<std::size_t>(got);
    if (errno != EINTR) return ErrnoStatus("read", path);
  }
}

Status Env::WriteAll(int fd, std::string_view data, const std::string& path) {
  BG_RETURN_IF_ERROR(Fault("write", path));
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

Status Env::Allocate(int fd, off_t length, const std::string& path) {
  BG_RETURN_IF_ERROR(Fault("fallocate", path));
  if (length <= 0) return Status::Ok();
  int rc;
  do {
    rc = ::fallocate(fd, 0, 0, length);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno != EOPNOTSUPP && errno != ENOSYS) return ErrnoStatus("fallocate", path);
  return Status::Ok();
}

Status Env::Truncate(int fd, off_t length, const std::string& path) {
  BG_RETURN_IF_ERROR(Fault("truncate", path));
  if (::ftruncate(fd, length) != 0) return ErrnoStatus("truncate", path);
  return Status::Ok();
}

Status Env::Fsync(int fd, const std::string& path) {
  BG_RETURN_IF_ERROR(Fault("fsync", path));
  if (::fsync(fd) != 0) return ErrnoStatus("fsync", path);
  return Status::Ok();
}

Status Env::Fchmod(int fd, mode_t mode, const std::string& path) {
  BG_RETURN_IF_ERROR(Fault("chmod", path));
  if (::fchmod(fd, mode) != 0) return ErrnoStatus("chmod", path);
  return Status::Ok();
}

Status Env::Chmod(const std::string& path, mode_t mode) {
  BG_RETURN_IF_ERROR(Fault("chmod", path));
  if (::chmod(path.c_str(), mode) != 0) return ErrnoStatus("chmod", path);
  return Status::Ok();
}

Status Env::FsyncDir(const std::string& dir) {
  BG_ASSIGN_OR_RETURN(UniqueFd fd, OpenDirectory(dir));
  return Fsync(fd.get(), dir);
}

Status Env::Rename(const std::string& from, const std::string& to, RenameMode mode) {
  BG_RETURN_IF_ERROR(Fault("rename", from + " -> " + to));
  const unsigned flags = mode == RenameMode::kNoReplace ? RENAME_NOREPLACE : 0;
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), flags) != 0) {
    return ErrnoStatus("rename " + from + " to", to);
  }
  return Status::Ok();
}

Status Env::MakeDir(const std::string& path, mode_t mode, bool exist_ok) {
  BG_RETURN_IF_ERROR(Fault("mkdir", path));
  if (::mkdir(path.c_str(), mode) == 0) return Status::Ok();
  if (errno == EEXIST && exist_ok) {
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::Ok();
  }
  return ErrnoStatus("mkdir", path);
}

Status Env::MakeDirAt(int dirfd, const std::string& name, mode_t mode, const std::string& path) {
  BG_RETURN_IF_ERROR(Fault("mkdir", path));
  if (::mkdirat(dirfd, name.c_str(), mode) != 0) return ErrnoStatus("mkdir", path);
  return Status::Ok();
}

Status Env::Symlink(const std::string& target, const std::string& link_path) {
  BG_RETURN_IF_ERROR(Fault("symlink", link_path));
  if (::symlink(target.c_str(), link_path.c_str()) != 0) return ErrnoStatus("symlink", link_path);
  return Status::Ok();
}

Status Env::Unlink(const std::string& path) {
  BG_RETURN_IF_ERROR(Fault("unlink", path));
  if (::unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path);
  return Status::Ok();
}

Status Env::RemoveTree(const std::string& path) {
  BG_RETURN_IF_ERROR(Fault("remove", path));
  // Whole or not at all: a directory we may not change would stop remove_all midway.
  if (Status removable = CheckTreeRemovable(path); !removable.ok()) {
    if (removable.error_number() == ENOENT) return Status::Ok();
    return removable.WithContext("remove " + path);
  }
  std::error_code ec;
  // remove_all does not follow symlinks; it may meet read-only directories that we made
  // ourselves (promoted or work copies), so make directories writable on the way down.
  for (auto it = std::filesystem::recursive_directory_iterator(
           path, std::filesystem::directory_options::none, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0700);
  }
  ::chmod(path.c_str(), 0700);
  ec.clear();
  std::filesystem::remove_all(path, ec);
  if (ec) return Status::SystemError(ec.value(), "remove " + path + ": " + ec.message());
  return Status::Ok();
}

Status Env::SyncFilesystem(const std::string& path) {
  BG_RETURN_IF_ERROR(Fault("syncfs", path));
  BG_ASSIGN_OR_RETURN(UniqueFd fd, Open(path, O_RDONLY | O_NOFOLLOW, 0));
  if (::syncfs(fd.get()) != 0) return ErrnoStatus("syncfs", path);
  return Status::Ok();
}

Result<DiskSpace> Env::FreeSpace(const std::string& path) {
  BG_RETURN_IF_ERROR(Fault("statvfs", path));
  struct statvfs vfs;
  if (::statvfs(path.c_str(), &vfs) != 0) return ErrnoStatus("statvfs", path);
  DiskSpace space;
  space.size_bytes = static_cast<std::uint64_t>(vfs.f_blocks) * vfs.f_frsize;
  space.available_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  return space;
}

Status Env::WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                            bool durable) {
  static std::atomic<unsigned> counter{0};
  const std::string dir_path = DirName(path);
  UniqueFd dir;
  // Held from before the temporary file exists until after the rename (see the header).
  if (durable) {
    BG_ASSIGN_OR_RETURN(dir, OpenDirectory(dir_path));
  }
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
                          std::to_string(counter.fetch_add(1));
  {
    BG_ASSIGN_OR_RETURN(UniqueFd fd, Open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode));
    Status st = WriteAll(fd.get(), data, tmp);
    if (st.ok() && durable) st = Fsync(fd.get(), tmp);
    if (!st.ok()) {
      ::unlink(tmp.c_str());
      return st;
    }
  }
  Status st = Rename(tmp, path, RenameMode::kReplace);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return durable ? Fsync(dir.get(), dir_path) : Status::Ok();
}

void Env::CrashPoint(std::string_view step) {
  const CrashSpec& spec = GetCrashSpec();
  if (spec.step.empty() || spec.step != step) return;
  static std::atomic<long> passes{0};
  if (passes.fetch_add(1) + 1 == spec.hit) {
    std::fprintf(stderr, "bundlegate: BUNDLEGATE_CRASH_AT=%s reached, killing self\n",
                 spec.step.c_str());
    std::fflush(stderr);
    ::kill(::getpid(), SIGKILL);
  }
}

}  // namespace bg
