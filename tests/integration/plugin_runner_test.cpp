// Plugins through the bundlegate binary: `bundlegate check` with a [[checks]] entry naming a
// test plugin (a python3 script written here), for a pass and each failure reason, and
// `bundlegate plugins`.
#include <sys/stat.h>

#include <catch2/catch.hpp>
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
