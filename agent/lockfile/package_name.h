// Python package names: PEP 508's syntax and PEP 503's normalization, by which "Torch",
// "typing_extensions" and "Typing.Extensions" name the same distribution as "torch" and
// "typing-extensions". Every comparison of names in the lockfile check uses the normalized form.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace bg {

// Lower case, each run of '-', '_' and '.' replaced by one '-'.
std::string NormalizePackageName(std::string_view name);

// [A-Za-z0-9] at both ends, [A-Za-z0-9._-] in between.
bool IsValidPackageName(std::string_view name);

}  // namespace bg
