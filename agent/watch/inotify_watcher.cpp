// The inotify backend: one watch on the inbox, plus watches on every directory of the bundles
// that are settling (Follow), read through an Asio stream descriptor on the event loop.
// IN_Q_OVERFLOW means "rescan everything"; a watch that cannot be added is logged loudly (the
// fingerprint probes still see the change, only later).
#include <sys/inotify.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <array>
#include <map>
#include <set>
#include <spdlog/spdlog.h>

#include "agent/core/errno_status.h"
#include "agent/watch/inbox_watcher.h"

namespace bg {
namespace {

constexpr std::uint32_t kInboxMask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                     IN_ATTRIB | IN_CLOSE_WRITE | IN_MODIFY | IN_DELETE_SELF |
                                     IN_MOVE_SELF | IN_ONLYDIR;
constexpr std::uint32_t kTreeMask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                    IN_ATTRIB | IN_CLOSE_WRITE | IN_MODIFY | IN_ONLYDIR |
                                    IN_DONT_FOLLOW;

class InotifyWatcher : public InboxWatcher {
 public:
  InotifyWatcher(boost::asio::io_context& loop, std::string inbox, WatchCallbacks callbacks)
      : stream_(loop), inbox_(std::move(inbox)), callbacks_(std::move(callbacks)) {}

  ~InotifyWatcher() override { Stop(); }

  Status Start() override {
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return ErrnoStatus("inotify_init1", "");
    stream_.assign(fd);
    inbox_wd_ = ::inotify_add_watch(fd, inbox_.c_str(), kInboxMask);
    if (inbox_wd_ < 0) {
      Status st = ErrnoStatus("inotify_add_watch", inbox_);
      stream_.close();
      return st;
    }
    Read();
    return Status::Ok();
  }

  void Stop() override {
    boost::system::error_code ignored;
    stream_.close(ignored);
    wds_.clear();
  }

  void Follow(const std::string& name) override {
    if (!stream_.is_open() || followed_.count(name)) return;
    followed_.insert(name);
    AddTree(name, inbox_ + "/" + name);
  }

  void Unfollow(const std::string& name) override {
    if (!followed_.erase(name)) return;
    for (auto it = wds_.begin(); it != wds_.end();) {
      if (it->second.bundle == name) {
        ::inotify_rm_watch(stream_.native_handle(), it->first);
        it = wds_.erase(it);
      } else {
        ++it;
      }
    }
  }

  std::string_view backend() const override { return "inotify"; }

 private:
  struct Watched {
    std::string bundle;  // the inbox entry this directory belongs to
    std::string path;
  };

  void AddTree(const std::string& bundle, const std::string& dir) {
    AddOne(bundle, dir);
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) AddOne(bundle, it->path().string());
    }
  }

  void AddOne(const std::string& bundle, const std::string& dir) {
    const int wd = ::inotify_add_watch(stream_.native_handle(), dir.c_str(), kTreeMask);
    if (wd < 0) {
      if (errno != ENOENT && errno != ENOTDIR) {
        spdlog::warn("cannot watch {}: {} (see fs.inotify.max_user_watches); changes there are "
                     "found by probing instead",
                     dir, std::strerror(errno));
      }
      return;
    }
    wds_[wd] = Watched{bundle, dir};
  }

  void Read() {
    stream_.async_read_some(
        boost::asio::buffer(buffer_), [this](const boost::system::error_code& ec, std::size_t n) {
          if (ec) {
            if (ec != boost::asio::error::operation_aborted) {
              spdlog::error("inotify read failed: {}; rescanning", ec.message());
              callbacks_.on_rescan("inotify read error");
            }
            return;
          }
          Dispatch(n);
          Read();
        });
  }

  void Dispatch(std::size_t n) {
    std::size_t offset = 0;
    while (offset + sizeof(inotify_event) <= n) {
      inotify_event ev;
      std::memcpy(&ev, buffer_.data() + offset, sizeof ev);
      const char* name = buffer_.data() + offset + sizeof(inotify_event);
      const std::string child = ev.len > 0 ? std::string(name) : std::string();
      offset += sizeof(inotify_event) + ev.len;
      Handle(ev, child);
    }
  }

  void Handle(const inotify_event& ev, const std::string& child) {
    if (ev.mask & IN_Q_OVERFLOW) {
      spdlog::warn("inotify queue overflowed: rescanning the inbox");
      callbacks_.on_rescan("inotify queue overflow");
      return;
    }
    if (ev.wd == inbox_wd_) {
      if (ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        spdlog::error("the inbox {} was removed or moved away", inbox_);
        callbacks_.on_rescan("inbox removed");
        return;
      }
      if (!child.empty()) callbacks_.on_change(child);
      return;
    }
    const auto it = wds_.find(ev.wd);
    if (it == wds_.end()) return;
    const std::string bundle = it->second.bundle;
    if (ev.mask & IN_IGNORED) {
      wds_.erase(it);
      return;
    }
    if ((ev.mask & (IN_CREATE | IN_MOVED_TO)) && (ev.mask & IN_ISDIR) && followed_.count(bundle)) {
      AddTree(bundle, it->second.path + "/" + child);
    }
    callbacks_.on_change(bundle);
  }

  boost::asio::posix::stream_descriptor stream_;
  std::string inbox_;
  WatchCallbacks callbacks_;
  int inbox_wd_ = -1;
  std::map<int, Watched> wds_;
  std::set<std::string> followed_;
  std::array<char, 64 * 1024> buffer_{};
};

}  // namespace

std::unique_ptr<InboxWatcher> MakeInotifyWatcher(boost::asio::io_context& loop,
                                                 const std::string& inbox, WatchCallbacks callbacks) {
  return std::make_unique<InotifyWatcher>(loop, inbox, std::move(callbacks));
}

}  // namespace bg
