// The JSON type of the plugin protocol: insertion-ordered, so that a result reads in the order
// it was written (status, reason, summary, details, metrics).
//
// Thread safety: values.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace bg::sdk {

using Json = nlohmann::ordered_json;

// Serializes without throwing on invalid UTF-8 (model and file names are bytes): bad sequences
// become U+FFFD. Use this, never Json::dump() directly, for anything built from bundle data.
inline std::string DumpJson(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace bg::sdk
