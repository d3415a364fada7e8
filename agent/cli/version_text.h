// The text of --version (also `bundlegate version`).
#pragma once

#include <string>

namespace bg::cli {
std::string VersionText();
}  // namespace bg::cli
