// GitRepo: real git repositories made at test time with the git CLI, for the git check's tests.
//
//   GitRepo repo = GitRepo::Init(tmp / "src");
//   const std::string a = repo.Commit({{"requirements.lock", "torch==1.13.1\n"}}, "pin torch");
//   repo.Git({"tag", "v1.0"});
//   GitRepo mirror = GitRepo::Clone(repo.path(), tmp / "mirror.git", GitRepo::kMirror);
//
// Commits are deterministic: a fixed author and committer, no user or system git config, and
// dates that advance one minute per commit (across repositories), so a later commit is always a
// newer one. Not thread-safe: tests build their repositories from one thread.
// Helpers fail the test (Catch2 REQUIRE) when git fails.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace bg::test {

class GitRepo {
 public:
  enum CloneKind { kWorkTree, kMirror };

  // `git init` (bare or with a work tree) on branch "main".
  static GitRepo Init(const std::string& path, bool bare = false);
  // `git clone` (or `git clone --mirror`) of `source` into `path`.
  static GitRepo Clone(const std::string& source, const std::string& path,
                       CloneKind kind = kWorkTree);

  const std::string& path() const { return path_; }

  // Writes `files` (path -> content) into the work tree, stages everything and commits.
  // Returns the new commit's id.
  std::string Commit(const std::map<std::string, std::string>& files, const std::string& message);
  // Runs `git -C <path> args...`; requires success and returns stdout without its last newline.
  std::string Git(const std::vector<std::string>& args) const;
  // The same, returning the result whatever it is.
  ProcessResult TryGit(const std::vector<std::string>& args) const;
  // The commit id `rev` names ("HEAD", "main~3", "v1.0^{commit}").
  std::string RevParse(const std::string& rev) const { return Git({"rev-parse", rev}); }

  // Appends `count` commits to `branch` (created from nothing when new) through git fast-import,
  // which writes tens of thousands of commits a second. Every `tag_every` commits (0: never)
  // commit i gets tag "v<i>" (odd multiples annotated, even ones lightweight). Commit i touches
  // "counter.txt"; commit 1 and every 1000th also write "requirements.lock". The work tree, if
  // any, is not updated.
  void FastImportHistory(const std::string& branch, int count, int tag_every);
  // Feeds `stream` (git fast-import's input language: any history, any dates) to fast-import.
  void FastImport(const std::string& stream);

 private:
  explicit GitRepo(std::string path) : path_(std::move(path)) {}

  std::string path_;
};

// The environment every git command of the tests runs with (identity, dates, no config).
std::map<std::string, std::string> GitTestEnv();

}  // namespace bg::test
