#include "agent/checks/pipeline.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>

#include "agent/bundle/integrity.h"
#include "agent/checks/builtin_checks.h"
#include "agent/core/sha256.h"

namespace bg {

using Clock = std::chrono::steady_clock;

struct CheckPipeline::RunState {
  BundleReport report;
  std::optional<BundleDir> dir;
  BundleContext ctx;
  CheckEnv env;
  const std::atomic<bool>* cancelled = nullptr;
  std::function<void(BundleReport)> done;
  std::string failed_gate;  // the kind of a gate check that blocked promotion
};

namespace {
double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}
}  // namespace

CheckPipeline::CheckPipeline(Options options, std::vector<std::shared_ptr<Check>> checks)
    : options_(std::move(options)), checks_(std::move(checks)) {}

void CheckPipeline::Prelude(RunState& s) const {
  BundleReport& r = s.report;
  auto start = Clock::now();
  auto opened = BundleDir::Open(r.bundle_dir);
  if (!opened.ok()) {
    // Without the directory nothing can be checked; say why under "integrity".
    r.results.push_back(CheckResult::FromStatus("integrity", opened.status()));
    return;
  }
  s.dir.emplace(std::move(opened).value());
  s.ctx.dir = &*s.dir;

  ManifestCheckOutput manifest = ReadAndParseManifest(*s.dir, options_.limits);
  manifest.result.duration_ms = MillisSince(start);
  r.results.push_back(std::move(manifest.result));
  r.manifest = std::move(manifest.manifest);
  r.manifest_sha256 = std::move(manifest.sha256);
  if (r.manifest) r.digest = BundleDigest(r.manifest->files);

  start = Clock::now();
  const bool hashed_at_intake = r.walk.has_value();
  if (!r.walk) {
    HashingVisitor hasher(s.cancelled, options_.hash_threads);
    const auto declared = r.manifest ? DeclaredSizes(r.manifest->files)
                                     : std::map<std::string, std::uint64_t>{};
    WalkOptions options;
    options.declared = r.manifest ? &declared : nullptr;
    auto walk = WalkBundle(*s.dir, options_.limits, hasher, options);
    if (walk.ok()) {
      r.walk = std::move(walk).value();
    } else if (s.cancelled && s.cancelled->load()) {
      r.cancelled = true;
      return;
    } else {
      r.results.push_back(CheckResult::FromStatus("integrity", walk.status()));
    }
  }
  if (r.walk) {
    CheckResult integrity = IntegrityCheckResult(r.manifest ? &*r.manifest : nullptr, *r.walk);
    integrity.duration_ms = MillisSince(start);
    if (hashed_at_intake) integrity.details["hashed_during_intake_s"] = r.walk->seconds;
    r.results.push_back(std::move(integrity));
  }

  if (r.manifest && !options_.serving_dir.empty()) {
    start = Clock::now();
    CheckResult dup = DuplicateVersionCheckResult(*r.manifest, r.digest, r.manifest_sha256,
                                                  options_.serving_dir);
    r.already_served = dup.verdict == Verdict::kPass && dup.details.value("already_served", false);
    dup.duration_ms = MillisSince(start);
    r.results.push_back(std::move(dup));
  }
  s.ctx.manifest = r.manifest ? &*r.manifest : nullptr;
  s.ctx.walk = r.walk ? &*r.walk : nullptr;
  s.ctx.manifest_sha256 = r.manifest_sha256;
}

void CheckPipeline::RunAsync(const std::string& bundle_dir, std::optional<WalkReport> walk,
                             const CheckEnv& env, const std::atomic<bool>* cancelled,
                             std::function<void(BundleReport)> done) const {
  auto state = std::make_shared<RunState>();
  state->report.bundle_dir = bundle_dir;
  state->report.walk = std::move(walk);
  state->env = env;
  state->cancelled = cancelled;
  state->ctx.cancelled = cancelled;
  state->done = std::move(done);
  // The guard keeps env.loop running while the prelude is away on the pool.
  boost::asio::post(*env.pool, [this, state, guard = boost::asio::make_work_guard(*env.loop)] {
    Prelude(*state);
    boost::asio::post(*state->env.loop, [this, state] { Next(state, 0); });
  });
}

void CheckPipeline::Next(std::shared_ptr<RunState> state, std::size_t index) const {
  if (state->cancelled && state->cancelled->load()) state->report.cancelled = true;
  if (index >= checks_.size() || state->report.cancelled) {
    Finish(std::move(state));
    return;
  }
  Check& check = *checks_[index];
  const BundleContext& ctx = state->ctx;
  std::string skip;
  if (ctx.dir == nullptr) {
    skip = "the bundle directory could not be opened";
  } else if (ctx.manifest == nullptr) {
    skip = "needs a valid manifest";
  } else if (ctx.walk == nullptr || !ctx.walk->safe()) {
    skip = "the bundle's tree is unsafe or over its limits; its files were not opened";
  } else if (ctx.walk->truncated()) {
    skip = "a file is larger than declared: it was not read to its end";
  } else if (!state->failed_gate.empty()) {
    skip = "not run: the " + state->failed_gate + " check failed, so nothing loads this bundle";
  }
  if (!skip.empty()) {
    state->report.results.push_back(CheckResult::Skip(std::string(check.kind()), skip));
    Next(std::move(state), index + 1);
    return;
  }
  const auto start = Clock::now();
  check.RunAsync(ctx, state->env, [this, state, index, start, &check](CheckResult result) {
    result.duration_ms = MillisSince(start);
    if (check.gates_pipeline() && result.blocks_promotion()) state->failed_gate = result.check;
    state->report.results.push_back(std::move(result));
    Next(state, index + 1);
  });
}

void CheckPipeline::Finish(std::shared_ptr<RunState> state) const {
  BundleReport& r = state->report;
  if (!r.cancelled && options_.require_parity && r.manifest) {
    bool covered = false;
    for (const auto& c : checks_) covered = covered || c->kind() == r.manifest->model.format;
    if (!covered) {
      r.results.push_back(CheckResult::Fail(
          "parity", Reason::kPluginError,
          "no [[checks]] entry of kind \"" + r.manifest->model.format +
              "\" checks this bundle's model format (require_parity = true)"));
    }
  }
  for (const auto& result : r.results) {
    if (result.check == "signature" && result.details.contains("signer")) {
      r.signer = result.details["signer"];
    }
  }
  r.passed = !r.cancelled && !r.results.empty();
  for (const auto& result : r.results) {
    if (result.held() && !r.held) {
      r.held = true;
      r.held_why = result.check + ": " + result.summary;
      r.held_errno = result.error_number;
    }
  }
  if (r.held) {  // no verdict at all: not the first failure's, not a default
    r.passed = false;
    auto done = std::move(state->done);
    done(std::move(state->report));
    return;
  }
  for (const auto& result : r.results) {
    if (result.blocks_promotion()) {
      r.passed = false;
      if (r.reason.empty()) {
        r.reason = result.reason.empty() ? std::string(ReasonCode(Reason::kPluginError)) : result.reason;
        r.message = result.check + ": " + result.summary;
      }
    }
  }
  if (!r.passed && r.reason.empty() && !r.cancelled) {
    r.reason = std::string(ReasonCode(Reason::kManifestInvalid));
    r.message = "no check could run";
  }
  auto done = std::move(state->done);
  done(std::move(state->report));
}

BundleReport CheckPipeline::Run(const std::string& bundle_dir, const std::atomic<bool>* cancelled,
                                int threads) const {
  boost::asio::io_context loop;
  boost::asio::thread_pool pool(static_cast<std::size_t>(threads));
  BundleReport out;
  RunAsync(bundle_dir, std::nullopt, CheckEnv{&loop, &pool}, cancelled,
           [&out](BundleReport r) { out = std::move(r); });
  loop.run();
  pool.join();
  return out;
}

Json BundleReport::ToJson() const {
  Json j;
  j["bundle"] = bundle_dir;
  if (manifest) {
    j["name"] = manifest->name;
    j["version"] = manifest->version;
    j["commit"] = manifest->source.commit;
    j["digest"] = digest;
  }
  j["status"] = cancelled ? "cancelled" : held ? "held" : passed ? "pass" : "fail";
  if (held) j["held"] = held_why;
  if (!reason.empty()) j["reason"] = reason;
  if (!message.empty()) j["message"] = message;
  if (already_served) j["already_served"] = true;
  if (!signer.is_null()) j["signer"] = signer;
  Json checks = Json::array();
  for (const auto& c : results) checks.push_back(c.ToJson());
  j["checks"] = checks;
  return j;
}

}  // namespace bg
