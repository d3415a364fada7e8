// The fault matrix: every Env operation of every step of a bundle's way, failed with ENOSPC,
// EIO, EACCES (and EMFILE where a descriptor is opened), in the real agent process.
//
// The steps are not listed by hand: a discovery pass runs a good and a bad bundle through a
// running agent with BUNDLEGATE_FAULT_TRACE on, and every (operation, path) the agent reports
// becomes a step, its path generalized into a glob (the test root and every run of digits: work
// ids, versions, temporary suffixes). So steps added to the agent later are covered without
// touching this file. Each trial then fails the n-th such call once (BUNDLEGATE_FAULT_FILE: one
// agent, rules swapped between trials) and drops a fresh bundle. With the fault lifted (its
// count spent; or, when the agent cannot finish by itself, a restart without it):
//   - the bundle is decided exactly once, and as it deserves (a good one promoted, a tampered
//     one rejected hash-mismatch, one larger than declared size-mismatch and quarantined as
//     received: never a verdict caused by the fault);
//   - every bundle dropped so far is in exactly one of inbox/serving/quarantine, serving/ holds
//     only verified bundles, the audit log verifies.
// By default each step is tried with one fault (rotating through the list) and only its first
// call; BUNDLEGATE_FAULT_MATRIX=full tries every fault at every call of every step. The summary
// (steps, trials, faults hit, restarts needed, violations) is printed at the end.
#include <fnmatch.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>

#include "tests/support/agent_process.h"

using namespace bg::test;
namespace fs = std::filesystem;

namespace {

struct Step {
  std::string op;
  std::string glob;
  int nth = 1;         // which matching call
  int multiplicity = 1;  // matching calls in the discovery run
};

bool FullMatrix() {
  const char* v = std::getenv("BUNDLEGATE_FAULT_MATRIX");
  return v != nullptr && std::string(v) == "full";
}

std::vector<std::string> FaultsFor(const std::string& op) {
  std::vector<std::string> errs = {"ENOSPC", "EIO", "EACCES"};
  if (op == "open") errs.push_back("EMFILE");
  return errs;
}

// A path as a glob that matches the same step in a later trial.
std::string Generalize(const std::string& path, const std::string& tmp_root) {
  std::string p = path;
  if (p.rfind(tmp_root, 0) == 0) p = "*" + p.substr(tmp_root.size());
  static const std::regex digits("[0-9]+");
  p = std::regex_replace(p, digits, "*");
  // Bracket characters would be glob syntax; our paths have none but be safe.
  static const std::regex special("[\\[\\]?]");
  return std::regex_replace(p, special, "*");
}

bool Matches(const std::string& glob, const std::string& path) {
  return ::fnmatch(glob.c_str(), path.c_str(), 0) == 0;
}

// The steps in a trace: each (op, generalized path) with the ordinal of each of its calls
// among the calls its glob matches (which is how the injector counts).
std::vector<Step> StepsFrom(const std::string& trace, const std::string& tmp_root) {
  std::vector<std::pair<std::string, std::string>> calls;
  std::istringstream in(trace);
  std::string line;
  while (std::getline(in, line)) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    const std::string op = line.substr(0, tab);
    const std::string path = line.substr(tab + 1);
    if (path.find("status.json") != std::string::npos) continue;  // advisory, not a step
    calls.emplace_back(op, path);
  }
  std::map<std::pair<std::string, std::string>, Step> steps;
  std::vector<std::pair<std::string, std::string>> order;
  for (const auto& [op, path] : calls) {
    const std::string glob = Generalize(path, tmp_root);
    auto key = std::make_pair(op, glob);
    if (!steps.count(key)) {
      int before = 0;  // earlier calls of op the glob also matches count too
      for (const auto& [op2, path2] : calls) {
        if (&path2 == &path) break;
        if (op2 == op && Matches(glob, path2)) ++before;
      }
      steps[key] = Step{op, glob, before + 1, 0};
      order.push_back(key);
    }
    ++steps[key].multiplicity;
  }
  std::vector<Step> out;
  for (const auto& key : order) out.push_back(steps[key]);
  return out;
}

// What is dropped: a good bundle; one whose model was changed after it was hashed (same size:
// hash-mismatch, the agent's snapshot is quarantined); one whose model grew (size-mismatch: it
// is read only to its declared size + 1, and the original is quarantined as received).
enum class Kind { kGood, kTampered, kOversized };

const char* KindName(Kind k) {
  return k == Kind::kGood ? "good" : k == Kind::kTampered ? "tampered" : "oversized";
}

struct Summary {
  int steps = 0, trials = 0, hit = 0, restarts = 0, violations = 0;
  std::set<std::string> ops;
  std::vector<std::string> notes;
};

class Matrix {
 public:
  Matrix() {
    // Workers = 1 and one bundle at a time keep the calls in the same order in every trial.
    WriteFile(root_.config(),
              "require_parity = false\nworkers = 1\nshutdown_timeout_s = 10\n"
              "[paths]\nroot = \"root\"\n"
              "[watch]\nsettle_ms = 50\nrescan_interval_s = 1\nhold_backoff_initial_ms = 100\n"
              "hold_backoff_max_s = 1\n"
              "[limits]\nmin_free_bytes = 0\n"
              "[serving]\nkeep_versions = 1\n");
    rules_ = root_.tmp() / "faults";
    trace_ = root_.tmp() / "trace";
    Start(true);
  }

  void Start(bool with_faults) {
    std::map<std::string, std::string> env;
    if (with_faults) {
      env["BUNDLEGATE_FAULT_FILE"] = rules_;
      env["BUNDLEGATE_FAULT_TRACE"] = trace_;
    }
    agent_ = std::make_unique<AgentProcess>(root_, env);
    REQUIRE(agent_->WaitReady());
  }

  void Restart(bool with_faults) {
    logs_ += agent_->Log();
    agent_->Signal(SIGTERM);
    if (!agent_->WaitExit(Millis(30000))) agent_->Signal(SIGKILL);
    agent_.reset();
    Start(with_faults);
  }

  void SetRules(const std::string& rules) {
    WriteFile(rules_ + ".new", rules);
    fs::rename(rules_ + ".new", rules_);
  }

  // Drops bundle number `n` of `kind`.
  std::string Drop(Kind kind, int n) {
    const std::string name = std::string(1, KindName(kind)[0]) + std::to_string(n);
    BundleSpec spec;
    spec.name = "matrix";
    spec.version = "v" + std::to_string(n);
    const std::string staging = root_.inbox() + "/." + name + ".tmp";
    WriteBundle(staging, spec);
    if (kind == Kind::kTampered) ReplaceInFile(staging + "/model.pt", "placeholder", "PLACEHOLDER");
    if (kind == Kind::kOversized) AppendFile(staging + "/model.pt", std::string(4096, 'x'));
    fs::rename(staging, root_.inbox() + "/" + name);
    dropped_.push_back({name, spec.version});
    return name;
  }

  std::string Trace() { return ReadFileOr(trace_); }
  void ClearTrace() { WriteFile(trace_, ""); }
  const AgentRoot& root() const { return root_; }
  std::string Log() { return logs_ + (agent_ ? agent_->Log() : ""); }

  // Waits for `name`'s decision; restarts without faults when the agent cannot finish alone.
  // Returns the problems found (empty: the invariant holds and the decision is deserved).
  std::vector<std::string> Settle(const std::string& name, Kind kind, bool* restarted) {
    *restarted = false;
    auto decisions = WaitForAudit(root_.audit_log(), DecisionFor(name), 1, Millis(15000));
    bool idle = !decisions.empty() && WaitForIdle(root_, Millis(5000));
    if (!idle) {
      *restarted = true;
      SetRules("");
      Restart(false);
      decisions = WaitForAudit(root_.audit_log(), DecisionFor(name), 1, Millis(30000));
      idle = WaitForIdle(root_, Millis(20000));
      Restart(true);
    }
    std::vector<std::string> problems;
    decisions = WaitForAudit(root_.audit_log(), DecisionFor(name), 2, Millis(100));
    if (decisions.size() != 1) {
      problems.push_back(name + ": " + std::to_string(decisions.size()) + " decisions");
    } else if (kind == Kind::kGood && decisions[0]["event"] != "promoted") {
      problems.push_back(name + ": a good bundle was " + decisions[0].dump());
    } else if (kind != Kind::kGood &&
               (decisions[0]["event"] != "rejected" ||
                decisions[0]["reason"] != (kind == Kind::kTampered ? "hash-mismatch" : "size-mismatch"))) {
      problems.push_back(name + ": a " + KindName(kind) + " bundle got " + decisions[0].dump());
    } else if (kind == Kind::kOversized) {
      // Quarantined as received: the model whole, appended bytes included.
      const std::string model = decisions[0].value("path", "") + "/model.pt";
      std::error_code ec;
      if (fs::file_size(model, ec) < 4096) problems.push_back(name + ": not quarantined as received");
    }
    if (!idle) problems.push_back(name + ": work/ never emptied");
    for (const auto& d : dropped_) {
      const auto where = Locate(root_, d.name, d.version);
      // Promoted versions may be retired by retention (keep_versions = 1): audited, gone.
      const bool retired = where.empty() && Retired(d.version);
      if (where.size() != 1 && !retired) {
        std::string places;
        for (const auto& w : where) places += w + " ";
        problems.push_back(d.name + " is in " + std::to_string(where.size()) + " places: " + places);
      }
    }
    for (const auto& p : ServingProblems(root_)) problems.push_back("serving: " + p);
    if (VerifyAudit(root_) != 0) problems.push_back("the audit log does not verify");
    return problems;
  }

 private:
  struct Dropped {
    std::string name, version;
  };

  bool Retired(const std::string& version) {
    for (const auto& r : ReadAudit(root_.audit_log())) {
      if (r.value("event", "") == "retired" && r.value("version", "") == version) return true;
    }
    return false;
  }

  static std::string ReadFileOr(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  AgentRoot root_;
  std::string rules_, trace_;
  std::unique_ptr<AgentProcess> agent_;
  std::vector<Dropped> dropped_;
  std::string logs_;
};

void RunMatrix(Kind kind) {
  Matrix m;
  int n = 0;
  bool restarted = false;
  // Two promoted versions first, so that every later promotion also retires one.
  for (int i = 0; i < 2; ++i) {
    const std::string name = m.Drop(Kind::kGood, n++);
    REQUIRE(m.Settle(name, Kind::kGood, &restarted).empty());
  }
  m.ClearTrace();
  const std::string probe_name = m.Drop(kind, n++);
  {
    INFO("agent log:\n" << m.Log());
    REQUIRE(m.Settle(probe_name, kind, &restarted).empty());
  }
  const std::vector<Step> steps = StepsFrom(m.Trace(), m.root().tmp().path());
  REQUIRE(steps.size() > 10);

  Summary summary;
  summary.steps = static_cast<int>(steps.size());
  std::size_t rotation = 0;
  for (const auto& step : steps) {
    summary.ops.insert(step.op);
    const auto faults = FaultsFor(step.op);
    std::vector<std::string> errs = FullMatrix() ? faults
                                                 : std::vector<std::string>{faults[rotation++ % faults.size()]};
    const int last_nth = FullMatrix() ? step.nth + step.multiplicity - 1 : step.nth;
    for (const auto& err : errs) {
      for (int nth = step.nth; nth <= last_nth; ++nth) {
        const std::string rule = step.op + ":" + err + ":" + std::to_string(nth) + ":1@" + step.glob;
        const std::size_t log_before = m.Log().size();
        m.SetRules(rule);
        const std::string name = m.Drop(kind, n++);
        const auto problems = m.Settle(name, kind, &restarted);
        m.SetRules("");
        ++summary.trials;
        const std::string log = m.Log();
        if (log.find("injected fault", log_before) != std::string::npos) ++summary.hit;
        if (restarted) {
          ++summary.restarts;
          summary.notes.push_back("needed a restart: " + rule);
        }
        for (const auto& p : problems) {
          ++summary.violations;
          summary.notes.push_back("VIOLATION with " + rule + ": " + p);
        }
      }
    }
  }
  std::string ops;
  for (const auto& op : summary.ops) ops += op + " ";
  std::string notes;
  for (const auto& note : summary.notes) notes += "  " + note + "\n";
  const std::string report = std::string("fault matrix (") + KindName(kind) + " bundle, " + (FullMatrix() ? "full" : "default") + "): " +
                             std::to_string(summary.steps) + " steps over ops [" + ops + "], " +
                             std::to_string(summary.trials) + " trials, " +
                             std::to_string(summary.hit) + " faults hit, " +
                             std::to_string(summary.restarts) + " restarts needed, " +
                             std::to_string(summary.violations) + " violations\n" + notes;
  WARN(report);
  std::ofstream(std::string(BUNDLEGATE_BIN_DIR) + "/fault-matrix-" + KindName(kind) + ".txt")
      << report;
  INFO("agent logs:\n" << m.Log());
  CHECK(summary.violations == 0);
  CHECK(summary.hit * 10 >= summary.trials * 9);  // the steps found are the steps taken
}

}  // namespace

TEST_CASE("fault matrix: a good bundle is promoted once whatever single step fails") {
  RunMatrix(Kind::kGood);
}

TEST_CASE("fault matrix: a tampered bundle is rejected for what it is whatever step fails") {
  RunMatrix(Kind::kTampered);
}

TEST_CASE("fault matrix: an oversized bundle is rejected and kept as received whatever step fails") {
  RunMatrix(Kind::kOversized);
}
