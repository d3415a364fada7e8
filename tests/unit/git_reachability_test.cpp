// Which allowed ref contains a commit: ref resolution, the one labelled walk, and its cost on a
// 50,000-commit history with 5,000 tags (counted in commits walked, never timed: speed is
// measured by scripts/bench/git_check_bench.sh).
#include <atomic>
#include <catch2/catch.hpp>
#include <random>
#include <set>
#include <sstream>

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
  repo.Git({"tag", "-a", "tag-of-tag", "-m", "nested", "annotated"});
  repo.Git({"tag", "-a", "tag-of-blob", "-m", "blob", "HEAD:a"});
  repo.Git({"pack-refs", "--all"});  // packed refs carry their peeled ids
  repo.Git({"tag", "-a", "loose", "-m", "loose annotated"});
  repo.Git({"tag", "-a", "loose-of-tree", "-m", "tree", "HEAD^{tree}"});
  // Objects loose (libgit2 peels them) or packed (the pack entries say their types).
  const auto objects = GENERATE(as<std::string>{}, "loose", "packed");
  if (objects == "packed") repo.Git({"repack", "-adq"});
  INFO(objects);
  const Answer a = Contains(repo.path(), c, {"refs/tags/*"});
  CHECK(a.ref == "refs/tags/annotated");
  CHECK(a.refs == 3);  // annotated, loose, tag-of-tag
  CHECK(a.skipped == 3);  // tree-tag, tag-of-blob, loose-of-tree
  CHECK(Contains(repo.path(), c, {"refs/tags/tag-of-tag"}).ref == "refs/tags/tag-of-tag");
  CHECK(Contains(repo.path(), c, {"refs/tags/loose"}).ref == "refs/tags/loose");
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
  const std::vector<std::string> main_only{"refs/heads/main"};

  const Answer deep = Contains(repo.path(), repo.RevParse("main~49995"), globs);  // commit 5
  CHECK(deep.refs == 5001);
  CHECK(deep.ref == "refs/tags/v10");
  CHECK(deep.walked <= 50000);  // one walk for 5001 refs, not one per ref

  // Proving a negative stops at the merge base, as git's own walk does: main's history down to
  // the fork, not below it.
  const Answer unreleased_main = Contains(repo.path(), side, main_only);
  CHECK(unreleased_main.ref.empty());
  CHECK(unreleased_main.walked <= 25003);
  // With the tags below the fork allowed too, each of them must be shown to be below the
  // commit: the target's own history is walked down to the oldest tag, still once.
  const Answer unreleased = Contains(repo.path(), side, globs);
  CHECK(unreleased.ref.empty());
  CHECK(unreleased.walked <= 50001);

  const Answer recent = Contains(repo.path(), repo.RevParse("main~3"), globs);
  CHECK(recent.ref == "refs/heads/main");
  CHECK(recent.walked <= 5);

  repo.Git({"commit-graph", "write", "--reachable"});
  const Answer deep_graph = Contains(repo.path(), repo.RevParse("main~49995"), globs, Graph::kUse);
  CHECK(deep_graph.ref == "refs/tags/v10");
  const Answer unreleased_graph = Contains(repo.path(), side, globs, Graph::kUse);
  CHECK(unreleased_graph.ref.empty());
  // The experiment was committed after the whole history: its corrected commit date (git's
  // generation number v2) is above every commit of main, so nothing needs walking at all.
  CHECK(unreleased_graph.walked <= 1);
  repo.Git({"-c", "commitGraph.generationVersion=1", "commit-graph", "write", "--reachable"});
  const Answer unreleased_levels = Contains(repo.path(), side, globs, Graph::kUse);
  CHECK(unreleased_levels.ref.empty());
  CHECK(unreleased_levels.walked <= 25001);  // levels prune everything at or below the fork

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

TEST_CASE("clock skew never changes the answer: commits older than their parents") {
  TempDir tmp;
  GitRepo repo = GitRepo::Init(tmp / "r");
  // main: F (newest of all) <- M1 <- M2 <- M3, each older than its parent; side: F <- S, oldest.
  // A walk that trusted commit times would stop before it reached F from main, or meet S last.
  std::ostringstream s;
  const auto commit = [&](const std::string& ref, int mark, long when, int from) {
    s << "commit " << ref << "\nmark :" << mark << "\ncommitter Ada <ada@example.com> " << when
      << " +0000\ndata 2\nc\n";
    if (from) s << "from :" << from << "\n";
    s << "M 100644 inline f\ndata 2\n" << mark << "\n\n";
  };
  commit("refs/heads/main", 1, 1767000000, 0);   // R, the root
  commit("refs/heads/main", 2, 1800000000, 1);   // F
  commit("refs/heads/main", 3, 1700000000, 2);   // M1
  commit("refs/heads/main", 4, 1600000000, 3);   // M2
  commit("refs/heads/main", 5, 1500000000, 4);   // M3
  commit("refs/heads/side", 6, 1000000000, 2);   // S
  commit("refs/heads/orphan", 7, 1900000000, 0);  // an unrelated root, newer than all
  s << "reset refs/tags/old\nfrom :5\n\n";
  repo.FastImport(s.str());
  const std::string f = repo.RevParse("main~3"), root = repo.RevParse("main~4");
  const std::string side = repo.RevParse("side"), orphan = repo.RevParse("orphan");
  for (const Graph use : {Graph::kIgnore, Graph::kUse}) {
    if (use == Graph::kUse) repo.Git({"commit-graph", "write", "--reachable"});
    INFO((use == Graph::kUse ? "with" : "without") << " a commit-graph");
    CHECK(Contains(repo.path(), f, {"refs/heads/main"}, use).ref == "refs/heads/main");
    CHECK(Contains(repo.path(), root, {"refs/heads/main"}, use).ref == "refs/heads/main");
    CHECK(Contains(repo.path(), root, {"refs/tags/*"}, use).ref == "refs/tags/old");
    CHECK(Contains(repo.path(), side, {"refs/heads/main", "refs/tags/*"}, use).ref.empty());
    CHECK(Contains(repo.path(), orphan, {"refs/heads/main", "refs/heads/side"}, use).ref.empty());
    CHECK(Contains(repo.path(), f, {"refs/heads/orphan"}, use).ref.empty());
    CHECK(Contains(repo.path(), f, {"refs/heads/orphan", "refs/heads/side"}, use).ref ==
          "refs/heads/side");
  }
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

namespace {

// A random history for fast-import: branches, merges of two and three parents, new roots, and
// committer times that jump backwards (clock skew) a fifth of the time; a quarter of the
// commits tagged, half of those with annotated tags.
std::string RandomHistory(unsigned seed, int commits) {
  std::mt19937 rng(seed);
  std::vector<int> heads;  // branch b<i>'s newest commit
  std::ostringstream s;
  long when = 1767225600;
  for (int i = 1; i <= commits; ++i) {
    const unsigned r = rng() % 100;
    std::size_t branch;
    int from = 0;
    std::set<int> merges;
    if (heads.empty() || r < 4) {  // a new root
      branch = heads.size();
      heads.push_back(0);
    } else if (r < 14) {  // a new branch from anywhere
      branch = heads.size();
      heads.push_back(0);
      from = 1 + static_cast<int>(rng() % (i - 1));
    } else {
      branch = rng() % heads.size();
      from = heads[branch] ? heads[branch] : 1 + static_cast<int>(rng() % (i - 1));
      if (r < 30) {
        for (unsigned m = 1 + rng() % 2; m > 0; --m) merges.insert(1 + rng() % (i - 1));
        merges.erase(from);
      }
    }
    const unsigned t = rng() % 100;
    if (t < 20) {
      when -= static_cast<long>(rng() % 200000);
    } else if (t >= 25) {
      when += static_cast<long>(rng() % 600);
    }  // else: the same second as the commit before
    s << "commit refs/heads/b" << branch << "\nmark :" << i << "\ncommitter Ada <ada@example.com> "
      << when << " +0000\ndata 3\nc" << i % 10 << "\n";
    if (from) s << "from :" << from << "\n";
    for (const int m : merges) s << "merge :" << m << "\n";
    s << "M 100644 inline f\ndata " << std::to_string(i).size() << "\n" << i << "\n\n";
    heads[branch] = i;
    if (rng() % 4 != 0) continue;
    if (rng() % 2) {
      s << "tag t" << i << "\nfrom :" << i << "\ntagger Ada <ada@example.com> " << when
        << " +0000\ndata 2\nt\n";
    } else {
      s << "reset refs/tags/t" << i << "\nfrom :" << i << "\n\n";
    }
  }
  return s.str();
}

std::set<std::string> LinesOf(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.insert(line);
  }
  return out;
}

// The allowed refs `globs` select, by name.
std::vector<std::string> RefsOf(const std::string& repo_path, const std::vector<std::string>& globs) {
  auto repo = OpenRepository(repo_path);
  REQUIRE(repo.ok());
  auto refs = ResolveAllowedRefs(repo->get(), globs);
  REQUIRE(refs.ok());
  std::vector<std::string> names;
  for (const auto& tip : refs->tips) names.push_back(tip.ref);
  return names;
}

}  // namespace

TEST_CASE("answers match git on random histories with merges, skew and many refs") {
  const unsigned seed = GENERATE(1u, 2u, 3u);
  TempDir tmp;
  GitRepo repo = GitRepo::Init(tmp / "r.git", /*bare=*/true);
  repo.FastImport(RandomHistory(seed, 320));
  const std::vector<std::vector<std::string>> glob_sets = {
      {"refs/heads/*", "refs/tags/*"}, {"refs/heads/b0"}, {"refs/tags/*"},
      {"refs/heads/b1", "refs/heads/b2", "refs/tags/t1*"}};
  std::vector<std::vector<std::string>> allowed;
  for (const auto& globs : glob_sets) allowed.push_back(RefsOf(repo.path(), globs));
  REQUIRE(allowed[0].size() > 60);

  // The oracle: the refs git says contain each commit (a sample of them: one git per commit).
  std::vector<std::string> commits = AllCommits(repo);
  std::mt19937 rng(seed);
  std::shuffle(commits.begin(), commits.end(), rng);
  commits.resize(std::min<std::size_t>(commits.size(), 110));
  std::map<std::string, std::set<std::string>> containing;
  for (const auto& c : commits) {
    containing[c] =
        LinesOf(repo.Git({"for-each-ref", "--contains", c, "--format=%(refname)"}) + "\n");
  }
  const auto check_all = [&](Graph use, const std::string& variant) {
    for (const auto& c : commits) {
      for (std::size_t g = 0; g < glob_sets.size(); ++g) {
        bool any = false;
        for (const auto& ref : allowed[g]) any = any || containing[c].count(ref) > 0;
        const Answer a = Contains(repo.path(), c, glob_sets[g], use);
        INFO("seed " << seed << ", " << variant << ", commit " << c << ", globs " << g << ": "
                     << (a.ref.empty() ? "none" : a.ref));
        CHECK(a.ref.empty() == !any);
        if (!a.ref.empty()) CHECK(containing[c].count(a.ref) == 1);
        if (!a.ref.empty() && g == 0 && use == Graph::kIgnore) {  // and git's own is-ancestor
          CHECK(repo.TryGit({"merge-base", "--is-ancestor", c, a.ref}).exit_code == 0);
        }
      }
    }
  };
  check_all(Graph::kIgnore, "no commit-graph");
  // A graph of part of the history (what a mirror has between maintenance runs): the commits
  // reachable from the first branches only; the rest is read from the objects.
  std::string heads;
  for (const std::string b : {"b0", "b1", "b2"}) {
    if (repo.TryGit({"rev-parse", "--verify", "-q", "refs/heads/" + b}).exit_code == 0) {
      heads += repo.RevParse("refs/heads/" + b) + "\n";
    }
  }
  const auto written =
      RunProcess({"git", "-C", repo.path(), "commit-graph", "write", "--stdin-commits"},
                 ProcessOptions{"", GitTestEnv(), heads, 120});
  REQUIRE(written.exit_code == 0);
  check_all(Graph::kUse, "a partial commit-graph");
  repo.Git({"-c", "commitGraph.generationVersion=1", "commit-graph", "write", "--reachable"});
  check_all(Graph::kUse, "a whole commit-graph, topological levels only");
  repo.Git({"commit-graph", "write", "--reachable"});
  REQUIRE(ReadFile(repo.path() + "/objects/info/commit-graph").find("GDA2") != std::string::npos);
  check_all(Graph::kUse, "a whole commit-graph with corrected commit dates");
}
