// InboxWatcher: tells the agent that something in the inbox changed.
//
// Two backends behind this narrow interface: inotify (inotify_watcher.cpp), and polling
// (poll_watcher.cpp) for filesystems that send no events (NFS, CIFS, FUSE: detected with statfs).
// Neither is trusted alone: the agent also rescans at startup, on IN_Q_OVERFLOW and every
// watch.rescan_interval_s, and the SettleTracker compares fingerprints between probes.
//
// Thread safety: all methods and callbacks run on the event loop that owns the watcher.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "agent/config/config.h"
#include "agent/core/status.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace bg {

struct WatchCallbacks {
  // Something under inbox/<name> changed, or <name> appeared or vanished.
  std::function<void(const std::string& name)> on_change;
  // The watcher may have missed events (queue overflow, a poll tick): rescan the whole inbox.
  std::function<void(const std::string& why)> on_rescan;
};

class InboxWatcher {
 public:
  virtual ~InboxWatcher() = default;
  virtual Status Start() = 0;
  virtual void Stop() = 0;
  // Also watch the tree under inbox/<name> while it settles (no-op when polling).
  virtual void Follow(const std::string& name) = 0;
  virtual void Unfollow(const std::string& name) = 0;
  virtual std::string_view backend() const = 0;
};

// What statfs says about the inbox's filesystem: its name, and whether it sends inotify events
// for changes made by other machines (NFS, CIFS/SMB, FUSE and friends do not).
struct FilesystemKind {
  std::string name;  // "ext4", "nfs", "fuse", ... or "0x<magic>"
  bool remote_or_fuse = false;
};
Result<FilesystemKind> DetectFilesystem(const std::string& path);

// Picks the backend for watch.backend ("auto": inotify unless the filesystem is remote/FUSE).
// `note` says which one and why, for the log.
std::unique_ptr<InboxWatcher> MakeInboxWatcher(boost::asio::io_context& loop,
                                               const std::string& inbox, const WatchConfig& config,
                                               WatchCallbacks callbacks, std::string* note);

std::unique_ptr<InboxWatcher> MakeInotifyWatcher(boost::asio::io_context& loop,
                                                 const std::string& inbox, WatchCallbacks callbacks);
std::unique_ptr<InboxWatcher> MakePollWatcher(boost::asio::io_context& loop, const std::string& inbox,
                                              std::chrono::milliseconds interval,
                                              WatchCallbacks callbacks);

}  // namespace bg
