// CommitReader: a commit's parents and committer time (object_header.h), for a history walk,
// from the cheapest place that has it: the repository's packs read directly (pack_reader.h), or
// else libgit2's object database (loose objects, alternates, anything the pack reader leaves).
// Both paths end in the same parser, so the answer never depends on which one read the commit.
//
// Thread safety: not thread-safe; uses `repo`, which belongs to the calling thread.
#pragma once

#include <git2/odb.h>
#include <git2/repository.h>

#include <memory>
#include <string>

#include "agent/core/status.h"
#include "agent/git/object_header.h"
#include "agent/git/pack_reader.h"

namespace bg {

class CommitReader {
 public:
  explicit CommitReader(git_repository* repo);
  ~CommitReader();
  CommitReader(const CommitReader&) = delete;
  CommitReader& operator=(const CommitReader&) = delete;

  // Fails when no object database has `oid` (a shallow or damaged clone), when it is not a
  // commit, or when it is malformed: a walk cannot go on without a commit's parents.
  Status Read(const git_oid& oid, CommitHeader& out);

  std::uint64_t read_from_packs() const { return from_packs_; }
  std::uint64_t read_through_libgit2() const { return through_libgit2_; }

 private:
  Status ReadThroughLibgit2(const git_oid& oid, CommitHeader& out);

  git_repository* repo_;
  PackReader packs_;
  git_odb* odb_ = nullptr;  // opened on first use
  std::string raw_;         // reused
  std::uint64_t from_packs_ = 0;
  std::uint64_t through_libgit2_ = 0;
};

}  // namespace bg
