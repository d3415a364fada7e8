// The requirements-file parser on what pip-compile, uv pip compile and uv export write, and on
// the malformed files it must reject with their line.
#include <catch2/catch.hpp>

#include "agent/lockfile/requirements_txt.h"
#include "tests/unit/lockfile_fixtures.h"

using namespace bg;
using namespace bg::test;

namespace {
const std::string kHashA(64, 'a');
const std::string kHashB(64, 'b');
}  // namespace

TEST_CASE("pip-compile with generated hashes: every package pinned and hashed") {
  const std::string text = LockFixture("pip-compile-hashes.txt");
  const Lockfile lock = MustParse(text, "requirements.lock");
  CHECK(lock.format == LockfileFormat::kRequirements);
  CHECK(lock.packages.size() == 20);
  CHECK(CountPinned(lock) == 20);
  for (const auto& p : lock.packages) {
    INFO(p.name);
    CHECK(p.hashes >= 1);
  }
  const auto& torch = Pkg(lock, "torch");
  CHECK(torch.version == "2.5.1+cu121");
  CHECK(torch.parsed->ToString() == "2.5.1+cu121");
  CHECK(torch.hashes == 2);
  CHECK(torch.line == LineStartingWith(text, "torch==2.5.1+cu121"));
  CHECK(Pkg(lock, "charset-normalizer").hashes == 3);
  CHECK(Pkg(lock, "nvidia-cublas-cu12").marker ==
        "platform_system == \"Linux\" and platform_machine == \"x86_64\"");
  // Listed under pip-compile's "unsafe" comment with --allow-unsafe: still a dependency.
  CHECK(Pkg(lock, "setuptools").version == "75.3.0");
}

TEST_CASE("pip-compile without hashes") {
  const Lockfile lock = MustParse(LockFixture("pip-compile-plain.txt"), "requirements.txt");
  CHECK(lock.packages.size() == 8);
  CHECK(CountPinned(lock) == 8);
  CHECK(Pkg(lock, "torch").version == "1.13.1+cpu");
  CHECK(Pkg(lock, "torch").hashes == 0);
}

TEST_CASE("uv pip compile --universal keeps one entry per marker") {
  const Lockfile lock = MustParse(LockFixture("uv-pip-compile.txt"), "requirements.txt");
  CHECK(lock.packages.size() == 14);
  CHECK(CountPinned(lock) == 14);
  CHECK(Pkg(lock, "numpy", 0).version == "1.26.4");
  CHECK(Pkg(lock, "numpy", 0).marker == "python_full_version < '3.10'");
  CHECK(Pkg(lock, "numpy", 1).version == "2.1.3");
  CHECK(Pkg(lock, "colorama").marker == "sys_platform == 'win32'");
  CHECK(Pkg(lock, "torch").version == "2.5.1+cpu");
}

TEST_CASE("uv export: the project's editable entry is an editable install") {
  const Lockfile lock = MustParse(LockFixture("uv-export.txt"), "requirements.lock");
  CHECK(lock.packages.size() == 5);
  CHECK(CountPinned(lock) == 4);
  const auto& self = lock.packages.front();
  CHECK_FALSE(self.pinned);
  CHECK(self.unpinned_why ==
        "editable install (-e .), the project itself: export with --no-emit-project");
  CHECK(Pkg(lock, "torch").hashes == 2);
}

TEST_CASE("editable URL path and range requirements are unpinned and named") {
  const std::string text = LockFixture("requirements-direct.txt");
  const Lockfile lock = MustParse(text, "requirements.txt");
  CHECK(lock.packages.size() == 8);
  CHECK(CountPinned(lock) == 1);
  CHECK(Pkg(lock, "numpy").pinned);

  const auto& features = Pkg(lock, "features");
  CHECK(features.unpinned_why == "editable install (-e ./libs/features)");
  CHECK(features.line == LineStartingWith(text, "-e ./libs/features"));
  CHECK_THAT(Pkg(lock, "acme-tokenizers").unpinned_why,
             Catch::StartsWith("editable install (-e git+"));
  CHECK(Pkg(lock, "scipy").unpinned_why == "version range \">=1.11\"");
  CHECK_THAT(Pkg(lock, "mylib").unpinned_why,
             Catch::StartsWith("direct reference (@ git+https://"));
  // The wheel's file name gives the version, so torch_compat can still compare it.
  const auto& torch = Pkg(lock, "torch");
  CHECK_FALSE(torch.pinned);
  CHECK(torch.version == "2.5.1+cu121");
  REQUIRE(torch.parsed.has_value());
  const auto& extra = Pkg(lock, "extra-ops");
  CHECK(extra.version == "0.4.0");
  CHECK(extra.unpinned_why == "direct reference (./vendor/extra_ops-0.4.0-py3-none-any.whl)");
  CHECK(Pkg(lock, "pandas").unpinned_why == "no version");
}

TEST_CASE("continuations comments and CRLF are handled as pip does") {
  const std::string text =
      "numpy==1.26.4 \\\r\n"
      "    --hash=sha256:" +
      kHashA +
      " \\\r\n"
      "    --hash=sha256:" +
      kHashB +
      "\r\n"
      "    # via -r requirements.in\r\n"
      "mpmath==1.3.0  # via sympy\r\n"
      "#torch==2.0.0\r\n"
      "pillow==11.0.0 \\\n"
      "    # a comment ends the continuation\n"
      "requests==2.32.3 --hash sha256:" +
      kHashA + "\n";
  const Lockfile lock = MustParse(text, "requirements.lock");
  REQUIRE(lock.packages.size() == 4);
  CHECK(Pkg(lock, "numpy").hashes == 2);
  CHECK(Pkg(lock, "numpy").line == 1);
  CHECK(Pkg(lock, "mpmath").line == 5);
  CHECK(Pkg(lock, "pillow").line == 7);
  CHECK(Pkg(lock, "requests").line == 9);
  CHECK(Pkg(lock, "requests").hashes == 1);
}

TEST_CASE("malformed requirements files are lockfile-invalid with their line") {
  CHECK_THAT(InvalidMessage("numpy==1.26.4\ntorch=>2.5\n", "requirements.lock"),
             Catch::StartsWith("requirements.lock:2: "));
  CHECK_THAT(InvalidMessage("numpy==1.26.4\n-r base.txt\n", "requirements.lock"),
             Catch::Contains("requirements.lock:2: -r base.txt: includes another file"));
  CHECK_THAT(InvalidMessage("--frobnicate\n", "requirements.lock"),
             Catch::Contains("requirements.lock:1: unknown option --frobnicate"));
  CHECK_THAT(InvalidMessage("torch==2.5.1 \\\n    --hash=md5:abc\n", "requirements.lock"),
             Catch::Contains("requirements.lock:1: bad --hash \"md5:abc\""));
  CHECK_THAT(InvalidMessage("torch==2.5.1\n    --hash=sha256:" + kHashA + "\n", "r.txt"),
             Catch::Contains("r.txt:2: --hash without a requirement"));
  CHECK_THAT(InvalidMessage("torch==2.5.1 --no-deps\n", "r.txt"),
             Catch::Contains("r.txt:1: unknown option --no-deps"));
  CHECK_THAT(InvalidMessage("--index-url\n", "r.txt"),
             Catch::Contains("r.txt:1: --index-url needs a value"));
}

TEST_CASE("one package pinned twice without markers is invalid") {
  const std::string msg = InvalidMessage("numpy==1.26.4\ntorch==2.5.1\nNumPy==2.0.0\n", "r.txt");
  CHECK_THAT(msg, Catch::Contains("r.txt:3: NumPy is locked twice without markers to choose: "
                                  "1.26.4 (line 1) and 2.0.0"));
  // The same version twice is what pip accepts; so are markers that choose.
  CHECK(MustParse("numpy==1.26.4\nnumpy==1.26.4.0\n", "r.txt").packages.size() == 2);
  CHECK(MustParse(
            "numpy==1.26.4 ; python_version < '3.13'\nnumpy==2.1.3 ; python_version >= '3.13'\n",
            "r.txt")
            .packages.size() == 2);
}

TEST_CASE("empty and comment-only requirements files have no packages") {
  CHECK(MustParse("", "requirements.lock").packages.empty());
  CHECK(MustParse("# nothing\n\n--index-url https://pypi.org/simple\n", "requirements.lock")
            .packages.empty());
}

TEST_CASE("the format is chosen by file name then by content") {
  CHECK(LockfileFormatFromName("requirements.lock") == LockfileFormat::kRequirements);
  CHECK(LockfileFormatFromName("deps/requirements-gpu.lock") == LockfileFormat::kRequirements);
  CHECK(LockfileFormatFromName("locks/prod.txt") == LockfileFormat::kRequirements);
  CHECK(LockfileFormatFromName("deps/uv.lock") == LockfileFormat::kUvLock);
  CHECK(LockfileFormatFromName("poetry.lock") == LockfileFormat::kPoetryLock);
  CHECK(LockfileFormatFromName("Pipfile.lock") == LockfileFormat::kPipfileLock);
  CHECK_FALSE(LockfileFormatFromName("deps.lock").has_value());

  CHECK(LockfileFormatFromContent(LockFixture("uv-simple.lock")) == LockfileFormat::kUvLock);
  CHECK(LockfileFormatFromContent(LockFixture("uv-workspace.lock")) == LockfileFormat::kUvLock);
  CHECK(LockfileFormatFromContent(LockFixture("poetry-1.1.lock")) == LockfileFormat::kPoetryLock);
  CHECK(LockfileFormatFromContent(LockFixture("poetry-2.0.lock")) == LockfileFormat::kPoetryLock);
  CHECK(LockfileFormatFromContent(LockFixture("poetry-2.1.lock")) == LockfileFormat::kPoetryLock);
  CHECK(LockfileFormatFromContent(LockFixture("Pipfile.lock")) == LockfileFormat::kPipfileLock);
  CHECK(LockfileFormatFromContent(LockFixture("pip-compile-hashes.txt")) ==
        LockfileFormat::kRequirements);
  CHECK(LockfileFormatFromContent("numpy==1.26.4\n") == LockfileFormat::kRequirements);

  // A neutral name: the content decides.
  CHECK(MustParse(LockFixture("uv-simple.lock"), "deps.lock").format == LockfileFormat::kUvLock);
  CHECK(MustParse(LockFixture("Pipfile.lock"), "deps.lock").format == LockfileFormat::kPipfileLock);
  CHECK(MustParse(LockFixture("poetry-2.0.lock"), "deps.lock").format ==
        LockfileFormat::kPoetryLock);
}
