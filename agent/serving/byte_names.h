// Names and paths are bytes: Linux allows any byte but '/' and NUL in a file name, and a
// producer may drop a bundle whose name is not UTF-8. JSON strings are Unicode, so such a name
// written as a JSON string comes back changed (DumpJson replaces bad sequences with U+FFFD),
// and a path rebuilt from it names nothing.
//
// The rule here: every record keeps the readable text under its key (valid JSON, what people
// read) and the exact bytes in hex beside it, under "<key>_hex". The agent's own journal always
// writes the hex copy; audit lines and REJECTED.json write it when the text is not UTF-8.
// Readers take the hex copy when there is one.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/core/json.h"
#include "agent/core/utf8.h"  // IsValidUtf8

namespace bg {

// Writes j[key] = bytes (readable) and, when `always_hex` or the bytes are not UTF-8,
// j[key + "_hex"] = their lower-case hex.
void PutBytes(Json& j, const std::string& key, const std::string& bytes, bool always_hex = false);

// The exact bytes PutBytes wrote: the hex copy when present and well-formed, else the string
// under `key`. nullopt when neither is a string.
std::optional<std::string> GetBytes(const Json& j, const std::string& key);

}  // namespace bg
