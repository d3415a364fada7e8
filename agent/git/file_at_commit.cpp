#include "agent/git/file_at_commit.h"

#include <git2/errors.h>

#include "agent/core/sha256.h"
#include "agent/git/git_handles.h"
#include "agent/git/git_status.h"

namespace bg {
namespace {

FileAtCommit Missing(std::string why) { return FileAtCommit{std::nullopt, std::move(why)}; }

const char* NotAFile(git_filemode_t mode) {
  switch (mode) {
    case GIT_FILEMODE_TREE: return "is a directory";
    case GIT_FILEMODE_COMMIT: return "is a submodule";
    case GIT_FILEMODE_LINK: return "is a symbolic link";
    default: return nullptr;
  }
}

Result<TreePtr> TreeOf(git_repository* repo, const git_oid& commit_id) {
  const std::string what = std::string("reading the tree of commit ") + git_oid_tostr_s(&commit_id);
  git_commit* raw_commit = nullptr;
  BG_RETURN_IF_ERROR(GitStatus(git_commit_lookup(&raw_commit, repo, &commit_id), what));
  CommitPtr commit(raw_commit);
  git_tree* raw_tree = nullptr;
  BG_RETURN_IF_ERROR(GitStatus(git_commit_tree(&raw_tree, commit.get()), what));
  return TreePtr(raw_tree);
}

Result<std::string> BlobSha256(git_repository* repo, const git_oid& blob_id,
                               const std::string& path) {
  git_blob* raw = nullptr;
  BG_RETURN_IF_ERROR(GitStatus(git_blob_lookup(&raw, repo, &blob_id), "reading " + path));
  BlobPtr blob(raw);
  Sha256 hash;
  hash.Update(git_blob_rawcontent(blob.get()),
              static_cast<std::size_t>(git_blob_rawsize(blob.get())));
  return hash.FinalHex();
}

}  // namespace

Result<FileAtCommit> ReadFileAtCommit(git_repository* repo, const git_oid& commit,
                                      const std::string& path) {
  BG_ASSIGN_OR_RETURN(TreePtr tree, TreeOf(repo, commit));
  git_tree_entry* raw = nullptr;
  const int rc = git_tree_entry_bypath(&raw, tree.get(), path.c_str());
  TreeEntryPtr entry(raw);
  if (rc == GIT_ENOTFOUND) return Missing("not found");
  BG_RETURN_IF_ERROR(GitStatus(rc, "looking up " + path));
  if (const char* why = NotAFile(git_tree_entry_filemode(entry.get()))) return Missing(why);
  BG_ASSIGN_OR_RETURN(std::string sha, BlobSha256(repo, *git_tree_entry_id(entry.get()), path));
  return FileAtCommit{std::move(sha), ""};
}

}  // namespace bg
