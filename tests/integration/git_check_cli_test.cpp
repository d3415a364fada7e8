// The git check end to end: a training checkout made with git, a bundle written from it, and the
// `bundlegate check` process with a git-only config (require_parity = false).
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/bundle_writer.h"
#include "tests/support/git_repo.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace bg::test;

namespace {

// The training side: an upstream repository with a release, the pipeline's checkout of it, and
// the gate's bare mirror of upstream.
struct Training {
  Training()
      : upstream(GitRepo::Init(tmp / "upstream")),
        released(CommitRelease(upstream)),
        checkout(GitRepo::Clone(upstream.path(), tmp / "checkout")),
        mirror(GitRepo::Clone(upstream.path(), tmp / "mirror.git", GitRepo::kMirror)) {}

  TempDir tmp;
  GitRepo upstream;
  std::string released;  // tagged v1.0.0
  GitRepo checkout;
  GitRepo mirror;

  static std::string CommitRelease(GitRepo& repo) {
    const BundleSpec defaults;
    auto files = DefaultBundleFiles(defaults);
    const std::string commit =
        repo.Commit({{defaults.lockfile_path, files[defaults.lockfile]},
                     {defaults.preprocessing_path, files[defaults.preprocessing_spec]},
                     {"train.py", "print('train')\n"}},
                    "Train fraud scorer v1");
    repo.Git({"tag", "-a", "v1.0.0", "-m", "release 1.0.0"});
    return commit;
  }

  // A bundle as a training pipeline writes it from the checkout: its HEAD, its dirty state, and
  // its lockfile and preprocessing spec copied in.
  std::string WriteBundleFromCheckout(const std::string& name) {
    BundleSpec spec;
    spec.commit = checkout.RevParse("HEAD");
    spec.dirty = !checkout.Git({"status", "--porcelain"}).empty();
    spec.files[spec.lockfile] = ReadFile(checkout.path() + "/" + spec.lockfile_path);
    spec.files[spec.preprocessing_spec] = ReadFile(checkout.path() + "/" + spec.preprocessing_path);
    return WriteBundle(tmp / name, spec);
  }

  std::string Config(const std::string& extra = "") {
    WriteFile(tmp / "bg.toml",
              "require_parity = false\n[paths]\nroot = \"var\"\n\n"
              "[[checks]]\nkind = \"git\"\nrepo = \"mirror.git\"\n" +
                  extra);
    return tmp / "bg.toml";
  }
};

}  // namespace

TEST_CASE("bundlegate check passes a bundle built from a released checkout") {
  Training t;
  const std::string bundle = t.WriteBundleFromCheckout("b");
  const auto r = RunBundlegate({"check", bundle, "--config", t.Config()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("pass  git"));
  CHECK_THAT(r.out, Catch::Contains("Train fraud scorer v1"));
  CHECK_THAT(r.out, Catch::Contains("result: PASS"));

  const auto j = RunBundlegate({"check", bundle, "--config", t.Config(), "--json"});
  REQUIRE(j.exit_code == 0);
  const auto report = nlohmann::json::parse(j.out);
  const auto& git = report["checks"].back();
  CHECK(git["check"] == "git");
  CHECK(git["details"]["commit"]["id"] == t.released);
  CHECK(git["details"]["contained_in"] == "refs/tags/v1.0.0");
  CHECK(git["details"]["commit"]["author"] == "Ada Trainer <ada@example.com>");
}

TEST_CASE("bundlegate check rejects a bundle whose lockfile was edited after the commit") {
  Training t;
  AppendFile(t.checkout.path() + "/requirements.lock", "pandas==2.2.0\n");  // not committed
  const auto r = RunBundlegate({"check", t.WriteBundleFromCheckout("b"), "--config", t.Config()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("result: FAIL dirty-tree"));
  CHECK_THAT(r.out,
             Catch::Contains("- file-differs-at-commit: requirements.lock: lockfile differs"));
}

TEST_CASE("bundlegate check rejects a commit that was never pushed") {
  Training t;
  t.checkout.Commit({{"train.py", "print('local only')\n"}}, "Local experiment");
  const auto r = RunBundlegate(
      {"check", t.WriteBundleFromCheckout("b"), "--config", t.Config("fetch = true\n")});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("result: FAIL commit-unknown"));
  CHECK_THAT(r.out, Catch::Contains("just fetched"));
}

TEST_CASE("bundlegate check fails closed when the fetch fails") {
  Training t;
  const std::string bundle = t.WriteBundleFromCheckout("b");
  std::filesystem::rename(t.upstream.path(), t.tmp / "upstream-gone");
  const auto r = RunBundlegate({"check", bundle, "--config", t.Config("fetch = true\n")});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("error git"));
  CHECK_THAT(r.out, Catch::Contains("commit-unknown: could not run: fetching remote origin"));
}

TEST_CASE("a bad git check option is a configuration error naming its line") {
  Training t;
  const auto r = RunBundlegate({"check", t.WriteBundleFromCheckout("b"), "--config",
                                t.Config("allowed_refs = [\"main\"]\n")});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err,
             Catch::Contains(
                 "bg.toml:8: checks[0].allowed_refs: item 0: \"main\" is not a full ref name"));
}
