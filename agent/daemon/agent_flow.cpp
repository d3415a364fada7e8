// Agent: one bundle's way through the gate (see agent.h):
//   inbox event or rescan -> SettleTracker -> probe (probe thread) -> ready queue -> claim (I/O
//   thread) -> copy intake (check thread) -> checks (check threads, plugins on the loop) ->
//   decision carried out (I/O thread) -> on_promote hook.
#include <unistd.h>

#include <cerrno>

#include <boost/asio/post.hpp>
#include <filesystem>
#include <spdlog/spdlog.h>

#include "agent/core/clock.h"
#include "agent/core/tree_ops.h"
#include "agent/daemon/agent_impl.h"
#include "agent/daemon/event_log_fields.h"
#include "agent/daemon/recovery.h"
#include "agent/plugin/child_process.h"
#include "agent/serving/journal.h"
#include "agent/watch/readiness_probe.h"

namespace bg {

namespace {

bool Ignored(const std::string& name) { return name.empty() || name[0] == '.'; }

constexpr const char* kHookPath = "/usr/local/bin:/usr/bin:/bin";

// A program named without a '/' is looked up in kHookPath, as a shell would.
std::string ResolveProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  std::string dirs = kHookPath;
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = dirs.substr(start, end - start) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return program;  // not found: the run reports it
}

Json RecentEntry(const ExecutionResult& r) {
  const Decision& d = r.decision;
  Json j = {{"time", NowRfc3339()}, {"decision", d.ActionName()}};
  if (!d.name.empty()) j["name"] = d.name;
  if (!d.version.empty()) j["version"] = d.version;
  if (!d.reason.empty()) j["reason"] = d.reason;
  j["path"] = d.target;
  return j;
}

}  // namespace

void Agent::Impl::OnChange(const std::string& name) {
  if (Ignored(name) || stopping_) return;
  if (holds_.Blocks(name)) return;  // held: looked at again when its next attempt is due
  if (claiming_.count(name)) {
    // Changed while waiting for a worker: it must settle again before it is claimed.
    const auto it = std::find(ready_.begin(), ready_.end(), name);
    if (it == ready_.end()) return;  // already being claimed
    ready_.erase(it);
    claiming_.erase(name);
  }
  tracker_.Touch(name, Clock::now());
  if (IsDirectory(config_.paths.inbox + "/" + name)) watcher_->Follow(name);
  status_dirty_ = true;
  ArmSettleTimer();
}

void Agent::Impl::Rescan(const std::string& why) {
  if (stopping_) return;
  std::set<std::string> present;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(config_.paths.inbox, ec)) {
    const std::string name = e.path().filename().string();
    if (!Ignored(name)) present.insert(name);
  }
  if (ec) {
    spdlog::error("cannot list the inbox {}: {}", config_.paths.inbox, ec.message());
    return;
  }
  const auto now = Clock::now();
  for (const auto& name : present) {
    if (tracker_.Tracks(name) || claiming_.count(name) || holds_.Blocks(name)) continue;
    tracker_.Touch(name, now);
    if (IsDirectory(config_.paths.inbox + "/" + name)) watcher_->Follow(name);
  }
  for (const auto& [name, why_not] : tracker_.Pending()) {
    if (!present.count(name) && !probing_.count(name)) {
      tracker_.Forget(name);
      watcher_->Unfollow(name);
    }
  }
  // Ready ones that vanished while waiting (for a worker, for space) are not claimed.
  for (auto it = ready_.begin(); it != ready_.end();) {
    if (present.count(*it)) {
      ++it;
      continue;
    }
    claiming_.erase(*it);
    ready_bytes_.erase(*it);
    ReleaseHold(*it, "it is gone from the inbox");
    it = ready_.erase(it);
  }
  if (why != "poll") spdlog::debug("rescan ({}): {} entries in the inbox", why, present.size());
  status_dirty_ = true;
  ArmSettleTimer();
}

void Agent::Impl::ArmSettleTimer() {
  if (stopping_) return;
  const auto next = tracker_.NextWakeup();
  if (!next) return;
  if (settle_armed_for_ && *settle_armed_for_ <= *next) return;  // an earlier wake-up is set
  settle_armed_for_ = *next;
  settle_timer_.expires_at(*next);
  settle_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    settle_armed_for_.reset();
    OnSettleTimer();
  });
}

void Agent::Impl::OnSettleTimer() {
  for (const auto& name : tracker_.Due(Clock::now())) {
    probing_.insert(name);
    boost::asio::post(*probe_pool_, [this, name, inbox = config_.paths.inbox,
                                     limits = config_.limits] {
      ProbeResult r = ProbeInboxEntry(inbox, name, limits, env_);
      boost::asio::post(loop_, [this, name, r] { OnProbed(name, r); });
    });
  }
  ArmSettleTimer();
}

void Agent::Impl::OnProbed(const std::string& name, const ProbeResult& probe) {
  probing_.erase(name);
  if (stopping_) {
    MaybeFinishShutdown();
    return;
  }
  const SettleTracker::Observation& obs = probe.observation;
  if (!probe.exists) {
    tracker_.Forget(name);
    watcher_->Unfollow(name);
    ReleaseHold(name, "it is gone from the inbox");
    return;
  }
  if (!probe.fault.ok()) {
    // The agent could not look at it (EACCES, EIO, EMFILE): not the bundle's doing, and no
    // reason to let it run into the incomplete timeout.
    HoldInbox(name, "probe", probe.fault);
    return;
  }
  metrics_.Sighted(name, tracker_.FirstSeen(name));
  switch (tracker_.Observe(name, obs, Clock::now())) {
    case SettleTracker::Decision::kReady:
      watcher_->Unfollow(name);
      claiming_.insert(name);
      ready_.push_back(name);
      ready_bytes_[name] = probe.bytes;
      TryStartJobs();
      break;
    case SettleTracker::Decision::kExpired:
      watcher_->Unfollow(name);
      claiming_.insert(name);
      ClaimExpired(name, obs.why_not);
      break;
    case SettleTracker::Decision::kWait:
      break;
  }
  status_dirty_ = true;
  ArmSettleTimer();
}

void Agent::Impl::TryStartJobs() {
  bool disk_checked = false;
  while (!stopping_ && (!resumable_.empty() || !ready_.empty()) &&
         static_cast<std::int64_t>(holding_slot_.size()) < config_.workers) {
    if (!resumable_.empty()) {  // recovered snapshots first: they were claimed earlier
      WorkItem item = resumable_.front();
      resumable_.pop_front();
      holding_slot_.insert(item.id);
      StartIntake(item);
      continue;
    }
    // Low-disk safety: below the floor nothing new is claimed; above it, the first ready
    // bundle whose copy fits goes, and the ones that would not fit wait, in order.
    if (!disk_checked) {
      RefreshDisk();
      disk_checked = true;
    }
    if (disk_.below_floor) break;
    auto it = ready_.begin();
    for (; it != ready_.end(); ++it) {
      const std::uint64_t bytes = config_.intake == IntakeMode::kCopy ? ready_bytes_[*it] : 0;
      std::string why;
      if (Fits(bytes, &why)) break;
      LogHold(*it, holds_.Hold(*it, HoldBook::Kind::kSpace, "space",
                               Status::SystemError(ENOSPC, why), Clock::now()));
    }
    if (it == ready_.end()) break;
    const std::string name = *it;
    ready_.erase(it);
    if (const auto* held = holds_.Find(name); held && held->kind == HoldBook::Kind::kSpace) {
      ReleaseHold(name, "there is room for it now");
    }
    reserved_["claiming:" + name] = config_.intake == IntakeMode::kCopy ? ready_bytes_[name] : 0;
    ready_bytes_.erase(name);
    Claim(name);
  }
  status_dirty_ = true;
}

void Agent::Impl::Claim(const std::string& name) {
  // The slot is taken now, under a placeholder id, so that claims in flight count.
  const std::string placeholder = "claiming:" + name;
  holding_slot_.insert(placeholder);
  ++claims_pending_;
  boost::asio::post(*io_pool_, [this, name, placeholder, mode = config_.intake] {
    auto item = work_->Claim(name, mode);
    boost::asio::post(loop_, [this, name, placeholder, item] {
      --claims_pending_;
      holding_slot_.erase(placeholder);
      claiming_.erase(name);
      auto reservation = reserved_.extract(placeholder);
      const bool still_there = PathExists(config_.paths.inbox + "/" + name);
      if (!item.ok()) {
        if (still_there) {
          HoldInbox(name, "claim", item.status());  // it stays where it is, untouched
        } else {
          spdlog::debug("{} vanished before it was claimed: {}", name, item.status().message());
          ReleaseHold(name, "it is gone from the inbox");
        }
      }
      // Events for this name were set aside while it was being claimed: a new entry of the
      // same name is looked at again (one that could not be claimed is held: left alone).
      if (still_there) OnChange(name);
      if (!item.ok()) {
        TryStartJobs();
        MaybeFinishShutdown();
        return;
      }
      if (item->received.find(kClaimedInPlacePrefix) != std::string::npos) {
        spdlog::info("claimed {} as {}, in place (the agent may not move that directory: it "
                     "is copied from inside the inbox)", name, item->id);
      } else {
        spdlog::info("claimed {} as {}", name, item->id);
      }
      if (reservation) reserved_[item->id] = reservation.mapped();
      in_flight_[item->id] = *item;
      holding_slot_.insert(item->id);
      status_dirty_ = true;
      StartIntake(*item);
    });
  });
}

void Agent::Impl::ClaimExpired(const std::string& name, const std::string& why) {
  ++claims_pending_;
  boost::asio::post(*io_pool_, [this, name, why, mode = config_.intake] {
    auto item = work_->Claim(name, mode, true, why);
    boost::asio::post(loop_, [this, name, why, item] {
      --claims_pending_;
      claiming_.erase(name);
      if (PathExists(config_.paths.inbox + "/" + name)) OnChange(name);
      if (!item.ok()) {
        if (PathExists(config_.paths.inbox + "/" + name)) HoldInbox(name, "claim", item.status());
        MaybeFinishShutdown();
        return;
      }
      in_flight_[item->id] = *item;
      const std::string message = "still incomplete after " +
                                  std::to_string(config_.watch.incomplete_timeout_s) +
                                  " s: " + why;
      spdlog::warn("{}: {}", name, message);
      Decide(*item, DecideRejection(*item, Reason::kIncomplete, message, Json{{"missing", why}},
                                    item->received, layout_));
    });
  });
}

void Agent::Impl::StartIntake(WorkItem item) {
  const std::string bundle = work_->paths().Bundle(item.id);
  if (item.snapshot_complete) {
    RunChecks(item, bundle, std::nullopt);
    return;
  }
  if (!IsDirectory(item.received)) {
    const bool link = std::filesystem::is_symlink(item.received);
    const Reason reason = link ? Reason::kUnsafePath : Reason::kManifestInvalid;
    const std::string message = item.inbox_name + (link ? " is a symlink" : " is not a directory") +
                                ": a bundle is a directory holding bundle.toml";
    Decide(item, DecideRejection(item, reason, message, Json::object(), item.received,
                                 layout_));
    return;
  }
  boost::asio::post(*check_pool_, [this, item, limits = config_.limits]() mutable {
    auto copied = work_->CopyIn(item, limits, &cancelled_);
    boost::asio::post(loop_, [this, item, copied = std::move(copied)]() mutable {
      reserved_.erase(item.id);
      if (!copied.ok()) {
        CopyFailed(std::move(item), copied.status());
        return;
      }
      OnCopied(std::move(item), std::move(copied).value());
    });
  });
}

void Agent::Impl::OnCopied(WorkItem item, CopyResult copied) {
  for (const auto& warning : copied.warnings) {
    spdlog::warn("{} ({}): {}", item.inbox_name, item.id, warning);
  }
  if (!copied.leftover.empty()) {
    // Copied whole, but the original could not be removed whole (a directory of another user
    // the agent may not change): kept, complete, under a hidden name, with a trace.
    spdlog::warn("{} ({}): the original cannot be removed ({}); it is kept as {} for its "
                 "producer to remove. The bundle is decided from the agent's copy.",
                 item.inbox_name, item.id, copied.leftover_why, copied.leftover);
    Audit("leftover", Json{{"intake_id", item.id},
                           {"inbox_name", item.inbox_name},
                           {"path", copied.leftover},
                           {"why", copied.leftover_why}});
  }
  in_flight_[item.id] = item;  // snapshot_complete may have changed
  if (copied.snapshot) {
    RunChecks(item, work_->paths().Bundle(item.id), std::move(copied.report));
  } else {
    // Unsafe, over its limits or larger than declared: no snapshot; the original is checked
    // (the walk's findings stand in for integrity) and quarantined as received.
    RunChecks(item, item.received, std::move(copied.report));
  }
}

void Agent::Impl::CopyFailed(WorkItem item, const Status& why) {
  if (cancelled_) {
    ReturnUnfinished(item, "shutdown");
    return;
  }
  if (why.IsVerdict()) {  // what the tree is (unsafe), found while copying
    Decide(item, DecideRejection(item, why.reason(), why.message(), Json::object(), item.received,
                                 layout_));
    return;
  }
  // The agent's own failure (a full disk, an I/O error, a file it may not read, no descriptors
  // left): never a verdict. The bundle goes back to where it was and is tried again later.
  HoldClaimed(item, "copy", why);
}

void Agent::Impl::RunChecks(const WorkItem& item, const std::string& dir,
                            std::optional<WalkReport> walk) {
  std::shared_ptr<const CheckPipeline> pipeline = pipeline_;  // a reload does not pull it away
  // The attempt is journaled (on the I/O thread, with the other writes to work/) before the
  // checks start: a bundle whose checks kill the agent is counted, and failed closed at last.
  boost::asio::post(*io_pool_, [this, item, dir, pipeline, walk = std::move(walk)]() mutable {
    Status recorded = executor_->RecordCheckAttempt(item);
    if (!recorded.ok()) {
      spdlog::warn("{} ({}): could not journal the check attempt: {}", item.inbox_name, item.id,
                   recorded.message());
    }
    pipeline->RunAsync(dir, std::move(walk), CheckEnv{&loop_, check_pool_.get()}, &cancelled_,
                       [this, item, dir, pipeline](BundleReport report) {
                         metrics_.Checked(report);
                         if (report.cancelled) {
                           ReturnUnfinished(item, "shutdown");
                           return;
                         }
                         if (report.held) {  // no verdict: the agent's own failure
                           HoldClaimed(item, "checks",
                                       Status::SystemError(report.held_errno, report.held_why));
                           return;
                         }
                         Decide(item, DecideFromReport(item, report, dir, layout_));
                       });
    // While the checks run: the journal's own name made durable, off the decision's path.
    Status prepared = executor_->PrepareJournal(item);
    if (!prepared.ok()) spdlog::warn("{} ({}): {}", item.inbox_name, item.id, prepared.message());
  });
}

void Agent::Impl::Decide(const WorkItem& item, Decision decision) {
  boost::asio::post(*io_pool_, [this, item, decision = std::move(decision)]() mutable {
    auto result = executor_->Execute(item, std::move(decision));
    boost::asio::post(loop_, [this, item, result = std::move(result)]() mutable {
      OnDecided(item, std::move(result));
    });
  });
}

void Agent::Impl::OnDecided(const WorkItem& item, Result<ExecutionResult> result) {
  if (!result.ok()) {
    // Decided once the journal holds the decision (journal.h); from then on the decision is
    // carried out again, never made again.
    auto journal = DecisionJournal::Load(env_, work_->paths().Dir(item.id), item.id);
    if (!journal.ok() || journal->Last("decision") == nullptr) {
      // Nothing was recorded (the record itself could not be written): nothing is decided
      // yet. Held like any failure of the agent's own, and decided afresh later.
      HoldClaimed(item, "decision", result.status());
      return;
    }
    spdlog::error("{} ({}): could not carry out the decision: {}", item.inbox_name, item.id,
                  result.status().message());
    RetryDecision(item, 1);
    return;
  }
  for (const auto& warning : result->warnings) {
    spdlog::warn("{} ({}): {}", item.inbox_name, item.id, warning);
  }
  const Decision& d = result->decision;
  metrics_.Decided(item, *result);
  const ScopedLogFields journal_fields(DecisionLogFields(item, d));
  switch (d.action) {
    case Decision::Action::kPromote:
      ++promoted_;
      spdlog::info("promoted {} {} -> {}", d.name, d.version, d.target);
      RunOnPromote(result->record);
      break;
    case Decision::Action::kNoop:
      ++noops_;
      spdlog::info("{} {} is already served, identical: nothing to do", d.name, d.version);
      break;
    case Decision::Action::kQuarantine:
      ++rejected_;
      spdlog::warn("rejected {} ({}): {} -> {}", d.name.empty() ? item.inbox_name : d.name + " " + d.version,
                   d.reason, d.message, d.target);
      break;
  }
  recent_.push_front(RecentEntry(*result));
  if (recent_.size() > 20) recent_.pop_back();
  ReleaseHold(item.inbox_name, std::string("decided: ") + std::string(d.ActionName()));
  in_flight_.erase(item.id);
  ReleaseSlot(item.id);
}

void Agent::Impl::RetryDecision(const WorkItem& item, int attempt) {
  // The decision is recorded in work/<id>/journal.jsonl: carrying it out again is safe. After
  // the last attempt the bundle stays in work/ and the next start tries once more.
  constexpr int kAttempts = 8;
  if (attempt >= kAttempts || stopping_) {
    spdlog::error("{} ({}): giving up for now; it stays in work/ with its decision, finished "
                  "at the next start", item.inbox_name, item.id);
    in_flight_.erase(item.id);
    ReleaseSlot(item.id);
    return;
  }
  auto timer = std::make_shared<boost::asio::steady_timer>(loop_, holds_.Backoff(attempt));
  timer->async_wait([this, item, attempt, timer](const boost::system::error_code&) {
    boost::asio::post(*io_pool_, [this, item, attempt] {
      auto result = executor_->Resume(item);
      boost::asio::post(loop_, [this, item, attempt, result = std::move(result)]() mutable {
        if (result.ok()) {
          OnDecided(item, std::move(result));
        } else {
          spdlog::error("{} ({}): retry {} failed: {}", item.inbox_name, item.id, attempt,
                        result.status().message());
          RetryDecision(item, attempt + 1);
        }
      });
    });
  });
}

void Agent::Impl::ReturnUnfinished(const WorkItem& item, const std::string& why) {
  boost::asio::post(*io_pool_, [this, item, why, config = config_] {
    std::string where;
    Status st = ReturnToInbox(config, *work_, item, env_, &where);
    if (st.ok()) {
      spdlog::warn("{} ({}) returned to the inbox as {}: {}", item.inbox_name, item.id, where, why);
    } else {
      spdlog::error("{} ({}): {}; returning it to the inbox failed too: {} (it stays in work/, "
                    "recovered at the next start)", item.inbox_name, item.id, why, st.message());
    }
    boost::asio::post(loop_, [this, id = item.id] {
      in_flight_.erase(id);
      ReleaseSlot(id);
    });
  });
}

void Agent::Impl::ReleaseSlot(const std::string& id) {
  holding_slot_.erase(id);
  status_dirty_ = true;
  TryStartJobs();
  MaybeFinishShutdown();
}

void Agent::Impl::RunOnPromote(const Json& record) {
  const auto& argv = config_.serving.on_promote;
  if (argv.empty()) return;
  ChildRun run;
  run.spawn.argv = argv;
  run.spawn.argv[0] = ResolveProgram(argv[0]);  // the runner executes an absolute path
  run.spawn.env = {std::string("PATH=") + kHookPath,
                   "BUNDLEGATE_NAME=" + record.value("name", ""),
                   "BUNDLEGATE_VERSION=" + record.value("version", ""),
                   "BUNDLEGATE_PATH=" + record.value("path", ""),
                   "BUNDLEGATE_DIGEST=" + record.value("digest", "")};
  // A trusted hook that tells a model server: the network, its own view, rlimits only.
  run.spawn.sandbox.layers = sandbox::LayerSet::Of({sandbox::Layer::kRlimit});
  run.spawn.sandbox.open_files = 4096;
  run.timeout = std::chrono::seconds(config_.serving.on_promote_timeout_s);
  run.max_stdout_bytes = 64 * 1024;
  ++hooks_running_;
  RunChildAsync(loop_, std::move(run), [this, record](ChildOutcome out) {
    --hooks_running_;
    Json fields = {{"name", record.value("name", "")},
                   {"version", record.value("version", "")},
                   {"command", config_.serving.on_promote},
                   {"wall_ms", out.wall_ms}};
    bool ok = false;
    if (!out.start_error.ok()) {
      fields["error"] = out.start_error.message();
    } else if (out.timed_out) {
      fields["error"] = "timed out after " + std::to_string(config_.serving.on_promote_timeout_s) + " s";
    } else if (out.signal != 0) {
      fields["error"] = "killed by signal " + std::to_string(out.signal);
    } else {
      fields["exit_code"] = out.exit_code;
      ok = out.exit_code == 0;
    }
    fields["ok"] = ok;
    if (!out.err_tail.empty()) fields["stderr_tail"] = out.err_tail;
    if (ok) {
      spdlog::info("on_promote for {} {} succeeded", record.value("name", ""), record.value("version", ""));
    } else {
      spdlog::warn("on_promote for {} {} failed: {} (the promotion stands)", record.value("name", ""),
                   record.value("version", ""), DumpJson(fields));
    }
    Audit("on-promote", fields);
    MaybeFinishShutdown();
  });
}

}  // namespace bg
