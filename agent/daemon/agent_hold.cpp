// Agent: the agent's own failures and low-disk safety (see agent.h and hold_book.h).
//
// A bundle is judged only on what it is (SPEC.md). When a step fails for the agent's own
// reasons (a full disk, an I/O error, a permission it lacks, no descriptors left), the bundle is
// held: an unclaimed one stays in the inbox untouched; a claimed one goes back there (or stays in
// work/ until it can); nothing is decided. The hold is logged once when it starts and once when
// it ends, listed in status.json ("held"), and fails the readiness condition "nothing_held"
// (agent_readiness.cpp: the state is "degraded"); the bundle is tried again on an exponential
// backoff, and decided properly once the fault is gone.
//
// Low-disk safety: the root's filesystem is checked every second (and before claims). Below the
// floor ([limits] min_free_bytes, min_free_ratio) nothing new is claimed, said once each way;
// above it, a bundle whose copy would take the filesystem below the floor waits in the inbox
// ("space" hold) until it fits. Copies in flight reserve their declared size meanwhile.
#include <boost/asio/post.hpp>
#include <filesystem>
#include <spdlog/spdlog.h>

#include "agent/core/clock.h"
#include "agent/core/errno_status.h"
#include "agent/daemon/agent_impl.h"
#include "agent/daemon/recovery.h"

namespace bg {
namespace {

std::string Bytes(std::uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

double Seconds(HoldBook::Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

void Agent::Impl::LogHold(const std::string& name, HoldBook::News news) {
  const HoldBook::Entry* e = holds_.Find(name);
  if (e == nullptr) return;
  status_dirty_ = true;
  if (news == HoldBook::News::kRepeat) {
    spdlog::debug("{} still held at {} ({} failure(s)): {}", name, e->step, e->failures, e->why);
    return;
  }
  if (e->kind == HoldBook::Kind::kSpace) {
    spdlog::warn("{} waits in the inbox for disk space, not decided: {}", name, e->why);
    return;
  }
  spdlog::warn("{} is held, not decided: the agent's own failure at {} ({}): {}. It waits in "
               "the {} and is tried again in {:.1f} s, then less and less often (at most every "
               "{} s); `bundlegate status` lists it",
               name, e->step, e->error_number != 0 ? ErrnoName(e->error_number) : "no errno",
               e->why, e->location, Seconds(holds_.Backoff(e->failures)),
               config_.watch.hold_backoff_max_s);
}

void Agent::Impl::ReleaseHold(const std::string& name, const std::string& how) {
  const auto e = holds_.Release(name);
  if (!e) return;
  status_dirty_ = true;
  if (e->kind == HoldBook::Kind::kSpace) {
    spdlog::info("{} no longer waits for disk space: {}", name, how);
  } else {
    spdlog::info("{} is no longer held ({}), after {} failure(s) since {}", name, how, e->failures,
                 e->since);
  }
}

void Agent::Impl::HoldInbox(const std::string& name, const std::string& step, const Status& why) {
  const auto news = holds_.Hold(name, HoldBook::Kind::kFault, step, why, Clock::now());
  holds_.SetLocation(name, "inbox");
  tracker_.Forget(name);
  watcher_->Unfollow(name);
  LogHold(name, news);
  ArmHoldTimer();
}

void Agent::Impl::HoldClaimed(const WorkItem& item, const std::string& step, const Status& why) {
  if (stopping_ || cancelled_) {
    ReturnUnfinished(item, why.message());
    return;
  }
  const auto news = holds_.Hold(item.inbox_name, HoldBook::Kind::kFault, step, why, Clock::now());
  LogHold(item.inbox_name, news);
  ReturnHeld(item);
}

void Agent::Impl::ReturnHeld(const WorkItem& item) {
  boost::asio::post(*io_pool_, [this, item, config = config_] {
    std::string where;
    Status st = ReturnToInbox(config, *work_, item, env_, &where);
    boost::asio::post(loop_, [this, item, st, where] {
      const std::string& name = item.inbox_name;
      if (st.ok()) {
        held_in_work_.erase(name);
        holds_.SetLocation(name, "inbox");
        if (!where.empty() && std::filesystem::path(where).filename() != name) {
          spdlog::warn("{} ({}) went back to the inbox as {} (its name was taken meanwhile)",
                       name, item.id, where);
        }
        // A retried return that made it: look at it again now (its attempt was due).
        if (holds_.Holds(name) && !holds_.Blocks(name)) OnChange(name);
      } else {
        // It stays in work/ (recovered at the next start, or returned at the next attempt).
        held_in_work_[name] = item;
        holds_.SetLocation(name, "work");
        if (!holds_.Blocks(name)) {
          holds_.Hold(name, HoldBook::Kind::kFault, "return", st, Clock::now());
        }
        spdlog::warn("{} ({}): returning it to the inbox failed: {}; it stays in work/ and is "
                     "tried again", name, item.id, st.message());
      }
      in_flight_.erase(item.id);
      status_dirty_ = true;
      ArmHoldTimer();
      ReleaseSlot(item.id);
    });
  });
}

void Agent::Impl::ArmHoldTimer() {
  if (stopping_) return;
  const auto next = holds_.NextWakeup();
  if (!next) return;
  if (hold_armed_for_ && *hold_armed_for_ <= *next) return;  // an earlier wake-up is set
  hold_armed_for_ = *next;
  hold_timer_.expires_at(*next);
  hold_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    hold_armed_for_.reset();
    OnHoldTimer();
  });
}

void Agent::Impl::OnHoldTimer() {
  if (stopping_) return;
  for (const auto& name : holds_.Due(Clock::now())) {
    const auto in_work = held_in_work_.find(name);
    if (in_work != held_in_work_.end()) {
      WorkItem item = in_work->second;
      held_in_work_.erase(in_work);
      in_flight_[item.id] = item;
      ReturnHeld(item);
    } else {
      // The normal way again: probe, settle, claim. A failure holds it anew, for longer.
      spdlog::debug("{}: trying again after a hold", name);
      OnChange(name);
    }
  }
  ArmHoldTimer();
}

std::uint64_t Agent::Impl::DiskFloor() const {
  if (!disk_.known) return config_.limits.min_free_bytes;
  const auto by_ratio = static_cast<std::uint64_t>(config_.limits.min_free_ratio *
                                                   static_cast<double>(disk_.space.size_bytes));
  return std::max(config_.limits.min_free_bytes, by_ratio);
}

std::uint64_t Agent::Impl::Reserved() const {
  std::uint64_t total = 0;
  for (const auto& [id, bytes] : reserved_) total += bytes;
  return total;
}

bool Agent::Impl::RefreshDisk() {
  auto space = env_.FreeSpace(config_.paths.root);
  if (!space.ok()) {
    if (disk_.error.empty()) spdlog::warn("cannot tell the free disk space: {}", space.status().message());
    disk_.error = space.status().message();
    disk_.known = false;
    return false;
  }
  disk_.error.clear();
  disk_.known = true;
  disk_.space = *space;
  const std::uint64_t floor = DiskFloor();
  const bool below = floor > 0 && space->available_bytes < floor;
  if (below != disk_.below_floor) {
    disk_.below_floor = below;
    disk_.since = NowRfc3339();
    status_dirty_ = true;
    if (below) {
      spdlog::warn("disk space below its floor on {}: {} available of {}, floor {} ([limits] "
                   "min_free_bytes / min_free_ratio): claiming nothing new until space returns",
                   config_.paths.root, Bytes(space->available_bytes), Bytes(space->size_bytes),
                   Bytes(floor));
    } else {
      spdlog::info("disk space above its floor again on {} ({} available, floor {}): claims resume",
                   config_.paths.root, Bytes(space->available_bytes), Bytes(floor));
    }
  }
  return true;
}

bool Agent::Impl::Fits(std::uint64_t bytes, std::string* why) const {
  if (!disk_.known) return true;  // cannot tell: the copy finds out (and is held if it fails)
  const std::uint64_t floor = DiskFloor();
  const std::uint64_t reserved = Reserved();
  const std::uint64_t available = disk_.space.available_bytes;
  if (available >= reserved && available - reserved >= floor &&
      available - reserved - floor >= bytes) {
    return true;
  }
  *why = "a copy of it needs " + Bytes(bytes) + "; " + Bytes(available) + " available on " +
         config_.paths.root + "'s filesystem (" + Bytes(disk_.space.size_bytes) + "), " +
         Bytes(reserved) + " reserved by copies in flight, floor " + Bytes(floor);
  return false;
}

Json Agent::Impl::DiskJson() const {
  Json j = {{"path", config_.paths.root},
            {"floor_bytes", DiskFloor()},
            {"below_floor", disk_.below_floor},
            {"reserved_bytes", Reserved()}};
  if (disk_.known) {
    j["available_bytes"] = disk_.space.available_bytes;
    j["size_bytes"] = disk_.space.size_bytes;
  }
  if (!disk_.since.empty()) j["since"] = disk_.since;
  if (!disk_.error.empty()) j["error"] = disk_.error;
  return j;
}

}  // namespace bg
