// `bundlegate check` as a process, with the lockfile and preprocessing checks configured: what an
// operator sees for a good bundle, a bad one, and a bad config.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/core/sha256.h"
#include "tests/support/bundle_writer.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace bg::test;

namespace {

const std::string kSpec = "[resize]\nsize = 256\n[normalize]\nmean = [0.485, 0.456, 0.406]\n";

std::string ProvenanceConfig(const TempDir& tmp, const std::string& lockfile_options = "") {
  WriteFile(tmp / "bg.toml",
            "require_parity = false\n"
            "[paths]\nroot = \"var\"\n"
            "[runtime]\ntorch_version = \"2.5.0\"\n"
            "[[checks]]\nkind = \"lockfile\"\ndeny = [\"numpy==1.26.0\"]\n" +
                lockfile_options +
                "[[checks]]\nkind = \"preprocessing\"\nsupported = [\"imagenet-norm-v2\"]\n"
                "[checks.known]\n\"imagenet-norm-v2\" = \"" +
                bg::Sha256Hex(kSpec) + "\"\n");
  return tmp / "bg.toml";
}

BundleSpec Spec(const std::string& lockfile_path, const std::string& lockfile) {
  BundleSpec spec;
  spec.lockfile = lockfile_path;
  spec.files[lockfile_path] = lockfile;
  spec.files[spec.preprocessing_spec] = kSpec;
  return spec;
}

}  // namespace

TEST_CASE("provenance checks pass a pinned lockfile and a known preprocessing spec") {
  TempDir tmp;
  const std::string dir =
      WriteBundle(tmp / "good", Spec("requirements.lock", "numpy==1.26.4\ntorch==2.5.1+cu121\n"));
  const auto r = RunBundlegate({"check", dir, "--config", ProvenanceConfig(tmp)});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("pass  lockfile"));
  CHECK_THAT(r.out, Catch::Contains("torch 2.5.1+cu121 matches LibTorch 2.5.0 (same-minor)"));
  CHECK_THAT(r.out, Catch::Contains("pass  preprocessing"));
  CHECK_THAT(r.out, Catch::Contains("result: PASS"));
}

TEST_CASE("provenance checks pass a uv.lock bundle") {
  TempDir tmp;
  const std::string lock = ReadFile(SourceDir() + "/tests/fixtures/lockfiles/uv-simple.lock");
  const auto r = RunBundlegate(
      {"check", WriteBundle(tmp / "uv", Spec("uv.lock", lock)), "--config", ProvenanceConfig(tmp)});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("uv.lock uv.lock: 4 packages, all pinned and hashed"));
}

TEST_CASE("provenance checks fail naming packages versions and every finding") {
  TempDir tmp;
  BundleSpec spec = Spec("requirements.lock", "numpy==1.26.0\nrequests>=2.31\ntorch==1.13.1+cpu\n");
  spec.preprocessing_version = "imagenet-norm-v3";
  const std::string dir = WriteBundle(tmp / "bad", spec);
  const auto r = RunBundlegate({"check", dir, "--config", ProvenanceConfig(tmp)});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("unpinned-dependency: requests is not pinned to one version: "
                                    "version range \">=2.31\" (line 2) (and 2 more findings)"));
  CHECK_THAT(r.out, Catch::Contains("- torch-incompatible: torch 1.13.1+cpu (line 3) does not "
                                    "match the serving LibTorch 2.5.0"));
  CHECK_THAT(r.out, Catch::Contains("- denied-dependency: numpy 1.26.0 (line 1) is denied by rule "
                                    "\"numpy==1.26.0\""));
  CHECK_THAT(r.out, Catch::Contains("preprocessing-unsupported: preprocessing version "
                                    "\"imagenet-norm-v3\" is not supported"));
  CHECK_THAT(r.out, Catch::Contains("result: FAIL unpinned-dependency"));
}

TEST_CASE("provenance check results in --json carry format count and findings") {
  TempDir tmp;
  BundleSpec spec =
      Spec("Pipfile.lock", ReadFile(SourceDir() + "/tests/fixtures/lockfiles/Pipfile.lock"));
  spec.files[spec.preprocessing_spec] = kSpec + "# edited\n";
  const std::string dir = WriteBundle(tmp / "b", spec);
  const auto r = RunBundlegate({"check", dir, "--config", ProvenanceConfig(tmp), "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 1);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["reason"] == "preprocessing-spec-mismatch");
  nlohmann::json lockfile;
  nlohmann::json preprocessing;
  for (const auto& c : j["checks"]) {
    if (c["check"] == "lockfile") lockfile = c;
    if (c["check"] == "preprocessing") preprocessing = c;
  }
  CHECK(lockfile["status"] == "pass");
  CHECK(lockfile["details"]["format"] == "Pipfile.lock");
  CHECK(lockfile["details"]["packages"] == 6);
  CHECK(preprocessing["status"] == "fail");
  CHECK(preprocessing["details"]["known_sha256"] == bg::Sha256Hex(kSpec));
  CHECK(preprocessing["details"]["spec_sha256"] == bg::Sha256Hex(kSpec + "# edited\n"));
}

TEST_CASE("a malformed lockfile fails with lockfile-invalid and its line") {
  TempDir tmp;
  const std::string dir =
      WriteBundle(tmp / "b", Spec("requirements.lock", "numpy==1.26.4\ntorch=>2.5\n"));
  const auto r = RunBundlegate({"check", dir, "--config", ProvenanceConfig(tmp)});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("lockfile-invalid: requirements.lock:2: "));
}

TEST_CASE("bad lockfile and preprocessing options are config errors with their line") {
  TempDir tmp;
  const std::string dir = WriteBundle(tmp / "b");
  const std::string config =
      ProvenanceConfig(tmp, "torch_compat = \"minor\"\nrequire_hash = true\n");
  const auto r = RunBundlegate({"check", dir, "--config", config});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("bg.toml:9: checks[0].torch_compat: must be \"same-minor\""));
  CHECK_THAT(r.err, Catch::Contains("bg.toml:10: checks[0].require_hash: unknown key"));

  WriteFile(tmp / "pre.toml",
            "require_parity = false\n[paths]\nroot = \"var\"\n"
            "[[checks]]\nkind = \"preprocessing\"\n");
  const auto p = RunBundlegate({"config", "check", "--config", tmp / "pre.toml"});
  CHECK(p.exit_code == 2);
  CHECK_THAT(p.err, Catch::Contains("checks[0]: set supported"));
}
