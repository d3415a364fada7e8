// What a history walk needs from raw objects, read from their header lines as git reads them:
//   ParseCommitHeader: a commit's parents and committer time ("tree", then one "parent" line
//     each, then "author", "committer"; the message after the first empty line is never read);
//   ParseTagTarget: the object an annotated tag points at (its "object" line).
//
// Why not libgit2's parsers: they allocate the author, committer and message of every commit,
// which a walk over tens of thousands of commits pays for and never reads.
//
// Thread safety: a pure function.
#pragma once

#include <git2/oid.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "agent/core/status.h"

namespace bg {

struct CommitHeader {
  std::vector<git_oid> parents;  // in order; reused buffer
  std::int64_t time = 0;         // committer time (seconds); 0 when the line has none
};

// Fails when `raw` does not start with a tree line or a parent line is malformed: the parents
// are what reachability rests on, so a commit whose parents cannot be read is an error, never
// "no parents". A missing or unreadable committer time only orders a walk: it reads as 0.
Status ParseCommitHeader(std::string_view raw, CommitHeader& out);

// False when `raw` does not start with "object <40 hex>\n".
bool ParseTagTarget(std::string_view raw, git_oid& target);

}  // namespace bg
