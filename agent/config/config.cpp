#include "agent/config/config.h"

#include <pwd.h>
#include <unistd.h>

#include <filesystem>

#include "agent/core/file_contents.h"
#include "agent/toml/table_reader.h"

namespace bg {
namespace {

namespace fs = std::filesystem;

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty()) return path;
  fs::path p(path);
  if (p.is_relative()) p = fs::path(base_dir) / p;
  return p.lexically_normal().string();
}

void FillDerivedPaths(PathsConfig& p) {
  const fs::path root(p.root);
  if (p.inbox.empty()) p.inbox = (root / "inbox").string();
  if (p.serving.empty()) p.serving = (root / "serving").string();
  if (p.quarantine.empty()) p.quarantine = (root / "quarantine").string();
  if (p.audit_log.empty()) p.audit_log = (root / "audit.jsonl").string();
  p.work = (root / "work").string();
}

void ReadPaths(TableReader t, const std::string& base_dir, Config& c) {
  if (auto v = t.String("root", Presence::kOptional)) c.paths.root = Resolve(base_dir, *v);
  for (auto [key, field] : {std::pair{"inbox", &c.paths.inbox},
                            std::pair{"serving", &c.paths.serving},
                            std::pair{"quarantine", &c.paths.quarantine},
                            std::pair{"audit_log", &c.paths.audit_log}}) {
    if (auto v = t.String(key, Presence::kOptional)) {
      if (v->empty()) {
        t.Fail(key, "must not be empty (leave the key out for the default)");
      } else {
        *field = Resolve(base_dir, *v);
      }
    }
  }
  if (c.paths.root.empty()) t.Fail("root", "must not be empty");
  t.RejectUnknownKeys();
}

void ReadWatch(TableReader t, WatchConfig& w) {
  if (auto v = t.String("backend", Presence::kOptional)) {
    if (*v == "auto") {
      w.backend = WatchConfig::Backend::kAuto;
    } else if (*v == "inotify") {
      w.backend = WatchConfig::Backend::kInotify;
    } else if (*v == "poll") {
      w.backend = WatchConfig::Backend::kPoll;
    } else {
      t.Fail("backend", "must be \"auto\", \"inotify\" or \"poll\", found \"" + *v + "\"");
    }
  }
  if (auto v = t.Int("settle_ms", Presence::kOptional, 0, 3'600'000)) w.settle_ms = *v;
  if (auto v = t.Int("poll_interval_ms", Presence::kOptional, 10, 3'600'000)) {
    w.poll_interval_ms = *v;
  }
  if (auto v = t.Int("rescan_interval_s", Presence::kOptional, 0, 86'400 * 7)) {
    w.rescan_interval_s = *v;
  }
  if (auto v = t.Int("incomplete_timeout_s", Presence::kOptional, 1, 86'400 * 30)) {
    w.incomplete_timeout_s = *v;
  }
  if (auto v = t.Int("manifest_grace_s", Presence::kOptional, 0, 86'400 * 30)) w.manifest_grace_s = *v;
  if (auto v = t.Int("hold_backoff_initial_ms", Presence::kOptional, 10, 3'600'000)) {
    w.hold_backoff_initial_ms = *v;
  }
  if (auto v = t.Int("hold_backoff_max_s", Presence::kOptional, 1, 86'400)) w.hold_backoff_max_s = *v;
  if (w.hold_backoff_max_s * 1000 < w.hold_backoff_initial_ms) {
    t.Fail("hold_backoff_max_s", "must not be shorter than hold_backoff_initial_ms");
  }
  t.RejectUnknownKeys();
}

void ReadLimits(TableReader t, LimitsConfig& l) {
  if (auto v = t.Int("max_bundle_bytes", Presence::kOptional, 1)) {
    l.max_bundle_bytes = static_cast<std::uint64_t>(*v);
  }
  if (auto v = t.Int("max_files", Presence::kOptional, 1)) l.max_files = static_cast<std::uint64_t>(*v);
  if (auto v = t.Int("max_depth", Presence::kOptional, 1, 255)) l.max_depth = *v;
  if (auto v = t.Int("max_path_length", Presence::kOptional, 16, 4096)) l.max_path_length = *v;
  if (auto v = t.Int("max_manifest_bytes", Presence::kOptional, 1024, 64 << 20)) {
    l.max_manifest_bytes = static_cast<std::uint64_t>(*v);
  }
  if (auto v = t.Int("max_check_attempts", Presence::kOptional, 1, 100)) l.max_check_attempts = *v;
  if (auto v = t.Int("min_free_bytes", Presence::kOptional, 0)) {
    l.min_free_bytes = static_cast<std::uint64_t>(*v);
  }
  if (auto v = t.Number("min_free_ratio", Presence::kOptional)) {
    if (*v < 0.0 || *v > 0.9) {
      t.Fail("min_free_ratio", "must be between 0 and 0.9 (a fraction of the filesystem's size)");
    } else {
      l.min_free_ratio = *v;
    }
  }
  t.RejectUnknownKeys();
}

void ReadServing(TableReader t, ServingConfig& s) {
  if (auto v = t.Int("keep_versions", Presence::kOptional, 0)) s.keep_versions = *v;
  if (auto v = t.StringArray("on_promote", Presence::kOptional)) {
    if (!v->empty() && (*v)[0].empty()) t.Fail("on_promote", "the program must not be empty");
    s.on_promote = *v;
  }
  if (auto v = t.Int("on_promote_timeout_s", Presence::kOptional, 1, 86'400)) {
    s.on_promote_timeout_s = *v;
  }
  t.RejectUnknownKeys();
}

void ReadRuntime(TableReader t, RuntimeConfig& r) {
  if (auto v = t.String("torch_version", Presence::kOptional)) {
    if (v->empty()) t.Fail("torch_version", "must be \"auto\" or a version such as \"2.5.1\"");
    r.torch_version = *v;
  }
  t.RejectUnknownKeys();
}

}  // namespace

std::optional<sandbox::LayerSet> ReadLayerNames(TableReader& t, std::string_view key) {
  auto names = t.StringArray(key, Presence::kOptional);
  if (!names) return std::nullopt;
  sandbox::LayerSet set;
  for (const auto& name : *names) {
    sandbox::Layer layer;
    if (!sandbox::ParseLayerName(name, &layer)) {
      std::string known;
      for (const auto& n : sandbox::LayerSet::All().Names()) known += (known.empty() ? "" : ", ") + n;
      t.Fail(key, "unknown isolation layer \"" + name + "\" (known: " + known + ")");
      return std::nullopt;
    }
    set.Add(layer);
  }
  return set;
}

namespace {

// The plugin user's uid and gid, where the agent is root (they are unused otherwise). Returns
// an error message, or "".
std::string ResolvePluginUser(SandboxConfig& s, bool configured) {
  if (::geteuid() != 0) return "";
  const passwd* pw = ::getpwnam(s.plugin_user.c_str());
  if (pw == nullptr && !configured) {
    s.notes.push_back("the plugin user \"" + s.plugin_user +
                      "\" does not exist: plugins run as nobody (create it, or set "
                      "sandbox.plugin_user)");
    pw = ::getpwnam("nobody");
  }
  if (pw == nullptr) return "no such user \"" + s.plugin_user + "\"";
  if (pw->pw_uid == 0) return "must not be root";
  s.plugin_uid = static_cast<long>(pw->pw_uid);
  s.plugin_gid = static_cast<long>(pw->pw_gid);
  return "";
}

bool PathWithin(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path.compare(0, dir.size(), dir) == 0 && (path.size() == dir.size() || path[dir.size()] == '/');
}

void ReadSandbox(TableReader t, const std::string& base_dir, Config& c) {
  SandboxConfig& s = c.sandbox;
  if (auto v = ReadLayerNames(t, "layers")) s.layers = *v;
  if (auto v = ReadLayerNames(t, "require_isolation")) s.require_isolation = *v;
  for (const auto& name : s.require_isolation.Names()) {
    sandbox::Layer layer;
    sandbox::ParseLayerName(name, &layer);
    if (!s.layers.Has(layer)) {
      t.Fail("require_isolation", "requires \"" + name + "\", which sandbox.layers leaves out");
    }
  }
  const bool user_configured = t.Has("plugin_user");
  if (auto v = t.String("plugin_user", Presence::kOptional)) {
    if (v->empty()) t.Fail("plugin_user", "must not be empty");
    s.plugin_user = *v;
  }
  if (auto v = t.StringArray("read_paths", Presence::kOptional)) {
    s.read_paths.clear();
    for (const auto& path : *v) {
      if (path.empty() || path[0] != '/') {
        t.Fail("read_paths", "\"" + path + "\" is not an absolute path");
      } else if (fs::path(path).lexically_normal() == "/") {
        t.Fail("read_paths", "\"/\" would show plugins the whole filesystem");
      } else {
        s.read_paths.push_back(fs::path(path).lexically_normal().string());
      }
    }
  }
  if (auto v = t.StringArray("devices", Presence::kOptional)) {
    for (const auto& dev : *v) {
      if (dev.rfind("/dev/", 0) != 0) t.Fail("devices", "\"" + dev + "\" is not under /dev");
    }
    s.devices = *v;
  }
  if (auto v = t.String("cgroup", Presence::kOptional)) {
    if (*v != "auto" && *v != "off" && (v->empty() || (*v)[0] != '/')) {
      t.Fail("cgroup", "must be \"auto\", \"off\" or an absolute path");
    }
    s.cgroup = *v == "auto" || *v == "off" ? *v : Resolve(base_dir, *v);
  }
  if (const std::string error = ResolvePluginUser(s, user_configured); !error.empty()) {
    t.Fail("plugin_user", error);
  }
  t.RejectUnknownKeys();
}

// Plugins must never see the agent's state: no read path may contain it.
void CheckReadPaths(TableReader* t, const Config& c, ErrorList& errors) {
  const PathsConfig& p = c.paths;
  for (const auto& read : c.sandbox.read_paths) {
    for (const std::string* state : {&p.root, &p.inbox, &p.serving, &p.quarantine, &p.audit_log}) {
      if (!PathWithin(*state, read)) continue;
      const std::string why = "\"" + read + "\" contains " + *state +
                              ", which plugins must not see";
      if (t != nullptr) {
        t->Fail("read_paths", why);
      } else {
        errors.Add(0, "sandbox.read_paths", why + " (set sandbox.read_paths)");
      }
    }
  }
}

void ReadLog(TableReader t, LogConfig& l) {
  if (auto v = t.String("level", Presence::kOptional)) {
    static const char* kLevels[] = {"trace", "debug", "info", "warn", "error"};
    bool known = false;
    for (const char* level : kLevels) known = known || *v == level;
    if (!known) t.Fail("level", "must be one of trace, debug, info, warn, error");
    l.level = *v;
  }
  if (auto v = t.String("journal", Presence::kOptional)) {
    if (*v == "auto") {
      l.journal = LogConfig::Journal::kAuto;
    } else if (*v == "on") {
      l.journal = LogConfig::Journal::kOn;
    } else if (*v == "off") {
      l.journal = LogConfig::Journal::kOff;
    } else {
      t.Fail("journal", "must be \"auto\", \"on\" or \"off\", found \"" + *v + "\"");
    }
  }
  t.RejectUnknownKeys();
}

void ReadHttp(TableReader t, HttpConfig& h) {
  if (auto v = t.String("listen", Presence::kOptional)) {
    auto listen = ParseListenAddress(*v);
    if (listen.ok()) {
      h.listen = *listen;
    } else {
      t.Fail("listen", listen.status().message());
    }
  }
  if (auto v = t.Int("max_connections", Presence::kOptional, 1, 65536)) h.max_connections = *v;
  if (auto v = t.Int("max_header_bytes", Presence::kOptional, 512, 1 << 20)) h.max_header_bytes = *v;
  if (auto v = t.Int("max_body_bytes", Presence::kOptional, 0, 1 << 20)) h.max_body_bytes = *v;
  if (auto v = t.Int("request_timeout_s", Presence::kOptional, 1, 3600)) h.request_timeout_s = *v;
  if (auto v = t.Int("idle_timeout_s", Presence::kOptional, 1, 3600)) h.idle_timeout_s = *v;
  if (auto v = t.Int("liveness_timeout_s", Presence::kOptional, 1, 3600)) h.liveness_timeout_s = *v;
  t.RejectUnknownKeys();
}

}  // namespace

Config DefaultConfig(const std::string& root) {
  Config c;
  c.paths.root = Resolve(fs::current_path().string(), root);
  FillDerivedPaths(c.paths);
  (void)ResolvePluginUser(c.sandbox, false);  // the default falls back to nobody
  return c;
}

Result<Config> ParseConfig(std::string_view text, const std::string& source,
                           const std::string& base_dir) {
  BG_ASSIGN_OR_RETURN(TomlDocument parsed, ParseToml(text, source));
  auto doc = std::make_shared<const TomlDocument>(std::move(parsed));
  Config c;
  c.source = source;
  c.paths.root = Resolve(base_dir, "/var/lib/bundlegate");
  ErrorList errors(source);
  TableReader top(*doc, "", "", &errors);

  if (auto v = top.String("intake", Presence::kOptional)) {
    if (*v == "copy") {
      c.intake = IntakeMode::kCopy;
    } else if (*v == "move") {
      c.intake = IntakeMode::kMove;
    } else {
      top.Fail("intake", "must be \"copy\" or \"move\", found \"" + *v + "\"");
    }
  }
  if (auto v = top.Int("workers", Presence::kOptional, 1, 256)) c.workers = *v;
  if (auto v = top.Int("shutdown_timeout_s", Presence::kOptional, 1, 3600)) {
    c.shutdown_timeout_s = *v;
  }
  if (auto v = top.Bool("require_parity", Presence::kOptional)) c.require_parity = *v;
  if (auto v = top.StringArray("plugin_dirs", Presence::kOptional)) {
    for (const auto& dir : *v) c.plugin_dirs.push_back(Resolve(base_dir, dir));
  }
  if (auto t = top.Table("paths", Presence::kOptional)) ReadPaths(*t, base_dir, c);
  if (auto t = top.Table("watch", Presence::kOptional)) ReadWatch(*t, c.watch);
  if (auto t = top.Table("limits", Presence::kOptional)) ReadLimits(*t, c.limits);
  if (auto t = top.Table("serving", Presence::kOptional)) ReadServing(*t, c.serving);
  if (auto t = top.Table("runtime", Presence::kOptional)) ReadRuntime(*t, c.runtime);
  if (auto t = top.Table("log", Presence::kOptional)) ReadLog(*t, c.log);
  std::optional<TableReader> sandbox_table = top.Table("sandbox", Presence::kOptional);
  if (sandbox_table) {
    ReadSandbox(*sandbox_table, base_dir, c);
  } else if (const std::string error = ResolvePluginUser(c.sandbox, false); !error.empty()) {
    errors.Add(0, "sandbox.plugin_user", error);
  }
  if (auto t = top.Table("http", Presence::kOptional)) ReadHttp(*t, c.http);
  for (auto& check : top.TableArray("checks", Presence::kOptional)) {
    CheckSpec spec;
    spec.name = check.name();
    spec.line = check.line();
    if (auto kind = check.String("kind", Presence::kRequired)) spec.kind = *kind;
    spec.pointer = check.pointer();
    c.checks.push_back(std::move(spec));
  }
  top.RejectUnknownKeys();
  FillDerivedPaths(c.paths);
  CheckReadPaths(sandbox_table ? &*sandbox_table : nullptr, c, errors);
  BG_RETURN_IF_ERROR(errors.ToStatus());
  c.document = std::move(doc);
  return c;
}

Result<Config> LoadConfigFile(const std::string& path) {
  const auto text = ReadFileContents(path);
  if (!text) return Status::Error("cannot read config " + path + ": no such file or not readable");
  const fs::path abs = fs::absolute(path);
  return ParseConfig(*text, path, abs.parent_path().string());
}

}  // namespace bg
