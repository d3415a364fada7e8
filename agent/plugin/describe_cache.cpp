#include "agent/plugin/describe_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "agent/core/bounded_json.h"
#include "agent/core/env.h"
#include "agent/core/unique_fd.h"

namespace bg {
namespace {

constexpr int kFormat = 1;

std::string DirName(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Owned by this user and writable by nobody else: what another user could not have planted.
bool Trusted(const struct stat& st) {
  return st.st_uid == ::geteuid() && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

std::optional<std::string> ReadTrusted(const std::string& file, std::size_t max_bytes) {
  struct stat dir;
  if (::stat(DirName(file).c_str(), &dir) != 0 || !S_ISDIR(dir.st_mode) || !Trusted(dir)) {
    return std::nullopt;
  }
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  struct stat st;
  if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || !Trusted(st) ||
      static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    return std::nullopt;
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;  // shrank or failed: treat as no cache
    got += static_cast<std::size_t>(n);
  }
  return text;
}

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The files a description says its answer depends on; nullopt: do not remember it.
std::optional<std::vector<std::string>> DependsOn(const Json& raw) {
  if (!raw.contains("cache")) return std::vector<std::string>{};
  const Json& cache = raw["cache"];
  if (cache.is_boolean()) {
    return cache.get<bool>() ? std::optional(std::vector<std::string>{}) : std::nullopt;
  }
  if (!cache.is_object()) return std::nullopt;
  std::vector<std::string> out;
  if (!cache.contains("depends_on")) return out;
  const Json& list = cache["depends_on"];
  if (!list.is_array() || list.size() > DescribeCache::kMaxDependsOn) return std::nullopt;
  for (const Json& item : list) {
    if (!item.is_string()) return std::nullopt;
    const std::string path = item.get<std::string>();
    if (path.empty() || path[0] != '/') return std::nullopt;
    out.push_back(path);
  }
  return out;
}

}  // namespace

DescribeCache::DescribeCache(std::string file) : file_(std::move(file)) {}

DescribeCache::Stats DescribeCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Result<PluginDescription> DescribeCache::Describe(const std::string& path, std::string_view kind,
                                                  const PluginLimits& limits) {
  if (auto hit = Lookup(path, kind)) return *hit;
  auto before = FileIdentity::Of(path);
  const std::int64_t started = NowNs();
  auto described = DescribePlugin(path, kind, limits);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.described;
  }
  if (described.ok() && before.ok()) Remember(path, kind, *described, *before, started);
  return described;
}

std::optional<PluginDescription> DescribeCache::Lookup(const std::string& path,
                                                       std::string_view kind) {
  std::lock_guard<std::mutex> lock(mu_);
  auto hit = LookupLocked(path, kind);
  if (hit) ++stats_.hits;
  return hit;
}

std::optional<PluginDescription> DescribeCache::LookupLocked(const std::string& path,
                                                             std::string_view kind) {
  LoadLocked();
  const auto it = entries_.find(path);
  if (it == entries_.end() || it->second.kind != kind) return std::nullopt;
  for (const auto& [file, identity] : it->second.files) {
    auto now = FileIdentity::Of(file);
    if (!now.ok() || *now != identity) {
      entries_.erase(it);
      return std::nullopt;
    }
  }
  auto parsed = ParseDescription(DumpJson(it->second.description), kind);
  if (!parsed.ok()) {
    entries_.erase(it);
    return std::nullopt;
  }
  return std::move(parsed).value();
}

void DescribeCache::LoadLocked() {
  if (loaded_) return;
  loaded_ = true;
  if (file_.empty()) return;
  const auto text = ReadTrusted(file_, kMaxFileBytes);
  if (!text) return;
  auto parsed = ParseBoundedJson(*text, file_, JsonLimits{kMaxFileBytes, 16});
  if (!parsed.ok() || !parsed->is_object() || parsed->value("format", 0) != kFormat) return;
  const Json& entries = (*parsed)["entries"];
  if (!entries.is_array()) return;
  for (const Json& e : entries) {
    if (entries_.size() >= kMaxEntries) break;
    if (!e.is_object() || !e.contains("path") || !e["path"].is_string() || !e.contains("kind") ||
        !e["kind"].is_string() || !e.contains("files") || !e["files"].is_array() ||
        e["files"].empty() || e["files"].size() > kMaxDependsOn + 1 ||
        !e.contains("description") || !e["description"].is_object()) {
      continue;
    }
    Entry entry{e["kind"].get<std::string>(), {}, e["description"]};
    bool valid = true;
    for (const Json& f : e["files"]) {
      const auto identity = f.is_object() ? FileIdentity::FromJson(f.value("identity", Json()))
                                          : std::nullopt;
      if (!identity || !f.contains("path") || !f["path"].is_string()) {
        valid = false;
        break;
      }
      entry.files.emplace_back(f["path"].get<std::string>(), *identity);
    }
    // The first file is the plugin itself.
    if (valid && entry.files[0].first == e["path"].get<std::string>()) {
      entries_[e["path"].get<std::string>()] = std::move(entry);
    }
  }
}

void DescribeCache::Remember(const std::string& path, std::string_view kind,
                             const PluginDescription& d, const FileIdentity& before,
                             std::int64_t started_ns) {
  const auto depends_on = DependsOn(d.raw);
  if (!depends_on) return;
  const std::int64_t settled_before = started_ns - kSettleSeconds * 1000000000;
  Entry entry{std::string(kind), {}, d.raw};
  auto after = FileIdentity::Of(path);
  if (!after.ok() || *after != before || before.ctime_ns >= settled_before) return;
  entry.files.emplace_back(path, before);
  for (const std::string& file : *depends_on) {
    auto identity = FileIdentity::Of(file);
    if (!identity.ok() || identity->ctime_ns >= settled_before) return;
    entry.files.emplace_back(file, *identity);
  }
  std::lock_guard<std::mutex> lock(mu_);
  LoadLocked();
  entries_[path] = std::move(entry);
  while (entries_.size() > kMaxEntries) entries_.erase(entries_.begin());
  WriteLocked();
}

void DescribeCache::WriteLocked() {
  if (file_.empty()) return;
  Json entries = Json::array();
  for (const auto& [path, entry] : entries_) {
    Json files = Json::array();
    for (const auto& [file, identity] : entry.files) {
      files.push_back({{"path", file}, {"identity", identity.ToJson()}});
    }
    entries.push_back(
        {{"path", path}, {"kind", entry.kind}, {"files", files}, {"description", entry.description}});
  }
  const std::string text = DumpJson(Json{{"format", kFormat}, {"entries", entries}}) + "\n";
  if (text.size() > kMaxFileBytes) return;
  // The directory (and, for the XDG default, its parent) made private; existing ones are kept.
  const std::string dir = DirName(file_);
  (void)::mkdir(DirName(dir).c_str(), 0700);
  (void)::mkdir(dir.c_str(), 0700);
  if (Env::Default().WriteFileAtomic(file_, text, 0600, /*durable=*/false).ok()) ++stats_.stored;
}

std::string DescribeCacheFile(bool agent, const std::string& root) {
  const std::string name = "/plugin-describe.json";
  if (const char* dir = std::getenv("BUNDLEGATE_CACHE_DIR")) {
    const std::string d = dir;
    return d.empty() || d == "off" ? "" : d + name;
  }
  if (agent) return root.empty() ? "" : root + "/cache" + name;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] == '/') {
    return std::string(xdg) + "/bundlegate" + name;
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') {
    return std::string(home) + "/.cache/bundlegate" + name;
  }
  return "";
}

}  // namespace bg
