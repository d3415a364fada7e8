// The "preprocessing" check: supported versions, and version names pinned to their spec's sha256.
#include "agent/preprocessing/preprocessing_check.h"

#include <catch2/catch.hpp>

#include "agent/core/sha256.h"
#include "tests/support/bundle_writer.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/check_options.h"

using namespace bg;
using namespace bg::test;

namespace {

std::shared_ptr<Check> Preprocessing(const std::string& options) {
  BuiltCheck built = BuildCheckFrom(MakePreprocessingCheck, "kind = \"preprocessing\"\n" + options);
  INFO(built.errors);
  REQUIRE(built.errors.empty());
  return built.check;
}

// The sha256 of the default bundle's preprocessing spec.
std::string DefaultSpecSha() {
  const BundleSpec spec;
  return Sha256Hex(DefaultBundleFiles(spec).at(spec.preprocessing_spec));
}

}  // namespace

TEST_CASE("preprocessing options: errors with their line") {
  const BuiltCheck none = BuildCheckFrom(MakePreprocessingCheck, "kind = \"preprocessing\"\n");
  CHECK(none.check == nullptr);
  CHECK_THAT(none.errors, Catch::Contains("checks[0]: set supported"));

  const BuiltCheck bad = BuildCheckFrom(MakePreprocessingCheck,
                                        "kind = \"preprocessing\"\n"
                                        "supported = []\n"
                                        "[checks.known]\n"
                                        "\"imagenet-norm-v2\" = \"abc\"\n"
                                        "\"imagenet-norm-v1\" = 3\n");
  CHECK(bad.check == nullptr);
  CHECK_THAT(bad.errors, Catch::Contains("bg.toml:3: checks[0].supported: must list at least one"));
  CHECK_THAT(bad.errors, Catch::Contains("bg.toml:5: checks[0].known.imagenet-norm-v2: must be the "
                                         "sha256 of the spec file"));
  CHECK_THAT(bad.errors,
             Catch::Contains("bg.toml:6: checks[0].known.imagenet-norm-v1: expected string"));

  const BuiltCheck empty =
      BuildCheckFrom(MakePreprocessingCheck, "kind = \"preprocessing\"\nknown = {}\n");
  CHECK_THAT(empty.errors, Catch::Contains("checks[0].known: must name at least one version"));
}

TEST_CASE("a supported version with its known spec passes") {
  TempDir tmp;
  const std::string dir = WriteBundle(tmp / "b");
  const std::string sha = DefaultSpecSha();
  const CheckResult r =
      RunOnBundle(Preprocessing("supported = [\"imagenet-norm-v1\", \"imagenet-norm-v2\"]\n"
                                "known = { \"imagenet-norm-v2\" = \"" +
                                sha + "\" }\n"),
                  dir);
  CHECK(r.verdict == Verdict::kPass);
  CHECK(r.summary ==
        "preprocessing \"imagenet-norm-v2\" is supported; spec preprocess.toml matches "
        "its known sha256 " +
            sha.substr(0, 12));
  CHECK(r.details["spec_sha256"] == sha);
  CHECK(r.details["spec_pinned"] == true);
}

TEST_CASE("a supported version without a known spec passes and says it is not pinned") {
  TempDir tmp;
  const CheckResult r =
      RunOnBundle(Preprocessing("supported = [\"imagenet-norm-v2\"]\n"), WriteBundle(tmp / "b"));
  CHECK(r.verdict == Verdict::kPass);
  CHECK_THAT(r.summary, Catch::EndsWith("is not pinned in known"));
  CHECK(r.details["spec_pinned"] == false);
}

TEST_CASE("an unsupported version is preprocessing-unsupported naming what is supported") {
  TempDir tmp;
  BundleSpec spec;
  spec.preprocessing_version = "imagenet-norm-v3";
  const CheckResult r =
      RunOnBundle(Preprocessing("supported = [\"imagenet-norm-v1\", \"imagenet-norm-v2\"]\n"),
                  WriteBundle(tmp / "b", spec));
  CHECK(r.verdict == Verdict::kFail);
  CHECK(r.reason == "preprocessing-unsupported");
  CHECK(r.summary ==
        "preprocessing version \"imagenet-norm-v3\" is not supported by this serving "
        "stack (supported: imagenet-norm-v1, imagenet-norm-v2)");
}

TEST_CASE("a reused version name with different spec content is a spec mismatch") {
  TempDir tmp;
  BundleSpec spec;
  spec.files[spec.preprocessing_spec] = "[resize]\nsize = 224\n";
  const std::string sha = DefaultSpecSha();
  const CheckResult r = RunOnBundle(Preprocessing("supported = [\"imagenet-norm-v2\"]\n"
                                                  "[checks.known]\n\"imagenet-norm-v2\" = \"" +
                                                  sha + "\"\n"),
                                    WriteBundle(tmp / "b", spec));
  CHECK(r.verdict == Verdict::kFail);
  CHECK(r.reason == "preprocessing-spec-mismatch");
  CHECK_THAT(r.summary, Catch::Contains("spec preprocess.toml has sha256 " +
                                        Sha256Hex("[resize]\nsize = 224\n")));
  CHECK_THAT(r.summary, Catch::Contains("is known as " + sha));
}

TEST_CASE("known alone defines the supported versions and accepts sha256: and upper case") {
  TempDir tmp;
  std::string upper = DefaultSpecSha();
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto check = Preprocessing("known = { \"imagenet-norm-v2\" = \"sha256:" + upper +
                             "\", \"imagenet-norm-v1\" = \"" + std::string(64, '0') + "\" }\n");
  CHECK(RunOnBundle(check, WriteBundle(tmp / "b")).verdict == Verdict::kPass);
  BundleSpec v3;
  v3.preprocessing_version = "imagenet-norm-v3";
  TempDir tmp2;
  CHECK(RunOnBundle(check, WriteBundle(tmp2 / "b", v3)).reason == "preprocessing-unsupported");
}

TEST_CASE("unsupported and mismatching: both listed and the first decides") {
  TempDir tmp;
  auto check = Preprocessing(
      "supported = [\"imagenet-norm-v1\"]\n"
      "known = { \"imagenet-norm-v2\" = \"" +
      std::string(64, 'f') + "\" }\n");
  const CheckResult r = RunOnBundle(check, WriteBundle(tmp / "b"));
  CHECK(r.reason == "preprocessing-unsupported");
  REQUIRE(r.details["findings"].size() == 2);
  CHECK(r.details["findings"][1]["reason"] == "preprocessing-spec-mismatch");
  CHECK_THAT(r.summary, Catch::EndsWith("(and 1 more finding)"));
}

TEST_CASE("a spec that was not hashed cannot be verified: error") {
  PreprocessingCheck check({"imagenet-norm-v2"}, {{"imagenet-norm-v2", std::string(64, 'a')}});
  const CheckResult r = check.Evaluate("imagenet-norm-v2", "preprocess.toml", "");
  CHECK(r.verdict == Verdict::kError);
  CHECK(r.reason == "preprocessing-spec-mismatch");
  CHECK_THAT(r.summary, Catch::Contains("was not found and hashed"));
}
