#include <sys/vfs.h>

#include "agent/core/errno_status.h"
#include "agent/watch/inbox_watcher.h"

namespace bg {
namespace {

struct Magic {
  unsigned long value;
  const char* name;
  bool remote_or_fuse;
};

// From linux/magic.h and statfs(2); the remote and FUSE ones deliver no inotify events for
// changes made elsewhere.
constexpr Magic kMagics[] = {
    {0xEF53, "ext4", false},          {0x58465342, "xfs", false},
    {0x9123683E, "btrfs", false},     {0x01021994, "tmpfs", false},
    {0x794C7630, "overlayfs", false}, {0x2FC12FC1, "zfs", false},
    {0xF2F52010, "f2fs", false},      {0x6969, "nfs", true},
    {0x517B, "smb", true},            {0xFE534D42, "smb2", true},
    {0xFF534D42, "cifs", true},       {0x65735546, "fuse", true},
    {0x00C36400, "ceph", true},       {0x47504653, "gpfs", true},
    {0x0BD00BD0, "lustre", true},     {0x6B414653, "afs", true},
    {0x5346414F, "afs", true},        {0x73757245, "coda", true},
    {0x01161970, "gfs2", true},       {0x19830326, "fhgfs", true},
    {0x013111A8, "ibrix", true},      {0x7461636F, "ocfs2", true},
};

}  // namespace

Result<FilesystemKind> DetectFilesystem(const std::string& path) {
  struct statfs fs;
  if (::statfs(path.c_str(), &fs) != 0) return ErrnoStatus("statfs", path);
  const auto magic = static_cast<unsigned long>(fs.f_type) & 0xFFFFFFFFul;
  for (const auto& m : kMagics) {
    if (m.value == magic) return FilesystemKind{m.name, m.remote_or_fuse};
  }
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%lx", magic);
  return FilesystemKind{hex, false};
}

}  // namespace bg
