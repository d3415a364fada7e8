// Requirement: one PEP 508 dependency specification, as a requirements file line or a deny rule
// holds it: `name[extras] specifiers ; marker` or `name[extras] @ url ; marker`.
//
// Markers are kept as text, not evaluated: a lockfile entry applies on some platform, and the
// gate checks every entry whatever its marker says.
//
// Thread safety: value types and a pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/core/status.h"
#include "agent/lockfile/pep440_specifier.h"

namespace bg {

struct Requirement {
  std::string name;  // as written
  std::vector<std::string> extras;
  std::string specifier_text;  // as written, trimmed ("==2.5.1+cu121"); empty when none
  Pep440SpecifierSet specifiers;
  std::string url;     // after "@"; empty when none
  std::string marker;  // after ";", trimmed; empty when none
};

// Parses one requirement. The error says what is wrong, without a file or line.
Result<Requirement> ParseRequirement(std::string_view text);

}  // namespace bg
