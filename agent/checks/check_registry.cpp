#include "agent/checks/check_registry.h"

namespace bg {

const std::vector<BuiltinCheckKind>& BuiltinCheckKinds() {
  static const std::vector<BuiltinCheckKind> kKinds = {
  };
  return kKinds;
}

Result<std::vector<std::shared_ptr<Check>>> BuildChecks(const Config& config) {
  std::vector<std::shared_ptr<Check>> checks;
  if (config.checks.empty()) return checks;
  ErrorList errors(config.source);
  CheckBuildContext ctx;
  ctx.config = &config;
  ctx.plugin_dirs = config.plugin_dirs;
  for (const auto& spec : config.checks) {
    TableReader options(*config.document, spec.pointer, spec.name, &errors);
    (void)options.String("kind", Presence::kRequired);
    const BuiltinCheckKind* builtin = nullptr;
    for (const auto& k : BuiltinCheckKinds()) {
      if (spec.kind == k.kind) builtin = &k;
    }
    if (builtin == nullptr) {
      options.Fail("kind", "unknown check kind \"" + spec.kind + "\"");
      continue;
    }
    std::unique_ptr<Check> check = builtin->factory(options, ctx);
    options.RejectUnknownKeys();
    if (check) checks.push_back(std::move(check));
  }
  BG_RETURN_IF_ERROR(errors.ToStatus());
  return checks;
}

Result<std::shared_ptr<const CheckPipeline>> BuildPipeline(const Config& config) {
  BG_ASSIGN_OR_RETURN(auto checks, BuildChecks(config));
  CheckPipeline::Options options;
  options.limits = config.limits;
  options.serving_dir = config.paths.serving;
  options.require_parity = config.require_parity;
  return std::make_shared<const CheckPipeline>(options, std::move(checks));
}

}  // namespace bg
