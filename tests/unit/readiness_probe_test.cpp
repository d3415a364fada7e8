// The readiness probe sees the tree the checks see (the same walker, the same rules).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "agent/watch/readiness_probe.h"
#include "tests/support/bundle_writer.h"
#include "tests/support/temp_dir.h"

using namespace bg;

TEST_CASE("a complete bundle is complete, and says how many bytes a copy needs") {
  test::TempDir tmp;
  test::BundleSpec spec;
  spec.files["model.pt"] = std::string(5000, 'm');
  test::WriteBundle(tmp / "b", spec);
  const ProbeResult r = ProbeInboxEntry(tmp.path(), "b", LimitsConfig{});
  REQUIRE(r.fault.ok());
  CHECK(r.observation.complete);
  CHECK(r.bytes >= 5000);
}

TEST_CASE("a symlinked directory makes a bundle ready to reject at once") {
  test::TempDir tmp;
  test::WriteBundle(tmp / "b");
  std::filesystem::rename(tmp / "b/parity", tmp / "b/parity-real");
  REQUIRE(::symlink("parity-real", (tmp / "b/parity").c_str()) == 0);
  const ProbeResult r = ProbeInboxEntry(tmp.path(), "b", LimitsConfig{});
  CHECK(r.observation.complete);
  CHECK(r.observation.why_not.find("parity") != std::string::npos);
}

TEST_CASE("a missing file still waits, and an unparsable manifest says so") {
  test::TempDir tmp;
  test::WriteBundle(tmp / "b");
  std::filesystem::remove(tmp / "b/model.pt");
  ProbeResult r = ProbeInboxEntry(tmp.path(), "b", LimitsConfig{});
  CHECK_FALSE(r.observation.complete);
  CHECK(r.observation.why_not == "waiting for model.pt");
  CHECK_FALSE(r.observation.manifest_unparsable);
  test::WriteFile(tmp / "b/bundle.toml", "format = = 1\n");
  r = ProbeInboxEntry(tmp.path(), "b", LimitsConfig{});
  CHECK_FALSE(r.observation.complete);
  CHECK(r.observation.manifest_unparsable);
  CHECK(r.observation.why_not.find("bundle.toml:1:") != std::string::npos);
}
