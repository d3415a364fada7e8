#include "agent/lockfile/package_name.h"

#include <algorithm>
#include <cctype>

namespace bg {
namespace {

bool IsSeparator(char c) { return c == '-' || c == '_' || c == '.'; }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

}  // namespace

std::string NormalizePackageName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (IsSeparator(c)) {
      if (out.empty() || out.back() != '-') out += '-';
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

bool IsValidPackageName(std::string_view name) {
  if (name.empty() || !IsAlnum(name.front()) || !IsAlnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return IsAlnum(c) || IsSeparator(c); });
}

}  // namespace bg
