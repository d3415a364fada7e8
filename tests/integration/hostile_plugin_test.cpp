// The real agent runs a hostile plugin (hostile_plugin.cpp) on real bundles: as root, as an
// unprivileged user, and as an unprivileged user on a "kernel" without user namespaces
// (bg_without_userns). Inside the sandbox the plugin attacks the audit log and serving/ (read
// and write), another bundle's work/ snapshot, its own bundle, the agent's config and a private
// key beside it, /etc/shadow, a TCP listener of this test, the agent (signals, ptrace, its
// memory), the kernel (namespaces, mount, bpf, io_uring, keyctl), the process table (10,000
// forks, a setsid grandchild that would outlive the run), its tmpfs, its open files and the
// address space. Each attempt's outcome is in its result; this test asserts every one was
// blocked or contained, and checks the same from outside: the audit log verifies and its first
// line is unchanged, what is served is intact, the victim bundle is unchanged, the listener saw
// no connection, no process of the plugin is left, and the agent is up and promotes the next
// good bundle. A required layer that cannot be had fails the bundle closed with plugin-error.
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "agent/sandbox/process_isolation.h"
#include "tests/support/agent_process.h"
#include "tests/support/loopback_listener.h"
#include "tests/support/process.h"

using namespace bg::test;
namespace fs = std::filesystem;

namespace {

constexpr int kNobody = 65534;

struct Mode {
  std::string name;
  std::vector<std::string> wrapper;  // runs the agent: empty for root
  bool userns = true;                // namespaces available to the agent
  std::vector<std::string> skip;     // attacks that cannot be contained in this mode
  bool warm = false;                 // through a warm worker's request child (serve.h)
  std::string tag;                   // suffixes the plugin's process names (bg-victim-<tag>)
  std::string plugin_user = "nobody";  // sandbox.plugin_user (used where the agent is root)
  std::string Proc(const std::string& base) const { return (base + "-" + tag).substr(0, 15); }
};

// Through a warm worker. As root the plugin user must have a group of its own (warm workers
// are off otherwise, plugin_check.cpp): the package's bundlegate-plugin (scripts/bootstrap
// makes it).
Mode Warm(Mode mode) {
  mode.name += ", warm worker";
  mode.warm = true;
  mode.tag += "w";
  if (mode.wrapper.empty()) mode.plugin_user = "bundlegate-plugin";
  return mode;
}

// The uid the plugin runs as: the plugin user's where the agent is root, else the agent's.
int PluginUid(const Mode& mode) {
  if (!mode.wrapper.empty()) return kNobody;
  const passwd* pw = ::getpwnam(mode.plugin_user.c_str());
  return pw ? static_cast<int>(pw->pw_uid) : -1;
}

Mode AsRoot() { return {"root", {}, true, {}, false, "r"}; }
Mode AsNobody() {
  return {"unprivileged",
          {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"},
          true,
          {},
          false,
          "u"};
}
// Without user namespaces there is no PID namespace: a setsid grandchild escapes the process
// group (the report says pid is not applied), /proc is the host's, and a fork bomb would count
// against the agent's own uid. Those are left out; Landlock and seccomp must hold the rest.
Mode WithoutUserNamespaces() {
  return {"no user namespaces",
          {BG_WITHOUT_USERNS, std::to_string(kNobody), std::to_string(kNobody)},
          false,
          {"setsid_grandchild", "fork_bomb", "agent_proc_cmdline"},
          false,
          "n"};
}

std::string HostileDir() { return fs::path(BG_HOSTILE_PLUGIN).parent_path().string(); }

void GiveTo(const std::string& dir, int uid) {
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    ::lchown(e.path().c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(uid));
  }
  ::chown(dir.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(uid));
}

std::string Toml(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& s : items) out += (out.size() > 1 ? ", \"" : "\"") + s + "\"";
  return out + "]";
}

void WriteHostileConfig(AgentRoot& root, const Mode& mode, const std::string& sandbox_extra) {
  root.WriteConfig("workers = 2\nplugin_dirs = [\"" + HostileDir() + "\"]\n",
                   "[sandbox]\nplugin_user = \"" + mode.plugin_user + "\"\n" + sandbox_extra +
                       "\n[[checks]]\nkind = \"hostile\"\ntimeout_s = 120\nmemory_mb = 2048\n"
                       "tmpfs_mb = 16\npids_max = 256\nexpect_tmpfs_mb = 16\nskip = " +
                       Toml(mode.skip) +
                       "\nwarm = " + (mode.warm ? "true" : "false") + "\ntag = \"" + mode.tag +
                       "\"\n[[checks]]\nkind = \"escape\"\ntimeout_s = 3\nwarm = " +
                       (mode.warm ? "true" : "false") + "\ntag = \"" + mode.tag + "\"\n");
}

std::unique_ptr<AgentProcess> StartAgent(AgentRoot& root, const Mode& mode) {
  if (!mode.wrapper.empty()) {
    fs::create_directories(root.root());
    GiveTo(root.tmp().path(), kNobody);
  }
  auto agent = std::make_unique<AgentProcess>(root, std::map<std::string, std::string>{},
                                              mode.wrapper);
  REQUIRE(agent->WaitReady());
  return agent;
}

// Drops a bundle the way a producer running as the agent's user would (files it owns).
void Drop(const AgentRoot& root, const Mode& mode, const std::string& inbox_name,
          const BundleSpec& spec) {
  fs::create_directories(root.inbox());
  const std::string staging = root.inbox() + "/." + inbox_name + ".tmp";
  WriteBundle(staging, spec);
  if (!mode.wrapper.empty()) GiveTo(staging, kNobody);
  fs::rename(staging, root.inbox() + "/" + inbox_name);
}

json Decision(const AgentRoot& root, const std::string& inbox_name) {
  const auto d = WaitForAudit(root.audit_log(), DecisionFor(inbox_name), 1, Millis(240000));
  REQUIRE(d.size() == 1);
  return d[0];
}

// The check result of `kind` in the REJECTED file of a quarantined bundle.
json RejectedCheck(const AgentRoot& root, const std::string& kind) {
  for (const auto& e : fs::recursive_directory_iterator(root.quarantine())) {
    const std::string name = e.path().filename();
    if (name.rfind("REJECTED", 0) != 0 || e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    const json j = json::parse(in, nullptr, false);
    if (!j.is_object() || !j.contains("checks")) continue;
    for (const auto& c : j["checks"]) {
      if (c.value("check", "") == kind && c.contains("details") &&
          c["details"].contains("attempts")) {
        return c;
      }
    }
  }
  return nullptr;
}

std::string FindWorkSnapshot(const AgentRoot& root, const std::string& name) {
  std::string found;
  WaitUntil([&] {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root.work(), ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->path().filename() != "bundle.toml" || it->path().parent_path().filename() != "bundle") {
        continue;
      }
      std::ifstream in(it->path());
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (text.find("name = \"" + name + "\"") != std::string::npos) {
        found = it->path().parent_path().string();
        return true;
      }
    }
    return false;
  }, Millis(60000));
  return found;
}

std::vector<pid_t> ProcessesNamed(const std::string& comm) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string pid = e.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "comm");
    std::string c;
    std::getline(in, c);
    std::ifstream stat(e.path() / "stat");
    std::string field, name, state;
    stat >> field >> name >> state;
    if (c == comm && state != "Z") out.push_back(std::stoi(pid));
  }
  return out;
}

bool NoneLeft(const std::string& comm) {
  return WaitUntil([&] { return ProcessesNamed(comm).empty(); }, Millis(20000));
}

BundleSpec Named(const std::string& name, const std::string& version = "1.0") {
  BundleSpec spec;
  spec.name = name;
  spec.version = version;
  return spec;
}

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// A process of the plugins' uid outside any sandbox that notes a SIGCONT in `hit`.
class Canary {
 public:
  explicit Canary(const std::string& dir) : hit_(dir + "/canary-hit") {
    fs::create_directories(dir);
    GiveTo(dir, kNobody);
    ::chmod(fs::path(dir).parent_path().c_str(), 0755);  // a TempDir is 0700
    const std::string ready = dir + "/canary-ready";
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string code =
          "import signal, time\n"
          "signal.signal(signal.SIGCONT, lambda *a: open('" + hit_ + "', 'w').write('hit'))\n"
          "open('" + ready + "', 'w').write('ready')\n"
          "while True: time.sleep(1)\n";
      const std::string python = SystemPython();
      ::execl("/usr/bin/setpriv", "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
              python.c_str(), "-c", code.c_str(), nullptr);
      ::_exit(127);
    }
    REQUIRE(WaitUntil([&] { return fs::exists(ready); }, Millis(30000)));
  }
  ~Canary() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  bool hit() const { return fs::exists(hit_); }

 private:
  std::string hit_;
  pid_t pid_ = -1;
};

void RunHostile(const Mode& mode) {
  INFO("mode: " << mode.name);
  if (PluginUid(mode) < 0) {
    WARN("skipped: no user " << mode.plugin_user << " (scripts/bootstrap creates it)");
    return;
  }
  AgentRoot root;
  WriteHostileConfig(root, mode, "");
  const LoopbackListener listener;
  const Canary canary(root.tmp() / "canary");
  // A private key beside the config, readable by the agent's uid only.
  const std::string key = root.tmp() / "keys/release.key";
  WriteFile(key, "-----BEGIN PRIVATE KEY-----\nnot for plugins\n");
  ::chmod(key.c_str(), 0600);
  auto agent = StartAgent(root, mode);

  // Something served, for the attacker to overwrite.
  Drop(root, mode, "good", Named("good"));
  REQUIRE(Decision(root, "good")["event"] == "promoted");
  const std::string served = root.serving() + "/good/1.0/model.pt";
  const std::string served_before = ReadFile(served);
  const std::string audit_line1 = FirstLine(root.audit_log());

  // Another bundle held in work/ while the attacker runs.
  Drop(root, mode, "victim", Named("victim"));
  const std::string victim = FindWorkSnapshot(root, "victim");
  REQUIRE(!victim.empty());
  const std::string victim_proc = mode.Proc("bg-victim");
  REQUIRE(WaitUntil([&] { return !ProcessesNamed(victim_proc).empty(); }, Millis(60000)));
  const std::string victim_model = ReadFile(victim + "/model.pt");
  // From outside: the victim's plugin is confined, whatever its own view claims.
  const auto iso = bg::sandbox::ReadProcessIsolation(ProcessesNamed(victim_proc).front());
  CHECK(iso.Confined());
  CHECK(iso.uid == PluginUid(mode));
  if (mode.userns && iso.ns_readable) {
    CHECK(iso.own_mnt);
    CHECK(iso.own_pid);
    CHECK(iso.own_net);
  }

  BundleSpec attacker = Named("attacker");
  attacker.files["targets.json"] =
      json{{"agent_pid", agent->pid()},     {"audit_log", root.audit_log()},
           {"config", root.config()},       {"key", key},
           {"root", root.root()},           {"serving_model", served},
           {"victim_dir", victim},          {"plugin_dir", HostileDir()},
           {"port", listener.port()}}.dump();
  Drop(root, mode, "attacker", attacker);
  const json decision = Decision(root, "attacker");
  CHECK(decision["event"] == "rejected");
  CHECK(decision["reason"] == "unsafe-model");
  const json check = RejectedCheck(root, "hostile");
  INFO(check.dump(2));
  REQUIRE(check.is_object());
  const json& attempts = check["details"]["attempts"];
  for (const char* name :
       {"audit_read", "audit_append", "audit_rewrite", "audit_truncate", "audit_replace", "serving_read", "serving_overwrite",
        "serving_create", "victim_read", "victim_write", "work_list", "root_list",
        "own_bundle_write", "own_bundle_create", "own_bundle_chmod", "shadow_read", "config_read",
        "key_read",
        "write_outside_tmp", "tcp_connect", "udp_socket", "ipv6_socket", "netlink_socket",
        "signal_agent", "signal_everyone", "ptrace_agent", "agent_memory", "agent_proc_mem",
        "parent_ptrace", "parent_memory",
        "agent_proc_cmdline", "new_user_namespace", "mount_tmpfs", "bpf", "io_uring", "keyctl",
        "setuid_root", "fill_tmp", "map_64g", "fd_exhaust", "setsid_grandchild", "fork_bomb"}) {
    if (std::find(mode.skip.begin(), mode.skip.end(), name) != mode.skip.end()) continue;
    INFO(name);
    REQUIRE(attempts.contains(name));
    CHECK(attempts[name]["blocked"] == true);
  }
  // It ran where the mode says: in a warm worker's request child, or cold.
  CHECK(check["details"]["runner"].contains("warm_worker") == mode.warm);
  const json& isolation = check["details"]["runner"]["isolation"];
  CHECK(isolation["seccomp"]["applied"] == true);
  CHECK(isolation["user"]["applied"] == true);
  CHECK(isolation["rlimit"]["applied"] == true);
  CHECK(isolation["landlock"]["applied"] == true);
  CHECK(isolation["mount"]["applied"] == mode.userns);
  CHECK(isolation["pid"]["applied"] == mode.userns);
  CHECK(isolation["network"]["applied"] == mode.userns);

  // From outside: nothing reached.
  CHECK(ReadFile(served) == served_before);
  CHECK(ServingProblems(root).empty());
  CHECK(FirstLine(root.audit_log()) == audit_line1);
  CHECK(VerifyAudit(root) == 0);
  CHECK(ReadFile(victim + "/model.pt") == victim_model);
  CHECK_FALSE(listener.HasPendingConnection());
  CHECK_FALSE(canary.hit());
  CHECK(agent->running());
  if (mode.userns) {
    CHECK(NoneLeft(mode.Proc("bg-escapee")));
    CHECK(NoneLeft(mode.Proc("bg-bomb")));

    // A setsid grandchild of a run that times out dies with it.
    Drop(root, mode, "escaper", Named("escaper"));
    const json escaped = Decision(root, "escaper");
    CHECK(escaped["reason"] == "plugin-timeout");
    CHECK(NoneLeft(mode.Proc("bg-escapee")));
  }

  // Unharmed: the next good bundle is promoted while the victim still hangs.
  Drop(root, mode, "good2", Named("good", "2.0"));
  CHECK(Decision(root, "good2")["event"] == "promoted");
  CHECK(agent->running());
  agent->Signal(SIGTERM);
  CHECK(agent->WaitExit(Millis(60000)) == 0);
  CHECK(NoneLeft(victim_proc));
  CHECK(VerifyAudit(root) == 0);
}

}  // namespace

TEST_CASE("a hostile plugin reaches nothing: the agent as root") {
  if (::geteuid() != 0) { WARN("skipped: " "needs root"); return; };
  RunHostile(AsRoot());
}

TEST_CASE("a hostile plugin reaches nothing: the agent as an unprivileged user") {
  if (::geteuid() != 0) { WARN("skipped: " "needs root to start the agent as another user"); return; };
  RunHostile(AsNobody());
}

TEST_CASE("a hostile plugin reaches nothing: unprivileged, without user namespaces") {
  if (::geteuid() != 0) { WARN("skipped: " "needs root to start the agent as another user"); return; };
  RunHostile(WithoutUserNamespaces());
}

// The same attacks from a warm worker's request child: isolation per bundle is a cold run's.
TEST_CASE("a hostile plugin reaches nothing through a warm worker: the agent as root") {
  if (::geteuid() != 0) { WARN("skipped: " "needs root"); return; };
  RunHostile(Warm(AsRoot()));
}

TEST_CASE("a hostile plugin reaches nothing through a warm worker: unprivileged") {
  if (::geteuid() != 0) { WARN("skipped: " "needs root to start the agent as another user"); return; };
  RunHostile(Warm(AsNobody()));
}

TEST_CASE("a hostile plugin reaches nothing through a warm worker: without user namespaces") {
  if (::geteuid() != 0) { WARN("skipped: " "needs root to start the agent as another user"); return; };
  RunHostile(Warm(WithoutUserNamespaces()));
}

TEST_CASE("a required isolation layer the kernel refuses fails the bundle with plugin-error") {
  if (::geteuid() != 0) { WARN("skipped: " "needs root to start the agent as another user"); return; };
  AgentRoot root;
  root.WriteConfig("plugin_dirs = [\"" + HostileDir() + "\"]\n",
                   "[sandbox]\nrequire_isolation = [\"seccomp\", \"landlock\"]\n"
                   "[[checks]]\nkind = \"hostile\"\nrequire_isolation = [\"mount\", \"pid\"]\n");
  const Mode mode = WithoutUserNamespaces();
  auto agent = StartAgent(root, mode);
  Drop(root, mode, "good", Named("good"));
  const json d = Decision(root, "good");
  INFO(d.dump());
  CHECK(d["event"] == "rejected");
  CHECK(d["reason"] == "plugin-error");
  std::string summary;
  for (const auto& c : d["checks"]) {
    if (c["check"] == "hostile") summary = c.value("summary", "");
  }
  CHECK_THAT(summary, Catch::Contains("required isolation layer \"mount\" was not applied"));
  CHECK_THAT(summary, Catch::Contains("unshare(CLONE_NEWNS)"));
  CHECK(agent->running());
}

TEST_CASE("an unknown isolation layer is a configuration error naming its line") {
  AgentRoot root;
  root.WriteConfig("plugin_dirs = [\"" + HostileDir() + "\"]\n",
                   "[sandbox]\nrequire_isolation = [\"mount\", \"apparmor\"]\n");
  auto r = RunBundlegate({"config", "check", "--config", root.config()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("bundlegate.toml:") &&
                        Catch::Contains(": sandbox.require_isolation: unknown isolation layer "
                                        "\"apparmor\" (known: mount, landlock, pid, seccomp"));
  root.WriteConfig("plugin_dirs = [\"" + HostileDir() + "\"]\n",
                   "[sandbox]\nlayers = [\"rlimit\", \"seccomp\"]\n"
                   "[[checks]]\nkind = \"hostile\"\nrequire_isolation = [\"selinux\"]\n"
                   "[[checks]]\nkind = \"escape\"\nrequire_isolation = [\"mount\"]\n");
  r = RunBundlegate({"config", "check", "--config", root.config()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains(": checks[0].require_isolation: unknown isolation layer "
                                    "\"selinux\""));
  CHECK_THAT(r.err, Catch::Contains(": checks[1].require_isolation: requires \"mount\", which "
                                    "sandbox.layers leaves out"));
}
