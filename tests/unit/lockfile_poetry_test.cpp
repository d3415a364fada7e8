// poetry.lock as Poetry 1.1 (lock-version 1.1), 1.8 (2.0) and 2.x (2.1) write it.
#include <catch2/catch.hpp>

#include "agent/lockfile/poetry_lock.h"
#include "tests/unit/lockfile_fixtures.h"

using namespace bg;
using namespace bg::test;

TEST_CASE("poetry.lock 1.1: hashes come from metadata.files") {
  const std::string text = LockFixture("poetry-1.1.lock");
  const Lockfile lock = MustParse(text, "poetry.lock");
  CHECK(lock.format == LockfileFormat::kPoetryLock);
  CHECK(lock.packages.size() == 5);
  CHECK(CountPinned(lock) == 5);
  CHECK(lock.projects.empty());
  CHECK(Pkg(lock, "certifi").hashes == 2);
  CHECK(Pkg(lock, "torch").hashes == 1);
  CHECK(Pkg(lock, "torch").version == "1.10.0");
  CHECK(Pkg(lock, "typing-extensions").hashes == 2);
  CHECK(Pkg(lock, "pytest").group == "dev");
  const int name_line = LineStartingWith(text, "name = \"torch\"");
  const int line = Pkg(lock, "torch").line;
  CHECK((line == name_line - 1 || line == name_line));
}

TEST_CASE("poetry.lock 2.0: per-package files and a legacy index source") {
  const Lockfile lock = MustParse(LockFixture("poetry-2.0.lock"), "poetry.lock");
  CHECK(lock.packages.size() == 4);
  CHECK(CountPinned(lock) == 4);
  const auto& torch = Pkg(lock, "torch");
  CHECK(torch.version == "2.5.1+cpu");
  CHECK(torch.pinned);
  CHECK(torch.hashes == 1);
  CHECK(Pkg(lock, "numpy").hashes == 2);
}

TEST_CASE("poetry.lock 2.1: groups markers git and directory sources") {
  const Lockfile lock = MustParse(LockFixture("poetry-2.1.lock"), "poetry.lock");
  CHECK(lock.packages.size() == 6);
  CHECK(CountPinned(lock) == 4);
  CHECK(Pkg(lock, "colorama").group == "main,dev");
  // Per-group markers, in key order.
  CHECK(Pkg(lock, "colorama").marker ==
        "dev: sys_platform == \"win32\"; main: platform_system == \"Windows\"");
  CHECK(Pkg(lock, "torch").marker == "sys_platform == \"linux\"");
  const auto& features = Pkg(lock, "features");
  CHECK_FALSE(features.pinned);
  CHECK(features.unpinned_why == "editable install (develop = true, directory libs/features)");
  const auto& mylib = Pkg(lock, "mylib");
  CHECK_FALSE(mylib.pinned);
  CHECK(mylib.unpinned_why ==
        "git source (https://github.com/acme/mylib.git@3f2a9c4e5d6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f)");
  CHECK(mylib.hashes == 0);
}

TEST_CASE("malformed poetry.lock files are lockfile-invalid with their line") {
  const std::string future =
      "[[package]]\nname = \"x\"\nversion = \"1.0\"\n\n[metadata]\nlock-version = \"3.0\"\n";
  CHECK_THAT(InvalidMessage(future, "poetry.lock"),
             Catch::Contains("poetry.lock:6: metadata.lock-version: unsupported poetry.lock "
                             "lock-version \"3.0\""));
  const std::string no_version =
      "[[package]]\nname = \"numpy\"\noptional = false\n\n[metadata]\nlock-version = \"2.0\"\n";
  CHECK_THAT(InvalidMessage(no_version, "poetry.lock"),
             Catch::Contains("poetry.lock:1: package[0].version: missing"));
  const std::string bad_files =
      "[[package]]\nname = \"numpy\"\nversion = \"1.26.4\"\nfiles = \"none\"\n\n"
      "[metadata]\nlock-version = \"2.0\"\n";
  CHECK_THAT(InvalidMessage(bad_files, "poetry.lock"),
             Catch::Contains("poetry.lock:4: package[0].files: expected array, found string"));
  CHECK_THAT(InvalidMessage("[[package]]\nname = \"numpy\"\nversion = \"1.26.4\"\n", "poetry.lock"),
             Catch::Contains("metadata: missing (required)"));
  CHECK_THAT(InvalidMessage("[metadata\n", "poetry.lock"), Catch::StartsWith("poetry.lock:1:"));
}
