// ParseBoundedJson: the one way to parse JSON that someone else wrote (a plugin's result, a
// producer's signature file, a record on disk that a crash or an attacker may have mangled).
//
// nlohmann's parser and its destructor recurse once per nesting level, so a few hundred
// kilobytes of "[[[[..." overflow the stack and take the process down with them. Before any
// parsing, one iterative pass over the bytes (strings and escapes skipped correctly) checks the
// size and the nesting depth; only text within both limits reaches nlohmann. The result is a
// value, never an exception: a failure names the limit or the parser's byte offset.
//
// Thread safety: a pure function.
#pragma once

#include <cstddef>
#include <string_view>

#include "agent/core/json.h"
#include "agent/core/status.h"

namespace bg {

struct JsonLimits {
  std::size_t max_bytes = 16u << 20;  // the whole text
  std::size_t max_depth = 64;         // nested arrays and objects; a scalar is depth 0
};

// The deepest nesting of arrays and objects in `text`, found without recursion. Unbalanced or
// malformed text still gets a number (the parser then reports the syntax error).
std::size_t JsonNestingDepth(std::string_view text);

// Parses `text` (RFC 8259, no comments) within `limits`. `what` names the text in errors
// ("plugin result", "work/<id>/journal.jsonl").
Result<Json> ParseBoundedJson(std::string_view text, std::string_view what,
                              const JsonLimits& limits = {});

}  // namespace bg
