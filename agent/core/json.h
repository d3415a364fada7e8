// The JSON type used across the agent: insertion-ordered, so that audit lines, REJECTED.json and
// --json output keep the field order a reader expects (seq, time, event, ... ).
#pragma once

#include <nlohmann/json.hpp>

namespace bg {
using Json = nlohmann::ordered_json;
}  // namespace bg

namespace bg {
// Serializes without throwing on invalid UTF-8 (file names are bytes): bad sequences become
// U+FFFD. Use this, never Json::dump() directly, for anything built from on-disk names.
inline std::string DumpJson(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}
}  // namespace bg
