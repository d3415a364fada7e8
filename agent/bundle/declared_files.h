// DeclaredFiles: what bundle.toml's [[files]] says, read leniently from a parsed TOML document,
// for the two readers that must not wait for a fully valid manifest: the readiness probe (is
// every listed file there at its size? how many bytes will a copy need?) and copy intake (how
// far may each file be read?). Ill-typed entries are skipped here; the manifest check reports
// them.
//
// Thread safety: values.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "agent/core/json.h"

namespace bg {

struct DeclaredFiles {
  bool has_files_array = false;  // [[files]] is an array (of anything)
  std::map<std::string, std::uint64_t> sizes;  // path -> size, well-formed entries only
  std::uint64_t total_bytes = 0;  // the sum of `sizes`
};

// From the root table of a parsed bundle.toml.
DeclaredFiles ReadDeclaredFiles(const Json& root);

}  // namespace bg
