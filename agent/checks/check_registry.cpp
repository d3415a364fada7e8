#include "agent/checks/check_registry.h"

#include <mutex>
#include <optional>

#include "agent/cli/build_info.h"
#include "agent/git/git_check.h"
#include "agent/lockfile/lockfile_check.h"
#include "agent/plugin/describe_cache.h"
#include "agent/plugin/discovery.h"
#include "agent/plugin/plugin_check.h"
#include "agent/plugin/runtime_version.h"
#include "agent/preprocessing/preprocessing_check.h"
#include "agent/signature/signature_check.h"

namespace bg {

const std::vector<BuiltinCheckKind>& BuiltinCheckKinds() {
  static const std::vector<BuiltinCheckKind> kKinds = {
      {"signature", "model.sig (OpenSSF model signing) or bundle.toml.sig (SSH) by a trusted signer; "
                    "runs first, and a failure stops every later check",
       MakeSignatureCheck},
      {"git", "source commit known, released, clean; lockfile and spec as committed", MakeGitCheck},
      {"lockfile", "dependency lockfile pinned, hashed, torch compatible with serving, nothing denied",
       MakeLockfileCheck},
      {"preprocessing", "preprocessing version supported; its spec file as the version name pins",
       MakePreprocessingCheck},
  };
  return kKinds;
}

namespace {

// runtime.torch_version, resolved once however many checks and threads ask.
struct TorchVersionOnce {
  std::once_flag once;
  std::string value;
};

}  // namespace

Result<std::vector<std::shared_ptr<Check>>> BuildChecks(const Config& config,
                                                        const BuildOptions& build) {
  std::vector<std::shared_ptr<Check>> checks;
  if (config.checks.empty()) return checks;
  ErrorList errors(config.source);
  CheckBuildContext ctx;
  ctx.config = &config;
  ctx.plugin_dirs = config.plugin_dirs.empty() ? DefaultPluginDirs() : config.plugin_dirs;
  ctx.describes = build.describes ? build.describes : std::make_shared<DescribeCache>("");
  ctx.lazy_describe = build.lazy_describe;
  ctx.warm_workers = build.warm_workers;
  auto resolved = std::make_shared<TorchVersionOnce>();
  ctx.torch_version = [resolved, configured = config.runtime.torch_version,
                       dirs = ctx.plugin_dirs, describes = ctx.describes,
                       sandbox = PluginSandboxFor(config)] {
    std::call_once(resolved->once, [&] {
      resolved->value =
          ResolveTorchVersion(configured, dirs, BUNDLEGATE_BUILD_TORCH_VERSION, *describes,
                              sandbox);
    });
    return resolved->value;
  };
  for (std::size_t i = 0; i < config.checks.size(); ++i) {
    const CheckSpec& spec = config.checks[i];
    TableReader options(*config.document, spec.pointer, spec.name, &errors);
    (void)options.String("kind", Presence::kRequired);
    if (spec.kind == "signature" && i != 0) {
      // Everything before it would see an unverified bundle, and a plugin loads the model.
      options.Fail("kind", "the signature check must be the first [[checks]] entry (and appear "
                           "once): nothing may read the bundle before its signature is verified");
    }
    const BuiltinCheckKind* builtin = nullptr;
    for (const auto& k : BuiltinCheckKinds()) {
      if (spec.kind == k.kind) builtin = &k;
    }
    // Not built in: a plugin, bundlegate-check-<kind> in ctx.plugin_dirs (or a config error
    // naming the directories searched).
    std::unique_ptr<Check> check = builtin ? builtin->factory(options, ctx)
                                           : MakePluginCheck(spec.kind, options, ctx);
    options.RejectUnknownKeys();
    if (check) checks.push_back(std::move(check));
  }
  BG_RETURN_IF_ERROR(errors.ToStatus());
  return checks;
}

Result<std::shared_ptr<const CheckPipeline>> BuildPipeline(const Config& config,
                                                           const BuildOptions& build) {
  BG_ASSIGN_OR_RETURN(auto checks, BuildChecks(config, build));
  CheckPipeline::Options options;
  options.limits = config.limits;
  options.serving_dir = config.paths.serving;
  options.require_parity = config.require_parity;
  options.hash_threads = static_cast<int>(config.workers);
  return std::make_shared<const CheckPipeline>(options, std::move(checks));
}

}  // namespace bg
