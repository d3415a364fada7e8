#include "plugins/modelscan/archive_layout.h"

namespace bg::modelscan {
namespace {

bool AllDigits(std::string_view s) {
  if (s.empty() || s.size() > 18) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (const char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "a/b/c.py": identifier components, the last one with its ".py" (and ".debug_pkl") removed.
bool IsCodePath(std::string_view path) {
  if (!EndsWith(path, ".py")) return false;
  path.remove_suffix(3);
  while (!path.empty()) {
    const std::size_t slash = std::min(path.find('/'), path.size());
    if (!IsIdentifier(path.substr(0, slash))) return false;
    path.remove_prefix(std::min(slash + 1, path.size()));
  }
  return true;
}

EntryRole RoleOf(std::string_view rest) {
  if (rest == "data.pkl") return EntryRole::kDataPickle;
  if (rest == "constants.pkl") return EntryRole::kConstantsPickle;
  if (rest == "bytecode.pkl") return EntryRole::kBytecodePickle;
  if (rest == "version" || rest == ".data/version") return EntryRole::kVersion;
  if (rest == "byteorder" || rest == ".data/serialization_id") return EntryRole::kMetadata;
  if (rest.substr(0, 6) == "extra/" && rest.size() > 6) return EntryRole::kExtra;
  if (rest.substr(0, 5) == "data/" && AllDigits(rest.substr(5))) return EntryRole::kDataStorage;
  if (rest.substr(0, 10) == "constants/" && AllDigits(rest.substr(10))) {
    return EntryRole::kConstantStorage;
  }
  if (rest.substr(0, 5) == "code/") {
    std::string_view path = rest.substr(5);
    if (EndsWith(path, ".debug_pkl")) {
      path.remove_suffix(10);
      return IsCodePath(path) ? EntryRole::kDebugPickle : EntryRole::kUnknown;
    }
    return IsCodePath(path) ? EntryRole::kCode : EntryRole::kUnknown;
  }
  return EntryRole::kUnknown;
}

}  // namespace

bool IsPickleRole(EntryRole role) {
  return role == EntryRole::kDataPickle || role == EntryRole::kConstantsPickle ||
         role == EntryRole::kBytecodePickle || role == EntryRole::kDebugPickle;
}

ArchiveLayout ClassifyEntries(const std::vector<ZipEntry>& entries) {
  ArchiveLayout layout;
  if (entries.empty()) return layout;
  layout.top = entries.front().name.substr(0, entries.front().name.find('/'));
  bool data = false, constants = false, code = false;
  for (const auto& e : entries) {
    const std::string_view name = e.name;
    EntryRole role = EntryRole::kUnknown;
    if (name.size() > layout.top.size() + 1 && name.substr(0, layout.top.size()) == layout.top &&
        name[layout.top.size()] == '/') {
      role = RoleOf(name.substr(layout.top.size() + 1));
    }
    if (role == EntryRole::kUnknown) {
      layout.problems.push_back("entry \"" + Printable(name) +
                                "\" is not part of a TorchScript archive (top directory \"" +
                                Printable(layout.top) + "\")");
    }
    data = data || role == EntryRole::kDataPickle;
    constants = constants || role == EntryRole::kConstantsPickle;
    code = code || role == EntryRole::kCode;
    layout.roles.push_back(role);
  }
  if (data && constants && code) {
    layout.kind = ArchiveLayout::kTorchScript;
  } else if (data && !constants && !code) {
    layout.kind = ArchiveLayout::kCheckpoint;
  }
  return layout;
}

}  // namespace bg::modelscan
