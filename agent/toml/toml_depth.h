// TomlNestingDepth: how deep a TOML text nests, found in one iterative pass before toml++ sees
// it.
//
// toml++ bounds inline arrays and tables (TOML_MAX_NESTED_VALUES, 256), but not keys: a
// bundle.toml holding `a.a.a.(100,000 times) = 1` or the table header `[a.a.a...]` (200 KB)
// builds a table 100,000 levels deep, and destroying or converting it recurses once per level:
// the agent died of SIGSEGV (tested). Nesting comes from three places, added up here: the
// components of the current table header ([a.b] is 2, [[a.b]] 3: the array adds one), the
// components of a dotted key (a.b.c = 1 is 3 more), and inline arrays and tables in the value,
// each with the dotted keys inside it. Strings (basic, literal, multi-line), comments and the
// dots of numbers and dates are skipped. For valid TOML the result is never less than the depth
// of the document toml++ would build; for malformed TOML it is some number and the parser then
// reports the syntax error.
//
// Thread safety: pure function.
#pragma once

#include <cstddef>
#include <string_view>

namespace bg {

struct TomlDepth {
  std::size_t depth = 0;  // the deepest nesting seen (stops counting past `limit`)
  int line = 0;           // where it first went past `limit` (1-based), 0 if it did not
};

TomlDepth TomlNestingDepth(std::string_view text, std::size_t limit);

}  // namespace bg
