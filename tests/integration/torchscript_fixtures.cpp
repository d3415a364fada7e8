#include "tests/integration/torchscript_fixtures.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "agent/core/sha256.h"
#include "agent/manifest/manifest.h"
#include "tests/support/temp_dir.h"

namespace bg::test {
namespace {

namespace fs = std::filesystem;

std::string GeneratorScript() { return SourceDir() + "/tests/python/make_torch_fixtures.py"; }

std::string FixtureKey() {
  const std::string scripts = ReadFile(GeneratorScript()) +
                              ReadFile(SourceDir() + "/tests/python/hostile_models.py") +
                              ReadFile(SourceDir() + "/scripts/bundlegate_pack.py");
  return Sha256Hex(scripts).substr(0, 16);
}

void Generate(const std::string& dir) {
  const std::string staging = dir + ".tmp";
  fs::remove_all(staging);
  ProcessOptions options;
  options.timeout_s = 600;
  const auto r = RunProcess({SystemPython(), GeneratorScript(), staging}, options);
  INFO("fixture generation failed:\n" << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  WriteFile(staging + "/.complete", "");
  fs::rename(staging, dir);
}

// Makes the fixtures unless this build has them already; serialized across test processes.
std::string EnsureFixtures() {
  const std::string base = BG_TORCH_FIXTURE_DIR;
  fs::create_directories(base);
  const std::string dir = base + "/" + FixtureKey();
  const int lock = ::open((base + "/.lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  REQUIRE(lock >= 0);
  REQUIRE(::flock(lock, LOCK_EX) == 0);
  if (!fs::exists(dir + "/.complete")) {
    for (const auto& old : fs::directory_iterator(base)) {  // fixtures of older scripts
      if (old.is_directory()) fs::remove_all(old.path());
    }
    Generate(dir);
  }
  ::close(lock);
  return dir;
}

}  // namespace

std::string TorchFixture(const std::string& name) {
  static const std::string root = EnsureFixtures();
  const std::string dir = root + "/" + name;
  INFO("fixture " << name);
  REQUIRE(fs::is_directory(dir));
  return dir;
}

namespace {

std::vector<std::vector<std::string>> TabSeparated(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    std::vector<std::string> fields;
    std::size_t f = start;
    while (f <= end) {
      const std::size_t tab = std::min(text.find('\t', f), end);
      fields.push_back(text.substr(f, tab - f));
      f = tab + 1;
    }
    if (end > start) rows.push_back(fields);
    start = end + 1;
  }
  return rows;
}

std::string ListOf(const std::vector<std::string>& argv) {
  const auto r = RunProcess(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> TorchFixtureVerdicts() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& row : TabSeparated(ListOf({SystemPython(), GeneratorScript(), "--list"}))) {
    REQUIRE(row.size() == 2);
    out.emplace_back(row[0], row[1]);
  }
  return out;
}

std::vector<HostileCase> HostileCases() {
  std::vector<HostileCase> out;
  const std::string script = SourceDir() + "/tests/python/hostile_models.py";
  for (const auto& row : TabSeparated(ListOf({SystemPython(), script, "list"}))) {
    REQUIRE(row.size() == 4);
    out.push_back({row[0], row[1], row[2], row[3]});
  }
  return out;
}

std::string PwnedMarker(const std::string& name) {
  return std::string(BG_TORCH_FIXTURE_DIR) + "/pwned/" + name;
}

sdk::Json PluginRequest(const std::string& bundle_dir, const sdk::Json& config) {
  auto manifest = ParseManifest(ReadFile(bundle_dir + "/bundle.toml"));
  INFO(manifest.status().ToString());
  REQUIRE(manifest.ok());
  return {{"protocol", 1},
          {"bundle_dir", bundle_dir},
          {"manifest", manifest->ToJson()},  // bg::Json is sdk::Json
          {"config", config}};
}

PluginRun RunTorchscriptPlugin(const sdk::Json& request, const std::string& shell_limits) {
  ProcessOptions options;
  options.stdin_data = sdk::DumpJson(request);
  // Under the agent's whole sandbox (tests/support/sandbox_exec.cpp), as in production.
  std::vector<std::string> argv = {BG_SANDBOX_EXEC, BG_TORCHSCRIPT_PLUGIN};
  if (!shell_limits.empty())
    argv = {BG_SANDBOX_EXEC, "/bin/sh", "-c", shell_limits + "; exec \"$0\"", BG_TORCHSCRIPT_PLUGIN};
  PluginRun run;
  run.process = RunProcess(argv, options);
  INFO("stdout: " << run.process.out << "\nstderr: " << run.process.err);
  if (run.process.exit_code == 0) {
    REQUIRE(!run.process.out.empty());
    REQUIRE(run.process.out.find('\n') == run.process.out.size() - 1);  // one line, one object
    run.result = sdk::Json::parse(run.process.out);
    REQUIRE(run.result["protocol"] == 1);
  }
  return run;
}

sdk::Json CheckFixture(const std::string& name, const sdk::Json& config) {
  const PluginRun run = RunTorchscriptPlugin(PluginRequest(TorchFixture(name), config));
  INFO("stderr: " << run.process.err);
  REQUIRE(run.process.exit_code == 0);
  return run.result;
}

}  // namespace bg::test
