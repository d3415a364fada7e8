// Builds a Status from errno in one consistent wording: "<what> <path>: <strerror>".
#pragma once

#include <string>
#include <string_view>

#include "agent/core/status.h"

namespace bg {

Status ErrnoStatus(std::string_view what, std::string_view path, int err);
// Uses the current errno.
Status ErrnoStatus(std::string_view what, std::string_view path);

}  // namespace bg
