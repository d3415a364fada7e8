#include "tests/support/git_repo.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <sstream>

#include "tests/support/temp_dir.h"

namespace bg::test {
namespace {

constexpr long kEpoch = 1767225600;  // 2026-01-01T00:00:00Z: commit dates count up from here
long commits_made = 0;               // across repositories, so that clones' commits are newer too

long NextCommitTime() { return kEpoch + 60L * ++commits_made; }
std::string NextDate() { return "@" + std::to_string(NextCommitTime()) + " +0000"; }

ProcessResult RunGit(const std::string& dir, const std::vector<std::string>& args,
                     std::map<std::string, std::string> env = GitTestEnv()) {
  std::vector<std::string> argv{"git"};
  if (!dir.empty()) argv.insert(argv.end(), {"-C", dir});
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions options;
  options.env = std::move(env);
  return RunProcess(argv, options);
}

std::string Chomp(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

void Data(std::ostringstream& out, const std::string& content) {
  out << "data " << content.size() << "\n" << content << "\n";
}

}  // namespace

std::map<std::string, std::string> GitTestEnv() {
  return {{"GIT_CONFIG_NOSYSTEM", "1"},          {"GIT_CONFIG_GLOBAL", "/dev/null"},
          {"GIT_AUTHOR_NAME", "Ada Trainer"},    {"GIT_AUTHOR_EMAIL", "ada@example.com"},
          {"GIT_COMMITTER_NAME", "Ada Trainer"}, {"GIT_COMMITTER_EMAIL", "ada@example.com"},
          {"GIT_TERMINAL_PROMPT", "0"},          {"LC_ALL", "C"}};
}

GitRepo GitRepo::Init(const std::string& path, bool bare) {
  std::vector<std::string> args{"init", "-q", "-b", "main"};
  if (bare) args.push_back("--bare");
  args.push_back(path);
  const auto r = RunGit("", args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return GitRepo(path);
}

GitRepo GitRepo::Clone(const std::string& source, const std::string& path, CloneKind kind) {
  std::vector<std::string> args{"clone", "-q"};
  if (kind == kMirror) args.push_back("--mirror");
  args.insert(args.end(), {source, path});
  const auto r = RunGit("", args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return GitRepo(path);
}

ProcessResult GitRepo::TryGit(const std::vector<std::string>& args) const {
  return RunGit(path_, args);
}

std::string GitRepo::Git(const std::vector<std::string>& args) const {
  const auto r = TryGit(args);
  INFO("git " << (args.empty() ? "" : args[0]) << ": " << r.err << r.out);
  REQUIRE(r.exit_code == 0);
  return Chomp(r.out);
}

std::string GitRepo::Commit(const std::map<std::string, std::string>& files,
                            const std::string& message) {
  for (const auto& [rel, content] : files) WriteFile(path_ + "/" + rel, content);
  REQUIRE(RunGit(path_, {"add", "-A"}).exit_code == 0);
  auto env = GitTestEnv();
  env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = NextDate();
  const auto r = RunGit(path_, {"commit", "-q", "--allow-empty", "-m", message}, env);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return RevParse("HEAD");
}

void GitRepo::FastImportHistory(const std::string& branch, int count, int tag_every) {
  const std::string ref = "refs/heads/" + branch;
  const bool exists = TryGit({"rev-parse", "--verify", "-q", ref}).exit_code == 0;
  std::ostringstream s;
  for (int i = 1; i <= count; ++i) {
    const long when = NextCommitTime();
    s << "commit " << ref << "\nmark :" << i << "\n"
      << "committer Ada Trainer <ada@example.com> " << when << " +0000\n";
    Data(s, "commit " + std::to_string(i) + "\n");
    if (i > 1) s << "from :" << (i - 1) << "\n";
    if (i == 1 && exists) s << "from " << ref << "^0\n";
    s << "M 100644 inline counter.txt\n";
    Data(s, std::to_string(i) + "\n");
    if (i == 1 || i % 1000 == 0) {
      s << "M 100644 inline requirements.lock\n";
      Data(s, "torch==1.13." + std::to_string(i) + "\n");
    }
    s << "\n";
    if (tag_every <= 0 || i % tag_every != 0) continue;
    const std::string tag = "v" + std::to_string(i);
    if ((i / tag_every) % 2 == 1) {
      s << "tag " << tag << "\nfrom :" << i << "\ntagger Ada Trainer <ada@example.com> " << when
        << " +0000\n";
      Data(s, "release " + tag + "\n");
    } else {
      s << "reset refs/tags/" << tag << "\nfrom :" << i << "\n\n";
    }
  }
  FastImport(s.str());
}

void GitRepo::FastImport(const std::string& text) {
  const std::string stream = path_ + ".fast-import";
  WriteFile(stream, text);
  const auto r =
      RunProcess({"sh", "-c", "git -C \"$0\" fast-import --quiet < \"$1\"", path_, stream},
                 ProcessOptions{"", GitTestEnv(), "", 600});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::remove(stream.c_str());
}

}  // namespace bg::test
