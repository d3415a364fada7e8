#include "agent/daemon/hold_book.h"

#include <algorithm>

#include "agent/core/clock.h"
#include "agent/core/errno_status.h"

namespace bg {

std::string_view HoldKindName(HoldBook::Kind kind) {
  return kind == HoldBook::Kind::kSpace ? "space" : "fault";
}

HoldBook::Duration HoldBook::Backoff(int failures) const {
  Duration delay = options_.initial;
  for (int i = 1; i < failures && delay < options_.max; ++i) delay *= 2;
  return std::min(delay, options_.max);
}

HoldBook::News HoldBook::Hold(const std::string& name, Kind kind, const std::string& step,
                              const Status& why, TimePoint now) {
  auto [it, inserted] = entries_.try_emplace(name);
  Entry& e = it->second;
  const bool changed = !inserted && (e.kind != kind || e.step != step ||
                                     e.error_number != why.error_number());
  if (inserted) {
    e.since = NowRfc3339();
    e.since_steady = now;
  }
  e.kind = kind;
  e.step = step;
  e.why = why.message();
  e.error_number = why.error_number();
  e.due = false;
  if (kind == Kind::kFault) {
    ++e.failures;
    e.next_attempt = now + Backoff(e.failures);
  } else {
    e.next_attempt = now;  // looked at with every disk check
  }
  return inserted ? News::kNew : changed ? News::kChanged : News::kRepeat;
}

void HoldBook::SetLocation(const std::string& name, const std::string& location) {
  const auto it = entries_.find(name);
  if (it != entries_.end()) it->second.location = location;
}

std::vector<std::string> HoldBook::Due(TimePoint now) {
  std::vector<std::string> due;
  for (auto& [name, e] : entries_) {
    if (e.kind == Kind::kFault && !e.due && e.next_attempt <= now) {
      e.due = true;
      due.push_back(name);
    }
  }
  return due;
}

bool HoldBook::Blocks(const std::string& name) const {
  const auto it = entries_.find(name);
  return it != entries_.end() && it->second.kind == Kind::kFault && !it->second.due;
}

const HoldBook::Entry* HoldBook::Find(const std::string& name) const {
  const auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

std::optional<HoldBook::TimePoint> HoldBook::NextWakeup() const {
  std::optional<TimePoint> next;
  for (const auto& [name, e] : entries_) {
    if (e.kind != Kind::kFault || e.due) continue;
    if (!next || e.next_attempt < *next) next = e.next_attempt;
  }
  return next;
}

std::optional<HoldBook::Entry> HoldBook::Release(const std::string& name) {
  const auto it = entries_.find(name);
  if (it == entries_.end()) return std::nullopt;
  Entry e = std::move(it->second);
  entries_.erase(it);
  return e;
}

Json HoldBook::ToJson(TimePoint now, std::chrono::system_clock::time_point system_now) const {
  Json out = Json::array();
  for (const auto& [name, e] : entries_) {
    Json j = {{"inbox_name", name},
              {"kind", HoldKindName(e.kind)},
              {"step", e.step},
              {"why", e.why},
              {"errno", e.error_number != 0 ? Json(ErrnoName(e.error_number)) : Json()},
              {"since", e.since},
              {"failures", e.failures},
              {"location", e.location}};
    if (e.due) {
      j["next_attempt"] = "now";
    } else {
      const auto wait = std::max<Duration>(e.next_attempt - now, Duration::zero());
      j["next_attempt"] = Rfc3339Utc(system_now + std::chrono::duration_cast<
                                                      std::chrono::system_clock::duration>(wait));
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace bg
