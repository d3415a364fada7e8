// The --describe cache: real plugin scripts that count how often they are asked, cache files
// shared between DescribeCache objects as between two runs of bundlegate, and every way the
// cache can go stale or bad (a rewritten plugin, a changed dependency, a plugin changed just
// before it was asked, a corrupt, foreign or tampered cache file).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <thread>

#include "agent/core/json.h"
#include "agent/plugin/describe_cache.h"
#include "agent/plugin/file_identity.h"
#include "agent/plugin/plugin_launch.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace bg;
using namespace bg::test;

namespace {

// A plugin answers --describe only once it has settled: a file changed less than
// kSettleSeconds before it is asked is not remembered. Waits (polling, generously) until every
// file is older than that.
void WaitUntilSettled(const std::vector<std::string>& files) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    bool settled = true;
    for (const auto& f : files) {
      auto id = FileIdentity::Of(f);
      REQUIRE(id.ok());
      const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      settled = settled && now - id->ctime_ns > (DescribeCache::kSettleSeconds + 1) * 1000000000;
    }
    if (settled) return;
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

class Fixture {
 public:
  std::string plugin() const { return tmp_ / "plugins/bundlegate-check-demo"; }
  std::string cache() const { return tmp_ / "cache/plugin-describe.json"; }
  std::string dep() const { return tmp_ / "lib/libdemo.so"; }
  const TempDir& tmp() const { return tmp_; }

  // The plugin: appends a line to `asked` per --describe and prints `extra` fields too.
  void WritePlugin(const std::string& version, const std::string& extra = "") {
    WriteFile(plugin(), "#!/bin/sh\necho x >> '" + (tmp_ / "asked") +
                            "'\necho '{\"protocol\":1,\"kind\":\"demo\",\"version\":\"" + version +
                            "\"" + extra + "}'\n");
    REQUIRE(::chmod(plugin().c_str(), 0755) == 0);
  }

  int Asked() const {
    const auto r = RunProcess({"sh", "-c", "cat \"$0\" 2>/dev/null | wc -l", tmp_ / "asked"});
    return std::stoi(r.out);
  }

  // A fresh cache object on the same file: what the next run of bundlegate sees.
  std::string DescribeFresh() {
    DescribeCache describes(cache());
    // Unconfined: the plugin counts its runs in a file outside what a sandbox would show it
    // (the cache, not the sandbox, is under test here).
    PluginSandbox unconfined;
    unconfined.config.layers = sandbox::LayerSet();
    auto d = describes.Describe(plugin(), "demo", PluginLimits{}, unconfined);
    INFO(d.status().message());
    REQUIRE(d.ok());
    return d->version;
  }

 private:
  TempDir tmp_;
};

}  // namespace

TEST_CASE("a remembered description is used while the plugin is unchanged") {
  Fixture f;
  f.WritePlugin("1.0");
  WaitUntilSettled({f.plugin()});
  CHECK(f.DescribeFresh() == "1.0");
  CHECK(f.Asked() == 1);
  CHECK(f.DescribeFresh() == "1.0");
  CHECK(f.DescribeFresh() == "1.0");
  CHECK(f.Asked() == 1);  // two later runs asked nobody

  DescribeCache describes(f.cache());
  REQUIRE(describes.Lookup(f.plugin(), "demo"));
  CHECK_FALSE(describes.Lookup(f.plugin(), "other"));  // the same file, installed as another kind
  CHECK(describes.stats().hits == 1);
  struct stat st;
  REQUIRE(::stat(f.cache().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("a plugin rewritten, even to the same size and mtime, is described again") {
  Fixture f;
  f.WritePlugin("1.0");
  WaitUntilSettled({f.plugin()});
  CHECK(f.DescribeFresh() == "1.0");
  // Same length, the old mtime put back: only the ctime (and maybe the inode) tell.
  const auto before = FileIdentity::Of(f.plugin());
  f.WritePlugin("2.0");
  REQUIRE(RunProcess({"touch", "-d", "@" + std::to_string(before->mtime_ns / 1000000000),
                      f.plugin()})
              .exit_code == 0);
  CHECK(f.DescribeFresh() == "2.0");
  CHECK(f.Asked() == 2);
  // Replaced by a rename (a package upgrade): a new inode.
  WaitUntilSettled({f.plugin()});
  CHECK(f.DescribeFresh() == "2.0");
  CHECK(f.Asked() == 3);  // 2.0 was changed too recently to be remembered; now it is
  const std::string next = f.tmp() / "plugins/.new";
  REQUIRE(RunProcess({"cp", "-p", f.plugin(), next}).exit_code == 0);
  REQUIRE(std::rename(next.c_str(), f.plugin().c_str()) == 0);
  CHECK(f.DescribeFresh() == "2.0");
  CHECK(f.Asked() == 4);
}

TEST_CASE("a change to a file the plugin depends on is described again") {
  Fixture f;
  WriteFile(f.dep(), "v1");
  f.WritePlugin("1.0", ",\"cache\":{\"depends_on\":[\"" + f.dep() + "\"]}");
  WaitUntilSettled({f.plugin(), f.dep()});
  CHECK(f.DescribeFresh() == "1.0");
  CHECK(f.DescribeFresh() == "1.0");
  CHECK(f.Asked() == 1);
  WriteFile(f.dep(), "v2");  // LibTorch upgraded in place
  CHECK(f.DescribeFresh() == "1.0");
  CHECK(f.Asked() == 2);
  REQUIRE(std::remove(f.dep().c_str()) == 0);
  CHECK(f.DescribeFresh() == "1.0");  // a dependency gone: asked, and not remembered
  CHECK(f.DescribeFresh() == "1.0");
  CHECK(f.Asked() == 4);
}

TEST_CASE("a plugin that says cache false, or names a relative dependency, is always asked") {
  Fixture f;
  const auto extra = GENERATE(as<std::string>{}, ",\"cache\":false",
                              ",\"cache\":{\"depends_on\":[\"lib/x.so\"]}", ",\"cache\":7");
  f.WritePlugin("1.0", extra);
  WaitUntilSettled({f.plugin()});
  CHECK(f.DescribeFresh() == "1.0");
  CHECK(f.DescribeFresh() == "1.0");
  CHECK(f.Asked() == 2);
}

TEST_CASE("a plugin changed just before it was asked is not remembered") {
  Fixture f;
  f.WritePlugin("1.0");  // no wait: its ctime is within kSettleSeconds of the question
  CHECK(f.DescribeFresh() == "1.0");
  CHECK(f.DescribeFresh() == "1.0");
  CHECK(f.Asked() == 2);
}

TEST_CASE("a corrupt, foreign or tampered cache file reads as empty and is replaced") {
  Fixture f;
  f.WritePlugin("1.0");
  WaitUntilSettled({f.plugin()});
  CHECK(f.DescribeFresh() == "1.0");
  REQUIRE(f.Asked() == 1);
  const std::string good = ReadFile(f.cache());
  int asked = 1;
  const auto expect_asked_again = [&](const std::string& why) {
    INFO(why);
    CHECK(f.DescribeFresh() == "1.0");
    CHECK(f.Asked() == ++asked);
    CHECK(f.DescribeFresh() == "1.0");  // rewritten, good again
    CHECK(f.Asked() == asked);
  };
  WriteFile(f.cache(), "{\"format\":1,\"entries\":[{\"path\":");
  expect_asked_again("truncated");
  WriteFile(f.cache(), std::string(100000, '[') + std::string(100000, ']'));
  expect_asked_again("nested past the parser's depth");
  WriteFile(f.cache(), std::string(DescribeCache::kMaxFileBytes + 1, ' '));
  expect_asked_again("too large");
  std::string other_kind = good;
  other_kind.replace(other_kind.find("\"kind\":\"demo\"", other_kind.find("\"description\"")),
                     13, "\"kind\":\"evil\"");
  WriteFile(f.cache(), other_kind);
  expect_asked_again("a description that no longer validates");
  std::string moved = good;
  moved.replace(moved.find("\"inode\":"), 8, "\"inode\":1");
  WriteFile(f.cache(), moved);
  expect_asked_again("another identity");
  WriteFile(f.cache(), good);
  REQUIRE(::chmod(f.cache().c_str(), 0666) == 0);
  expect_asked_again("writable by others");
  REQUIRE(::chmod((f.tmp() / "cache").c_str(), 0777) == 0);
  CHECK(f.DescribeFresh() == "1.0");
  CHECK(f.Asked() == ++asked);  // a directory others can write to is never trusted
  REQUIRE(::chmod((f.tmp() / "cache").c_str(), 0700) == 0);
}

TEST_CASE("the cache file's place: the agent's root, the user's cache, or none") {
  const char* saved[] = {std::getenv("BUNDLEGATE_CACHE_DIR"), std::getenv("XDG_CACHE_HOME"),
                         std::getenv("HOME")};
  const std::string keep[] = {saved[0] ? saved[0] : "", saved[1] ? saved[1] : "",
                              saved[2] ? saved[2] : ""};
  ::unsetenv("BUNDLEGATE_CACHE_DIR");
  ::setenv("XDG_CACHE_HOME", "/x/cache", 1);
  ::setenv("HOME", "/home/ada", 1);
  CHECK(DescribeCacheFile(true, "/var/lib/bundlegate") ==
        "/var/lib/bundlegate/cache/plugin-describe.json");
  CHECK(DescribeCacheFile(false, "/var/lib/bundlegate") ==
        "/x/cache/bundlegate/plugin-describe.json");
  ::unsetenv("XDG_CACHE_HOME");
  CHECK(DescribeCacheFile(false, "") == "/home/ada/.cache/bundlegate/plugin-describe.json");
  ::setenv("BUNDLEGATE_CACHE_DIR", "off", 1);
  CHECK(DescribeCacheFile(true, "/var/lib/bundlegate").empty());
  ::setenv("BUNDLEGATE_CACHE_DIR", "/tmp/c", 1);
  CHECK(DescribeCacheFile(false, "") == "/tmp/c/plugin-describe.json");
  const char* names[] = {"BUNDLEGATE_CACHE_DIR", "XDG_CACHE_HOME", "HOME"};
  for (int i = 0; i < 3; ++i) {
    if (saved[i]) {
      ::setenv(names[i], keep[i].c_str(), 1);
    } else {
      ::unsetenv(names[i]);
    }
  }
}
