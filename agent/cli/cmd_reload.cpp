// `bundlegate reload [--config FILE] [--pid PID] [--timeout-s N]`: make the running agent re-read
// its config, synchronously, and say whether it took it. The unit's ExecReload= (a plain
// `kill -HUP` succeeds whatever the agent then decides, and /bin/kill is procps', absent from
// minimal systems).
//
// Steps: validate the file first, exactly as `config check` does (an invalid file is reported
// with its line and nothing is signalled); note the audit log's last seq; send SIGHUP to the
// agent (--pid, e.g. systemd's $MAINPID, else the pid in <root>/agent.lock, which the agent holds
// locked for its whole life); wait for the agent's own verdict, the next `config-reloaded` audit
// record (`ok` true or false, with the agent's reason: it also refuses what `config check` cannot
// know, such as a changed [paths] or a plugin whose --describe fails under the agent). Exit 0
// when applied, 2 when refused, invalid, not running, or no answer within the timeout.
//
// The agent ignores a SIGHUP that arrives during a reload; the record that answers is then that
// earlier reload's. systemd runs one reload job at a time, so this only matters when people send
// SIGHUP by hand at the same moment.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "agent/audit/audit_log.h"
#include "agent/checks/check_registry.h"
#include "agent/cli/command.h"
#include "agent/cli/config_loader.h"
#include "agent/serving/serving_lock.h"

namespace bg::cli {
namespace {

struct ReloadArgs {
  std::string config;
  pid_t pid = 0;
  int timeout_s = 60;
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "bundlegate reload: %s\n", message.c_str());
  return kExitUsage;
}

// The running agent's pid from its lock file; 0 when no agent holds the lock.
pid_t LockHolder(const std::string& root) {
  const std::string path = AgentLockPath(root);
  if (!FileLock::IsHeld(path)) return 0;
  std::ifstream in(path);
  long pid = 0;
  in >> pid;
  return pid > 0 ? static_cast<pid_t>(pid) : 0;
}

std::int64_t LastSeq(const std::string& audit_log) {
  auto tail = TailAuditRecords(audit_log, 1);
  if (!tail.ok() || tail->empty()) return 0;
  return tail->back().value("seq", std::int64_t{0});
}

// The first config-reloaded record after `after`, or null.
Json ReloadAnswer(const std::string& audit_log, std::int64_t after) {
  auto tail = TailAuditRecords(audit_log, 64);
  if (!tail.ok()) return Json();
  for (const auto& r : *tail) {
    if (r.value("seq", std::int64_t{0}) > after && r.value("event", "") == "config-reloaded") return r;
  }
  return Json();
}

int RunReload(const ReloadArgs& args) {
  std::string used;
  auto config = LoadConfigForCli(args.config, &used);
  if (!config.ok()) return Fail(config.status().message() + " (nothing signalled)");
  if (used.empty()) return Fail("no config file (--config, $BUNDLEGATE_CONFIG or /etc/bundlegate/bundlegate.toml)");
  auto checks = BuildChecks(*config);
  if (!checks.ok()) return Fail(checks.status().message() + " (nothing signalled)");

  const pid_t holder = LockHolder(config->paths.root);
  const pid_t pid = args.pid > 0 ? args.pid : holder;
  if (pid <= 0) return Fail("no agent is running on " + config->paths.root);
  if (holder > 0 && holder != pid) {
    std::fprintf(stderr, "bundlegate reload: note: pid %d given, %s names %d\n", static_cast<int>(pid),
                 AgentLockPath(config->paths.root).c_str(), static_cast<int>(holder));
  }
  const std::string& log = config->paths.audit_log;
  const std::int64_t before = LastSeq(log);
  if (::kill(pid, SIGHUP) != 0) {
    return Fail("cannot signal pid " + std::to_string(pid) + ": " + std::strerror(errno));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(args.timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    const Json answer = ReloadAnswer(log, before);
    if (answer.is_object()) {
      if (answer.value("ok", false)) {
        std::printf("%s: reloaded (audit seq %lld)\n", used.c_str(),
                    static_cast<long long>(answer.value("seq", std::int64_t{0})));
        return kExitOk;
      }
      return Fail("the agent refused " + used + ", keeping the running config: " +
                  answer.value("error", std::string("(no reason given)")));
    }
    if (::kill(pid, 0) != 0 && errno == ESRCH) return Fail("the agent (pid " + std::to_string(pid) + ") exited");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Fail("no answer from the agent (pid " + std::to_string(pid) + ") within " +
              std::to_string(args.timeout_s) + " s; see its log");
}

}  // namespace

Command ReloadCommand() {
  return {"reload", "Make the running agent re-read its config; fails when the agent refuses it",
          [](CLI::App& sub) {
            auto args = std::make_shared<ReloadArgs>();
            sub.add_option("--config", args->config, "Config file (the one the agent runs with)");
            sub.add_option("--pid", args->pid,
                           "The agent's pid (default: from agent.lock in the root; systemd passes $MAINPID)")
                ->check(CLI::PositiveNumber);
            sub.add_option("--timeout-s", args->timeout_s,
                           "How long to wait for the agent's verdict (default 60)")
                ->check(CLI::Range(1, 3600));
            return [args] { return RunReload(*args); };
          }};
}

}  // namespace bg::cli
