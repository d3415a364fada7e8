// OpenSSH's patterns (ssh_config(5), PATTERNS), as allowed_signers uses them for principals and
// namespaces: '*' matches any run of characters, '?' any one; a pattern-list is comma-separated
// patterns, each optionally negated with '!'.
//
// Matching is iterative (no recursion, no backtracking blow-up): a pattern of length m against a
// string of length n costs at most O(n * m).
//
// Thread safety: pure functions.
#pragma once

#include <string_view>

namespace bg {

bool MatchSshPattern(std::string_view s, std::string_view pattern);

enum class PatternListMatch { kNo, kYes, kNegated };
// kNegated when a '!' pattern matches (which wins over any positive match), kYes when some
// positive pattern matches, kNo otherwise (as match_pattern_list: -1, 1, 0).
PatternListMatch MatchSshPatternList(std::string_view s, std::string_view list);

}  // namespace bg
