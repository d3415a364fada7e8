#include "agent/signature/ssh_pattern.h"

namespace bg {

bool MatchSshPattern(std::string_view s, std::string_view p) {
  // Greedy with one remembered star: on a mismatch, let the last '*' swallow one more character.
  std::size_t si = 0, pi = 0;
  std::size_t star = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++si;
      ++pi;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      star_s = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++star_s;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

PatternListMatch MatchSshPatternList(std::string_view s, std::string_view list) {
  bool positive = false;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = list.find(',', start);
    std::string_view item = list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const bool negated = !item.empty() && item.front() == '!';
    if (negated) item.remove_prefix(1);
    if (MatchSshPattern(s, item)) {
      if (negated) return PatternListMatch::kNegated;
      positive = true;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return positive ? PatternListMatch::kYes : PatternListMatch::kNo;
}

}  // namespace bg
