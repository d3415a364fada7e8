// Owning handles for libgit2 objects: std::unique_ptr with the matching git_*_free, so that every
// early return (and every error path) releases what it looked up.
//
// Thread safety: as the objects they hold. A git_repository and everything looked up through it
// belong to one thread at a time (libgit2 repositories are not safe for concurrent use).
#pragma once

#include <git2/blob.h>
#include <git2/commit.h>
#include <git2/object.h>
#include <git2/refs.h>
#include <git2/remote.h>
#include <git2/repository.h>
#include <git2/tree.h>

#include <memory>

namespace bg {

template <typename T, void (*Free)(T*)>
struct GitFree {
  void operator()(T* p) const { Free(p); }
};

template <typename T, void (*Free)(T*)>
using GitHandle = std::unique_ptr<T, GitFree<T, Free>>;

using RepositoryPtr = GitHandle<git_repository, git_repository_free>;
using ObjectPtr = GitHandle<git_object, git_object_free>;
using CommitPtr = GitHandle<git_commit, git_commit_free>;
using TreePtr = GitHandle<git_tree, git_tree_free>;
using TreeEntryPtr = GitHandle<git_tree_entry, git_tree_entry_free>;
using BlobPtr = GitHandle<git_blob, git_blob_free>;
using ReferencePtr = GitHandle<git_reference, git_reference_free>;
using ReferenceIteratorPtr = GitHandle<git_reference_iterator, git_reference_iterator_free>;
using RemotePtr = GitHandle<git_remote, git_remote_free>;

}  // namespace bg
