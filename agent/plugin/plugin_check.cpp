#include "agent/plugin/plugin_check.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>

#include "agent/core/env.h"
#include "agent/plugin/child_process.h"
#include "agent/plugin/describe.h"
#include "agent/plugin/describe_cache.h"
#include "agent/plugin/discovery.h"
#include "agent/plugin/plugin_launch.h"
#include "agent/plugin/plugin_result.h"
#include "agent/plugin/worker_pool.h"

namespace bg {
namespace {

const std::set<std::string, std::less<>> kRunnerOptions = {
    "kind", "timeout_s", "memory_mb", "cpu_s", "max_output_kb", "tmpfs_mb", "pids_max",
    "require_isolation", "warm", "warm_workers", "warm_idle_s"};

// How long a warm worker may take to load its runtime and say hello.
constexpr std::chrono::seconds kWorkerStartTimeout{60};

// The [[checks]] options of the warm path.
struct WarmOptions {
  bool enabled = true;      // warm: use a worker when the plugin serves
  std::size_t workers = 0;  // warm_workers: 0 = the agent's `workers`
  std::chrono::seconds idle{600};  // warm_idle_s
};

// The isolation a kernel refuses is the same for every run: say it once per process.
void LogIsolationOnce(const IsolationReport& isolation, const PluginSandbox& sandbox) {
  if (isolation.notes.empty() && sandbox.config.notes.empty()) return;
  static std::once_flag once;
  std::call_once(once, [&isolation, &sandbox] {
    for (const auto& note : sandbox.config.notes) {
      std::fprintf(stderr, "bundlegate: note: %s\n", note.c_str());
    }
    for (const auto& note : isolation.notes) {
      std::fprintf(stderr, "bundlegate: note: plugins run with reduced isolation: %s\n",
                   note.c_str());
    }
  });
}

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

// The plugin's --describe answer: known at build, or asked for (through the cache) the first
// time a bundle needs it, once, whatever the number of threads asking.
class Description {
 public:
  Description(std::shared_ptr<DescribeCache> describes, std::string path, std::string kind,
              PluginLimits limits, PluginSandbox sandbox, std::optional<PluginDescription> known)
      : describes_(std::move(describes)), path_(std::move(path)), kind_(std::move(kind)),
        limits_(limits), sandbox_(std::move(sandbox)) {
    if (known) value_.emplace(std::move(*known));
  }

  const Result<PluginDescription>& Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (!value_) value_.emplace(describes_->Describe(path_, kind_, limits_, sandbox_));
    return *value_;
  }

 private:
  const std::shared_ptr<DescribeCache> describes_;
  const std::string path_, kind_;
  const PluginLimits limits_;
  const PluginSandbox sandbox_;
  mutable std::mutex mu_;
  mutable std::optional<Result<PluginDescription>> value_;
};

class PluginCheck final : public Check {
 public:
  PluginCheck(std::string kind, PluginLimits limits, PluginSandbox sandbox, Json config,
              std::unique_ptr<Description> description, std::string path,
              std::shared_ptr<WorkerPool> pool, std::string work_dir)
      : kind_(std::move(kind)), limits_(limits), sandbox_(std::move(sandbox)),
        config_(std::move(config)), description_(std::move(description)),
        path_(std::move(path)), pool_(std::move(pool)), work_dir_(std::move(work_dir)) {}

  std::string_view kind() const override { return kind_; }

  CheckResult Run(const BundleContext& ctx) override {
    boost::asio::io_context loop;
    CheckResult out;
    RunAsync(ctx, CheckEnv{&loop, nullptr}, [&out](CheckResult r) { out = std::move(r); });
    loop.run();
    return out;
  }

  void RunAsync(const BundleContext& ctx, const CheckEnv& env, Done done) override {
    const Result<PluginDescription>* description = nullptr;
    std::optional<CheckResult> early = Precheck(ctx, description);
    if (early) {
      boost::asio::post(*env.loop, [done = std::move(done), r = std::move(*early)]() mutable {
        done(std::move(r));
      });
      return;
    }
    if (Status injected = Env::Fault("spawn", path_); !injected.ok()) {
      boost::asio::post(*env.loop, [done = std::move(done), r = CheckResult::Held(kind_, injected)]() mutable {
        done(std::move(r));
      });
      return;
    }
    std::vector<std::string> notes;
    const PluginLimits limits = LimitsFor(*ctx.manifest, notes);
    const std::string bundle_dir = AbsolutePath(ctx.dir->path());
    const std::string why_cold = WhyCold(**description, limits, bundle_dir, env);
    if (!why_cold.empty()) {
      if (pool_ && (*description)->serve) notes.push_back("ran cold: " + why_cold);
      RunCold(ctx, env, limits, bundle_dir, std::move(notes), std::move(done));
      return;
    }
    ServeRequest request;
    request.request = Request(ctx);
    request.bundle_dir = bundle_dir;
    request.sandbox = PluginChildRun(path_, {}, limits, bundle_dir, sandbox_).spawn.sandbox;
    request.timeout_ms = static_cast<double>(
        std::chrono::duration_cast<std::chrono::milliseconds>(limits.timeout).count());
    request.max_output_bytes = static_cast<std::uint64_t>(limits.max_output_kb) << 10;
    const BundleContext* bundle = &ctx;  // valid until done (Check::RunAsync)
    pool_->Run(std::move(request), limits.timeout, ctx.cancelled,
               [this, bundle, env, limits, bundle_dir, notes = std::move(notes),
                done = std::move(done)](PoolAnswer answer) mutable {
                 if (!answer.ran) {
                   notes.push_back("ran cold: " + answer.note);
                   RunCold(*bundle, env, limits, bundle_dir, std::move(notes), std::move(done));
                   return;
                 }
                 if (!answer.note.empty()) notes.push_back(answer.note);
                 CheckResult r = Interpret(answer.outcome, limits, notes);
                 r.details["runner"]["warm_worker"] = {{"pid", answer.worker_pid},
                                                       {"requests", answer.worker_served}};
                 done(std::move(r));
               });
  }

 private:
  // Why this bundle does not go to a warm worker ("" when it does).
  std::string WhyCold(const PluginDescription& description, const PluginLimits& limits,
                      const std::string& bundle_dir, const CheckEnv& env) const {
    if (!pool_ || !description.serve) return "no warm worker";
    if (env.loop != &pool_->loop()) return "not on the agent's event loop";
    if (limits.memory_mb != limits_.memory_mb) {
      return "this bundle's limits differ from the warm worker's (inference.device)";
    }
    const std::string prefix = work_dir_ + "/";
    if (bundle_dir.compare(0, prefix.size(), prefix) != 0) {
      return "the bundle is checked outside work/ (" + bundle_dir + "), where the warm worker "
             "cannot see it";
    }
    return "";
  }

  void RunCold(const BundleContext& ctx, const CheckEnv& env, const PluginLimits& limits,
               const std::string& bundle_dir, std::vector<std::string> notes, Done done) {
    ChildRun run = PluginChildRun(path_, {}, limits, bundle_dir, sandbox_);
    run.stdin_data = Request(ctx);
    run.cancelled = ctx.cancelled;
    RunChildAsync(*env.loop, std::move(run),
                  [this, limits, notes = std::move(notes), done = std::move(done)](ChildOutcome outcome) {
                    done(Interpret(outcome, limits, notes));
                  });
  }

  CheckResult Interpret(const ChildOutcome& outcome, const PluginLimits& limits,
                        const std::vector<std::string>& notes) const {
    LogIsolationOnce(outcome.isolation, sandbox_);
    const Result<PluginDescription>& description = description_->Get();
    CheckResult r = InterpretPluginRun(kind_, PluginIdentity{path_, (*description).version},
                                       outcome, limits);
    for (const auto& note : notes) r.details["runner"]["notes"].push_back(note);
    return r;
  }

  // A result without running the plugin, or nullopt with `description` set.
  std::optional<CheckResult> Precheck(const BundleContext& ctx,
                                      const Result<PluginDescription>*& description) const {
    if (ctx.dir == nullptr || ctx.manifest == nullptr) {
      return CheckResult::Skip(kind_, "needs an open bundle with a valid manifest");
    }
    description = &description_->Get();
    if (!description->ok()) {
      // A lazily described plugin that cannot describe itself: the installation's fault, not
      // the bundle's (built eagerly, the same is a config error).
      return CheckResult::Error(kind_, Reason::kNone, description->status().message());
    }
    const std::string& format = ctx.manifest->model.format;
    if (!(*description)->HandlesFormat(format)) {
      return CheckResult::Skip(kind_, "does not handle model format \"" + format + "\"");
    }
    return std::nullopt;
  }

  PluginLimits LimitsFor(const Manifest& manifest, std::vector<std::string>& notes) const {
    PluginLimits limits = limits_;
    if (manifest.inference && manifest.inference->device == "cuda" && limits.memory_mb > 0) {
      limits.memory_mb = 0;
      notes.push_back("memory_mb not applied: inference.device is \"cuda\"");
    }
    return limits;
  }

  std::string Request(const BundleContext& ctx) const {
    Json request = {{"protocol", 1},
                    {"bundle_dir", AbsolutePath(ctx.dir->path())},
                    {"manifest", ctx.manifest->ToJson()},
                    {"config", config_}};
    return DumpJson(request) + "\n";
  }

  const std::string kind_;
  const PluginLimits limits_;
  const PluginSandbox sandbox_;
  const Json config_;
  const std::unique_ptr<Description> description_;
  const std::string path_;
  const std::shared_ptr<WorkerPool> pool_;  // null: every run is cold
  const std::string work_dir_;
};

PluginLimits ReadLimits(TableReader& options) {
  PluginLimits limits;
  if (auto v = options.Int("timeout_s", Presence::kOptional, 1, 7 * 86400)) {
    limits.timeout = std::chrono::seconds(*v);
  }
  if (auto v = options.Int("memory_mb", Presence::kOptional, 0, std::int64_t{1} << 30)) {
    limits.memory_mb = static_cast<std::uint64_t>(*v);
  }
  if (auto v = options.Int("cpu_s", Presence::kOptional, 0, 7 * 86400)) {
    limits.cpu_s = static_cast<std::uint64_t>(*v);
  }
  if (auto v = options.Int("max_output_kb", Presence::kOptional, 1, 1 << 20)) {
    limits.max_output_kb = static_cast<std::uint64_t>(*v);
  }
  if (auto v = options.Int("tmpfs_mb", Presence::kOptional, 1, 1 << 20)) {
    limits.tmpfs_mb = static_cast<std::uint64_t>(*v);
  }
  if (auto v = options.Int("pids_max", Presence::kOptional, 8, 1 << 22)) {
    limits.pids_max = static_cast<std::uint64_t>(*v);
  }
  return limits;
}

// require_isolation: names of layers, each of which sandbox.layers must attempt.
sandbox::LayerSet ReadRequired(TableReader& options, const SandboxConfig& sandbox) {
  auto required = ReadLayerNames(options, "require_isolation");
  if (!required) return {};
  for (const auto& name : required->Names()) {
    sandbox::Layer layer;
    sandbox::ParseLayerName(name, &layer);
    if (!sandbox.layers.Has(layer)) {
      options.Fail("require_isolation", "requires \"" + name + "\", which sandbox.layers leaves out");
    }
  }
  return *required;
}

WarmOptions ReadWarm(TableReader& options) {
  WarmOptions warm;
  if (auto v = options.Bool("warm", Presence::kOptional)) warm.enabled = *v;
  if (auto v = options.Int("warm_workers", Presence::kOptional, 0, 64)) {
    warm.workers = static_cast<std::size_t>(*v);
  }
  if (auto v = options.Int("warm_idle_s", Presence::kOptional, 1, 7 * 86400)) {
    warm.idle = std::chrono::seconds(*v);
  }
  return warm;
}

// The pool of warm workers for this check, where the agent keeps them (null otherwise, or when
// the plugin does not serve, or warm = false).
std::shared_ptr<WorkerPool> PoolFor(const std::string& path, const std::string& kind,
                                    const PluginLimits& limits, const PluginSandbox& sandbox,
                                    const WarmOptions& warm, const CheckBuildContext& ctx,
                                    const std::optional<PluginDescription>& known) {
  if (!ctx.warm_workers || !warm.enabled || ctx.config == nullptr) return nullptr;
  if (known && !known->serve) return nullptr;
  const SandboxConfig& sc = ctx.config->sandbox;
  if (::geteuid() == 0 && !PluginGroupIsExclusive(sc.plugin_uid, sc.plugin_gid)) {
    // work/ stays the agent's alone (root_setup.h): a worker running as the plugin user could
    // not reach the bundles, so every run is cold.
    static std::once_flag once;
    std::call_once(once, [&sc] {
      std::fprintf(stderr,
                   "bundlegate: note: warm workers are off: plugins run as \"%s\", whose group "
                   "is not its own (create the bundlegate-plugin user: systemd-sysusers, or "
                   "scripts/bootstrap)\n",
                   sc.plugin_user.c_str());
    });
    return nullptr;
  }
  const std::string& work = ctx.config->paths.work;
  WorkerPoolOptions options;
  options.kind = kind;
  // The worker gets the spec of a cold run whose bundle is the whole work/ area, made a
  // worker's (WarmWorkerSpec: no seccomp or Landlock for it, they are its children's).
  ChildRun as_bundle = PluginChildRun(path, {"--serve"}, limits, work, sandbox);
  options.worker_run = as_bundle;
  options.worker_run.spawn.sandbox = sandbox::WarmWorkerSpec(as_bundle.spawn.sandbox, work);
  options.worker_run.spawn.cwd = "/";
  options.worker_run.timeout = kWorkerStartTimeout;
  options.max_workers = warm.workers ? warm.workers : static_cast<std::size_t>(ctx.config->workers);
  options.idle_timeout = warm.idle;
  options.max_payload = std::max<std::uint64_t>(limits.max_output_kb << 10, 64 << 10);
  auto pool = ctx.warm_workers->PoolFor(path, std::move(options));
  return pool.ok() ? std::move(pool).value() : nullptr;
}

// Every key but the runner's own, as JSON; reading them marks them known.
Json PluginConfig(TableReader& options) {
  Json config = Json::object();
  for (const auto& key : options.Keys()) {
    if (kRunnerOptions.count(key)) continue;
    if (const Json* value = options.Raw(key)) config[key] = *value;
  }
  return config;
}

}  // namespace

std::unique_ptr<Check> MakePluginCheck(const std::string& kind, TableReader& options,
                                       const CheckBuildContext& ctx) {
  auto path = FindPlugin(kind, ctx.plugin_dirs);
  PluginSandbox sandbox = ctx.config ? PluginSandboxFor(*ctx.config) : DefaultPluginSandbox();
  PluginLimits limits = ReadLimits(options);
  limits.require_isolation = ReadRequired(options, sandbox.config);
  const WarmOptions warm = ReadWarm(options);
  Json config = PluginConfig(options);
  if (!path.ok()) {
    options.Fail("kind", path.status().message());
    return nullptr;
  }
  // Remembered, or asked now; with lazy_describe a plugin not remembered is asked when a
  // bundle first needs it.
  std::optional<PluginDescription> known = ctx.describes->Lookup(*path, kind);
  if (!known && !ctx.lazy_describe) {
    auto described = ctx.describes->Describe(*path, kind, limits, sandbox);
    if (!described.ok()) {
      options.Fail("kind", described.status().message());
      return nullptr;
    }
    known = std::move(described).value();
  }
  auto pool = PoolFor(*path, kind, limits, sandbox, warm, ctx, known);
  auto description = std::make_unique<Description>(ctx.describes, *path, kind, limits, sandbox,
                                                    std::move(known));
  return std::make_unique<PluginCheck>(kind, limits, std::move(sandbox), std::move(config),
                                       std::move(description), std::move(path).value(),
                                       std::move(pool), ctx.config ? ctx.config->paths.work : "");
}

}  // namespace bg
