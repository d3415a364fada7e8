// The real agent process on a real root with real inotify: bundles dropped the ways producers
// drop them, and what users see afterwards (serving/, quarantine/, the audit log).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "tests/support/agent_process.h"
#include "tests/support/process.h"

using namespace bg::test;
namespace fs = std::filesystem;

namespace {

BundleSpec Spec(const std::string& version, const std::string& name = "demo") {
  BundleSpec s;
  s.name = name;
  s.version = version;
  return s;
}

json Decision(const AgentRoot& root, const std::string& inbox_name) {
  auto found = WaitForAudit(root.audit_log(), DecisionFor(inbox_name));
  REQUIRE(found.size() == 1);
  REQUIRE(WaitForIdle(root));
  return found[0];
}

mode_t Mode(const std::string& path) {
  struct stat st;
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("a bundle dropped by rename is promoted, read-only, current, audited") {
  AgentRoot root;
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  root.Drop("fraud-1", Spec("1.0.0"));
  const json d = Decision(root, "fraud-1");
  CHECK(d["event"] == "promoted");
  CHECK(d["name"] == "demo");
  CHECK(d["version"] == "1.0.0");
  CHECK(d["digest"].get<std::string>().size() == 64);
  CHECK(d["checks"].size() == 3);
  const std::string served = root.serving() + "/demo/1.0.0";
  CHECK(d["path"] == served);
  CHECK(fs::read_symlink(root.serving() + "/demo/current") == "1.0.0");
  CHECK(Mode(served) == 0555);
  CHECK(Mode(served + "/parity") == 0555);
  CHECK(Mode(served + "/model.pt") == 0444);
  CHECK(ServingProblems(root).empty());
  CHECK(Locate(root, "fraud-1", "1.0.0") == std::vector<std::string>{"serving"});
  CHECK(fs::is_empty(root.work()));
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("a tampered bundle is quarantined as received with REJECTED.json") {
  AgentRoot root;
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  BundleSpec spec = Spec("2.0.0");
  const std::string staging = root.inbox() + "/.bad.tmp";
  WriteBundle(staging, spec);
  AppendFile(staging + "/model.pt", "tampered");
  fs::rename(staging, root.inbox() + "/bad");
  const json d = Decision(root, "bad");
  CHECK(d["event"] == "rejected");
  CHECK(d["reason"] == "size-mismatch");
  const std::string q = d["path"];
  CHECK(fs::path(q).parent_path() == root.quarantine());
  CHECK_THAT(q, Catch::Contains("demo@2.0.0."));
  const json rejected = json::parse(ReadFile(q + "/REJECTED.json"));
  CHECK(rejected["reason"] == "size-mismatch");
  CHECK(rejected["inbox_name"] == "bad");
  CHECK(rejected["checks"][1]["details"]["findings"][0]["path"] == "model.pt");
  // As received: the tampered bytes are kept.
  CHECK_THAT(ReadFile(q + "/model.pt"), Catch::EndsWith("tampered"));
  CHECK(Locate(root, "bad", "2.0.0") == std::vector<std::string>{"quarantine"});
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("a bundle copied in place file by file is not claimed before it is complete") {
  AgentRoot root("", "[watch]\nsettle_ms = 400\n");
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  const BundleSpec spec = Spec("3.0.0");
  const std::string dir = root.inbox() + "/slow";
  fs::create_directories(dir);
  // The manifest first, then each file with a pause shorter than the settle time.
  WriteFile(dir + "/bundle.toml", RenderManifest(spec));
  for (const auto& [path, content] : DefaultBundleFiles(spec)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    const std::string half = content.substr(0, content.size() / 2);
    WriteFile(dir + "/" + path, half);
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    AppendFile(dir + "/" + path, content.substr(half.size()));
  }
  const json d = Decision(root, "slow");
  CHECK(d["event"] == "promoted");
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("things that are not bundles end in quarantine with a reason") {
  AgentRoot root;
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  WriteFile(root.tmp() / "stray-model.pt", "weights");
  fs::rename(root.tmp() / "stray-model.pt", root.inbox() + "/stray-model.pt");
  REQUIRE(::symlink("/etc", (root.inbox() + "/evil-link").c_str()) == 0);
  fs::create_directories(root.tmp() / "nomanifest");
  WriteFile(root.tmp() / "nomanifest/x", "x");
  WriteFile(root.tmp() / "badmanifest/bundle.toml", "format = 1\nname = \"Bad Name\"\n");
  fs::rename(root.tmp() / "badmanifest", root.inbox() + "/badmanifest");

  const json file = Decision(root, "stray-model.pt");
  CHECK(file["reason"] == "manifest-invalid");
  CHECK(ReadFile(file["path"].get<std::string>() + "/stray-model.pt") == "weights");
  const json link = Decision(root, "evil-link");
  CHECK(link["reason"] == "unsafe-path");
  CHECK(fs::read_symlink(link["path"].get<std::string>() + "/evil-link") == "/etc");
  const json bad = Decision(root, "badmanifest");
  CHECK(bad["reason"] == "manifest-invalid");
  CHECK_THAT(bad["message"].get<std::string>(), Catch::Contains("name"));
  CHECK(fs::is_empty(root.work()));
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("a bundle that stays incomplete is quarantined as incomplete") {
  AgentRoot root("", "[watch]\nsettle_ms = 100\nincomplete_timeout_s = 1\n");
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  BundleSpec spec = Spec("4.0.0");
  const std::string staging = root.tmp() / "partial";
  WriteBundle(staging, spec);
  fs::remove(staging + "/model.pt");  // never arrives
  fs::rename(staging, root.inbox() + "/partial");
  const json d = Decision(root, "partial");
  CHECK(d["reason"] == "incomplete");
  CHECK_THAT(d["message"].get<std::string>(), Catch::Contains("waiting for model.pt"));
  CHECK(Locate(root, "partial", "4.0.0") == std::vector<std::string>{"quarantine"});
}

TEST_CASE("the same version again: identical is a recorded no-op and different is rejected") {
  AgentRoot root;
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  root.Drop("v1", Spec("5.0.0"));
  REQUIRE(Decision(root, "v1")["event"] == "promoted");
  root.Drop("v1-again", Spec("5.0.0"));
  const json again = Decision(root, "v1-again");
  CHECK(again["event"] == "promoted");
  CHECK(again["noop"] == true);
  BundleSpec changed = Spec("5.0.0");
  changed.files["model.pt"] = "retrained weights";
  root.Drop("v1-changed", changed);
  const json dup = Decision(root, "v1-changed");
  CHECK(dup["event"] == "rejected");
  CHECK(dup["reason"] == "duplicate-version");
  CHECK(ReadFile(root.serving() + "/demo/5.0.0/model.pt") != "retrained weights");
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("move intake promotes the producer's own files") {
  AgentRoot root("intake = \"move\"\n");
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  root.Drop("moved", Spec("6.0.0"));
  CHECK(Decision(root, "moved")["event"] == "promoted");
  CHECK(ServingProblems(root).empty());
}

TEST_CASE("bundles already in the inbox at startup are found by the startup rescan") {
  AgentRoot root;
  root.Drop("early-1", Spec("7.0.1"));
  root.Drop("early-2", Spec("7.0.2"));
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  CHECK(Decision(root, "early-1")["event"] == "promoted");
  CHECK(Decision(root, "early-2")["event"] == "promoted");
  CHECK(fs::read_symlink(root.serving() + "/demo/current") == "7.0.2");
}

TEST_CASE("a second agent on the same root refuses to start") {
  AgentRoot root;
  AgentProcess first(root);
  REQUIRE(first.WaitReady());
  AgentProcess second(root);
  const auto code = second.WaitExit();
  REQUIRE(code.has_value());
  CHECK(*code == 2);
  CHECK_THAT(second.Log(), Catch::Contains("another bundlegate agent is running"));
}

TEST_CASE("an unusable configuration exits 2 with the file, line and key") {
  AgentRoot root;
  WriteFile(root.config(), "[watch]\nsettle = 5\n");
  AgentProcess agent(root);
  REQUIRE(agent.WaitExit() == 2);
  CHECK_THAT(agent.Log(), Catch::Contains("bundlegate.toml:2: watch.settle: unknown key"));
}

TEST_CASE("status reports the agent and what is served") {
  AgentRoot root;
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  root.Drop("s1", Spec("8.0.0"));
  REQUIRE(Decision(root, "s1")["event"] == "promoted");
  // The status file is refreshed once a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const auto r = RunBundlegate({"status", "--config", root.config(), "--json"});
  REQUIRE(r.exit_code == 0);
  const json s = json::parse(r.out);
  CHECK(s["running"] == true);
  CHECK(s["served"][0]["name"] == "demo");
  CHECK(s["served"][0]["current"] == "8.0.0");
  CHECK(s["agent"]["counts"]["promoted"] == 1);
  CHECK(s["agent"]["recent"][0]["version"] == "8.0.0");
  const auto human = RunBundlegate({"status", "--config", root.config()});
  CHECK_THAT(human.out, Catch::Contains("agent: running"));
  CHECK_THAT(human.out, Catch::Contains("current 8.0.0"));
}
