// What the audit log does with a torn tail: the bytes a crash left after the last intact line
// (a line without its "\n", or an unparseable last line). They are never silently dropped: they
// are copied to a file next to the log, and described in the `recovered` record that follows.
//
// Thread safety: pure functions, and file writes through the Env given.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "agent/core/env.h"
#include "agent/core/json.h"
#include "agent/core/status.h"

namespace bg {

// How many torn bytes the `recovered` record quotes; the saved file holds them all.
inline constexpr std::size_t kTornBytesQuoted = 4096;

struct SavedTornTail {
  off_t offset = 0;    // where the torn bytes began in the log
  off_t size = 0;      // how many there were
  std::string sha256;  // of all of them
  std::string head;    // the first kTornBytesQuoted of them
  std::string saved_to;
};

// Copies bytes [from, to) of the log open at `log_fd` to a new file "<log_path>.torn-<utc>"
// (mode 0640, never overwriting one), fsyncs it and its directory. On failure nothing in the
// log has changed.
Result<SavedTornTail> SaveTornBytes(Env& env, int log_fd, const std::string& log_path, off_t from,
                                    off_t to);

// The fields of the `recovered` record: what was found where, where it was saved, and the bytes
// themselves (as text when they are printable UTF-8, else as hex; at most kTornBytesQuoted).
Json DescribeTornTail(const SavedTornTail& torn);

// True when `s` is valid UTF-8 with no control characters but tab.
bool IsPrintableUtf8(std::string_view s);

}  // namespace bg
