// Reading the audit log's lines: forward, streaming (verify, show), and backward from the end
// (tail, and append, which must not read a long log whole to find its last line).
//
// Readers see the log between appends: they read the file's size under a shared flock, which an
// append (holding the exclusive one through its write and fsync) excludes, and read no further.
// So a concurrent append never shows up as a half-written line.
//
// Reading does not go through Env: only writes and fsyncs matter to crash safety (env.h).
//
// Thread safety: the functions are safe from any thread; a ReverseLineReader belongs to one.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/status.h"
#include "agent/core/unique_fd.h"

namespace bg {

// Opens `path` read-only.
Result<UniqueFd> OpenForReading(const std::string& path);

// The size of the file open at `fd`.
Result<off_t> FileSize(int fd, const std::string& path);

// The size of the log open at `fd`, read under a shared flock: no append is half done there.
Result<off_t> SizeBetweenAppends(int fd, const std::string& path);

// Reads exactly `size` bytes at `offset`; a file shorter than that is an error.
Result<std::string> ReadAt(int fd, off_t offset, std::size_t size, const std::string& path);

// Calls `fn(line, complete)` for each line of the log at `path` as it is between appends, in
// order, `line` without its "\n". Only the last line can be incomplete (the file does not end in
// "\n"); an empty file has no lines. Fails only when the file cannot be opened or read.
Status ForEachLine(const std::string& path,
                   const std::function<void(std::string_view line, bool complete)>& fn);

// Offset of the last "\n" in the first `end` bytes of the file, or -1 when there is none.
// Reads backward in blocks and keeps none of them, whatever the distance.
Result<off_t> FindLastNewline(int fd, off_t end, const std::string& path);

// Reads the lines of the first `end` bytes of a file backward, newest first. `end` must be 0 or
// just past a "\n" (see FindLastNewline). Memory: the lines returned, plus one block.
class ReverseLineReader {
 public:
  ReverseLineReader(int fd, off_t end, std::string path);

  // The previous line without its "\n", or nullopt at the start of the file.
  Result<std::optional<std::string>> Previous();
  // Where the line last returned by Previous() begins (`end` before the first call).
  off_t position() const { return end_; }

 private:
  Status ReadMore();

  int fd_;
  std::string path_;
  off_t pos_;        // file offset of buf_[0]
  off_t end_;        // buf_ holds [pos_, end_): what is read but not yet returned
  std::string buf_;
};

}  // namespace bg
