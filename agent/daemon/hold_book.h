// HoldBook: the bundles the agent holds back because of its own failures. A pure state machine.
//
// SPEC.md: a failure of the agent's own (a full disk, an I/O error, a permission it lacks, no
// file descriptors) never becomes a verdict; the bundle waits where it is and the agent says so.
// The agent records each such failure here, by inbox name, with the step that failed ("probe",
// "claim", "copy", "checks"), the error and its errno; the book answers when to try again
// (exponential backoff: `initial`, doubling, at most `max`) and keeps what `bundlegate status`
// lists. Two kinds: a fault (something failed: retried on the backoff) and a wait for space
// (the copy would not fit: looked at again whenever the disk is checked).
//
// Saying it once: Hold tells whether this is news (a new hold, or a different error than
// before), so that the agent logs the start of a hold once and the repeats quietly; Release
// returns the entry, so that the end of a hold is logged once too.
//
// Thread safety: none; owned by the event loop. Tests drive it with a manual clock.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/json.h"
#include "agent/core/status.h"

namespace bg {

class HoldBook {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  using Duration = Clock::duration;

  struct Options {
    Duration initial = std::chrono::seconds(1);
    Duration max = std::chrono::minutes(5);
  };

  enum class Kind { kFault, kSpace };

  struct Entry {
    Kind kind = Kind::kFault;
    std::string step;       // "probe", "claim", "copy", "checks", "space"
    std::string why;        // the error, in words
    int error_number = 0;   // its errno, when known
    std::string since;      // RFC 3339, when the hold began
    TimePoint since_steady;
    TimePoint next_attempt;
    int failures = 0;       // failures so far (the backoff doubles with each)
    bool due = false;       // returned by Due: being tried again now
    std::string location = "inbox";  // where the bundle waits: "inbox" or "work"
  };

  enum class News { kNew, kChanged, kRepeat };

  explicit HoldBook(Options options) : options_(options) {}
  void SetOptions(Options options) { options_ = options; }

  // A failure of `name` at `step`. Schedules the next attempt (a fault: after the backoff; a
  // wait for space: whenever the disk is checked, the agent decides).
  News Hold(const std::string& name, Kind kind, const std::string& step, const Status& why,
            TimePoint now);
  // Where the held bundle waits now (after it was returned to the inbox, or not).
  void SetLocation(const std::string& name, const std::string& location);
  // Faults whose next attempt is due at `now` (each returned once until held again).
  std::vector<std::string> Due(TimePoint now);
  // Whether `name` must be left alone for now (held for a fault, its attempt not yet due).
  bool Blocks(const std::string& name) const;
  bool Holds(const std::string& name) const { return entries_.count(name) > 0; }
  const Entry* Find(const std::string& name) const;
  // When the next fault falls due; nullopt when none waits.
  std::optional<TimePoint> NextWakeup() const;
  // Decided, gone, or fine again: the entry it was held with, if it was held.
  std::optional<Entry> Release(const std::string& name);
  // The backoff after `failures` failures: initial * 2^(failures - 1), at most max.
  Duration Backoff(int failures) const;

  std::size_t size() const { return entries_.size(); }
  // The first held name in byte order ("" when none): for a one-line summary.
  std::string FirstName() const { return entries_.empty() ? "" : entries_.begin()->first; }
  bool empty() const { return entries_.empty(); }
  // [{"inbox_name", "step", "why", "errno", "since", "next_attempt", "failures", "location"}],
  // `next_attempt` in RFC 3339 (steady times converted with `now` / `system_now`).
  Json ToJson(TimePoint now, std::chrono::system_clock::time_point system_now) const;

 private:
  Options options_;
  std::map<std::string, Entry> entries_;
};

std::string_view HoldKindName(HoldBook::Kind kind);

}  // namespace bg
