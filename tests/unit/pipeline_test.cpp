#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "agent/checks/check_registry.h"
#include "agent/checks/pipeline.h"
#include "tests/support/bundle_writer.h"
#include "tests/support/temp_dir.h"

using namespace bg;

namespace {

// A configured check that records what it saw, for ordering and skipping.
class RecordingCheck : public Check {
 public:
  RecordingCheck(std::string kind, Verdict verdict) : kind_(std::move(kind)), verdict_(verdict) {}
  std::string_view kind() const override { return kind_; }
  CheckResult Run(const BundleContext& ctx) override {
    REQUIRE(ctx.manifest != nullptr);
    REQUIRE(ctx.walk != nullptr);
    // Files are read through the bundle's directory handle.
    auto text = ctx.dir->ReadFile(ctx.manifest->dependencies.lockfile, 1 << 20);
    REQUIRE(text.ok());
    if (verdict_ == Verdict::kPass) return CheckResult::Pass(kind_, "ok");
    return CheckResult::Fail(kind_, Reason::kParityMismatch, "outputs differ");
  }

 private:
  std::string kind_;
  Verdict verdict_;
};

CheckPipeline MakePipeline(std::vector<std::shared_ptr<Check>> checks, bool require_parity,
                           const std::string& serving = "") {
  CheckPipeline::Options options;
  options.require_parity = require_parity;
  options.serving_dir = serving;
  return CheckPipeline(options, std::move(checks));
}

std::vector<std::string> Kinds(const BundleReport& r) {
  std::vector<std::string> out;
  for (const auto& c : r.results) out.push_back(c.check + ":" + std::string(VerdictName(c.verdict)));
  return out;
}

}  // namespace

TEST_CASE("a good bundle passes every check, in order") {
  test::TempDir tmp;
  const std::string dir = test::WriteBundle(tmp / "b");
  auto pipeline = MakePipeline({std::make_shared<RecordingCheck>("torchscript", Verdict::kPass)}, true);
  const BundleReport r = pipeline.Run(dir);
  CHECK(r.passed);
  CHECK(Kinds(r) == std::vector<std::string>{"manifest:pass", "integrity:pass", "torchscript:pass"});
  CHECK(r.digest.size() == 64);
  CHECK(r.manifest_sha256.size() == 64);
}

TEST_CASE("every check runs after one fails, and the first failure gives the reason") {
  test::TempDir tmp;
  const std::string dir = test::WriteBundle(tmp / "b");
  {  // tampered in place: same size, other bytes
    std::fstream f(dir + "/model.pt", std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f);
    const char first = static_cast<char>(f.get());
    f.seekp(0);
    f.put(static_cast<char>(first ^ 1));
  }
  auto pipeline = MakePipeline({std::make_shared<RecordingCheck>("torchscript", Verdict::kFail),
                                std::make_shared<RecordingCheck>("extra", Verdict::kPass)},
                               true);
  const BundleReport r = pipeline.Run(dir);
  CHECK_FALSE(r.passed);
  CHECK(r.reason == "hash-mismatch");
  CHECK_THAT(r.message, Catch::Contains("integrity: model.pt"));
  CHECK(Kinds(r) == std::vector<std::string>{"manifest:pass", "integrity:fail", "torchscript:fail",
                                              "extra:pass"});
}

TEST_CASE("a file larger than declared is read no further, and the content checks are skipped") {
  test::TempDir tmp;
  const std::string dir = test::WriteBundle(tmp / "b");
  test::AppendFile(dir + "/model.pt", "appended after the manifest was written");
  auto pipeline = MakePipeline({std::make_shared<RecordingCheck>("torchscript", Verdict::kPass),
                                std::make_shared<RecordingCheck>("extra", Verdict::kPass)},
                               true);
  const BundleReport r = pipeline.Run(dir);
  CHECK_FALSE(r.passed);
  CHECK(r.reason == "size-mismatch");
  CHECK(Kinds(r) == std::vector<std::string>{"manifest:pass", "integrity:fail", "torchscript:skip",
                                              "extra:skip"});
}

TEST_CASE("content checks are skipped when the manifest is invalid or the tree is unsafe") {
  test::TempDir tmp;
  auto pipeline = MakePipeline({std::make_shared<RecordingCheck>("torchscript", Verdict::kPass)}, true);
  SECTION("invalid manifest") {
    const std::string dir = test::WriteBundle(tmp / "b");
    test::ReplaceInFile(dir + "/bundle.toml", "format = 1", "format = \"one\"");
    const BundleReport r = pipeline.Run(dir);
    CHECK(r.reason == "manifest-invalid");
    CHECK(Kinds(r) == std::vector<std::string>{"manifest:fail", "integrity:skip", "torchscript:skip"});
  }
  SECTION("invalid manifest and an unsafe tree: both reported") {
    const std::string dir = test::WriteBundle(tmp / "b");
    test::ReplaceInFile(dir + "/bundle.toml", "format = 1", "format = \"one\"");
    REQUIRE(::symlink("/etc/passwd", (dir + "/evil").c_str()) == 0);
    const BundleReport r = pipeline.Run(dir);
    CHECK(r.reason == "manifest-invalid");
    CHECK(Kinds(r) == std::vector<std::string>{"manifest:fail", "integrity:fail", "torchscript:skip"});
    CHECK(r.results[1].reason == "unsafe-path");
  }
  SECTION("symlinked bundle.toml") {
    const std::string dir = test::WriteBundle(tmp / "b");
    std::rename((dir + "/bundle.toml").c_str(), (tmp / "real.toml").c_str());
    REQUIRE(::symlink((tmp / "real.toml").c_str(), (dir + "/bundle.toml").c_str()) == 0);
    const BundleReport r = pipeline.Run(dir);
    CHECK(r.reason == "unsafe-path");
    CHECK(Kinds(r) == std::vector<std::string>{"manifest:fail", "integrity:fail", "torchscript:skip"});
  }
  SECTION("no bundle.toml") {
    test::WriteFile(tmp / "b/model.pt", "x");
    const BundleReport r = pipeline.Run(tmp / "b");
    CHECK(r.reason == "manifest-invalid");
    CHECK_THAT(r.message, Catch::Contains("bundle.toml not found"));
  }
  SECTION("oversized bundle.toml") {
    const std::string dir = test::WriteBundle(tmp / "b");
    test::AppendFile(dir + "/bundle.toml", "# " + std::string(2 << 20, 'x') + "\n");
    const BundleReport r = pipeline.Run(dir);
    CHECK(r.reason == "limit-exceeded");
  }
}

TEST_CASE("require_parity rejects a bundle whose model format no check handles") {
  test::TempDir tmp;
  const std::string dir = test::WriteBundle(tmp / "b");
  const BundleReport strict = MakePipeline({}, true).Run(dir);
  CHECK_FALSE(strict.passed);
  CHECK(strict.reason == "plugin-error");
  CHECK_THAT(strict.message, Catch::Contains("torchscript"));
  const BundleReport lax = MakePipeline({}, false).Run(dir);
  CHECK(lax.passed);
}

TEST_CASE("duplicate versions: identical is a no-op, different is duplicate-version") {
  test::TempDir tmp;
  test::BundleSpec spec;
  spec.name = "m";
  spec.version = "1";
  test::WriteBundle(tmp / "serving/m/1", spec);
  auto pipeline = MakePipeline({}, false, tmp / "serving");

  const BundleReport same = pipeline.Run(test::WriteBundle(tmp / "same", spec));
  CHECK(same.passed);
  CHECK(same.already_served);

  spec.files["model.pt"] = "retrained";
  const BundleReport other = pipeline.Run(test::WriteBundle(tmp / "other", spec));
  CHECK_FALSE(other.passed);
  CHECK(other.reason == "duplicate-version");

  test::BundleSpec new_version = spec;
  new_version.version = "2";
  CHECK(pipeline.Run(test::WriteBundle(tmp / "v2", new_version)).passed);
}

TEST_CASE("BuildPipeline rejects unknown check kinds with their line") {
  auto config = ParseConfig("[[checks]]\nkind = \"no-such-kind-xyz\"\n", "bg.toml", "/");
  REQUIRE(config.ok());
  auto pipeline = BuildPipeline(*config);
  REQUIRE_FALSE(pipeline.ok());
  CHECK_THAT(pipeline.status().message(), Catch::Contains("bg.toml:2: checks[0].kind"));
}
