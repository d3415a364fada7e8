// Shared by the built-in check tests: build a check from a [[checks]] table written as TOML, as
// the registry does (kind read, factory, unknown keys rejected), and run it on a bundle through
// the real pipeline.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "agent/checks/check_registry.h"
#include "agent/checks/pipeline.h"
#include "agent/toml/toml_document.h"

namespace bg::test {

struct BuiltCheck {
  std::shared_ptr<Check> check;  // null when the options were rejected
  std::string errors;            // every option error, joined
};

// `table`: the body of one [[checks]] table, e.g. "kind = \"lockfile\"\ndeny = [\"torch<2\"]\n".
inline BuiltCheck BuildCheckFrom(CheckFactory factory, const std::string& table,
                                 const std::string& torch_version = "") {
  auto doc = ParseToml("[[checks]]\n" + table, "bg.toml");
  INFO(doc.status().message());
  REQUIRE(doc.ok());
  ErrorList errors("bg.toml");
  TableReader options(*doc, "/checks/0", "checks[0]", &errors);
  (void)options.String("kind", Presence::kRequired);
  CheckBuildContext ctx;
  ctx.torch_version = [torch_version] { return torch_version; };
  BuiltCheck out;
  out.check = factory(options, ctx);
  options.RejectUnknownKeys();
  out.errors = errors.ToStatus().message();
  return out;
}

// Runs `check` (after manifest and integrity) on the bundle at `dir`; its result.
inline CheckResult RunOnBundle(const std::shared_ptr<Check>& check, const std::string& dir) {
  REQUIRE(check != nullptr);
  CheckPipeline::Options options;
  options.require_parity = false;
  const CheckPipeline pipeline(options, {check});
  const BundleReport report = pipeline.Run(dir);
  REQUIRE(report.results.size() >= 3);
  INFO(DumpJson(report.ToJson(), 2));
  REQUIRE(report.results.back().check == check->kind());
  return report.results.back();
}

}  // namespace bg::test
