#include "agent/lockfile/uv_lock.h"

#include <set>

#include "agent/lockfile/package_name.h"
#include "agent/toml/table_reader.h"

namespace bg {
namespace {

constexpr std::int64_t kSupportedVersion = 1;

// The source kinds of uv.lock, as the key of the inline `source` table.
constexpr const char* kSourceKinds[] = {"registry",  "git",      "url",    "path",
                                        "directory", "editable", "virtual"};

class UvLockReader {
 public:
  UvLockReader(const TomlDocument& doc, const std::string& source) : doc_(doc), errors_(source) {
    lock_.format = LockfileFormat::kUvLock;
    lock_.source = source;
  }

  Result<Lockfile> Run() {
    TableReader root(doc_, "", "", &errors_);
    const auto version = root.Int("version", Presence::kRequired);
    if (version && *version != kSupportedVersion) {
      root.Fail("version", "unsupported uv.lock version " + std::to_string(*version) +
                               " (this agent reads version " + std::to_string(kSupportedVersion) +
                               ")");
    }
    Members(root);
    for (TableReader& package : root.TableArray("package", Presence::kOptional)) Package(package);
    BG_RETURN_IF_ERROR(errors_.ToStatus(Reason::kLockfileInvalid));
    return std::move(lock_);
  }

 private:
  void Members(TableReader& root) {
    auto manifest = root.Table("manifest", Presence::kOptional);
    if (!manifest) return;
    if (auto members = manifest->StringArray("members", Presence::kOptional)) {
      for (const auto& m : *members) members_.insert(NormalizePackageName(m));
    }
  }

  void Package(TableReader& t) {
    LockedPackage p;
    p.line = t.line();
    p.name = t.String("name", Presence::kRequired).value_or("");
    p.version = t.String("version", Presence::kOptional).value_or("");
    if (auto markers = t.StringArray("resolution-markers", Presence::kOptional)) {
      for (const auto& m : *markers) p.marker += (p.marker.empty() ? "" : " or ") + m;
    }
    auto source = t.Table("source", Presence::kRequired);
    if (!source || p.name.empty()) return;
    const auto [kind, where] = SourceOf(*source);
    if (kind.empty()) return;
    if (IsProject(kind, where, p.name)) {
      lock_.projects.push_back(p.name);
      return;
    }
    if (kind == "registry" && !p.version.empty()) {
      p.pinned = true;
    } else {
      p.unpinned_why = kind == "registry" ? "no version" : kind + " source (" + where + ")";
    }
    p.hashes = Hashes(t);
    if (Status st = FinishPackage(p); !st.ok()) {
      t.Fail("version", st.message());
      return;
    }
    lock_.packages.push_back(std::move(p));
  }

  // The kind ("registry") and where it points; an empty kind after reporting an error.
  std::pair<std::string, std::string> SourceOf(TableReader& source) {
    for (const char* kind : kSourceKinds) {
      if (!source.Has(kind)) continue;
      return {kind, source.String(kind, Presence::kRequired).value_or("")};
    }
    source.Fail("", "expected one of registry, git, url, path, directory, editable, virtual");
    return {"", ""};
  }

  bool IsProject(const std::string& kind, const std::string& where, const std::string& name) const {
    if (kind != "editable" && kind != "virtual" && kind != "directory") return false;
    return where == "." || members_.count(NormalizePackageName(name)) != 0;
  }

  static std::size_t Hashes(TableReader& t) {
    std::size_t n = 0;
    if (auto sdist = t.Table("sdist", Presence::kOptional)) {
      if (sdist->String("hash", Presence::kOptional)) ++n;
    }
    for (TableReader& wheel : t.TableArray("wheels", Presence::kOptional)) {
      if (wheel.String("hash", Presence::kOptional)) ++n;
    }
    return n;
  }

  const TomlDocument& doc_;
  ErrorList errors_;
  Lockfile lock_;
  std::set<std::string> members_;
};

}  // namespace

Result<Lockfile> ParseUvLock(std::string_view text, const std::string& source) {
  auto doc = ParseToml(text, source);
  if (!doc.ok()) return Status::Reject(Reason::kLockfileInvalid, doc.status().message());
  return UvLockReader(*doc, source).Run();
}

}  // namespace bg
