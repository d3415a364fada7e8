// Builds a Status from errno in one consistent wording: "<what> <path>: <strerror>", keeping the
// errno in the Status (Status::error_number) so that callers can tell a full disk from an I/O
// error without parsing messages. And errno names both ways ("ENOSPC"), for logs, status JSON
// and the fault-injection spec (env.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/core/status.h"

namespace bg {

Status ErrnoStatus(std::string_view what, std::string_view path, int err);
// Uses the current errno.
Status ErrnoStatus(std::string_view what, std::string_view path);

// "ENOSPC" for ENOSPC; the number as text for one glibc does not name.
std::string ErrnoName(int err);
// The inverse: "ENOSPC" or "28" -> 28; nullopt for anything else.
std::optional<int> ParseErrno(std::string_view text);

}  // namespace bg
