// kill -9 at every named step of a bundle's way (BUNDLEGATE_CRASH_AT, see agent/core/env.h),
// then a restart: after each, the bundle is in exactly one place, is decided exactly once,
// serving/ holds only verified bundles and the audit log verifies.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/support/agent_process.h"

using namespace bg::test;
namespace fs = std::filesystem;

namespace {

enum class Kind { kGood, kBad };

void CrashAndRecover(const std::string& crash_at, Kind kind) {
  AgentRoot root;
  BundleSpec spec;
  spec.name = "crashy";
  spec.version = "1.0.0";
  const std::string inbox_name = "victim";
  {
    AgentProcess agent(root, {{"BUNDLEGATE_CRASH_AT", crash_at}});
    REQUIRE(agent.WaitReady());
    const std::string staging = root.inbox() + "/.victim.tmp";
    WriteBundle(staging, spec);
    if (kind == Kind::kBad) AppendFile(staging + "/model.pt", "tampered");
    fs::rename(staging, root.inbox() + "/" + inbox_name);
    const auto code = agent.WaitExit(std::chrono::seconds(30));
    INFO("agent log:\n" << agent.Log());
    REQUIRE(code.has_value());
    REQUIRE(*code == 128 + SIGKILL);
  }
  // Dead agent: the bundle is somewhere, once (work/ allowed while nobody runs).
  const auto after_crash = Locate(root, inbox_name, spec.version);
  INFO("after the crash: " << after_crash.size() << " copies");
  REQUIRE(after_crash.size() == 1);

  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  const auto decisions = WaitForAudit(root.audit_log(), DecisionFor(inbox_name));
  INFO("agent log:\n" << agent.Log());
  REQUIRE(decisions.size() == 1);
  CHECK(decisions[0]["event"] == (kind == Kind::kGood ? "promoted" : "rejected"));
  REQUIRE(WaitForIdle(root));
  const auto where = Locate(root, inbox_name, spec.version);
  CHECK(where == std::vector<std::string>{kind == Kind::kGood ? "serving" : "quarantine"});
  CHECK(ServingProblems(root).empty());
  // Exactly one decision, even when the crash came after it was recorded.
  CHECK(ReadAudit(root.audit_log()).size() >= 3);
  CHECK(WaitForAudit(root.audit_log(), DecisionFor(inbox_name), 2, std::chrono::milliseconds(300)).size() == 1);
  CHECK(VerifyAudit(root) == 0);
  if (kind == Kind::kGood) {
    CHECK(fs::read_symlink(root.serving() + "/crashy/current") == "1.0.0");
  }
  agent.Signal(SIGTERM);
  CHECK(agent.WaitExit() == 0);
  CHECK(fs::is_empty(root.work()));
}

}  // namespace

#define CRASH_CASE(point, kind)                                        \
  TEST_CASE("kill -9 at " point " then restart: nothing lost (" #kind ")") { \
    CrashAndRecover(point, Kind::kind);                                \
  }

CRASH_CASE("claim.after-record", kGood)
CRASH_CASE("claim.after-rename", kGood)
CRASH_CASE("copy.after-snapshot", kGood)
CRASH_CASE("copy.after-record", kGood)
CRASH_CASE("decide.after-record", kGood)
CRASH_CASE("decide.after-record", kBad)
CRASH_CASE("promote.after-rename", kGood)
CRASH_CASE("promote.after-history", kGood)
CRASH_CASE("promote.after-link", kGood)
CRASH_CASE("promote.after-audit", kGood)
CRASH_CASE("quarantine.after-rejected-json", kBad)
CRASH_CASE("quarantine.after-rename", kBad)
CRASH_CASE("quarantine.after-audit", kBad)
CRASH_CASE("cleanup.before-remove", kGood)
CRASH_CASE("cleanup.before-remove", kBad)
// The audit log's own steps, on the decision's record (the 2nd append: "started" is the 1st).
CRASH_CASE("audit.before-write:2", kGood)
CRASH_CASE("audit.after-write:2", kGood)
CRASH_CASE("audit.after-fsync:2", kBad)

TEST_CASE("restart with bundles in every state: all decided and none lost") {
  AgentRoot root;
  BundleSpec spec;
  spec.name = "many";
  auto version = [&](int i) {
    BundleSpec s = spec;
    s.version = "1.0." + std::to_string(i);
    return s;
  };
  {
    // b1 promoted, b2 rejected; then a crash while b3 sits in work/ after its copy.
    AgentProcess agent(root, {{"BUNDLEGATE_CRASH_AT", "copy.after-record:3"}});
    REQUIRE(agent.WaitReady());
    root.Drop("b1", version(1));
    REQUIRE(WaitForAudit(root.audit_log(), DecisionFor("b1")).size() == 1);
    BundleSpec bad = version(2);
    bad.files["model.pt"] = "x";
    const std::string staging = root.inbox() + "/.b2.tmp";
    WriteBundle(staging, bad);
    // Tampered in place (same size: a larger file is kept as received, never copied).
    WriteFile(staging + "/model.pt", "y");
    fs::rename(staging, root.inbox() + "/b2");
    REQUIRE(WaitForAudit(root.audit_log(), DecisionFor("b2")).size() == 1);
    root.Drop("b3", version(3));
    REQUIRE(agent.WaitExit().value_or(0) == 128 + SIGKILL);
  }
  // While it is down: one complete bundle waiting, one still in its producer's staging area.
  root.Drop("b4", version(4));
  WriteBundle(root.inbox() + "/.b5.tmp", version(5));
  CHECK(Locate(root, "b3", "1.0.3") == std::vector<std::string>{"work"});

  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  for (const char* name : {"b3", "b4"}) {
    REQUIRE(WaitForAudit(root.audit_log(), DecisionFor(name)).size() == 1);
  }
  fs::rename(root.inbox() + "/.b5.tmp", root.inbox() + "/b5");
  REQUIRE(WaitForAudit(root.audit_log(), DecisionFor("b5")).size() == 1);
  REQUIRE(WaitForIdle(root));
  for (int i = 1; i <= 5; ++i) {
    const auto where = Locate(root, "b" + std::to_string(i), "1.0." + std::to_string(i));
    INFO("b" << i);
    CHECK(where == std::vector<std::string>{i == 2 ? "quarantine" : "serving"});
  }
  const auto recovered = WaitForAudit(root.audit_log(), [](const json& r) {
    return r.value("event", "") == "recovered";
  });
  CHECK(recovered.size() == 1);
  CHECK(ServingProblems(root).empty());
  CHECK(VerifyAudit(root) == 0);
}
