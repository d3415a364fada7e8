#include "agent/daemon/root_setup.h"

#include "agent/plugin/plugin_launch.h"

#include <unistd.h>

#include <sys/stat.h>

#include <filesystem>

#include "agent/core/errno_status.h"

namespace bg {
namespace {

Result<dev_t> DeviceOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path);
  if (!S_ISDIR(st.st_mode)) return Status::Error(path + " is not a directory");
  return st.st_dev;
}

Status MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::Error("cannot create " + path + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

bool WorkOpenToPlugins(const Config& config) {
  return ::geteuid() == 0 &&
         PluginGroupIsExclusive(config.sandbox.plugin_uid, config.sandbox.plugin_gid);
}

Result<RootFacts> PrepareRoot(const Config& config) {
  const PathsConfig& p = config.paths;
  for (const auto& dir : {p.root, p.inbox, p.work, p.serving, p.quarantine}) {
    BG_RETURN_IF_ERROR(MakeDirs(dir));
  }
  BG_RETURN_IF_ERROR(MakeDirs(std::filesystem::path(p.audit_log).parent_path().string()));
  // work/: the agent's alone, but where plugins run as a user of their own, traversable (not
  // listable) by their group, which each work/<id> inherits (work_area.h: a warm worker reaches
  // the bundle it is handed).
  const bool open_to_plugins = WorkOpenToPlugins(config);
  if (open_to_plugins &&
      ::chown(p.work.c_str(), 0, static_cast<gid_t>(config.sandbox.plugin_gid)) == 0) {
    ::chmod(p.work.c_str(), 02710);
  } else {
    ::chmod(p.work.c_str(), 0700);
  }

  BG_ASSIGN_OR_RETURN(dev_t root, DeviceOf(p.root));
  for (const auto& [key, dir] : {std::pair{"paths.serving", p.serving},
                                 std::pair{"paths.quarantine", p.quarantine}}) {
    BG_ASSIGN_OR_RETURN(dev_t dev, DeviceOf(dir));
    if (dev != root) {
      return Status::Error(std::string(key) + " (" + dir + ") is not on the filesystem of " +
                           "paths.root (" + p.root + "): promotions and quarantines must be " +
                           "rename(2)s; put it under the root's filesystem");
    }
  }
  RootFacts facts;
  BG_ASSIGN_OR_RETURN(dev_t inbox, DeviceOf(p.inbox));
  facts.inbox_same_fs = inbox == root;
  if (!facts.inbox_same_fs && config.intake == IntakeMode::kMove) {
    return Status::Error("paths.inbox (" + p.inbox + ") is not on the filesystem of paths.root (" +
                         p.root + "): intake = \"move\" needs one filesystem; use intake = "
                         "\"copy\", or move the inbox");
  }
  return facts;
}

}  // namespace bg
