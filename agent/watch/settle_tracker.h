// SettleTracker: when is a bundle in the inbox ready to claim? A pure state machine.
//
// SPEC.md: a bundle directory is ready when its name does not start with '.', bundle.toml
// parses, every [[files]] entry exists with its declared size, and nothing under it changed for
// watch.settle_ms; one still incomplete after watch.incomplete_timeout_s is quarantined. One
// whose bundle.toml does not parse is claimed (and rejected manifest-invalid, with the parser's
// line and column) once nothing under it changed for watch.manifest_grace_s: a typo must not
// cost its producer the whole incomplete timeout, and a manifest still being written (the
// producer busy with other files) is not judged early.
//
// The tracker holds no clock and does no I/O: the agent tells it what happened (Touch: an
// inotify event or a rescan saw the entry; Observe: a readiness probe's result, with a
// fingerprint of the tree) and when, and asks what is due (Due) and when to wake up next
// (NextWakeup). Changes are detected twice over: by events, and by the fingerprint (names, types,
// sizes, mtimes) differing between probes, so polling filesystems and lost events settle too.
// Tests drive it with a manual clock, no threads, no sleeps.
//
// Thread safety: none; owned by the event loop.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bg {

class SettleTracker {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  using Duration = Clock::duration;

  struct Options {
    Duration settle = std::chrono::milliseconds(2000);
    Duration incomplete_timeout = std::chrono::hours(1);
    Duration manifest_grace = std::chrono::seconds(60);
  };

  // What a readiness probe found.
  struct Observation {
    bool complete = false;    // bundle.toml parses and every listed file has its size
    std::string fingerprint;  // changes whenever anything under the entry changes
    std::string why_not;      // when not complete: what is missing, for logs and REJECTED.json
    // Not complete because bundle.toml does not parse: claimed once quiet for manifest_grace.
    bool manifest_unparsable = false;
  };

  enum class Decision {
    kWait,     // not yet: probe again at NextWakeup()
    kReady,    // claim it (complete, or an unparsable manifest past its grace)
    kExpired,  // incomplete for too long: claim and quarantine as "incomplete"
  };

  explicit SettleTracker(Options options) : options_(options) {}

  void SetOptions(Options options) { options_ = options; }
  // Something under `name` changed (or it appeared).
  void Touch(const std::string& name, TimePoint now);
  // `name` is gone from the inbox (removed, renamed away, claimed).
  void Forget(const std::string& name);
  // A probe of `name` finished at `now`. Unknown names are tracked from now.
  Decision Observe(const std::string& name, const Observation& observation, TimePoint now);
  // Names whose probe is due at `now` (each returned once until observed or touched again).
  std::vector<std::string> Due(TimePoint now);
  // When the next probe falls due; nullopt when nothing is tracked.
  std::optional<TimePoint> NextWakeup() const;

  bool Tracks(const std::string& name) const { return entries_.count(name) > 0; }
  // When `name` was first seen, while it is tracked (for the inbox-to-decision metric).
  std::optional<TimePoint> FirstSeen(const std::string& name) const {
    const auto it = entries_.find(name);
    if (it == entries_.end()) return std::nullopt;
    return it->second.first_seen;
  }
  std::size_t size() const { return entries_.size(); }
  // Why each tracked entry is not ready yet (for status).
  std::map<std::string, std::string> Pending() const;

 private:
  struct Entry {
    TimePoint first_seen;
    TimePoint last_change;
    TimePoint next_probe;
    bool probing = false;  // returned by Due, not yet observed
    bool observed = false;
    bool touched_since_probe = false;
    std::string fingerprint;
    std::string why_not = "not probed yet";
  };
  Entry& Track(const std::string& name, TimePoint now);

  Options options_;
  std::map<std::string, Entry> entries_;
};

}  // namespace bg
