#include "agent/lockfile/pipfile_lock.h"

#include <algorithm>

#include "agent/core/bounded_json.h"
#include "agent/core/json.h"
#include "agent/lockfile/artifact_name.h"
#include "agent/lockfile/pep440_specifier.h"
#include "agent/toml/table_reader.h"

namespace bg {
namespace {

constexpr std::size_t kMaxPipfileDepth = 64;  // real ones nest 4 deep

int LineAt(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 +
         static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(offset), '\n'));
}

// The line of `"key":` at or after `from`; 0 when not found. Sets *from past it.
int LineOfKey(std::string_view text, const std::string& key, std::size_t* from) {
  const std::string quoted = DumpJson(Json(key));
  std::size_t at = *from;
  while ((at = text.find(quoted, at)) != std::string_view::npos) {
    const std::size_t after = text.find_first_not_of(" \t\r\n", at + quoted.size());
    if (after != std::string_view::npos && text[after] == ':') {
      *from = after;
      return LineAt(text, at);
    }
    at += quoted.size();
  }
  return 0;
}

std::string StringField(const Json& entry, const char* key) {
  const auto it = entry.find(key);
  return it != entry.end() && it->is_string() ? it->get<std::string>() : "";
}

class PipfileLockReader {
 public:
  PipfileLockReader(std::string_view text, const std::string& source)
      : text_(text), errors_(source) {
    lock_.format = LockfileFormat::kPipfileLock;
    lock_.source = source;
  }

  Result<Lockfile> Run(const Json& root) {
    if (!root.is_object() || (!root.contains("_meta") && !root.contains("default"))) {
      return Status::Reject(Reason::kLockfileInvalid,
                            lock_.source + ": not a Pipfile.lock (no \"_meta\" or \"default\")");
    }
    for (const char* section : {"default", "develop"}) Section(root, section);
    BG_RETURN_IF_ERROR(errors_.ToStatus(Reason::kLockfileInvalid));
    return std::move(lock_);
  }

 private:
  void Section(const Json& root, const std::string& section) {
    const auto it = root.find(section);
    if (it == root.end()) return;
    std::size_t from = 0;
    const int section_line = LineOfKey(text_, section, &from);
    if (!it->is_object()) {
      errors_.Add(section_line, section, "expected an object of packages");
      return;
    }
    for (const auto& item : it->items()) {
      const int line = LineOfKey(text_, item.key(), &from);
      Entry(section, item.key(), item.value(), line != 0 ? line : section_line);
    }
  }

  void Entry(const std::string& section, const std::string& name, const Json& entry, int line) {
    const std::string where = section + "." + name;
    if (!entry.is_object()) {
      errors_.Add(line, where, "expected an object");
      return;
    }
    LockedPackage p;
    p.name = name;
    p.line = line;
    p.group = section;
    p.marker = StringField(entry, "markers");
    if (!Reference(entry, p) && !Version(entry, p, line, where)) return;
    if (!Hashes(entry, p, line, where)) return;
    if (Status st = FinishPackage(p); !st.ok()) {
      errors_.Add(line, where, st.message());
      return;
    }
    lock_.packages.push_back(std::move(p));
  }

  // Editable, path, file and git entries; false when the entry is none of them.
  static bool Reference(const Json& entry, LockedPackage& p) {
    const auto e = entry.find("editable");
    const bool editable = e != entry.end() && e->is_boolean() && e->get<bool>();
    for (const char* kind : {"git", "path", "file"}) {
      std::string where = StringField(entry, kind);
      if (where.empty()) continue;
      if (const std::string ref = StringField(entry, "ref"); !ref.empty()) where += "@" + ref;
      if (std::string_view(kind) == "file") p.version = ArtifactNameOf(where).version;
      p.unpinned_why = editable ? "editable install (" + std::string(kind) + " " + where + ")"
                                : std::string(kind) + " source (" + where + ")";
      return true;
    }
    return false;
  }

  // "version": "==X" pins; anything else is a range. False after reporting an error.
  bool Version(const Json& entry, LockedPackage& p, int line, const std::string& where) {
    const auto it = entry.find("version");
    if (it == entry.end()) {
      p.unpinned_why = "no version";
      return true;
    }
    if (!it->is_string()) {
      errors_.Add(line, where + ".version", "expected a string");
      return false;
    }
    const std::string text = it->get<std::string>();
    if (text == "*") {
      p.unpinned_why = "any version (\"*\")";
      return true;
    }
    auto set = Pep440SpecifierSet::Parse(text);
    if (!set.ok()) {
      errors_.Add(line, where + ".version", set.status().message());
      return false;
    }
    const auto& specs = set->specifiers();
    if (specs.size() == 1 && specs[0].is_pin()) {
      p.pinned = true;
      p.version = specs[0].operand();
    } else {
      p.unpinned_why = "version range \"" + text + "\"";
    }
    return true;
  }

  bool Hashes(const Json& entry, LockedPackage& p, int line, const std::string& where) {
    const auto it = entry.find("hashes");
    if (it == entry.end()) return true;
    if (!it->is_array() ||
        !std::all_of(it->begin(), it->end(), [](const Json& h) { return h.is_string(); })) {
      errors_.Add(line, where + ".hashes", "expected an array of strings");
      return false;
    }
    p.hashes = it->size();
    return true;
  }

  std::string_view text_;
  ErrorList errors_;
  Lockfile lock_;
};

}  // namespace

Result<Lockfile> ParsePipfileLock(std::string_view text, const std::string& source) {
  // A producer's file: nlohmann recurses once per nesting level (bounded_json.h).
  if (const std::size_t depth = JsonNestingDepth(text); depth > kMaxPipfileDepth) {
    return Status::Reject(Reason::kLockfileInvalid,
                          source + ": nested " + std::to_string(depth) + " levels deep, more than the " +
                              std::to_string(kMaxPipfileDepth) + " allowed");
  }
  Json root;
  try {
    root = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    return Status::Reject(
        Reason::kLockfileInvalid,
        source + ":" + std::to_string(LineAt(text, e.byte)) + ": not valid JSON: " + e.what());
  } catch (const Json::exception& e) {
    // Not only parse_error: a number too large for a double (1e400) throws out_of_range (406),
    // which escaped and terminated the agent (found by tests/fuzz/pipfile_lock_fuzz.cpp).
    return Status::Reject(Reason::kLockfileInvalid, source + ": not valid JSON: " + e.what());
  }
  return PipfileLockReader(text, source).Run(root);
}

}  // namespace bg
