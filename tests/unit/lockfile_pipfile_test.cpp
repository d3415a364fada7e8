// Pipfile.lock as Pipenv writes it, with both sections, indexes, editable, git and file entries.
#include <catch2/catch.hpp>

#include "agent/lockfile/pipfile_lock.h"
#include "tests/unit/lockfile_fixtures.h"

using namespace bg;
using namespace bg::test;

TEST_CASE("Pipfile.lock: default and develop packages pinned and hashed") {
  const std::string text = LockFixture("Pipfile.lock");
  const Lockfile lock = MustParse(text, "Pipfile.lock");
  CHECK(lock.format == LockfileFormat::kPipfileLock);
  CHECK(lock.packages.size() == 6);
  CHECK(CountPinned(lock) == 6);
  const auto& torch = Pkg(lock, "torch");
  CHECK(torch.version == "2.5.1+cu121");
  CHECK(torch.group == "default");
  CHECK(torch.hashes == 1);
  CHECK(torch.marker == "python_full_version >= '3.8.0'");
  CHECK(torch.line == LineStartingWith(text, "        \"torch\": {"));
  CHECK(Pkg(lock, "pytest").group == "develop");
  CHECK(Pkg(lock, "pytest").line == LineStartingWith(text, "        \"pytest\": {"));
}

TEST_CASE("Pipfile.lock: editable git and file entries are unpinned") {
  const Lockfile lock = MustParse(LockFixture("pipfile-references.json"), "deps.json");
  CHECK(lock.format == LockfileFormat::kPipfileLock);
  CHECK(lock.packages.size() == 4);
  CHECK(CountPinned(lock) == 1);
  CHECK(Pkg(lock, "features").unpinned_why == "editable install (path ./libs/features)");
  CHECK(Pkg(lock, "mylib").unpinned_why ==
        "git source (https://github.com/acme/mylib.git@3f2a9c4e5d6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f)");
  const auto& torch = Pkg(lock, "torch");
  CHECK_FALSE(torch.pinned);
  CHECK(torch.version == "1.13.1+cpu");
  CHECK(Pkg(lock, "numpy").version == "1.26.0");
}

TEST_CASE("Pipfile.lock ranges and stars are unpinned") {
  const std::string text =
      R"({"_meta": {"pipfile-spec": 6}, "default": {"requests": {"version": "*"},)"
      R"( "numpy": {"version": ">=1.26"}, "torch": {"version": "===2.5.1"}}})";
  const Lockfile lock = MustParse(text, "Pipfile.lock");
  CHECK(Pkg(lock, "requests").unpinned_why == "any version (\"*\")");
  CHECK(Pkg(lock, "numpy").unpinned_why == "version range \">=1.26\"");
  CHECK(Pkg(lock, "torch").pinned);
  CHECK(Pkg(lock, "torch").version == "2.5.1");
}

TEST_CASE("malformed Pipfile.lock files are lockfile-invalid with their line") {
  CHECK_THAT(InvalidMessage("{\n  \"default\": {\n    \"numpy\": {,}\n  }\n}\n", "Pipfile.lock"),
             Catch::StartsWith("Pipfile.lock:3: not valid JSON"));
  CHECK_THAT(InvalidMessage("[1, 2]", "Pipfile.lock"), Catch::Contains("not a Pipfile.lock"));
  const std::string typed =
      "{\n  \"_meta\": {},\n  \"default\": {\n    \"numpy\": {\"version\": 1}\n  }\n}\n";
  CHECK_THAT(InvalidMessage(typed, "Pipfile.lock"),
             Catch::Contains("Pipfile.lock:4: default.numpy.version: expected a string"));
  const std::string bad_spec = "{\"_meta\": {}, \"default\": {\"numpy\": {\"version\": \"=1.0\"}}}";
  CHECK_THAT(InvalidMessage(bad_spec, "Pipfile.lock"), Catch::Contains("default.numpy.version"));
  const std::string hashes =
      "{\"_meta\": {}, \"default\": {\"numpy\": {\"version\": \"==1.0\", \"hashes\": \"x\"}}}";
  CHECK_THAT(InvalidMessage(hashes, "Pipfile.lock"),
             Catch::Contains("expected an array of strings"));
  CHECK_THAT(InvalidMessage("{\"_meta\": {}, \"default\": []}", "Pipfile.lock"),
             Catch::Contains("default: expected an object of packages"));
  // Found by fuzzing: a number beyond a double threw out_of_range, not parse_error, and the
  // exception escaped (std::terminate in the agent).
  CHECK_THAT(InvalidMessage("{\"_meta\": {\"x\": 1e400}, \"default\": {}}", "Pipfile.lock"),
             Catch::Contains("Pipfile.lock: not valid JSON") && Catch::Contains("number overflow"));
  // Nested 100,000 deep (200 KB): refused before the recursive parser sees it.
  CHECK_THAT(InvalidMessage(std::string(100000, '[') + std::string(100000, ']'), "Pipfile.lock"),
             Catch::Contains("Pipfile.lock: nested 100000 levels deep, more than the 64 allowed"));
}
