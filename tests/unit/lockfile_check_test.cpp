// The "lockfile" check: its options as the config gives them, and its verdicts on real bundles.
#include "agent/lockfile/lockfile_check.h"

#include <catch2/catch.hpp>

#include "tests/support/bundle_writer.h"
#include "tests/unit/check_options.h"
#include "tests/unit/lockfile_fixtures.h"

using namespace bg;
using namespace bg::test;

namespace {

std::shared_ptr<Check> LockfileCheckWith(const std::string& options,
                                         const std::string& torch = "2.5.0") {
  BuiltCheck built = BuildCheckFrom(MakeLockfileCheck, "kind = \"lockfile\"\n" + options, torch);
  INFO(built.errors);
  REQUIRE(built.errors.empty());
  return built.check;
}

std::string BundleWithLockfile(const TempDir& tmp, const std::string& path,
                               const std::string& text) {
  BundleSpec spec;
  spec.lockfile = path;
  spec.files[path] = text;
  return WriteBundle(tmp / "bundle", spec);
}

}  // namespace

TEST_CASE("lockfile options: defaults and every error with its line") {
  CHECK(BuildCheckFrom(MakeLockfileCheck, "kind = \"lockfile\"\n").errors.empty());
  const BuiltCheck bad = BuildCheckFrom(MakeLockfileCheck,
                                        "kind = \"lockfile\"\n"
                                        "torch_compat = \"minor\"\n"
                                        "deny = [\"torch\", \"torch<<2\"]\n"
                                        "require_pinned = \"yes\"\n"
                                        "max_bytes = 0\n"
                                        "require_hash = true\n");
  CHECK(bad.check == nullptr);
  CHECK_THAT(bad.errors,
             Catch::Contains("bg.toml:3: checks[0].torch_compat: must be \"same-minor\""));
  CHECK_THAT(bad.errors, Catch::Contains("bg.toml:4: checks[0].deny: item 1: \"torch<<2\""));
  CHECK_THAT(bad.errors, Catch::Contains("bg.toml:5: checks[0].require_pinned: expected boolean"));
  CHECK_THAT(bad.errors, Catch::Contains("bg.toml:6: checks[0].max_bytes: must be >= 1"));
  CHECK_THAT(bad.errors, Catch::Contains("bg.toml:7: checks[0].require_hash: unknown key"));
}

TEST_CASE("lockfile check passes a pinned requirements lockfile naming torch and LibTorch") {
  TempDir tmp;
  const std::string dir =
      BundleWithLockfile(tmp, "requirements.lock", LockFixture("pip-compile-hashes.txt"));
  const CheckResult r = RunOnBundle(LockfileCheckWith("require_hashes = true\n"), dir);
  INFO(r.summary);
  CHECK(r.verdict == Verdict::kPass);
  CHECK(r.summary ==
        "requirements.txt requirements.lock: 20 packages, all pinned and hashed; torch "
        "2.5.1+cu121 matches LibTorch 2.5.0 (same-minor)");
  CHECK(r.details["format"] == "requirements.txt");
  CHECK(r.details["packages"] == 20);
  CHECK(r.details["torch"] == Json::array({"2.5.1+cu121"}));
  CHECK(r.details["runtime_torch"] == "2.5.0");
  CHECK_FALSE(r.details.contains("findings"));
}

TEST_CASE("lockfile check reads each format from a bundle") {
  TempDir tmp;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"uv.lock", "uv-simple.lock"},
      {"deps/poetry.lock", "poetry-2.0.lock"},
      {"Pipfile.lock", "Pipfile.lock"},
      {"deps/workspace.lock", "uv-simple.lock"}};
  for (const auto& [path, fixture] : cases) {
    INFO(path);
    TempDir b;
    const std::string dir = BundleWithLockfile(b, path, LockFixture(fixture));
    const CheckResult r = RunOnBundle(LockfileCheckWith(""), dir);
    INFO(r.summary);
    CHECK(r.verdict == Verdict::kPass);
    CHECK_THAT(r.summary, Catch::Contains("matches LibTorch 2.5.0 (same-minor)"));
  }
  const std::string uv = BundleWithLockfile(tmp, "uv.lock", LockFixture("uv-simple.lock"));
  const CheckResult r = RunOnBundle(LockfileCheckWith(""), uv);
  CHECK(r.details["format"] == "uv.lock");
  CHECK(r.details["projects"] == Json::array({"fraud-scorer"}));
}

TEST_CASE("lockfile check fails on the first finding and lists them all") {
  TempDir tmp;
  const std::string dir =
      BundleWithLockfile(tmp, "requirements.lock", "numpy>=1.26\ntorch==1.13.1+cpu\nrequests\n");
  const CheckResult r = RunOnBundle(LockfileCheckWith("deny = [\"torch<2\"]\n"), dir);
  CHECK(r.verdict == Verdict::kFail);
  CHECK(r.reason == "unpinned-dependency");
  CHECK(r.summary ==
        "numpy is not pinned to one version: version range \">=1.26\" (line 1) (and 3 more "
        "findings)");
  const Json& findings = r.details["findings"];
  REQUIRE(findings.size() == 4);
  CHECK(findings[1]["package"] == "requests");
  CHECK(findings[2]["reason"] == "torch-incompatible");
  CHECK(findings[2]["detail"] ==
        "torch 1.13.1+cpu (line 2) does not match the serving LibTorch 2.5.0 "
        "(torch_compat = same-minor: 1.13 vs 2.5)");
  CHECK(findings[3]["reason"] == "denied-dependency");
}

TEST_CASE("lockfile check: torch-incompatible names both versions") {
  TempDir tmp;
  const std::string dir = BundleWithLockfile(tmp, "requirements.lock", "torch==2.5.1+cu121\n");
  const CheckResult r = RunOnBundle(LockfileCheckWith("", "1.13.0"), dir);
  CHECK(r.verdict == Verdict::kFail);
  CHECK(r.reason == "torch-incompatible");
  CHECK_THAT(r.summary, Catch::Contains("torch 2.5.1+cu121"));
  CHECK_THAT(r.summary, Catch::Contains("LibTorch 1.13.0"));
}

TEST_CASE("lockfile check errors when the runtime LibTorch is unknown") {
  TempDir tmp;
  const std::string dir = WriteBundle(tmp / "b");
  const CheckResult r = RunOnBundle(LockfileCheckWith("", ""), dir);
  CHECK(r.verdict == Verdict::kError);
  CHECK(r.reason == "torch-incompatible");
  CHECK_THAT(r.summary, Catch::Contains("cannot check torch_compat = same-minor"));
  CHECK(r.details["runtime_torch"].is_null());

  const CheckResult any = RunOnBundle(LockfileCheckWith("torch_compat = \"any\"\n", ""), dir);
  CHECK(any.verdict == Verdict::kPass);
  CHECK_THAT(any.summary, Catch::EndsWith("; torch_compat = any"));

  // Another failure decides over the missing runtime version: the check did run.
  TempDir tmp2;
  const std::string unpinned = BundleWithLockfile(tmp2, "requirements.lock", "torch>=2\n");
  const CheckResult both = RunOnBundle(LockfileCheckWith("", ""), unpinned);
  CHECK(both.verdict == Verdict::kFail);
  CHECK(both.reason == "unpinned-dependency");
}

TEST_CASE("lockfile check passes a lockfile without torch and says so") {
  TempDir tmp;
  const std::string dir = BundleWithLockfile(tmp, "requirements.lock", "numpy==1.26.4\n");
  const CheckResult r = RunOnBundle(LockfileCheckWith(""), dir);
  CHECK(r.verdict == Verdict::kPass);
  CHECK(r.summary ==
        "requirements.txt requirements.lock: 1 package, all pinned; no torch in the "
        "lockfile, torch_compat not applicable");
}

TEST_CASE("lockfile check: malformed or oversized lockfiles are lockfile-invalid") {
  TempDir tmp;
  const std::string dir = BundleWithLockfile(tmp, "requirements.lock", "numpy==1.26.4\ntorch=>2\n");
  const CheckResult r = RunOnBundle(LockfileCheckWith(""), dir);
  CHECK(r.verdict == Verdict::kFail);
  CHECK(r.reason == "lockfile-invalid");
  CHECK_THAT(r.summary, Catch::StartsWith("requirements.lock:2: "));
  CHECK(r.details["format"] == "requirements.txt");

  const CheckResult big = RunOnBundle(LockfileCheckWith("max_bytes = 8\n"), dir);
  CHECK(big.reason == "lockfile-invalid");
  CHECK_THAT(big.summary, Catch::Contains("larger than max_bytes (8 bytes)"));

  TempDir tmp2;
  const std::string uv = BundleWithLockfile(tmp2, "uv.lock", "version = 1\n[[package]\n");
  CHECK_THAT(RunOnBundle(LockfileCheckWith(""), uv).summary, Catch::StartsWith("uv.lock:2:"));
}
