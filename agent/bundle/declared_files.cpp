#include "agent/bundle/declared_files.h"

namespace bg {

DeclaredFiles ReadDeclaredFiles(const Json& root) {
  DeclaredFiles out;
  if (!root.is_object() || !root.contains("files") || !root["files"].is_array()) return out;
  out.has_files_array = true;
  for (const auto& f : root["files"]) {
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() || !f.contains("size") ||
        !f["size"].is_number_integer() || f["size"].get<std::int64_t>() < 0) {
      continue;
    }
    const auto size = static_cast<std::uint64_t>(f["size"].get<std::int64_t>());
    auto [it, inserted] = out.sizes.emplace(f["path"].get<std::string>(), size);
    if (inserted) out.total_bytes += size;
  }
  return out;
}

}  // namespace bg
