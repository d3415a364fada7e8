// Issue 8, part B, on the real agent: every choice made once, recorded, then acted on. Each case
// is one of the reproduced defects (or its class), driven with real processes, a real
// plugin, kill -9 at named steps (BUNDLEGATE_CRASH_AT) and the real CLI beside the agent:
//   item 1   an identical re-drop whose served copy is retired while it is checked
//   item 2   a rollback while the agent is down does not get undone by the restart
//   item 7   version "current" and other names colliding with the layout
//   item 8   rollback when the audit log refuses the record; a rollback killed half way
//   item 9   inbox names that are not UTF-8, killed after the quarantine rename
//   item 10  retention hides a version first and audits it once, whatever the kill
//   item 12  a restart with a 100 MB audit log stays near the idle memory
//   item 14  a return to the inbox across filesystems, killed in its window
//   item 3   (second half) a bundle whose checks kill the agent is failed closed at last
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/core/hex.h"
#include "agent/core/sha256.h"
#include "tests/support/agent_process.h"
#include "tests/support/process.h"

using namespace bg::test;
namespace fs = std::filesystem;

namespace {

BundleSpec Svc(const std::string& version, const std::string& weights = "") {
  BundleSpec s;
  s.name = "svc";
  s.version = version;
  s.files["model.pt"] = weights.empty() ? "weights of " + version : weights;
  return s;
}

auto Event(const std::string& event) {
  return [event](const json& r) { return r.value("event", "") == event; };
}

std::string Current(const AgentRoot& root, const std::string& model = "svc") {
  std::error_code ec;
  return fs::read_symlink(root.serving() + "/" + model + "/current", ec).string();
}

// Visible version directories of svc (what a model server would load).
std::vector<std::string> Versions(const AgentRoot& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root.serving() + "/svc", ec)) {
    const std::string n = e.path().filename().string();
    if (n != "current" && n[0] != '.') out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> HiddenEntries(const AgentRoot& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root.serving() + "/svc", ec)) {
    const std::string n = e.path().filename().string();
    if (n[0] == '.' && n != ".history.jsonl") out.push_back(n);
  }
  return out;
}

void Promote(AgentRoot& root, const std::string& version) {
  root.Drop("drop-" + version, Svc(version));
  const auto d = WaitForAudit(root.audit_log(), DecisionFor("drop-" + version));
  REQUIRE(d.size() == 1);
  REQUIRE(d[0]["event"] == "promoted");
  REQUIRE(WaitForIdle(root));
}

std::size_t CountAudit(const AgentRoot& root, const std::function<bool(const json&)>& pred) {
  std::size_t n = 0;
  for (const auto& r : ReadAudit(root.audit_log())) n += pred(r) ? 1 : 0;
  return n;
}

// A plugin that holds a bundle's check while <flags>/hold-<version> exists (at most 120 s),
// then passes. The test creates and removes the flag.
void WriteHoldPlugin(const AgentRoot& root) {
  const std::string path = root.tmp() / "plugins/bundlegate-check-hold";
  WriteFile(path,
            "#!/usr/bin/python3\n"
            "import json, os, sys, time\n"
            "if sys.argv[1:] == ['--describe']:\n"
            "    print(json.dumps({'protocol': 1, 'kind': 'hold', 'version': '1', 'runtime': {}}))\n"
            "    sys.exit(0)\n"
            "req = json.load(sys.stdin)\n"
            "flag = os.path.join(req['config']['flags'], 'hold-' + req['manifest']['version'])\n"
            "deadline = time.time() + 120\n"
            "while os.path.exists(flag) and time.time() < deadline:\n"
            "    time.sleep(0.05)\n"
            "print(json.dumps({'protocol': 1, 'status': 'pass', 'summary': 'released'}))\n");
  fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  fs::create_directories(root.tmp() / "flags");
}

std::string HoldChecks(const AgentRoot& root) {
  // The plugin waits on its flag files: the sandbox shows it that directory (read-only) too.
  const std::string flags = root.tmp() / "flags";
  return "[sandbox]\nread_paths = [\"/usr\", \"/lib\", \"/lib64\", \"/bin\", \"/sbin\", \"/etc\", \"" +
         flags + "\"]\n\n[[checks]]\nkind = \"hold\"\ntimeout_s = 300\nflags = \"" + flags + "\"\n";
}

long VmKb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

std::string Hex(const std::string& bytes) {
  return bg::ToHex(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

TEST_CASE("item 1: an identical re-drop whose served copy was retired meanwhile is promoted again") {
  AgentRoot root;
  WriteHoldPlugin(root);
  root.WriteConfig("workers = 2\nplugin_dirs = [\"plugins\"]\n",
                   "[serving]\nkeep_versions = 2\n\n" + HoldChecks(root));
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  Promote(root, "1");
  Promote(root, "2");
  REQUIRE(Current(root) == "2");

  // The identical re-drop of 1 is held in its check, after the intake check saw 1 served.
  WriteFile(root.tmp() / "flags/hold-1", "");
  root.Drop("again-1", Svc("1"));
  // (Locate also counts serving/svc/1, which holds the same version: look at work/ itself.)
  REQUIRE(WaitUntil([&] { return fs::exists(root.work()) && !fs::is_empty(root.work()); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // Meanwhile 3 is promoted and retention removes 1.
  root.Drop("drop-3", Svc("3"));
  REQUIRE(WaitForAudit(root.audit_log(), DecisionFor("drop-3")).size() == 1);
  const auto retired = WaitForAudit(root.audit_log(), [](const json& r) {
    return r.value("event", "") == "retired" && r.value("version", "") == "1";
  });
  REQUIRE(retired.size() == 1);
  REQUIRE_FALSE(fs::exists(root.serving() + "/svc/1"));

  fs::remove(root.tmp() / "flags/hold-1");
  const auto d = WaitForAudit(root.audit_log(), DecisionFor("again-1"));
  INFO("agent log:\n" << agent.Log());
  REQUIRE(d.size() == 1);
  REQUIRE(WaitForIdle(root));
  // Not a no-op pointing at nothing: promoted again, served, and said so.
  CHECK(d[0]["event"] == "promoted");
  CHECK_FALSE(d[0].contains("noop"));
  CHECK_THAT(d[0].value("redecided", ""), Catch::Contains("promoted again"));
  CHECK(d[0]["path"] == root.serving() + "/svc/1");
  CHECK(Locate(root, "again-1", "1") == std::vector<std::string>{"serving"});
  CHECK(Current(root) == "3");  // claimed before 3: served beside it, not instead of it
  CHECK(d[0]["made_current"] == false);
  CHECK(d[0]["current"] == "3");
  CHECK(ServingProblems(root).empty());
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("item 1: a re-drop decided a no-op is re-validated when it is carried out") {
  // The identical re-drop, while 1 is still served, is a true no-op: nothing moves, once.
  AgentRoot root;
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  Promote(root, "1");
  root.Drop("again-1", Svc("1"));
  const auto d = WaitForAudit(root.audit_log(), DecisionFor("again-1"));
  REQUIRE(d.size() == 1);
  CHECK(d[0]["noop"] == true);
  CHECK(d[0]["path"] == root.serving() + "/svc/1");
  REQUIRE(WaitForIdle(root));
  CHECK(fs::exists(root.serving() + "/svc/1/bundle.toml"));
  // Different content under a served version is duplicate-version, in quarantine.
  root.Drop("other-1", Svc("1", "other weights"));
  const auto dup = WaitForAudit(root.audit_log(), DecisionFor("other-1"));
  REQUIRE(dup.size() == 1);
  CHECK(dup[0]["reason"] == "duplicate-version");
  CHECK(fs::is_directory(dup[0]["path"].get<std::string>()));
  CHECK(ReadFile(root.serving() + "/svc/1/model.pt") == "weights of 1");
}

namespace {

// v1 promoted; v2 killed at `crash_at` (v2 is in serving/, its promotion not audited); while
// the agent is down an operator rolls back; the restart finishes v2 without undoing that.
void RollbackWhileDown(const std::string& crash_at) {
  AgentRoot root;
  {
    AgentProcess agent(root, {{"BUNDLEGATE_CRASH_AT", crash_at + ":2"}});
    REQUIRE(agent.WaitReady());
    Promote(root, "1");
    root.Drop("drop-2", Svc("2"));
    REQUIRE(agent.WaitExit().value_or(0) == 128 + SIGKILL);
  }
  REQUIRE(fs::is_directory(root.serving() + "/svc/2"));
  REQUIRE(WaitForAudit(root.audit_log(), DecisionFor("drop-2"), 1, Millis(100)).empty());
  if (Current(root) == "2") {
    const auto r = RunBundlegate({"rollback", "svc", "--config", root.config()});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("current 2 -> 1"));
  } else {
    // Killed before `current` moved: there is nothing to roll back from yet.
    REQUIRE(Current(root) == "1");
  }
  REQUIRE(Current(root) == "1");

  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  const auto d = WaitForAudit(root.audit_log(), DecisionFor("drop-2"));
  INFO("agent log:\n" << agent.Log());
  REQUIRE(d.size() == 1);
  REQUIRE(WaitForIdle(root));
  CHECK(d[0]["event"] == "promoted");
  if (CountAudit(root, Event("rolled-back")) == 1) {
    CHECK(Current(root) == "1");  // the operator's rollback stands
    CHECK(d[0]["made_current"] == true);  // it was current until the rollback
    CHECK(d[0]["current"] == "1");
    CHECK_THAT(d[0].value("note", ""), Catch::Contains("bundlegate rollback"));
    // The history agrees with the link: a rollback from 1 goes to what was before it, and a
    // rollback to 2 is possible (it is served).
    const auto r = RunBundlegate({"rollback", "svc", "--to", "2", "--config", root.config()});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(Current(root) == "2");
  } else {
    CHECK(Current(root) == "2");
    CHECK(d[0]["made_current"] == true);
  }
  CHECK(fs::is_directory(root.serving() + "/svc/2"));
  CHECK(VerifyAudit(root) == 0);
}

}  // namespace

TEST_CASE("item 2: a rollback while the agent is down is not undone (killed after the link)") {
  RollbackWhileDown("promote.after-link");
}
TEST_CASE("item 2: a rollback while the agent is down is not undone (killed after the history)") {
  RollbackWhileDown("promote.after-history");
}
TEST_CASE("item 2: killed before the link moved, then restarted, v2 becomes current") {
  RollbackWhileDown("promote.after-rename");
}

TEST_CASE("item 7: versions and names that collide with the serving layout are manifest-invalid") {
  AgentRoot root;
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  root.Drop("cur", Svc("current"));
  root.Drop("cur-upper", Svc("Current"));
  BundleSpec named = Svc("1");
  named.name = "current";
  root.Drop("cur-name", named);
  for (const char* drop : {"cur", "cur-upper", "cur-name"}) {
    const auto d = WaitForAudit(root.audit_log(), DecisionFor(drop));
    INFO(drop);
    REQUIRE(d.size() == 1);
    CHECK(d[0]["event"] == "rejected");
    CHECK(d[0]["reason"] == "manifest-invalid");
    CHECK_THAT(d[0]["message"].get<std::string>(), Catch::Contains("reserved"));
  }
  // The agent's own names beside the versions all start with '.': the patterns refuse them.
  root.Drop("tmp-link", Svc(".current.tmp-1"));
  root.Drop("retiring", Svc(".retired-1-x"));
  BundleSpec history = Svc("1");
  history.name = ".history.jsonl";
  root.Drop("history", history);
  for (const char* drop : {"tmp-link", "retiring", "history"}) {
    const auto d = WaitForAudit(root.audit_log(), DecisionFor(drop));
    INFO(drop);
    REQUIRE(d.size() == 1);
    CHECK(d[0]["event"] == "rejected");
    CHECK(d[0]["reason"] == "manifest-invalid");
  }
  REQUIRE(WaitForIdle(root));
  CHECK_FALSE(fs::exists(root.serving() + "/svc/current"));
  // Later versions of that name are promoted as usual (not stuck in work/).
  Promote(root, "1");
  CHECK(Current(root) == "1");
  CHECK(fs::is_symlink(root.serving() + "/svc/current"));
  Promote(root, "2");
  CHECK(Current(root) == "2");
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("item 8: a rollback whose audit record is refused does not move current") {
  AgentRoot root;
  {
    AgentProcess agent(root);
    REQUIRE(agent.WaitReady());
    Promote(root, "1");
    Promote(root, "2");
    agent.Signal(SIGTERM);
    REQUIRE(agent.WaitExit() == 0);
  }
  // The log's last line is JSON but not an audit record: every append refuses to write after it.
  const std::string saved = ReadFile(root.audit_log());
  AppendFile(root.audit_log(), "{\"hello\": \"not an audit record\"}\n");
  auto r = RunBundlegate({"rollback", "svc", "--config", root.config()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("current was not changed"));
  CHECK(Current(root) == "2");
  CHECK_FALSE(fs::exists(root.serving() + "/svc/.rollback-pending.json"));
  WriteFile(root.audit_log(), saved);
  // With the log repaired the same rollback works, once.
  r = RunBundlegate({"rollback", "svc", "--config", root.config()});
  REQUIRE(r.exit_code == 0);
  CHECK(Current(root) == "1");
  CHECK(CountAudit(root, Event("rolled-back")) == 1);
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("item 8: a rollback killed before its record is withdrawn, one killed after it is finished") {
  AgentRoot root;
  {
    AgentProcess agent(root);
    REQUIRE(agent.WaitReady());
    Promote(root, "1");
    Promote(root, "2");
    Promote(root, "3");
    agent.Signal(SIGTERM);
    REQUIRE(agent.WaitExit() == 0);
  }
  ProcessOptions crash;
  crash.env["BUNDLEGATE_CRASH_AT"] = "rollback.after-intent";
  auto r = RunBundlegate({"rollback", "svc", "--config", root.config()}, crash);
  CHECK(r.signal == SIGKILL);
  CHECK(Current(root) == "3");
  CHECK(CountAudit(root, Event("rolled-back")) == 0);
  // The next rollback withdraws the dead one (never audited: it did not happen) and does its own.
  r = RunBundlegate({"rollback", "svc", "--config", root.config()});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(Current(root) == "2");
  CHECK(CountAudit(root, Event("rolled-back")) == 1);

  // Killed after its record, before the link moved: the agent's start finishes it.
  crash.env["BUNDLEGATE_CRASH_AT"] = "rollback.after-audit";
  r = RunBundlegate({"rollback", "svc", "--to", "1", "--config", root.config()}, crash);
  CHECK(r.signal == SIGKILL);
  CHECK(CountAudit(root, Event("rolled-back")) == 2);
  CHECK(Current(root) == "2");  // audited, not yet done
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  CHECK(Current(root) == "1");
  CHECK_FALSE(fs::exists(root.serving() + "/svc/.rollback-pending.json"));
  const auto recovered = WaitForAudit(root.audit_log(), Event("recovered"));
  REQUIRE(recovered.size() == 1);
  CHECK_THAT(recovered[0].dump(), Catch::Contains("finished rollback"));
  // The history agrees: the next rollback goes back to what was served before 1.
  CHECK(CountAudit(root, Event("rolled-back")) == 2);
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("item 9: an entry named with invalid UTF-8, killed after the quarantine rename") {
  AgentRoot root;
  const std::string name = std::string("bad-\xff\xfe-") + "\xc3\x28";
  {
    AgentProcess agent(root, {{"BUNDLEGATE_CRASH_AT", "quarantine.after-rename"}});
    REQUIRE(agent.WaitReady());
    // Not a bundle (a file): its quarantine directory is named after its inbox name, raw bytes.
    WriteFile(root.inbox() + "/.bad.tmp", "not a bundle");
    fs::rename(root.inbox() + "/.bad.tmp", root.inbox() + "/" + name);
    REQUIRE(agent.WaitExit().value_or(0) == 128 + SIGKILL);
  }
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  const auto d = WaitForAudit(root.audit_log(), [&](const json& r) {
    return r.value("event", "") == "rejected" && r.value("inbox_name_hex", "") == Hex(name);
  });
  INFO("agent log:\n" << agent.Log());
  REQUIRE(d.size() == 1);
  REQUIRE(WaitForIdle(root));
  CHECK(d[0]["reason"] == "manifest-invalid");
  // The path is given exactly (hex), and names the entry in quarantine, with its raw name.
  const auto path = bg::FromHex(d[0].value("path_hex", ""));
  REQUIRE(path.has_value());
  CHECK(path->find(name) != std::string::npos);
  REQUIRE(fs::is_directory(*path));
  CHECK(ReadFile(*path + "/" + name) == "not a bundle");
  const json rejected = json::parse(ReadFile(*path + "/REJECTED.json"));
  CHECK(rejected["inbox_name_hex"] == Hex(name));
  CHECK(fs::is_empty(root.work()));
  CHECK(VerifyAudit(root) == 0);
  // Nothing is recovered again at the next start.
  agent.Signal(SIGTERM);
  REQUIRE(agent.WaitExit() == 0);
  AgentProcess again(root);
  REQUIRE(again.WaitReady());
  CHECK(WaitForAudit(root.audit_log(), Event("recovered"), 2, Millis(500)).size() == 1);
}

TEST_CASE("item 9: a tampered bundle named with invalid UTF-8, killed after the quarantine rename") {
  AgentRoot root;
  const std::string name = std::string("tampered-\xfe");
  {
    AgentProcess agent(root, {{"BUNDLEGATE_CRASH_AT", "quarantine.after-rename"}});
    REQUIRE(agent.WaitReady());
    const std::string staging = root.inbox() + "/.bad.tmp";
    WriteBundle(staging, Svc("9"));
    AppendFile(staging + "/model.pt", "tampered");
    fs::rename(staging, root.inbox() + "/" + name);
    REQUIRE(agent.WaitExit().value_or(0) == 128 + SIGKILL);
  }
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  const auto d = WaitForAudit(root.audit_log(), [&](const json& r) {
    return r.value("event", "") == "rejected" && r.value("inbox_name_hex", "") == Hex(name);
  });
  REQUIRE(d.size() == 1);
  REQUIRE(WaitForIdle(root));
  CHECK(d[0]["reason"] == "size-mismatch");
  const json rejected = json::parse(ReadFile(d[0]["path"].get<std::string>() + "/REJECTED.json"));
  CHECK(rejected["inbox_name_hex"] == Hex(name));
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("item 9: a good bundle named with invalid UTF-8, killed after its promotion's rename") {
  AgentRoot root;
  const std::string name = std::string("good-\x80\x81");
  {
    AgentProcess agent(root, {{"BUNDLEGATE_CRASH_AT", "promote.after-rename"}});
    REQUIRE(agent.WaitReady());
    root.Drop(name, Svc("1"));
    REQUIRE(agent.WaitExit().value_or(0) == 128 + SIGKILL);
  }
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  const auto d = WaitForAudit(root.audit_log(), [&](const json& r) {
    return r.value("event", "") == "promoted" && r.value("inbox_name_hex", "") == Hex(name);
  });
  REQUIRE(d.size() == 1);
  REQUIRE(WaitForIdle(root));
  CHECK(Current(root) == "1");
  CHECK(VerifyAudit(root) == 0);
}

namespace {

void RetentionKilledAt(const std::string& crash_at) {
  AgentRoot root("", "[serving]\nkeep_versions = 2\n");
  {
    AgentProcess agent(root, {{"BUNDLEGATE_CRASH_AT", crash_at}});
    REQUIRE(agent.WaitReady());
    Promote(root, "1");
    Promote(root, "2");
    root.Drop("drop-3", Svc("3"));
    REQUIRE(agent.WaitExit().value_or(0) == 128 + SIGKILL);
  }
  // Dead agent: a model server sees complete versions only; 1 is visible whole or not at all.
  CHECK(ServingProblems(root).empty());
  const auto visible = Versions(root);
  INFO("visible after the kill: " << visible.size());
  CHECK(std::find(visible.begin(), visible.end(), "3") != visible.end());

  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  REQUIRE(WaitForAudit(root.audit_log(), DecisionFor("drop-3")).size() == 1);
  REQUIRE(WaitForIdle(root));
  INFO("agent log:\n" << agent.Log());
  CHECK(CountAudit(root, [](const json& r) {
          return r.value("event", "") == "retired" && r.value("version", "") == "1";
        }) == 1);
  CHECK(Versions(root) == std::vector<std::string>{"2", "3"});
  CHECK(HiddenEntries(root).empty());
  CHECK(Current(root) == "3");
  CHECK(VerifyAudit(root) == 0);
}

}  // namespace

TEST_CASE("item 10: retention killed after choosing") { RetentionKilledAt("retire.after-plan"); }
TEST_CASE("item 10: retention killed after hiding the version") {
  RetentionKilledAt("retire.after-hide");
}
TEST_CASE("item 10: retention killed after its record, before the deletion") {
  RetentionKilledAt("retire.after-audit");
}

TEST_CASE("item 10: a retiring version is never visible half deleted") {
  AgentRoot root("", "[serving]\nkeep_versions = 1\n");
  {
    AgentProcess agent(root, {{"BUNDLEGATE_CRASH_AT", "retire.after-hide"}});
    REQUIRE(agent.WaitReady());
    Promote(root, "1");
    Promote(root, "2");
    BundleSpec big = Svc("3");
    root.Drop("drop-3", big);
    REQUIRE(agent.WaitExit().value_or(0) == 128 + SIGKILL);
  }
  // 1 was hidden before anything in it was deleted: it is not among the visible versions.
  const auto visible = Versions(root);
  CHECK(std::find(visible.begin(), visible.end(), "1") == visible.end());
  CHECK(HiddenEntries(root).size() == 1);
  CHECK(ServingProblems(root).empty());
}

TEST_CASE("item 12: a restart with a 100 MB audit log stays near the idle memory") {
  // The baseline: the same crash and restart with a short log.
  auto run = [](AgentRoot& root, std::uint64_t pad_bytes) {
    if (pad_bytes > 0) {
      fs::create_directories(root.root());
      // A valid chain of ~400-byte records, as the agent writes them.
      std::ofstream out(root.audit_log(), std::ios::binary);
      std::string prev(64, '0');
      const std::string filler(300, 'x');
      std::uint64_t written = 0;
      for (std::uint64_t seq = 1; written < pad_bytes; ++seq) {
        const std::string line = "{\"seq\":" + std::to_string(seq) +
                                 ",\"time\":\"2026-01-01T00:00:00.000Z\",\"event\":\"promoted\","
                                 "\"prev\":\"" + prev + "\",\"name\":\"pad\",\"version\":\"" +
                                 std::to_string(seq) + "\",\"summary\":\"" + filler + "\"}";
        out << line << '\n';
        prev = bg::Sha256Hex(line);
        written += line.size() + 1;
      }
    }
    {
      AgentProcess agent(root, {{"BUNDLEGATE_CRASH_AT", "promote.after-link"}});
      REQUIRE(agent.WaitReady());
      root.Drop("drop-1", Svc("1"));
      REQUIRE(agent.WaitExit().value_or(0) == 128 + SIGKILL);
    }
    AgentProcess agent(root);
    REQUIRE(agent.WaitReady());
    REQUIRE(WaitForAudit(root.audit_log(), DecisionFor("drop-1"), 1, Millis(60000)).size() == 1);
    REQUIRE(WaitForIdle(root));
    const long peak = VmKb(agent.pid(), "VmHWM");
    agent.Signal(SIGTERM);
    REQUIRE(agent.WaitExit() == 0);
    return peak;
  };
  AgentRoot small, large;
  const long baseline = run(small, 0);
  const long with_log = run(large, 100ull << 20);
  REQUIRE(fs::file_size(large.audit_log()) > (100ull << 20));
  WARN("restart peak RSS: " << baseline / 1024 << " MiB with a short log, " << with_log / 1024
                            << " MiB with a 100 MB log");
  CHECK(with_log < baseline + 32 * 1024);
  CHECK(VerifyAudit(large) == 0);
}

namespace {

// Copy intake from an inbox on tmpfs; a bundle held in its check; SIGTERM returns it to the
// inbox across filesystems, and the agent is killed at `crash_at` on the way.
void ReturnAcrossKilledAt(const std::string& crash_at) {
  AgentRoot root;
  OtherFilesystemDir shm(root.tmp().path());
  if (shm.path().empty()) {
    WARN("no second filesystem (/dev/shm) here: skipped");
    return;
  }
  const std::string inbox = shm.path() + "/inbox";
  WriteHoldPlugin(root);
  const std::string top = "intake = \"copy\"\nshutdown_timeout_s = 1\nplugin_dirs = [\"plugins\"]\n";
  const std::string tables = "[paths]\ninbox = \"" + inbox + "\"\n\n" + HoldChecks(root);
  root.WriteConfig(top, tables);
  WriteFile(root.tmp() / "flags/hold-1", "");
  {
    AgentProcess agent(root, {{"BUNDLEGATE_CRASH_AT", crash_at}});
    REQUIRE(agent.WaitReady());
    WriteBundle(inbox + "/.x.tmp", Svc("1"));
    fs::rename(inbox + "/.x.tmp", inbox + "/held");
    REQUIRE(WaitUntil([&] { return !fs::exists(inbox + "/held"); }));
    REQUIRE(WaitUntil([&] {
      for (const auto& e : fs::directory_iterator(root.work())) {
        if (fs::exists(e.path() / "bundle/bundle.toml") && !fs::exists(inbox + "/.bundlegate-claimed/" +
                                                                        e.path().filename().string())) {
          return true;
        }
      }
      return false;
    }));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    agent.Signal(SIGTERM);
    REQUIRE(agent.WaitExit().value_or(0) == 128 + SIGKILL);
  }
  // Dead agent: the bundle is in one place, whichever side of the commit point it died on.
  std::vector<std::string> places;
  if (fs::exists(inbox + "/held")) places.push_back("inbox");
  // Past the commit point, the complete copy under its staging name is the bundle.
  for (const auto& e : fs::directory_iterator(inbox)) {
    const std::string n = e.path().filename().string();
    if (n.rfind(".bundlegate-returning-", 0) == 0 && fs::exists(e.path() / "bundle.toml")) {
      bool aside = false;
      for (const auto& w : fs::directory_iterator(root.work())) {
        aside = aside || fs::exists(w.path() / (".returned-" + w.path().filename().string()));
      }
      if (aside) places.push_back("inbox (returning)");
    }
  }
  for (const auto& e : fs::directory_iterator(root.work())) {
    if (fs::exists(e.path() / "bundle")) places.push_back("work");
  }
  INFO("places after the kill: " << places.size());
  CHECK(places.size() == 1);

  fs::remove(root.tmp() / "flags/hold-1");
  root.WriteConfig("intake = \"copy\"\nplugin_dirs = [\"plugins\"]\n", tables);
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  REQUIRE(WaitForAudit(root.audit_log(), DecisionFor("held"), 1).size() == 1);
  REQUIRE(WaitUntil([&] { return fs::is_empty(root.work()) && !fs::exists(inbox + "/held"); }));
  INFO("agent log:\n" << agent.Log());
  CHECK(WaitForAudit(root.audit_log(), DecisionFor("held"), 2, Millis(1500)).size() == 1);
  CHECK(Current(root) == "1");
  for (const auto& e : fs::directory_iterator(inbox)) {
    CHECK(e.path().filename().string().rfind(".bundlegate-returning-", 0) != 0);
  }
  CHECK(VerifyAudit(root) == 0);
}

}  // namespace

TEST_CASE("item 14: a return across filesystems killed after its copy") {
  ReturnAcrossKilledAt("return.after-copy");
}
TEST_CASE("item 14: a return across filesystems killed at its commit point") {
  ReturnAcrossKilledAt("return.after-set-aside");
}
TEST_CASE("item 14: a return across filesystems killed after the rename into the inbox") {
  ReturnAcrossKilledAt("return.after-rename");
}

TEST_CASE("item 3: a bundle whose checks kill the agent three times is quarantined, not re-checked") {
  AgentRoot root;
  for (int death = 1; death <= 3; ++death) {
    AgentProcess agent(root, {{"BUNDLEGATE_CRASH_AT", "check.after-attempt"}});
    REQUIRE(agent.WaitReady());
    if (death == 1) root.Drop("poison", Svc("1"));
    INFO("death " << death << ", agent log:\n" << agent.Log());
    REQUIRE(agent.WaitExit().value_or(0) == 128 + SIGKILL);
  }
  // A fourth start without the crash: were the bundle checked again, it would be promoted.
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  const auto d = WaitForAudit(root.audit_log(), DecisionFor("poison"));
  INFO("agent log:\n" << agent.Log());
  REQUIRE(d.size() == 1);
  REQUIRE(WaitForIdle(root));
  CHECK(d[0]["event"] == "rejected");
  CHECK(d[0]["reason"] == "plugin-crashed");
  CHECK_THAT(d[0]["message"].get<std::string>(), Catch::Contains("died 3 times"));
  const json rejected = json::parse(ReadFile(d[0]["path"].get<std::string>() + "/REJECTED.json"));
  CHECK(rejected["checks"][0]["details"]["agent_deaths"] == 3);
  CHECK(Locate(root, "poison", "1") == std::vector<std::string>{"quarantine"});
  // The gate goes on with other bundles.
  root.Drop("fine", Svc("2"));
  const auto fine = WaitForAudit(root.audit_log(), DecisionFor("fine"));
  REQUIRE(fine.size() == 1);
  CHECK(fine[0]["event"] == "promoted");
  CHECK(VerifyAudit(root) == 0);
}
