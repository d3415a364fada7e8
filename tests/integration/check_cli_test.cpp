// `bundlegate check` run as a process: exit codes, human output, JSON.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/bundle_writer.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace bg::test;

namespace {

std::string LaxConfig(const TempDir& tmp) {
  WriteFile(tmp / "bg.toml", "require_parity = false\n[paths]\nroot = \"var\"\n");
  return tmp / "bg.toml";
}

}  // namespace

TEST_CASE("check passes a good bundle with exit 0") {
  TempDir tmp;
  const std::string dir = WriteBundle(tmp / "good");
  const auto r = RunBundlegate({"check", dir, "--config", LaxConfig(tmp)});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("pass  manifest"));
  CHECK_THAT(r.out, Catch::Contains("pass  integrity"));
  CHECK_THAT(r.out, Catch::Contains("result: PASS"));
}

TEST_CASE("check on a tampered bundle exits 1 naming the file and the reason code") {
  TempDir tmp;
  const std::string dir = WriteBundle(tmp / "bad");
  AppendFile(dir + "/model.pt", "evil");
  WriteFile(dir + "/notes.txt", "unlisted");
  const auto r = RunBundlegate({"check", dir, "--config", LaxConfig(tmp)});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("size-mismatch: model.pt"));
  CHECK_THAT(r.out, Catch::Contains("unlisted-file: notes.txt"));
  CHECK_THAT(r.out, Catch::Contains("result: FAIL size-mismatch"));
}

TEST_CASE("check --json prints the whole report") {
  TempDir tmp;
  const std::string dir = WriteBundle(tmp / "bad");
  AppendFile(dir + "/model.pt", "evil");
  const auto r = RunBundlegate({"check", dir, "--config", LaxConfig(tmp), "--json"});
  REQUIRE(r.exit_code == 1);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["status"] == "fail");
  CHECK(j["reason"] == "size-mismatch");
  CHECK(j["name"] == "test-model");
  CHECK(j["checks"][1]["check"] == "integrity");
  CHECK(j["checks"][1]["details"]["findings"][0]["path"] == "model.pt");
}

TEST_CASE("without a parity check configured, a bundle fails closed") {
  TempDir tmp;
  WriteFile(tmp / "strict.toml", "[paths]\nroot = \"var\"\n");
  const auto r = RunBundlegate({"check", WriteBundle(tmp / "b"), "--config", tmp / "strict.toml"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("plugin-error"));
}

TEST_CASE("usage and configuration errors exit 2") {
  TempDir tmp;
  CHECK(RunBundlegate({"check", tmp / "missing"}).exit_code == 2);
  CHECK(RunBundlegate({"check"}).exit_code == 2);
  CHECK(RunBundlegate({"no-such-command"}).exit_code == 2);
  WriteFile(tmp / "bad.toml", "[watch]\nsettle_ms = \"x\"\n");
  const auto r = RunBundlegate({"check", WriteBundle(tmp / "b"), "--config", tmp / "bad.toml"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("bad.toml:2: watch.settle_ms"));
}

TEST_CASE("config check validates and reports with lines") {
  TempDir tmp;
  WriteFile(tmp / "ok.toml", "[paths]\nroot = \"/srv/bg\"\n");
  const auto ok = RunBundlegate({"config", "check", "--config", tmp / "ok.toml"});
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Catch::Contains("/srv/bg/inbox"));
  WriteFile(tmp / "bad.toml", "[paths]\nrot = \"/srv/bg\"\n");
  const auto bad = RunBundlegate({"config", "check", "--config", tmp / "bad.toml"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("bad.toml:2: paths.rot: unknown key"));
}

TEST_CASE("version and help: linked libraries named, every subcommand helped") {
  const auto v = RunBundlegate({"--version"});
  CHECK(v.exit_code == 0);
  CHECK_THAT(v.out, Catch::Contains("libgit2"));
  CHECK_THAT(v.out, Catch::Contains("OpenSSL"));
  CHECK_THAT(v.out, Catch::Contains("toml++"));
  for (const std::string sub : {"check", "config", "version"}) {
    const auto h = RunBundlegate({sub, "--help"});
    INFO(sub);
    CHECK(h.exit_code == 0);
    CHECK_FALSE(h.out.empty());
  }
}
