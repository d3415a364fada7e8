#include <unistd.h>

#include <catch2/catch.hpp>

#include "agent/bundle/bundle_walk.h"
#include "agent/bundle/integrity.h"
#include "agent/core/sha256.h"
#include "tests/support/bundle_writer.h"
#include "tests/support/temp_dir.h"

using namespace bg;

namespace {

std::vector<IntegrityFinding> Check(const std::string& dir) {
  auto manifest = ParseManifest(test::ReadFile(dir + "/bundle.toml"));
  INFO(manifest.status().message());
  REQUIRE(manifest.ok());
  auto d = BundleDir::Open(dir);
  REQUIRE(d.ok());
  HashingVisitor hasher;
  auto walk = WalkBundle(*d, LimitsConfig{}, hasher);
  REQUIRE(walk.ok());
  return CompareWithManifest(*manifest, *walk);
}

}  // namespace

TEST_CASE("a bundle written by the test helper is intact") {
  test::TempDir tmp;
  CHECK(Check(test::WriteBundle(tmp / "b")).empty());
}

TEST_CASE("each integrity reason code, with the file named") {
  test::TempDir tmp;
  const std::string dir = test::WriteBundle(tmp / "b");

  SECTION("file-missing") {
    REQUIRE(::unlink((dir + "/model.pt").c_str()) == 0);
    const auto f = Check(dir);
    REQUIRE(f.size() == 1);
    CHECK(f[0].reason == Reason::kFileMissing);
    CHECK(f[0].path == "model.pt");
  }
  SECTION("size-mismatch") {
    test::AppendFile(dir + "/model.pt", "more");
    const auto f = Check(dir);
    REQUIRE(f.size() == 1);
    CHECK(f[0].reason == Reason::kSizeMismatch);
    CHECK(f[0].path == "model.pt");
  }
  SECTION("hash-mismatch: same size, other bytes") {
    std::string content = test::ReadFile(dir + "/preprocess.toml");
    content[0] = content[0] == 'x' ? 'y' : 'x';
    test::WriteFile(dir + "/preprocess.toml", content);
    const auto f = Check(dir);
    REQUIRE(f.size() == 1);
    CHECK(f[0].reason == Reason::kHashMismatch);
    CHECK(f[0].path == "preprocess.toml");
    CHECK_THAT(f[0].detail, Catch::Contains(Sha256Hex(content)));
  }
  SECTION("unlisted-file") {
    test::WriteFile(dir + "/extra/stowaway.bin", "?");
    const auto f = Check(dir);
    REQUIRE(f.size() == 1);
    CHECK(f[0].reason == Reason::kUnlistedFile);
    CHECK(f[0].path == "extra/stowaway.bin");
  }
  SECTION("unsafe-path: a listed file replaced by a symlink") {
    REQUIRE(::unlink((dir + "/model.pt").c_str()) == 0);
    REQUIRE(::symlink("/etc/passwd", (dir + "/model.pt").c_str()) == 0);
    const auto f = Check(dir);
    REQUIRE(f.size() == 1);
    CHECK(f[0].reason == Reason::kUnsafePath);
    CHECK(f[0].path == "model.pt");
  }
  SECTION("bundle.toml.sig is allowed unlisted") {
    test::WriteFile(dir + "/bundle.toml.sig", "sig");
    CHECK(Check(dir).empty());
  }
}

TEST_CASE("unsafe-path for declared paths that escape: '..' and absolute") {
  test::TempDir tmp;
  for (const std::string bad : {"../escape.txt", "/etc/passwd"}) {
    const std::string dir = test::WriteBundle(tmp / ("b" + std::to_string(bad.size())));
    test::AppendFile(dir + "/bundle.toml", "[[files]]\npath = \"" + bad + "\"\nsize = 1\nsha256 = \"" +
                                               std::string(64, 'a') + "\"\n");
    const auto f = Check(dir);
    INFO(bad);
    REQUIRE(f.size() == 1);
    CHECK(f[0].reason == Reason::kUnsafePath);
    CHECK(f[0].path == bad);
  }
}

TEST_CASE("findings come in severity order, all of them") {
  test::TempDir tmp;
  const std::string dir = test::WriteBundle(tmp / "b");
  test::WriteFile(dir + "/zz-unlisted", "x");
  test::AppendFile(dir + "/model.pt", "grown");
  REQUIRE(::unlink((dir + "/preprocess.toml").c_str()) == 0);
  REQUIRE(::mkfifo((dir + "/pipe").c_str(), 0600) == 0);
  const auto f = Check(dir);
  REQUIRE(f.size() == 4);
  CHECK(f[0].reason == Reason::kUnsafePath);
  CHECK(f[1].reason == Reason::kFileMissing);
  CHECK(f[2].reason == Reason::kSizeMismatch);
  CHECK(f[3].reason == Reason::kUnlistedFile);
}

TEST_CASE("the bundle digest follows SPEC.md and ignores [[files]] order") {
  std::vector<ManifestFile> files = {{"b", 2, std::string(64, 'b')}, {"a", 1, std::string(64, 'a')}};
  const std::string expected =
      Sha256Hex(std::string("a\0" "1\0", 4) + std::string(64, 'a') + "\n" +
                std::string("b\0" "2\0", 4) + std::string(64, 'b') + "\n");
  CHECK(BundleDigest(files) == expected);
  std::swap(files[0], files[1]);
  CHECK(BundleDigest(files) == expected);
  files[0].size = 3;
  CHECK(BundleDigest(files) != expected);
}
