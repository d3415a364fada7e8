#include "agent/watch/settle_tracker.h"

#include <algorithm>

namespace bg {

SettleTracker::Entry& SettleTracker::Track(const std::string& name, TimePoint now) {
  auto [it, inserted] = entries_.try_emplace(name);
  if (inserted) {
    it->second.first_seen = now;
    it->second.last_change = now;
    it->second.next_probe = now;  // a first look right away: it starts the settle clock
  }
  return it->second;
}

void SettleTracker::Touch(const std::string& name, TimePoint now) {
  const bool known = Tracks(name);
  Entry& e = Track(name, now);
  if (!known) return;
  e.last_change = now;
  e.touched_since_probe = true;
  // A probe in flight will be followed by another once the tree has been quiet.
  e.next_probe = now + options_.settle;
}

void SettleTracker::Forget(const std::string& name) { entries_.erase(name); }

SettleTracker::Decision SettleTracker::Observe(const std::string& name,
                                               const Observation& observation, TimePoint now) {
  Entry& e = Track(name, now);
  e.probing = false;
  const bool unchanged = e.observed && observation.fingerprint == e.fingerprint;
  if (e.observed && !unchanged && !e.touched_since_probe) {
    // Changed with no event to say when (a polling filesystem, a lost event): assume now.
    e.last_change = now;
  }
  e.fingerprint = observation.fingerprint;
  e.observed = true;
  e.touched_since_probe = false;
  e.why_not = observation.complete ? "settling" : observation.why_not;

  const bool quiet = now - e.last_change >= options_.settle;
  if (observation.complete && quiet) {
    entries_.erase(name);
    return Decision::kReady;
  }
  const bool grace_over = now - e.last_change >= options_.manifest_grace;
  if (observation.manifest_unparsable && grace_over) {
    entries_.erase(name);
    return Decision::kReady;
  }
  if (now - e.first_seen >= options_.incomplete_timeout) {
    entries_.erase(name);
    return Decision::kExpired;
  }
  // Probe again once it could be quiet, but not sooner than a fraction of the settle time (a
  // busy producer must not make us probe in a tight loop), or a whole settle time when nothing
  // changed (an event brings the next look forward anyway), and in time for the expiry.
  const Duration min_gap = std::max<Duration>(unchanged ? options_.settle : options_.settle / 4,
                                              std::chrono::milliseconds(5));
  e.next_probe = std::max(e.last_change + options_.settle, now + min_gap);
  e.next_probe = std::min(e.next_probe, e.first_seen + options_.incomplete_timeout);
  if (observation.manifest_unparsable) {
    e.next_probe = std::min(e.next_probe, std::max(e.last_change + options_.manifest_grace, now + min_gap));
  }
  return Decision::kWait;
}

std::vector<std::string> SettleTracker::Due(TimePoint now) {
  std::vector<std::string> due;
  for (auto& [name, e] : entries_) {
    if (!e.probing && e.next_probe <= now) {
      e.probing = true;
      due.push_back(name);
    }
  }
  return due;
}

std::optional<SettleTracker::TimePoint> SettleTracker::NextWakeup() const {
  std::optional<TimePoint> next;
  for (const auto& [name, e] : entries_) {
    if (e.probing) continue;
    if (!next || e.next_probe < *next) next = e.next_probe;
  }
  return next;
}

std::map<std::string, std::string> SettleTracker::Pending() const {
  std::map<std::string, std::string> out;
  for (const auto& [name, e] : entries_) out[name] = e.why_not;
  return out;
}

}  // namespace bg
