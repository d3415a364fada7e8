// An inbox on another filesystem than the root (here: tmpfs in /dev/shm against the root's
// filesystem): allowed with copy intake, refused with move intake. Bundles are claimed within
// the inbox's filesystem, copied into work/, and what must be kept "as received" (an unsafe
// bundle) is copied across into quarantine/ with a list of what could not be.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/support/agent_process.h"

using namespace bg::test;
namespace fs = std::filesystem;

namespace {

// A directory on /dev/shm (tmpfs), removed at the end; empty when /dev/shm is unusable or on
// the same filesystem as the root.
class ShmDir {
 public:
  explicit ShmDir(const std::string& root_parent) {
    std::string templ = "/dev/shm/bundlegate-test-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) return;
    struct stat a, b;
    if (::stat(templ.c_str(), &a) == 0 && ::stat(root_parent.c_str(), &b) == 0 && a.st_dev != b.st_dev) {
      path_ = templ;
    } else {
      fs::remove_all(templ);
    }
  }
  ~ShmDir() {
    if (!path_.empty()) fs::remove_all(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

TEST_CASE("copy intake from an inbox on another filesystem promotes and quarantines") {
  AgentRoot root;
  ShmDir shm(root.tmp().path());
  if (shm.path().empty()) {
    WARN("no second filesystem (/dev/shm) here: skipped");
    return;
  }
  const std::string inbox = shm.path() + "/inbox";
  WriteFile(root.config(), "intake = \"copy\"\nrequire_parity = false\n[paths]\nroot = \"root\"\n"
                           "inbox = \"" + inbox + "\"\n[watch]\nsettle_ms = 100\n");

  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  BundleSpec good;
  good.name = "xfs";
  good.version = "1";
  WriteBundle(inbox + "/.good.tmp", good);
  fs::rename(inbox + "/.good.tmp", inbox + "/good");
  BundleSpec bad = good;
  bad.version = "2";
  WriteBundle(inbox + "/.bad.tmp", bad);
  REQUIRE(::symlink("/etc/passwd", (inbox + "/.bad.tmp/evil").c_str()) == 0);
  fs::rename(inbox + "/.bad.tmp", inbox + "/bad");

  WriteFile(shm.path() + "/stray.pt", "weights");
  fs::rename(shm.path() + "/stray.pt", inbox + "/stray.pt");

  auto d = WaitForAudit(root.audit_log(), DecisionFor("good"));
  REQUIRE(d.size() == 1);
  CHECK(d[0]["event"] == "promoted");
  // Across filesystems neither a reflink nor copy_file_range can: the bytes went through.
  CHECK(d[0]["intake_copy"] == json{{"read-write", d[0]["intake_copy"].value("read-write", 0)}});
  CHECK(d[0]["intake_copy"].value("read-write", 0) >= 1);
  d = WaitForAudit(root.audit_log(), DecisionFor("stray.pt"));
  REQUIRE(d.size() == 1);
  CHECK(d[0]["reason"] == "manifest-invalid");
  CHECK(ReadFile(d[0]["path"].get<std::string>() + "/stray.pt") == "weights");
  d = WaitForAudit(root.audit_log(), DecisionFor("bad"));
  REQUIRE(d.size() == 1);
  CHECK(d[0]["reason"] == "unsafe-path");
  REQUIRE(WaitForIdle(root));
  const std::string q = d[0]["path"];
  // Kept as received, across filesystems: the files, and the symlink as a symlink.
  CHECK(fs::is_symlink(q + "/evil"));
  CHECK(fs::read_symlink(q + "/evil") == "/etc/passwd");
  CHECK(fs::exists(q + "/REJECTED.json"));
  CHECK(ServingProblems(root).empty());
  // Nothing left behind on the inbox's filesystem.
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(inbox)) {
    const std::string n = e.path().filename().string();
    if (n != ".bundlegate-claimed") left.push_back(n);
  }
  CHECK(left.empty());
  CHECK(fs::is_empty(inbox + "/.bundlegate-claimed"));
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("move intake from an inbox on another filesystem is refused at startup") {
  AgentRoot root;
  ShmDir shm(root.tmp().path());
  if (shm.path().empty()) {
    WARN("no second filesystem (/dev/shm) here: skipped");
    return;
  }
  WriteFile(root.config(), "intake = \"move\"\nrequire_parity = false\n[paths]\nroot = \"root\"\ninbox = \"" +
                               shm.path() + "/inbox\"\n");
  AgentProcess agent(root);
  REQUIRE(agent.WaitExit() == 2);
  CHECK_THAT(agent.Log(), Catch::Contains("intake = \"move\" needs one filesystem"));
}

namespace {

// Kills the agent at `crash_at` while it handles an unsafe bundle from a tmpfs inbox, restarts
// it, and checks that the bundle ends in quarantine once, complete, with one record.
void CrashAcrossFilesystems(const std::string& crash_at) {
  AgentRoot root;
  ShmDir shm(root.tmp().path());
  if (shm.path().empty()) {
    WARN("no second filesystem (/dev/shm) here: skipped");
    return;
  }
  const std::string inbox = shm.path() + "/inbox";
  WriteFile(root.config(), "require_parity = false\n[paths]\nroot = \"root\"\ninbox = \"" + inbox +
                               "\"\n[watch]\nsettle_ms = 100\n");
  BundleSpec bad;
  bad.name = "xfs";
  bad.version = "9";
  {
    AgentProcess agent(root, {{"BUNDLEGATE_CRASH_AT", crash_at}});
    REQUIRE(agent.WaitReady());
    WriteBundle(inbox + "/.bad.tmp", bad);
    REQUIRE(::symlink("/etc/passwd", (inbox + "/.bad.tmp/evil").c_str()) == 0);
    fs::rename(inbox + "/.bad.tmp", inbox + "/bad");
    REQUIRE(agent.WaitExit().value_or(0) == 128 + 9);
  }
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  const auto d = WaitForAudit(root.audit_log(), DecisionFor("bad"));
  INFO("agent log:\n" << agent.Log());
  REQUIRE(d.size() == 1);
  CHECK(d[0]["reason"] == "unsafe-path");
  REQUIRE(WaitForIdle(root));
  int quarantined = 0;
  for (const auto& q : fs::directory_iterator(root.quarantine())) {
    ++quarantined;
    CHECK(fs::is_symlink(q.path() / "evil"));
    CHECK(fs::exists(q.path() / "model.pt"));
    CHECK(fs::exists(q.path() / "bundle.toml"));
  }
  CHECK(quarantined == 1);
  CHECK(d[0]["path"].get<std::string>().rfind(root.quarantine(), 0) == 0);
  CHECK(fs::exists(d[0]["path"].get<std::string>() + "/REJECTED.json"));
  for (const auto& e : fs::directory_iterator(inbox)) {
    if (e.path().filename() == ".bundlegate-claimed") {
      CHECK(fs::is_empty(e.path()));
    } else {
      FAIL_CHECK("left in the inbox: " << e.path());
    }
  }
  CHECK(VerifyAudit(root) == 0);
}

}  // namespace

TEST_CASE("kill -9 while quarantining across filesystems: one complete copy, one record") {
  for (const char* point : {"claim.after-rename", "quarantine.after-rejected-json",
                            "quarantine.after-rename", "quarantine.after-audit"}) {
    INFO("crash at " << point);
    CrashAcrossFilesystems(point);
  }
}
