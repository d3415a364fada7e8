#include "tests/support/loop_fs.h"

#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "tests/support/process.h"

namespace bg::test {
namespace {

bool HaveTool(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    if (::access((std::string(dir) + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

}  // namespace

LoopFs::LoopFs(const std::string& kind, std::uint64_t bytes) {
  if (::geteuid() != 0) {
    why_ = "not root: cannot loop-mount a " + kind + " image";
    return;
  }
  if (!std::filesystem::exists("/dev/loop-control")) {
    why_ = "no loop devices (/dev/loop-control) here";
    return;
  }
  std::vector<std::string> mkfs;
  const std::string image = dir_ / "fs.img";
  if (kind == "xfs-reflink") {
    mkfs = {"mkfs.xfs", "-q", "-m", "reflink=1", image};
  } else if (kind == "ext4") {
    mkfs = {"mkfs.ext4", "-q", "-F", image};
  } else {
    why_ = "unknown filesystem kind " + kind;
    return;
  }
  if (!HaveTool(mkfs[0])) {
    why_ = mkfs[0] + " is not installed (scripts/bootstrap installs it)";
    return;
  }
  if (::truncate(image.c_str(), 0) != 0) {
    const int fd = ::open(image.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
  }
  if (::truncate(image.c_str(), static_cast<off_t>(bytes)) != 0) {
    why_ = "cannot make a sparse image in " + dir_.path();
    return;
  }
  auto made = RunProcess(mkfs);
  if (made.exit_code != 0) {
    why_ = mkfs[0] + " failed: " + made.err;
    return;
  }
  const std::string mount = dir_ / "mnt";
  std::filesystem::create_directory(mount);
  auto mounted = RunProcess({"mount", "-o", "loop", image, mount});
  if (mounted.exit_code != 0) {
    why_ = "cannot loop-mount the image (no free loop device, or not allowed here): " + mounted.err;
    return;
  }
  mount_ = mount;
}

LoopFs::~LoopFs() {
  if (mount_.empty()) return;
  // "mount -o loop" set the loop device to detach itself once unmounted.
  if (RunProcess({"umount", mount_}).exit_code != 0) (void)RunProcess({"umount", "-l", mount_});
}

bool AllExtentsShared(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  constexpr int kMax = 256;
  std::vector<char> buf(sizeof(fiemap) + kMax * sizeof(fiemap_extent));
  auto* map = reinterpret_cast<fiemap*>(buf.data());
  map->fm_start = 0;
  map->fm_length = FIEMAP_MAX_OFFSET;
  map->fm_flags = FIEMAP_FLAG_SYNC;
  map->fm_extent_count = kMax;
  const int rc = ::ioctl(fd, FS_IOC_FIEMAP, map);
  ::close(fd);
  if (rc != 0 || map->fm_mapped_extents == 0) return false;
  for (unsigned i = 0; i < map->fm_mapped_extents; ++i) {
    if ((map->fm_extents[i].fe_flags & FIEMAP_EXTENT_SHARED) == 0) return false;
  }
  return true;
}

}  // namespace bg::test
