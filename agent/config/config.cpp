#include "agent/config/config.h"

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
  BG_RETURN_IF_ERROR(errors.ToStatus());
  FillDerivedPaths(c.paths);
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
