// Running the real agent in tests: a root and config in a temp dir, the `bundlegate run`
// process with a stand-in NOTIFY_SOCKET (so a test knows when it is READY, and sees STATUS= and
// WATCHDOG=1), dropping bundles the recommended way, waiting on the audit log, and checking
// SPEC.md's invariant: every bundle dropped is in exactly one place.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/bundle_writer.h"
#include "tests/support/temp_dir.h"

namespace bg::test {

using nlohmann::json;
using Millis = std::chrono::milliseconds;

// A unix datagram socket standing in for systemd's notification socket. Like systemd, it reads
// all the time (a thread): an unread socket would fill up and block the agent's sd_notify.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path);
  ~NotifySocket();
  const std::string& path() const { return path_; }
  // Waits until some message contains `needle`.
  bool WaitFor(const std::string& needle, Millis timeout);
  std::vector<std::string> Messages();

 private:
  void ReceiveLoop();
  std::string path_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> messages_;
  std::thread reader_;
};

// A root directory and its config, in a temp dir. The config has require_parity = false,
// watch.settle_ms = 100 and whatever `extra` adds (top-level keys first, then tables).
class AgentRoot {
 public:
  explicit AgentRoot(const std::string& extra_top = "", const std::string& extra_tables = "");
  std::string root() const { return tmp_ / "root"; }
  std::string inbox() const { return root() + "/inbox"; }
  std::string serving() const { return root() + "/serving"; }
  std::string quarantine() const { return root() + "/quarantine"; }
  std::string work() const { return root() + "/work"; }
  std::string audit_log() const { return root() + "/audit.jsonl"; }
  std::string config() const { return tmp_ / "bundlegate.toml"; }
  const TempDir& tmp() const { return tmp_; }
  void WriteConfig(const std::string& extra_top, const std::string& extra_tables);

  // Writes the bundle under inbox/.<name>.tmp, then renames it to inbox/<name>.
  std::string Drop(const std::string& inbox_name, const BundleSpec& spec);

 private:
  TempDir tmp_;
};

class AgentProcess {
 public:
  // Starts `bundlegate run --config <config>` with `env` added to the environment; with a
  // `wrapper` (a program, found on PATH, and its arguments) runs `wrapper... bundlegate run ...`,
  // for wrappers that exec the agent in the end (so that pid() is the agent's), e.g.
  // {"setpriv", "--reuid=1234", ...}: the agent as another user.
  AgentProcess(const AgentRoot& root, std::map<std::string, std::string> env = {},
               std::vector<std::string> wrapper = {});
  ~AgentProcess();  // SIGKILLs a process still running

  pid_t pid() const { return pid_; }
  bool WaitReady(Millis timeout = Millis(20000));
  void Signal(int signal);
  // Waits for the process to end: its exit code, or 128 + signal; nullopt on timeout.
  std::optional<int> WaitExit(Millis timeout = Millis(30000));
  bool running();
  std::string Log() const;  // its stderr so far
  NotifySocket& notify() { return *notify_; }

 private:
  std::unique_ptr<NotifySocket> notify_;
  std::string log_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_;
};

std::vector<json> ReadAudit(const std::string& path);
// Polls the audit log until `count` records satisfy `pred` (or the timeout).
std::vector<json> WaitForAudit(const std::string& path, const std::function<bool(const json&)>& pred,
                               std::size_t count = 1, Millis timeout = Millis(30000));
// Matches promoted/rejected decisions about the bundle dropped as `inbox_name`.
std::function<bool(const json&)> DecisionFor(const std::string& inbox_name);

// Polls `condition` every 10 ms until it holds or the timeout passes; returns its last value.
bool WaitUntil(const std::function<bool()>& condition, Millis timeout = Millis(30000));
// work/ is empty: every claimed bundle is decided and cleaned up (the audit record of a
// decision comes just before its work directory is removed).
bool WaitForIdle(const AgentRoot& root, Millis timeout = Millis(30000));

// Where the bundle dropped as `inbox_name` (with bundle.toml version `version`) is now:
// "inbox", "work", "serving", "quarantine", one entry per copy found.
std::vector<std::string> Locate(const AgentRoot& root, const std::string& inbox_name,
                                const std::string& version);
// Every served version's files match its bundle.toml (sizes and sha256), all read-only.
std::vector<std::string> ServingProblems(const AgentRoot& root);
// `bundlegate audit verify` on the root's log: exit code 0 when intact.
int VerifyAudit(const AgentRoot& root);

// A directory on /dev/shm (tmpfs), removed at the end; path() is empty when /dev/shm is unusable
// or on the same filesystem as `near` (then a test of two filesystems skips).
class OtherFilesystemDir {
 public:
  explicit OtherFilesystemDir(const std::string& near);
  ~OtherFilesystemDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace bg::test
