#include "agent/plugin/plugin_check.h"

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

namespace bg {
namespace {

const std::set<std::string, std::less<>> kRunnerOptions = {
    "kind", "timeout_s", "memory_mb", "cpu_s", "max_output_kb", "tmpfs_mb", "pids_max",
    "require_isolation"};

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
              std::unique_ptr<Description> description, std::string path)
      : kind_(std::move(kind)), limits_(limits), sandbox_(std::move(sandbox)),
        config_(std::move(config)), description_(std::move(description)),
        path_(std::move(path)) {}

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
    ChildRun run = PluginChildRun(path_, {}, limits, AbsolutePath(ctx.dir->path()), sandbox_);
    run.stdin_data = Request(ctx);
    run.cancelled = ctx.cancelled;
    RunChildAsync(*env.loop, std::move(run),
                  [this, kind = kind_, identity = PluginIdentity{path_, (*description)->version},
                   limits, notes = std::move(notes), done = std::move(done)](ChildOutcome outcome) {
                    LogIsolationOnce(outcome.isolation, sandbox_);
                    CheckResult r = InterpretPluginRun(kind, identity, outcome, limits);
                    for (const auto& note : notes) r.details["runner"]["notes"].push_back(note);
                    done(std::move(r));
                  });
  }

 private:
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
  auto description = std::make_unique<Description>(ctx.describes, *path, kind, limits, sandbox,
                                                    std::move(known));
  return std::make_unique<PluginCheck>(kind, limits, std::move(sandbox), std::move(config),
                                       std::move(description), std::move(path).value());
}

}  // namespace bg
