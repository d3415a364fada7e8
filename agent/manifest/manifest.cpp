#include "agent/manifest/manifest.h"

#include <set>

#include "agent/core/hex.h"
#include "agent/toml/table_reader.h"
#include "agent/toml/toml_document.h"

namespace bg {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// A path field that must also be listed in [[files]]; checked once the files are known.
struct PathRef {
  std::string table;  // dotted table name, for the message
  std::string key;
  std::string value;
  int line;
};

class ManifestParser {
 public:
  ManifestParser(const TomlDocument& doc, ErrorList* errors) : doc_(doc), errors_(errors) {}

  Manifest Parse() {
    Manifest m;
    TableReader top(doc_, "", "", errors_);
    if (auto v = top.Int("format", Presence::kRequired)) {
      if (*v != kManifestFormat) {
        top.Fail("format", "unsupported format " + std::to_string(*v) + " (this agent reads " +
                               std::to_string(kManifestFormat) + ")");
      }
      m.format = *v;
    }
    if (auto v = top.String("name", Presence::kRequired)) {
      if (IsReservedLayoutName(*v)) {
        top.Fail("name", "\"" + *v + "\" is reserved: it collides with the serving layout");
      } else if (!IsValidBundleName(*v)) {
        top.Fail("name", "\"" + *v + "\" does not match [a-z0-9][a-z0-9._-]{0,63}");
      }
      m.name = *v;
    }
    if (auto v = top.String("version", Presence::kRequired)) {
      if (IsReservedLayoutName(*v)) {
        top.Fail("version", "\"" + *v + "\" is reserved: serving/<name>/current is the link "
                            "to the version being served");
      } else if (!IsValidBundleVersion(*v)) {
        top.Fail("version", "\"" + *v + "\" does not match [A-Za-z0-9][A-Za-z0-9._+-]{0,63}");
      }
      m.version = *v;
    }
    if (auto v = top.OffsetDateTime("created", Presence::kRequired)) m.created = *v;
    if (auto t = top.Table("source", Presence::kRequired)) ParseSource(*t, m.source);
    if (auto t = top.Table("model", Presence::kRequired)) ParseModel(*t, m.model);
    if (auto t = top.Table("inference", Presence::kOptional)) ParseInference(*t, m);
    if (auto t = top.Table("dependencies", Presence::kRequired)) {
      if (auto v = PathField(*t, "lockfile")) m.dependencies.lockfile = *v;
      t->RejectUnknownKeys();
    }
    if (auto t = top.Table("preprocessing", Presence::kRequired)) {
      if (auto v = t->String("version", Presence::kRequired)) {
        if (v->empty()) t->Fail("version", "must not be empty");
        m.preprocessing.version = *v;
      }
      if (auto v = PathField(*t, "spec")) m.preprocessing.spec = *v;
      t->RejectUnknownKeys();
    }
    if (auto t = top.Table("parity", Presence::kRequired)) ParseParity(*t, m.parity);
    ParseFiles(top, m);
    if (const Json* meta = top.Raw("metadata")) {
      if (meta->is_object()) {
        m.metadata = *meta;
      } else {
        top.Fail("metadata", "expected a table");
      }
    }
    top.RejectUnknownKeys();
    CheckReferencedPaths(m);
    return m;
  }

 private:
  std::optional<std::string> PathField(TableReader& t, std::string_view key,
                                       Presence presence = Presence::kRequired) {
    // Its safety is judged with [[files]]: an unsafe path is unsafe-path, found by integrity.
    auto v = t.String(key, presence);
    if (!v) return std::nullopt;
    if (v->empty()) {
      t.Fail(key, "must not be empty");
      return std::nullopt;
    }
    refs_.push_back({t.name(), std::string(key), *v,
                     doc_.LineOf(t.pointer() + "/" + JsonPointerEscape(key))});
    return v;
  }

  // A path inside the training repository: relative, but not a bundle file.
  std::optional<std::string> RepoPathField(TableReader& t, std::string_view key) {
    auto v = t.String(key, Presence::kRequired);
    if (v && !IsSafeRelativePath(*v)) {
      t.Fail(key, "\"" + *v + "\" is not a safe relative path inside the repository");
      return std::nullopt;
    }
    return v;
  }

  void ParseSource(TableReader t, Manifest::Source& s) {
    if (auto v = t.String("repo", Presence::kOptional)) s.repo = *v;
    if (auto v = t.String("commit", Presence::kRequired)) {
      if (!IsLowerHex(*v, 40) && !IsLowerHex(*v, 64)) {
        t.Fail("commit", "\"" + *v + "\" is not a full commit id (40 or 64 lower-case hex digits)");
      }
      s.commit = *v;
    }
    if (auto v = t.Bool("dirty", Presence::kRequired)) s.dirty = *v;
    if (auto v = t.String("branch", Presence::kOptional)) s.branch = *v;
    if (auto v = RepoPathField(t, "lockfile_path")) s.lockfile_path = *v;
    if (auto v = RepoPathField(t, "preprocessing_path")) s.preprocessing_path = *v;
    t.RejectUnknownKeys();
  }

  void ParseModel(TableReader t, Manifest::Model& model) {
    if (auto v = PathField(t, "path")) model.path = *v;
    if (auto v = t.String("format", Presence::kRequired)) {
      bool ok = !v->empty();
      for (char c : *v) ok = ok && (IsLowerAlnum(c) || c == '-' || c == '_');
      if (!ok) t.Fail("format", "\"" + *v + "\" is not a plugin kind ([a-z0-9_-]+)");
      model.format = *v;
    }
    std::set<std::string> seen;
    for (auto& e : t.TableArray("signature", Presence::kOptional)) {
      SignatureEntry entry;
      if (auto v = e.String("name", Presence::kRequired)) {
        if (v->empty()) e.Fail("name", "must not be empty");
        if (!seen.insert(*v).second) e.Fail("name", "\"" + *v + "\" is listed twice");
        entry.name = *v;
      }
      if (auto v = e.String("kind", Presence::kRequired)) {
        if (*v != "parameter" && *v != "buffer") {
          e.Fail("kind", "must be \"parameter\" or \"buffer\", found \"" + *v + "\"");
        }
        entry.kind = *v;
      }
      if (auto v = e.IntArray("shape", Presence::kRequired)) {
        for (auto d : *v) {
          if (d < 0) e.Fail("shape", "dimensions must be >= 0");
        }
        entry.shape = *v;
      }
      if (auto v = e.String("dtype", Presence::kRequired)) {
        if (!IsKnownDtypeName(*v)) e.Fail("dtype", "unknown dtype \"" + *v + "\"");
        entry.dtype = *v;
      }
      e.RejectUnknownKeys();
      model.signature.push_back(std::move(entry));
    }
    t.RejectUnknownKeys();
  }

  void ParseInference(TableReader t, Manifest& m) {
    Manifest::Inference inf;
    if (auto v = t.String("device", Presence::kOptional)) {
      if (*v != "cpu" && *v != "cuda") {
        t.Fail("device", "must be \"cpu\" or \"cuda\", found \"" + *v + "\"");
      }
      inf.device = *v;
    }
    if (auto v = t.Int("threads", Presence::kOptional, 1, 1024)) inf.threads = *v;
    if (auto v = t.Int("max_batch", Presence::kOptional, 1, 1 << 20)) inf.max_batch = *v;
    t.RejectUnknownKeys();
    m.inference = inf;
  }

  void ParseParity(TableReader t, Manifest::Parity& p) {
    if (auto v = PathField(t, "inputs")) p.inputs = *v;
    if (auto v = PathField(t, "expected")) p.expected = *v;
    if (auto tol = t.Table("tolerance", Presence::kOptional)) {
      for (const auto& key : tol->Keys()) {
        auto entry = tol->Table(key, Presence::kRequired);
        if (!entry) continue;
        Tolerance tolerance;
        for (auto [field, slot] : {std::pair{"rtol", &tolerance.rtol},
                                   std::pair{"atol", &tolerance.atol}}) {
          if (auto v = entry->Number(field, Presence::kRequired)) {
            if (*v < 0) entry->Fail(field, "must be >= 0");
            *slot = *v;
          }
        }
        entry->RejectUnknownKeys();
        p.tolerance[key] = tolerance;
      }
    }
    t.RejectUnknownKeys();
  }

  void ParseFiles(TableReader& top, Manifest& m) {
    std::set<std::string> seen;
    const auto entries = top.TableArray("files", Presence::kRequired);
    if (top.Has("files") && entries.empty()) top.Fail("files", "must list at least one file");
    for (auto e : entries) {
      ManifestFile f;
      if (auto v = e.String("path", Presence::kRequired)) {
        // An unsafe path (absolute, "..") is kept: integrity rejects it as unsafe-path.
        if (v->empty()) {
          e.Fail("path", "must not be empty");
        } else if (*v == kManifestFileName || *v == kManifestSignatureFileName) {
          e.Fail("path", "\"" + *v + "\" must not be listed (it is the manifest itself)");
        } else if (!seen.insert(*v).second) {
          e.Fail("path", "\"" + *v + "\" is listed twice");
        }
        f.path = *v;
      }
      if (auto v = e.Int("size", Presence::kRequired, 0)) f.size = static_cast<std::uint64_t>(*v);
      if (auto v = e.String("sha256", Presence::kRequired)) {
        if (!IsLowerHex(*v, 64)) e.Fail("sha256", "must be 64 lower-case hex digits");
        f.sha256 = *v;
      }
      e.RejectUnknownKeys();
      m.files.push_back(std::move(f));
    }
  }

  void CheckReferencedPaths(const Manifest& m) {
    for (const auto& ref : refs_) {
      if (m.FindFile(ref.value) == nullptr) {
        errors_->Add(ref.line, ref.table + "." + ref.key,
                     "\"" + ref.value + "\" is not listed in [[files]]");
      }
    }
  }

  const TomlDocument& doc_;
  ErrorList* errors_;
  std::vector<PathRef> refs_;
};

}  // namespace

bool IsReservedLayoutName(std::string_view name) {
  constexpr std::string_view kCurrent = "current";
  if (name.size() != kCurrent.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i] >= 'A' && name[i] <= 'Z' ? static_cast<char>(name[i] - 'A' + 'a') : name[i];
    if (c != kCurrent[i]) return false;
  }
  return true;
}

bool IsValidBundleName(std::string_view name) {
  if (IsReservedLayoutName(name)) return false;
  if (name.empty() || name.size() > 64 || !IsLowerAlnum(name[0])) return false;
  for (char c : name) {
    if (!IsLowerAlnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

bool IsValidBundleVersion(std::string_view version) {
  if (IsReservedLayoutName(version)) return false;
  if (version.empty() || version.size() > 64 || !IsAlnum(version[0])) return false;
  for (char c : version) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != '+' && c != '-') return false;
  }
  return true;
}

bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  for (char c : path) {
    if (c == '\0' || c == '\\') return false;
  }
  return true;
}

bool IsKnownDtypeName(std::string_view dtype) {
  static const std::set<std::string_view> kNames = {
      "float32", "float", "float64", "double", "float16", "half", "bfloat16",
      "complex64", "complex128", "int8", "int16", "short", "int32", "int", "int64",
      "long", "uint8", "bool", "qint8", "quint8", "qint32"};
  return kNames.count(dtype) > 0;
}

const ManifestFile* Manifest::FindFile(std::string_view path) const {
  for (const auto& f : files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

Json Manifest::ToJson() const {
  Json j;
  j["format"] = format;
  j["name"] = name;
  j["version"] = version;
  j["created"] = created;
  j["source"] = {{"repo", source.repo},
                 {"commit", source.commit},
                 {"dirty", source.dirty},
                 {"branch", source.branch},
                 {"lockfile_path", source.lockfile_path},
                 {"preprocessing_path", source.preprocessing_path}};
  Json sig = Json::array();
  for (const auto& e : model.signature) {
    sig.push_back({{"name", e.name}, {"kind", e.kind}, {"shape", e.shape}, {"dtype", e.dtype}});
  }
  j["model"] = {{"path", model.path}, {"format", model.format}, {"signature", sig}};
  if (inference) {
    j["inference"] = {{"device", inference->device},
                      {"threads", inference->threads},
                      {"max_batch", inference->max_batch}};
  }
  j["dependencies"] = {{"lockfile", dependencies.lockfile}};
  j["preprocessing"] = {{"version", preprocessing.version}, {"spec", preprocessing.spec}};
  Json tol = Json::object();
  for (const auto& [key, t] : parity.tolerance) tol[key] = {{"rtol", t.rtol}, {"atol", t.atol}};
  j["parity"] = {{"inputs", parity.inputs}, {"expected", parity.expected}, {"tolerance", tol}};
  Json fs = Json::array();
  for (const auto& f : files) fs.push_back({{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
  j["files"] = fs;
  if (!metadata.empty()) j["metadata"] = metadata;
  return j;
}

Result<Manifest> ParseManifest(std::string_view text, const std::string& source) {
  auto doc = ParseToml(text, source);
  if (!doc.ok()) return Status::Reject(Reason::kManifestInvalid, doc.status().message());
  ErrorList errors(source);
  ManifestParser parser(*doc, &errors);
  Manifest m = parser.Parse();
  BG_RETURN_IF_ERROR(errors.ToStatus(Reason::kManifestInvalid));
  return m;
}

}  // namespace bg
