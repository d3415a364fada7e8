// CompareCommittedFiles: are the bundle's lockfile and preprocessing spec the files of the
// training commit?
//
// The bundle's [dependencies].lockfile and [preprocessing].spec (their SHA-256 from the walk,
// which hashed every bundle file) against the blobs at <commit>:<source.lockfile_path> and
// <commit>:<source.preprocessing_path>. A difference, a path missing at the commit, or a bundle
// file that was not hashed is a file-differs-at-commit finding naming the repository path and
// both hashes. details["files"] lists both comparisons, equal or not.
//
// Thread safety: uses only `repo`, which belongs to the calling thread.
#pragma once

#include <git2/oid.h>
#include <git2/repository.h>

#include "agent/bundle/bundle_walk.h"
#include "agent/core/status.h"
#include "agent/git/git_report.h"
#include "agent/manifest/manifest.h"

namespace bg {

// Fails only on an operational error (an object that cannot be read).
Status CompareCommittedFiles(git_repository* repo, const git_oid& commit, const Manifest& manifest,
                             const WalkReport& walk, GitReport& report);

}  // namespace bg
