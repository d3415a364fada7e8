// Many bundles at once, and more events than inotify can queue: all decided, none lost.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/support/agent_process.h"

using namespace bg::test;
namespace fs = std::filesystem;

TEST_CASE("200 bundles dropped at once are all decided and none is lost") {
  AgentRoot root("workers = 2\n", "[serving]\nkeep_versions = 0\n");
  // Written before the agent starts watching: the drops are then 200 renames in a burst.
  std::vector<std::string> staged;
  for (int i = 0; i < 200; ++i) {
    BundleSpec spec;
    spec.name = "m" + std::to_string(i % 7);
    spec.version = "1." + std::to_string(i);
    spec.files["model.pt"] = "weights " + std::to_string(i);
    const std::string staging = root.inbox() + "/.b" + std::to_string(i) + ".tmp";
    WriteBundle(staging, spec);
    if (i % 10 == 0) AppendFile(staging + "/model.pt", "tampered");  // 20 bad ones
    staged.push_back(staging);
  }
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  for (int i = 0; i < 200; ++i) fs::rename(staged[i], root.inbox() + "/b" + std::to_string(i));

  const auto decided = WaitForAudit(root.audit_log(), [](const json& r) {
    const std::string e = r.value("event", "");
    return e == "promoted" || e == "rejected";
  }, 200, std::chrono::seconds(240));
  INFO("agent log tail:\n" << agent.Log().substr(agent.Log().size() > 4000 ? agent.Log().size() - 4000 : 0));
  REQUIRE(decided.size() == 200);
  REQUIRE(WaitForIdle(root));
  int promoted = 0, rejected = 0;
  for (const auto& d : decided) (d["event"] == "promoted" ? promoted : rejected)++;
  CHECK(promoted == 180);
  CHECK(rejected == 20);
  for (int i = 0; i < 200; ++i) {
    const auto where = Locate(root, "b" + std::to_string(i), "1." + std::to_string(i));
    INFO("b" << i);
    CHECK(where == std::vector<std::string>{i % 10 == 0 ? "quarantine" : "serving"});
  }
  CHECK(ServingProblems(root).empty());
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("a flood of events past the inotify queue is recovered by rescanning") {
  AgentRoot root;
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  // Freeze the agent so that its inotify queue (16384 events by default) overflows for sure,
  // drop real bundles in the middle of the storm, then let it run again: the events of those
  // bundles are lost in the overflow, and only the rescan it triggers can find them.
  agent.Signal(SIGSTOP);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 4000; ++i) {
      const std::string f = root.inbox() + "/.n" + std::to_string(i);
      WriteFile(f, "");
      fs::remove(f);
    }
    BundleSpec spec;
    spec.name = "flood";
    spec.version = "1." + std::to_string(round);
    root.Drop("f" + std::to_string(round), spec);
  }
  agent.Signal(SIGCONT);
  for (int round = 0; round < 3; ++round) {
    const auto d = WaitForAudit(root.audit_log(), DecisionFor("f" + std::to_string(round)), 1,
                                std::chrono::seconds(90));
    INFO("round " << round);
    REQUIRE(d.size() == 1);
    CHECK(d[0]["event"] == "promoted");
  }
  CHECK_THAT(agent.Log(), Catch::Contains("inotify queue overflowed"));
  CHECK(VerifyAudit(root) == 0);
}
