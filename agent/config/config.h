// Config: the agent's configuration, loaded from TOML into typed structs.
//
// etc/bundlegate.toml is the annotated reference: every key below, its default and its meaning.
// Unknown keys and ill-typed values are errors naming file, line and key. Relative paths are
// resolved against the directory of the config file (so a config works whatever the current
// directory), or against the current directory for the built-in defaults.
//
// The `[[checks]]` tables are kept as references into the parsed document: each check kind
// validates its own options when the check is built (checks/check_registry.h), so that an unknown
// option of, say, the git check is reported with its line like any other config error.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/status.h"
#include "agent/http/listen_address.h"
#include "agent/sandbox/sandbox.h"
#include "agent/toml/toml_document.h"

namespace bg {

inline constexpr const char* kDefaultConfigPath = "/etc/bundlegate/bundlegate.toml";

struct PathsConfig {
  std::string root;        // every state lives here, on one filesystem
  std::string inbox;       // default <root>/inbox
  std::string work;        // <root>/work (always under the root)
  std::string serving;     // default <root>/serving
  std::string quarantine;  // default <root>/quarantine
  std::string audit_log;   // default <root>/audit.jsonl
};

enum class IntakeMode { kCopy, kMove };

struct WatchConfig {
  enum class Backend { kAuto, kInotify, kPoll };
  Backend backend = Backend::kAuto;
  std::int64_t settle_ms = 2000;
  std::int64_t poll_interval_ms = 1000;
  std::int64_t rescan_interval_s = 300;
  std::int64_t incomplete_timeout_s = 3600;
  // A bundle.toml that does not parse, in a tree quiet this long, is claimed and rejected.
  std::int64_t manifest_grace_s = 60;
  // A bundle held for the agent's own failure (a full disk, an I/O error, a permission) is
  // tried again after hold_backoff_initial_ms, doubling up to hold_backoff_max_s.
  std::int64_t hold_backoff_initial_ms = 1000;
  std::int64_t hold_backoff_max_s = 300;
};

// Bounds on one bundle, enforced while walking it (limit-exceeded).
struct LimitsConfig {
  std::uint64_t max_bundle_bytes = 64ull << 30;  // 64 GiB
  std::uint64_t max_files = 10000;
  std::int64_t max_depth = 16;           // directory levels below the bundle root
  std::int64_t max_path_length = 1024;   // bytes of a relative path
  std::uint64_t max_manifest_bytes = 1 << 20;  // bundle.toml
  // A bundle whose checks were started this many times, the agent dying each time before a
  // verdict, is quarantined (plugin-crashed) instead of being checked again at every start.
  std::int64_t max_check_attempts = 3;
  // Low-disk safety, on the root's filesystem: below max(min_free_bytes, min_free_ratio of its
  // size) available, nothing new is claimed; a bundle whose copy would cross it waits.
  std::uint64_t min_free_bytes = 1ull << 30;  // 1 GiB
  double min_free_ratio = 0.0;
};

struct ServingConfig {
  std::int64_t keep_versions = 5;  // per name; 0 keeps every version
  std::vector<std::string> on_promote;  // argv; empty: none
  std::int64_t on_promote_timeout_s = 60;
};

struct RuntimeConfig {
  std::string torch_version = "auto";  // the serving runtime's LibTorch, or "auto"
};

// [sandbox]: how plugins are confined (agent/sandbox/sandbox.h describes each layer).
struct SandboxConfig {
  sandbox::LayerSet layers = sandbox::LayerSet::All();  // attempted
  sandbox::LayerSet require_isolation;  // fail closed (plugin-error) without these
  // Where the agent runs as root, plugins run as this user (its uid and primary gid, no other
  // groups). The default, bundlegate-plugin, falls back to nobody where it does not exist.
  std::string plugin_user = "bundlegate-plugin";
  long plugin_uid = -1, plugin_gid = -1;  // resolved when the agent is root; else -1
  // Readable and executable for plugins (with the plugin's own directory, its interpreter's
  // and LD_LIBRARY_PATH's); nothing else of the host is visible.
  std::vector<std::string> read_paths = {"/usr",  "/lib", "/lib32", "/lib64", "/libx32",
                                         "/bin",  "/sbin", "/etc",  "/opt",   "/sys"};
  // Device nodes (globs) plugins may use, besides null, zero, full, random and urandom.
  std::vector<std::string> devices = {"/dev/nvidia*"};
  std::string cgroup = "auto";  // "auto", "off", or a delegated cgroup v2 directory
  std::vector<std::string> notes;  // said once at startup (e.g. the plugin_user fallback)
};

struct LogConfig {
  std::string level = "info";  // trace, debug, info, warn, error
  // Structured records to journald (sd_journal_send): kAuto when stderr is the journal stream
  // systemd gave us (JOURNAL_STREAM), kOn always (lines go to stderr if journald is not there),
  // kOff never (plain lines on stderr). Read at start.
  enum class Journal { kAuto, kOn, kOff };
  Journal journal = Journal::kAuto;
};

// The HTTP endpoint: /metrics, /healthz, /readyz, /status (agent/http/http_server.h).
struct HttpConfig {
  ListenAddress listen;                  // off by default
  std::int64_t max_connections = 64;     // more are closed at once (503)
  std::int64_t max_header_bytes = 8192;  // a larger request header gets 431
  std::int64_t max_body_bytes = 1024;    // a larger request body gets 413
  std::int64_t request_timeout_s = 10;   // from a request's first byte to its response's last
  std::int64_t idle_timeout_s = 30;      // an idle keep-alive connection is closed after this
  std::int64_t liveness_timeout_s = 5;   // /healthz fails when the loop is silent this long

  bool operator==(const HttpConfig&) const = default;
};

// One [[checks]] table, validated later by the check's own factory.
struct CheckSpec {
  std::string kind;
  std::string pointer;  // JSON pointer of the table inside `document`
  std::string name;     // "checks[2]"
  int line = 0;
};

struct Config {
  std::string source = "<defaults>";  // file it came from
  PathsConfig paths;
  IntakeMode intake = IntakeMode::kCopy;
  std::int64_t workers = 2;
  std::int64_t shutdown_timeout_s = 30;
  // Reject bundles whose model format no [[checks]] entry handles (no parity, no promotion).
  bool require_parity = true;
  std::vector<std::string> plugin_dirs;  // empty: the defaults (see plugin/discovery.h)
  WatchConfig watch;
  LimitsConfig limits;
  ServingConfig serving;
  RuntimeConfig runtime;
  SandboxConfig sandbox;
  LogConfig log;
  HttpConfig http;
  std::vector<CheckSpec> checks;
  std::shared_ptr<const TomlDocument> document;  // what `checks` point into
};

class TableReader;

// Reads `key` of `t` as a list of isolation layer names (sandbox.h); an unknown name is
// reported through t.Fail (with its line) and gives nullopt, as does an absent key.
std::optional<sandbox::LayerSet> ReadLayerNames(TableReader& t, std::string_view key);

// The built-in defaults, with the root at `root` (relative paths resolved against the cwd).
Config DefaultConfig(const std::string& root = "/var/lib/bundlegate");

// Parses `text`; relative paths are resolved against `base_dir`.
Result<Config> ParseConfig(std::string_view text, const std::string& source,
                           const std::string& base_dir);

// Reads and parses the file at `path`.
Result<Config> LoadConfigFile(const std::string& path);

}  // namespace bg
