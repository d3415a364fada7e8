// Agent: the readiness conditions (readiness.h), for /readyz, bundlegate_ready_condition and the
// "degraded" state. Each is cheap (no filesystem walk; one statvfs): they run on the loop at
// every probe and scrape. A new condition is one more entry in Readiness().
#include <sys/stat.h>

#include "agent/daemon/agent_impl.h"

namespace bg {

std::vector<ReadinessCondition> Agent::Impl::Readiness() const {
  std::vector<ReadinessCondition> out;

  ReadinessCondition recovered{"recovered", phase_ == Phase::kRunning, ""};
  recovered.detail = phase_ == Phase::kStarting     ? "starting"
                     : phase_ == Phase::kRecovering ? "recovering work/ and the audit log"
                                                    : "recovery done";
  out.push_back(recovered);

  ReadinessCondition watched{"inbox_watched", false, ""};
  struct stat st {};
  if (!watcher_) {
    watched.detail = "not watching yet";
  } else if (stopping_) {
    watched.detail = "draining: no longer watching";
  } else if (::stat(config_.paths.inbox.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    watched.detail = "the inbox " + config_.paths.inbox + " is gone";
  } else {
    watched.ok = true;
    watched.detail = config_.paths.inbox + " (" + watch_note_ + ")";
  }
  out.push_back(watched);

  ReadinessCondition audit{"audit_writable", false, ""};
  if (!audit_) {
    audit.detail = "not open yet";
  } else {
    const AuditLog::Counts counts = audit_->counts();
    audit.ok = !counts.last_failed;
    audit.detail = counts.last_failed ? "the last append to " + audit_->path() + " failed"
                                      : std::to_string(counts.appended) + " record(s) written";
  }
  out.push_back(audit);

  ReadinessCondition disk{"disk_space", false, ""};
  // The low-disk floor (agent_hold.cpp): [limits] min_free_bytes, or min_free_ratio of the size.
  const std::uint64_t floor = DiskFloor();
  if (auto space = StatDiskSpace(config_.paths.root); !space.ok()) {
    disk.detail = space.status().message();
  } else {
    disk.ok = space->available_bytes >= floor;
    disk.detail = HumanBytes(space->available_bytes) + " free on " + config_.paths.root +
                  (floor > 0 ? ", floor " + HumanBytes(floor) : "");
  }
  out.push_back(disk);

  // Bundles held for the agent's own failures (agent_hold.cpp; status.json "held" lists them).
  ReadinessCondition held{"nothing_held", holds_.empty(), ""};
  if (holds_.empty()) {
    held.detail = "no bundle held";
  } else {
    held.detail = std::to_string(holds_.size()) + " bundle(s) held for the agent's own failures";
    const HoldBook::Entry* first = holds_.Find(holds_.FirstName());
    if (first != nullptr) {
      held.detail += ", e.g. " + holds_.FirstName() + " at " + first->step + ": " + first->why;
    }
  }
  out.push_back(held);
  return out;
}

std::string Agent::Impl::AgentState() const {
  if (stopping_ || stopped_) return "draining";
  if (phase_ == Phase::kStarting) return "starting";
  if (phase_ == Phase::kRecovering) return "recovering";
  return AllReady(Readiness()) ? "running" : "degraded";
}

}  // namespace bg
