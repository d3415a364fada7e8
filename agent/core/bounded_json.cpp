#include "agent/core/bounded_json.h"

#include <string>

namespace bg {

std::size_t JsonNestingDepth(std::string_view text) {
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
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > deepest) deepest = depth;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return deepest;
}

Result<Json> ParseBoundedJson(std::string_view text, std::string_view what,
                              const JsonLimits& limits) {
  const std::string name(what);
  if (text.size() > limits.max_bytes) {
    return Status::Error(name + ": " + std::to_string(text.size()) + " bytes, more than the " +
                         std::to_string(limits.max_bytes) + " allowed");
  }
  const std::size_t depth = JsonNestingDepth(text);
  if (depth > limits.max_depth) {
    return Status::Error(name + ": nested " + std::to_string(depth) +
                         " levels deep, more than the " + std::to_string(limits.max_depth) +
                         " allowed");
  }
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    return Status::Error(name + ": not valid JSON: " + e.what());
  }
}

}  // namespace bg
