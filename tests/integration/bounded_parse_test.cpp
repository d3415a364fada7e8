// Bounded parsing (issue 8 item 3), through the real binary: JSON and TOML that a plugin or a
// producer controls, nested 100,000 levels deep (a few hundred KB), give a clear verdict or
// error and never take the agent down: a plugin's result and its --describe, bundle.toml, the
// lockfiles, the config, the status file and audit lines read back.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/agent_process.h"
#include "tests/support/bundle_writer.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace bg::test;
namespace fs = std::filesystem;

namespace {

constexpr int kDeep = 100000;

// bundlegate-check-deep: prints 100,000-deep JSON as its result for a bundle named "deep",
// 61-deep details (inside the limit of 64) for "sixty", a pass otherwise; with a file
// deep-describe beside it, its --describe is deep too (a plugin's environment is not the test's).
constexpr const char* kDeepPlugin = R"(#!/usr/bin/python3
import json, os, sys
N = 100000
if sys.argv[1:] == ['--describe']:
    if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), 'deep-describe')):
        print('{"protocol": 1, "kind": "deep", "version": "1", "runtime": ' + '[' * N + ']' * N + '}')
    else:
        print(json.dumps({'protocol': 1, 'kind': 'deep', 'version': '1', 'runtime': {}}))
    sys.exit(0)
request = json.load(sys.stdin)
if request['manifest']['name'] == 'deep':
    print('{"protocol": 1, "status": "pass", "reason": "", "summary": "ok", "details": ' +
          '{"a": ' * N + '1' + '}' * N + '}')
elif request['manifest']['name'] == 'sixty':  # just inside the limit: kept, written, read back
    print('{"protocol": 1, "status": "fail", "reason": "parity-mismatch", "summary": "off", '
          '"details": ' + '{"a": ' * 60 + '1' + '}' * 60 + '}')
else:
    print(json.dumps({'protocol': 1, 'status': 'pass', 'reason': '', 'summary': 'fine'}))
)";

std::string DeepDottedKey() {
  std::string key = "a";
  for (int i = 1; i < kDeep; ++i) key += ".a";
  return key;
}

class Fixture {
 public:
  Fixture() {
    fs::create_directories(tmp_ / "plugins");
    WriteFile(plugin(), kDeepPlugin);
    REQUIRE(::chmod(plugin().c_str(), 0755) == 0);
  }
  std::string plugin() const { return tmp_ / "plugins/bundlegate-check-deep"; }
  std::string Config(const std::string& extra = "") const {
    const std::string path = tmp_ / "bundlegate.toml";
    WriteFile(path, "require_parity = false\nplugin_dirs = [\"" + (tmp_ / "plugins") +
                        "\"]\n[paths]\nroot = \"" + (tmp_ / "var") + "\"\n" + extra +
                        "[[checks]]\nkind = \"deep\"\ntimeout_s = 60\nmax_output_kb = 2048\n");
    return path;
  }
  const TempDir& tmp() const { return tmp_; }

 private:
  TempDir tmp_;
};

nlohmann::json CheckJson(const std::string& dir, const std::string& config,
                         const ProcessOptions& options = {}) {
  const auto r = RunBundlegate({"check", dir, "--config", config, "--json"}, options);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 1);  // a verdict on the bundle, not a crash (139) or an error (2)
  return nlohmann::json::parse(r.out);
}

std::string CheckReason(const nlohmann::json& j, const std::string& check) {
  for (const auto& c : j["checks"]) {
    if (c["check"] == check) return c.value("reason", "");
  }
  return "";
}

}  // namespace

TEST_CASE("a plugin result nested 100,000 deep is plugin-error in bundlegate check") {
  Fixture f;
  BundleSpec spec;
  spec.name = "deep";
  const std::string dir = WriteBundle(f.tmp() / "deep", spec);
  const auto j = CheckJson(dir, f.Config());
  CHECK(j["reason"] == "plugin-error");
  bool said = false;
  for (const auto& c : j["checks"]) {
    if (c["check"] == "deep") said = c["summary"].get<std::string>().find("nested") != std::string::npos;
  }
  CHECK(said);
}

TEST_CASE("a plugin --describe nested 100,000 deep is refused, not a crash") {
  Fixture f;
  WriteFile(f.tmp() / "plugins/deep-describe", "");
  // `plugins` asks every plugin in use to describe itself (as the agent does when it loads).
  const auto r = RunBundlegate({"plugins", "--config", f.Config(), "--json"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);  // a plugin in use failed to describe itself, not a crash (139)
  CHECK((r.out + r.err).find("nested") != std::string::npos);
}

TEST_CASE("the agent rejects a 100,000-deep plugin result as plugin-error and stays up") {
  Fixture f;
  AgentRoot root;
  root.WriteConfig("plugin_dirs = [\"" + (f.tmp() / "plugins") + "\"]\n",
                   "[[checks]]\nkind = \"deep\"\ntimeout_s = 60\nmax_output_kb = 2048\n");
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  BundleSpec deep;
  deep.name = "deep";
  root.Drop("deep", deep);
  const auto d = WaitForAudit(root.audit_log(), DecisionFor("deep"), 1, std::chrono::seconds(120));
  REQUIRE(d.size() == 1);
  CHECK(d[0]["event"] == "rejected");
  CHECK(d[0]["reason"] == "plugin-error");
  REQUIRE(agent.running());
  // Details just inside the limit are kept: in REJECTED.json (written recursively) and the
  // audit log, both of which read back.
  BundleSpec sixty;
  sixty.name = "sixty";
  root.Drop("sixty", sixty);
  const auto s = WaitForAudit(root.audit_log(), DecisionFor("sixty"), 1, std::chrono::seconds(120));
  REQUIRE(s.size() == 1);
  CHECK(s[0]["reason"] == "parity-mismatch");
  bool kept = false;
  for (const auto& e : fs::directory_iterator(root.quarantine())) {
    if (e.path().filename().string().rfind("sixty@", 0) != 0) continue;
    const auto rejected = nlohmann::json::parse(ReadFile((e.path() / "REJECTED.json").string()));
    for (const auto& c : rejected["checks"]) {
      if (c["check"] == "deep") kept = c["details"].contains("a");
    }
  }
  CHECK(kept);
  BundleSpec good;
  good.name = "fine";
  root.Drop("fine", good);
  const auto g = WaitForAudit(root.audit_log(), DecisionFor("fine"), 1, std::chrono::seconds(120));
  REQUIRE(g.size() == 1);
  CHECK(g[0]["event"] == "promoted");
  CHECK(agent.running());
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("a bundle.toml nested 100,000 deep is manifest-invalid, and the agent stays up") {
  Fixture f;
  for (const std::string& toml :
       {DeepDottedKey() + " = 1\n", "[" + DeepDottedKey() + "]\nx = 1\n",
        "a = " + std::string(kDeep, '[') + std::string(kDeep, ']') + "\n"}) {
    const std::string dir = WriteBundle(f.tmp() / "b");
    WriteFile(dir + "/bundle.toml", toml);
    const auto j = CheckJson(dir, f.Config());
    CHECK(j["reason"] == "manifest-invalid");
    fs::remove_all(dir);
  }
  // The agent's readiness probe parses bundle.toml too.
  AgentRoot root;
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  const std::string staging = root.inbox() + "/.deep.tmp";
  WriteBundle(staging);
  WriteFile(staging + "/bundle.toml", DeepDottedKey() + " = 1\n");
  fs::rename(staging, root.inbox() + "/deep");
  root.Drop("good", BundleSpec{});
  const auto g = WaitForAudit(root.audit_log(), DecisionFor("good"), 1, std::chrono::seconds(60));
  REQUIRE(g.size() == 1);
  CHECK(g[0]["event"] == "promoted");
  CHECK(agent.running());
}

TEST_CASE("lockfiles nested 100,000 deep are lockfile-invalid") {
  Fixture f;
  const std::pair<std::string, std::string> locks[] = {
      {"uv.lock", DeepDottedKey() + " = 1\n"},
      {"poetry.lock", "[[package]]\nname = \"a\"\nversion = " + std::string(kDeep, '[') +
                          std::string(kDeep, ']') + "\n"},
      {"Pipfile.lock", std::string(kDeep, '[') + std::string(kDeep, ']')},
  };
  for (const auto& [name, text] : locks) {
    INFO(name);
    BundleSpec spec;
    spec.lockfile = name;
    spec.files[name] = text;
    const std::string dir = WriteBundle(f.tmp() / "lock", spec);
    const auto j = CheckJson(dir, f.Config("[[checks]]\nkind = \"lockfile\"\n"));
    CHECK(CheckReason(j, "lockfile") == "lockfile-invalid");
    fs::remove_all(dir);
  }
}

TEST_CASE("a config nested 100,000 deep is a config error with its line") {
  TempDir tmp;
  WriteFile(tmp / "deep.toml", "[paths]\nroot = \"var\"\n" + DeepDottedKey() + " = 1\n");
  const auto r = RunBundlegate({"config", "check", "--config", tmp / "deep.toml"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK((r.out + r.err).find("deep.toml:3: nested more than 64 levels deep") != std::string::npos);
}

TEST_CASE("a status file and an audit line nested 100,000 deep are read as damaged") {
  AgentRoot root;
  fs::create_directories(root.root());
  WriteFile(root.root() + "/status.json", std::string(kDeep, '[') + std::string(kDeep, ']'));
  const auto status = RunBundlegate({"status", "--json", "--config", root.config()});
  INFO(status.out << status.err);
  CHECK(status.exit_code == 0);
  CHECK(nlohmann::json::parse(status.out)["agent"].is_null());

  WriteFile(root.audit_log(), "{\"seq\":1,\"x\":" + std::string(kDeep, '[') +
                                  std::string(kDeep, ']') + "}\n");
  const auto verify = RunBundlegate({"audit", "verify", "--file", root.audit_log()});
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 1);
  CHECK((verify.out + verify.err).find("line 1") != std::string::npos);
}
