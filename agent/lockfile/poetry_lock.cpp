#include "agent/lockfile/poetry_lock.h"

#include <map>

#include "agent/lockfile/package_name.h"
#include "agent/toml/table_reader.h"

namespace bg {
namespace {

std::size_t CountHashes(std::vector<TableReader> files) {
  std::size_t n = 0;
  for (TableReader& f : files) {
    if (!f.String("hash", Presence::kOptional).value_or("").empty()) ++n;
  }
  return n;
}

// markers = "python_version < '3.9'" (1.x, 2.0), or one per group (2.1):
// markers = { main = "...", dev = "..." }.
std::string MarkersOf(const Json* raw) {
  if (raw == nullptr) return "";
  if (raw->is_string()) return raw->get<std::string>();
  std::string out;
  if (raw->is_object()) {
    for (const auto& item : raw->items()) {
      if (!item.value().is_string()) continue;
      out += (out.empty() ? "" : "; ") + item.key() + ": " + item.value().get<std::string>();
    }
  }
  return out;
}

class PoetryLockReader {
 public:
  PoetryLockReader(const TomlDocument& doc, const std::string& source)
      : doc_(doc), errors_(source) {
    lock_.format = LockfileFormat::kPoetryLock;
    lock_.source = source;
  }

  Result<Lockfile> Run() {
    TableReader root(doc_, "", "", &errors_);
    Metadata(root);
    for (TableReader& package : root.TableArray("package", Presence::kOptional)) Package(package);
    BG_RETURN_IF_ERROR(errors_.ToStatus(Reason::kLockfileInvalid));
    return std::move(lock_);
  }

 private:
  void Metadata(TableReader& root) {
    auto metadata = root.Table("metadata", Presence::kRequired);
    if (!metadata) return;
    if (auto v = metadata->String("lock-version", Presence::kOptional)) {
      const std::string major = v->substr(0, v->find('.'));
      if (major != "1" && major != "2") {
        metadata->Fail("lock-version", "unsupported poetry.lock lock-version \"" + *v +
                                           "\" (this agent reads 1.x and 2.x)");
      }
    }
    auto files = metadata->Table("files", Presence::kOptional);
    if (!files) return;
    for (const std::string& name : files->Keys()) {
      legacy_hashes_[NormalizePackageName(name)] +=
          CountHashes(files->TableArray(name, Presence::kRequired));
    }
  }

  void Package(TableReader& t) {
    LockedPackage p;
    p.line = t.line();
    p.name = t.String("name", Presence::kRequired).value_or("");
    p.version = t.String("version", Presence::kRequired).value_or("");
    p.marker = MarkersOf(t.Raw("markers"));
    if (auto groups = t.StringArray("groups", Presence::kOptional)) {
      for (const auto& g : *groups) p.group += (p.group.empty() ? "" : ",") + g;
    } else if (auto category = t.String("category", Presence::kOptional)) {
      p.group = *category;
    }
    if (p.name.empty() || p.version.empty()) return;
    Source(t, p);
    p.hashes = CountHashes(t.TableArray("files", Presence::kOptional));
    if (Status st = FinishPackage(p); !st.ok()) {
      t.Fail("version", st.message());
      return;
    }
    const auto legacy = legacy_hashes_.find(p.key);
    if (legacy != legacy_hashes_.end()) p.hashes += legacy->second;
    lock_.packages.push_back(std::move(p));
  }

  // Pinned for an index; unpinned, with why, for a direct reference.
  static void Source(TableReader& t, LockedPackage& p) {
    const bool develop = t.Bool("develop", Presence::kOptional).value_or(false);
    auto source = t.Table("source", Presence::kOptional);
    std::string type;
    std::string where;
    if (source) {
      type = source->String("type", Presence::kRequired).value_or("");
      where = source->String("url", Presence::kOptional).value_or("");
      const auto ref = source->String("resolved_reference", Presence::kOptional);
      if (ref) where += "@" + *ref;
    }
    if (!develop && (type.empty() || type == "legacy" || type == "pypi")) {
      p.pinned = true;
      return;
    }
    p.unpinned_why = develop ? "editable install (develop = true, " + type + " " + where + ")"
                             : type + " source (" + where + ")";
  }

  const TomlDocument& doc_;
  ErrorList errors_;
  Lockfile lock_;
  std::map<std::string, std::size_t> legacy_hashes_;  // [metadata.files], by normalized name
};

}  // namespace

Result<Lockfile> ParsePoetryLock(std::string_view text, const std::string& source) {
  auto doc = ParseToml(text, source);
  if (!doc.ok()) return Status::Reject(Reason::kLockfileInvalid, doc.status().message());
  return PoetryLockReader(*doc, source).Run();
}

}  // namespace bg
