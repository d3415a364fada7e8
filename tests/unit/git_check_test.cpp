// The git check on real repositories made at test time: verdicts, reasons, details, options.
#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "agent/core/sha256.h"
#include "tests/unit/git_test_util.h"

using namespace bg;
using namespace bg::test;

namespace {

std::vector<std::string> FindingReasons(const CheckResult& r) {
  std::vector<std::string> out;
  for (const auto& f : r.details.value("findings", Json::array())) out.push_back(f["reason"]);
  return out;
}

}  // namespace

TEST_CASE("a released commit passes naming its summary author time and containing ref") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  auto check = GitCheckFor(tmp.path(), RepoOption(t.repo.path()));
  const CheckResult r = RunGitCheck(check, BundleAt(tmp / "b", t.a));
  INFO(r.summary);
  REQUIRE(r.verdict == Verdict::kPass);
  CHECK(r.details["commit"]["id"] == t.a);
  CHECK(r.details["commit"]["summary"] == "Pin dependencies for training");
  CHECK(r.details["commit"]["author"] == "Ada Trainer <ada@example.com>");
  CHECK_THAT(r.details["commit"]["time"].get<std::string>(), Catch::StartsWith("2026-01-01T"));
  CHECK(r.details["contained_in"] == "refs/tags/v1.0");  // the nearest release after A
  CHECK(r.details["files"][0]["identical"] == true);
  CHECK(r.details["files"][1]["identical"] == true);
  CHECK_THAT(r.summary, Catch::Contains("Pin dependencies for training"));
  CHECK_THAT(r.summary, Catch::Contains("refs/tags/v1.0"));
  CHECK(r.metrics["commits_walked"].get<int>() >= 1);
}

TEST_CASE("the tip of an allowed branch is contained in that branch") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  auto check = GitCheckFor(tmp.path(), RepoOption(t.repo.path()));
  BundleSpec spec;
  spec.files[spec.lockfile] = t.new_lockfile;
  const CheckResult r = RunGitCheck(check, BundleAt(tmp / "b", t.c, spec));
  INFO(r.summary);
  CHECK(r.verdict == Verdict::kPass);
  CHECK(r.details["contained_in"] == "refs/heads/main");
}

TEST_CASE("a commit on an unreleased side branch is commit-not-released") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  const std::string bundle = BundleAt(tmp / "b", t.side);
  const CheckResult r = RunGitCheck(GitCheckFor(tmp.path(), RepoOption(t.repo.path())), bundle);
  CHECK(r.verdict == Verdict::kFail);
  CHECK(r.reason == "commit-not-released");
  CHECK_THAT(r.summary, Catch::Contains("not in the history of any allowed ref"));
  CHECK(r.details["commit"]["summary"] == "Try a wild idea");
  CHECK_FALSE(r.details.contains("contained_in"));

  const std::string allow = "allowed_refs = [\"refs/heads/main\", \"refs/heads/experiment\"]\n";
  const CheckResult allowed =
      RunGitCheck(GitCheckFor(tmp.path(), RepoOption(t.repo.path()) + allow), bundle);
  CHECK(allowed.verdict == Verdict::kPass);
  CHECK(allowed.details["contained_in"] == "refs/heads/experiment");
}

TEST_CASE("a side branch merged into main is released through the merge") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  t.repo.Git({"merge", "-q", "--no-ff", "-m", "Merge the wild idea", "experiment"});
  const CheckResult r =
      RunGitCheck(GitCheckFor(tmp.path(), RepoOption(t.repo.path())), BundleAt(tmp / "b", t.side));
  INFO(r.summary);
  CHECK(r.verdict == Verdict::kPass);
  CHECK(r.details["contained_in"] == "refs/heads/main");
}

TEST_CASE("a commit that exists only in the manifest is commit-unknown") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  auto check = GitCheckFor(tmp.path(), RepoOption(t.repo.path()));
  const CheckResult r =
      RunGitCheck(check, BundleAt(tmp / "b1", "0123456789abcdef0123456789abcdef01234567"));
  CHECK(r.verdict == Verdict::kFail);
  CHECK(r.reason == "commit-unknown");
  CHECK_THAT(r.summary, Catch::Contains("is not in the repository"));
  CHECK_THAT(r.summary, Catch::Contains("fetch = false"));

  const std::string sha256_id(64, 'a');
  const CheckResult long_id = RunGitCheck(check, BundleAt(tmp / "b2", sha256_id));
  CHECK(long_id.reason == "commit-unknown");
  CHECK_THAT(long_id.summary, Catch::Contains("SHA-1"));

  const std::string blob = t.repo.RevParse(t.a + ":train.py");
  const CheckResult not_commit = RunGitCheck(check, BundleAt(tmp / "b3", blob));
  CHECK(not_commit.reason == "commit-unknown");
  CHECK_THAT(not_commit.summary, Catch::Contains("names a blob"));
}

TEST_CASE("the dirty flag is dirty-tree unless require_clean is false") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  BundleSpec spec;
  spec.dirty = true;
  const std::string bundle = BundleAt(tmp / "b", t.a, spec);
  const CheckResult strict =
      RunGitCheck(GitCheckFor(tmp.path(), RepoOption(t.repo.path())), bundle);
  CHECK(strict.reason == "dirty-tree");
  CHECK(strict.details["dirty"] == true);
  const CheckResult lax = RunGitCheck(
      GitCheckFor(tmp.path(), RepoOption(t.repo.path()) + "require_clean = false\n"), bundle);
  CHECK(lax.verdict == Verdict::kPass);
  CHECK_THAT(lax.summary, Catch::Contains("dirty tree allowed"));
}

TEST_CASE("a lockfile edited after the commit is file-differs-at-commit with both hashes") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  BundleSpec spec;
  spec.files[spec.lockfile] = t.new_lockfile;  // C's lockfile in a bundle that claims A
  const std::string bundle = BundleAt(tmp / "b", t.a, spec);
  const CheckResult r = RunGitCheck(GitCheckFor(tmp.path(), RepoOption(t.repo.path())), bundle);
  REQUIRE(r.reason == "file-differs-at-commit");
  const std::string bundle_sha = Sha256Hex(t.new_lockfile);
  const std::string commit_sha = Sha256Hex(DefaultBundleFiles(spec)[spec.lockfile]);
  CHECK_THAT(r.summary, Catch::StartsWith("requirements.lock: lockfile differs from commit"));
  CHECK_THAT(r.summary, Catch::Contains(bundle_sha) && Catch::Contains(commit_sha));
  const Json& finding = r.details["findings"][0];
  CHECK(finding["path"] == "requirements.lock");
  CHECK(finding["bundle_sha256"] == bundle_sha);
  CHECK(finding["commit_sha256"] == commit_sha);
  CHECK(r.details["files"][1]["identical"] == true);  // the spec still matches

  const CheckResult unchecked = RunGitCheck(
      GitCheckFor(tmp.path(), RepoOption(t.repo.path()) + "files_at_commit = false\n"), bundle);
  CHECK(unchecked.verdict == Verdict::kPass);
  CHECK_FALSE(unchecked.details.contains("files"));
}

TEST_CASE("a path missing at the commit is file-differs-at-commit") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  BundleSpec spec;
  spec.preprocessing_path = "conf/not-there.toml";
  const CheckResult r = RunGitCheck(GitCheckFor(tmp.path(), RepoOption(t.repo.path())),
                                    BundleAt(tmp / "b", t.a, spec));
  CHECK(r.reason == "file-differs-at-commit");
  CHECK_THAT(r.summary, Catch::StartsWith("conf/not-there.toml: preprocessing spec (bundle file "
                                          "preprocess.toml) not found at commit"));
  CHECK(r.details["findings"][0]["commit_sha256"].is_null());
}

TEST_CASE("every finding is reported and the first decides the reason") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  BundleSpec spec;
  spec.dirty = true;
  spec.files[spec.lockfile] = "torch==2.0.0\n";
  const CheckResult r = RunGitCheck(GitCheckFor(tmp.path(), RepoOption(t.repo.path())),
                                    BundleAt(tmp / "b", t.side, spec));
  CHECK(r.reason == "commit-not-released");
  CHECK(FindingReasons(r) ==
        std::vector<std::string>{"commit-not-released", "dirty-tree", "file-differs-at-commit"});
  CHECK_THAT(r.summary, Catch::EndsWith("(and 2 more)"));

  spec.commit = "fedcba9876543210fedcba9876543210fedcba98";
  const CheckResult unknown = RunGitCheck(GitCheckFor(tmp.path(), RepoOption(t.repo.path())),
                                          WriteBundle(tmp / "b2", spec));
  CHECK(FindingReasons(unknown) == std::vector<std::string>{"commit-unknown", "dirty-tree"});
}

TEST_CASE("a bare mirror and a plain clone are both checked") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  SECTION("bare mirror with the default allowed refs") {
    GitRepo mirror = GitRepo::Clone(t.repo.path(), tmp / "mirror.git", GitRepo::kMirror);
    auto check = GitCheckFor(tmp.path(), RepoOption(mirror.path()));
    const CheckResult released = RunGitCheck(check, BundleAt(tmp / "b1", t.a));
    CHECK(released.verdict == Verdict::kPass);
    CHECK(released.details["contained_in"] == "refs/tags/v1.0");
    CHECK(RunGitCheck(check, BundleAt(tmp / "b2", t.side)).reason == "commit-not-released");
  }
  SECTION("a clone's remote-tracking refs") {
    GitRepo clone = GitRepo::Clone(t.repo.path(), tmp / "clone");
    auto check = GitCheckFor(
        tmp.path(), RepoOption(clone.path()) + "allowed_refs = [\"refs/remotes/origin/main\"]\n");
    const CheckResult r = RunGitCheck(check, BundleAt(tmp / "b", t.b));
    CHECK(r.verdict == Verdict::kPass);
    CHECK(r.details["contained_in"] == "refs/remotes/origin/main");
  }
  SECTION("a relative repo path is relative to the config file") {
    GitRepo mirror = GitRepo::Clone(t.repo.path(), tmp / "mirror.git", GitRepo::kMirror);
    auto check = GitCheckFor(tmp.path(), "repo = \"mirror.git\"\n");
    const CheckResult r = RunGitCheck(check, BundleAt(tmp / "b", t.a));
    CHECK(r.verdict == Verdict::kPass);
    CHECK(r.details["repo"] == tmp / "mirror.git");
  }
}

TEST_CASE("fetch brings in a release pushed after the mirror was made") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  GitRepo mirror = GitRepo::Clone(t.repo.path(), tmp / "mirror.git", GitRepo::kMirror);
  const std::string d = t.repo.Commit({{"train.py", "print('v2')\n"}}, "Train v2");
  t.repo.Git({"tag", "v2.0"});
  t.repo.Commit({{"train.py", "print('v3')\n"}}, "Start v3");
  BundleSpec spec;
  spec.files[spec.lockfile] = t.new_lockfile;
  const std::string bundle = BundleAt(tmp / "b", d, spec);

  const CheckResult stale = RunGitCheck(GitCheckFor(tmp.path(), RepoOption(mirror.path())), bundle);
  CHECK(stale.reason == "commit-unknown");

  auto fetching = GitCheckFor(tmp.path(), RepoOption(mirror.path()) + "fetch = true\n");
  const CheckResult fresh = RunGitCheck(fetching, bundle);
  INFO(fresh.summary);
  CHECK(fresh.verdict == Verdict::kPass);
  CHECK(fresh.details["contained_in"] == "refs/tags/v2.0");
  CHECK(fresh.details["fetched"] == Json::array({"origin"}));
  CHECK(fresh.metrics.contains("fetch_ms"));
}

TEST_CASE("a failing fetch is an error verdict and never a pass") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  GitRepo mirror = GitRepo::Clone(t.repo.path(), tmp / "mirror.git", GitRepo::kMirror);
  const std::string bundle = BundleAt(tmp / "b", t.a);  // released: would pass without fetch
  auto check = GitCheckFor(tmp.path(), RepoOption(mirror.path()) + "fetch = true\n");
  std::filesystem::rename(t.repo.path(), tmp / "src-gone");
  const CheckResult r = RunGitCheck(check, bundle);
  CHECK(r.verdict == Verdict::kError);
  CHECK(r.reason == "commit-unknown");
  CHECK_THAT(r.summary, Catch::StartsWith("could not run: fetching remote origin"));
  CHECK(r.blocks_promotion());
}

TEST_CASE("fetch with no remote configured is an error verdict") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  auto check = GitCheckFor(tmp.path(), RepoOption(t.repo.path()) + "fetch = true\n");
  const CheckResult r = RunGitCheck(check, BundleAt(tmp / "b", t.a));
  CHECK(r.verdict == Verdict::kError);
  CHECK_THAT(r.summary, Catch::Contains("has no remote"));
}

TEST_CASE("a repository that became unreadable is an error verdict") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  GitRepo mirror = GitRepo::Clone(t.repo.path(), tmp / "mirror.git", GitRepo::kMirror);
  auto check = GitCheckFor(tmp.path(), RepoOption(mirror.path()));
  std::filesystem::rename(mirror.path(), tmp / "moved.git");
  const CheckResult r = RunGitCheck(check, BundleAt(tmp / "b", t.a));
  CHECK(r.verdict == Verdict::kError);
  CHECK(r.reason == "commit-unknown");
  CHECK_THAT(r.summary, Catch::StartsWith("could not run: opening git repository"));
}

TEST_CASE("git's commit-graph is used when valid and ignored when not") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  auto check = GitCheckFor(tmp.path(), RepoOption(t.repo.path()));
  const std::string bundle = BundleAt(tmp / "b", t.a);
  CHECK(RunGitCheck(check, bundle).details["commit_graph"] == "none");

  t.repo.Git({"commit-graph", "write", "--reachable"});
  const CheckResult used = RunGitCheck(check, bundle);
  CHECK(used.verdict == Verdict::kPass);
  CHECK(used.details["commit_graph"] == "4 commits in 1 layer(s)");

  const std::string graph = t.repo.path() + "/.git/objects/info/commit-graph";
  std::filesystem::permissions(graph, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  WriteFile(graph, ReadFile(graph).substr(0, 100));  // truncated
  const CheckResult ignored = RunGitCheck(check, bundle);
  CHECK(ignored.verdict == Verdict::kPass);
  CHECK_THAT(ignored.details["commit_graph"].get<std::string>(),
             Catch::StartsWith("ignored: invalid commit-graph file"));
}

TEST_CASE("options are validated and reported with file line and key") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  const std::string repo = RepoOption(t.repo.path());
  const std::string file = tmp / "bg.toml";
  auto errors_of = [&](const std::string& options) {
    BuiltCheck built = BuildGitCheck(tmp.path(), options);
    CHECK(built.check == nullptr);
    std::string all;
    for (const auto& e : built.errors) all += e + "\n";
    return all;
  };
  CHECK_THAT(errors_of("repo = 5\n"),
             Catch::Contains(file + ":3: checks[0].repo: expected string, found integer"));
  CHECK_THAT(errors_of(""), Catch::Contains("checks[0].repo: missing"));
  CHECK_THAT(errors_of("repo = \"\"\n"), Catch::Contains("checks[0].repo: must name a clone"));
  CHECK_THAT(errors_of(RepoOption(tmp / "nowhere")),
             Catch::Contains(":3: checks[0].repo: opening git repository " + tmp / "nowhere"));
  CHECK_THAT(errors_of(repo + "allowed_refs = []\n"),
             Catch::Contains(":4: checks[0].allowed_refs: is empty"));
  const std::string bad_globs = errors_of(repo + "allowed_refs = [\"main\", \"\"]\n");
  CHECK_THAT(bad_globs, Catch::Contains("item 0: \"main\" is not a full ref name"));
  CHECK_THAT(bad_globs, Catch::Contains("item 1: is empty"));
  CHECK_THAT(errors_of(repo + "allowed_refs = \"refs/heads/main\"\n"),
             Catch::Contains("checks[0].allowed_refs: expected array"));
  CHECK_THAT(errors_of(repo + "require_clean = \"yes\"\n"),
             Catch::Contains("checks[0].require_clean: expected boolean"));
  CHECK_THAT(errors_of(repo + "fetch = 1\n"), Catch::Contains("checks[0].fetch: expected boolean"));
  CHECK_THAT(errors_of(repo + "branch = \"main\"\n"),
             Catch::Contains(":4: checks[0].branch: unknown key"));
}

TEST_CASE("one check serves several worker threads at once") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  GitRepo mirror = GitRepo::Clone(t.repo.path(), tmp / "mirror.git", GitRepo::kMirror);
  const bool fetch = GENERATE(false, true);
  auto check = GitCheckFor(
      tmp.path(), RepoOption(mirror.path()) + (fetch ? "fetch = true\n" : "fetch = false\n"));
  const std::string released = BundleAt(tmp / "released", t.a);
  const std::string unreleased = BundleAt(tmp / "unreleased", t.side);
  std::vector<CheckResult> results(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      // Catch2 assertions are not thread-safe: only collect here.
      CheckPipeline::Options options;
      options.require_parity = false;
      const BundleReport report =
          CheckPipeline(options, {check}).Run(i % 2 == 0 ? released : unreleased);
      results[i] = report.results.back();
    });
  }
  for (auto& th : threads) th.join();
  for (std::size_t i = 0; i < results.size(); ++i) {
    INFO(i << ": " << results[i].summary);
    CHECK(results[i].check == "git");
    CHECK(results[i].reason == (i % 2 == 0 ? "" : "commit-not-released"));
  }
}
