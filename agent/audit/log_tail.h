// LogTail: what an append needs to know about the end of the log (audit_log.h), read backward
// from the end so that appending costs the same at line 10 and at line 10 million.
//
// Thread safety: a function of the file's bytes; call it under the log's lock.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "agent/core/status.h"

namespace bg {

struct LogTail {
  off_t size = 0;
  off_t intact_end = 0;        // just past the last intact line; < size when the tail is torn
  std::uint64_t last_seq = 0;  // of the last intact line; 0 for an empty log (valid if !torn())
  std::string last_hash;       // its SHA-256, the next `prev` (valid if !torn())

  bool torn() const { return intact_end < size; }
};

// Reads the tail of the log open at `fd`. A last line without "\n", or an unparseable last line,
// is torn. Fails when the file cannot be read, or its last line is a JSON object without a
// positive integer `seq` (not an audit log, or edited: appending would hide that).
Result<LogTail> ReadLogTail(int fd, const std::string& path);

}  // namespace bg
