// `bundlegate reload` against the real agent: the unit's ExecReload. It validates before it
// signals, and its exit status is the agent's own verdict (the config-reloaded audit record).
#include <catch2/catch.hpp>
#include <string>

#include "tests/support/agent_process.h"
#include "tests/support/process.h"

namespace bg::test {
namespace {

std::size_t CountEvents(const AgentRoot& root, const std::string& event) {
  std::size_t n = 0;
  for (const auto& r : ReadAudit(root.audit_log())) n += r.value("event", "") == event;
  return n;
}

ProcessResult Reload(const AgentRoot& root, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"reload", "--config", root.config(), "--timeout-s", "60"};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunBundlegate(args);
}

TEST_CASE("reload: a good config is applied and the command says so") {
  AgentRoot root;
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  root.WriteConfig("", "[serving]\nkeep_versions = 3\n");
  const auto r = Reload(root);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("reloaded"));
  const auto records = ReadAudit(root.audit_log());
  REQUIRE(records.back()["event"] == "config-reloaded");
  CHECK(records.back()["ok"] == true);
}

TEST_CASE("reload: an invalid config fails with its line, and the agent is not signalled") {
  AgentRoot root;
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  WriteFile(root.config(), "require_parity = false\n[watch]\nsettle_ms = \"soon\"\n");
  const auto r = Reload(root);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains(":3") && Catch::Contains("watch.settle_ms") &&
                        Catch::Contains("nothing signalled"));
  CHECK(CountEvents(root, "config-reloaded") == 0);
  CHECK(agent.running());
}

TEST_CASE("reload: a config the agent refuses fails with the agent's reason, the agent runs on") {
  AgentRoot root;
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  // Valid for `config check`, but workers cannot change without a restart.
  root.WriteConfig("workers = 5\n", "");
  const auto r = Reload(root, {"--pid", std::to_string(agent.pid())});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("refused") && Catch::Contains("workers changed"));
  REQUIRE(CountEvents(root, "config-reloaded") == 1);
  CHECK(agent.running());
  // And it still decides bundles.
  root.Drop("after-refusal", BundleSpec{});
  const auto d = WaitForAudit(root.audit_log(), DecisionFor("after-refusal"));
  REQUIRE(d.size() == 1);
  CHECK(d[0]["event"] == "promoted");
}

TEST_CASE("reload: no agent running is an error, not a hang") {
  AgentRoot root;
  const auto r = Reload(root);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("no agent is running"));
}

}  // namespace
}  // namespace bg::test
