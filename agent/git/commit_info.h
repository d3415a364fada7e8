// LookupCommit: the manifest's source.commit, found in the repository, with what a reviewer wants
// to see about it (summary line, author, time).
//
// Thread safety: uses only `repo`, which belongs to the calling thread.
#pragma once

#include <git2/oid.h>
#include <git2/repository.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/core/json.h"
#include "agent/core/status.h"

namespace bg {

struct CommitInfo {
  git_oid oid{};
  std::string id;       // 40 hex
  std::string summary;  // first line of the message
  std::string author;   // "Name <email>"
  std::string time;     // author time, RFC 3339 in the author's own offset

  Json ToJson() const;
};

// `hex`: the manifest's commit (40 or 64 lower-case hex). A commit that is not in the repository
// (or an id that names a tree, a blob or a tag) is a commit-unknown rejection; a 64-hex id is
// one too, since libgit2 1.5 reads SHA-1 repositories only. Anything else that goes wrong
// (a corrupt object database) is an operational error.
Result<CommitInfo> LookupCommit(git_repository* repo, std::string_view hex);

// "2026-11-28T10:00:00+01:00" ("Z" for UTC) for a git time and its offset in minutes.
std::string GitTimeRfc3339(std::int64_t seconds, int offset_minutes);

}  // namespace bg
