// GitStatus: the one place where a libgit2 return code becomes a Status.
//
// libgit2 reports failures as a negative return code plus a message kept in thread-local storage
// (git_error_last()). Every call into libgit2 in this folder hands its code to GitStatus right
// away, on the same thread, so the message read is the one that call left.
//
// Thread safety: safe from any thread (libgit2 keeps the last error per thread).
#pragma once

#include <string_view>

#include "agent/core/status.h"

namespace bg {

// Ok when `code` >= 0. Otherwise an operational error (Reason::kNone):
// "<doing>: <libgit2's message>", or "<doing>: libgit2 error <code>" when it left none.
Status GitStatus(int code, std::string_view doing);

}  // namespace bg
