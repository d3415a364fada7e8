// Structured journald fields on the real agent: decisions' lines reach a real systemd-journald
// (one of the test's own, in a private mount namespace: tests/support/private_journald.sh) with
// BUNDLEGATE_* fields and a MESSAGE_ID per event kind, so that
//   journalctl -u bundlegate BUNDLEGATE_REASON=unlisted-file
// finds them; other lines keep their priority. Where journald cannot be started here (not root,
// no mount namespaces), that part says so and the stderr fallback is still tested.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>

#include "tests/support/agent_process.h"
#include "tests/support/process.h"

using namespace bg::test;
namespace fs = std::filesystem;
using std::chrono::seconds;

namespace {

constexpr const char* kPromotedId = "4eb01afc0d6f4fc2918fa799e09277b1";
constexpr const char* kRejectedId = "e26646b21c314eeca1f0fe4937515765";
constexpr const char* kStartedId = "3102e830e4dc472b8f2290419e4cc53c";

BundleSpec Spec(const std::string& version) {
  BundleSpec s;
  s.name = "journal-model";
  s.version = version;
  return s;
}

// Why a private journald cannot run here, or "" when it can.
std::string WhyNoJournald() {
  if (::geteuid() != 0) return "not root";
  if (::access("/lib/systemd/systemd-journald", X_OK) != 0) return "no /lib/systemd/systemd-journald";
  if (::access("/usr/bin/journalctl", X_OK) != 0) return "no journalctl";
  const auto probe = RunProcess({"/usr/bin/unshare", "-m", "/bin/true"});
  if (probe.exit_code != 0) return "cannot make a mount namespace: " + probe.err;
  return "";
}

std::vector<json> Journal(const std::string& dir, const std::string& match) {
  const auto r = RunProcess({"/usr/bin/journalctl", "-D", dir, "--no-pager", "-o", "json", match});
  std::vector<json> records;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object()) records.push_back(std::move(j));
  }
  return records;
}

}  // namespace

TEST_CASE("decisions reach a real journald with BUNDLEGATE_* fields and MESSAGE_IDs") {
  const std::string why = WhyNoJournald();
  if (!why.empty()) {
    WARN("no private journald here (" << why << "): fields tested through stderr only");
    return;
  }
  AgentRoot root("", "[log]\njournal = \"on\"\n");
  const std::string journal = root.tmp() / "journal";
  const std::string pidfile = root.tmp() / "journald.pid";
  fs::create_directories(journal);
  struct StopJournald {
    std::string pidfile;
    ~StopJournald() {
      const std::string pid = ReadFile(pidfile);
      if (!pid.empty()) ::kill(std::stoi(pid), SIGTERM);
    }
  } stop{pidfile};
  AgentProcess agent(root, {},
                     {"/usr/bin/unshare", "-m", "/bin/sh",
                      SourceDir() + "/tests/support/private_journald.sh", journal, pidfile, "--"});
  REQUIRE(agent.WaitReady());
  root.Drop("fine", Spec("1.0.0"));
  BundleSpec bad = Spec("2.0.0");
  bad.unlisted_files["stowaway.bin"] = "x";
  root.Drop("broken", bad);
  const auto rejected_audit = WaitForAudit(root.audit_log(), DecisionFor("broken"));
  REQUIRE(rejected_audit.size() == 1);
  REQUIRE(WaitForAudit(root.audit_log(), DecisionFor("fine")).size() == 1);

  std::vector<json> rejected;
  REQUIRE(WaitUntil([&] {
    rejected = Journal(journal, "BUNDLEGATE_REASON=unlisted-file");
    return !rejected.empty();
  }, seconds(30)));
  REQUIRE(rejected.size() == 1);
  const json& r = rejected[0];
  CHECK(r["MESSAGE_ID"] == kRejectedId);
  CHECK(r["BUNDLEGATE_EVENT"] == "rejected");
  CHECK(r["BUNDLEGATE_NAME"] == "journal-model");
  CHECK(r["BUNDLEGATE_VERSION"] == "2.0.0");
  CHECK(r["BUNDLEGATE_INBOX_NAME"] == "broken");
  CHECK(r["BUNDLEGATE_INTAKE_ID"] == rejected_audit[0]["intake_id"]);
  CHECK(r["PRIORITY"] == "4");
  CHECK(r["SYSLOG_IDENTIFIER"] == "bundlegate");
  CHECK(r["_PID"] == std::to_string(agent.pid()));
  CHECK_THAT(r["MESSAGE"].get<std::string>(), Catch::StartsWith("rejected journal-model 2.0.0"));

  const auto promoted = Journal(journal, std::string("MESSAGE_ID=") + kPromotedId);
  REQUIRE(promoted.size() == 1);
  CHECK(promoted[0]["BUNDLEGATE_EVENT"] == "promoted");
  CHECK(promoted[0]["BUNDLEGATE_VERSION"] == "1.0.0");
  CHECK(promoted[0]["PRIORITY"] == "6");
  CHECK_FALSE(promoted[0].contains("BUNDLEGATE_REASON"));
  CHECK(Journal(journal, std::string("MESSAGE_ID=") + kStartedId).size() == 1);

  // Other lines keep their priority and carry no decision fields.
  const auto all = Journal(journal, "SYSLOG_IDENTIFIER=bundlegate");
  bool claimed = false;
  for (const auto& line : all) {
    if (line.value("MESSAGE", "").rfind("claimed ", 0) != 0) continue;
    claimed = true;
    CHECK(line["PRIORITY"] == "6");
    CHECK_FALSE(line.contains("BUNDLEGATE_EVENT"));
  }
  CHECK(claimed);
  // They went to the journal, not to stderr as well.
  CHECK(agent.Log().find("rejected journal-model") == std::string::npos);

  agent.Signal(SIGTERM);
  CHECK(agent.WaitExit() == 0);
}

TEST_CASE("journal = \"on\" without a journald: the lines go to stderr") {
  if (::access("/run/systemd/journal/socket", F_OK) == 0) {
    WARN("this machine runs journald: the fallback cannot be seen here");
    return;
  }
  AgentRoot root("", "[log]\njournal = \"on\"\n");
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  root.Drop("fine", Spec("1.0.0"));
  REQUIRE(WaitForAudit(root.audit_log(), DecisionFor("fine")).size() == 1);
  CHECK(WaitUntil([&] { return agent.Log().find("promoted journal-model 1.0.0") != std::string::npos; }));
}
