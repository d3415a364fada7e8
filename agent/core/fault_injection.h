// Fault injection: make a named Env operation fail with a chosen errno, for tests. Inert unless
// one of the variables below is set (like BUNDLEGATE_CRASH_AT, env.h):
//
//   BUNDLEGATE_FAULT=<rule>[,<rule>...]
//       <rule> = <op>:<ERRNO>[:<nth>[:<count>]][@<path-pattern>]
//       The nth call (default the 1st) of Env operation <op> whose path matches fails with
//       ERRNO, and so do the calls after it until `count` calls have failed (default 1; 0: every
//       call from the nth on). ERRNO is a name (ENOSPC, EIO, EACCES, EMFILE...) or a number.
//       <path-pattern> is a substring of the path, or, when it holds one of * ? [, a glob
//       matched against the whole path ('*' also matches '/'). Without one, any path matches.
//       Example: BUNDLEGATE_FAULT='fsync:EIO@/work/,rename:ENOSPC:2:0@/serving/'
//   BUNDLEGATE_FAULT_FILE=<file>
//       The same rules, one per line (or comma-separated), read from <file> and read again
//       whenever it changes (its inode, size or mtime), with every counter restarted: a test
//       drives one running agent through many faults. A missing file means no rules.
//   BUNDLEGATE_FAULT_TRACE=<file>
//       Appends "<op>\t<path>\n" to <file> for every Env operation (before any rule is applied),
//       so that a test can enumerate the steps the agent takes instead of listing them by hand.
//
// Operations (the names Env uses): open, read, write, fallocate, truncate, fsync, chmod, mkdir,
// rename, symlink, unlink, remove, syncfs, statvfs, spawn (a plugin or hook about to be
// started). A malformed spec is reported once on stderr and ignored, never half-applied.
//
// Thread safety: CheckFault may be called from any thread.
#pragma once

#include <string_view>

#include "agent/core/status.h"

namespace bg {

// Ok, or the injected failure for `op` on `path` (an ErrnoStatus naming both). Also writes the
// trace line when tracing is on. Cheap when nothing is set.
Status CheckFault(std::string_view op, std::string_view path);

// Whether any fault-injection variable is set (for a startup note in the log).
bool FaultInjectionActive();

}  // namespace bg
