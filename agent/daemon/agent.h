// Agent: `bundlegate run`, the long-running gate.
//
// One Boost.Asio event loop (this thread) owns all state: the inbox watcher, the SettleTracker,
// the queue of ready bundles, the bundles in flight. Nothing on the loop blocks:
//   - readiness probes run on a probe thread;
//   - copy intake and the checks run on `workers` check threads (at most `workers` bundles are
//     claimed and in flight at once; ready ones wait in the inbox, unclaimed);
//   - plugins are child processes driven from the loop itself;
//   - claims, decisions and their fsyncs run on one I/O thread, which serializes every change
//     to work/, serving/, quarantine/ and the audit log made by this process.
//
// Life: refuse to start when another agent holds the root (exit 2) -> repair the audit log's
// torn tail -> recover work/ (recovery.h) and audit "recovered" -> audit "started" -> watch ->
// full rescan -> READY=1. SIGHUP reloads the config (an invalid one is refused, logged and
// audited; the old one stays). SIGTERM/SIGINT: stop claiming, let in-flight bundles finish for
// shutdown_timeout_s, then cancel them (plugins killed) and return them to the inbox; audit
// "stopped"; exit 0.
//
// The status of the agent is written to <root>/status.json (atomically, at most once a second)
// for `bundlegate status`.
#pragma once

#include <memory>
#include <string>

#include "agent/config/config.h"
#include "agent/core/env.h"

namespace bg {

class Agent {
 public:
  // `config_path`: the file `config` came from, re-read on SIGHUP ("" for built-in defaults).
  Agent(Config config, std::string config_path, Env& env = Env::Default());
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Runs until SIGTERM or SIGINT. Returns the exit code: 0 after a clean stop, 2 when the agent
  // could not start (configuration or environment), 1 on a fatal error while running.
  int Run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bg
