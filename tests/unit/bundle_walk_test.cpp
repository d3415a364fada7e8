#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <random>

#include "agent/bundle/bundle_dir.h"
#include "agent/bundle/bundle_walk.h"
#include "agent/core/sha256.h"
#include "tests/support/temp_dir.h"

using namespace bg;

namespace {

WalkReport WalkWith(const std::string& dir, const LimitsConfig& limits, int threads) {
  auto d = BundleDir::Open(dir);
  REQUIRE(d.ok());
  HashingVisitor hasher(nullptr, threads);
  auto report = WalkBundle(*d, limits, hasher);
  INFO(report.status().message());
  REQUIRE(report.ok());
  return std::move(report).value();
}

// Every walk is made twice, hashing in the walk's thread and on three threads of its own: the
// walk's findings must not depend on where files are hashed.
WalkReport Walk(const std::string& dir, const LimitsConfig& limits = {}) {
  WalkReport one = WalkWith(dir, limits, 1);
  const WalkReport three = WalkWith(dir, limits, 3);
  CHECK(three.total_bytes == one.total_bytes);
  CHECK(three.directories == one.directories);
  CHECK(three.limit_exceeded == one.limit_exceeded);
  REQUIRE(three.unsafe.size() == one.unsafe.size());
  for (std::size_t i = 0; i < one.unsafe.size(); ++i) {
    CHECK(three.unsafe[i].path == one.unsafe[i].path);
    CHECK(three.unsafe[i].why == one.unsafe[i].why);
  }
  REQUIRE(three.files.size() == one.files.size());
  for (std::size_t i = 0; i < one.files.size(); ++i) {
    CHECK(three.files[i].path == one.files[i].path);
    CHECK(three.files[i].size == one.files[i].size);
    CHECK(three.files[i].sha256 == one.files[i].sha256);
  }
  return one;
}

bool HasUnsafe(const WalkReport& r, const std::string& path, const std::string& why) {
  for (const auto& u : r.unsafe) {
    if (u.path == path && u.why.find(why) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a walk lists regular files with sizes and hashes, sorted") {
  test::TempDir tmp;
  test::WriteFile(tmp / "b/z.txt", "zz");
  test::WriteFile(tmp / "a.txt", "a");
  test::WriteFile(tmp / "b/a.txt", "");
  const WalkReport r = Walk(tmp.path());
  REQUIRE(r.files.size() == 3);
  CHECK(r.files[0].path == "a.txt");
  CHECK(r.files[1].path == "b/a.txt");
  CHECK(r.files[2].path == "b/z.txt");
  CHECK(r.files[2].size == 2);
  CHECK(r.files[2].sha256 == Sha256Hex("zz"));
  CHECK(r.files[1].sha256 == Sha256Hex(""));
  CHECK(r.directories == std::vector<std::string>{"b"});
  CHECK(r.total_bytes == 3);
  CHECK(r.safe());
}

TEST_CASE("every unsafe kind of entry is found and never opened") {
  test::TempDir tmp;
  test::TempDir outside;
  const std::string b = tmp / "bundle";
  test::WriteFile(b + "/ok.txt", "fine");
  test::WriteFile(outside / "secret", "top secret");
  REQUIRE(::symlink("ok.txt", (b + "/link-in").c_str()) == 0);
  REQUIRE(::symlink((outside / "secret").c_str(), (b + "/link-out").c_str()) == 0);
  REQUIRE(::symlink(outside.path().c_str(), (b + "/dir-link").c_str()) == 0);
  REQUIRE(::mkfifo((b + "/fifo").c_str(), 0644) == 0);
  test::WriteFile(tmp / "original", "shared");
  REQUIRE(::link((tmp / "original").c_str(), (b + "/hardlink").c_str()) == 0);
  const int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(sock >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string sock_path = b + "/sock";
  REQUIRE(sock_path.size() < sizeof addr.sun_path);
  std::strcpy(addr.sun_path, sock_path.c_str());
  REQUIRE(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);

  const WalkReport r = Walk(b);
  ::close(sock);
  CHECK_FALSE(r.safe());
  CHECK(HasUnsafe(r, "link-in", "symlink"));
  CHECK(HasUnsafe(r, "link-out", "symlink"));
  CHECK(HasUnsafe(r, "dir-link", "symlink"));
  CHECK(HasUnsafe(r, "fifo", "fifo"));
  CHECK(HasUnsafe(r, "hardlink", "hard link (2 links)"));
  CHECK(HasUnsafe(r, "sock", "socket"));
  REQUIRE(r.files.size() == 1);
  CHECK(r.files[0].path == "ok.txt");
}

TEST_CASE("a character device is unsafe") {
  test::TempDir tmp;
  // /dev/null cannot be hard-linked across filesystems; make a device node where allowed.
  if (::mknod((tmp / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    WARN("mknod not permitted here; device case covered by the type table only");
    return;
  }
  const WalkReport r = Walk(tmp.path());
  CHECK(HasUnsafe(r, "null", "character device"));
}

TEST_CASE("limits: bytes, entries, depth and path length") {
  test::TempDir tmp;
  test::WriteFile(tmp / "a", std::string(600, 'a'));
  test::WriteFile(tmp / "b", std::string(600, 'b'));
  test::WriteFile(tmp / "d1/d2/d3/f", "deep");

  LimitsConfig bytes;
  bytes.max_bundle_bytes = 1000;
  CHECK_THAT(*Walk(tmp.path(), bytes).limit_exceeded, Catch::Contains("more than 1000 bytes"));

  LimitsConfig files;
  files.max_files = 2;
  CHECK_THAT(*Walk(tmp.path(), files).limit_exceeded, Catch::Contains("more than 2 entries"));

  LimitsConfig depth;
  depth.max_depth = 2;
  CHECK_THAT(*Walk(tmp.path(), depth).limit_exceeded, Catch::Contains("deeper than 2 levels: d1/d2/d3"));

  LimitsConfig length;
  length.max_path_length = 16;
  test::WriteFile(tmp / "a-rather-long-file-name", "x");
  CHECK_THAT(*Walk(tmp.path(), length).limit_exceeded, Catch::Contains("path longer than 16 bytes"));

  CHECK_FALSE(Walk(tmp.path()).limit_exceeded.has_value());
}

namespace {

void CheckSafeOpening() {
  test::TempDir tmp;
  test::TempDir outside;
  test::WriteFile(tmp / "sub/f.txt", "content");
  test::WriteFile(outside / "secret", "s");
  REQUIRE(::symlink((outside / "secret").c_str(), (tmp / "out").c_str()) == 0);
  REQUIRE(::symlink("sub", (tmp / "subl").c_str()) == 0);
  REQUIRE(::mkfifo((tmp / "fifo").c_str(), 0644) == 0);
  auto dir = BundleDir::Open(tmp.path());
  REQUIRE(dir.ok());

  auto text = dir->ReadFile("sub/f.txt", 100);
  REQUIRE(text.ok());
  CHECK(*text == "content");
  CHECK(dir->ReadFile("sub/f.txt", 3).status().reason() == Reason::kLimitExceeded);
  CHECK(dir->OpenFile("out").status().reason() == Reason::kUnsafePath);
  CHECK(dir->OpenFile("subl/f.txt").status().reason() == Reason::kUnsafePath);
  CHECK(dir->OpenFile("../x").status().reason() == Reason::kUnsafePath);
  CHECK(dir->OpenFile("/etc/passwd").status().reason() == Reason::kUnsafePath);
  CHECK(dir->OpenFile("fifo").status().reason() == Reason::kUnsafePath);  // and does not hang
  CHECK(dir->OpenFile("sub").status().reason() == Reason::kUnsafePath);
  CHECK(dir->OpenFile("nope").status().reason() == Reason::kFileMissing);
  REQUIRE(::link((tmp / "sub/f.txt").c_str(), (tmp / "twin").c_str()) == 0);
  CHECK(dir->OpenFile("twin").status().reason() == Reason::kUnsafePath);
  CHECK(dir->OpenFile("sub/f.txt").status().reason() == Reason::kUnsafePath);
}

}  // namespace

TEST_CASE("BundleDir opens only regular singly-linked files beneath the bundle (openat2)") {
  INFO("openat2 available: " << BundleDir::HasOpenat2());
  CheckSafeOpening();
}

TEST_CASE("BundleDir refuses the same paths with the per-component fallback of old kernels") {
  BundleDir::ForceComponentWalkForTesting(true);
  REQUIRE_FALSE(BundleDir::HasOpenat2());
  CheckSafeOpening();
  BundleDir::ForceComponentWalkForTesting(false);
}

TEST_CASE("a bundle that is itself a symlink is refused") {
  test::TempDir tmp;
  std::filesystem::create_directories(tmp / "real");
  REQUIRE(::symlink((tmp / "real").c_str(), (tmp / "link").c_str()) == 0);
  CHECK(BundleDir::Open(tmp / "link").status().reason() == Reason::kUnsafePath);
}

TEST_CASE("reads stop at the declared size plus one byte, or the size when opened plus one") {
  test::TempDir tmp;
  test::WriteFile(tmp / "listed.bin", std::string(100, 'x'));
  test::WriteFile(tmp / "exact.bin", std::string(10, 'y'));
  test::WriteFile(tmp / "other.bin", std::string(7, 'z'));
  auto d = BundleDir::Open(tmp.path());
  REQUIRE(d.ok());
  const std::map<std::string, std::uint64_t> declared = {{"listed.bin", 10}, {"exact.bin", 10}};
  for (const int threads : {1, 3}) {  // hashed in the walk's thread, or on threads of their own
    INFO(threads << " hashing thread(s)");
    HashingVisitor hasher(nullptr, threads);
    WalkOptions options;
    options.declared = &declared;
    auto r = WalkBundle(*d, LimitsConfig{}, hasher, options);
    REQUIRE(r.ok());
    const WalkedFile* listed = r->FindFile("listed.bin");
    REQUIRE(listed != nullptr);
    CHECK(listed->size == 11);
    CHECK(listed->truncated);
    CHECK(listed->sha256 == Sha256Hex(std::string(11, 'x')));
    CHECK_FALSE(r->FindFile("exact.bin")->truncated);
    CHECK(r->FindFile("exact.bin")->size == 10);
    CHECK(r->FindFile("other.bin")->size == 7);
    CHECK_FALSE(r->FindFile("other.bin")->truncated);
    CHECK(r->truncated());
  }
}

TEST_CASE("a walk without opening files applies the same rules") {
  test::TempDir tmp;
  test::WriteFile(tmp / "real/f.txt", "ok");
  REQUIRE(::symlink("real", (tmp / "linked").c_str()) == 0);
  test::WriteFile(tmp / "a.txt", "abc");
  REQUIRE(::chmod((tmp / "a.txt").c_str(), 0) == 0);  // never opened: mode does not matter
  auto d = BundleDir::Open(tmp.path());
  REQUIRE(d.ok());
  struct Lister : WalkVisitor {
    int opened = 0;
    std::vector<std::string> seen;
    void OnEntry(const std::string& rel, const struct stat&) override { seen.push_back(rel); }
    Status OnFile(const std::string&, const FileToRead&, WalkedFile*) override {
      ++opened;
      return Status::Ok();
    }
  } lister;
  WalkOptions options;
  options.open_files = false;
  auto r = WalkBundle(*d, LimitsConfig{}, lister, options);
  REQUIRE(r.ok());
  CHECK(lister.opened == 0);
  CHECK(HasUnsafe(*r, "linked", "symlink"));
  CHECK(r->FindFile("a.txt")->size == 3);
  CHECK(r->FindFile("real/f.txt") != nullptr);
  CHECK(lister.seen.size() == 4);
}

TEST_CASE("files hashed on several threads give exactly the report of one thread") {
  test::TempDir tmp;
  std::mt19937 rng(7);
  std::map<std::string, std::string> contents;
  for (int i = 0; i < 300; ++i) {
    // Sizes around the read block (128 KiB) and far below it; an empty file too.
    const std::size_t size = i == 0 ? 0 : (i % 7 == 0 ? (128u << 10) * (i % 3) + i : rng() % 5000);
    std::string data(size, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    const std::string rel = "d" + std::to_string(i % 5) + "/f" + std::to_string(i) + ".bin";
    test::WriteFile(tmp / rel, data);
    contents[rel] = data;
  }
  const WalkReport one = WalkWith(tmp.path(), {}, 1);
  for (const int threads : {2, 4, 16}) {
    INFO(threads << " threads");
    const WalkReport many = WalkWith(tmp.path(), {}, threads);
    REQUIRE(many.files.size() == contents.size());
    CHECK(many.total_bytes == one.total_bytes);
    CHECK(many.directories == one.directories);
    for (std::size_t i = 0; i < many.files.size(); ++i) {
      const WalkedFile& f = many.files[i];
      CHECK(f.path == one.files[i].path);
      CHECK(f.size == contents[f.path].size());
      CHECK(f.sha256 == Sha256Hex(contents[f.path]));
    }
  }
}

TEST_CASE("a walk hashing on several threads stops when cancelled") {
  test::TempDir tmp;
  for (int i = 0; i < 50; ++i) test::WriteFile(tmp / ("f" + std::to_string(i)), "x");
  auto d = BundleDir::Open(tmp.path());
  REQUIRE(d.ok());
  std::atomic<bool> cancelled{true};
  HashingVisitor hasher(&cancelled, 3);
  auto report = WalkBundle(*d, {}, hasher);
  REQUIRE_FALSE(report.ok());
  CHECK_THAT(report.status().message(), Catch::Contains("cancelled"));
}
