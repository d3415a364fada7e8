// Plugin checks end to end inside the library: discovery, --describe, the request, the result
// protocol and every failure mode, with real plugin processes (bash and python3 scripts written
// at test time) run through the check pipeline.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <catch2/catch.hpp>
#include <cerrno>
#include <fstream>
#include <thread>

#include "tests/support/loopback_listener.h"
#include "agent/checks/check_registry.h"
#include "agent/config/config.h"
#include "agent/plugin/describe.h"
#include "agent/plugin/describe_cache.h"
#include "agent/plugin/discovery.h"
#include "agent/plugin/plugin_result.h"
#include "agent/plugin/runtime_version.h"
#include "tests/support/bundle_writer.h"
#include "tests/support/temp_dir.h"

using namespace bg;
using namespace bg::test;

namespace {

Json Describe(const std::string& kind) {
  return {{"protocol", 1}, {"kind", kind}, {"version", "1.2.3"}, {"runtime", {{"python", "3"}}}};
}

class PluginFixture {
 public:
  PluginFixture() { bundle_ = WriteBundle(tmp_ / "bundle"); }

  // bundlegate-check-<kind>: answers --describe with `describe`, else runs `body` (python3,
  // with `request` parsed from stdin).
  void Python(const std::string& kind, const std::string& body, const Json& describe = {}) {
    const Json d = describe.is_null() ? Describe(kind) : describe;
    Write(kind, "#!/usr/bin/python3\nimport json, os, sys\nif sys.argv[1:] == ['--describe']:\n"
                "    print(r'''" + DumpJson(d) + "''')\n    sys.exit(0)\n"
                "request = json.load(sys.stdin)\n" + body + "\n");
  }

  // The same in bash; `body` does not read stdin unless it wants to.
  void Bash(const std::string& kind, const std::string& body, const std::string& describe = "") {
    const std::string d = describe.empty() ? DumpJson(Describe(kind)) : describe;
    Write(kind, "#!/bin/bash\nif [ \"$1\" = --describe ]; then echo '" + d +
                    "'; exit 0; fi\n" + body + "\n");
  }

  // A config with plugin_dirs = [plugins/] and `checks` (TOML) appended.
  Result<Config> MakeConfig(const std::string& checks) const {
    const std::string text = "require_parity = false\nplugin_dirs = [\"" + plugins() +
                             "\"]\n[paths]\nroot = \"" + (tmp_ / "var") + "\"\n" + checks;
    return ParseConfig(text, tmp_ / "bg.toml", tmp_.path());
  }

  Result<std::shared_ptr<const CheckPipeline>> Build(const std::string& checks) const {
    BG_ASSIGN_OR_RETURN(Config config, MakeConfig(checks));
    return BuildPipeline(config);
  }

  // Runs the pipeline on the bundle; returns the result of the check of `kind`.
  CheckResult Run(const std::string& kind, const std::string& options = "") const {
    auto pipeline = Build("[[checks]]\nkind = \"" + kind + "\"\n" + options);
    INFO(pipeline.status().ToString());
    REQUIRE(pipeline.ok());
    const BundleReport report = (*pipeline)->Run(bundle_);
    for (const auto& r : report.results) {
      if (r.check == kind) return r;
    }
    FAIL("no result for " << kind << ": " << DumpJson(report.ToJson()));
    return {};
  }

  std::string plugins() const { return tmp_ / "plugins"; }
  const std::string& bundle() const { return bundle_; }
  const TempDir& tmp() const { return tmp_; }

 private:
  void Write(const std::string& kind, const std::string& script) {
    const std::string path = plugins() + "/bundlegate-check-" + kind;
    WriteFile(path, script);
    REQUIRE(::chmod(path.c_str(), 0755) == 0);
  }

  TempDir tmp_;
  std::string bundle_;
};

std::string Pass(const std::string& summary = "ok") {
  return "print(json.dumps({'protocol': 1, 'status': 'pass', 'summary': '" + summary + "'}))";
}

// Dead, or a zombie awaiting init. A SIGKILLed process closes its fds (the run's end) before it
// becomes a zombie: allow it (generous) time to finish dying.
bool IsGone(pid_t pid) {
  for (int i = 0; i < 1000; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string field, comm, state;
    stat >> field >> comm >> state;
    if (state.empty() || state == "Z" || state == "X") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

int OpenFdCount() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  REQUIRE(d != nullptr);
  while (::readdir(d) != nullptr) ++n;
  ::closedir(d);
  return n;
}

}  // namespace

TEST_CASE("plugin kinds and directories") {
  CHECK(IsValidPluginKind("torchscript"));
  CHECK(IsValidPluginKind("onnx-v2_fast"));
  CHECK_FALSE(IsValidPluginKind(""));
  CHECK_FALSE(IsValidPluginKind("-x"));
  CHECK_FALSE(IsValidPluginKind("Torch"));
  CHECK_FALSE(IsValidPluginKind("../x"));
  const auto dirs = DefaultPluginDirs();
  REQUIRE(dirs.size() >= 3);
  char exe[4096] = {};
  REQUIRE(::readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
  CHECK(dirs[0] + "/" == std::string(exe).substr(0, dirs[0].size() + 1));
  CHECK(dirs.back() == "/usr/lib/bundlegate/plugins");
}

TEST_CASE("FindPlugin takes the first directory and names every directory searched") {
  TempDir tmp;
  WriteFile(tmp / "a/bundlegate-check-x", "#!/bin/sh\n");
  WriteFile(tmp / "b/bundlegate-check-x", "#!/bin/sh\n");
  ::chmod((tmp / "b/bundlegate-check-x").c_str(), 0755);
  auto found = FindPlugin("x", {tmp / "a", tmp / "b"});
  REQUIRE(found.ok());
  CHECK(*found == tmp / "b/bundlegate-check-x");
  ::chmod((tmp / "a/bundlegate-check-x").c_str(), 0755);
  CHECK(*FindPlugin("x", {tmp / "a", tmp / "b"}) == tmp / "a/bundlegate-check-x");
  const auto missing = FindPlugin("nope", {tmp / "a", tmp / "b"});
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(), Catch::Contains("\"nope\""));
  CHECK_THAT(missing.status().message(), Catch::Contains(tmp / "a, " + tmp / "b"));
  const auto listed = ListPlugins({tmp / "a", tmp / "b", tmp / "absent"});
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].kind == "x");
  CHECK_FALSE(listed[0].shadowed);
  CHECK(listed[1].shadowed);
}

TEST_CASE("describe output is validated") {
  const auto ok = ParseDescription(
      R"({"protocol":1,"kind":"k","version":"2","runtime":{"libtorch":"1.13.0"},"model_formats":["torchscript"]})",
      "k");
  REQUIRE(ok.ok());
  CHECK(ok->runtime["libtorch"] == "1.13.0");
  CHECK(ok->HandlesFormat("torchscript"));
  CHECK_FALSE(ok->HandlesFormat("onnx"));
  CHECK(ParseDescription(R"({"protocol":1,"kind":"k","version":"2"})", "k")->HandlesFormat("x"));
  CHECK(ParseDescription(R"({"protocol":1,"kind":"k","version":"2","runtime":{"model_formats":["a"]}})",
                         "k")->model_formats == std::vector<std::string>{"a"});
  for (const char* bad : {"", "junk", "[]", R"({"protocol":2,"kind":"k","version":"1"})",
                          R"({"protocol":1,"kind":"other","version":"1"})",
                          R"({"protocol":1,"kind":"k"})",
                          R"({"protocol":1,"kind":"k","version":"1","runtime":3})",
                          R"({"protocol":1,"kind":"k","version":"1","model_formats":"x"})"}) {
    INFO(bad);
    CHECK_FALSE(ParseDescription(bad, "k").ok());
  }
}

TEST_CASE("plugin results are validated strictly") {
  const auto pass = ParsePluginReport(R"({"protocol":1,"status":"pass","summary":"fine",
      "details":{"a":1},"metrics":{"mae":0.5}} )");
  REQUIRE(pass.ok());
  CHECK(pass->verdict == Verdict::kPass);
  CHECK(pass->metrics["mae"] == 0.5);
  const auto own = ParsePluginReport(
      R"({"protocol":1,"status":"fail","reason":"my-own-code","summary":"x","extra":1})");
  REQUIRE(own.ok());
  CHECK(own->reason == "my-own-code");
  REQUIRE(own->notes.size() == 2);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "nothing printed"},
      {"{\"protocol\":1", "not one JSON object"},
      {R"({"protocol":1,"status":"pass","summary":"a"} {"x":1})", "not one JSON object"},
      {R"([1])", "not a JSON object"},
      {R"({"status":"pass","summary":"a"})", "\"protocol\" must be 1"},
      {R"({"protocol":"1","status":"pass","summary":"a"})", "\"protocol\" must be 1"},
      {R"({"protocol":1,"status":"ok","summary":"a"})", "\"status\" must be"},
      {R"({"protocol":1,"status":"fail","summary":"a"})", "\"reason\" is required"},
      {R"({"protocol":1,"status":"fail","reason":"Bad Code","summary":"a"})", "[a-z0-9-]+"},
      {R"({"protocol":1,"status":"pass","reason":"parity-mismatch","summary":"a"})",
       "given with status \"pass\""},
      {R"({"protocol":1,"status":"pass"})", "\"summary\" must be a string"},
      {R"({"protocol":1,"status":"pass","summary":"a","details":[]})", "\"details\" must be"},
      {R"({"protocol":1,"status":"pass","summary":"a","metrics":{"m":"1"}})",
       "metric \"m\" must be a number"},
      {R"({"protocol":1,"status":"pass","summary":"a","metrics":{"m":true}})",
       "metric \"m\" must be a number"},
  };
  for (const auto& [text, why] : bad) {
    INFO(text);
    const auto r = ParsePluginReport(text);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains(why));
  }
}

TEST_CASE("a passing plugin gets the request and its result is the check's") {
  PluginFixture f;
  f.Python("probe", R"(
print(json.dumps({'protocol': 1, 'status': 'pass', 'summary': 'all good',
  'details': {'request': request, 'cwd': os.getcwd()},
  'metrics': {'max_abs_diff': 1e-7, 'cases': 3}}))
)");
  const CheckResult r = f.Run("probe", "timeout_s = 60\nthreshold = 0.5\nmode = \"strict\"\n");
  INFO(DumpJson(r.ToJson()));
  CHECK(r.verdict == Verdict::kPass);
  CHECK(r.summary == "all good");
  const Json& request = r.details["request"];
  CHECK(request["protocol"] == 1);
  CHECK(request["bundle_dir"] == f.bundle());
  CHECK(request["manifest"]["name"] == "test-model");
  CHECK(request["config"].size() == 2);  // the runner's own options are not passed on
  CHECK(request["config"]["threshold"] == 0.5);
  CHECK(request["config"]["mode"] == "strict");
  CHECK(r.details["cwd"] == f.bundle());
  CHECK(r.metrics["cases"] == 3);
  CHECK(r.metrics.contains("wall_ms"));
  CHECK(r.metrics.contains("max_rss_mib"));
  const Json& runner = r.details["runner"];
  CHECK(runner["plugin"] == f.plugins() + "/bundlegate-check-probe");
  CHECK(runner["version"] == "1.2.3");
  CHECK(runner["exit_status"] == 0);
  CHECK(runner["limits"]["timeout_s"] == 60);
  CHECK(runner.contains("stderr_tail"));
  CHECK(runner["isolation"].contains("network_namespace"));
}

TEST_CASE("a failing plugin's reason and summary are the check's") {
  PluginFixture f;
  f.Bash("probe", R"(echo 'comparing outputs' >&2
echo '{"protocol":1,"status":"fail","reason":"parity-mismatch","summary":"logits differ","details":{"worst":"c1.0"}}'
exit 1)");
  const CheckResult r = f.Run("probe");
  CHECK(r.verdict == Verdict::kFail);
  CHECK(r.reason == "parity-mismatch");
  CHECK(r.summary == "logits differ");
  CHECK(r.details["worst"] == "c1.0");
  CHECK(r.details["runner"]["exit_status"] == 1);
  CHECK(r.details["runner"]["stderr_tail"] == "comparing outputs\n");
}

TEST_CASE("a plugin's own error status and unknown reason code pass through with a note") {
  PluginFixture f;
  f.Bash("probe",
         R"(echo '{"protocol":1,"status":"error","reason":"gpu-missing","summary":"no cuda"}')");
  const CheckResult r = f.Run("probe");
  CHECK(r.verdict == Verdict::kError);
  CHECK(r.reason == "gpu-missing");
  CHECK_THAT(DumpJson(r.details["runner"]["notes"]), Catch::Contains("not a SPEC.md code"));
}

TEST_CASE("junk or no output is plugin-error naming what was wrong") {
  PluginFixture f;
  f.Bash("probe", "echo 'Loading model... done'");
  CheckResult r = f.Run("probe");
  CHECK(r.verdict == Verdict::kError);
  CHECK(r.reason == "plugin-error");
  CHECK_THAT(r.summary, Catch::Contains("invalid result: not one JSON object"));

  f.Bash("probe", "exit 0");
  r = f.Run("probe");
  CHECK(r.reason == "plugin-error");
  CHECK_THAT(r.summary, Catch::Contains("printed no result on stdout"));

  f.Bash("probe", "echo 'Traceback: ValueError: bad model' >&2; exit 2");
  r = f.Run("probe");
  CHECK(r.reason == "plugin-error");
  CHECK_THAT(r.summary, Catch::Contains("(exit status 2)"));
  CHECK_THAT(r.summary, Catch::Contains("stderr: Traceback: ValueError: bad model"));

  f.Bash("probe", R"(echo '{"protocol":1,"status":"pass","summary":"fine"}'; exit 3)");
  r = f.Run("probe");
  CHECK(r.reason == "plugin-error");
  CHECK_THAT(r.summary, Catch::Contains("reported pass but exited with status 3"));

  f.Bash("probe", R"(echo '{"protocol":1,"status":"fail","summary":"no reason"}')");
  r = f.Run("probe");
  CHECK(r.reason == "plugin-error");
  CHECK_THAT(r.summary, Catch::Contains("\"reason\" is required"));
}

TEST_CASE("a plugin that kills itself is plugin-crashed naming the signal") {
  PluginFixture f;
  f.Bash("probe", "echo 'about to crash' >&2; kill -SEGV $$");
  CheckResult r = f.Run("probe");
  CHECK(r.verdict == Verdict::kError);
  CHECK(r.reason == "plugin-crashed");
  CHECK_THAT(r.summary, Catch::Contains("SIGSEGV"));
  CHECK_THAT(r.summary, Catch::Contains("about to crash"));
  CHECK(r.details["runner"]["signal"] == "SIGSEGV");

  f.Python("probe", "os.abort()");
  r = f.Run("probe");
  CHECK(r.reason == "plugin-crashed");
  CHECK_THAT(r.summary, Catch::Contains("SIGABRT"));
}

TEST_CASE("a hanging plugin is plugin-timeout and dies with its grandchildren") {
  PluginFixture f;
  const std::string pids = f.tmp() / "pids";
  f.Bash("probe", "sleep 1000 & echo $! > " + pids + ".grandchild\necho $$ > " + pids +
                      ".child\nwait");
  const CheckResult r = f.Run("probe", "timeout_s = 1\n");
  CHECK(r.verdict == Verdict::kError);
  CHECK(r.reason == "plugin-timeout");
  CHECK_THAT(r.summary, Catch::Contains("timeout_s = 1"));
  for (const char* which : {".child", ".grandchild"}) {
    const pid_t pid = std::stoi(ReadFile(pids + which));
    INFO(which << " " << pid);
    CHECK(IsGone(pid));
  }
}

TEST_CASE("a plugin flooding stdout is killed at max_output_kb") {
  PluginFixture f;
  f.Python("probe", "while True: sys.stdout.write('x' * 65536)");
  const CheckResult r = f.Run("probe", "max_output_kb = 256\ntimeout_s = 600\n");
  CHECK(r.reason == "plugin-error");
  CHECK_THAT(r.summary, Catch::Contains("more than max_output_kb = 256 KiB"));
  CHECK(r.details["runner"]["stdout_overflow"] == true);
}

TEST_CASE("a plugin spinning past cpu_s is plugin-timeout") {
  PluginFixture f;
  f.Python("probe", "while True: pass");
  const CheckResult r = f.Run("probe", "cpu_s = 1\ntimeout_s = 600\n");
  CHECK(r.reason == "plugin-timeout");
  CHECK_THAT(r.summary, Catch::Contains("cpu_s = 1"));
}

TEST_CASE("a plugin allocating beyond memory_mb fails the bundle") {
  PluginFixture f;
  f.Python("probe", "data = bytearray(2 << 30)\n" + Pass());
  const CheckResult r = f.Run("probe", "memory_mb = 256\n");
  INFO(DumpJson(r.ToJson()));
  CHECK(r.blocks_promotion());
  CHECK((r.reason == "plugin-error" || r.reason == "plugin-crashed"));
  CHECK_THAT(r.summary, Catch::Contains("memory_mb = 256"));
}

TEST_CASE("a plugin cannot reach a loopback listener of the agent") {
  PluginFixture f;
  const LoopbackListener listener;
  f.Python("probe", R"(
import socket
s = socket.socket(); s.settimeout(5)
try:
    s.connect(('127.0.0.1', )" + std::to_string(listener.port()) + R"())
    print(json.dumps({'protocol': 1, 'status': 'fail', 'reason': 'network-reachable', 'summary': 'connected'}))
except OSError as e:
    print(json.dumps({'protocol': 1, 'status': 'pass', 'summary': str(e)}))
)");
  const CheckResult r = f.Run("probe");
  INFO(DumpJson(r.ToJson()));
  if (r.details["runner"]["isolation"]["network_namespace"] == true) {
    CHECK(r.verdict == Verdict::kPass);
  } else {
    WARN("no network namespace here: " << DumpJson(r.details["runner"]["isolation"]));
    CHECK(r.reason == "network-reachable");
  }
}

TEST_CASE("a plugin cannot write into the bundle where a read-only mount is possible") {
  PluginFixture f;
  f.Python("probe", R"(
problems = []
for path, mode in [('model.pt', 'ab'), ('evil.txt', 'w')]:
    try:
        with open(os.path.join(request['bundle_dir'], path), mode) as out: out.write(b'x' if 'b' in mode else 'x')
        problems.append(path)
    except OSError as e:
        pass
status = 'fail' if problems else 'pass'
print(json.dumps({'protocol': 1, 'status': status, 'reason': 'bundle-writable' if problems else '',
                  'summary': 'wrote ' + ', '.join(problems) if problems else 'read-only'}))
)");
  const std::string model_before = ReadFile(f.bundle() + "/model.pt");
  const CheckResult r = f.Run("probe");
  INFO(DumpJson(r.ToJson()));
  if (r.details["runner"]["isolation"]["read_only_mount"] == true) {
    CHECK(r.verdict == Verdict::kPass);
    CHECK(ReadFile(f.bundle() + "/model.pt") == model_before);
    struct stat st {};
    CHECK(::stat((f.bundle() + "/evil.txt").c_str(), &st) != 0);
  } else {
    WARN("no read-only mount here: " << DumpJson(r.details["runner"]["isolation"]));
  }
}

TEST_CASE("a plugin that does not handle the bundle's model format skips it") {
  PluginFixture f;
  f.Python("onnx", Pass(),
           {{"protocol", 1}, {"kind", "onnx"}, {"version", "1"}, {"model_formats", {"onnx"}}});
  const CheckResult r = f.Run("onnx");
  CHECK(r.verdict == Verdict::kSkip);
  CHECK(r.summary == "does not handle model format \"torchscript\"");
}

TEST_CASE("a cuda bundle runs without the address-space limit and says so") {
  PluginFixture f;
  BundleSpec spec;
  spec.extra_toml = "[inference]\ndevice = \"cuda\"\nthreads = 1\nmax_batch = 8\n";
  WriteBundle(f.bundle() + "-cuda", spec);
  f.Python("probe", "import resource\nprint(json.dumps({'protocol': 1, 'status': 'pass', "
                    "'summary': str(resource.getrlimit(resource.RLIMIT_AS)[0])}))");
  auto pipeline = f.Build("[[checks]]\nkind = \"probe\"\n");
  REQUIRE(pipeline.ok());
  const BundleReport report = (*pipeline)->Run(f.bundle() + "-cuda");
  const CheckResult& r = report.results.back();
  INFO(DumpJson(r.ToJson()));
  CHECK(r.summary == "-1");  // RLIM_INFINITY
  CHECK_THAT(DumpJson(r.details["runner"]["notes"]), Catch::Contains("memory_mb not applied"));
}

TEST_CASE("configuration errors name the kind the directories and the line") {
  PluginFixture f;
  auto missing = f.Build("[[checks]]\nkind = \"absent\"\ntimeout_s = 5\n");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(), Catch::Contains("bg.toml:6: checks[0].kind"));
  CHECK_THAT(missing.status().message(), Catch::Contains("bundlegate-check-absent"));
  CHECK_THAT(missing.status().message(), Catch::Contains(f.plugins()));
  CHECK_THAT(missing.status().message(), !Catch::Contains("unknown key"));

  f.Bash("junk", "exit 0", "this is not json");
  auto junk = f.Build("[[checks]]\nkind = \"junk\"\n");
  REQUIRE_FALSE(junk.ok());
  CHECK_THAT(junk.status().message(), Catch::Contains("bundlegate-check-junk --describe"));

  f.Bash("liar", "exit 0", R"({"protocol":1,"kind":"other","version":"1"})");
  auto liar = f.Build("[[checks]]\nkind = \"liar\"\n");
  REQUIRE_FALSE(liar.ok());
  CHECK_THAT(liar.status().message(), Catch::Contains("says it is kind \"other\""));

  f.Bash("probe", "exit 0");
  auto typed = f.Build("[[checks]]\nkind = \"probe\"\ntimeout_s = \"soon\"\n");
  REQUIRE_FALSE(typed.ok());
  CHECK_THAT(typed.status().message(), Catch::Contains("checks[0].timeout_s"));

  f.Bash("crashy", "exit 0", "x' ; kill -SEGV $$ ; echo '");
  auto crashy = f.Build("[[checks]]\nkind = \"crashy\"\n");
  REQUIRE_FALSE(crashy.ok());
  CHECK_THAT(crashy.status().message(), Catch::Contains("SIGSEGV"));
}

TEST_CASE("many concurrent plugin runs leave no zombies and no leaked fds") {
  PluginFixture f;
  f.Python("probe", R"(
if os.path.basename(request['bundle_dir']).endswith('3'): os.kill(os.getpid(), 11)
)" + Pass());
  auto pipeline = f.Build("[[checks]]\nkind = \"probe\"\n");
  REQUIRE(pipeline.ok());
  std::vector<std::string> bundles;
  for (int i = 0; i < 12; ++i) bundles.push_back(WriteBundle(f.tmp() / ("b" + std::to_string(i))));
  const int fds_before = OpenFdCount();
  std::vector<BundleReport> reports;
  {
    boost::asio::io_context loop;
    boost::asio::thread_pool pool(2);
    for (const auto& b : bundles) {
      (*pipeline)->RunAsync(b, std::nullopt, CheckEnv{&loop, &pool}, nullptr,
                            [&reports](BundleReport r) { reports.push_back(std::move(r)); });
    }
    loop.run();
    pool.join();
  }
  REQUIRE(reports.size() == bundles.size());
  int passed = 0, crashed = 0;
  for (const auto& r : reports) {
    passed += r.passed;
    crashed += r.reason == "plugin-crashed";
  }
  CHECK(passed == 11);
  CHECK(crashed == 1);  // b3
  CHECK(OpenFdCount() == fds_before);
  CHECK((::waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD));
}

TEST_CASE("the runtime's LibTorch version comes from the torchscript plugin with auto") {
  PluginFixture f;
  const auto resolve = [&](const std::string& configured) {
    DescribeCache describes("");
    return ResolveTorchVersion(configured, {f.plugins()}, "1.0.0", describes);
  };
  CHECK(resolve("auto") == "1.0.0");  // no plugin yet
  f.Bash("torchscript", "exit 0",
         R"({"protocol":1,"kind":"torchscript","version":"0.1","runtime":{"libtorch":"9.9.9"},"model_formats":["torchscript"]})");
  CHECK(resolve("auto") == "9.9.9");
  CHECK(resolve("2.5.1") == "2.5.1");
  f.Bash("torchscript", "exit 0", "not json");
  CHECK(resolve("auto") == "1.0.0");
}
