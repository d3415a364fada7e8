// Signals and the service protocol on the real agent: SIGHUP with a good and a bad config,
// SIGTERM when idle and during a check, READY=1 / STATUS= / WATCHDOG=1 on NOTIFY_SOCKET.
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/support/agent_process.h"

using namespace bg::test;
namespace fs = std::filesystem;

namespace {

BundleSpec Spec(const std::string& version) {
  BundleSpec s;
  s.name = "sig";
  s.version = version;
  return s;
}

auto Event(const std::string& event) {
  return [event](const json& r) { return r.value("event", "") == event; };
}

// A plugin that takes its time: `sleep_s` seconds, then passes.
void WriteSlowPlugin(const AgentRoot& root, int sleep_s) {
  const std::string path = root.tmp() / "plugins/bundlegate-check-slow";
  WriteFile(path,
            "#!/bin/sh\n"
            "if [ \"$1\" = --describe ]; then\n"
            "  echo '{\"protocol\": 1, \"kind\": \"slow\", \"version\": \"1\", \"runtime\": {}}'\n"
            "  exit 0\n"
            "fi\n"
            "cat >/dev/null\n"
            "sleep " + std::to_string(sleep_s) + "\n"
            "echo '{\"protocol\": 1, \"status\": \"pass\", \"summary\": \"slow but fine\"}'\n");
  // 0755: as root the agent runs plugins as sandbox.plugin_user, who must be able to run it.
  fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
}

}  // namespace

TEST_CASE("READY=1 after the startup rescan and WATCHDOG=1 pings from the loop") {
  AgentRoot root;
  AgentProcess agent(root, {{"WATCHDOG_USEC", "200000"}});
  REQUIRE(agent.WaitReady());
  CHECK(agent.notify().WaitFor("WATCHDOG=1", std::chrono::seconds(5)));
  root.Drop("s1", Spec("1.0.0"));
  REQUIRE(WaitForAudit(root.audit_log(), DecisionFor("s1")).size() == 1);
  CHECK(agent.notify().WaitFor("STATUS=0 settling, 0 ready, 0 in flight; 1 promoted, 0 rejected",
                               std::chrono::seconds(5)));
  agent.Signal(SIGTERM);
  CHECK(agent.WaitExit() == 0);
  CHECK(agent.notify().WaitFor("STOPPING=1", std::chrono::seconds(1)));
}

TEST_CASE("SIGTERM when idle stops cleanly with a stopped record") {
  AgentRoot root;
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  agent.Signal(SIGTERM);
  REQUIRE(agent.WaitExit() == 0);
  const auto records = ReadAudit(root.audit_log());
  REQUIRE(records.size() == 2);
  CHECK(records[0]["event"] == "started");
  CHECK(records[1]["event"] == "stopped");
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("SIGHUP with a good config applies it, with a bad one keeps the old") {
  AgentRoot root;
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());

  root.WriteConfig("", "[serving]\nkeep_versions = 3\n");
  agent.Signal(SIGHUP);
  auto reloaded = WaitForAudit(root.audit_log(), Event("config-reloaded"));
  REQUIRE(reloaded.size() == 1);
  CHECK(reloaded[0]["ok"] == true);

  WriteFile(root.config(), "[watch]\nsettle_ms = \"soon\"\n");
  agent.Signal(SIGHUP);
  reloaded = WaitForAudit(root.audit_log(), Event("config-reloaded"), 2);
  REQUIRE(reloaded.size() == 2);
  CHECK(reloaded[1]["ok"] == false);
  CHECK_THAT(reloaded[1]["error"].get<std::string>(), Catch::Contains("watch.settle_ms"));
  CHECK_THAT(agent.Log(), Catch::Contains("config reload refused"));

  // Still working, on the last good config.
  root.Drop("after-reload", Spec("2.0.0"));
  const auto d = WaitForAudit(root.audit_log(), DecisionFor("after-reload"));
  REQUIRE(d.size() == 1);
  CHECK(d[0]["event"] == "promoted");

  // A reload that changes the root is refused too: it needs a restart.
  WriteFile(root.config(), "require_parity = false\n[paths]\nroot = \"elsewhere\"\n");
  agent.Signal(SIGHUP);
  reloaded = WaitForAudit(root.audit_log(), Event("config-reloaded"), 3);
  REQUIRE(reloaded.size() == 3);
  CHECK(reloaded[2]["ok"] == false);
  CHECK_THAT(reloaded[2]["error"].get<std::string>(), Catch::Contains("[paths] changed"));
}

TEST_CASE("SIGTERM during a check returns the bundle to the inbox within the timeout") {
  AgentRoot root;
  WriteSlowPlugin(root, 60);
  root.WriteConfig("shutdown_timeout_s = 1\nplugin_dirs = [\"plugins\"]\n",
                   "[[checks]]\nkind = \"slow\"\ntimeout_s = 120\n");
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  root.Drop("in-check", Spec("3.0.0"));
  // Wait until it is claimed and its check is running.
  REQUIRE(WaitUntil([&] { return Locate(root, "in-check", "3.0.0") == std::vector<std::string>{"work"}; }));
  REQUIRE(WaitUntil([&] { return fs::exists(root.work()) && !fs::is_empty(root.work()); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  agent.Signal(SIGTERM);
  REQUIRE(agent.WaitExit(std::chrono::seconds(20)) == 0);
  INFO("agent log:\n" << agent.Log());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(15));
  CHECK(Locate(root, "in-check", "3.0.0") == std::vector<std::string>{"inbox"});
  CHECK(fs::is_empty(root.work()));
  CHECK(WaitForAudit(root.audit_log(), DecisionFor("in-check"), 1, std::chrono::milliseconds(100)).empty());
  CHECK(WaitForAudit(root.audit_log(), Event("stopped")).size() == 1);
  CHECK(VerifyAudit(root) == 0);

  // The next agent checks it again, from the start.
  root.WriteConfig("plugin_dirs = [\"plugins\"]\n", "[[checks]]\nkind = \"slow\"\n");
  WriteSlowPlugin(root, 0);
  AgentProcess again(root);
  REQUIRE(again.WaitReady());
  const auto d = WaitForAudit(root.audit_log(), DecisionFor("in-check"));
  REQUIRE(d.size() == 1);
  CHECK(d[0]["event"] == "promoted");
}
