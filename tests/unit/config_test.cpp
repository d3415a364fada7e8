#include <catch2/catch.hpp>
#include <filesystem>

#include "agent/config/config.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace bg;

TEST_CASE("defaults derive every path from the root") {
  Config c = DefaultConfig("/srv/bg");
  CHECK(c.paths.inbox == "/srv/bg/inbox");
  CHECK(c.paths.work == "/srv/bg/work");
  CHECK(c.paths.serving == "/srv/bg/serving");
  CHECK(c.paths.quarantine == "/srv/bg/quarantine");
  CHECK(c.paths.audit_log == "/srv/bg/audit.jsonl");
  CHECK(c.intake == IntakeMode::kCopy);
  CHECK(c.checks.empty());
}

TEST_CASE("relative paths resolve against the config file's directory") {
  // Under /srv: a root under a sandbox read path (/opt is one) is refused, so plugins never see it.
  auto c = ParseConfig("[paths]\nroot = \"../var\"\naudit_log = \"logs/a.jsonl\"\n", "x.toml",
                       "/srv/bg/etc");
  REQUIRE(c.ok());
  CHECK(c->paths.root == "/srv/bg/var");
  CHECK(c->paths.inbox == "/srv/bg/var/inbox");
  CHECK(c->paths.audit_log == "/srv/bg/etc/logs/a.jsonl");
}

TEST_CASE("unknown keys and ill-typed values are errors naming file, line and key") {
  auto c = ParseConfig("workers = 2\n[watch]\nsettle_ms = \"soon\"\nsetle_ms = 5\n", "bg.toml", "/");
  REQUIRE_FALSE(c.ok());
  const std::string m = c.status().message();
  CHECK_THAT(m, Catch::Contains("bg.toml:3: watch.settle_ms: expected integer, found string"));
  CHECK_THAT(m, Catch::Contains("bg.toml:4: watch.setle_ms: unknown key"));
}

TEST_CASE("enumerated values are checked") {
  auto c = ParseConfig("intake = \"teleport\"\n", "bg.toml", "/");
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(c.status().message(), Catch::Contains("bg.toml:1: intake: must be \"copy\" or \"move\""));
  auto b = ParseConfig("[watch]\nbackend = \"fanotify\"\n", "bg.toml", "/");
  REQUIRE_FALSE(b.ok());
  CHECK_THAT(b.status().message(), Catch::Contains("watch.backend"));
}

TEST_CASE("[[checks]] keep their kind and position for the check factories") {
  auto c = ParseConfig("[[checks]]\nkind = \"git\"\nrepo = \"/r\"\n\n[[checks]]\nkind = \"torchscript\"\n",
                       "bg.toml", "/");
  REQUIRE(c.ok());
  REQUIRE(c->checks.size() == 2);
  CHECK(c->checks[0].kind == "git");
  CHECK(c->checks[0].pointer == "/checks/0");
  CHECK(c->checks[1].kind == "torchscript");
  CHECK(c->checks[1].line == 5);
  auto missing = ParseConfig("[[checks]]\nrepo = \"/r\"\n", "bg.toml", "/");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(), Catch::Contains("checks[0].kind: missing"));
}

TEST_CASE("the reference config etc/bundlegate.toml parses") {
  auto c = LoadConfigFile(test::SourceDir() + "/etc/bundlegate.toml");
  INFO(c.status().message());
  REQUIRE(c.ok());
  CHECK(c->paths.root == "/var/lib/bundlegate");
}

TEST_CASE("a missing config file is a clear error") {
  auto c = LoadConfigFile("/nonexistent/bundlegate.toml");
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(c.status().message(), Catch::Contains("/nonexistent/bundlegate.toml"));
}
