// Serving on the real agent: rollback (the CLI beside a running agent), retention, on_promote.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/support/agent_process.h"
#include "tests/support/process.h"

using namespace bg::test;
namespace fs = std::filesystem;

namespace {

void Promote(AgentRoot& root, const std::string& version) {
  BundleSpec spec;
  spec.name = "svc";
  spec.version = version;
  spec.files["model.pt"] = "weights of " + version;
  root.Drop("drop-" + version, spec);
  const auto d = WaitForAudit(root.audit_log(), DecisionFor("drop-" + version));
  REQUIRE(d.size() == 1);
  REQUIRE(d[0]["event"] == "promoted");
  REQUIRE(WaitForIdle(root));
}

std::string Current(const AgentRoot& root) {
  return fs::read_symlink(root.serving() + "/svc/current").string();
}

std::vector<std::string> Versions(const AgentRoot& root) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(root.serving() + "/svc")) {
    const std::string n = e.path().filename().string();
    if (n != "current" && n[0] != '.') out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("rollback walks back through what was served, beside a running agent") {
  AgentRoot root;
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  for (const char* v : {"1", "2", "3"}) Promote(root, v);
  REQUIRE(Current(root) == "3");

  auto r = RunBundlegate({"rollback", "svc", "--config", root.config()});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("current 3 -> 2"));
  CHECK(Current(root) == "2");
  r = RunBundlegate({"rollback", "svc", "--config", root.config()});
  REQUIRE(r.exit_code == 0);
  CHECK(Current(root) == "1");
  r = RunBundlegate({"rollback", "svc", "--config", root.config()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("no earlier version"));
  r = RunBundlegate({"rollback", "svc", "--to", "3", "--config", root.config()});
  REQUIRE(r.exit_code == 0);
  CHECK(Current(root) == "3");
  CHECK(RunBundlegate({"rollback", "svc", "--to", "9", "--config", root.config()}).exit_code == 2);
  CHECK(RunBundlegate({"rollback", "nosuch", "--config", root.config()}).exit_code == 2);

  // A promotion after a rollback: rolling back from it returns to what was served before it.
  RunBundlegate({"rollback", "svc", "--to", "1", "--config", root.config()});
  Promote(root, "4");
  r = RunBundlegate({"rollback", "svc", "--config", root.config()});
  REQUIRE(r.exit_code == 0);
  CHECK(Current(root) == "1");

  const auto rolled = WaitForAudit(root.audit_log(), [](const json& j) {
    return j.value("event", "") == "rolled-back";
  }, 5);
  REQUIRE(rolled.size() == 5);
  CHECK(rolled[0]["from"] == "3");
  CHECK(rolled[0]["to"] == "2");
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("retention keeps keep_versions but never the current one or the one before it") {
  AgentRoot root("", "[serving]\nkeep_versions = 2\n");
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  for (const char* v : {"1", "2", "3", "4"}) Promote(root, v);
  CHECK(Versions(root) == std::vector<std::string>{"3", "4"});
  const auto retired = WaitForAudit(root.audit_log(), [](const json& j) {
    return j.value("event", "") == "retired";
  }, 2);
  REQUIRE(retired.size() == 2);
  CHECK(retired[0]["version"] == "1");
  CHECK(retired[1]["version"] == "2");

  // Roll back to 3, then promote 5: the one before 5 is 3 (what was served), so 4 goes.
  REQUIRE(RunBundlegate({"rollback", "svc", "--config", root.config()}).exit_code == 0);
  Promote(root, "5");
  CHECK(Versions(root) == std::vector<std::string>{"3", "5"});
  CHECK(Current(root) == "5");
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("on_promote runs with the bundle in its environment and is audited") {
  AgentRoot root;
  const std::string out = root.tmp() / "hook.out";
  const std::string hook = root.tmp() / "hook.sh";
  WriteFile(hook, "#!/bin/sh\necho \"$BUNDLEGATE_NAME $BUNDLEGATE_VERSION $BUNDLEGATE_PATH\" > " + out +
                      "\n[ \"$BUNDLEGATE_VERSION\" = 2 ] && { echo 'reload failed' >&2; exit 3; }\nexit 0\n");
  fs::permissions(hook, fs::perms::owner_all);
  root.WriteConfig("", "[serving]\non_promote = [\"" + hook + "\"]\non_promote_timeout_s = 10\n");
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  Promote(root, "1");
  auto hooks = WaitForAudit(root.audit_log(), [](const json& j) {
    return j.value("event", "") == "on-promote";
  });
  REQUIRE(hooks.size() == 1);
  CHECK(hooks[0]["ok"] == true);
  CHECK(ReadFile(out) == "svc 1 " + root.serving() + "/svc/1\n");

  // A failing hook is recorded; the promotion stands.
  Promote(root, "2");
  hooks = WaitForAudit(root.audit_log(), [](const json& j) {
    return j.value("event", "") == "on-promote";
  }, 2);
  REQUIRE(hooks.size() == 2);
  CHECK(hooks[1]["ok"] == false);
  CHECK(hooks[1]["exit_code"] == 3);
  CHECK_THAT(hooks[1]["stderr_tail"].get<std::string>(), Catch::Contains("reload failed"));
  CHECK(Current(root) == "2");
}
