// The polling backend: a rescan every watch.poll_interval_ms. Changes inside a bundle are found
// by the SettleTracker's fingerprints, so a rescan is all this backend has to trigger.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agent/watch/inbox_watcher.h"

namespace bg {
namespace {

class PollWatcher : public InboxWatcher {
 public:
  PollWatcher(boost::asio::io_context& loop, std::chrono::milliseconds interval,
              WatchCallbacks callbacks)
      : timer_(loop), interval_(interval), callbacks_(std::move(callbacks)) {}

  Status Start() override {
    running_ = true;
    Arm();
    return Status::Ok();
  }
  void Stop() override {
    running_ = false;
    timer_.cancel();
  }
  void Follow(const std::string&) override {}
  void Unfollow(const std::string&) override {}
  std::string_view backend() const override { return "poll"; }

 private:
  void Arm() {
    timer_.expires_after(interval_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || !running_) return;
      callbacks_.on_rescan("poll");
      Arm();
    });
  }

  boost::asio::steady_timer timer_;
  std::chrono::milliseconds interval_;
  WatchCallbacks callbacks_;
  bool running_ = false;
};

}  // namespace

std::unique_ptr<InboxWatcher> MakePollWatcher(boost::asio::io_context& loop, const std::string&,
                                              std::chrono::milliseconds interval,
                                              WatchCallbacks callbacks) {
  return std::make_unique<PollWatcher>(loop, interval, std::move(callbacks));
}

std::unique_ptr<InboxWatcher> MakeInboxWatcher(boost::asio::io_context& loop,
                                               const std::string& inbox, const WatchConfig& config,
                                               WatchCallbacks callbacks, std::string* note) {
  const auto interval = std::chrono::milliseconds(config.poll_interval_ms);
  switch (config.backend) {
    case WatchConfig::Backend::kPoll:
      *note = "polling every " + std::to_string(config.poll_interval_ms) + " ms (watch.backend = poll)";
      return MakePollWatcher(loop, inbox, interval, std::move(callbacks));
    case WatchConfig::Backend::kInotify:
      *note = "inotify (watch.backend = inotify)";
      return MakeInotifyWatcher(loop, inbox, std::move(callbacks));
    case WatchConfig::Backend::kAuto:
      break;
  }
  auto fs = DetectFilesystem(inbox);
  if (fs.ok() && fs->remote_or_fuse) {
    *note = "polling every " + std::to_string(config.poll_interval_ms) + " ms: the inbox is on " +
            fs->name + ", which sends no inotify events for changes made elsewhere";
    return MakePollWatcher(loop, inbox, interval, std::move(callbacks));
  }
  *note = "inotify (inbox on " + (fs.ok() ? fs->name : std::string("an unknown filesystem")) + ")";
  return MakeInotifyWatcher(loop, inbox, std::move(callbacks));
}

}  // namespace bg
