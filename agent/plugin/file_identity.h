// FileIdentity: which file a path names right now, and which version of it: device, inode,
// size, modification and status-change times (nanoseconds). Two equal identities mean the same
// file, unchanged in between, to the precision of the filesystem's clock; the status-change
// time (ctime) moves on every write, chmod, rename or link and cannot be set back by a user,
// so a file rewritten and touched back to its old mtime still reads as changed.
//
// Used to remember what a plugin said about itself (describe_cache.h) for exactly as long as
// the plugin (and what it names as its dependencies) stays the same.
//
// Thread safety: values; Of() only stats.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "agent/core/json.h"
#include "agent/core/status.h"

namespace bg {

struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;

  // The file `path` resolves to (symlinks followed: the file exec would run).
  static Result<FileIdentity> Of(const std::string& path);

  bool operator==(const FileIdentity& o) const {
    return device == o.device && inode == o.inode && size == o.size && mtime_ns == o.mtime_ns &&
           ctime_ns == o.ctime_ns;
  }
  bool operator!=(const FileIdentity& o) const { return !(*this == o); }

  Json ToJson() const;
  // nullopt unless `j` is an object with exactly these integer fields.
  static std::optional<FileIdentity> FromJson(const Json& j);
};

}  // namespace bg
