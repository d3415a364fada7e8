// The JSON type of the plugin protocol: insertion-ordered, so that a result reads in the order
// it was written (status, reason, summary, details, metrics).
//
// Thread safety: values.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace bg::sdk {

using Json = nlohmann::ordered_json;

// The deepest nesting of arrays and objects in `text`, found in one pass without recursion
// (strings and escapes skipped). nlohmann's parser and serializer recurse once per level, so
// text someone else wrote is measured with this before it is parsed. A copy of the agent's
// JsonNestingDepth (agent/core/bounded_json.h): the SDK builds without agent headers.
inline std::size_t JsonNestingDepth(std::string_view text) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = ++depth > deepest ? depth : deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// Serializes without throwing on invalid UTF-8 (model and file names are bytes): bad sequences
// become U+FFFD. Use this, never Json::dump() directly, for anything built from bundle data.
inline std::string DumpJson(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace bg::sdk
