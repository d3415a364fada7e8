// Plugins through the bundlegate binary: `bundlegate check` with a [[checks]] entry naming a
// test plugin (a python3 script written here), for a pass and each failure reason, and
// `bundlegate plugins`.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <thread>
#include <nlohmann/json.hpp>

#include "tests/support/bundle_writer.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace bg::test;

namespace {

// bundlegate-check-probe: behaves as its config's "mode" says.
constexpr const char* kProbe = R"(#!/usr/bin/python3
import json, os, signal, sys, time
if sys.argv[1:] == ['--describe']:
    print(json.dumps({'protocol': 1, 'kind': 'probe', 'version': '4.5.6',
                      'runtime': {'python': sys.version.split()[0]}, 'model_formats': ['torchscript']}))
    sys.exit(0)
request = json.load(sys.stdin)
mode = request['config']['mode']
def result(status, summary, reason=''):
    print(json.dumps({'protocol': 1, 'status': status, 'reason': reason, 'summary': summary,
                      'metrics': {'files': len(request['manifest']['files'])}}))
if mode == 'pass': result('pass', 'outputs match')
elif mode == 'fail': result('fail', 'logits differ by 0.3', 'parity-mismatch')
elif mode == 'junk': print('hello')
elif mode == 'crash': os.kill(os.getpid(), signal.SIGSEGV)
elif mode == 'hang': time.sleep(1000)
elif mode == 'flood':
    while True: sys.stdout.write('x' * 65536)
)";

class CliFixture {
 public:
  CliFixture() {
    WriteFile(plugin_path(), kProbe);
    REQUIRE(::chmod(plugin_path().c_str(), 0755) == 0);
    bundle_ = WriteBundle(tmp_ / "bundle");
  }

  std::string Config(const std::string& mode) const {
    const std::string path = tmp_ / ("bg-" + mode + ".toml");
    WriteFile(path, "require_parity = false\nplugin_dirs = [\"plugins\"]\n[paths]\nroot = \"var\"\n"
                    "[[checks]]\nkind = \"probe\"\ntimeout_s = 2\nmax_output_kb = 64\n"
                    "mode = \"" + mode + "\"\n");
    return path;
  }

  ProcessResult Check(const std::string& mode) const {
    return RunBundlegate({"check", bundle_, "--config", Config(mode), "--json"});
  }

  std::string plugin_path() const { return tmp_ / "plugins/bundlegate-check-probe"; }
  const TempDir& tmp() const { return tmp_; }

 private:
  TempDir tmp_;
  std::string bundle_;
};

nlohmann::json ProbeResult(const ProcessResult& r) {
  const auto report = nlohmann::json::parse(r.out);
  for (const auto& c : report["checks"]) {
    if (c["check"] == "probe") return c;
  }
  FAIL("no probe result in " << r.out);
  return {};
}

}  // namespace

TEST_CASE("bundlegate check passes a bundle that the plugin passes") {
  CliFixture f;
  const auto r = f.Check("pass");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  const auto probe = ProbeResult(r);
  CHECK(probe["status"] == "pass");
  CHECK(probe["summary"] == "outputs match");
  CHECK(probe["metrics"]["files"] > 0);
  CHECK(probe["details"]["runner"]["version"] == "4.5.6");
  const auto human = RunBundlegate({"check", f.tmp() / "bundle", "--config", f.Config("pass")});
  CHECK(human.exit_code == 0);
  CHECK_THAT(human.out, Catch::Contains("pass  probe"));
}

TEST_CASE("bundlegate check fails the bundle with each plugin failure reason") {
  CliFixture f;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"fail", "parity-mismatch"}, {"junk", "plugin-error"},   {"crash", "plugin-crashed"},
      {"hang", "plugin-timeout"},  {"flood", "plugin-error"},
  };
  for (const auto& [mode, reason] : cases) {
    INFO(mode);
    const auto r = f.Check(mode);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    const auto report = nlohmann::json::parse(r.out);
    CHECK(report["status"] == "fail");
    CHECK(report["reason"] == reason);
    CHECK(ProbeResult(r)["reason"] == reason);
  }
}

TEST_CASE("bundlegate check with an unknown plugin kind is a config error naming the dirs") {
  CliFixture f;
  WriteFile(f.tmp() / "bg.toml", "plugin_dirs = [\"plugins\", \"more\"]\n[paths]\nroot = \"var\"\n"
                                 "[[checks]]\nkind = \"nosuch\"\n");
  const auto r = RunBundlegate({"check", f.tmp() / "bundle", "--config", f.tmp() / "bg.toml"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("bg.toml:5: checks[0].kind"));
  CHECK_THAT(r.err, Catch::Contains("bundlegate-check-nosuch"));
  CHECK_THAT(r.err, Catch::Contains(f.tmp() / "plugins, " + f.tmp() / "more"));
}

TEST_CASE("bundlegate plugins lists plugins with their description") {
  CliFixture f;
  const std::string config = f.Config("pass");
  const auto human = RunBundlegate({"plugins", "--config", config});
  INFO(human.out << human.err);
  CHECK(human.exit_code == 0);
  CHECK_THAT(human.out, Catch::Contains(f.tmp() / "plugins"));
  CHECK_THAT(human.out, Catch::Contains("probe"));
  CHECK_THAT(human.out, Catch::Contains("version 4.5.6"));
  CHECK_THAT(human.out, Catch::Contains("formats torchscript"));

  const auto json = RunBundlegate({"plugins", "--config", config, "--json"});
  REQUIRE(json.exit_code == 0);
  const auto j = nlohmann::json::parse(json.out);
  CHECK(j["plugin_dirs"] == nlohmann::json::array({f.tmp() / "plugins"}));
  REQUIRE(j["plugins"].size() == 1);
  CHECK(j["plugins"][0]["kind"] == "probe");
  CHECK(j["plugins"][0]["describe"]["version"] == "4.5.6");

  WriteFile(f.tmp() / "plugins/bundlegate-check-broken", "#!/bin/sh\necho nonsense\n");
  REQUIRE(::chmod((f.tmp() / "plugins/bundlegate-check-broken").c_str(), 0755) == 0);
  const auto broken = RunBundlegate({"plugins", "--config", config});
  CHECK(broken.exit_code == 2);
  CHECK_THAT(broken.out, Catch::Contains("BROKEN"));
}

namespace {

// bundlegate-check-counted: logs every --describe to `log`, passes every bundle.
std::string CountedPlugin(const std::string& log, const std::string& version) {
  return "#!/bin/sh\nif [ \"$1\" = --describe ]; then echo d >> '" + log +
         "'; echo '{\"protocol\":1,\"kind\":\"counted\",\"version\":\"" + version +
         "\",\"model_formats\":[\"torchscript\"]}'; exit 0; fi\n"
         "cat >/dev/null; echo '{\"protocol\":1,\"status\":\"pass\",\"summary\":\"ok\"}'\n";
}

nlohmann::json CountedResult(const ProcessResult& r) {
  const auto report = nlohmann::json::parse(r.out);
  for (const auto& c : report["checks"]) {
    if (c["check"] == "counted") return c;
  }
  FAIL("no counted result in " << r.out);
  return {};
}

int Lines(const std::string& path) {
  return std::stoi(RunProcess({"sh", "-c", "cat \"$0\" 2>/dev/null | wc -l", path}).out);
}

// Until the plugin's last change is older than the describe cache's settling time (2 s).
void WaitUntilSettled(const std::string& path) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    struct stat st;
    REQUIRE(::stat(path.c_str(), &st) == 0);
    if (std::time(nullptr) - st.st_ctim.tv_sec > 3) return;
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

TEST_CASE("bundlegate check asks --describe once across runs, and never for a bundle it rejects first") {
  TempDir tmp;
  const std::string plugin = tmp / "plugins/bundlegate-check-counted";
  const std::string log = tmp / "described";
  WriteFile(plugin, CountedPlugin(log, "1"));
  REQUIRE(::chmod(plugin.c_str(), 0755) == 0);
  // Unconfined: the plugin counts its --describe runs in a file no sandbox would let it write
  // (the cache is under test here, not the sandbox).
  WriteFile(tmp / "bg.toml", "require_parity = false\nplugin_dirs = [\"plugins\"]\n[paths]\n"
                             "root = \"var\"\n[sandbox]\nlayers = []\n[[checks]]\nkind = \"counted\"\n");
  const std::string good = WriteBundle(tmp / "good");
  const std::string bad = WriteBundle(tmp / "bad");
  AppendFile(bad + "/bundle.toml", "\nthis is not toml\n");
  ProcessOptions options;
  options.env = {{"BUNDLEGATE_CACHE_DIR", tmp / "cache"}};
  const auto check = [&](const std::string& bundle) {
    return RunBundlegate({"check", bundle, "--config", tmp / "bg.toml", "--json"}, options);
  };

  const auto rejected = check(bad);
  INFO(rejected.out << rejected.err);
  CHECK(rejected.exit_code == 1);
  CHECK(Lines(log) == 0);  // manifest-invalid: the plugin was never needed, never asked

  WaitUntilSettled(plugin);
  for (int run = 0; run < 3; ++run) {
    const auto r = check(good);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(CountedResult(r)["details"]["runner"]["version"] == "1");
  }
  CHECK(Lines(log) == 1);  // asked by the first run, remembered by the next two

  WriteFile(plugin, CountedPlugin(log, "2"));  // upgraded in place
  const auto upgraded = check(good);
  INFO(upgraded.out << upgraded.err);
  CHECK(upgraded.exit_code == 0);
  CHECK(Lines(log) == 2);
  CHECK(CountedResult(upgraded)["details"]["runner"]["version"] == "2");

  options.env["BUNDLEGATE_CACHE_DIR"] = "off";
  CHECK(check(good).exit_code == 0);
  CHECK(Lines(log) == 3);
}
