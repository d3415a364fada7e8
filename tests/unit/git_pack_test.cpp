// Reading commits straight from pack files: git's delta format, the commit header parser, and
// the pack reader checked byte for byte against `git cat-file` on real packs that git wrote
// (whole commits, OFS and REF deltas, loose objects, a corrupted pack).
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "agent/git/object_header.h"
#include "agent/git/commit_reader.h"
#include "agent/git/git_delta.h"
#include "agent/git/pack_reader.h"
#include "agent/git/repository.h"
#include "tests/support/git_repo.h"
#include "tests/support/temp_dir.h"

using namespace bg;
using namespace bg::test;

namespace {

std::string Size(std::uint64_t n) {  // a delta header size: 7 bits a byte, low first
  std::string out;
  do {
    std::uint8_t byte = n & 0x7F;
    n >>= 7;
    if (n) byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (n);
  return out;
}

std::string Copy(std::uint8_t offset, std::uint8_t size) {  // one byte of offset, one of size
  return std::string{char(0x80 | 0x01 | 0x10), char(offset), char(size)};
}

std::string Insert(const std::string& literal) { return char(literal.size()) + literal; }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// (git_oid_tostr_s needs libgit2 initialized; a test run alone may not have done it.)
std::string Hex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1] = {};
  git_oid_fmt(buf, &oid);
  return buf;
}

git_oid Oid(const std::string& hex) {
  git_oid oid;
  REQUIRE(git_oid_fromstr(&oid, hex.c_str()) == 0);
  return oid;
}

// The raw bytes of an object, as git prints them.
std::string CatFile(const GitRepo& repo, const std::string& type, const std::string& id) {
  const auto r = repo.TryGit({"cat-file", type, id});
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// Commits whose messages share most of their text, so that git stores many as deltas.
GitRepo MakeDeltaRepo(const std::string& path, int commits) {
  GitRepo repo = GitRepo::Init(path);
  std::string body;
  for (int i = 0; i < 60; ++i) body += "Line " + std::to_string(i) + " of a long, shared message.\n";
  std::ostringstream s;
  for (int i = 1; i <= commits; ++i) {
    const std::string message = "change " + std::to_string(i) + "\n\n" + body +
                                (i % 7 == 0 ? "Signed-off-by: Ada\n" : "");
    s << "commit refs/heads/main\nmark :" << i << "\ncommitter Ada <ada@example.com> "
      << 1767225600 + i * 60 << " +0000\ndata " << message.size() << "\n" << message << "\n";
    if (i > 1) s << "from :" << i - 1 << "\n";
    if (i % 10 == 0 && i > 20) s << "merge :" << i - 15 << "\n";
    s << "M 100644 inline f\ndata 2\n" << i % 10 << "\n\n";
  }
  repo.FastImport(s.str());
  return repo;
}

// The repository's one pack index.
std::string PackIndexPath(const GitRepo& repo) {
  const auto r = RunProcess({"sh", "-c", "ls \"$0\"/.git/objects/pack/*.idx", repo.path()});
  const auto files = Lines(r.out);
  REQUIRE(files.size() == 1);
  return files[0];
}

// How many commits the pack stores as deltas (`git verify-pack -v` lines with a depth and base).
std::size_t DeltaCommits(const GitRepo& repo) {
  std::size_t deltas = 0;
  for (const auto& line : Lines(repo.Git({"verify-pack", "-v", PackIndexPath(repo)}))) {
    std::istringstream in(line);
    std::vector<std::string> fields;
    for (std::string f; in >> f;) fields.push_back(f);
    if (fields.size() >= 7 && fields[1] == "commit") ++deltas;
  }
  return deltas;
}

}  // namespace

TEST_CASE("a git delta copies from its base and inserts literals") {
  const std::string base = "hello, brave new world";
  const std::string delta =
      Size(base.size()) + Size(17) + Copy(0, 7) + Insert("old") + Copy(16, 6) + Insert("!");
  auto out = ApplyGitDelta(base, delta, 1 << 20);
  REQUIRE(out.ok());
  CHECK(*out == "hello, old world!");
  CHECK(*GitDeltaResultSize(delta) == 17);
}

TEST_CASE("a malformed git delta fails and never reads outside its base") {
  const std::string base = "0123456789";
  const auto fails = [&](const std::string& delta) {
    auto out = ApplyGitDelta(base, delta, 1 << 20);
    INFO((out.ok() ? *out : out.status().message()));
    CHECK_FALSE(out.ok());
  };
  fails("");                                             // no header
  fails(Size(9) + Size(3) + Copy(0, 3));                 // base size is not the base's
  fails(Size(10) + Size(3) + Copy(8, 3));                // copy runs past the base
  fails(Size(10) + Size(3) + Copy(200, 1));              // copy starts past the base
  fails(Size(10) + Size(2) + Copy(0, 3));                // longer than declared
  fails(Size(10) + Size(4) + Copy(0, 3));                // shorter than declared
  fails(Size(10) + Size(3) + std::string(1, '\0'));      // reserved instruction
  fails(Size(10) + Size(3) + std::string{char(0x91)});   // copy cut short
  fails(Size(10) + Size(5) + std::string{char(5), 'a'});  // insert cut short
  fails(Size(10) + Size(1u << 30) + Insert("a"));        // larger than allowed
  fails(Size(10) + std::string(12, char(0xFF)));         // a size that never ends
}

TEST_CASE("a commit header gives parents in order and the committer time") {
  const std::string tree = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n";
  const std::string p1 = "1111111111111111111111111111111111111111";
  const std::string p2 = "2222222222222222222222222222222222222222";
  CommitHeader h;
  REQUIRE(ParseCommitHeader(tree + "parent " + p1 + "\nparent " + p2 +
                                "\nauthor A <a@x> 5 +0100\ncommitter C <c@x> 1700000000 -0700\n"
                                "mergetag object 3333\n\nparent " + p1 + "\n",
                            h)
              .ok());
  REQUIRE(h.parents.size() == 2);
  CHECK(Hex(h.parents[0]) == p1);
  CHECK(Hex(h.parents[1]) == p2);
  CHECK(h.time == 1700000000);

  REQUIRE(ParseCommitHeader(tree + "author A <a@x> 5 +0000\n\nmessage\n", h).ok());
  CHECK(h.parents.empty());  // a root
  CHECK(h.time == 0);        // no committer line: orders the walk only

  REQUIRE(ParseCommitHeader(tree + "committer C <c> <d> 42 +0000\n", h).ok());
  CHECK(h.time == 42);  // after the last '>'
}

TEST_CASE("a commit header whose tree or parents cannot be read is an error") {
  const std::string tree = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n";
  CommitHeader h;
  CHECK_FALSE(ParseCommitHeader("", h).ok());
  CHECK_FALSE(ParseCommitHeader("author A <a> 1 +0000\n", h).ok());
  CHECK_FALSE(ParseCommitHeader(tree + "parent 12345\n", h).ok());
  CHECK_FALSE(ParseCommitHeader(tree + "parent " + std::string(40, 'z') + "\n", h).ok());
  CHECK_FALSE(ParseCommitHeader(tree + "parent " + std::string(40, '1'), h).ok());  // no \n
  CHECK_FALSE(ParseCommitHeader(tree.substr(0, 20), h).ok());
}

TEST_CASE("commits read from packs are exactly what git stores, deltas included") {
  TempDir tmp;
  GitRepo repo = MakeDeltaRepo(tmp / "r", 240);
  const auto kind = GENERATE(as<std::string>{}, "ofs-delta", "ref-delta");
  repo.Git({"-c", std::string("repack.useDeltaBaseOffset=") + (kind == "ofs-delta" ? "true" : "false"),
            "repack", "-adfq", "--window=50", "--depth=20"});
  INFO(kind);
  REQUIRE(DeltaCommits(repo) > 20);  // the case this test is about

  auto opened = OpenRepository(repo.path());
  REQUIRE(opened.ok());
  PackReader packs(ObjectsDir(opened->get()));
  REQUIRE(packs.packs() == 1);
  std::string raw;
  for (const auto& id : Lines(repo.Git({"rev-list", "--all"}))) {
    INFO(id);
    REQUIRE(packs.Read(Oid(id), PackType::kCommit, raw));
    CHECK(raw == CatFile(repo, "commit", id));
  }
  const std::string tree = repo.RevParse("HEAD^{tree}");
  CHECK_FALSE(packs.Read(Oid(tree), PackType::kCommit, raw));  // another type: not a commit
  REQUIRE(packs.Read(Oid(tree), PackType::kTree, raw));
  CHECK(raw == CatFile(repo, "tree", tree));
  CHECK_FALSE(packs.Read(Oid(std::string(40, 'a')), PackType::kCommit, raw));  // in no pack
}

TEST_CASE("commits outside the packs are read through libgit2, with the same answer") {
  TempDir tmp;
  GitRepo repo = MakeDeltaRepo(tmp / "r", 30);
  repo.Git({"repack", "-adq"});
  const std::string loose = repo.Commit({{"g", "1"}}, "a loose commit");
  auto opened = OpenRepository(repo.path());
  REQUIRE(opened.ok());
  CommitReader reader(opened->get());
  CommitHeader header;
  REQUIRE(reader.Read(Oid(loose), header).ok());
  REQUIRE(header.parents.size() == 1);
  CHECK(Hex(header.parents[0]) == repo.RevParse("HEAD~1"));
  CHECK(reader.read_through_libgit2() == 1);
  REQUIRE(reader.Read(header.parents[0], header).ok());
  CHECK(reader.read_from_packs() == 1);

  const Status tree = reader.Read(Oid(repo.RevParse("HEAD^{tree}")), header);
  CHECK_FALSE(tree.ok());
  CHECK_THAT(tree.message(), Catch::Contains("not a commit"));
  const Status missing = reader.Read(Oid(std::string(40, 'a')), header);
  CHECK_FALSE(missing.ok());
  CHECK_THAT(missing.message(), Catch::Contains("shallow or damaged"));
}

TEST_CASE("a corrupted pack entry is an error, never a different commit") {
  TempDir tmp;
  GitRepo repo = MakeDeltaRepo(tmp / "r", 30);
  repo.Git({"repack", "-adq"});
  const std::string victim = repo.RevParse("HEAD~3");
  const std::string idx = PackIndexPath(repo);
  const std::string pack = idx.substr(0, idx.size() - 4) + ".pack";
  // `git show-index` lists "offset id (crc)" for each object.
  std::uint64_t offset = 0;
  const auto listing = RunProcess({"sh", "-c", "git show-index < \"$0\"", idx});
  for (const auto& line : Lines(listing.out)) {
    if (line.find(victim) != std::string::npos) offset = std::stoull(line);
  }
  REQUIRE(offset > 0);
  REQUIRE(RunProcess({"chmod", "u+w", pack}).exit_code == 0);  // git writes packs 0444
  std::fstream f(pack, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f.is_open());
  f.seekg(static_cast<std::streamoff>(offset + 12));
  char byte = 0;
  f.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x5A);
  f.seekp(static_cast<std::streamoff>(offset + 12));
  f.write(&byte, 1);
  f.close();

  auto opened = OpenRepository(repo.path());
  REQUIRE(opened.ok());
  PackReader packs(ObjectsDir(opened->get()));
  std::string raw;
  CHECK_FALSE(packs.Read(Oid(victim), PackType::kCommit, raw));  // zlib's Adler-32 saw it
  CommitReader reader(opened->get());
  CommitHeader header;
  const Status read = reader.Read(Oid(victim), header);
  INFO(read.message());
  CHECK_FALSE(read.ok());
}
