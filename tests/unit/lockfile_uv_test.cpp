// uv.lock as uv writes it: a single project, a workspace with a virtual root, forks by marker,
// git sources; and the malformed files that must be lockfile-invalid with their line.
#include <catch2/catch.hpp>

#include "agent/lockfile/uv_lock.h"
#include "tests/unit/lockfile_fixtures.h"

using namespace bg;
using namespace bg::test;

TEST_CASE("uv.lock of one project: the project is not a dependency") {
  const std::string text = LockFixture("uv-simple.lock");
  const Lockfile lock = MustParse(text, "uv.lock");
  CHECK(lock.format == LockfileFormat::kUvLock);
  CHECK(lock.projects == std::vector<std::string>{"fraud-scorer"});
  CHECK(lock.packages.size() == 4);
  CHECK(CountPinned(lock) == 4);
  CHECK(Pkg(lock, "filelock").hashes == 2);
  CHECK(Pkg(lock, "numpy").hashes == 3);
  const auto& torch = Pkg(lock, "torch");
  CHECK(torch.version == "2.5.1+cpu");
  CHECK(torch.hashes == 1);
  // The line of its [[package]] header (the name follows on the next line).
  const int name_line = LineStartingWith(text, "name = \"torch\"");
  CHECK((torch.line == name_line - 1 || torch.line == name_line));
}

TEST_CASE("uv.lock of a workspace: members and virtual root are projects") {
  const Lockfile lock = MustParse(LockFixture("uv-workspace.lock"), "uv.lock");
  CHECK(lock.projects == std::vector<std::string>{"albatross", "bird-feeder"});
  CHECK(lock.packages.size() == 4);
  CHECK(Pkg(lock, "iniconfig").pinned);
  const auto& mylib = Pkg(lock, "mylib");
  CHECK_FALSE(mylib.pinned);
  CHECK_THAT(mylib.unpinned_why,
             Catch::StartsWith("git source (https://github.com/acme/mylib?rev="));
  CHECK(mylib.hashes == 0);
  CHECK(Pkg(lock, "numpy", 0).version == "1.26.4");
  CHECK(Pkg(lock, "numpy", 0).marker == "python_full_version < '3.13'");
  CHECK(Pkg(lock, "numpy", 1).version == "2.1.3");
  CHECK(Pkg(lock, "numpy", 1).hashes == 1);
}

TEST_CASE("uv.lock sources other than a registry are unpinned") {
  const std::string text = R"(version = 1
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }

[[package]]
name = "shared"
version = "0.2.0"
source = { editable = "../shared" }

[[package]]
name = "local-wheel"
version = "1.0.0"
source = { path = "dist/local_wheel-1.0.0-py3-none-any.whl" }
wheels = [
    { filename = "local_wheel-1.0.0-py3-none-any.whl", hash = "sha256:0000000000000000000000000000000000000000000000000000000000000000" },
]

[[package]]
name = "tarball"
version = "3.0"
source = { url = "https://example.com/tarball-3.0.tar.gz" }
sdist = { hash = "sha256:1111111111111111111111111111111111111111111111111111111111111111" }
)";
  const Lockfile lock = MustParse(text, "uv.lock");
  CHECK(lock.projects == std::vector<std::string>{"app"});
  REQUIRE(lock.packages.size() == 3);
  CHECK(CountPinned(lock) == 0);
  CHECK(Pkg(lock, "shared").unpinned_why == "editable source (../shared)");
  CHECK(Pkg(lock, "local-wheel").hashes == 1);
  CHECK(Pkg(lock, "tarball").unpinned_why == "url source (https://example.com/tarball-3.0.tar.gz)");
}

TEST_CASE("malformed uv.lock files are lockfile-invalid with their line") {
  CHECK_THAT(InvalidMessage("version = 1\n[[package]\nname = \"x\"\n", "uv.lock"),
             Catch::StartsWith("uv.lock:2:"));
  CHECK_THAT(InvalidMessage("version = 2\n", "uv.lock"),
             Catch::Contains("uv.lock:1: version: unsupported uv.lock version 2"));
  CHECK_THAT(InvalidMessage("requires-python = \">=3.11\"\n", "uv.lock"),
             Catch::Contains("version: missing (required)"));
  const std::string no_source =
      "version = 1\n\n[[package]]\nname = \"numpy\"\nversion = \"1.26.4\"\n";
  CHECK_THAT(InvalidMessage(no_source, "uv.lock"), Catch::Contains("package[0].source: missing"));
  const std::string bad_version =
      "version = 1\n[[package]]\nname = \"numpy\"\nversion = \"latest\"\n"
      "source = { registry = \"https://pypi.org/simple\" }\n";
  CHECK_THAT(InvalidMessage(bad_version, "uv.lock"),
             Catch::Contains("uv.lock:4: package[0].version: numpy: version \"latest\" is not a "
                             "PEP 440 version"));
  const std::string typed = "version = 1\n[[package]]\nname = 7\n";
  CHECK_THAT(InvalidMessage(typed, "uv.lock"),
             Catch::Contains("uv.lock:3: package[0].name: expected string, found integer"));
  const std::string odd_source =
      "version = 1\n[[package]]\nname = \"x\"\nversion = \"1\"\nsource = { svn = \"x\" }\n";
  CHECK_THAT(InvalidMessage(odd_source, "uv.lock"),
             Catch::Contains("package[0].source: expected one of"));
}
