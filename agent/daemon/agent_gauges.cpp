// Agent: what /metrics reads at scrape time, on the loop, beside AgentMetrics' counters: the
// state, the queues, readiness, disk space (one statvfs), the audit log's counts, serving/ (from
// a listing refreshed off the loop), HTTP, the event loop's lag, build and process facts.
// Nothing here walks a directory.
#include <boost/asio/post.hpp>

#include "agent/cli/build_info.h"
#include "agent/cli/git_revision.h"
#include "agent/daemon/agent_impl.h"
#include "agent/metrics/process_metrics.h"
#include "agent/serving/serving_layout.h"

namespace bg {
namespace {

constexpr std::size_t kMaxModelSeries = 1000;
constexpr auto kServedRelistEvery = std::chrono::seconds(30);

MetricFamily Family(const char* name, const char* help, const char* unit, MetricType type) {
  return MetricFamily{name, help, unit, type, {}};
}

void AddSample(MetricFamily& f, double value, MetricLabels labels = {}) {
  MetricSample s;
  s.labels = std::move(labels);
  s.value = value;
  f.samples.push_back(std::move(s));
}

MetricFamily Single(const char* name, const char* help, const char* unit, MetricType type,
                    double value) {
  MetricFamily f = Family(name, help, unit, type);
  AddSample(f, value);
  return f;
}

}  // namespace

std::vector<MetricFamily> Agent::Impl::CollectMetrics() const {
  std::vector<MetricFamily> out = metrics_.Collect();

  MetricFamily state = Family("bundlegate_state",
                              "The agent's state: one series per state, 1 for the current one.",
                              "", MetricType::kStateSet);
  const std::string current = AgentState();
  for (const char* s : {"starting", "recovering", "running", "draining", "degraded"}) {
    AddSample(state, current == s ? 1 : 0, {{"bundlegate_state", s}});
  }
  out.push_back(std::move(state));

  if (warm_workers_) {
    MetricFamily workers = Family("bundlegate_warm_workers",
                                  "Warm plugin workers (a plugin's --serve process), by plugin kind "
                                  "and state: starting, idle, busy.",
                                  "", MetricType::kGauge);
    MetricFamily starts = Family("bundlegate_warm_worker_starts",
                                 "Warm plugin workers started, by plugin kind (a worker that died "
                                 "or was reaped when idle is replaced by a new start).",
                                 "", MetricType::kCounter);
    for (const auto& [kind, st] : warm_workers_->Stats()) {
      AddSample(workers, static_cast<double>(st.starting), {{"kind", kind}, {"state", "starting"}});
      AddSample(workers, static_cast<double>(st.idle), {{"kind", kind}, {"state", "idle"}});
      AddSample(workers, static_cast<double>(st.busy), {{"kind", kind}, {"state", "busy"}});
      AddSample(starts, static_cast<double>(st.started), {{"kind", kind}});
    }
    out.push_back(std::move(workers));
    out.push_back(std::move(starts));
  }

  MetricFamily stages = Family("bundlegate_bundles",
                               "Bundles on their way: settling in the inbox, settled and waiting "
                               "for a worker, in work (claimed, being checked or decided), held "
                               "for the agent's own failures (not decided, tried again later).",
                               "", MetricType::kGauge);
  AddSample(stages, static_cast<double>(tracker_.size()), {{"stage", "settling"}});
  AddSample(stages, static_cast<double>(ready_.size() + static_cast<std::size_t>(claims_pending_)),
            {{"stage", "waiting"}});
  AddSample(stages, static_cast<double>(in_flight_.size()), {{"stage", "in_work"}});
  // Held for the agent's own failures (agent_hold.cpp; status.json "held" says which and why).
  AddSample(stages, static_cast<double>(holds_.size()), {{"stage", "held"}});
  out.push_back(std::move(stages));
  out.push_back(Single("bundlegate_workers", "Bundles checked at once at most (workers).", "",
                       MetricType::kGauge, static_cast<double>(config_.workers)));

  const auto conditions = Readiness();
  out.push_back(Single("bundlegate_ready", "1 when every readiness condition holds (/readyz).",
                       "", MetricType::kGauge, AllReady(conditions) ? 1 : 0));
  MetricFamily ready = Family("bundlegate_ready_condition",
                              "Each readiness condition: 1 when it holds.", "", MetricType::kGauge);
  for (const auto& c : conditions) AddSample(ready, c.ok ? 1 : 0, {{"condition", c.name}});
  out.push_back(std::move(ready));

  if (auto space = StatDiskSpace(config_.paths.root); space.ok()) {
    out.push_back(Single("bundlegate_root_free_bytes",
                         "Bytes an unprivileged writer may still use on the root's filesystem.",
                         "bytes", MetricType::kGauge, static_cast<double>(space->available_bytes)));
    out.push_back(Single("bundlegate_root_size_bytes", "Size of the root's filesystem.", "bytes",
                         MetricType::kGauge, static_cast<double>(space->size_bytes)));
  }

  if (audit_) {
    const AuditLog::Counts counts = audit_->counts();
    out.push_back(Single("bundlegate_audit_records", "Audit records appended by this process.",
                         "", MetricType::kCounter, static_cast<double>(counts.appended)));
    out.push_back(Single("bundlegate_audit_append_failures",
                         "Audit appends that failed (the log was left as it was).", "",
                         MetricType::kCounter, static_cast<double>(counts.failed)));
  }

  out.push_back(Single("bundlegate_served_models", "Models under serving/.", "",
                       MetricType::kGauge, static_cast<double>(served_.size())));
  MetricFamily versions = Family("bundlegate_served_versions",
                                 "Versions under serving/, by model.", "", MetricType::kGauge);
  MetricFamily currents = Family("bundlegate_served_current",
                                 "The version serving/<model>/current points at.", "",
                                 MetricType::kInfo);
  for (std::size_t i = 0; i < served_.size() && i < kMaxModelSeries; ++i) {
    const ServedModel& m = served_[i];
    AddSample(versions, static_cast<double>(m.versions), {{"model", m.name}});
    if (!m.current.empty()) AddSample(currents, 1, {{"model", m.name}, {"version", m.current}});
  }
  out.push_back(std::move(versions));
  out.push_back(std::move(currents));

  if (http_) {
    const HttpServerStats s = http_->stats();
    MetricFamily responses = Family("bundlegate_http_responses",
                                    "HTTP responses sent, by status code.", "",
                                    MetricType::kCounter);
    for (std::size_t i = 0; i < HttpServerStats::kCodes.size(); ++i) {
      AddSample(responses, static_cast<double>(s.responses[i]),
                {{"code", std::to_string(HttpServerStats::kCodes[i])}});
    }
    AddSample(responses, static_cast<double>(s.responses.back()), {{"code", "other"}});
    out.push_back(std::move(responses));
    out.push_back(Single("bundlegate_http_connections", "Open HTTP connections.", "",
                         MetricType::kGauge, static_cast<double>(s.connections_open)));
    out.push_back(Single("bundlegate_http_connections_refused",
                         "HTTP connections closed at once: over max_connections.", "",
                         MetricType::kCounter, static_cast<double>(s.connections_refused)));
    out.push_back(Single("bundlegate_http_deadline_closes",
                         "HTTP connections closed by request_timeout or idle_timeout.", "",
                         MetricType::kCounter, static_cast<double>(s.deadline_closes)));
  }
  if (heartbeat_) {
    out.push_back(Single("bundlegate_event_loop_lag_seconds",
                         "How long the event loop took to answer the last heartbeat.", "seconds",
                         MetricType::kGauge, heartbeat_->Read().last_lag_seconds));
  }

  MetricFamily build = Family("bundlegate_build", "What this binary is.", "", MetricType::kInfo);
  const std::string torch = BUNDLEGATE_BUILD_TORCH_VERSION;
  AddSample(build, 1,
            {{"version", BUNDLEGATE_VERSION},
             {"libtorch", torch.empty() ? "none" : torch},
             {"git", BUNDLEGATE_GIT_REVISION}});
  out.push_back(std::move(build));

  for (auto& f : CollectProcessMetrics()) out.push_back(std::move(f));
  return out;
}

// Lists serving/ on the probe thread after a promotion, or when the last listing is old (a
// rollback by the CLI, a retired version), for the next scrapes.
void Agent::Impl::MaybeRefreshServed() {
  if (!http_ || served_listing_) return;
  const bool moved = served_generation_ != metrics_.serving_generation();
  if (!moved && Clock::now() - served_listed_at_ < kServedRelistEvery) return;
  served_listing_ = true;
  const std::uint64_t generation = metrics_.serving_generation();
  boost::asio::post(*probe_pool_, [this, generation, layout = layout_] {
    std::vector<ServedModel> models;
    for (const auto& name : ListModels(layout)) {
      models.push_back({name, ReadCurrent(layout, name).value_or(""),
                        ListVersions(layout, name).size()});
    }
    boost::asio::post(loop_, [this, generation, models = std::move(models)]() mutable {
      served_ = std::move(models);
      served_generation_ = generation;
      served_listed_at_ = Clock::now();
      served_listing_ = false;
    });
  });
}

}  // namespace bg
