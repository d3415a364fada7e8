// The agent's warm workers (agent/plugin/warm_worker.h, worker_pool.h) with a real agent, real
// bundles and the SDK test plugin installed as bundlegate-check-sdk-test (its behaviour is
// chosen by the bundle's name: plugins/sdk and tests/unit/sdk_test_plugin.cpp): bundles go
// through one long-lived worker, each in a fresh child; a crash or a hang is that bundle's
// verdict and the worker serves the next; kill -9 of the worker mid-check gives plugin-crashed
// and a new worker; a changed plugin binary is picked up on SIGHUP (and an unchanged one keeps
// its worker); an idle worker is reaped; `warm = false` runs cold.
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/support/agent_process.h"

using namespace bg::test;
namespace fs = std::filesystem;

namespace {

// argv of a process, split at NULs (empty when it is gone).
std::vector<std::string> Argv(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::vector<std::string> argv;
  std::string arg;
  while (std::getline(in, arg, '\0')) argv.push_back(arg);
  return argv;
}

pid_t ParentOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream rest(stat.substr(paren + 2));
  char state;
  pid_t ppid = 0;
  rest >> state >> ppid;
  return ppid;
}

bool IsServe(pid_t pid) {
  const auto argv = Argv(pid);
  return argv.size() == 2 && argv[1] == "--serve" &&
         argv[0].find("bundlegate-check-sdk-test") != std::string::npos;
}

// Warm workers of this test's plugin: --serve processes whose parent is not one (request
// children, and their sandbox's supervisors, are forks of a worker).
std::vector<pid_t> Workers(const std::string& plugin_dir) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(name);
    if (!IsServe(pid) || IsServe(ParentOf(pid))) continue;
    if (Argv(pid)[0].rfind(plugin_dir, 0) == 0) out.push_back(pid);
  }
  return out;
}

// As root, warm workers need the plugin user bundlegate-plugin, a group of its own
// (scripts/bootstrap makes it); without it they are off, and these tests say so.
bool WarmPossible() {
  if (::geteuid() == 0 && ::getpwnam("bundlegate-plugin") == nullptr) {
    WARN("skipped: running as root without the bundlegate-plugin user (scripts/bootstrap)");
    return false;
  }
  return true;
}

// A plugin directory with bundlegate-check-sdk-test in it, readable by the plugin user.
std::string InstallPlugin(const AgentRoot& root) {
  const std::string dir = root.tmp() / "plugins";
  fs::create_directories(dir);
  fs::copy_file(BG_SDK_TEST_PLUGIN, dir + "/bundlegate-check-sdk-test",
                fs::copy_options::overwrite_existing);
  ::chmod(dir.c_str(), 0755);
  ::chmod((dir + "/bundlegate-check-sdk-test").c_str(), 0755);
  ::chmod(root.tmp().path().c_str(), 0755);
  return dir;
}

void Configure(AgentRoot& root, const std::string& plugins, const std::string& check_extra = "") {
  root.WriteConfig("workers = 2\nplugin_dirs = [\"" + plugins + "\"]\n",
                   "[[checks]]\nkind = \"sdk-test\"\ntimeout_s = 20\nmemory_mb = 2048\n" +
                       check_extra);
}

BundleSpec Named(const std::string& name) {
  BundleSpec spec;
  spec.name = name;
  return spec;
}

json Decision(const AgentRoot& root, const std::string& inbox_name) {
  const auto d = WaitForAudit(root.audit_log(), DecisionFor(inbox_name), 1, Millis(120000));
  REQUIRE(d.size() == 1);
  return d[0];
}

// The plugin's check, with its details, from the REJECTED.json of a quarantined bundle (the
// audit log keeps summaries only).
json PluginCheck(const json& decision) {
  INFO(decision.dump());
  REQUIRE(decision["event"] == "rejected");
  std::ifstream in(decision["path"].get<std::string>() + "/REJECTED.json");
  const json rejected = json::parse(in, nullptr, false);
  REQUIRE(rejected.is_object());
  for (const auto& c : rejected["checks"]) {
    if (c["check"] == "sdk-test") return c;
  }
  FAIL("no sdk-test check in " << rejected.dump());
  return json();
}

// The warm worker's pid the check reports (0 for a cold run).
int WorkerPid(const json& check) {
  const json& runner = check["details"]["runner"];
  return runner.contains("warm_worker") ? runner["warm_worker"]["pid"].get<int>() : 0;
}

std::string Notes(const json& check) {
  const json& runner = check["details"]["runner"];
  return runner.contains("notes") ? runner["notes"].dump() : "";
}

// An agent with the test plugin and one warm worker, which has checked a first bundle.
struct WarmAgent {
  AgentRoot root;
  std::string plugins = InstallPlugin(root);
  std::unique_ptr<AgentProcess> agent;
  int first = 0;  // the worker that checked the first bundle

  WarmAgent() {
    Configure(root, plugins, "warm_workers = 1\n");
    agent = std::make_unique<AgentProcess>(root);
    REQUIRE(agent->WaitReady());
    root.Drop("first", Named("reject"));
    first = WorkerPid(PluginCheck(Decision(root, "first")));
    REQUIRE(first > 0);
  }
};

}  // namespace

TEST_CASE("warm worker: bundles go through one worker, each checked in a fresh child") {
  if (!WarmPossible()) return;
  AgentRoot root;
  const std::string plugins = InstallPlugin(root);
  Configure(root, plugins, "warm_workers = 1\n");
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  std::vector<json> checks;
  for (int i = 0; i < 3; ++i) {
    const std::string name = "good-" + std::to_string(i);
    root.Drop(name, Named("reject"));
    checks.push_back(PluginCheck(Decision(root, name)));
  }
  const int worker = WorkerPid(checks[0]);
  INFO(checks[0].dump());
  CHECK(worker > 0);
  for (std::size_t i = 0; i < checks.size(); ++i) {
    CHECK(WorkerPid(checks[i]) == worker);
    CHECK(checks[i]["details"]["runner"]["warm_worker"]["requests"] == static_cast<int>(i) + 1);
  }
  // Fresh children: each a process of its own.
  CHECK(checks[0]["details"]["runner"]["isolation"]["mount"]["applied"] == true);
  CHECK(checks[0]["details"]["runner"]["isolation"]["seccomp"]["applied"] == true);
  CHECK(Workers(plugins).size() == 1);
  root.Drop("good", Named("good"));  // and a passing bundle is promoted
  CHECK(Decision(root, "good")["event"] == "promoted");
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("warm worker: a crash or a hang is that bundle's verdict, and the worker serves the next") {
  if (!WarmPossible()) return;
  AgentRoot root;
  const std::string plugins = InstallPlugin(root);
  root.WriteConfig("workers = 1\nplugin_dirs = [\"" + plugins + "\"]\n",
                   "[[checks]]\nkind = \"sdk-test\"\ntimeout_s = 3\n");
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  root.Drop("first", Named("reject"));
  const int worker = WorkerPid(PluginCheck(Decision(root, "first")));
  REQUIRE(worker > 0);

  root.Drop("crasher", Named("crash"));
  const json crashed = Decision(root, "crasher");
  CHECK(crashed["event"] == "rejected");
  CHECK(crashed["reason"] == "plugin-crashed");
  CHECK(WorkerPid(PluginCheck(crashed)) == worker);

  root.Drop("hanger", Named("hang"));
  const json hung = Decision(root, "hanger");
  CHECK(hung["reason"] == "plugin-timeout");
  CHECK(WorkerPid(PluginCheck(hung)) == worker);

  root.Drop("after", Named("reject"));
  CHECK(WorkerPid(PluginCheck(Decision(root, "after"))) == worker);
  CHECK(::kill(worker, 0) == 0);
}

TEST_CASE("warm worker: kill -9 of the worker mid-check is plugin-crashed, then a new worker") {
  if (!WarmPossible()) return;
  WarmAgent w;
  AgentRoot& root = w.root;
  const std::string& plugins = w.plugins;
  const int first = w.first;

  root.Drop("victim", Named("slow"));
  // The worker is busy once a request child (a --serve process under it) exists. Only this
  // test's plugin (other tests' workers may run at the same time).
  pid_t worker = 0;
  REQUIRE(WaitUntil([&] {
    for (const auto& e : fs::directory_iterator("/proc")) {
      const std::string name = e.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      const pid_t pid = std::stoi(name);
      if (IsServe(pid) && Argv(pid)[0].rfind(plugins, 0) == 0 && IsServe(ParentOf(pid)) &&
          !IsServe(ParentOf(ParentOf(pid)))) {
        worker = ParentOf(pid);
        return true;
      }
    }
    return false;
  }, Millis(60000)));
  REQUIRE(::kill(worker, SIGKILL) == 0);
  const json victim = Decision(root, "victim");
  INFO(victim.dump());
  CHECK(victim["event"] == "rejected");
  CHECK(victim["reason"] == "plugin-crashed");
  CHECK_THAT(Notes(PluginCheck(victim)), Catch::Contains("warm worker failed"));

  root.Drop("next", Named("reject"));
  const int second = WorkerPid(PluginCheck(Decision(root, "next")));
  CHECK(second > 0);
  CHECK(second != first);
  CHECK(w.agent->running());
}

TEST_CASE("warm worker: SIGHUP keeps the worker of an unchanged plugin, replaces a changed one") {
  if (!WarmPossible()) return;
  WarmAgent w;
  AgentRoot& root = w.root;
  AgentProcess& agent = *w.agent;
  const std::string& plugins = w.plugins;
  const int first = w.first;

  auto reload = [&](std::size_t nth) {
    agent.Signal(SIGHUP);
    const auto reloaded = WaitForAudit(
        root.audit_log(), [](const json& r) { return r.value("event", "") == "config-reloaded"; },
        nth, Millis(60000));
    REQUIRE(reloaded.size() == nth);
    CHECK(reloaded.back()["ok"] == true);
  };
  reload(1);
  root.Drop("two", Named("reject"));
  CHECK(WorkerPid(PluginCheck(Decision(root, "two"))) == first);

  // A new binary (a new file where the old one was, as a package upgrade leaves it).
  const std::string binary = plugins + "/bundlegate-check-sdk-test";
  fs::copy_file(BG_SDK_TEST_PLUGIN, binary + ".new");
  std::ofstream(binary + ".new", std::ios::app) << "upgrade";  // other bytes, same program
  ::chmod((binary + ".new").c_str(), 0755);
  fs::rename(binary + ".new", binary);
  reload(2);
  root.Drop("three", Named("reject"));
  const int second = WorkerPid(PluginCheck(Decision(root, "three")));
  CHECK(second > 0);
  CHECK(second != first);
  CHECK(WaitUntil([&] { return ::kill(first, 0) != 0; }, Millis(20000)));  // the old one went
}

TEST_CASE("warm worker: an idle worker is reaped, and warm = false runs cold") {
  if (!WarmPossible()) return;
  AgentRoot root;
  const std::string plugins = InstallPlugin(root);
  Configure(root, plugins, "warm_idle_s = 1\n");
  {
    AgentProcess agent(root);
    REQUIRE(agent.WaitReady());
    root.Drop("one", Named("reject"));
    const int worker = WorkerPid(PluginCheck(Decision(root, "one")));
    REQUIRE(worker > 0);
    CHECK(WaitUntil([&] { return Workers(plugins).empty(); }, Millis(30000)));
    root.Drop("two", Named("reject"));  // a new worker, lazily
    const int again = WorkerPid(PluginCheck(Decision(root, "two")));
    CHECK(again > 0);
    CHECK(again != worker);
  }
  CHECK(WaitUntil([&] { return Workers(plugins).empty(); }, Millis(20000)));  // gone with the agent

  Configure(root, plugins, "warm = false\n");
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  root.Drop("cold", Named("reject"));
  const json cold = PluginCheck(Decision(root, "cold"));
  CHECK(WorkerPid(cold) == 0);
  CHECK(Workers(plugins).empty());
}

// A worker that goes wrong by itself (a stand-in written in Python: it serves, but ends or
// breaks the protocol when it reads a request, as the bundle's name says). Nothing a bundle
// can cause: the bundle is checked cold instead (this plugin's cold run fails it with summary
// "cold"). Killed by a signal, the worker is the runner's plugin-crashed, as a cold run is.
TEST_CASE("warm worker: a worker's own failure runs the bundle cold, a signal is plugin-crashed") {
  if (!WarmPossible()) return;
  AgentRoot root;
  const std::string plugins = root.tmp() / "plugins";
  fs::create_directories(plugins);
  const std::string plugin = plugins + "/bundlegate-check-sdk-test";
  std::ofstream(plugin) << R"(#!/usr/bin/python3
import json, os, signal, sys
if sys.argv[1:] == ["--describe"]:
    print(json.dumps({"protocol": 1, "kind": "sdk-test", "version": "1", "runtime": {}, "serve": True}))
    sys.exit(0)
if sys.argv[1:] == ["--serve"]:
    out = sys.stdout.buffer
    out.write(json.dumps({"serve": 1, "kind": "sdk-test", "pid": os.getpid()}).encode() + b"\n")
    out.flush()
    while True:
        envelope = json.loads(sys.stdin.buffer.readline())
        request = json.loads(sys.stdin.buffer.read(envelope["bytes"]))
        name = request["manifest"]["name"]
        if name == "exits":
            sys.exit(3)
        if name == "garbage":
            out.write(b"this is not an answer\n")
            out.flush()
            signal.pause()
        if name == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
request = json.load(sys.stdin)
print(json.dumps({"protocol": 1, "status": "fail", "reason": "parity-mismatch", "summary": "cold"}))
)";
  ::chmod(plugins.c_str(), 0755);
  ::chmod(plugin.c_str(), 0755);
  ::chmod(root.tmp().path().c_str(), 0755);
  Configure(root, plugins, "warm_workers = 1\n");
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  for (const std::string name : {"exits", "garbage"}) {
    INFO(name);
    root.Drop(name, Named(name));
    const json d = Decision(root, name);
    CHECK(d["reason"] == "parity-mismatch");
    const json check = PluginCheck(d);
    CHECK(check["summary"] == "cold");
    CHECK(WorkerPid(check) == 0);
    CHECK_THAT(Notes(check), Catch::Contains("ran cold"));
  }
  root.Drop("killed", Named("killed"));
  const json killed = Decision(root, "killed");
  CHECK(killed["reason"] == "plugin-crashed");
  CHECK(agent.running());
}
