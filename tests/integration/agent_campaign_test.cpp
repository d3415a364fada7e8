// The randomized crash campaign (issue 8): trials of a mixed flood - good bundles, tampered ones,
// non-directories, identical re-drops, the same version twice with different content, and
// `bundlegate rollback` from the CLI at the same time (some of those killed half way) - with the
// real agent killed -9 at a random moment (by a random BUNDLEGATE_CRASH_AT step, or from outside
// at a random time), then a restart and an invariant checker:
//   - every dropped bundle has exactly one decision record (0 lost, 0 decided twice), and is where
//     that record says: served (or retired since, audited), or in quarantine with its REJECTED.json;
//   - nothing is left in the inbox or work/, nothing half-done in serving/ (no partial, unverified
//     or unaudited version, no hidden leftovers, no pending rollback);
//   - `current` is where the last audited event put it;
//   - no version is retired twice; the audit log verifies.
//
// Seeded and reproducible: the seed is printed; BUNDLEGATE_CAMPAIGN_SEED=<n> replays it.
// BUNDLEGATE_CAMPAIGN_TRIALS=<n> runs more trials (default 3, for scripts/test); the summary
// line gives trials, kills, bundles and violations.
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "tests/support/agent_process.h"
#include "tests/support/process.h"

using namespace bg::test;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kAgentCrashPoints = {
    "claim.after-record",      "claim.after-rename",       "copy.after-snapshot",
    "copy.after-record",       "check.after-attempt",      "decide.after-record",
    "promote.after-rename",    "promote.after-link",       "promote.after-history",
    "promote.after-audit",     "retire.after-plan",        "retire.after-hide",
    "retire.after-audit",      "quarantine.after-rejected-json", "quarantine.after-rename",
    "quarantine.after-audit",  "noop.after-audit",         "cleanup.before-remove",
    "audit.before-write",      "audit.after-write",        "audit.after-fsync"};
const std::vector<std::string> kRollbackCrashPoints = {"rollback.after-intent", "rollback.after-audit",
                                                       "rollback.after-swap"};

struct Dropped {
  std::string inbox_name;
  std::string model, version;
  std::string manifest;  // bundle.toml as dropped ("" for a non-directory)
  bool good = false;     // could be promoted (not tampered, not junk)
  BundleSpec spec;
};

struct Totals {
  int trials = 0, kills = 0, crash_point_kills = 0, external_kills = 0, cli_kills = 0;
  int bundles = 0, rollbacks = 0, restarts = 0, violations = 0;
};

class Trial {
 public:
  Trial(std::uint64_t seed, Totals& totals) : rng_(seed), seed_(seed), totals_(totals) {}

  void Run() {
    SetUp();
    {
      std::map<std::string, std::string> env;
      if (Chance(0.6)) {
        const std::string point = Pick(kAgentCrashPoints);
        // The audit log's first append is "started", which may race READY=1: kill later ones.
        crash_at_ = point + ":" + std::to_string(Uniform(point.rfind("audit.", 0) == 0 ? 2 : 1, 3));
        env["BUNDLEGATE_CRASH_AT"] = crash_at_;
      }
      std::cout << "    crash_at " << (crash_at_.empty() ? "(none: killed from outside)" : crash_at_)
                << std::endl;
      auto agent = std::make_unique<AgentProcess>(*root_, env);
      REQUIRE(agent->WaitReady());
      const int steps = Uniform(10, 18);
      // With a crash point the agent dies there (or, if the flood never reaches it, at the end);
      // without one it is killed at a random moment of the flood. Some trials also stop it
      // cleanly midway (bundles in their checks go back to the inbox) and start it again.
      const int kill_at = crash_at_.empty() ? Uniform(3, steps) : steps;
      const int restart_at = Chance(0.3) ? Uniform(1, steps - 1) : -1;
      for (int step = 0; step < steps; ++step) {
        if (step == kill_at) KillNow(*agent, Uniform(0, 250));
        if (step == restart_at && !killed_ && agent->running()) {
          agent->Signal(SIGTERM);
          const auto code = agent->WaitExit();
          if (code == 128 + SIGKILL) {
            CountCrashPointKill();
          } else {
            if (code != 0) Violation("SIGTERM: exit " + std::to_string(code.value_or(-1)));
            ++totals_.restarts;
            agent = std::make_unique<AgentProcess>(*root_, env);
            if (!agent->WaitReady()) Violation("the agent did not start again after SIGTERM");
          }
        }
        Step(step);
        Sleep(Uniform(0, 60));
      }
      if (!crash_at_.empty()) {
        WaitUntil([&] { return !agent->running(); }, Millis(Uniform(500, 3000)));
      }
      KillNow(*agent, Uniform(0, 150));
    }
    // While it is down: a drop, and an operator rolling back what looks wrong.
    Step(1000);
    for (int model = 0; model < 2; ++model) {
      if (Chance(0.7)) Rollback(/*may_crash=*/false, "m" + std::to_string(model));
    }
    AgentProcess agent(*root_);
    REQUIRE(agent.WaitReady());
    const bool settled = WaitUntil([&] { return AllDecided() && Idle(); }, Millis(120000));
    if (!settled) Violation("not everything was decided within 120 s after the restart");
    agent.Signal(SIGTERM);
    if (agent.WaitExit() != 0) Violation("the restarted agent did not stop cleanly");
    const int before = totals_.violations;
    Check();
    if (!settled || totals_.violations > before) WARN("agent log after the restart:\n" << agent.Log());
    ++totals_.trials;
    totals_.bundles += static_cast<int>(drops_.size());
  }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[static_cast<std::size_t>(Uniform(0, static_cast<int>(v.size()) - 1))]; }
  static void Sleep(int ms) { std::this_thread::sleep_for(Millis(ms)); }

  void Violation(const std::string& what) {
    ++totals_.violations;
    std::cout << "VIOLATION (seed " << seed_ << ", crash_at " << (crash_at_.empty() ? "-" : crash_at_)
              << "): " << what << std::endl;
  }

  void SetUp() {
    const int keep = Uniform(2, 4);
    root_ = std::make_unique<AgentRoot>();
    const std::string plugin = root_->tmp() / "plugins/bundlegate-check-jitter";
    WriteFile(plugin,
              "#!/bin/sh\n"
              "if [ \"$1\" = --describe ]; then\n"
              "  echo '{\"protocol\": 1, \"kind\": \"jitter\", \"version\": \"1\", \"runtime\": {}}'\n"
              "  exit 0\n"
              "fi\n"
              "cat >/dev/null\n"
              "n=$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')\n"
              "sleep 0.$((n % 4))\n"
              "echo '{\"protocol\": 1, \"status\": \"pass\", \"summary\": \"ok\"}'\n");
    fs::permissions(plugin, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);
    std::string intake = Chance(0.5) ? "copy" : "move";
    std::string paths;
    other_fs_ = std::make_unique<OtherFilesystemDir>(root_->tmp().path());
    if (intake == "copy" && !other_fs_->path().empty() && Chance(0.3)) {
      inbox_ = other_fs_->path() + "/inbox";
      paths = "[paths]\ninbox = \"" + inbox_ + "\"\n\n";
    } else {
      inbox_ = root_->inbox();
    }
    fs::create_directories(inbox_);
    root_->WriteConfig("workers = 2\nshutdown_timeout_s = 1\nintake = \"" + intake +
                           "\"\nplugin_dirs = [\"plugins\"]\n",
                       paths + "[watch]\nsettle_ms = 50\nrescan_interval_s = 60\n\n[serving]\n"
                       "keep_versions = " + std::to_string(keep) + "\n\n[[checks]]\nkind = \"jitter\"\n");
    std::cout << "  trial seed " << seed_ << ": intake " << intake
              << (inbox_ != root_->inbox() ? " (inbox on tmpfs)" : "") << ", keep_versions " << keep
              << std::endl;
  }

  void CountCrashPointKill() {
    if (killed_) return;
    killed_ = true;
    ++totals_.kills;
    ++totals_.crash_point_kills;
  }

  void KillNow(AgentProcess& agent, int after_ms) {
    Sleep(after_ms);
    if (!agent.running()) {
      CountCrashPointKill();
      return;
    }
    if (killed_) return;
    agent.Signal(SIGKILL);
    agent.WaitExit();
    killed_ = true;
    ++totals_.kills;
    ++totals_.external_kills;
  }

  // Writes `spec` under a dot-name in the inbox, perhaps tampers with it, renames it in.
  // Some names carry bytes that are not UTF-8 (a name is bytes).
  std::string Name(const std::string& base) { return Chance(0.15) ? base + "-\xff\xfe" : base; }

  void DropBundle(const std::string& base_name, const BundleSpec& spec, bool tamper) {
    const std::string inbox_name = Name(base_name);
    const std::string staging = inbox_ + "/.staging-" + base_name + ".tmp";
    WriteBundle(staging, spec);
    Dropped d;
    d.inbox_name = inbox_name;
    d.model = spec.name;
    d.version = spec.version;
    d.manifest = ReadFile(staging + "/bundle.toml");
    d.good = !tamper;
    d.spec = spec;
    if (tamper) AppendFile(staging + "/model.pt", "tampered");
    fs::rename(staging, inbox_ + "/" + inbox_name);
    drops_.push_back(std::move(d));
  }

  BundleSpec NewVersion(const std::string& weights_tag) {
    BundleSpec s;
    s.name = "m" + std::to_string(Uniform(0, 1));
    s.version = std::to_string(++next_version_[s.name]);
    s.files["model.pt"] = "weights " + s.name + " " + s.version + " " + weights_tag;
    return s;
  }

  void Step(int step) {
    const std::string id = "d" + std::to_string(step);
    std::vector<const Dropped*> good;
    for (const auto& d : drops_) {
      if (d.good) good.push_back(&d);
    }
    const int kind = Uniform(0, 99);
    if (kind < 35 || good.empty()) {
      DropBundle(id + "-good", NewVersion(std::to_string(seed_)), false);
    } else if (kind < 48) {
      DropBundle(id + "-bad", NewVersion("bad"), true);
    } else if (kind < 63) {
      BundleSpec again = Pick(good)->spec;
      DropBundle(id + "-again", again, false);
    } else if (kind < 76) {
      BundleSpec other = Pick(good)->spec;
      other.files["model.pt"] += " but different";
      DropBundle(id + "-other", other, false);
    } else if (kind < 81) {
      const std::string staging = inbox_ + "/." + id + ".tmp";
      WriteFile(staging, "not a bundle");
      Dropped d;
      d.inbox_name = Name(id + "-junk");
      fs::rename(staging, inbox_ + "/" + d.inbox_name);
      drops_.push_back(d);
    } else {
      Rollback(/*may_crash=*/true);
    }
  }

  void Rollback(bool may_crash, std::string model = "") {
    ++totals_.rollbacks;
    if (model.empty()) model = "m" + std::to_string(Uniform(0, 1));
    std::vector<std::string> args = {"rollback", model, "--config", root_->config()};
    if (Chance(0.3) && next_version_[model] > 0) {
      args.push_back("--to");
      args.push_back(std::to_string(Uniform(1, next_version_[model])));
    }
    ProcessOptions options;
    if (may_crash && Chance(0.5)) options.env["BUNDLEGATE_CRASH_AT"] = Pick(kRollbackCrashPoints);
    const auto r = RunBundlegate(args, options);
    if (r.signal == SIGKILL) ++totals_.cli_kills;
  }

  // A record's inbox name as bytes: the hex copy when there is one (not UTF-8), else the text.
  static std::string InboxName(const json& r) {
    const std::string hex = r.value("inbox_name_hex", "");
    if (!hex.empty()) {
      std::string bytes;
      for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
      }
      return bytes;
    }
    return r.value("inbox_name", "");
  }

  // A record's path as bytes.
  static std::string PathOf(const json& r) {
    json j = {{"inbox_name_hex", r.value("path_hex", "")}, {"inbox_name", r.value("path", "")}};
    return InboxName(j);
  }

  bool AllDecided() {
    const auto records = ReadAudit(root_->audit_log());
    std::set<std::string> decided;
    for (const auto& r : records) {
      const std::string e = r.value("event", "");
      if (e == "promoted" || e == "rejected" || e == "lost") decided.insert(InboxName(r));
    }
    for (const auto& d : drops_) {
      if (!decided.count(d.inbox_name)) return false;
    }
    return true;
  }

  bool Idle() {
    std::error_code ec;
    if (!fs::is_empty(root_->work(), ec)) return false;
    for (const auto& e : fs::directory_iterator(inbox_, ec)) {
      if (e.path().filename().string()[0] != '.') return false;
    }
    return true;
  }

  static std::string Text(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec) ? ReadFile(p.string()) : std::string();
  }

  void Check() {
    const auto records = ReadAudit(root_->audit_log());
    CheckDrops(records);
    CheckLeftovers();
    CheckServing(records);
    CheckCurrent(records);
    if (VerifyAudit(*root_) != 0) Violation("the audit log does not verify");
  }

  void CheckDrops(const std::vector<json>& records) {
    for (const auto& d : drops_) {
      std::vector<json> decisions;
      for (const auto& r : records) {
        const std::string e = r.value("event", "");
        if ((e == "promoted" || e == "rejected" || e == "lost") && InboxName(r) == d.inbox_name) {
          decisions.push_back(r);
        }
      }
      if (decisions.empty()) {
        Violation(d.inbox_name + ": lost (no decision record)");
        continue;
      }
      if (decisions.size() > 1) Violation(d.inbox_name + ": decided " + std::to_string(decisions.size()) + " times");
      const json& rec = decisions[0];
      const std::string event = rec.value("event", "");
      const std::string path = PathOf(rec);
      if (event == "lost") {
        Violation(d.inbox_name + ": recorded as lost");
      } else if (event == "promoted") {
        if (!d.good || d.manifest.empty()) Violation(d.inbox_name + ": promoted though tampered or not a bundle");
        const bool retired_since = RetiredAfter(records, d.model, d.version, rec.value("seq", 0));
        if (fs::exists(path)) {
          // (Retired since and promoted again, by another drop of that version, is legitimate.)
          if (Text(fs::path(path) / "bundle.toml") != d.manifest && !retired_since) {
            Violation(d.inbox_name + ": promoted, but " + path + " holds another bundle");
          }
        } else if (!retired_since) {
          Violation(d.inbox_name + ": promoted to " + path + ", which is gone without a retired record");
        }
      } else {
        const std::string intake_id = rec.value("intake_id", "");
        bool found = false;
        std::error_code ec;
        for (const auto& f : fs::directory_iterator(path, ec)) {
          const std::string n = f.path().filename().string();
          if (n.rfind("REJECTED", 0) == 0 && Text(f.path()).find(intake_id) != std::string::npos) found = true;
        }
        if (!found) Violation(d.inbox_name + ": rejected, but " + path + " holds no REJECTED.json of it");
        if (!d.manifest.empty() && Text(fs::path(path) / "bundle.toml") != d.manifest) {
          Violation(d.inbox_name + ": its quarantined copy is not the bundle dropped");
        }
        if (d.manifest.empty() && Text(fs::path(path) / d.inbox_name) != "not a bundle") {
          Violation(d.inbox_name + ": the quarantined file is not what was dropped");
        }
      }
    }
  }

  static bool RetiredAfter(const std::vector<json>& records, const std::string& model,
                           const std::string& version, std::uint64_t seq) {
    for (const auto& r : records) {
      if (r.value("event", "") == "retired" && r.value("name", "") == model &&
          r.value("version", "") == version && r.value("seq", std::uint64_t{0}) > seq) {
        return true;
      }
    }
    return false;
  }

  void CheckLeftovers() {
    std::error_code ec;
    if (!fs::is_empty(root_->work(), ec)) Violation("work/ is not empty");
    for (const auto& e : fs::directory_iterator(inbox_, ec)) {
      const std::string n = e.path().filename().string();
      if (n[0] != '.') Violation("left in the inbox: " + n);
      if (n.rfind(".bundlegate-returning-", 0) == 0) Violation("a return copy left in the inbox: " + n);
      if (n == ".bundlegate-claimed" && !fs::is_empty(e.path(), ec)) Violation("claims left in the inbox");
    }
  }

  void CheckServing(const std::vector<json>& records) {
    for (const auto& p : ServingProblems(*root_)) Violation("serving: " + p);
    std::error_code ec;
    for (const auto& model : fs::directory_iterator(root_->serving(), ec)) {
      const std::string name = model.path().filename().string();
      for (const auto& e : fs::directory_iterator(model.path(), ec)) {
        const std::string n = e.path().filename().string();
        if (n == "current" || n == ".history.jsonl") continue;
        if (n[0] == '.') {
          Violation("serving/" + name + ": leftover " + n);
          continue;
        }
        // A visible version: its last event is a (non-noop) promotion, not a retirement.
        std::string last;
        for (const auto& r : records) {
          const std::string ev = r.value("event", "");
          if (r.value("name", "") != name || r.value("version", "") != n) continue;
          if ((ev == "promoted" && !r.value("noop", false)) || ev == "retired") last = ev;
        }
        if (last != "promoted") Violation("serving/" + name + "/" + n + " is served without a promotion record");
      }
    }
    std::map<std::pair<std::string, std::string>, bool> alive;
    for (const auto& r : records) {
      const std::string ev = r.value("event", "");
      const auto key = std::make_pair(r.value("name", ""), r.value("version", ""));
      if (ev == "promoted" && !r.value("noop", false)) alive[key] = true;
      if (ev == "retired") {
        if (!alive[key]) Violation("retired twice: " + key.first + " " + key.second);
        alive[key] = false;
      }
    }
  }

  void CheckCurrent(const std::vector<json>& records) {
    std::map<std::string, std::string> expected;
    for (const auto& r : records) {
      const std::string ev = r.value("event", "");
      const std::string name = r.value("name", "");
      if (ev == "promoted" && !r.value("noop", false)) {
        // "current": where the link is once the record is written (records without it: the
        // promotion made its version current).
        const auto it = r.find("current");
        expected[name] = it == r.end() ? r.value("version", "")
                         : it->is_string() ? it->get<std::string>() : "";
      } else if (ev == "rolled-back") {
        expected[name] = r.value("to", "");
      }
    }
    // A promotion decided before an operator's rollback (audited between the decision and the
    // promotion's record) must not leave its version current over it.
    for (const auto& p : records) {
      if (p.value("event", "") != "promoted" || p.value("noop", false) || !p.contains("decided_after_seq")) continue;
      const auto from = p.value("decided_after_seq", std::uint64_t{0});
      const auto to = p.value("seq", std::uint64_t{0});
      for (const auto& r : records) {
        const auto seq = r.value("seq", std::uint64_t{0});
        if (r.value("event", "") == "rolled-back" && r.value("name", "") == p.value("name", "") &&
            seq > from && seq < to && p.value("current", "") == p.value("version", "") &&
            r.value("to", "") != p.value("version", "")) {
          Violation("promotion of " + p.value("name", "") + " " + p.value("version", "") +
                    " (seq " + std::to_string(to) + ") undid the rollback at seq " + std::to_string(seq));
        }
      }
    }
    for (const auto& [name, version] : expected) {
      std::error_code ec;
      const std::string actual = fs::read_symlink(root_->serving() + "/" + name + "/current", ec).string();
      if (actual != version) {
        Violation("serving/" + name + "/current is \"" + actual + "\", the last audited event put it at \"" +
                  version + "\"");
      }
    }
  }

  std::mt19937_64 rng_;
  std::uint64_t seed_;
  Totals& totals_;
  std::unique_ptr<AgentRoot> root_;
  std::unique_ptr<OtherFilesystemDir> other_fs_;
  std::string inbox_;
  std::string crash_at_;
  bool killed_ = false;
  std::vector<Dropped> drops_;
  std::map<std::string, int> next_version_;
};

std::uint64_t EnvNumber(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

}  // namespace

TEST_CASE("randomized crash campaign: kill -9 anywhere in a mixed flood, then the invariant") {
  const std::uint64_t seed = EnvNumber("BUNDLEGATE_CAMPAIGN_SEED", std::random_device{}());
  const std::uint64_t trials = EnvNumber("BUNDLEGATE_CAMPAIGN_TRIALS", 3);
  std::cout << "crash campaign: seed " << seed << " (BUNDLEGATE_CAMPAIGN_SEED=" << seed
            << " replays it), " << trials << " trials" << std::endl;
  INFO("seed " << seed);
  Totals totals;
  for (std::uint64_t t = 0; t < trials; ++t) {
    Trial trial(seed + t, totals);
    trial.Run();
  }
  std::cout << "crash campaign: " << totals.trials << " trials, " << totals.kills << " agent kills ("
            << totals.crash_point_kills << " at a crash point, " << totals.external_kills
            << " from outside), " << totals.cli_kills << " rollback CLI kills, " << totals.bundles
            << " bundles, " << totals.rollbacks << " rollbacks, " << totals.restarts << " clean restarts, " << totals.violations
            << " violations (seed " << seed << ")" << std::endl;
  CHECK(totals.violations == 0);
}
