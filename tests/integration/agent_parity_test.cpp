// The real agent with the real TorchScript plugin: bundles made by Python's torch go through the
// whole gate. Models that crash the plugin, hang it, or eat memory are rejected with the right
// reason, and the agent is unharmed: the next good bundle is promoted.
#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/integration/torchscript_fixtures.h"
#include "tests/support/agent_process.h"

using namespace bg::test;
namespace fs = std::filesystem;

namespace {

// Copies fixture `fixture` into the inbox as `inbox_name` (staged, then renamed).
void DropFixture(const AgentRoot& root, const std::string& fixture, const std::string& inbox_name) {
  const std::string staging = root.inbox() + "/." + inbox_name + ".tmp";
  fs::create_directories(root.inbox());
  fs::copy(TorchFixture(fixture), staging, fs::copy_options::recursive);
  fs::rename(staging, root.inbox() + "/" + inbox_name);
}

json DecisionOf(const AgentRoot& root, const std::string& inbox_name) {
  const auto d = WaitForAudit(root.audit_log(), DecisionFor(inbox_name), 1, std::chrono::seconds(120));
  REQUIRE(d.size() == 1);
  return d[0];
}

std::string TorchscriptSummary(const json& decision) {
  for (const auto& c : decision["checks"]) {
    if (c["check"] == "torchscript") return c.value("summary", "");
  }
  return "";
}

// Limits sized for a loaded machine: the hungry model must reach its memory limit, not the
// timeout, however slowly LibTorch starts; the hanging one gets a test of its own with a short
// timeout, which it reaches whatever the load.
void ConfigureTorchscript(AgentRoot& root, int timeout_s) {
  const std::string plugins = fs::path(BG_TORCHSCRIPT_PLUGIN).parent_path().string();
  root.WriteConfig("require_parity = true\nworkers = 2\nplugin_dirs = [\"" + plugins + "\"]\n",
                   "[serving]\nkeep_versions = 0\n"
                   "[[checks]]\nkind = \"torchscript\"\ntimeout_s = " + std::to_string(timeout_s) +
                       "\nmemory_mb = 1500\n");
}

}  // namespace

TEST_CASE("the agent promotes good models and rejects crashing and hungry ones") {
  AgentRoot root;
  ConfigureTorchscript(root, 120);
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());

  DropFixture(root, "forward-crashes", "crashes");
  DropFixture(root, "forward-allocates", "allocates");
  DropFixture(root, "perturbed-weights", "perturbed");

  const json crashed = DecisionOf(root, "crashes");
  CHECK(crashed["reason"] == "plugin-crashed");
  CHECK_THAT(TorchscriptSummary(crashed), Catch::Contains("SIGFPE"));
  const json hungry = DecisionOf(root, "allocates");
  CHECK(hungry["event"] == "rejected");
  INFO("allocates: " << hungry.dump());
  CHECK((hungry["reason"] == "parity-mismatch" || hungry["reason"] == "plugin-crashed"));
  CHECK(DecisionOf(root, "perturbed")["reason"] == "parity-mismatch");

  // Unharmed: still running, and the next good model is promoted.
  REQUIRE(agent.running());
  DropFixture(root, "tiny", "good");
  const json good = DecisionOf(root, "good");
  CHECK(good["event"] == "promoted");
  CHECK(WaitForIdle(root));
  CHECK(ServingProblems(root).empty());
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("the agent rejects a hanging model at its timeout and stays up") {
  AgentRoot root;
  ConfigureTorchscript(root, 8);
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  DropFixture(root, "forward-hangs", "hangs");
  CHECK(DecisionOf(root, "hangs")["reason"] == "plugin-timeout");
  REQUIRE(agent.running());
  CHECK(WaitForIdle(root));
  CHECK(VerifyAudit(root) == 0);
}
