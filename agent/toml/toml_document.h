// TomlDocument: a TOML file as JSON plus, for every node, its TOML type and source line.
//
// This is the only place that includes toml++ (slow to compile, and it throws). Everything that
// reads TOML (the agent's config, bundle.toml, uv.lock, poetry.lock) works on this form, so that
// error messages can name file, line and key without each reader knowing toml++.
//
// Date-times become RFC 3339 strings; their TOML type is kept, so a reader can still insist that
// `created` was written as a date-time and not as a string.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "agent/core/json.h"
#include "agent/core/status.h"

namespace bg {

enum class TomlType {
  kTable,
  kArray,
  kString,
  kInteger,
  kFloat,
  kBoolean,
  kDate,            // 2026-11-28
  kTime,            // 10:00:00
  kLocalDateTime,   // 2026-11-28T10:00:00 (no offset)
  kOffsetDateTime,  // 2026-11-28T10:00:00Z
};

std::string_view TomlTypeName(TomlType type);

struct TomlNodeInfo {
  TomlType type = TomlType::kTable;
  int line = 0;  // 1-based; 0 when unknown
};

struct TomlDocument {
  std::string source;  // the file name used in messages
  Json root;           // always an object
  // Keyed by JSON pointer ("/model/signature/0/name"); the root table is "".
  std::unordered_map<std::string, TomlNodeInfo> nodes;

  const TomlNodeInfo* Info(const std::string& pointer) const;
  int LineOf(const std::string& pointer) const;
};

// How deep a document may nest: tables, arrays, and each component of a dotted key count one
// level. Real bundle.toml, config and lock files stay under 10.
inline constexpr std::size_t kMaxTomlDepth = 64;

// Parses `text`. A syntax error is returned as "<source>:<line>:<column>: <what>". A text
// nesting deeper than kMaxTomlDepth is refused before toml++ reads it (toml_depth.h): toml++
// bounds only inline values, and a 100,000-component dotted key crashed it.
Result<TomlDocument> ParseToml(std::string_view text, std::string source);

// toml++'s version, for --version.
std::string TomlLibraryVersion();

// Escapes a key for use inside a JSON pointer ("~" -> "~0", "/" -> "~1").
std::string JsonPointerEscape(std::string_view key);

}  // namespace bg
