// Shared by the git check's unit tests: a small training repository, and the git check built
// from TOML options exactly as the registry builds it, run through the real pipeline.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "agent/checks/pipeline.h"
#include "agent/config/config.h"
#include "agent/git/git_check.h"
#include "tests/support/bundle_writer.h"
#include "tests/support/git_repo.h"
#include "tests/support/temp_dir.h"

namespace bg::test {

// main:        A (lockfile, spec) -- B [tag v1.0, annotated] -- C (lockfile bumped)
// experiment:   \-- S (never merged)
struct TrainingRepo {
  GitRepo repo;
  std::string a, b, c, side;
  std::string new_lockfile = "numpy==2.0.0\ntorch==1.13.1\n";  // C's
};

inline TrainingRepo MakeTrainingRepo(const std::string& path) {
  const BundleSpec spec;
  auto files = DefaultBundleFiles(spec);
  TrainingRepo t{GitRepo::Init(path), "", "", "", ""};
  t.a = t.repo.Commit({{spec.lockfile_path, files[spec.lockfile]},
                       {spec.preprocessing_path, files[spec.preprocessing_spec]},
                       {"train.py", "print('train')\n"}},
                      "Pin dependencies for training");
  t.b = t.repo.Commit({{"train.py", "print('train, lr=0.01')\n"}}, "Tune the learning rate");
  t.repo.Git({"tag", "-a", "v1.0", "-m", "release 1.0"});
  t.c = t.repo.Commit({{spec.lockfile_path, t.new_lockfile}}, "Bump numpy");
  t.repo.Git({"checkout", "-q", "-b", "experiment", t.a});
  t.side = t.repo.Commit({{"idea.py", "print('wild idea')\n"}}, "Try a wild idea");
  t.repo.Git({"checkout", "-q", "main"});
  return t;
}

// A bundle (the test writer's defaults) whose manifest names `commit`.
inline std::string BundleAt(const std::string& dir, const std::string& commit,
                            BundleSpec spec = {}) {
  spec.commit = commit;
  return WriteBundle(dir, spec);
}

struct BuiltCheck {
  std::shared_ptr<Check> check;     // null when the options were rejected
  std::vector<std::string> errors;  // "<file>:<line>: <key>: <why>"
};

// Builds the git check from `options` (TOML lines after `kind = "git"`), with a config file
// in `dir` (relative repo paths are relative to it).
inline BuiltCheck BuildGitCheck(const std::string& dir, const std::string& options) {
  const std::string text = "[[checks]]\nkind = \"git\"\n" + options;
  auto config = ParseConfig(text, dir + "/bg.toml", dir);
  INFO(config.status().message());
  REQUIRE(config.ok());
  REQUIRE(config->checks.size() == 1);
  ErrorList errors(config->source);
  TableReader reader(*config->document, config->checks[0].pointer, config->checks[0].name, &errors);
  (void)reader.String("kind", Presence::kRequired);
  CheckBuildContext ctx;
  ctx.config = &*config;
  std::unique_ptr<Check> check = MakeGitCheck(reader, ctx);
  reader.RejectUnknownKeys();
  return {errors.empty() ? std::shared_ptr<Check>(std::move(check)) : nullptr, errors.messages()};
}

inline std::shared_ptr<Check> GitCheckFor(const std::string& dir, const std::string& options) {
  BuiltCheck built = BuildGitCheck(dir, options);
  INFO((built.errors.empty() ? "" : built.errors.front()));
  REQUIRE(built.check != nullptr);
  return built.check;
}

// The git check's result on the bundle at `bundle_dir`, through the real pipeline.
inline CheckResult RunGitCheck(const std::shared_ptr<Check>& check, const std::string& bundle_dir) {
  CheckPipeline::Options options;
  options.require_parity = false;
  const CheckPipeline pipeline(options, {check});
  const BundleReport report = pipeline.Run(bundle_dir);
  for (const auto& r : report.results) {
    if (r.check == "git") return r;
  }
  FAIL("the pipeline did not run the git check");
  return {};
}

inline std::string RepoOption(const std::string& path) { return "repo = \"" + path + "\"\n"; }

}  // namespace bg::test
