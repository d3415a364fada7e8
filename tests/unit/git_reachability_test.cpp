// Which allowed ref contains a commit: ref resolution, the one labelled walk, and its cost on a
// 50,000-commit history with 5,000 tags (counted in commits walked, never timed: speed is
// measured by scripts/bench/git_check_bench.sh).
#include <atomic>
#include <catch2/catch.hpp>

#include "agent/git/allowed_refs.h"
#include "agent/git/commit_graph.h"
#include "agent/git/reachability.h"
#include "agent/git/repository.h"
#include "tests/support/git_repo.h"
#include "tests/support/temp_dir.h"

using namespace bg;
using namespace bg::test;

namespace {

struct Answer {
  std::string ref;  // "" when no allowed ref contains the commit
  std::uint64_t walked = 0;
  std::size_t refs = 0;
  std::size_t skipped = 0;
};

enum class Graph { kIgnore, kUse };

Answer Contains(const std::string& repo_path, const std::string& commit,
                const std::vector<std::string>& globs, Graph use = Graph::kIgnore,
                const std::atomic<bool>* cancelled = nullptr) {
  auto repo = OpenRepository(repo_path);
  REQUIRE(repo.ok());
  std::unique_ptr<CommitGraph> graph;
  if (use == Graph::kUse) {
    const std::string common = git_repository_commondir(repo->get());
    auto opened = CommitGraph::Open(common + "/objects");
    INFO(opened.status().message());
    REQUIRE(opened.ok());
    REQUIRE(*opened != nullptr);
    graph = std::move(opened).value();
  }
  auto refs = ResolveAllowedRefs(repo->get(), globs, graph.get());
  REQUIRE(refs.ok());
  git_oid oid;
  REQUIRE(git_oid_fromstr(&oid, commit.c_str()) == 0);
  auto found = FindContainingRef(repo->get(), graph.get(), oid, refs->tips, cancelled);
  INFO(found.status().message());
  REQUIRE(found.ok());
  Answer a;
  if (found->tip) a.ref = refs->tips[*found->tip].ref;
  a.walked = found->commits_walked;
  a.refs = refs->tips.size();
  a.skipped = refs->skipped;
  return a;
}

// Every commit of the repository.
std::vector<std::string> AllCommits(const GitRepo& repo) {
  std::vector<std::string> out;
  std::string all = repo.Git({"rev-list", "--all"}) + "\n";
  for (std::size_t at = 0, nl; (nl = all.find('\n', at)) != std::string::npos; at = nl + 1) {
    if (nl > at) out.push_back(all.substr(at, nl - at));
  }
  return out;
}

// Branches, tags, a merge and an octopus merge (three parents: the commit-graph's EDGE chunk).
GitRepo MakeBranchyRepo(const std::string& path) {
  GitRepo repo = GitRepo::Init(path);
  repo.Commit({{"a", "1"}}, "root");
  repo.Git({"tag", "v0.1"});
  for (const std::string b : {"one", "two", "three"}) {
    repo.Git({"checkout", "-q", "-b", b, "main"});
    repo.Commit({{b, b}}, "work on " + b);
  }
  repo.Git({"checkout", "-q", "-b", "unmerged", "main"});
  repo.Commit({{"x", "x"}}, "never merged");
  repo.Git({"checkout", "-q", "main"});
  repo.Commit({{"a", "2"}}, "main moves on");
  repo.Git({"merge", "-q", "--no-ff", "-m", "octopus", "one", "two", "three"});
  repo.Git({"tag", "-a", "v1.0", "-m", "one"});
  repo.Commit({{"a", "3"}}, "after the release");
  return repo;
}

}  // namespace

TEST_CASE("the nearest tag after a commit is the ref that contains it") {
  TempDir tmp;
  GitRepo repo = GitRepo::Init(tmp / "r");
  const std::string first = repo.Commit({{"a", "1"}}, "first");
  repo.Commit({{"a", "2"}}, "second");
  repo.Git({"tag", "v1"});
  const std::string third = repo.Commit({{"a", "3"}}, "third");
  repo.Commit({{"a", "4"}}, "fourth");
  repo.Git({"tag", "-a", "v2", "-m", "two"});
  const std::string tip = repo.Commit({{"a", "5"}}, "fifth");
  const std::vector<std::string> globs{"refs/heads/main", "refs/tags/v*"};
  CHECK(Contains(repo.path(), first, globs).ref == "refs/tags/v1");
  CHECK(Contains(repo.path(), third, globs).ref == "refs/tags/v2");
  CHECK(Contains(repo.path(), tip, globs).ref == "refs/heads/main");
  CHECK(Contains(repo.path(), first, {"refs/heads/*"}).ref == "refs/heads/main");
  CHECK(Contains(repo.path(), first, {"refs/tags/nothing*"}).ref.empty());
}

TEST_CASE("refs at the same commit are preferred in glob order") {
  TempDir tmp;
  GitRepo repo = GitRepo::Init(tmp / "r");
  const std::string c = repo.Commit({{"a", "1"}}, "only");
  repo.Git({"tag", "v1"});
  CHECK(Contains(repo.path(), c, {"refs/tags/*", "refs/heads/main"}).ref == "refs/tags/v1");
  CHECK(Contains(repo.path(), c, {"refs/heads/main", "refs/tags/*"}).ref == "refs/heads/main");
  CHECK(Contains(repo.path(), c, {"refs/heads/main", "refs/tags/*"}).walked == 0);
}

TEST_CASE("tags are peeled and refs that lead to no commit are skipped") {
  TempDir tmp;
  GitRepo repo = GitRepo::Init(tmp / "r");
  const std::string c = repo.Commit({{"a", "1"}}, "only");
  repo.Git({"tag", "-a", "annotated", "-m", "annotated"});
  repo.Git({"tag", "tree-tag", "HEAD^{tree}"});
  repo.Git({"pack-refs", "--all"});  // packed refs carry their peeled ids
  repo.Git({"tag", "-a", "loose", "-m", "loose annotated"});
  const Answer a = Contains(repo.path(), c, {"refs/tags/*"});
  CHECK(a.ref == "refs/tags/annotated");
  CHECK(a.refs == 2);
  CHECK(a.skipped == 1);
}

TEST_CASE("a symbolic ref is followed") {
  TempDir tmp;
  GitRepo src = GitRepo::Init(tmp / "src");
  const std::string c = src.Commit({{"a", "1"}}, "one");
  src.Commit({{"a", "2"}}, "two");
  GitRepo clone = GitRepo::Clone(src.path(), tmp / "clone");  // has refs/remotes/origin/HEAD
  CHECK(Contains(clone.path(), c, {"refs/remotes/origin/HEAD"}).ref == "refs/remotes/origin/HEAD");
}

TEST_CASE("a 50000 commit history with 5000 tags is walked at most once per check") {
  TempDir tmp;
  GitRepo repo = GitRepo::Init(tmp / "big.git", /*bare=*/true);
  repo.FastImportHistory("main", 50000, 10);
  // An unreleased branch forking from the middle of history.
  const std::string fork = repo.RevParse("main~25000");
  const std::string side =
      repo.Git({"commit-tree", fork + "^{tree}", "-p", fork, "-m", "unreleased experiment"});
  repo.Git({"update-ref", "refs/heads/experiment", side});
  const std::vector<std::string> globs{"refs/heads/main", "refs/tags/v*"};

  const Answer deep = Contains(repo.path(), repo.RevParse("main~49995"), globs);  // commit 5
  CHECK(deep.refs == 5001);
  CHECK(deep.ref == "refs/tags/v10");
  CHECK(deep.walked <= 50000);  // one walk for 5001 refs, not one per ref

  const Answer unreleased = Contains(repo.path(), side, globs);
  CHECK(unreleased.ref.empty());
  CHECK(unreleased.walked == 50000);  // every commit once, to prove the negative

  const Answer recent = Contains(repo.path(), repo.RevParse("main~3"), globs);
  CHECK(recent.ref == "refs/heads/main");
  CHECK(recent.walked <= 5);

  repo.Git({"commit-graph", "write", "--reachable"});
  const Answer deep_graph = Contains(repo.path(), repo.RevParse("main~49995"), globs, Graph::kUse);
  CHECK(deep_graph.ref == "refs/tags/v10");
  const Answer unreleased_graph = Contains(repo.path(), side, globs, Graph::kUse);
  CHECK(unreleased_graph.ref.empty());
  CHECK(unreleased_graph.walked <= 25001);  // levels prune everything at or below the fork

  std::atomic<bool> cancelled{true};
  auto opened = OpenRepository(repo.path());
  REQUIRE(opened.ok());
  auto refs = ResolveAllowedRefs(opened->get(), globs);
  REQUIRE(refs.ok());
  git_oid oid;
  REQUIRE(git_oid_fromstr(&oid, side.c_str()) == 0);
  const auto stopped = FindContainingRef(opened->get(), nullptr, oid, refs->tips, &cancelled);
  CHECK_FALSE(stopped.ok());
  CHECK_THAT(stopped.status().message(), Catch::Contains("cancelled"));
}

TEST_CASE("a commit-graph gives the same answers as the object database") {
  TempDir tmp;
  GitRepo repo = MakeBranchyRepo(tmp / "r");
  const auto kind = GENERATE(as<std::string>{}, "single", "split chain", "stale");
  if (kind == "single") {  // with Bloom filter chunks too, which the reader skips
    repo.Git({"commit-graph", "write", "--reachable", "--changed-paths"});
  } else if (kind == "split chain") {
    repo.Git({"commit-graph", "write", "--reachable", "--split"});
    repo.Commit({{"b", "1"}}, "a second layer");
    repo.Git({"commit-graph", "write", "--reachable", "--split=no-merge"});
    REQUIRE(ReadFile(repo.path() + "/.git/objects/info/commit-graphs/commit-graph-chain").size() >
            41);
  } else {  // written before the newest commits and tags: those are read from the objects
    repo.Git({"commit-graph", "write", "--reachable"});
    repo.Git({"checkout", "-q", "unmerged"});
    repo.Commit({{"x", "y"}}, "unmerged moves on");
    repo.Git({"tag", "v2.0"});
    repo.Git({"checkout", "-q", "main"});
    repo.Commit({{"a", "4"}}, "newer than the graph");
  }
  const std::vector<std::vector<std::string>> glob_sets = {
      {"refs/tags/*", "refs/heads/main"}, {"refs/heads/main"}, {"refs/tags/*"}, {"refs/heads/*"}};
  for (const auto& commit : AllCommits(repo)) {
    for (const auto& globs : glob_sets) {
      INFO(kind << " " << commit << " " << globs.front());
      CHECK(Contains(repo.path(), commit, globs, Graph::kUse).ref ==
            Contains(repo.path(), commit, globs, Graph::kIgnore).ref);
    }
  }
}
